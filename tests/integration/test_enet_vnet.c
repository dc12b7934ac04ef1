/* Real ENet (Debian's libenet.so, the protocol netcore ships) over the
 * datagram-level simulated network of tests/support/enet_vnet.c: virtual time,
 * seeded impairments, no sockets, no sleeping. Evidence for the question in
 * docs/transport-protocol.md: can deterministic tests run the protocol that
 * ships instead of a second one? */
#include <criterion/criterion.h>
#include <enet/enet.h>
#include <string.h>

#include "enet_vnet.h"

#define MESSAGES 300u
#define SERVER_PORT 7000u
#define VIRTUAL_LIMIT_MS 600000u

typedef struct run_result {
    uint32_t delivered;      /* reliable messages the server received */
    bool in_order;           /* each one was the next expected */
    uint32_t finished_ms;    /* virtual time when the last one arrived */
    uint64_t trace_hash;     /* (time, payload) of every delivery, FNV-1a */
    enet_vnet_stats network; /* what the virtual network carried */
} run_result;

static uint64_t fnv1a(uint64_t hash, const void *data, size_t size)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < size; i++) {
        hash ^= p[i];
        hash *= 1099511628211u;
    }
    return hash;
}

static void service(ENetHost *host, run_result *result, uint32_t *next_expected)
{
    ENetEvent event;
    while (enet_host_service(host, &event, 0) > 0) {
        if (event.type != ENET_EVENT_TYPE_RECEIVE)
            continue;
        uint32_t value;
        cr_assert_eq(event.packet->dataLength, sizeof value);
        memcpy(&value, event.packet->data, sizeof value);
        if (value != *next_expected)
            result->in_order = false;
        *next_expected = value + 1;
        result->delivered++;
        uint32_t now = enet_vnet_now_ms();
        result->trace_hash = fnv1a(result->trace_hash, &now, sizeof now);
        result->trace_hash = fnv1a(result->trace_hash, &value, sizeof value);
        result->finished_ms = now;
        enet_packet_destroy(event.packet);
    }
}

/* A client sends MESSAGES reliable messages to a server through links with
 * the given impairments; both are serviced every virtual millisecond. */
static run_result run(uint64_t seed, const netcore_link_profile *profile)
{
    run_result result = {.in_order = true, .trace_hash = 14695981039346656037u};
    cr_assert(enet_vnet_begin(seed, 1000, profile));
    ENetAddress bind = {.host = ENET_HOST_ANY, .port = SERVER_PORT};
    ENetHost *server = enet_host_create(&bind, 4, 1, 0, 0);
    ENetHost *client = enet_host_create(NULL, 1, 1, 0, 0);
    cr_assert(server && client);
    ENetAddress to = {.port = SERVER_PORT};
    enet_address_set_host_ip(&to, "127.0.0.1");
    ENetPeer *peer = enet_host_connect(client, &to, 1, 0);
    cr_assert_not_null(peer);

    uint32_t sent = 0, next_expected = 0;
    for (uint32_t t = 0; t < VIRTUAL_LIMIT_MS && result.delivered < MESSAGES; t++) {
        ENetEvent event;
        while (enet_host_service(client, &event, 0) > 0) {
        }
        if (peer->state == ENET_PEER_STATE_CONNECTED && sent < MESSAGES && t % 5 == 0) {
            ENetPacket *packet = enet_packet_create(&sent, sizeof sent, ENET_PACKET_FLAG_RELIABLE);
            cr_assert_eq(enet_peer_send(peer, 0, packet), 0);
            sent++;
        }
        enet_host_flush(client);
        service(server, &result, &next_expected);
        enet_vnet_advance_ms(1);
    }
    enet_vnet_get_stats(&result.network);
    enet_host_destroy(client);
    enet_host_destroy(server);
    enet_vnet_end();
    return result;
}

static netcore_link_profile harsh(void)
{
    netcore_link_profile p = {0};
    p.latency_ms = 100;
    p.jitter_ms = 20;
    p.loss_pct = 25.0f;
    p.duplicate_pct = 10.0f;
    return p;
}

static void setup(void)
{
    cr_assert_eq(enet_initialize(), 0);
}

TestSuite(enet_vnet, .init = setup, .fini = enet_deinitialize);

Test(enet_vnet, real_enet_delivers_every_reliable_message_in_order_under_loss_in_virtual_time)
{
    netcore_link_profile p = harsh();
    run_result r = run(7, &p);
    cr_log_info("%u messages by virtual %u ms; %llu datagrams sent, %llu dropped", r.delivered,
                r.finished_ms - 1000u, (unsigned long long)r.network.datagrams_sent,
                (unsigned long long)r.network.datagrams_dropped);
    cr_expect_eq(r.delivered, MESSAGES);
    cr_expect(r.in_order);
    cr_expect_gt(r.network.datagrams_dropped, 0,
                 "the links dropped nothing: no loss was simulated");
    cr_expect_geq(r.finished_ms, 1000u + 100u, "delivery took less than one latency");
}

Test(enet_vnet, the_same_seed_gives_the_same_run_and_another_seed_another)
{
    netcore_link_profile p = harsh();
    run_result a = run(11, &p);
    run_result b = run(11, &p);
    run_result c = run(12, &p);
    cr_expect_eq(a.delivered, MESSAGES);
    cr_expect_eq(a.trace_hash, b.trace_hash, "same seed, different deliveries");
    cr_expect_eq(a.network.datagrams_sent, b.network.datagrams_sent);
    cr_expect_neq(a.trace_hash, c.trace_hash, "another seed changed nothing");
}

Test(enet_vnet, a_perfect_link_delivers_in_virtual_time_without_loss)
{
    run_result r = run(3, NULL);
    cr_expect_eq(r.delivered, MESSAGES);
    cr_expect(r.in_order);
    cr_expect_eq(r.network.datagrams_dropped, 0);
}
