/* The transport over real ENet on loopback: delivery guarantees, large
 * messages, connection life cycle and codes, stale ids, stats, queue limits
 * and the link conditioner. Admission and the control protocol against raw
 * ENet peers are in test_transport_enet_admission.c. Every wait is bounded in
 * iterations and wall time; nothing asserts on timing. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/transport.h"
#include "transport_loop.h"

static void init_netcore(void) { cr_assert_eq(netcore_init(), NETCORE_OK); }
static void fini_netcore(void) { netcore_shutdown(); }
TestSuite(transport_enet, .init = init_netcore, .fini = fini_netcore, .timeout = 60);

/* Sends count messages on each of the four default channels, then checks
 * each mode's promise on what arrived. */
static void check_modes(tl_side *client, tl_side *server, netcore_peer_id id, uint32_t count,
                        size_t max_size)
{
    uint8_t buf[2048];
    cr_assert_leq(max_size, sizeof buf);
    for (uint32_t seq = 0; seq < count; seq++) {
        for (uint8_t ch = 0; ch < 4; ch++) {
            size_t size = 4 + (seq * 37u + ch) % (max_size - 3);
            tl_fill_payload(buf, seq, size);
            cr_assert_eq(netcore_host_send(client->host, id, ch, buf, size), NETCORE_OK);
        }
        if (seq % 16 == 15) /* let ENet's window drain instead of one burst */
            tl_drain(client, 0), tl_drain(server, 0);
    }
    uint32_t reliable_target = 2 * count;
    /* Wait for both reliable channels to be complete. */
    uint32_t got_reliable = 0;
    uint64_t end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 200000 && netcore_time_now_us() < end && got_reliable < reliable_target;
         i++) {
        tl_drain(client, 1);
        tl_drain(server, 1);
        got_reliable = 0;
        for (uint32_t k = 0; k < server->rx_count; k++)
            got_reliable += server->rx[k].channel < 2;
    }
    /* A little longer for stragglers on the unreliable channels. */
    for (int i = 0; i < 50; i++) {
        tl_drain(client, 1);
        tl_drain(server, 1);
    }
    cr_assert_eq(server->corrupt, 0);
    uint8_t *seen = calloc(4 * (size_t)count, 1);
    cr_assert_not_null(seen);
    uint32_t next_ordered = 0;
    int64_t last_sequenced = -1;
    uint32_t per_channel[4] = {0};
    for (uint32_t k = 0; k < server->rx_count; k++) {
        const tl_received *r = &server->rx[k];
        cr_assert_eq(r->peer, server->last_connect);
        cr_assert_lt(r->channel, 4);
        cr_assert_lt(r->seq, count);
        uint8_t *mark = &seen[r->channel * count + r->seq];
        cr_assert_eq(*mark, 0, "duplicate on channel %u seq %u", r->channel, r->seq);
        *mark = 1;
        per_channel[r->channel]++;
        if (r->channel == 0) {
            cr_assert_eq(r->seq, next_ordered, "reliable-ordered out of order");
            next_ordered++;
        } else if (r->channel == 2) {
            cr_assert_gt((int64_t)r->seq, last_sequenced, "unreliable-sequenced went back");
            last_sequenced = r->seq;
        }
    }
    cr_assert_eq(per_channel[0], count, "reliable-ordered lost messages");
    cr_assert_eq(per_channel[1], count, "reliable-unordered lost messages");
    cr_assert_leq(per_channel[2], count);
    cr_assert_leq(per_channel[3], count);
    free(seen);
}

Test(transport_enet, delivery_modes_keep_their_promises)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    netcore_peer_id id = tl_connect_pair(server, &scfg, client, &ccfg);
    check_modes(client, server, id, 400, 1200);
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet, large_messages_are_fragmented_and_intact)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    netcore_peer_id id = tl_connect_pair(server, &scfg, client, &ccfg);
    size_t size = 100 * 1024;
    uint8_t *buf = malloc(size);
    cr_assert_not_null(buf);
    for (uint32_t seq = 0; seq < 4; seq++) {
        tl_fill_payload(buf, seq, size);
        cr_assert_eq(netcore_host_send(client->host, id, 0, buf, size), NETCORE_OK);
        cr_assert_eq(netcore_host_send(client->host, id, 1, buf, size), NETCORE_OK);
    }
    uint32_t want = 8;
    cr_assert(tl_run_until(client, server, tl_b_received_count, &want));
    cr_assert_eq(server->corrupt, 0);
    for (uint32_t k = 0; k < server->rx_count; k++)
        cr_assert_eq(server->rx[k].size, size);
    free(buf);
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet, disconnect_codes_reach_both_sides)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    netcore_peer_id id = tl_connect_pair(server, &scfg, client, &ccfg);
    cr_assert_eq(netcore_host_disconnect(client->host, id, 1234), NETCORE_OK);
    cr_assert_eq(netcore_host_send(client->host, id, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
    cr_assert(tl_run_until(client, server, tl_both_disconnected, NULL));
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(client->code, 1234);
    cr_assert_eq(client->last_disconnect, id);
    cr_assert_eq(server->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(server->code, 1234);
    cr_assert_eq(server->last_disconnect, server->last_connect);

    /* Now the server ends it, with a code using all 24 bits. */
    netcore_address to = tl_address_of(server);
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    client->connects = server->connects = 0;
    client->disconnects = server->disconnects = 0;
    cr_assert(tl_run_until(client, server, tl_both_connected, NULL));
    cr_assert_eq(netcore_host_disconnect(server->host, server->last_connect, 0xabcdef), NETCORE_OK);
    cr_assert(tl_run_until(client, server, tl_both_disconnected, NULL));
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(client->code, 0xabcdef);
    cr_assert_eq(server->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(server->code, 0xabcdef);

    /* Exactly one DISCONNECT each, even after more polling. */
    for (int i = 0; i < 20; i++) {
        tl_drain(client, 1);
        tl_drain(server, 1);
    }
    cr_assert_eq(client->disconnects, 1);
    cr_assert_eq(server->disconnects, 1);
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet, destroyed_server_is_reported_as_shutdown)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    netcore_peer_id id = tl_connect_pair(server, &scfg, client, &ccfg);
    netcore_host_destroy(server->host);
    server->host = NULL;
    cr_assert(tl_run_until(client, NULL, tl_a_disconnected, NULL));
    cr_assert_eq(client->last_disconnect, id);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_SHUTDOWN);
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet, connect_to_closed_port_fails)
{
    tl_side *gone = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    cr_assert_eq(netcore_host_create(&scfg, &gone->host), NETCORE_OK);
    netcore_address to = tl_address_of(gone);
    netcore_host_destroy(gone->host);
    gone->host = NULL;
    tl_client_config(&ccfg);
    ccfg.connect_timeout_ms = 300;
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    /* One long poll: the connect deadline ends the wait with the event. */
    netcore_event ev;
    cr_assert_eq(netcore_host_poll(client->host, 15000, &ev), NETCORE_OK);
    cr_assert_eq(ev.type, NETCORE_EVENT_DISCONNECT);
    cr_assert_eq(ev.peer, id);
    cr_assert_eq(ev.reason, NETCORE_DISCONNECT_CONNECT_FAILED);
    cr_assert_eq(ev.code, NETCORE_ERR_TIMEOUT);
    cr_assert_eq(netcore_host_send(client->host, id, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
    tl_free_side(client);
    tl_free_side(gone);
}

Test(transport_enet, stale_peer_ids_are_refused)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    ccfg.max_peers = 1; /* the next connection must reuse the slot */
    netcore_peer_id old_id = tl_connect_pair(server, &scfg, client, &ccfg);
    netcore_peer_id old_server_id = server->last_connect;
    cr_assert_eq(netcore_host_disconnect(client->host, old_id, 0), NETCORE_OK);
    cr_assert(tl_run_until(client, server, tl_both_disconnected, NULL));
    netcore_address to = tl_address_of(server);
    netcore_peer_id id = NETCORE_PEER_NONE;
    client->connects = server->connects = 0;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    cr_assert_neq(id, old_id);
    cr_assert_eq(id & 0xffffu, old_id & 0xffffu, "slot should be reused");
    cr_assert(tl_run_until(client, server, tl_both_connected, NULL));
    cr_assert_eq(netcore_host_send(client->host, old_id, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
    cr_assert_eq(netcore_host_disconnect(client->host, old_id, 0), NETCORE_ERR_NOT_CONNECTED);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(client->host, old_id, &ps), NETCORE_ERR_NOT_CONNECTED);
    if (server->last_connect != old_server_id)
        cr_assert_eq(netcore_host_send(server->host, old_server_id, 0, "x", 1),
                     NETCORE_ERR_NOT_CONNECTED);
    cr_assert_eq(netcore_host_send(client->host, id, 0, "x", 1), NETCORE_OK);
    netcore_address another = to;
    cr_assert_eq(netcore_host_connect(client->host, &another, NULL, &id), NETCORE_ERR_FULL);
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet, ephemeral_port_is_read_back)
{
    tl_side *server = tl_new_side();
    netcore_host_config scfg;
    tl_server_config(&scfg);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address a = tl_address_of(server);
    cr_assert_eq(a.family, NETCORE_ADDRESS_IPV4);
    cr_assert_neq(a.port, 0);
    cr_assert_eq(a.bytes[0], 127);
    /* The same port cannot be bound twice. */
    netcore_host *second = NULL;
    scfg.bind_address = a;
    cr_assert_eq(netcore_host_create(&scfg, &second), NETCORE_ERR_SOCKET);
    cr_assert_null(second);
    tl_free_side(server);
}

Test(transport_enet, stats_count_what_was_sent)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    netcore_peer_id id = tl_connect_pair(server, &scfg, client, &ccfg);
    uint8_t buf[100];
    for (uint32_t seq = 0; seq < 50; seq++) {
        tl_fill_payload(buf, seq, sizeof buf);
        cr_assert_eq(netcore_host_send(client->host, id, 0, buf, sizeof buf), NETCORE_OK);
        cr_assert_eq(netcore_host_send(client->host, id, 1, buf, 10), NETCORE_OK);
    }
    uint32_t want = 100;
    cr_assert(tl_run_until(client, server, tl_b_received_count, &want));
    netcore_peer_stats cs, ss;
    cr_assert_eq(netcore_host_get_peer_stats(client->host, id, &cs), NETCORE_OK);
    cr_assert_eq(netcore_host_get_peer_stats(server->host, server->last_connect, &ss), NETCORE_OK);
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
    cr_assert_eq(cs.address.port, tl_address_of(server).port);
    cr_assert_eq(ss.address.port, tl_address_of(client).port);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.traffic.bytes_sent, 5500);
    cr_assert_gt(hs.wire_bytes_sent, 5500);
    cr_assert_gt(hs.datagrams_sent, 0);
    cr_assert_eq(hs.peers_connected, 1);
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.traffic.messages_received, 100);
    cr_assert_gt(hs.wire_bytes_received, 5500);

    /* Rates cover the last one-second window: keep traffic flowing past one. */
    uint64_t until = netcore_time_now_us() + 1300000u;
    for (int i = 0; i < 100000 && netcore_time_now_us() < until; i++) {
        cr_assert_eq(netcore_host_send(client->host, id, 3, buf, sizeof buf), NETCORE_OK);
        tl_drain(client, 1);
        tl_drain(server, 1);
    }
    cr_assert_eq(netcore_host_get_peer_stats(client->host, id, &cs), NETCORE_OK);
    cr_assert_gt(cs.traffic.out_messages_per_s, 0.0f);
    cr_assert_gt(cs.channel[3].out_bytes_per_s, 0.0f);
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_gt(hs.traffic.in_bytes_per_s, 0.0f);
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet, oversize_messages_are_refused_and_dropped)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    scfg.max_message_bytes = 4000;
    tl_client_config(&ccfg);
    ccfg.max_message_bytes = 6000;
    netcore_peer_id id = tl_connect_pair(server, &scfg, client, &ccfg);
    static uint8_t buf[7000];
    cr_assert_eq(netcore_host_send(client->host, id, 0, buf, 6001), NETCORE_ERR_TOO_LARGE);
    tl_fill_payload(buf, 1, 5000);
    cr_assert_eq(netcore_host_send(client->host, id, 0, buf, 5000), NETCORE_OK);
    tl_fill_payload(buf, 2, 4000);
    cr_assert_eq(netcore_host_send(client->host, id, 0, buf, 4000), NETCORE_OK);
    uint32_t want = 1;
    cr_assert(tl_run_until(client, server, tl_b_received_count, &want));
    cr_assert_eq(server->rx[0].seq, 2);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.oversize_dropped, 1);
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet, send_fails_full_when_the_remote_does_not_keep_up)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    netcore_peer_id id = tl_connect_pair(server, &scfg, client, &ccfg);
    /* Nobody polls: every message stays queued in the client. */
    uint8_t buf[16] = {0};
    uint32_t sent = 0;
    netcore_result r = NETCORE_OK;
    while (sent < 20000 && (r = netcore_host_send(client->host, id, 0, buf, sizeof buf)) == NETCORE_OK)
        sent++;
    cr_assert_eq(r, NETCORE_ERR_FULL, "sent %u without the queue filling up", sent);
    cr_assert_geq(sent, 1000, "a queue that small would starve normal traffic");
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(client->host, id, &ps), NETCORE_OK);
    cr_assert_eq(ps.traffic.messages_sent, sent, "refused sends are not counted");
    /* Once the queue drains, sending works again and nothing was lost. */
    uint32_t want = sent;
    cr_assert(tl_run_until(client, server, tl_b_received_count, &want));
    cr_assert_eq(server->rx_total, sent);
    cr_assert_eq(netcore_host_send(client->host, id, 0, buf, sizeof buf), NETCORE_OK);
    tl_free_side(client);
    tl_free_side(server);
}

static bool both_clients_received(tl_side *a, tl_side *b, void *ctx)
{
    tl_side **clients = ctx;
    (void)a;
    (void)b;
    return clients[0]->rx_count > 0 && clients[1]->rx_count > 0;
}

Test(transport_enet, broadcast_reaches_every_admitted_peer)
{
    tl_side *server = tl_new_side(), *c1 = tl_new_side(), *c2 = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    tl_connect_pair(server, &scfg, c1, &ccfg);
    cr_assert_eq(netcore_host_create(&ccfg, &c2->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(c2->host, &to, NULL, &id), NETCORE_OK);
    cr_assert(tl_run_until(c2, server, tl_both_connected, NULL));
    uint32_t want_connects = 2;
    for (int i = 0; i < 1000 && server->connects < want_connects; i++)
        tl_drain(server, 1), tl_drain(c2, 0), tl_drain(c1, 0);
    cr_assert_eq(server->connects, 2);
    uint8_t buf[64];
    tl_fill_payload(buf, 9, sizeof buf);
    cr_assert_eq(netcore_host_broadcast(server->host, 0, buf, sizeof buf), NETCORE_OK);
    tl_side *clients[2] = {c1, c2};
    uint64_t end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && netcore_time_now_us() < end &&
                    !both_clients_received(NULL, NULL, clients);
         i++)
        tl_drain(server, 1), tl_drain(c1, 0), tl_drain(c2, 0);
    cr_assert(both_clients_received(NULL, NULL, clients));
    cr_assert_eq(c1->rx[0].seq, 9);
    cr_assert_eq(c2->rx[0].size, sizeof buf);
    tl_free_side(c1);
    tl_free_side(c2);
    tl_free_side(server);
}

/* ------------------------------------------------------------------ */
/* Through the conditioner                                             */
/* ------------------------------------------------------------------ */

static netcore_link_profile impaired(void)
{
    netcore_link_profile p;
    memset(&p, 0, sizeof p);
    p.latency_ms = 5;
    p.jitter_ms = 5;
    p.loss_pct = 5.0f;
    p.duplicate_pct = 5.0f;
    p.reorder_pct = 5.0f;
    return p;
}

Test(transport_enet, guarantees_hold_through_loss_duplication_and_jitter)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    ccfg.conditioner.enabled = true;
    ccfg.conditioner.seed = 7;
    ccfg.conditioner.inbound = impaired();
    ccfg.conditioner.outbound = impaired();
    netcore_peer_id id = tl_connect_pair(server, &scfg, client, &ccfg);
    check_modes(client, server, id, 200, 600);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_gt(hs.conditioner_outbound.forwarded, 0);
    cr_assert_gt(hs.conditioner_outbound.dropped_loss + hs.conditioner_inbound.dropped_loss, 0);
    cr_assert_gt(hs.conditioner_outbound.duplicated + hs.conditioner_inbound.duplicated, 0);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(client->host, id, &ps), NETCORE_OK);
    cr_assert(netcore_address_equal(&ps.address, &(netcore_address){0}) == false);
    cr_assert_eq(ps.address.port, tl_address_of(server).port, "peer address is the real server's");
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet, conditioned_server_maps_peer_addresses_back)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    scfg.conditioner.enabled = true;
    scfg.conditioner.seed = 3;
    scfg.conditioner.inbound = impaired();
    tl_client_config(&ccfg);
    tl_connect_pair(server, &scfg, client, &ccfg);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(server->host, server->last_connect, &ps), NETCORE_OK);
    netcore_address client_address = tl_address_of(client);
    cr_assert_eq(ps.address.port, client_address.port);
    uint8_t buf[32];
    for (uint32_t seq = 0; seq < 50; seq++) {
        tl_fill_payload(buf, seq, sizeof buf);
        cr_assert_eq(netcore_host_send(server->host, server->last_connect, 0, buf, sizeof buf),
                     NETCORE_OK);
    }
    uint32_t want = 50;
    cr_assert(tl_run_until(server, client, tl_b_received_count, &want));
    for (uint32_t k = 0; k < 50; k++)
        cr_assert_eq(client->rx[k].seq, k);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_gt(hs.conditioner_inbound.forwarded, 0);
    cr_assert_gt(hs.conditioner_outbound.forwarded, 0);
    tl_free_side(client);
    tl_free_side(server);
}

Test(transport_enet, total_loss_ends_in_timeout_on_both_sides)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    scfg.timeout_ms = 600;
    scfg.ping_interval_ms = 100;
    tl_client_config(&ccfg);
    ccfg.timeout_ms = 600;
    ccfg.ping_interval_ms = 100;
    ccfg.conditioner.enabled = true;
    netcore_peer_id id = tl_connect_pair(server, &scfg, client, &ccfg);
    netcore_link_profile dead;
    memset(&dead, 0, sizeof dead);
    dead.loss_pct = 100.0f;
    cr_assert_eq(netcore_host_set_conditioner(client->host, &dead, &dead), NETCORE_OK);
    cr_assert(tl_run_until(client, server, tl_both_disconnected, NULL));
    cr_assert_eq(client->last_disconnect, id);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_TIMEOUT);
    cr_assert_eq(server->reason, NETCORE_DISCONNECT_TIMEOUT);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.timeouts, 1);
    cr_assert_eq(hs.peers_connected, 0);
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_gt(hs.conditioner_outbound.dropped_loss, 0);
    tl_free_side(client);
    tl_free_side(server);
}
