/* Admission and the control protocol over real ENet on loopback: channel
 * mismatch, and raw ENet peers that stay silent, send malformed HELLOs, or
 * play a server that sends data ahead of WELCOME or a bad WELCOME. The admission callback's verdicts are part
 * of the transport contract (transport_contract.c, both backends). Every
 * wait is bounded; nothing asserts on timing. */
#include <criterion/criterion.h>
#include <enet/enet.h>
#include <string.h>

#include "netcore/transport.h"
#include "transport/seal.h"
#include "transport/transport_internal.h"
#include "transport_loop.h"

static void init_netcore(void)
{
    cr_assert_eq(netcore_init(), NETCORE_OK);
}
static void fini_netcore(void)
{
    netcore_shutdown();
}
TestSuite(transport_admission, .init = init_netcore, .fini = fini_netcore, .timeout = 60);

/* Keys both ends know in these tests (a lobby draws fresh ones per player). */
static netcore_session_keys fixed_keys(void)
{
    netcore_session_keys keys;
    memset(keys.client_to_server, 0x11, sizeof keys.client_to_server);
    memset(keys.server_to_client, 0x22, sizeof keys.server_to_client);
    return keys;
}

static bool client_settled(tl_side *client, tl_side *server, void *ctx)
{
    (void)server;
    (void)ctx;
    return client->connects > 0 || client->disconnects > 0;
}

Test(transport_admission, mismatched_channels_are_rejected)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    tl_client_config(&ccfg);
    ccfg.channel_count = 3;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    cr_assert(tl_run_until(client, server, client_settled, NULL));
    cr_assert_eq(client->connects, 0);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(client->code, NETCORE_ERR_MISMATCH);
    cr_assert_eq(server->connects, 0);
    tl_free_side(client);
    tl_free_side(server);
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

static void raw_connect(raw_client *raw, tl_side *server)
{
    netcore_address to = tl_address_of(server);
    raw->host = enet_host_create(NULL, 1, 8, 0, 0);
    cr_assert_not_null(raw->host);
    ENetAddress target;
    memcpy(&target.host, to.bytes, 4);
    target.port = to.port;
    raw->peer = enet_host_connect(raw->host, &target, 8, 0);
    cr_assert_not_null(raw->peer);
    uint64_t end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && !raw->connected && netcore_time_now_us() < end; i++) {
        raw_service(raw);
        tl_drain(server, 1);
    }
    cr_assert(raw->connected);
}

static void raw_wait_disconnect(raw_client *raw, tl_side *server)
{
    uint64_t end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && !raw->disconnected && netcore_time_now_us() < end; i++) {
        raw_service(raw);
        tl_drain(server, 1);
    }
    cr_assert(raw->disconnected);
}

Test(transport_admission, silent_raw_client_is_dropped_after_admission_timeout)
{
    tl_side *server = tl_new_side();
    netcore_host_config scfg;
    tl_server_config(&scfg);
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
    tl_free_side(server);
}

Test(transport_admission, malformed_hello_is_a_protocol_error)
{
    tl_side *server = tl_new_side();
    netcore_host_config scfg;
    tl_server_config(&scfg);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    raw_client raw = {0};
    raw_connect(&raw, server);
    /* Right magic and version, HELLO type, but the token length overruns. */
    const uint8_t hello[] = {'N', 'C', 'T', 'P', 2, 0, 1, 1, 0, 0, 200, 0, 'x'};
    enet_peer_send(raw.peer, 0, enet_packet_create(hello, sizeof hello, ENET_PACKET_FLAG_RELIABLE));
    raw_wait_disconnect(&raw, server);
    cr_assert_eq(raw.disconnect_data,
                 NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_PROTOCOL_ERROR, NETCORE_ERR_MALFORMED));
    netcore_host_stats stats;
    cr_assert_eq(netcore_host_get_stats(server->host, &stats), NETCORE_OK);
    cr_assert_eq(stats.malformed_dropped, 1);
    cr_assert_eq(server->connects, 0);
    enet_host_destroy(raw.host);
    tl_free_side(server);
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

static void raw_server_wait_hello(raw_server *raw, tl_side *client)
{
    uint64_t end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && raw->hello_size == 0 && netcore_time_now_us() < end; i++) {
        raw_server_service(raw);
        tl_drain(client, 1);
    }
    cr_assert_gt(raw->hello_size, 0);
}

static void raw_send(raw_server *raw, uint8_t lane, const void *data, size_t size)
{
    ENetPacket *packet = enet_packet_create(data, size, ENET_PACKET_FLAG_RELIABLE);
    cr_assert_eq(enet_peer_send(raw->peer, lane, packet), 0);
}

static const uint8_t welcome_v2[] = {'N', 'C', 'T', 'P', 2, 0, 2};

Test(transport_admission, hello_layout_and_data_overtaking_welcome)
{
    raw_server raw = {0};
    netcore_address to = raw_server_start(&raw);
    tl_side *client = tl_new_side();
    netcore_host_config ccfg;
    tl_client_config(&ccfg);
    /* The raw server speaks the control protocol in clear. */
    ccfg.seal_disabled = true;
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_connect_options options = {"abc", 3, 0, NULL};
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, &options, &id), NETCORE_OK);
    raw_server_wait_hello(&raw, client);
    /* The layout of docs/transport-protocol.md, byte for byte. */
    const uint8_t expected[] = {'N', 'C', 'T', 'P', 2, 0, 1, 4, 0, 1, 2, 3, 0, 3, 0, 'a', 'b', 'c'};
    cr_assert_eq(raw.hello_size, sizeof expected);
    cr_assert_arr_eq(raw.hello, expected, sizeof expected);
    cr_assert_eq(raw.peer->channelCount, 8, "control + 1 + 4 (fan-out) + 1 + 1 lanes");
    cr_assert_eq(client->connects, 0, "no CONNECT before admission");

    /* User data on channel 0 (lane 1) before the WELCOME: implies admission. */
    uint8_t buf[40];
    tl_fill_payload(buf, 77, sizeof buf);
    raw_send(&raw, 1, buf, sizeof buf);
    raw_send(&raw, 0, welcome_v2, sizeof welcome_v2);
    uint64_t end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && client->rx_count == 0 && netcore_time_now_us() < end; i++) {
        raw_server_service(&raw);
        tl_drain(client, 1);
    }
    cr_assert_eq(client->connects, 1);
    cr_assert_eq(client->last_connect, id);
    cr_assert_eq(client->rx_count, 1);
    cr_assert_eq(client->rx[0].seq, 77);
    cr_assert_eq(client->rx[0].channel, 0);
    for (int i = 0; i < 20; i++) {
        raw_server_service(&raw);
        tl_drain(client, 1);
    }
    cr_assert_eq(client->disconnects, 0, "the late WELCOME is consumed silently");
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.malformed_dropped, 0);
    cr_assert_eq(hs.pending_messages_dropped, 0);
    tl_free_side(client);
    enet_host_destroy(raw.host);
}

Test(transport_admission, bad_welcome_is_a_protocol_error_on_the_client)
{
    raw_server raw = {0};
    netcore_address to = raw_server_start(&raw);
    tl_side *client = tl_new_side();
    netcore_host_config ccfg;
    tl_client_config(&ccfg);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    raw_server_wait_hello(&raw, client);
    const uint8_t long_welcome[] = {'N', 'C', 'T', 'P', 2, 0, 2, 0};
    raw_send(&raw, 0, long_welcome, sizeof long_welcome);
    uint64_t end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0;
         i < 100000 && !(raw.disconnected && client->disconnects) && netcore_time_now_us() < end;
         i++) {
        raw_server_service(&raw);
        tl_drain(client, 1);
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
    tl_free_side(client);
    enet_host_destroy(raw.host);
}

/* A raw ENet server that seals by docs/transport-protocol.md: the client
 * opens what it seals, and an unreliable datagram that arrives on a
 * reliable lane (as when an altered clear channel id moves it there) is
 * dropped and counted, while a reliable one that fails to open ends the
 * connection. */
static void raw_send_sealed(raw_server *raw, const netcore_session_keys *keys,
                            const nci_seal_lane *lane, uint64_t counter, const void *plain,
                            size_t size, enet_uint32 flags)
{
    uint8_t sealed[128];
    cr_assert_leq(size + NCI_SEAL_TAG_BYTES + NCI_SEAL_COUNTER_BYTES, sizeof sealed);
    size_t n = nci_seal(keys->server_to_client, lane, counter, plain, size, sealed);
    cr_assert_eq(enet_peer_send(raw->peer, lane->lane, enet_packet_create(sealed, n, flags)), 0);
}

static void raw_pump(raw_server *raw, tl_side *client, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        raw_server_service(raw);
        tl_drain(client, 1);
    }
}

Test(transport_admission, sealed_by_the_spec_and_unreliable_on_a_reliable_lane_is_not_fatal)
{
    raw_server raw = {0};
    netcore_address to = raw_server_start(&raw);
    tl_side *client = tl_new_side();
    netcore_host_config ccfg;
    tl_client_config(&ccfg);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_session_keys keys = fixed_keys();
    netcore_connect_options options = {"secret", 6, 0, &keys};
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, &options, &id), NETCORE_OK);
    raw_server_wait_hello(&raw, client);
    cr_assert_eq(raw.hello_size, 7u + 1u + 4u + 1u + 2u + 6u);
    cr_assert_eq(raw.hello[12], 1, "HELLO says the client seals");

    const nci_seal_lane control = {0, NCI_SEAL_CONTROL_CHANNEL, NETCORE_DELIVERY_RELIABLE_ORDERED,
                                   false};
    raw_send_sealed(&raw, &keys, &control, 0, welcome_v2, sizeof welcome_v2,
                    ENET_PACKET_FLAG_RELIABLE);
    /* Channel 3 (unreliable unordered) is lane 7, with a counter on the wire. */
    const nci_seal_lane lane7 = {7, 3, NETCORE_DELIVERY_UNRELIABLE_UNORDERED, true};
    uint8_t payload[40];
    tl_fill_payload(payload, 99, sizeof payload);
    raw_send_sealed(&raw, &keys, &lane7, 0, payload, sizeof payload, ENET_PACKET_FLAG_UNSEQUENCED);
    uint64_t end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0; i < 100000 && client->rx_count == 0 && netcore_time_now_us() < end; i++)
        raw_pump(&raw, client, 1);
    cr_assert_eq(client->connects, 1);
    cr_assert_eq(client->rx_count, 1);
    cr_assert_eq(client->rx[0].seq, 99);
    cr_assert_eq(client->rx[0].channel, 3);

    /* Garbage sent unreliably on lane 0: dropped and counted, nothing more. */
    uint8_t garbage[30];
    memset(garbage, 0xab, sizeof garbage);
    cr_assert_eq(enet_peer_send(raw.peer, 0, enet_packet_create(garbage, sizeof garbage, 0)), 0);
    raw_pump(&raw, client, 200);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.crypto_auth_rejected, 1);
    cr_assert_eq(client->disconnects, 0, "an unreliable datagram leaves no hole");

    /* The same garbage sent reliably: the stream is broken, the peer cut off. */
    raw_send(&raw, 0, garbage, sizeof garbage);
    end = netcore_time_now_us() + (uint64_t)TL_MAX_WAIT_MS * 1000u;
    for (int i = 0;
         i < 100000 && !(client->disconnects && raw.disconnected) && netcore_time_now_us() < end;
         i++)
        raw_pump(&raw, client, 1);
    cr_assert_eq(client->disconnects, 1);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_CRYPTO_FAILED);
    cr_assert_eq(client->code, NETCORE_ERR_AUTH);
    cr_assert(raw.disconnected);
    cr_assert_eq(raw.disconnect_data,
                 NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_CRYPTO_FAILED, NETCORE_ERR_AUTH));
    cr_assert_eq(netcore_host_get_stats(client->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.crypto_auth_rejected, 2);
    tl_free_side(client);
    enet_host_destroy(raw.host);
}
