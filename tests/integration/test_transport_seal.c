/* Sealed traffic where a test reaches below the public API: a byte altered
 * anywhere in a sealed message on each channel kind, a datagram delivered
 * twice, counter exhaustion (simulated backend, where a test backend wrapper
 * alters what the sender's backend carries), and the token's IP binding from
 * 127.0.0.2 over real ENet sockets. Sealing on every mode, wrong keys, the
 * off switch, admission without keys and a corrupting link are part of the
 * transport contract (transport_contract.c, both backends). Every loop is
 * bounded; nothing asserts on timing. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "netcore/token.h"
#include "netcore/transport.h"
#include "transport/transport_host.h"
#include "transport_loop.h"

#define CHANNELS 4u

TestSuite(transport_seal);

/* --- A sim backend whose sender can alter or repeat its next message --- */

typedef struct tamper {
    bool armed;
    size_t offset_from_end; /* which byte of the sealed message: size - 1 - this */
    bool repeat;            /* send the next user-lane message twice instead */
} tamper;

static tamper next_send;
static nci_backend_ops tamper_ops;

static netcore_result tamper_send(void *backend, uint32_t slot, uint8_t lane, const void *data,
                                  size_t size_bytes)
{
    static uint8_t altered[4096];
    if (lane != 0 && next_send.armed && size_bytes <= sizeof altered) {
        next_send.armed = false;
        memcpy(altered, data, size_bytes);
        altered[size_bytes - 1 - next_send.offset_from_end % size_bytes] ^= 0x10;
        return nci_backend_sim.send(backend, slot, lane, altered, size_bytes);
    }
    if (lane != 0 && next_send.repeat) {
        next_send.repeat = false;
        netcore_result r = nci_backend_sim.send(backend, slot, lane, data, size_bytes);
        if (r != NETCORE_OK)
            return r;
    }
    return nci_backend_sim.send(backend, slot, lane, data, size_bytes);
}

/* --- A pair on the simulated network --- */

typedef struct sim_side {
    netcore_host *host;
    netcore_peer_id peer;
    uint32_t connects;
    uint32_t disconnects;
    netcore_disconnect_reason reason;
    uint32_t code;
    uint32_t received[CHANNELS];
    uint32_t last_seq[CHANNELS];
} sim_side;

typedef struct sim_pair {
    netcore_sim *sim;
    sim_side server;
    sim_side client;
} sim_pair;

static void poll_side(sim_side *s)
{
    netcore_event ev;
    for (int i = 0; i < 10000; i++) {
        cr_assert_eq(netcore_host_poll(s->host, 0, &ev), NETCORE_OK);
        if (ev.type == NETCORE_EVENT_NONE)
            return;
        if (ev.type == NETCORE_EVENT_CONNECT) {
            s->connects++;
            s->peer = ev.peer;
        } else if (ev.type == NETCORE_EVENT_DISCONNECT) {
            s->disconnects++;
            s->reason = ev.reason;
            s->code = ev.code;
        } else if (ev.type == NETCORE_EVENT_RECEIVE) {
            cr_assert_lt(ev.channel, CHANNELS);
            uint32_t seq = 0;
            cr_assert(tl_payload_ok(ev.data, ev.size_bytes, &seq), "delivered bytes are intact");
            s->received[ev.channel]++;
            s->last_seq[ev.channel] = seq;
        }
    }
}

static void run_ms(sim_pair *p, uint32_t ms)
{
    for (uint32_t t = 0; t < ms; t += 5) {
        netcore_sim_advance(p->sim, 5000);
        poll_side(&p->server);
        poll_side(&p->client);
    }
}

/* client_keys NULL: the keys the server grants (tl_session_keys). */
static void open_pair(sim_pair *p, uint64_t seed, const netcore_session_keys *client_keys)
{
    memset(p, 0, sizeof *p);
    netcore_sim_config simc;
    netcore_sim_config_default(&simc);
    simc.seed = seed;
    cr_assert_eq(netcore_sim_create(&simc, &p->sim), NETCORE_OK);
    netcore_host_config sc, cc;
    netcore_host_config_default(&sc);
    sc.is_server = true;
    sc.sim = p->sim;
    sc.bind_address.port = 7778;
    sc.admission = tl_admit_sealed;
    netcore_host_config_default(&cc);
    cc.sim = p->sim;
    cr_assert_eq(netcore_host_create(&sc, &p->server.host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(&cc, &p->client.host), NETCORE_OK);
    /* The client's sends go through the tampering wrapper. */
    tamper_ops = nci_backend_sim;
    tamper_ops.send = tamper_send;
    p->client.host->ops = &tamper_ops;
    memset(&next_send, 0, sizeof next_send);
    netcore_address to;
    cr_assert_eq(netcore_host_address(p->server.host, &to), NETCORE_OK);
    netcore_session_keys keys = client_keys ? *client_keys : tl_session_keys();
    netcore_connect_options options = tl_sealed_options(&keys);
    cr_assert_eq(netcore_host_connect(p->client.host, &to, &options, &p->client.peer), NETCORE_OK);
    run_ms(p, 500);
}

static void close_pair(sim_pair *p)
{
    netcore_host_destroy(p->client.host);
    netcore_host_destroy(p->server.host);
    netcore_sim_destroy(p->sim);
}

static netcore_host_stats stats_of(const sim_side *s)
{
    netcore_host_stats st;
    cr_assert_eq(netcore_host_get_stats(s->host, &st), NETCORE_OK);
    return st;
}

static void send_one(sim_pair *p, uint8_t channel, uint32_t seq)
{
    uint8_t buf[100];
    tl_fill_payload(buf, seq, sizeof buf);
    cr_assert_eq(netcore_host_send(p->client.host, p->client.peer, channel, buf, sizeof buf),
                 NETCORE_OK);
}

static bool reliable_channel(uint8_t channel)
{
    return channel == NETCORE_DELIVERY_RELIABLE_ORDERED ||
           channel == NETCORE_DELIVERY_RELIABLE_UNORDERED;
}

Test(transport_seal, altered_bytes_are_never_delivered_on_any_channel_kind)
{
    /* Default channels: channel i has delivery mode i. Positions from the
     * end of the sealed message: last tag byte, first tag byte, the last
     * payload byte, the first payload byte, the counter bytes (explicit
     * lanes) or the first byte. */
    const size_t from_end[] = {0, 15, 16, 115, 116, 117, 118};
    for (uint8_t ch = 0; ch < CHANNELS; ch++) {
        for (size_t k = 0; k < sizeof from_end / sizeof from_end[0]; k++) {
            sim_pair p;
            open_pair(&p, 100 + ch * 10 + k, NULL);
            cr_assert_eq(p.client.connects, 1);
            send_one(&p, ch, 1);
            run_ms(&p, 200);
            cr_assert_eq(p.server.received[ch], 1, "an intact message passes");
            next_send.armed = true;
            next_send.offset_from_end = from_end[k];
            send_one(&p, ch, 2);
            run_ms(&p, 500);
            netcore_host_stats st = stats_of(&p.server);
            cr_assert_eq(p.server.received[ch], 1, "channel %u byte -%zu: not delivered", ch,
                         from_end[k]);
            cr_assert_eq(st.crypto_auth_rejected + st.crypto_stale_dropped, 1,
                         "channel %u byte -%zu: counted once", ch, from_end[k]);
            if (reliable_channel(ch)) {
                /* The reliable stream has a hole: the peer is cut off. */
                cr_assert_eq(st.crypto_auth_rejected, 1);
                cr_assert_eq(p.server.disconnects, 1);
                cr_assert_eq(p.server.reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
                cr_assert_eq(p.client.disconnects, 1);
                cr_assert_eq(p.client.reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
                cr_assert_eq(p.client.code, NETCORE_ERR_AUTH);
            } else {
                /* Dropped; the connection and the channel go on. */
                cr_assert_eq(p.server.disconnects, 0);
                send_one(&p, ch, 3);
                run_ms(&p, 200);
                cr_assert_eq(p.server.received[ch], 2);
                cr_assert_eq(p.server.last_seq[ch], 3);
            }
            close_pair(&p);
        }
    }
}

Test(transport_seal, the_same_datagram_twice_is_delivered_once)
{
    for (uint8_t ch = NETCORE_DELIVERY_UNRELIABLE_SEQUENCED; ch < CHANNELS; ch++) {
        sim_pair p;
        open_pair(&p, 200 + ch, NULL);
        next_send.repeat = true;
        send_one(&p, ch, 7);
        run_ms(&p, 300);
        cr_assert_eq(p.server.received[ch], 1);
        netcore_host_stats st = stats_of(&p.server);
        /* The unreliable-sequenced lane's backend may drop the copy itself. */
        cr_assert_leq(st.crypto_duplicate_dropped, 1);
        if (ch == NETCORE_DELIVERY_UNRELIABLE_UNORDERED)
            cr_assert_eq(st.crypto_duplicate_dropped, 1, "an authentic copy, counted as such");
        cr_assert_eq(st.crypto_auth_rejected, 0);
        cr_assert_eq(p.server.disconnects, 0);
        close_pair(&p);
    }
    /* On a reliable lane a repeated message is a second message under a used
     * counter: it cannot open, and is never delivered twice. */
    sim_pair p;
    open_pair(&p, 210, NULL);
    next_send.repeat = true;
    send_one(&p, NETCORE_DELIVERY_RELIABLE_ORDERED, 7);
    run_ms(&p, 300);
    cr_assert_eq(p.server.received[NETCORE_DELIVERY_RELIABLE_ORDERED], 1);
    cr_assert_eq(stats_of(&p.server).crypto_auth_rejected, 1);
    cr_assert_eq(p.server.reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    close_pair(&p);
}

Test(transport_seal, counter_exhaustion_ends_the_session_before_a_nonce_repeats)
{
    sim_pair p;
    open_pair(&p, 400, NULL);
    cr_assert_eq(p.client.connects, 1);
    cr_assert_eq(p.server.connects, 1);
    /* Both ends jump to two messages before the limit (no test can send 2^63). */
    cr_assert_eq(nci_host_seal_jump(p.client.host, p.client.peer, NCI_SEAL_COUNTER_LIMIT - 2),
                 NETCORE_OK);
    cr_assert_eq(nci_host_seal_jump(p.server.host, p.server.peer, NCI_SEAL_COUNTER_LIMIT - 2),
                 NETCORE_OK);
    send_one(&p, NETCORE_DELIVERY_RELIABLE_ORDERED, 1);
    send_one(&p, NETCORE_DELIVERY_RELIABLE_ORDERED, 2);
    uint8_t buf[100];
    tl_fill_payload(buf, 3, sizeof buf);
    cr_assert_eq(netcore_host_send(p.client.host, p.client.peer, 0, buf, sizeof buf),
                 NETCORE_ERR_EXPIRED);
    /* The peer is on its way out: nothing more is accepted. */
    cr_assert_eq(netcore_host_send(p.client.host, p.client.peer, 0, buf, sizeof buf),
                 NETCORE_ERR_NOT_CONNECTED);
    run_ms(&p, 1000);
    cr_assert_eq(p.server.received[0], 2, "both messages under the limit arrive");
    cr_assert_eq(p.server.disconnects, 1);
    cr_assert_eq(p.server.reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    cr_assert_eq(p.server.code, NETCORE_ERR_EXPIRED);
    cr_assert_eq(p.client.disconnects, 1);
    cr_assert_eq(p.client.reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    cr_assert_eq(p.client.code, NETCORE_ERR_EXPIRED);
    cr_assert_eq(stats_of(&p.client).crypto_disconnects, 1);
    cr_assert_eq(nci_host_seal_jump(p.client.host, p.client.peer, 0), NETCORE_ERR_NOT_CONNECTED);
    close_pair(&p);
}

/* Opens a pair where the server's admission and both ends' seal switch are
 * chosen by the test; returns after the connection settled. */
/* --- Over real ENet: the token's IP binding --- */

static void init_netcore(void) { cr_assert_eq(netcore_init(), NETCORE_OK); }
static void fini_netcore(void) { netcore_shutdown(); }
TestSuite(transport_seal_enet, .init = init_netcore, .fini = fini_netcore, .timeout = 60);

static const uint8_t lobby_key[NETCORE_TOKEN_KEY_BYTES] = {7, 7, 7, 1, 2, 3};

static bool client_settled(tl_side *client, tl_side *server, void *ctx)
{
    (void)server;
    (void)ctx;
    return client->connects > 0 || client->disconnects > 0;
}

static netcore_result admit_via_validator(void *user, netcore_peer_id peer,
                                          const netcore_address *from, const void *token,
                                          size_t token_size_bytes, netcore_admission_grant *grant)
{
    netcore_token_validator *const *validator = user;
    return netcore_token_admission(*validator, peer, from, token, token_size_bytes, grant);
}

Test(transport_seal_enet, a_token_bound_to_one_ip_is_refused_from_another)
{
    tl_side *server = tl_new_side(), *thief = tl_new_side(), *owner = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    /* The validator needs the server's port, known once the host exists. */
    netcore_token_validator *validator = NULL;
    scfg.admission = admit_via_validator;
    scfg.admission_user = &validator;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    netcore_token_validator_config vc;
    netcore_token_validator_config_default(&vc);
    memcpy(vc.key, lobby_key, sizeof lobby_key);
    vc.server_address = to;
    cr_assert_eq(netcore_token_validator_create(&vc, &validator), NETCORE_OK);

    /* The lobby saw its player at 127.0.0.1. */
    netcore_token_params params;
    memset(&params, 0, sizeof params);
    params.client_id = 1;
    params.match_id = 2;
    params.server_address = to;
    params.create_time_s = (uint64_t)time(NULL);
    params.lifetime_s = 30;
    cr_assert_eq(netcore_session_keys_generate(&params.session_keys), NETCORE_OK);
    netcore_address player_ip = netcore_address_ipv4(127, 0, 0, 1, 0);
    uint8_t token[NETCORE_TOKEN_BYTES];
    cr_assert_eq(netcore_token_create_for_client(lobby_key, &params, &player_ip, token),
                 NETCORE_OK);
    netcore_connect_options options;
    memset(&options, 0, sizeof options);
    options.token = token;
    options.token_size_bytes = sizeof token;
    options.session_keys = &params.session_keys;

    /* Someone else, holding token and keys, presents them from 127.0.0.2. */
    tl_client_config(&ccfg);
    ccfg.bind_address = netcore_address_ipv4(127, 0, 0, 2, 0);
    cr_assert_eq(netcore_host_create(&ccfg, &thief->host), NETCORE_OK);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(thief->host, &to, &options, &id), NETCORE_OK);
    cr_assert(tl_run_until(thief, server, client_settled, NULL));
    cr_assert_eq(thief->connects, 0);
    cr_assert_eq(thief->reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(thief->code, NETCORE_ERR_ADDRESS);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.token_address_rejected, 1);
    cr_assert_eq(hs.admission_rejected, 1);
    cr_assert_eq(server->connects, 0);

    /* The player itself, from its own IP: the token was not spent. */
    tl_client_config(&ccfg);
    cr_assert_eq(netcore_host_create(&ccfg, &owner->host), NETCORE_OK);
    cr_assert_eq(netcore_host_connect(owner->host, &to, &options, &id), NETCORE_OK);
    cr_assert(tl_run_until(owner, server, tl_both_connected, NULL));
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(owner->host, id, &ps), NETCORE_OK);
    cr_assert(ps.sealed);
    uint8_t hello[64];
    tl_fill_payload(hello, 11, sizeof hello);
    cr_assert_eq(netcore_host_send(owner->host, id, 3, hello, sizeof hello), NETCORE_OK);
    uint32_t one = 1;
    cr_assert(tl_run_until(owner, server, tl_b_received_count, &one));
    cr_assert_eq(server->rx[0].seq, 11);
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.token_address_rejected, 1);
    cr_assert_eq(hs.peers_sealed, 1);
    cr_assert_eq(hs.crypto_auth_rejected, 0);

    tl_free_side(owner);
    tl_free_side(thief);
    tl_free_side(server);
    netcore_token_validator_destroy(validator);
}
