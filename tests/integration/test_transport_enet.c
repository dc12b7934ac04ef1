/* The transport over real ENet on loopback: delivery guarantees, large
 * messages, connection life cycle and codes, admission, timeouts, stats and
 * the link conditioner. Every wait is bounded in iterations and wall time;
 * nothing asserts on timing. */
#include <criterion/criterion.h>
#include <enet/enet.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/transport.h"
#include "transport_internal.h"

#define MAX_WAIT_MS 20000u
#define MAX_RECORDED 4096u

typedef struct received {
    netcore_peer_id peer;
    uint8_t channel;
    uint32_t seq;
    size_t size;
} received;

/* Everything one host reported, in order. */
typedef struct side {
    netcore_host *host;
    uint32_t connects;
    netcore_peer_id last_connect;
    uint32_t disconnects;
    netcore_peer_id last_disconnect;
    netcore_disconnect_reason reason;
    uint32_t code;
    received rx[MAX_RECORDED];
    uint32_t rx_count; /* recorded in rx */
    uint32_t rx_total; /* received, recorded or not */
    uint32_t corrupt; /* payloads whose filler did not match */
} side;

static void init_netcore(void) { cr_assert_eq(netcore_init(), NETCORE_OK); }
static void fini_netcore(void) { netcore_shutdown(); }
TestSuite(transport_enet, .init = init_netcore, .fini = fini_netcore, .timeout = 60);

static void fill_payload(uint8_t *buf, uint32_t seq, size_t size)
{
    for (size_t i = 0; i < size; i++)
        buf[i] = (uint8_t)(seq * 31u + i * 7u);
    if (size >= 4)
        memcpy(buf, &seq, 4);
}

static bool payload_ok(const uint8_t *buf, size_t size, uint32_t *out_seq)
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

static void drain(side *s, uint32_t timeout_ms)
{
    for (int i = 0; i < 10000; i++) {
        netcore_event ev;
        cr_assert_eq(netcore_host_poll(s->host, i == 0 ? timeout_ms : 0, &ev), NETCORE_OK);
        switch (ev.type) {
        case NETCORE_EVENT_NONE: return;
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
            if (!payload_ok(ev.data, ev.size_bytes, &seq))
                s->corrupt++;
            s->rx_total++;
            if (s->rx_count < MAX_RECORDED)
                s->rx[s->rx_count++] = (received){ev.peer, ev.channel, seq, ev.size_bytes};
            break;
        }
        }
    }
}

typedef bool (*done_fn)(side *a, side *b, void *ctx);

/* Polls both sides until done() or MAX_WAIT_MS; returns done()'s last answer. */
static bool run_until(side *a, side *b, done_fn done, void *ctx)
{
    uint64_t end = netcore_time_now_us() + (uint64_t)MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 200000 && netcore_time_now_us() < end; i++) {
        if (a && a->host)
            drain(a, 1);
        if (b && b->host)
            drain(b, 1);
        if (done(a, b, ctx))
            return true;
    }
    return done(a, b, ctx);
}

static bool both_connected(side *a, side *b, void *ctx)
{
    (void)ctx;
    return a->connects > 0 && b->connects > 0;
}

static bool a_disconnected(side *a, side *b, void *ctx)
{
    (void)b;
    (void)ctx;
    return a->disconnects > 0;
}

static bool both_disconnected(side *a, side *b, void *ctx)
{
    (void)ctx;
    return a->disconnects > 0 && b->disconnects > 0;
}

static bool b_received_count(side *a, side *b, void *ctx)
{
    (void)a;
    return b->rx_total >= *(uint32_t *)ctx;
}

static void server_config(netcore_host_config *cfg)
{
    netcore_host_config_default(cfg);
    cfg->is_server = true;
    cfg->bind_address = netcore_address_ipv4(127, 0, 0, 1, 0);
    cfg->max_peers = 8;
}

static void client_config(netcore_host_config *cfg)
{
    netcore_host_config_default(cfg);
    cfg->max_peers = 4;
}

static side *new_side(void)
{
    side *s = calloc(1, sizeof *s);
    cr_assert_not_null(s);
    return s;
}

static void free_side(side *s)
{
    if (!s)
        return;
    netcore_host_destroy(s->host);
    free(s);
}

static netcore_address address_of(const side *s)
{
    netcore_address address;
    cr_assert_eq(netcore_host_address(s->host, &address), NETCORE_OK);
    return address;
}

/* Server and client with the given configs, connected. Returns the client's peer id. */
static netcore_peer_id connect_pair(side *server, const netcore_host_config *scfg, side *client,
                                    const netcore_host_config *ccfg)
{
    cr_assert_eq(netcore_host_create(scfg, &server->host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(ccfg, &client->host), NETCORE_OK);
    netcore_address to = address_of(server);
    to.bytes[0] = 127; /* the server may listen on any interface */
    to.bytes[3] = 1;
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    cr_assert_neq(id, NETCORE_PEER_NONE);
    cr_assert(run_until(client, server, both_connected, NULL), "connect did not complete");
    cr_assert_eq(client->last_connect, id);
    return id;
}

/* Sends count messages on each of the four default channels, then checks
 * each mode's promise on what arrived. */
static void check_modes(side *client, side *server, netcore_peer_id id, uint32_t count,
                        size_t max_size)
{
    uint8_t buf[2048];
    cr_assert_leq(max_size, sizeof buf);
    for (uint32_t seq = 0; seq < count; seq++) {
        for (uint8_t ch = 0; ch < 4; ch++) {
            size_t size = 4 + (seq * 37u + ch) % (max_size - 3);
            fill_payload(buf, seq, size);
            cr_assert_eq(netcore_host_send(client->host, id, ch, buf, size), NETCORE_OK);
        }
        if (seq % 16 == 15) /* let ENet's window drain instead of one burst */
            drain(client, 0), drain(server, 0);
    }
    uint32_t reliable_target = 2 * count;
    /* Wait for both reliable channels to be complete. */
    uint32_t got_reliable = 0;
    uint64_t end = netcore_time_now_us() + (uint64_t)MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 200000 && netcore_time_now_us() < end && got_reliable < reliable_target;
         i++) {
        drain(client, 1);
        drain(server, 1);
        got_reliable = 0;
        for (uint32_t k = 0; k < server->rx_count; k++)
            got_reliable += server->rx[k].channel < 2;
    }
    /* A little longer for stragglers on the unreliable channels. */
    for (int i = 0; i < 50; i++) {
        drain(client, 1);
        drain(server, 1);
    }
    cr_assert_eq(server->corrupt, 0);
    uint8_t *seen = calloc(4 * (size_t)count, 1);
    cr_assert_not_null(seen);
    uint32_t next_ordered = 0;
    int64_t last_sequenced = -1;
    uint32_t per_channel[4] = {0};
    for (uint32_t k = 0; k < server->rx_count; k++) {
        const received *r = &server->rx[k];
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
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    netcore_peer_id id = connect_pair(server, &scfg, client, &ccfg);
    check_modes(client, server, id, 400, 1200);
    free_side(client);
    free_side(server);
}

Test(transport_enet, large_messages_are_fragmented_and_intact)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    netcore_peer_id id = connect_pair(server, &scfg, client, &ccfg);
    size_t size = 100 * 1024;
    uint8_t *buf = malloc(size);
    cr_assert_not_null(buf);
    for (uint32_t seq = 0; seq < 4; seq++) {
        fill_payload(buf, seq, size);
        cr_assert_eq(netcore_host_send(client->host, id, 0, buf, size), NETCORE_OK);
        cr_assert_eq(netcore_host_send(client->host, id, 1, buf, size), NETCORE_OK);
    }
    uint32_t want = 8;
    cr_assert(run_until(client, server, b_received_count, &want));
    cr_assert_eq(server->corrupt, 0);
    for (uint32_t k = 0; k < server->rx_count; k++)
        cr_assert_eq(server->rx[k].size, size);
    free(buf);
    free_side(client);
    free_side(server);
}

Test(transport_enet, disconnect_codes_reach_both_sides)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    netcore_peer_id id = connect_pair(server, &scfg, client, &ccfg);
    cr_assert_eq(netcore_host_disconnect(client->host, id, 1234), NETCORE_OK);
    cr_assert_eq(netcore_host_send(client->host, id, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
    cr_assert(run_until(client, server, both_disconnected, NULL));
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(client->code, 1234);
    cr_assert_eq(client->last_disconnect, id);
    cr_assert_eq(server->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(server->code, 1234);
    cr_assert_eq(server->last_disconnect, server->last_connect);

    /* Now the server ends it, with a code using all 24 bits. */
    netcore_address to = address_of(server);
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    client->connects = server->connects = 0;
    client->disconnects = server->disconnects = 0;
    cr_assert(run_until(client, server, both_connected, NULL));
    cr_assert_eq(netcore_host_disconnect(server->host, server->last_connect, 0xabcdef), NETCORE_OK);
    cr_assert(run_until(client, server, both_disconnected, NULL));
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(client->code, 0xabcdef);
    cr_assert_eq(server->reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(server->code, 0xabcdef);

    /* Exactly one DISCONNECT each, even after more polling. */
    for (int i = 0; i < 20; i++) {
        drain(client, 1);
        drain(server, 1);
    }
    cr_assert_eq(client->disconnects, 1);
    cr_assert_eq(server->disconnects, 1);
    free_side(client);
    free_side(server);
}

Test(transport_enet, destroyed_server_is_reported_as_shutdown)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    netcore_peer_id id = connect_pair(server, &scfg, client, &ccfg);
    netcore_host_destroy(server->host);
    server->host = NULL;
    cr_assert(run_until(client, NULL, a_disconnected, NULL));
    cr_assert_eq(client->last_disconnect, id);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_SHUTDOWN);
    free_side(client);
    free_side(server);
}

Test(transport_enet, connect_to_closed_port_fails)
{
    side *gone = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    cr_assert_eq(netcore_host_create(&scfg, &gone->host), NETCORE_OK);
    netcore_address to = address_of(gone);
    netcore_host_destroy(gone->host);
    gone->host = NULL;
    client_config(&ccfg);
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
    free_side(client);
    free_side(gone);
}

static netcore_result admit_if_secret(void *user, netcore_peer_id peer,
                                      const netcore_address *from, const void *token,
                                      size_t token_size_bytes)
{
    int *calls = user;
    (*calls)++;
    cr_assert_neq(peer, NETCORE_PEER_NONE);
    cr_assert_eq(from->family, NETCORE_ADDRESS_IPV4);
    cr_assert_eq(from->bytes[0], 127);
    if (token_size_bytes == 6 && memcmp(token, "secret", 6) == 0)
        return NETCORE_OK;
    return NETCORE_ERR_AUTH;
}

static bool client_settled(side *client, side *server, void *ctx)
{
    (void)server;
    (void)ctx;
    return client->connects > 0 || client->disconnects > 0;
}

static void try_admission(const char *token, side *server, side *client, int *calls)
{
    netcore_address to = address_of(server);
    netcore_connect_options options = {token, strlen(token), 42};
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, &options, &id), NETCORE_OK);
    client->connects = client->disconnects = 0;
    int before = *calls;
    cr_assert(run_until(client, server, client_settled, NULL));
    cr_assert_eq(*calls, before + 1);
}

Test(transport_enet, admission_accepts_and_rejects_with_the_callback_code)
{
    int calls = 0;
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    scfg.admission = admit_if_secret;
    scfg.admission_user = &calls;
    client_config(&ccfg);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);

    try_admission("wrong!", server, client, &calls);
    cr_assert_eq(client->disconnects, 1);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(client->code, NETCORE_ERR_AUTH);
    cr_assert_eq(server->connects, 0);
    cr_assert_eq(server->disconnects, 0);

    try_admission("secret", server, client, &calls);
    cr_assert_eq(client->connects, 1);
    cr_assert(run_until(client, server, both_connected, NULL));
    netcore_host_stats stats;
    cr_assert_eq(netcore_host_get_stats(server->host, &stats), NETCORE_OK);
    cr_assert_eq(stats.admission_accepted, 1);
    cr_assert_eq(stats.admission_rejected, 1);
    cr_assert_eq(stats.peers_connected, 1);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(server->host, server->last_connect, &ps), NETCORE_OK);
    cr_assert(ps.admitted);
    free_side(client);
    free_side(server);
}

Test(transport_enet, mismatched_channels_are_rejected)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    ccfg.channel_count = 3;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_address to = address_of(server);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    cr_assert(run_until(client, server, client_settled, NULL));
    cr_assert_eq(client->connects, 0);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(client->code, NETCORE_ERR_MISMATCH);
    cr_assert_eq(server->connects, 0);
    free_side(client);
    free_side(server);
}

/* A client speaking raw ENet: connects, sends user-lane data and maybe a bad
 * control message, but never a valid HELLO. */
typedef struct raw_client {
    ENetHost *host;
    ENetPeer *peer;
    bool connected;
    bool disconnected;
    uint32_t disconnect_data;
} raw_client;

static void raw_service(raw_client *raw)
{
    ENetEvent ev;
    while (enet_host_service(raw->host, &ev, 0) > 0) {
        if (ev.type == ENET_EVENT_TYPE_CONNECT)
            raw->connected = true;
        if (ev.type == ENET_EVENT_TYPE_DISCONNECT) {
            raw->disconnected = true;
            raw->disconnect_data = ev.data;
        }
        if (ev.type == ENET_EVENT_TYPE_RECEIVE)
            enet_packet_destroy(ev.packet);
    }
}

static void raw_connect(raw_client *raw, side *server)
{
    netcore_address to = address_of(server);
    raw->host = enet_host_create(NULL, 1, 8, 0, 0);
    cr_assert_not_null(raw->host);
    ENetAddress target;
    memcpy(&target.host, to.bytes, 4);
    target.port = to.port;
    raw->peer = enet_host_connect(raw->host, &target, 8, 0);
    cr_assert_not_null(raw->peer);
    uint64_t end = netcore_time_now_us() + (uint64_t)MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && !raw->connected && netcore_time_now_us() < end; i++) {
        raw_service(raw);
        drain(server, 1);
    }
    cr_assert(raw->connected);
}

static void raw_wait_disconnect(raw_client *raw, side *server)
{
    uint64_t end = netcore_time_now_us() + (uint64_t)MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && !raw->disconnected && netcore_time_now_us() < end; i++) {
        raw_service(raw);
        drain(server, 1);
    }
    cr_assert(raw->disconnected);
}

Test(transport_enet, silent_raw_client_is_dropped_after_admission_timeout)
{
    side *server = new_side();
    netcore_host_config scfg;
    server_config(&scfg);
    scfg.admission_timeout_ms = 200;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    raw_client raw = {0};
    raw_connect(&raw, server);
    netcore_host_stats stats;
    cr_assert_eq(netcore_host_get_stats(server->host, &stats), NETCORE_OK);
    cr_assert_eq(stats.peers_pending, 1);
    /* Data before admission is dropped and counted. */
    for (uint8_t lane = 1; lane <= 2; lane++)
        enet_peer_send(raw.peer, lane, enet_packet_create("early", 5, ENET_PACKET_FLAG_RELIABLE));
    raw_wait_disconnect(&raw, server);
    cr_assert_eq(raw.disconnect_data,
                 NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_REJECTED, NETCORE_ERR_TIMEOUT));
    cr_assert_eq(netcore_host_get_stats(server->host, &stats), NETCORE_OK);
    cr_assert_eq(stats.admission_timed_out, 1);
    cr_assert_eq(stats.pending_messages_dropped, 2);
    cr_assert_eq(stats.peers_pending, 0);
    cr_assert_eq(server->connects, 0);
    cr_assert_eq(server->disconnects, 0);
    enet_host_destroy(raw.host);
    free_side(server);
}

Test(transport_enet, malformed_hello_is_a_protocol_error)
{
    side *server = new_side();
    netcore_host_config scfg;
    server_config(&scfg);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    raw_client raw = {0};
    raw_connect(&raw, server);
    /* Right magic and version, HELLO type, but the token length overruns. */
    const uint8_t hello[] = {'N', 'C', 'T', 'P', 1, 0, 1, 1, 0, 200, 0, 'x'};
    enet_peer_send(raw.peer, 0, enet_packet_create(hello, sizeof hello, ENET_PACKET_FLAG_RELIABLE));
    raw_wait_disconnect(&raw, server);
    cr_assert_eq(raw.disconnect_data,
                 NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_PROTOCOL_ERROR, NETCORE_ERR_MALFORMED));
    netcore_host_stats stats;
    cr_assert_eq(netcore_host_get_stats(server->host, &stats), NETCORE_OK);
    cr_assert_eq(stats.malformed_dropped, 1);
    cr_assert_eq(server->connects, 0);
    enet_host_destroy(raw.host);
    free_side(server);
}

/* A server speaking raw ENet, to drive the client's side of the protocol. */
typedef struct raw_server {
    ENetHost *host;
    ENetPeer *peer;
    uint8_t hello[64];
    size_t hello_size;
    bool disconnected;
    uint32_t disconnect_data;
} raw_server;

static netcore_address raw_server_start(raw_server *raw)
{
    ENetAddress bind = {0};
    bind.host = ENET_HOST_ANY;
    raw->host = enet_host_create(&bind, 2, 8, 0, 0);
    cr_assert_not_null(raw->host);
    ENetAddress actual;
    cr_assert_eq(enet_socket_get_address(raw->host->socket, &actual), 0);
    return netcore_address_ipv4(127, 0, 0, 1, actual.port);
}

static void raw_server_service(raw_server *raw)
{
    ENetEvent ev;
    while (enet_host_service(raw->host, &ev, 0) > 0) {
        if (ev.type == ENET_EVENT_TYPE_CONNECT)
            raw->peer = ev.peer;
        if (ev.type == ENET_EVENT_TYPE_DISCONNECT) {
            raw->disconnected = true;
            raw->disconnect_data = ev.data;
        }
        if (ev.type == ENET_EVENT_TYPE_RECEIVE) {
            if (ev.channelID == 0 && ev.packet->dataLength <= sizeof raw->hello) {
                memcpy(raw->hello, ev.packet->data, ev.packet->dataLength);
                raw->hello_size = ev.packet->dataLength;
            }
            enet_packet_destroy(ev.packet);
        }
    }
}

static void raw_server_wait_hello(raw_server *raw, side *client)
{
    uint64_t end = netcore_time_now_us() + (uint64_t)MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && raw->hello_size == 0 && netcore_time_now_us() < end; i++) {
        raw_server_service(raw);
        drain(client, 1);
    }
    cr_assert_gt(raw->hello_size, 0);
}

static void raw_send(raw_server *raw, uint8_t lane, const void *data, size_t size)
{
    ENetPacket *packet = enet_packet_create(data, size, ENET_PACKET_FLAG_RELIABLE);
    cr_assert_eq(enet_peer_send(raw->peer, lane, packet), 0);
}

static const uint8_t welcome_v1[] = {'N', 'C', 'T', 'P', 1, 0, 2};

Test(transport_enet, hello_layout_and_data_overtaking_welcome)
{
    raw_server raw = {0};
    netcore_address to = raw_server_start(&raw);
    side *client = new_side();
    netcore_host_config ccfg;
    client_config(&ccfg);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_connect_options options = {"abc", 3, 0};
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, &options, &id), NETCORE_OK);
    raw_server_wait_hello(&raw, client);
    /* The layout of docs/transport-protocol.md, byte for byte. */
    const uint8_t expected[] = {'N', 'C', 'T', 'P', 1, 0, 1, 4, 0, 1, 2, 3, 3, 0, 'a', 'b', 'c'};
    cr_assert_eq(raw.hello_size, sizeof expected);
    cr_assert_arr_eq(raw.hello, expected, sizeof expected);
    cr_assert_eq(raw.peer->channelCount, 8, "control + 1 + 4 (fan-out) + 1 + 1 lanes");
    cr_assert_eq(client->connects, 0, "no CONNECT before admission");

    /* User data on channel 0 (lane 1) before the WELCOME: implies admission. */
    uint8_t buf[40];
    fill_payload(buf, 77, sizeof buf);
    raw_send(&raw, 1, buf, sizeof buf);
    raw_send(&raw, 0, welcome_v1, sizeof welcome_v1);
    uint64_t end = netcore_time_now_us() + (uint64_t)MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && client->rx_count == 0 && netcore_time_now_us() < end; i++) {
        raw_server_service(&raw);
        drain(client, 1);
    }
    cr_assert_eq(client->connects, 1);
    cr_assert_eq(client->last_connect, id);
    cr_assert_eq(client->rx_count, 1);
    cr_assert_eq(client->rx[0].seq, 77);
    cr_assert_eq(client->rx[0].channel, 0);
    for (int i = 0; i < 20; i++) {
        raw_server_service(&raw);
        drain(client, 1);
    }
    cr_assert_eq(client->disconnects, 0, "the late WELCOME is consumed silently");
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.malformed_dropped, 0);
    cr_assert_eq(hs.pending_messages_dropped, 0);
    free_side(client);
    enet_host_destroy(raw.host);
}

Test(transport_enet, bad_welcome_is_a_protocol_error_on_the_client)
{
    raw_server raw = {0};
    netcore_address to = raw_server_start(&raw);
    side *client = new_side();
    netcore_host_config ccfg;
    client_config(&ccfg);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    raw_server_wait_hello(&raw, client);
    const uint8_t long_welcome[] = {'N', 'C', 'T', 'P', 1, 0, 2, 0};
    raw_send(&raw, 0, long_welcome, sizeof long_welcome);
    uint64_t end = netcore_time_now_us() + (uint64_t)MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && !(raw.disconnected && client->disconnects) &&
                    netcore_time_now_us() < end;
         i++) {
        raw_server_service(&raw);
        drain(client, 1);
    }
    cr_assert_eq(client->connects, 0);
    cr_assert_eq(client->disconnects, 1);
    cr_assert_eq(client->last_disconnect, id);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_PROTOCOL_ERROR);
    cr_assert(raw.disconnected);
    cr_assert_eq(raw.disconnect_data,
                 NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_PROTOCOL_ERROR, NETCORE_ERR_MALFORMED));
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.malformed_dropped, 1);
    free_side(client);
    enet_host_destroy(raw.host);
}

Test(transport_enet, stale_peer_ids_are_refused)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    ccfg.max_peers = 1; /* the next connection must reuse the slot */
    netcore_peer_id old_id = connect_pair(server, &scfg, client, &ccfg);
    netcore_peer_id old_server_id = server->last_connect;
    cr_assert_eq(netcore_host_disconnect(client->host, old_id, 0), NETCORE_OK);
    cr_assert(run_until(client, server, both_disconnected, NULL));
    netcore_address to = address_of(server);
    netcore_peer_id id = NETCORE_PEER_NONE;
    client->connects = server->connects = 0;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    cr_assert_neq(id, old_id);
    cr_assert_eq(id & 0xffffu, old_id & 0xffffu, "slot should be reused");
    cr_assert(run_until(client, server, both_connected, NULL));
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
    free_side(client);
    free_side(server);
}

Test(transport_enet, ephemeral_port_is_read_back)
{
    side *server = new_side();
    netcore_host_config scfg;
    server_config(&scfg);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address a = address_of(server);
    cr_assert_eq(a.family, NETCORE_ADDRESS_IPV4);
    cr_assert_neq(a.port, 0);
    cr_assert_eq(a.bytes[0], 127);
    /* The same port cannot be bound twice. */
    netcore_host *second = NULL;
    scfg.bind_address = a;
    cr_assert_eq(netcore_host_create(&scfg, &second), NETCORE_ERR_SOCKET);
    cr_assert_null(second);
    free_side(server);
}

Test(transport_enet, stats_count_what_was_sent)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    netcore_peer_id id = connect_pair(server, &scfg, client, &ccfg);
    uint8_t buf[100];
    for (uint32_t seq = 0; seq < 50; seq++) {
        fill_payload(buf, seq, sizeof buf);
        cr_assert_eq(netcore_host_send(client->host, id, 0, buf, sizeof buf), NETCORE_OK);
        cr_assert_eq(netcore_host_send(client->host, id, 1, buf, 10), NETCORE_OK);
    }
    uint32_t want = 100;
    cr_assert(run_until(client, server, b_received_count, &want));
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
    cr_assert_eq(cs.address.port, address_of(server).port);
    cr_assert_eq(ss.address.port, address_of(client).port);
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
        drain(client, 1);
        drain(server, 1);
    }
    cr_assert_eq(netcore_host_get_peer_stats(client->host, id, &cs), NETCORE_OK);
    cr_assert_gt(cs.traffic.out_messages_per_s, 0.0f);
    cr_assert_gt(cs.channel[3].out_bytes_per_s, 0.0f);
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_gt(hs.traffic.in_bytes_per_s, 0.0f);
    free_side(client);
    free_side(server);
}

Test(transport_enet, oversize_messages_are_refused_and_dropped)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    scfg.max_message_bytes = 4000;
    client_config(&ccfg);
    ccfg.max_message_bytes = 6000;
    netcore_peer_id id = connect_pair(server, &scfg, client, &ccfg);
    static uint8_t buf[7000];
    cr_assert_eq(netcore_host_send(client->host, id, 0, buf, 6001), NETCORE_ERR_TOO_LARGE);
    fill_payload(buf, 1, 5000);
    cr_assert_eq(netcore_host_send(client->host, id, 0, buf, 5000), NETCORE_OK);
    fill_payload(buf, 2, 4000);
    cr_assert_eq(netcore_host_send(client->host, id, 0, buf, 4000), NETCORE_OK);
    uint32_t want = 1;
    cr_assert(run_until(client, server, b_received_count, &want));
    cr_assert_eq(server->rx[0].seq, 2);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.oversize_dropped, 1);
    free_side(client);
    free_side(server);
}

Test(transport_enet, send_fails_full_when_the_remote_does_not_keep_up)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    netcore_peer_id id = connect_pair(server, &scfg, client, &ccfg);
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
    cr_assert(run_until(client, server, b_received_count, &want));
    cr_assert_eq(server->rx_total, sent);
    cr_assert_eq(netcore_host_send(client->host, id, 0, buf, sizeof buf), NETCORE_OK);
    free_side(client);
    free_side(server);
}

static bool both_clients_received(side *a, side *b, void *ctx)
{
    side **clients = ctx;
    (void)a;
    (void)b;
    return clients[0]->rx_count > 0 && clients[1]->rx_count > 0;
}

Test(transport_enet, broadcast_reaches_every_admitted_peer)
{
    side *server = new_side(), *c1 = new_side(), *c2 = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    connect_pair(server, &scfg, c1, &ccfg);
    cr_assert_eq(netcore_host_create(&ccfg, &c2->host), NETCORE_OK);
    netcore_address to = address_of(server);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(c2->host, &to, NULL, &id), NETCORE_OK);
    cr_assert(run_until(c2, server, both_connected, NULL));
    uint32_t want_connects = 2;
    for (int i = 0; i < 1000 && server->connects < want_connects; i++)
        drain(server, 1), drain(c2, 0), drain(c1, 0);
    cr_assert_eq(server->connects, 2);
    uint8_t buf[64];
    fill_payload(buf, 9, sizeof buf);
    cr_assert_eq(netcore_host_broadcast(server->host, 0, buf, sizeof buf), NETCORE_OK);
    side *clients[2] = {c1, c2};
    uint64_t end = netcore_time_now_us() + (uint64_t)MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && netcore_time_now_us() < end &&
                    !both_clients_received(NULL, NULL, clients);
         i++)
        drain(server, 1), drain(c1, 0), drain(c2, 0);
    cr_assert(both_clients_received(NULL, NULL, clients));
    cr_assert_eq(c1->rx[0].seq, 9);
    cr_assert_eq(c2->rx[0].size, sizeof buf);
    free_side(c1);
    free_side(c2);
    free_side(server);
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
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    client_config(&ccfg);
    ccfg.conditioner.enabled = true;
    ccfg.conditioner.seed = 7;
    ccfg.conditioner.inbound = impaired();
    ccfg.conditioner.outbound = impaired();
    netcore_peer_id id = connect_pair(server, &scfg, client, &ccfg);
    check_modes(client, server, id, 200, 600);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_gt(hs.conditioner_outbound.forwarded, 0);
    cr_assert_gt(hs.conditioner_outbound.dropped_loss + hs.conditioner_inbound.dropped_loss, 0);
    cr_assert_gt(hs.conditioner_outbound.duplicated + hs.conditioner_inbound.duplicated, 0);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(client->host, id, &ps), NETCORE_OK);
    cr_assert(netcore_address_equal(&ps.address, &(netcore_address){0}) == false);
    cr_assert_eq(ps.address.port, address_of(server).port, "peer address is the real server's");
    free_side(client);
    free_side(server);
}

Test(transport_enet, conditioned_server_maps_peer_addresses_back)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    scfg.conditioner.enabled = true;
    scfg.conditioner.seed = 3;
    scfg.conditioner.inbound = impaired();
    client_config(&ccfg);
    connect_pair(server, &scfg, client, &ccfg);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(server->host, server->last_connect, &ps), NETCORE_OK);
    netcore_address client_address = address_of(client);
    cr_assert_eq(ps.address.port, client_address.port);
    uint8_t buf[32];
    for (uint32_t seq = 0; seq < 50; seq++) {
        fill_payload(buf, seq, sizeof buf);
        cr_assert_eq(netcore_host_send(server->host, server->last_connect, 0, buf, sizeof buf),
                     NETCORE_OK);
    }
    uint32_t want = 50;
    cr_assert(run_until(server, client, b_received_count, &want));
    for (uint32_t k = 0; k < 50; k++)
        cr_assert_eq(client->rx[k].seq, k);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_gt(hs.conditioner_inbound.forwarded, 0);
    cr_assert_gt(hs.conditioner_outbound.forwarded, 0);
    free_side(client);
    free_side(server);
}

Test(transport_enet, total_loss_ends_in_timeout_on_both_sides)
{
    side *server = new_side(), *client = new_side();
    netcore_host_config scfg, ccfg;
    server_config(&scfg);
    scfg.timeout_ms = 600;
    scfg.ping_interval_ms = 100;
    client_config(&ccfg);
    ccfg.timeout_ms = 600;
    ccfg.ping_interval_ms = 100;
    ccfg.conditioner.enabled = true;
    netcore_peer_id id = connect_pair(server, &scfg, client, &ccfg);
    netcore_link_profile dead;
    memset(&dead, 0, sizeof dead);
    dead.loss_pct = 100.0f;
    cr_assert_eq(netcore_host_set_conditioner(client->host, &dead, &dead), NETCORE_OK);
    cr_assert(run_until(client, server, both_disconnected, NULL));
    cr_assert_eq(client->last_disconnect, id);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_TIMEOUT);
    cr_assert_eq(server->reason, NETCORE_DISCONNECT_TIMEOUT);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.timeouts, 1);
    cr_assert_eq(hs.peers_connected, 0);
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_gt(hs.conditioner_outbound.dropped_loss, 0);
    free_side(client);
    free_side(server);
}
