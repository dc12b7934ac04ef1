/* The transport contract: what every backend of netcore_host promises,
 * written once against the public API and run over each backend (see
 * transport_contract.h): admission, each delivery mode's guarantees with
 * and without impairment (sealed on every mode), large messages, the
 * disconnect reasons and one DISCONNECT per CONNECT, stale ids, statistics,
 * queue and size limits, timeouts and the conditioner; the sealing rules are
 * in transport_contract_seal.c, built into the same programs. Every wait is bounded; nothing
 * asserts on timing. What only one backend has (the simulation's seeds,
 * ENet's guard and sockets, the long harsh run) lives in that backend's
 * test_transport_*.c. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/transport.h"
#include "transport_contract.h"

#define CHANNELS 4u

static tc_net net;

static void open_net(void)
{
    tc_open(&net, 7);
}
static void close_net(void)
{
    tc_close(&net);
}
TestSuite(transport_contract, .init = open_net, .fini = close_net, .timeout = 120);

static netcore_peer_id connect_pair(tc_pair *p, bool sealed)
{
    return tc_pair_connect(&net, p, sealed);
}

/* ------------------------------------------------------------------ */
/* Connect and admission                                               */
/* ------------------------------------------------------------------ */

static netcore_result admit_if_secret(void *user, netcore_peer_id peer, const netcore_address *from,
                                      const void *token, size_t token_size_bytes,
                                      netcore_admission_grant *grant)
{
    int *calls = user;
    (*calls)++;
    cr_assert_neq(peer, NETCORE_PEER_NONE);
    cr_assert_eq(from->family, NETCORE_ADDRESS_IPV4);
    cr_assert_eq(from->bytes[0], 127);
    cr_assert_not(grant->has_session_keys, "the transport zeroes the grant");
    if (token_size_bytes != 6 || memcmp(token, "secret", 6) != 0)
        return NETCORE_ERR_AUTH;
    grant->has_session_keys = true;
    grant->session_keys = tl_session_keys();
    return NETCORE_OK;
}

static void try_token(tc_pair *p, const char *token, int *calls)
{
    netcore_session_keys keys = tl_session_keys();
    netcore_connect_options options = tl_sealed_options(&keys);
    options.token = token;
    options.token_size_bytes = strlen(token);
    p->client->connects = p->client->disconnects = 0;
    int before = *calls;
    tc_connect_start(p->client, p->server, &options);
    cr_assert(tc_run_until(&net, p->client, p->server, tc_settled, NULL, 30000));
    cr_assert_eq(*calls, before + 1, "the callback sees each attempt once");
}

Test(transport_contract, admission_admits_and_rejects_with_the_callback_code)
{
    int calls = 0;
    tc_pair p = tc_new_pair(&net);
    p.scfg.admission = admit_if_secret;
    p.scfg.admission_user = &calls;
    tc_host_create(&net, &p.scfg, p.server);
    tc_host_create(&net, &p.ccfg, p.client);

    try_token(&p, "wrong!", &calls);
    cr_assert_eq(p.client->connects, 0);
    cr_assert_eq(p.client->disconnects, 1);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(p.client->code, NETCORE_ERR_AUTH);
    tc_run_ms(&net, p.client, p.server, 200);
    cr_assert_eq(p.server->connects, 0, "a rejected peer is never reported");
    cr_assert_eq(p.server->disconnects, 0);

    try_token(&p, "secret", &calls);
    cr_assert_eq(p.client->connects, 1);
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_connected, NULL, 30000));
    netcore_host_stats st = tc_host_stats(p.server);
    cr_assert_eq(st.admission_accepted, 1);
    cr_assert_eq(st.admission_rejected, 1);
    cr_assert_eq(st.peers_connected, 1);
    cr_assert_eq(st.peers_pending, 0);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(p.server->host, p.server->last_connect, &ps),
                 NETCORE_OK);
    cr_assert(ps.admitted);
    tc_free_pair(&p);
}

Test(transport_contract, connecting_to_nobody_fails_after_connect_timeout)
{
    tc_pair p = tc_new_pair(&net);
    /* A server that existed: its address is real, nobody answers there now. */
    tc_host_create(&net, &p.scfg, p.server);
    netcore_address to = tc_address_of(p.server);
    netcore_host_destroy(p.server->host);
    p.server->host = NULL;
    p.ccfg.connect_timeout_ms = 300;
    tc_host_create(&net, &p.ccfg, p.client);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(p.client->host, &to, NULL, &id), NETCORE_OK);
    cr_assert(tc_run_until(&net, p.client, NULL, tl_a_disconnected, NULL, 15000));
    cr_assert_eq(p.client->connects, 0);
    cr_assert_eq(p.client->disconnects, 1);
    cr_assert_eq(p.client->last_disconnect, id);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_CONNECT_FAILED);
    cr_assert_eq(p.client->code, NETCORE_ERR_TIMEOUT);
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
    tc_free_pair(&p);
}

/* ------------------------------------------------------------------ */
/* Delivery modes                                                      */
/* ------------------------------------------------------------------ */

static bool reliable_complete(tl_side *a, tl_side *b, void *ctx)
{
    (void)a;
    uint32_t want = *(const uint32_t *)ctx, got = 0;
    for (uint32_t k = 0; k < b->rx_count; k++)
        got += b->rx[k].channel < 2;
    return got >= want;
}

/* Sends count messages on each default channel (channel i has delivery
 * mode i) from `from` to `to`, then checks each mode's promise on what
 * arrived: reliable-ordered complete and in order, reliable-unordered
 * complete, unreliable-sequenced never going back, nothing twice, nothing
 * altered. Returns how many unreliable-unordered messages arrived. */
static uint32_t check_modes(tl_side *from, netcore_peer_id id, tl_side *to, uint32_t count,
                            size_t max_size)
{
    static uint8_t buf[6000];
    cr_assert_leq(max_size, sizeof buf);
    cr_assert_leq(CHANNELS * count, TL_MAX_RECORDED);
    for (uint32_t seq = 0; seq < count; seq++) {
        for (uint8_t ch = 0; ch < CHANNELS; ch++) {
            size_t size = 4 + (seq * 37u + ch) % (max_size - 3);
            tl_fill_payload(buf, seq, size);
            cr_assert_eq(netcore_host_send(from->host, id, ch, buf, size), NETCORE_OK);
        }
        if (seq % 16 == 15) /* let the send window drain instead of one burst */
            tc_run_ms(&net, from, to, 5);
    }
    uint32_t want = 2 * count;
    cr_assert(tc_run_until(&net, from, to, reliable_complete, &want, 120000),
              "%s: the reliable channels complete", tc_backend_name());
    tc_run_ms(&net, from, to, 300); /* a late copy or straggler would show now */
    cr_assert_eq(to->corrupt, 0);
    uint8_t *seen = calloc(CHANNELS * (size_t)count, 1);
    cr_assert_not_null(seen);
    uint32_t next_ordered = 0, per_channel[CHANNELS] = {0};
    int64_t last_sequenced = -1;
    for (uint32_t k = 0; k < to->rx_count; k++) {
        const tl_received *r = &to->rx[k];
        cr_assert_eq(r->peer, to->last_connect, "delivered from the connected peer");
        cr_assert_lt(r->channel, CHANNELS);
        cr_assert_lt(r->seq, count);
        uint8_t *mark = &seen[r->channel * count + r->seq];
        cr_assert_eq(*mark, 0, "duplicate on channel %u seq %u", r->channel, r->seq);
        *mark = 1;
        per_channel[r->channel]++;
        if (r->channel == NETCORE_DELIVERY_RELIABLE_ORDERED) {
            cr_assert_eq(r->seq, next_ordered, "reliable-ordered out of order");
            next_ordered++;
        } else if (r->channel == NETCORE_DELIVERY_UNRELIABLE_SEQUENCED) {
            cr_assert_gt((int64_t)r->seq, last_sequenced, "unreliable-sequenced went back");
            last_sequenced = r->seq;
        }
    }
    cr_assert_eq(per_channel[0], count, "reliable-ordered lost messages");
    cr_assert_eq(per_channel[1], count, "reliable-unordered lost messages");
    cr_assert_leq(per_channel[2], count);
    cr_assert_leq(per_channel[3], count);
    free(seen);
    return per_channel[3];
}

Test(transport_contract, every_delivery_mode_keeps_its_promise)
{
    tc_pair p = tc_new_pair(&net);
    netcore_peer_id id = connect_pair(&p, false);
    uint32_t unordered = check_modes(p.client, id, p.server, 400, 1200);
    cr_assert_eq(unordered, 400, "a clean link loses nothing");
    tc_free_pair(&p);
}

Test(transport_contract, every_delivery_mode_keeps_its_promise_sealed_both_ways)
{
    tc_pair p = tc_new_pair(&net);
    netcore_peer_id id = connect_pair(&p, true);
    check_modes(p.client, id, p.server, 300, 1200);
    p.client->rx_count = p.client->rx_total = 0;
    check_modes(p.server, p.server->last_connect, p.client, 300, 1200);
    netcore_host_stats st = tc_host_stats(p.client);
    cr_assert_eq(st.peers_sealed, 1);
    cr_assert_gt(st.seal_overhead_bytes_sent, 0, "every message carried a tag");
    cr_assert_eq(st.crypto_auth_rejected, 0);
    st = tc_host_stats(p.server);
    cr_assert_eq(st.peers_sealed, 1);
    cr_assert_eq(st.crypto_auth_rejected, 0);
    tc_free_pair(&p);
}

Test(transport_contract, guarantees_hold_sealed_through_loss_duplication_jitter_and_reordering)
{
    tc_pair p = tc_new_pair(&net);
    tc_impair(&p.ccfg, tc_link_profile(5, 5, 5.0f, 5.0f, 5.0f), 7);
    netcore_peer_id id = connect_pair(&p, true);
    uint32_t unordered = check_modes(p.client, id, p.server, 200, 600);
    cr_assert_lt(unordered, 200, "the link lost some unreliable messages");
    netcore_host_stats st = tc_host_stats(p.client);
    cr_assert_gt(st.conditioner_outbound.forwarded, 0);
    cr_assert_gt(st.conditioner_outbound.dropped_loss + st.conditioner_inbound.dropped_loss, 0);
    cr_assert_gt(st.conditioner_outbound.duplicated + st.conditioner_inbound.duplicated, 0);
    cr_assert_eq(st.crypto_auth_rejected, 0, "no byte was altered: everything opened");
    cr_assert_eq(tc_host_stats(p.server).crypto_auth_rejected, 0);
    cr_assert_eq(p.client->disconnects + p.server->disconnects, 0);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(p.client->host, id, &ps), NETCORE_OK);
    cr_assert_eq(ps.address.port, tc_address_of(p.server).port, "the peer's address is real");
    tc_free_pair(&p);
}

Test(transport_contract, large_messages_are_fragmented_and_intact)
{
    tc_pair p = tc_new_pair(&net);
    netcore_peer_id id = connect_pair(&p, true);
    size_t size = 100 * 1024;
    uint8_t *buf = malloc(size);
    cr_assert_not_null(buf);
    /* Two at a time: a backend may bound what one peer has queued (the
     * simulated network to about two maximum-size messages). */
    for (uint32_t seq = 0; seq < 4; seq++) {
        tl_fill_payload(buf, seq, size);
        cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, size), NETCORE_OK);
        cr_assert_eq(netcore_host_send(p.client->host, id, 1, buf, size), NETCORE_OK);
        uint32_t want = 2 * (seq + 1);
        cr_assert(tc_run_until(&net, p.client, p.server, tl_b_received_count, &want, 60000));
    }
    cr_assert_eq(p.server->rx_total, 8);
    cr_assert_eq(p.server->corrupt, 0);
    for (uint32_t k = 0; k < p.server->rx_count; k++)
        cr_assert_eq(p.server->rx[k].size, size);
    free(buf);
    tc_free_pair(&p);
}

Test(transport_contract, oversize_messages_are_refused_and_dropped)
{
    tc_pair p = tc_new_pair(&net);
    p.scfg.max_message_bytes = 4000;
    p.ccfg.max_message_bytes = 6000;
    netcore_peer_id id = connect_pair(&p, false);
    static uint8_t buf[7000];
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, 6001), NETCORE_ERR_TOO_LARGE);
    tl_fill_payload(buf, 1, 5000);
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, 5000), NETCORE_OK);
    tl_fill_payload(buf, 2, 4000);
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, 4000), NETCORE_OK);
    uint32_t want = 1;
    cr_assert(tc_run_until(&net, p.client, p.server, tl_b_received_count, &want, 30000));
    cr_assert_eq(p.server->rx[0].seq, 2);
    netcore_host_stats st = tc_host_stats(p.server);
    cr_assert_eq(st.oversize_dropped, 1, "%s: oversize_dropped %llu", tc_backend_name(),
                 (unsigned long long)st.oversize_dropped);
    tc_free_pair(&p);
}

Test(transport_contract, send_fails_full_when_the_remote_does_not_keep_up)
{
    tc_pair p = tc_new_pair(&net);
    netcore_peer_id id = connect_pair(&p, false);
    /* Nobody polls: every message stays queued in the client. */
    uint8_t buf[16] = {0};
    uint32_t sent = 0;
    netcore_result r = NETCORE_OK;
    while (sent < 20000 &&
           (r = netcore_host_send(p.client->host, id, 0, buf, sizeof buf)) == NETCORE_OK)
        sent++;
    cr_assert_eq(r, NETCORE_ERR_FULL, "sent %u without the queue filling up", sent);
    cr_assert_geq(sent, 1000, "a queue that small would starve normal traffic");
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(p.client->host, id, &ps), NETCORE_OK);
    cr_assert_eq(ps.traffic.messages_sent, sent, "refused sends are not counted");
    /* Once the queue drains, sending works again and nothing was lost. */
    uint32_t want = sent;
    cr_assert(tc_run_until(&net, p.client, p.server, tl_b_received_count, &want, 60000));
    cr_assert_eq(p.server->rx_total, sent);
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, sizeof buf), NETCORE_OK);
    tc_free_pair(&p);
}

/* ------------------------------------------------------------------ */
/* Disconnects: reasons, codes, one DISCONNECT per CONNECT             */
/* ------------------------------------------------------------------ */

/* Polls a while longer: a second DISCONNECT would show now. */
static void settle(tc_pair *p)
{
    tc_run_ms(&net, p->client, p->server, 300);
}

Test(transport_contract, disconnect_codes_reach_both_sides_once)
{
    tc_pair p = tc_new_pair(&net);
    netcore_peer_id id = connect_pair(&p, true);
    cr_assert_eq(netcore_host_disconnect(p.client->host, id, 1234), NETCORE_OK);
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_disconnected, NULL, 30000));
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(p.client->code, 1234);
    cr_assert_eq(p.client->last_disconnect, id);
    cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(p.server->code, 1234);
    cr_assert_eq(p.server->last_disconnect, p.server->last_connect);

    /* Now the server ends it, with a code using all 24 bits. */
    p.client->connects = p.server->connects = 0;
    p.client->disconnects = p.server->disconnects = 0;
    netcore_session_keys keys = tl_session_keys();
    netcore_connect_options options = tl_sealed_options(&keys);
    tc_connect_start(p.client, p.server, &options);
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_connected, NULL, 30000));
    cr_assert_eq(netcore_host_disconnect(p.server->host, p.server->last_connect, 0xabcdef),
                 NETCORE_OK);
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_disconnected, NULL, 30000));
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(p.client->code, 0xabcdef);
    cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(p.server->code, 0xabcdef);
    settle(&p);
    cr_assert_eq(p.client->disconnects, 1, "exactly one DISCONNECT per CONNECT");
    cr_assert_eq(p.server->disconnects, 1);
    tc_free_pair(&p);
}

Test(transport_contract, queued_reliable_data_arrives_before_the_disconnect_notice)
{
    /* netcore_host_disconnect promises this; on ENet it is
     * enet_peer_disconnect_later (the library's own disconnects, for a
     * refused admission or a broken session, still drop the queue). */
    tc_pair p = tc_new_pair(&net);
    tc_impair(&p.ccfg, tc_link_profile(40, 0, 10.0f, 0.0f, 0.0f), 4);
    netcore_peer_id id = connect_pair(&p, true);
    static uint8_t buf[3000];
    for (uint32_t seq = 0; seq < 25; seq++) {
        tl_fill_payload(buf, seq, 2500);
        cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, 2500), NETCORE_OK);
    }
    cr_assert_eq(netcore_host_disconnect(p.client->host, id, 77), NETCORE_OK);
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_disconnected, NULL, 30000));
    cr_assert_eq(p.server->rx_total, 25, "%s: queued reliable data arrives before the notice (%u)",
                 tc_backend_name(), p.server->rx_total);
    cr_assert_eq(p.server->corrupt, 0);
    cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(p.server->code, 77);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_REQUESTED);
    settle(&p);
    cr_assert_eq(p.client->disconnects, 1);
    cr_assert_eq(p.server->disconnects, 1);
    tc_free_pair(&p);
}

Test(transport_contract, a_graceful_disconnect_gives_up_on_a_backlog_after_timeout_ms)
{
    /* 60 messages of 2000 bytes through 64 kbps take about 15 s; the client
     * waits for them no longer than its timeout_ms of 2 s, then drops the
     * rest and still says goodbye with its code. */
    tc_pair p = tc_new_pair(&net);
    netcore_link_profile narrow = tc_link_profile(10, 0, 0.0f, 0.0f, 0.0f);
    narrow.bandwidth_kbps = 64;
    tc_impair(&p.ccfg, narrow, 5);
    p.ccfg.conditioner.inbound = tc_link_profile(10, 0, 0.0f, 0.0f, 0.0f);
    p.ccfg.timeout_ms = 2000;
    netcore_peer_id id = connect_pair(&p, true);
    static uint8_t buf[2000];
    for (uint32_t seq = 0; seq < 60; seq++) {
        tl_fill_payload(buf, seq, sizeof buf);
        cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, sizeof buf), NETCORE_OK);
    }
    uint64_t start_us = netcore_host_now_us(p.client->host);
    cr_assert_eq(netcore_host_disconnect(p.client->host, id, 78), NETCORE_OK);
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_disconnected, NULL, 30000));
    if (tc_virtual_time()) {
        /* The wait for the backlog, then at most one round of goodbyes. */
        uint64_t took_ms = (netcore_host_now_us(p.client->host) - start_us) / 1000u;
        cr_assert_lt(took_ms, 2000u + 1500u, "%s: ended after %llu ms", tc_backend_name(),
                     (unsigned long long)took_ms);
    }
    cr_assert_lt(p.server->rx_total, 60, "%s: the backlog was cut short", tc_backend_name());
    cr_assert_eq(p.server->corrupt, 0);
    cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(p.server->code, 78);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_REQUESTED);
    settle(&p);
    cr_assert_eq(p.client->disconnects, 1);
    cr_assert_eq(p.server->disconnects, 1);
    tc_free_pair(&p);
}

Test(transport_contract, destroyed_server_is_reported_as_shutdown)
{
    tc_pair p = tc_new_pair(&net);
    netcore_peer_id id = connect_pair(&p, true);
    netcore_host_destroy(p.server->host);
    p.server->host = NULL;
    cr_assert(tc_run_until(&net, p.client, NULL, tl_a_disconnected, NULL, 30000));
    cr_assert_eq(p.client->last_disconnect, id);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_SHUTDOWN);
    settle(&p);
    cr_assert_eq(p.client->disconnects, 1);
    tc_free_pair(&p);
}

Test(transport_contract, silence_ends_in_timeouts_on_both_sides)
{
    tc_pair p = tc_new_pair(&net);
    p.scfg.timeout_ms = p.ccfg.timeout_ms = 600;
    p.scfg.ping_interval_ms = p.ccfg.ping_interval_ms = 100;
    p.ccfg.conditioner.enabled = true;
    netcore_peer_id id = connect_pair(&p, true);
    netcore_link_profile dead = tc_link_profile(0, 0, 100.0f, 0.0f, 0.0f);
    cr_assert_eq(tc_set_conditioner(p.client, &dead, &dead), NETCORE_OK);
    if (tc_virtual_time()) {
        /* Only virtual time makes "not before timeout_ms" a fair check. */
        tc_run_ms(&net, p.client, p.server, 400);
        cr_assert_eq(p.client->disconnects + p.server->disconnects, 0, "not before timeout_ms");
    }
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_disconnected, NULL, 30000));
    cr_assert_eq(p.client->last_disconnect, id);
    cr_assert_eq(p.client->reason, NETCORE_DISCONNECT_TIMEOUT);
    cr_assert_eq(p.server->reason, NETCORE_DISCONNECT_TIMEOUT);
    netcore_host_stats st = tc_host_stats(p.server);
    cr_assert_eq(st.timeouts, 1);
    cr_assert_eq(st.peers_connected, 0);
    cr_assert_gt(tc_host_stats(p.client).conditioner_outbound.dropped_loss, 0);
    settle(&p);
    cr_assert_eq(p.client->disconnects, 1);
    cr_assert_eq(p.server->disconnects, 1);
    tc_free_pair(&p);
}

Test(transport_contract, stale_peer_ids_are_refused)
{
    tc_pair p = tc_new_pair(&net);
    p.ccfg.max_peers = 1; /* the next connection must reuse the slot */
    netcore_peer_id old_id = connect_pair(&p, false);
    netcore_peer_id old_server_id = p.server->last_connect;
    cr_assert_eq(netcore_host_disconnect(p.client->host, old_id, 0), NETCORE_OK);
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_disconnected, NULL, 30000));
    p.client->connects = p.server->connects = 0;
    netcore_peer_id id = tc_connect_start(p.client, p.server, NULL);
    cr_assert_neq(id, old_id);
    cr_assert_eq(id & 0xffffu, old_id & 0xffffu, "slot should be reused");
    cr_assert(tc_run_until(&net, p.client, p.server, tl_both_connected, NULL, 30000));
    cr_assert_eq(netcore_host_send(p.client->host, old_id, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
    cr_assert_eq(netcore_host_disconnect(p.client->host, old_id, 0), NETCORE_ERR_NOT_CONNECTED);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(p.client->host, old_id, &ps),
                 NETCORE_ERR_NOT_CONNECTED);
    if (p.server->last_connect != old_server_id)
        cr_assert_eq(netcore_host_send(p.server->host, old_server_id, 0, "x", 1),
                     NETCORE_ERR_NOT_CONNECTED);
    cr_assert_eq(netcore_host_send(p.client->host, id, 0, "x", 1), NETCORE_OK);
    netcore_address to = tc_address_of(p.server);
    cr_assert_eq(netcore_host_connect(p.client->host, &to, NULL, &id), NETCORE_ERR_FULL);
    tc_free_pair(&p);
}

/* ------------------------------------------------------------------ */
/* Statistics                                                          */
/* ------------------------------------------------------------------ */

Test(transport_contract, stats_count_what_was_sent)
{
    tc_pair p = tc_new_pair(&net);
    netcore_peer_id id = connect_pair(&p, false);
    uint8_t buf[100];
    for (uint32_t seq = 0; seq < 50; seq++) {
        tl_fill_payload(buf, seq, sizeof buf);
        cr_assert_eq(netcore_host_send(p.client->host, id, 0, buf, sizeof buf), NETCORE_OK);
        cr_assert_eq(netcore_host_send(p.client->host, id, 1, buf, 10), NETCORE_OK);
    }
    uint32_t want = 100;
    cr_assert(tc_run_until(&net, p.client, p.server, tl_b_received_count, &want, 30000));
    netcore_peer_stats cs, ss;
    cr_assert_eq(netcore_host_get_peer_stats(p.client->host, id, &cs), NETCORE_OK);
    cr_assert_eq(netcore_host_get_peer_stats(p.server->host, p.server->last_connect, &ss),
                 NETCORE_OK);
    cr_assert_eq(cs.traffic.messages_sent, 100);
    cr_assert_eq(cs.traffic.bytes_sent, 50 * 100 + 50 * 10);
    cr_assert_eq(cs.channel[0].messages_sent, 50);
    cr_assert_eq(cs.channel[1].bytes_sent, 500);
    cr_assert_eq(ss.traffic.messages_received, 100);
    cr_assert_eq(ss.traffic.bytes_received, 5500);
    cr_assert_eq(ss.channel[0].bytes_received, 5000);
    cr_assert_eq(ss.channel[2].messages_received, 0);
    cr_assert_gt(cs.rtt_ms, 0.0f);
    cr_assert(cs.admitted);
    cr_assert_eq(cs.address.port, tc_address_of(p.server).port);
    cr_assert_eq(ss.address.port, tl_address_of(p.client).port);
    netcore_host_stats hs = tc_host_stats(p.client);
    cr_assert_eq(hs.traffic.bytes_sent, 5500);
    cr_assert_gt(hs.wire_bytes_sent, 5500, "headers are counted");
    cr_assert_gt(hs.datagrams_sent, 0);
    cr_assert_eq(hs.peers_connected, 1);
    hs = tc_host_stats(p.server);
    cr_assert_eq(hs.traffic.messages_received, 100);
    cr_assert_gt(hs.wire_bytes_received, 5500);
    cr_assert_gt(hs.datagrams_received, 0);

    /* Rates cover the last one-second window: keep traffic flowing past one. */
    for (int i = 0; i < 130; i++) {
        cr_assert_eq(netcore_host_send(p.client->host, id, 3, buf, sizeof buf), NETCORE_OK);
        tc_run_ms(&net, p.client, p.server, 10);
    }
    cr_assert_eq(netcore_host_get_peer_stats(p.client->host, id, &cs), NETCORE_OK);
    cr_assert_gt(cs.traffic.out_messages_per_s, 0.0f);
    cr_assert_gt(cs.channel[3].out_bytes_per_s, 0.0f);
    cr_assert_gt(tc_host_stats(p.server).traffic.in_bytes_per_s, 0.0f);
    tc_free_pair(&p);
}

/* ------------------------------------------------------------------ */
/* Many clients, broadcast                                             */
/* ------------------------------------------------------------------ */

/* 32 in virtual time; over ENet on loopback each client is a host with a
 * conditioner relay polled in turn, so 16 keep the default run short on two
 * cores. */
#define CLIENTS ((NETCORE_TC_BACKEND_SIM || NETCORE_TC_VNET) ? 32u : 16u)
#define BROADCASTS 20u

typedef struct crowd {
    tl_side *sides[CLIENTS + 1]; /* [0] the server */
    netcore_peer_id peers[CLIENTS + 1];
} crowd;

static bool all_connected(tl_side *const *sides, size_t count, void *ctx)
{
    (void)ctx;
    for (size_t i = 1; i < count; i++)
        if (sides[i]->connects != 1)
            return false;
    return sides[0]->connects == count - 1;
}

static bool all_traffic_done(tl_side *const *sides, size_t count, void *ctx)
{
    (void)ctx;
    for (size_t i = 1; i < count; i++)
        if (sides[i]->rx_total < BROADCASTS)
            return false;
    return sides[0]->rx_total >= (count - 1) * BROADCASTS;
}

static bool all_disconnected(tl_side *const *sides, size_t count, void *ctx)
{
    (void)ctx;
    for (size_t i = 1; i < count; i++)
        if (sides[i]->disconnects != 1)
            return false;
    return sides[0]->disconnects == count - 1;
}

Test(transport_contract, a_server_with_many_clients_broadcasts_to_every_admitted_peer)
{
    crowd c;
    netcore_host_config scfg, ccfg;
    tc_server_config(&net, &scfg);
    scfg.admission = tl_admit_sealed;
    c.sides[0] = tl_new_side();
    tc_host_create(&net, &scfg, c.sides[0]);
    netcore_session_keys keys = tl_session_keys();
    netcore_connect_options options = tl_sealed_options(&keys);
    for (uint32_t i = 1; i <= CLIENTS; i++) {
        tc_client_config(&net, &ccfg);
        tc_impair(&ccfg, netcore_link_preset_profile(NETCORE_LINK_WIFI), 100 + i);
        c.sides[i] = tl_new_side();
        tc_host_create(&net, &ccfg, c.sides[i]);
        c.peers[i] = tc_connect_start(c.sides[i], c.sides[0], &options);
    }
    cr_assert(tc_run_all_until(&net, c.sides, CLIENTS + 1, all_connected, NULL, 30000),
              "every client is admitted");
    /* A broadcast made now reaches every admitted peer, in order. */
    static uint8_t buf[800];
    for (uint32_t seq = 0; seq < BROADCASTS; seq++) {
        tl_fill_payload(buf, seq, 700);
        cr_assert_eq(netcore_host_broadcast(c.sides[0]->host, 0, buf, 700), NETCORE_OK);
        tl_fill_payload(buf, seq, 100);
        for (uint32_t i = 1; i <= CLIENTS; i++)
            cr_assert_eq(netcore_host_send(c.sides[i]->host, c.peers[i], 0, buf, 100), NETCORE_OK);
        tc_run_all_until(&net, c.sides, CLIENTS + 1, NULL, NULL, 20);
    }
    cr_assert(tc_run_all_until(&net, c.sides, CLIENTS + 1, all_traffic_done, NULL, 30000),
              "every message arrives");
    for (uint32_t i = 1; i <= CLIENTS; i++) {
        const tl_side *s = c.sides[i];
        cr_assert_eq(s->rx_total, BROADCASTS);
        cr_assert_eq(s->corrupt, 0);
        for (uint32_t k = 0; k < s->rx_count; k++) {
            cr_assert_eq(s->rx[k].seq, k, "client %u: broadcast in order", i);
            cr_assert_eq(s->rx[k].size, 700);
        }
    }
    netcore_host_stats st = tc_host_stats(c.sides[0]);
    cr_assert_eq(st.peers_connected, CLIENTS);
    cr_assert_eq(st.peers_sealed, CLIENTS);

    for (uint32_t i = 1; i <= CLIENTS; i++)
        cr_assert_eq(netcore_host_disconnect(c.sides[i]->host, c.peers[i], i), NETCORE_OK);
    cr_assert(tc_run_all_until(&net, c.sides, CLIENTS + 1, all_disconnected, NULL, 30000),
              "every disconnect completes");
    cr_assert_eq(c.sides[0]->reason, NETCORE_DISCONNECT_REQUESTED);
    for (uint32_t i = 1; i <= CLIENTS; i++)
        cr_assert_eq(c.sides[i]->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(tc_host_stats(c.sides[0]).peers_connected, 0);
    for (uint32_t i = 0; i <= CLIENTS; i++)
        tl_free_side(c.sides[i]);
}

/* ------------------------------------------------------------------ */
/* The conditioner                                                     */
/* ------------------------------------------------------------------ */

Test(transport_contract, a_conditioned_server_reports_its_peers_real_addresses)
{
    tc_pair p = tc_new_pair(&net);
    tc_impair(&p.scfg, tc_link_profile(5, 5, 5.0f, 5.0f, 5.0f), 3);
    p.scfg.conditioner.outbound = tc_link_profile(0, 0, 0.0f, 0.0f, 0.0f);
    connect_pair(&p, false);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(p.server->host, p.server->last_connect, &ps),
                 NETCORE_OK);
    cr_assert_eq(ps.address.port, tl_address_of(p.client).port);
    uint8_t buf[32];
    for (uint32_t seq = 0; seq < 50; seq++) {
        tl_fill_payload(buf, seq, sizeof buf);
        cr_assert_eq(netcore_host_send(p.server->host, p.server->last_connect, 0, buf, sizeof buf),
                     NETCORE_OK);
    }
    uint32_t want = 50;
    cr_assert(tc_run_until(&net, p.server, p.client, tl_b_received_count, &want, 30000));
    for (uint32_t k = 0; k < 50; k++)
        cr_assert_eq(p.client->rx[k].seq, k);
    netcore_host_stats st = tc_host_stats(p.server);
    cr_assert_gt(st.conditioner_inbound.forwarded, 0);
    cr_assert_gt(st.conditioner_outbound.forwarded, 0);
    tc_free_pair(&p);
}

/* ------------------------------------------------------------------ */
/* Replay (virtual time only)                                          */
/* ------------------------------------------------------------------ */

static uint64_t digest_add(uint64_t digest, uint64_t value)
{
    for (int i = 0; i < 8; i++) {
        digest ^= (value >> (8 * i)) & 0xffu;
        digest *= 0x100000001b3ull; /* FNV-1a */
    }
    return digest;
}

/* One lossy sealed session on a network seeded with seed: the order of every
 * delivery, the wire and conditioner counters of both ends and the clock at
 * the end, folded into one number. The suite's network is set aside for it. */
static uint64_t lossy_run_digest(uint64_t seed)
{
    tc_close(&net);
    tc_open(&net, seed);
    tc_pair p = tc_new_pair(&net);
    tc_impair(&p.ccfg, tc_link_profile(30, 10, 10.0f, 5.0f, 5.0f), seed);
    netcore_peer_id id = connect_pair(&p, true);
    check_modes(p.client, id, p.server, 120, 1500);
    uint64_t digest = 0xcbf29ce484222325ull;
    for (uint32_t k = 0; k < p.server->rx_count; k++)
        digest = digest_add(digest, (uint64_t)p.server->rx[k].channel << 32 | p.server->rx[k].seq);
    const tl_side *ends[2] = {p.client, p.server};
    for (int i = 0; i < 2; i++) {
        netcore_host_stats st = tc_host_stats(ends[i]);
        digest = digest_add(digest, st.wire_bytes_sent);
        digest = digest_add(digest, st.datagrams_sent);
        digest = digest_add(digest, st.datagrams_received);
        digest = digest_add(digest, st.conditioner_outbound.dropped_loss);
        digest = digest_add(digest, st.conditioner_inbound.duplicated);
    }
    digest = digest_add(digest, netcore_host_now_us(p.client->host));
    tc_free_pair(&p);
    tc_close(&net);
    tc_open(&net, 7);
    return digest;
}

Test(transport_contract, the_same_seed_replays_the_same_lossy_session)
{
    if (!tc_virtual_time())
        cr_skip_test("%s runs on real time: a session cannot be replayed", tc_backend_name());
    uint64_t first = lossy_run_digest(11);
    cr_assert_eq(lossy_run_digest(11), first, "%s: same seed, same deliveries and counters",
                 tc_backend_name());
    cr_assert_neq(lossy_run_digest(12), first, "%s: another seed, another session",
                  tc_backend_name());
}
