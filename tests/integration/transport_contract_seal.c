/* The transport contract, sealing (see transport_contract.h): a message
 * altered anywhere on any channel kind is never delivered (dropped on
 * unreliable channels, fatal on reliable ones), a datagram carried twice is
 * delivered once, wrong keys deliver nothing, counter exhaustion ends the
 * session before a nonce repeats, sealed and unsealed ends refuse each
 * other, an admission without keys fails closed, the off switch plays in
 * clear and says so once, and a corrupting link delivers only intact
 * messages. Built into test_transport_contract_sim and _enet with
 * transport_contract.c. Every wait is bounded; nothing asserts on timing. */
#include <criterion/criterion.h>
#include <string.h>

#include "netcore/transport.h"
#include "transport_contract.h"

#define CHANNELS 4u

static tc_net net;

static void open_net(void)
{
    tc_open(&net, 11);
}
static void close_net(void)
{
    tc_close(&net);
}
TestSuite(transport_contract_seal, .init = open_net, .fini = close_net, .timeout = 120);

static bool reliable_channel(uint8_t channel)
{
    return channel == NETCORE_DELIVERY_RELIABLE_ORDERED ||
           channel == NETCORE_DELIVERY_RELIABLE_UNORDERED;
}

static void send_one(tl_side *from, netcore_peer_id to, uint8_t channel, uint32_t seq)
{
    uint8_t buf[100];
    tl_fill_payload(buf, seq, sizeof buf);
    cr_assert_eq(netcore_host_send(from->host, to, channel, buf, sizeof buf), NETCORE_OK);
}

/* How many messages side s received on channel. */
static uint32_t received_on(const tl_side *s, uint8_t channel)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < s->rx_count; k++)
        n += s->rx[k].channel == channel;
    return n;
}

static bool server_disconnected(tl_side *a, tl_side *b, void *ctx)
{
    (void)a;
    (void)ctx;
    return b->disconnects > 0;
}

static bool both_disconnected_or_received(tl_side *a, tl_side *b, void *ctx)
{
    uint32_t want = *(const uint32_t *)ctx;
    return (a->disconnects > 0 && b->disconnects > 0) || b->rx_total >= want;
}

Test(transport_contract_seal, altered_bytes_are_never_delivered_on_any_channel_kind)
{
    /* Default channels: channel i has delivery mode i. Positions from the
     * end of the sealed message: last tag byte, first tag byte, the last
     * payload byte, the first payload byte, the counter bytes (explicit
     * lanes) or the first byte. */
    const size_t from_end[] = {0, 15, 16, 115, 116, 117, 118};
    for (uint8_t ch = 0; ch < CHANNELS; ch++) {
        for (size_t k = 0; k < sizeof from_end / sizeof from_end[0]; k++) {
            tc_pair p = tc_new_pair(&net);
            netcore_peer_id id = tc_pair_connect(&net, &p, true);
            tc_tamper tamper = {false, 0, false};
            tc_tamper_install(p.client->host, &tamper);
            send_one(p.client, id, ch, 1);
            uint32_t want = 1;
            cr_assert(tc_run_until(&net, p.client, p.server, tl_b_received_count, &want, 10000),
                      "an intact message passes");
            tamper.armed = true;
            tamper.offset_from_end = from_end[k];
            send_one(p.client, id, ch, 2);
            /* An intact message behind it shows when the altered one was
             * judged; on a reliable channel the connection ends first. */
            send_one(p.client, id, ch, 3);
            want = 2;
            cr_assert(tc_run_until(&net, p.client, p.server, both_disconnected_or_received, &want,
                                   10000));
            netcore_host_stats st = tc_host_stats(p.server);
            for (uint32_t r = 0; r < p.server->rx_count; r++)
                cr_assert_neq(p.server->rx[r].seq, 2, "channel %u byte -%zu: not delivered", ch,
                              from_end[k]);
            cr_assert_eq(st.crypto_auth_rejected + st.crypto_stale_dropped, 1,
                         "channel %u byte -%zu: counted once", ch, from_end[k]);
            if (reliable_channel(ch)) {
                /* The reliable stream has a hole: the peer is cut off. */
                cr_assert_eq(st.crypto_auth_rejected, 1);
                cr_assert_eq(p.server->disconnects, 1);
                cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
                cr_assert_eq(p.client->disconnects, 1);
                cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
                cr_assert_eq(p.client->code, NETCORE_ERR_AUTH);
                cr_assert_eq(received_on(p.server, ch), 1, "nothing after the hole");
            } else {
                /* Dropped; the connection and the channel go on. */
                cr_assert_eq(p.server->disconnects, 0);
                cr_assert_eq(received_on(p.server, ch), 2);
                cr_assert_eq(p.server->rx[p.server->rx_count - 1].seq, 3);
            }
            tc_free_pair(&p);
        }
    }
}

Test(transport_contract_seal, the_same_datagram_twice_is_delivered_once)
{
    for (uint8_t ch = NETCORE_DELIVERY_UNRELIABLE_SEQUENCED; ch < CHANNELS; ch++) {
        tc_pair p = tc_new_pair(&net);
        netcore_peer_id id = tc_pair_connect(&net, &p, true);
        tc_tamper tamper = {false, 0, true};
        tc_tamper_install(p.client->host, &tamper);
        send_one(p.client, id, ch, 7);
        send_one(p.client, id, ch, 8); /* behind the copy: shows it was judged */
        uint32_t want = 2;
        cr_assert(tc_run_until(&net, p.client, p.server, tl_b_received_count, &want, 10000));
        tc_run_ms(&net, p.client, p.server, 50);
        cr_assert_eq(received_on(p.server, ch), 2, "channel %u: 7 once, then 8", ch);
        netcore_host_stats st = tc_host_stats(p.server);
        /* The unreliable-sequenced lane's backend may drop the copy itself. */
        cr_assert_leq(st.crypto_duplicate_dropped, 1);
        if (ch == NETCORE_DELIVERY_UNRELIABLE_UNORDERED)
            cr_assert_eq(st.crypto_duplicate_dropped, 1, "an authentic copy, counted as such");
        cr_assert_eq(st.crypto_auth_rejected, 0);
        cr_assert_eq(p.server->disconnects, 0);
        tc_free_pair(&p);
    }
    /* On a reliable lane a repeated message is a second message under a used
     * counter: it cannot open, and is never delivered twice. */
    tc_pair p = tc_new_pair(&net);
    netcore_peer_id id = tc_pair_connect(&net, &p, true);
    tc_tamper tamper = {false, 0, true};
    tc_tamper_install(p.client->host, &tamper);
    send_one(p.client, id, NETCORE_DELIVERY_RELIABLE_ORDERED, 7);
    cr_assert(tc_run_until(&net, p.client, p.server, server_disconnected, NULL, 10000));
    cr_assert_eq(received_on(p.server, NETCORE_DELIVERY_RELIABLE_ORDERED), 1);
    cr_assert_eq(tc_host_stats(p.server).crypto_auth_rejected, 1);
    cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    tc_free_pair(&p);
}

Test(transport_contract_seal, counter_exhaustion_ends_the_session_before_a_nonce_repeats)
{
    tc_pair p = tc_new_pair(&net);
    netcore_peer_id id = tc_pair_connect(&net, &p, true);
    /* Both ends jump to two messages before the limit. */
    uint64_t near_limit = tc_seal_counter_limit() - 2;
    cr_assert_eq(tc_seal_jump(p.client->host, id, near_limit), NETCORE_OK);
    cr_assert_eq(tc_seal_jump(p.server->host, p.server->last_connect, near_limit), NETCORE_OK);
    send_one(p.client, id, NETCORE_DELIVERY_RELIABLE_ORDERED, 1);
    send_one(p.client, id, NETCORE_DELIVERY_RELIABLE_ORDERED, 2);
    /* Delivered before the limit is hit: whether data still queued survives a
     * disconnect is checked on its own (transport_contract.c). */
    uint32_t want = 2;
    cr_assert(tc_run_until(&net, p.client, p.server, tl_b_received_count, &want, 10000),
              "both messages under the limit arrive");
    uint8_t buf[100];
    tl_fill_payload(buf, 3, sizeof buf);
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, sizeof buf), NETCORE_ERR_EXPIRED);
    /* The peer is on its way out: nothing more is accepted. */
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, sizeof buf),
                 NETCORE_ERR_NOT_CONNECTED);
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_disconnected, NULL, 30000));
    cr_assert_eq(p.server->rx_total, 2);
    cr_assert_eq(p.server->disconnects, 1);
    cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    cr_assert_eq(p.server->code, NETCORE_ERR_EXPIRED);
    cr_assert_eq(p.client->disconnects, 1);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    cr_assert_eq(p.client->code, NETCORE_ERR_EXPIRED);
    cr_assert_eq(tc_host_stats(p.client).crypto_disconnects, 1);
    cr_assert_eq(tc_seal_jump(p.client->host, id, 0), NETCORE_ERR_NOT_CONNECTED);
    tc_free_pair(&p);
}

/* Creates the pair's hosts (the server admitting with admission) and starts
 * the client with TL_SEAL_TOKEN and keys; waits until the client settled. */
static netcore_peer_id open_with_keys(tc_pair *p, netcore_admission_fn admission,
                                      const netcore_session_keys *keys)
{
    p->scfg.admission = admission;
    tc_host_create(&net, &p->scfg, p->server);
    tc_host_create(&net, &p->ccfg, p->client);
    netcore_connect_options options = tl_sealed_options(keys);
    netcore_peer_id id = tc_connect_start(p->client, p->server, &options);
    cr_assert(tc_run_until(&net, p->client, p->server, tc_settled, NULL, 30000));
    return id;
}

Test(transport_contract_seal, a_wrong_key_delivers_nothing)
{
    tc_pair p = tc_new_pair(&net);
    netcore_session_keys wrong = tl_session_keys();
    wrong.server_to_client[0] ^= 1;
    wrong.client_to_server[31] ^= 1;
    open_with_keys(&p, tl_admit_sealed, &wrong);
    /* The server admitted the token, but its WELCOME does not open. */
    cr_assert_eq(p.client->connects, 0);
    cr_assert_eq(p.client->disconnects, 1);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    cr_assert_eq(tc_host_stats(p.client).crypto_auth_rejected, 1);
    cr_assert(tc_run_until(&net, p.client, p.server, server_disconnected, NULL, 30000),
              "the server hears why");
    cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    cr_assert_eq(p.server->rx_total + p.client->rx_total, 0);
    tc_free_pair(&p);

    /* Only the client-to-server key wrong: the client connects, the server
     * opens nothing it sends, and the reliable stream's hole is fatal. */
    p = tc_new_pair(&net);
    wrong = tl_session_keys();
    wrong.client_to_server[5] ^= 0x80;
    netcore_peer_id id = open_with_keys(&p, tl_admit_sealed, &wrong);
    cr_assert_eq(p.client->connects, 1);
    uint8_t buf[100];
    tl_fill_payload(buf, 1, sizeof buf);
    cr_assert_eq(netcore_host_send(p.client->host, id, NETCORE_DELIVERY_UNRELIABLE_UNORDERED, buf,
                                   sizeof buf),
                 NETCORE_OK);
    cr_assert_eq(netcore_host_send(p.client->host, id, NETCORE_DELIVERY_UNRELIABLE_SEQUENCED, buf,
                                   sizeof buf),
                 NETCORE_OK);
    tc_run_ms(&net, p.client, p.server, 300);
    cr_assert_eq(tc_host_stats(p.server).crypto_auth_rejected, 2);
    cr_assert_eq(p.server->disconnects, 0, "unreliable failures are dropped, not fatal");
    cr_assert_eq(
        netcore_host_send(p.client->host, id, NETCORE_DELIVERY_RELIABLE_ORDERED, buf, sizeof buf),
        NETCORE_OK);
    cr_assert(tc_run_until(&net, p.client, p.server, server_disconnected, NULL, 30000));
    cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    cr_assert_eq(p.server->rx_total, 0);
    tc_free_pair(&p);
}

Test(transport_contract_seal, sealed_and_unsealed_ends_refuse_each_other)
{
    tc_pair p = tc_new_pair(&net);
    p.ccfg.seal_disabled = true; /* a client switched off for an experiment */
    netcore_session_keys keys = tl_session_keys();
    open_with_keys(&p, tl_admit_sealed, &keys);
    cr_assert_eq(p.client->connects, 0);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(p.client->code, NETCORE_ERR_MISMATCH, "never a game in clear by accident");
    tc_free_pair(&p);
}

static netcore_result admit_without_keys(void *user, netcore_peer_id peer,
                                         const netcore_address *from, const void *token,
                                         size_t token_size_bytes, netcore_admission_grant *grant)
{
    (void)user;
    (void)peer;
    (void)from;
    (void)token;
    (void)token_size_bytes;
    (void)grant;
    return NETCORE_OK;
}

typedef struct warn_log {
    int warnings;
    bool mentions_clear;
} warn_log;

static void count_warnings(void *user, netcore_log_level level, const char *message)
{
    warn_log *log = user;
    if (level == NETCORE_LOG_WARN) {
        log->warnings++;
        log->mentions_clear = log->mentions_clear || strstr(message, "in clear") != NULL;
    }
}

Test(transport_contract_seal, admission_without_keys_fails_closed)
{
    tc_pair p = tc_new_pair(&net);
    warn_log log = {0, false};
    p.scfg.log.fn = count_warnings;
    p.scfg.log.user = &log;
    p.scfg.log.min_level = NETCORE_LOG_DEBUG;
    netcore_session_keys keys = tl_session_keys();
    open_with_keys(&p, admit_without_keys, &keys);
    cr_assert_eq(p.client->connects, 0);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(p.client->code, NETCORE_ERR_AUTH, "no game in clear behind an admission");
    cr_assert_eq(log.warnings, 0);
    tc_free_pair(&p);
}

Test(transport_contract_seal, the_off_switch_plays_in_clear_and_says_so_once)
{
    tc_pair p = tc_new_pair(&net);
    warn_log log = {0, false};
    p.scfg.log.fn = count_warnings;
    p.scfg.log.user = &log;
    p.scfg.log.min_level = NETCORE_LOG_DEBUG;
    p.scfg.seal_disabled = p.ccfg.seal_disabled = true;
    netcore_session_keys keys = tl_session_keys();
    netcore_peer_id id = open_with_keys(&p, tl_admit_sealed, &keys);
    cr_assert_eq(p.client->connects, 1);
    cr_assert_eq(log.warnings, 1, "one warning, at create");
    cr_assert(log.mentions_clear);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(p.client->host, id, &ps), NETCORE_OK);
    cr_assert_not(ps.sealed);
    uint8_t buf[100];
    tl_fill_payload(buf, 5, sizeof buf);
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, sizeof buf), NETCORE_OK);
    uint32_t want = 1;
    cr_assert(tc_run_until(&net, p.client, p.server, tl_b_received_count, &want, 30000));
    cr_assert_eq(p.server->rx[0].seq, 5);
    netcore_host_stats st = tc_host_stats(p.client);
    cr_assert_eq(st.seal_overhead_bytes_sent, 0);
    cr_assert_eq(st.peers_sealed, 0);
    cr_assert_eq(log.warnings, 1);
    tc_free_pair(&p);
}

Test(transport_contract_seal, a_corrupting_link_delivers_only_intact_messages)
{
    tc_pair p = tc_new_pair(&net);
    p.ccfg.conditioner.enabled = true;
    p.ccfg.conditioner.seed = 500;
    netcore_peer_id id = tc_pair_connect(&net, &p, true);
    /* From now on 10 % of the datagrams each way have one byte altered. */
    netcore_link_profile bad = tc_link_profile(20, 0, 0.0f, 0.0f, 0.0f);
    bad.corrupt_pct = 10.0f;
    cr_assert_eq(tc_set_conditioner(p.client, &bad, &bad), NETCORE_OK);
    uint8_t buf[100];
    const uint32_t sent = 1000;
    for (uint32_t seq = 0; seq < sent; seq++) {
        tl_fill_payload(buf, seq, sizeof buf);
        cr_assert_eq(netcore_host_send(p.client->host, id, NETCORE_DELIVERY_UNRELIABLE_UNORDERED,
                                       buf, sizeof buf),
                     NETCORE_OK);
        if (seq % 10 == 9)
            tc_run_ms(&net, p.client, p.server, 10);
    }
    tc_run_ms(&net, p.client, p.server, 300);
    cr_assert_eq(p.server->corrupt, 0, "every delivered payload is intact");
    netcore_host_stats cst = tc_host_stats(p.client);
    cr_assert_gt(cst.conditioner_outbound.corrupted, 0, "%s: corrupted %llu forwarded %llu",
                 tc_backend_name(), (unsigned long long)cst.conditioner_outbound.corrupted,
                 (unsigned long long)cst.conditioner_outbound.forwarded);
    cr_assert_gt(tc_host_stats(p.server).crypto_auth_rejected, 0, "altered messages were refused");
    cr_assert_lt(p.server->rx_total, sent);
    cr_assert_gt(p.server->rx_total, sent / 2);
    tc_free_pair(&p);
}
