/* The ENet transport under the peer-review impairment standard: 1000 ms
 * latency, 100 ms jitter, 25 % loss and 25 % duplication in each direction,
 * through the backend's own link conditioner on loopback, sealed (as every
 * admitted connection is).
 *
 * Both ends send on every delivery mode for SEND_PERIOD_MS; the test then
 * waits for the reliable channels to complete and checks every mode's
 * promise on both ends, and that neither end lost the connection. With a
 * round trip failing 44 % of the time, ENet's uncapped backoff (0 as
 * retransmit_timeout_max_ms) drops the peer once one reliable command fails
 * four round trips in a row, which within this run is all but certain; the
 * default cap keeps resends at the peer's resend timeout so that only
 * timeout_ms of silence ends the connection. Every loop is bounded in count
 * and wall time; nothing asserts on timing. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/transport.h"
#include "transport_loop.h"

#define CHANNELS 4u
#define SEND_PERIOD_MS 30000u
#define SEND_INTERVAL_MS 100u
#define MESSAGES (SEND_PERIOD_MS / SEND_INTERVAL_MS) /* per channel and direction */
#define MAX_MESSAGE_BYTES 1800u                      /* some messages take two fragments */
/* After the last send: about ten resends at this link's ~2.4 s resend
 * timeout (a message is lost ten times in a row with p = 1e-6); a reliable
 * message still missing after that fails the test. Normally the last one
 * arrives within 5-8 s. */
#define DRAIN_MS 25000u
#define CONNECT_MS 30000u

_Static_assert(2u * CHANNELS * MESSAGES < TL_MAX_RECORDED, "records fit one side");

static void init_netcore(void)
{
    cr_assert_eq(netcore_init(), NETCORE_OK);
}
static void fini_netcore(void)
{
    netcore_shutdown();
}
TestSuite(transport_enet_harsh, .init = init_netcore, .fini = fini_netcore, .timeout = 150);

static netcore_link_profile peer_standard(void)
{
    netcore_link_profile p;
    memset(&p, 0, sizeof p);
    p.latency_ms = 1000;
    p.jitter_ms = 100;
    p.loss_pct = 25.0f;
    p.duplicate_pct = 25.0f;
    return p;
}

static void harsh_config(netcore_host_config *cfg)
{
    /* The default timeout: about four resends at this link's resend
     * timeout, so an uncapped backoff outlasts it after four failures. */
    cfg->timeout_ms = 10000;
    cfg->connect_timeout_ms = CONNECT_MS;
    cfg->admission_timeout_ms = CONNECT_MS;
    cfg->guard.handshake_timeout_ms = CONNECT_MS;
}

static void send_round(tl_side *from, netcore_peer_id to, uint32_t seq)
{
    static uint8_t buf[MAX_MESSAGE_BYTES];
    for (uint8_t ch = 0; ch < CHANNELS; ch++) {
        size_t size = 4 + (seq * 97u + ch * 31u) % (MAX_MESSAGE_BYTES - 3u);
        tl_fill_payload(buf, seq, size);
        cr_assert_eq(netcore_host_send(from->host, to, ch, buf, size), NETCORE_OK,
                     "send on channel %u seq %u", ch, seq);
    }
}

static uint32_t reliable_received(const tl_side *s)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < s->rx_count; k++)
        n += s->rx[k].channel < 2;
    return n;
}

static bool nobody_disconnected(const tl_side *a, const tl_side *b)
{
    return a->disconnects == 0 && b->disconnects == 0;
}

/* Every mode's promise on what one side received. */
static void check_received(const tl_side *s, const char *who)
{
    cr_assert_eq(s->corrupt, 0, "%s: corrupt payloads", who);
    cr_assert_eq(s->rx_total, s->rx_count, "%s: records overflowed", who);
    uint8_t *seen = calloc(CHANNELS * (size_t)MESSAGES, 1);
    cr_assert_not_null(seen);
    uint32_t next_ordered = 0;
    int64_t last_sequenced = -1;
    uint32_t per_channel[CHANNELS] = {0};
    for (uint32_t k = 0; k < s->rx_count; k++) {
        const tl_received *r = &s->rx[k];
        cr_assert_lt(r->channel, CHANNELS, "%s: channel", who);
        cr_assert_lt(r->seq, MESSAGES, "%s: seq", who);
        uint8_t *mark = &seen[r->channel * MESSAGES + r->seq];
        cr_assert_eq(*mark, 0, "%s: duplicate on channel %u seq %u", who, r->channel, r->seq);
        *mark = 1;
        per_channel[r->channel]++;
        if (r->channel == 0) {
            cr_assert_eq(r->seq, next_ordered, "%s: reliable-ordered out of order", who);
            next_ordered++;
        } else if (r->channel == 2) {
            cr_assert_gt((int64_t)r->seq, last_sequenced, "%s: sequenced went back", who);
            last_sequenced = r->seq;
        }
    }
    cr_assert_eq(per_channel[0], MESSAGES, "%s: reliable-ordered lost messages", who);
    cr_assert_eq(per_channel[1], MESSAGES, "%s: reliable-unordered lost messages", who);
    /* Unreliable: at most once each, and with 25 % loss some but not all. */
    cr_assert_gt(per_channel[2], 0, "%s: nothing sequenced arrived", who);
    cr_assert_gt(per_channel[3], 0, "%s: nothing unordered arrived", who);
    cr_assert_lt(per_channel[3], MESSAGES, "%s: no unordered message was lost", who);
    free(seen);
}

Test(transport_enet_harsh, peer_standard_keeps_the_connection_and_every_promise)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    harsh_config(&scfg);
    tl_client_config(&ccfg);
    harsh_config(&ccfg);
    cr_assert_eq(ccfg.retransmit_timeout_max_ms, 1000, "the default cap is under test");
    /* The client's conditioner impairs both directions of the connection. */
    ccfg.conditioner.enabled = true;
    ccfg.conditioner.seed = 0x5eed;
    ccfg.conditioner.inbound = peer_standard();
    ccfg.conditioner.outbound = peer_standard();
    netcore_peer_id to_server = tl_connect_pair_sealed(server, &scfg, client, &ccfg);
    netcore_peer_id to_client = server->last_connect;

    uint64_t start = netcore_time_now_us();
    uint64_t send_end = start + (uint64_t)SEND_PERIOD_MS * 1000u;
    uint64_t drain_end = send_end + (uint64_t)DRAIN_MS * 1000u;
    uint32_t sent = 0;
    for (uint32_t i = 0; i < 2000000u && nobody_disconnected(client, server); i++) {
        uint64_t now = netcore_time_now_us();
        if (now >= drain_end)
            break;
        while (sent < MESSAGES && now >= start + (uint64_t)sent * SEND_INTERVAL_MS * 1000u) {
            send_round(client, to_server, sent);
            send_round(server, to_client, sent);
            sent++;
        }
        tl_drain(client, 1);
        tl_drain(server, 1);
        if (sent == MESSAGES && reliable_received(server) == 2 * MESSAGES &&
            reliable_received(client) == 2 * MESSAGES)
            break;
    }
    cr_assert_eq(client->disconnects, 0, "client lost the connection (reason %s)",
                 netcore_disconnect_reason_str(client->reason));
    cr_assert_eq(server->disconnects, 0, "server lost the connection (reason %s)",
                 netcore_disconnect_reason_str(server->reason));
    cr_assert_eq(sent, MESSAGES);
    /* Unreliable stragglers still in the conditioner. */
    uint64_t settle_end = netcore_time_now_us() + 2500000u;
    for (int i = 0; i < 100000 && netcore_time_now_us() < settle_end; i++) {
        tl_drain(client, 1);
        tl_drain(server, 1);
    }
    cr_assert(nobody_disconnected(client, server));
    check_received(server, "server");
    check_received(client, "client");

    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.timeouts, 0);
    cr_assert_gt(hs.conditioner_outbound.dropped_loss, 0);
    cr_assert_gt(hs.conditioner_inbound.dropped_loss, 0);
    cr_assert_gt(hs.conditioner_outbound.duplicated, 0);
    cr_assert_gt(hs.conditioner_inbound.duplicated, 0);
    cr_assert_eq(hs.crypto_auth_rejected, 0, "nothing alters bytes on this link");
    cr_assert_eq(hs.peers_sealed, 1);
    cr_assert_gt(hs.seal_overhead_bytes_sent, 0);
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.timeouts, 0);
    cr_assert_eq(hs.crypto_auth_rejected, 0);
    cr_assert_eq(hs.peers_sealed, 1);
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet_harsh, retransmit_cap_is_validated)
{
    netcore_host_config cfg;
    tl_client_config(&cfg);
    cr_assert_eq(cfg.retransmit_timeout_max_ms, 1000);
    netcore_host *host = NULL;
    cfg.retransmit_timeout_max_ms = 60001;
    cr_assert_eq(netcore_host_create(&cfg, &host), NETCORE_ERR_INVALID_ARGUMENT);
    cfg.retransmit_timeout_max_ms = 0;
    cr_assert_eq(netcore_host_create(&cfg, &host), NETCORE_OK);
    netcore_host_destroy(host);
    host = NULL;
    cfg.retransmit_timeout_max_ms = 60000;
    cr_assert_eq(netcore_host_create(&cfg, &host), NETCORE_OK);
    netcore_host_destroy(host);
}
