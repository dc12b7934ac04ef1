/* Loopback helpers for transport tests; see transport_loop.h. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "transport_loop.h"

void tl_fill_payload(uint8_t *buf, uint32_t seq, size_t size)
{
    for (size_t i = 0; i < size; i++)
        buf[i] = (uint8_t)(seq * 31u + i * 7u);
    if (size >= 4)
        memcpy(buf, &seq, 4);
}

bool tl_payload_ok(const uint8_t *buf, size_t size, uint32_t *out_seq)
{
    uint32_t seq = 0;
    if (size >= 4)
        memcpy(&seq, buf, 4);
    for (size_t i = 4; i < size; i++)
        if (buf[i] != (uint8_t)(seq * 31u + i * 7u))
            return false;
    *out_seq = seq;
    return true;
}

void tl_drain(tl_side *s, uint32_t timeout_ms)
{
    for (int i = 0; i < 10000; i++) {
        netcore_event ev;
        cr_assert_eq(netcore_host_poll(s->host, i == 0 ? timeout_ms : 0, &ev), NETCORE_OK);
        switch (ev.type) {
        case NETCORE_EVENT_NONE:
            return;
        case NETCORE_EVENT_CONNECT:
            s->connects++;
            s->last_connect = ev.peer;
            break;
        case NETCORE_EVENT_DISCONNECT:
            s->disconnects++;
            s->last_disconnect = ev.peer;
            s->reason = ev.reason;
            s->code = ev.code;
            break;
        case NETCORE_EVENT_RECEIVE: {
            uint32_t seq = 0;
            if (!tl_payload_ok(ev.data, ev.size_bytes, &seq))
                s->corrupt++;
            s->rx_total++;
            if (s->rx_count < TL_MAX_RECORDED)
                s->rx[s->rx_count++] = (tl_received){ev.peer, ev.channel, seq, ev.size_bytes};
            break;
        }
        }
    }
}

/* Polls both sides until done() or MAX_WAIT_MS; returns done()'s last answer. */
bool tl_run_until(tl_side *a, tl_side *b, tl_done_fn done, void *ctx)
{
    uint64_t end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 200000 && netcore_time_now_us() < end; i++) {
        if (a && a->host)
            tl_drain(a, 1);
        if (b && b->host)
            tl_drain(b, 1);
        if (done(a, b, ctx))
            return true;
    }
    return done(a, b, ctx);
}

bool tl_both_connected(tl_side *a, tl_side *b, void *ctx)
{
    (void)ctx;
    return a->connects > 0 && b->connects > 0;
}

bool tl_a_disconnected(tl_side *a, tl_side *b, void *ctx)
{
    (void)b;
    (void)ctx;
    return a->disconnects > 0;
}

bool tl_both_disconnected(tl_side *a, tl_side *b, void *ctx)
{
    (void)ctx;
    return a->disconnects > 0 && b->disconnects > 0;
}

bool tl_b_received_count(tl_side *a, tl_side *b, void *ctx)
{
    (void)a;
    return b->rx_total >= *(uint32_t *)ctx;
}

void tl_server_config(netcore_host_config *cfg)
{
    netcore_host_config_default(cfg);
    cfg->is_server = true;
    cfg->bind_address = netcore_address_ipv4(127, 0, 0, 1, 0);
    cfg->max_peers = 8;
}

void tl_client_config(netcore_host_config *cfg)
{
    netcore_host_config_default(cfg);
    cfg->max_peers = 4;
}

tl_side *tl_new_side(void)
{
    tl_side *s = calloc(1, sizeof *s);
    cr_assert_not_null(s);
    return s;
}

void tl_free_side(tl_side *s)
{
    if (!s)
        return;
    netcore_host_destroy(s->host);
    free(s);
}

netcore_address tl_address_of(const tl_side *s)
{
    netcore_address address;
    cr_assert_eq(netcore_host_address(s->host, &address), NETCORE_OK);
    return address;
}

/* Server and client with the given configs, connected. Returns the client's peer id. */
netcore_peer_id tl_connect_pair(tl_side *server, const netcore_host_config *scfg, tl_side *client,
                                const netcore_host_config *ccfg)
{
    cr_assert_eq(netcore_host_create(scfg, &server->host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(ccfg, &client->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    to.bytes[0] = 127; /* the server may listen on any interface */
    to.bytes[3] = 1;
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    cr_assert_neq(id, NETCORE_PEER_NONE);
    cr_assert(tl_run_until(client, server, tl_both_connected, NULL), "connect did not complete");
    cr_assert_eq(client->last_connect, id);
    return id;
}

netcore_session_keys tl_session_keys(void)
{
    netcore_session_keys keys;
    for (int i = 0; i < NETCORE_SESSION_KEY_BYTES; i++) {
        keys.client_to_server[i] = (uint8_t)(i * 7 + 1);
        keys.server_to_client[i] = (uint8_t)(i * 13 + 5);
    }
    return keys;
}

netcore_result tl_admit_sealed(void *user, netcore_peer_id peer, const netcore_address *from,
                               const void *token, size_t token_size_bytes,
                               netcore_admission_grant *grant)
{
    (void)user;
    (void)peer;
    (void)from;
    if (token_size_bytes != strlen(TL_SEAL_TOKEN) || memcmp(token, TL_SEAL_TOKEN, token_size_bytes))
        return NETCORE_ERR_AUTH;
    grant->has_session_keys = true;
    grant->session_keys = tl_session_keys();
    return NETCORE_OK;
}

netcore_connect_options tl_sealed_options(const netcore_session_keys *keys)
{
    netcore_connect_options options;
    memset(&options, 0, sizeof options);
    options.token = TL_SEAL_TOKEN;
    options.token_size_bytes = strlen(TL_SEAL_TOKEN);
    options.session_keys = keys;
    return options;
}

netcore_peer_id tl_connect_pair_sealed(tl_side *server, const netcore_host_config *scfg,
                                       tl_side *client, const netcore_host_config *ccfg)
{
    netcore_host_config sealed_scfg = *scfg;
    sealed_scfg.admission = tl_admit_sealed;
    sealed_scfg.admission_user = NULL;
    cr_assert_eq(netcore_host_create(&sealed_scfg, &server->host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(ccfg, &client->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    to.bytes[0] = 127;
    to.bytes[3] = 1;
    netcore_session_keys keys = tl_session_keys();
    netcore_connect_options options = tl_sealed_options(&keys);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, &options, &id), NETCORE_OK);
    cr_assert(tl_run_until(client, server, tl_both_connected, NULL), "connect did not complete");
    cr_assert_eq(client->last_connect, id);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(client->host, id, &ps), NETCORE_OK);
    cr_assert(ps.sealed);
    cr_assert_eq(netcore_host_get_peer_stats(server->host, server->last_connect, &ps), NETCORE_OK);
    cr_assert(ps.sealed);
    return id;
}
