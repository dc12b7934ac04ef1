/* The simulated backend through the backend seam (nci_backend_sim), without
 * the common transport layer: handshake, every lane mode, fragmentation,
 * timeouts, disconnects, queue limits and hostile datagrams. */
#include <criterion/criterion.h>
#include <string.h>

#include "transport/transport_sim_internal.h"

#define LANES 5
#define MAX_INDEX 2048
#define STEP_US 10000u

static const nci_lane_mode lane_modes[LANES] = {
    NCI_LANE_RELIABLE_ORDERED, NCI_LANE_RELIABLE_ORDERED, NCI_LANE_RELIABLE_UNORDERED,
    NCI_LANE_UNRELIABLE_SEQUENCED, NCI_LANE_UNRELIABLE_UNORDERED};

/* Everything one side saw. */
typedef struct recorder {
    uint32_t connects;
    uint32_t connect_data;
    uint32_t connect_slot;
    uint32_t disconnects;
    uint32_t disconnect_data32;
    uint32_t received[LANES];
    uint32_t corrupt;
    uint32_t out_of_order;
    uint32_t went_backwards;
    int64_t last_index[LANES];
    uint8_t seen[LANES][MAX_INDEX];
    size_t largest_bytes;
} recorder;

typedef struct side {
    void *backend;
    recorder rec;
} side;

static netcore_sim *sim;
static side server;
static side client;

static netcore_host_config make_config(bool is_server)
{
    netcore_host_config c;
    memset(&c, 0, sizeof c);
    c.is_server = is_server;
    c.bind_address.port = is_server ? 7778 : 0;
    c.max_peers = 8;
    c.channel_count = LANES - 1;
    c.mtu_bytes = 1200;
    c.max_message_bytes = 262144;
    c.ping_interval_ms = 500;
    c.timeout_ms = 10000;
    c.connect_timeout_ms = 3000;
    c.admission_timeout_ms = 2000;
    c.sim = sim;
    return c;
}

static void *make_host(const netcore_host_config *c)
{
    void *b = NULL;
    cr_assert_eq(nci_backend_sim.create(c, lane_modes, LANES, NULL, &b), NETCORE_OK);
    return b;
}

static void setup(void)
{
    netcore_sim_config sc;
    netcore_sim_config_default(&sc);
    sc.seed = 42;
    cr_assert_eq(netcore_sim_create(&sc, &sim), NETCORE_OK);
    memset(&server, 0, sizeof server);
    memset(&client, 0, sizeof client);
    netcore_host_config sc_host = make_config(true);
    netcore_host_config cc_host = make_config(false);
    server.backend = make_host(&sc_host);
    client.backend = make_host(&cc_host);
    for (int i = 0; i < LANES; i++)
        server.rec.last_index[i] = client.rec.last_index[i] = -1;
}

static void teardown(void)
{
    if (client.backend)
        nci_backend_sim.destroy(client.backend, 0);
    if (server.backend)
        nci_backend_sim.destroy(server.backend, 0);
    netcore_sim_destroy(sim);
}

/* Payload: u32 index, then bytes derived from index and position. */
static size_t make_payload(uint8_t *buf, uint32_t index, size_t size)
{
    memcpy(buf, &index, sizeof index);
    for (size_t i = sizeof index; i < size; i++)
        buf[i] = (uint8_t)(index * 31u + i * 7u);
    return size;
}

static void record(recorder *r, const nci_backend_event *ev)
{
    if (ev->type == NCI_BEV_CONNECT) {
        r->connects++;
        r->connect_data = ev->data32;
        r->connect_slot = ev->slot;
    } else if (ev->type == NCI_BEV_DISCONNECT) {
        r->disconnects++;
        r->disconnect_data32 = ev->data32;
    } else if (ev->type == NCI_BEV_RECEIVE) {
        cr_assert_lt(ev->lane, LANES);
        uint32_t index;
        if (ev->size_bytes < sizeof index) {
            r->corrupt++;
            return;
        }
        memcpy(&index, ev->data, sizeof index);
        for (size_t i = sizeof index; i < ev->size_bytes; i++)
            if (ev->data[i] != (uint8_t)(index * 31u + i * 7u)) {
                r->corrupt++;
                return;
            }
        if (ev->size_bytes > r->largest_bytes)
            r->largest_bytes = ev->size_bytes;
        uint8_t lane = ev->lane;
        if (index < MAX_INDEX)
            r->seen[lane][index]++;
        r->received[lane]++;
        if ((int64_t)index < r->last_index[lane]) {
            if (lane_modes[lane] == NCI_LANE_RELIABLE_ORDERED)
                r->out_of_order++;
            if (lane_modes[lane] == NCI_LANE_UNRELIABLE_SEQUENCED)
                r->went_backwards++;
        }
        if ((int64_t)index > r->last_index[lane])
            r->last_index[lane] = index;
    }
}

static void drain(side *s)
{
    nci_backend_event ev;
    for (int i = 0; i < 100000; i++) {
        cr_assert_eq(nci_backend_sim.service(s->backend, 0, &ev), NETCORE_OK);
        if (ev.type == NCI_BEV_NONE)
            return;
        record(&s->rec, &ev);
    }
    cr_assert_fail("service never ran dry");
}

static void run_ms(uint32_t ms)
{
    for (uint32_t t = 0; t < ms * 1000u; t += STEP_US) {
        netcore_sim_advance(sim, STEP_US);
        if (server.backend)
            drain(&server);
        if (client.backend)
            drain(&client);
    }
}

static uint32_t connect_client(uint32_t connect_data)
{
    netcore_address to;
    cr_assert_eq(nci_backend_sim.local_address(server.backend, &to), NETCORE_OK);
    uint32_t slot = 99;
    cr_assert_eq(nci_backend_sim.connect(client.backend, &to, connect_data, &slot), NETCORE_OK);
    for (int i = 0; i < 1000 && (client.rec.connects == 0 || server.rec.connects == 0); i++)
        run_ms(10);
    cr_assert_eq(client.rec.connects, 1);
    cr_assert_eq(server.rec.connects, 1);
    cr_assert_eq(client.rec.connect_slot, slot);
    return slot;
}

/* On the client's two links: each direction crosses one impaired link. */
static void impair(const netcore_link_profile *p)
{
    cr_assert_eq(nci_backend_sim.set_conditioner(client.backend, p, p), NETCORE_OK);
}

TestSuite(sim_backend, .init = setup, .fini = teardown);

Test(sim_backend, handshake_carries_connect_data_and_addresses)
{
    uint32_t slot = connect_client(0xdeadbeefu);
    cr_assert_eq(client.rec.connect_data, 0xdeadbeefu);
    cr_assert_eq(server.rec.connect_data, 0xdeadbeefu);

    netcore_address server_addr, client_addr;
    nci_backend_sim.local_address(server.backend, &server_addr);
    nci_backend_sim.local_address(client.backend, &client_addr);
    cr_assert_eq(server_addr.port, 7778, "a server keeps its bind port");
    cr_assert_neq(client_addr.port, 0, "port 0 gets an assigned port");
    cr_assert_eq(server_addr.bytes[0], 127);
    cr_assert_not(netcore_address_equal(&server_addr, &client_addr));

    nci_peer_link link;
    nci_backend_sim.peer_link(server.backend, server.rec.connect_slot, &link);
    cr_assert(netcore_address_equal(&link.address, &client_addr));
    nci_backend_sim.peer_link(client.backend, slot, &link);
    cr_assert(netcore_address_equal(&link.address, &server_addr));
}

/* Sends count messages of size bytes on every lane from the client. */
static void send_all_lanes(uint32_t slot, uint32_t count, size_t size)
{
    static uint8_t buf[262144];
    for (uint32_t i = 0; i < count; i++)
        for (uint8_t lane = 0; lane < LANES; lane++)
            cr_assert_eq(
                nci_backend_sim.send(client.backend, slot, lane, buf, make_payload(buf, i, size)),
                NETCORE_OK);
}

static void check_lane_guarantees(const recorder *r, uint32_t count)
{
    cr_assert_eq(r->corrupt, 0);
    cr_assert_eq(r->out_of_order, 0);
    cr_assert_eq(r->went_backwards, 0);
    for (uint8_t lane = 0; lane < LANES; lane++) {
        bool reliable = lane_modes[lane] <= NCI_LANE_RELIABLE_UNORDERED;
        for (uint32_t i = 0; i < count; i++) {
            if (reliable)
                cr_assert_eq(r->seen[lane][i], 1, "lane %u message %u seen %u times", lane, i,
                             r->seen[lane][i]);
            else
                cr_assert_leq(r->seen[lane][i], 1, "lane %u message %u duplicated", lane, i);
        }
    }
}

Test(sim_backend, every_lane_on_a_perfect_link)
{
    uint32_t slot = connect_client(1);
    send_all_lanes(slot, 200, 40);
    run_ms(500);
    check_lane_guarantees(&server.rec, 200);
    for (uint8_t lane = 0; lane < LANES; lane++)
        cr_assert_eq(server.rec.received[lane], 200, "lane %u", lane);
}

Test(sim_backend, every_lane_under_loss_duplication_and_reordering)
{
    uint32_t slot = connect_client(1);
    netcore_link_profile p = {.latency_ms = 80,
                              .jitter_ms = 40,
                              .loss_pct = 20.0f,
                              .duplicate_pct = 20.0f,
                              .reorder_pct = 10.0f};
    impair(&p);
    for (uint32_t round = 0; round < 10; round++) {
        static uint8_t buf[4000];
        for (uint32_t i = round * 30; i < round * 30 + 30; i++)
            for (uint8_t lane = 0; lane < LANES; lane++)
                cr_assert_eq(nci_backend_sim.send(client.backend, slot, lane, buf,
                                                  make_payload(buf, i, i % 7 == 0 ? 3000 : 20)),
                             NETCORE_OK);
        run_ms(100);
    }
    run_ms(15000);
    check_lane_guarantees(&server.rec, 300);
    cr_assert_eq(server.rec.received[0], 300);
    cr_assert_eq(server.rec.received[2], 300);
    cr_assert_gt(server.rec.received[4], 100, "most unreliable messages arrive");
    cr_assert_eq(server.rec.disconnects, 0);
    nci_sim_counters c;
    nci_backend_sim.host_stats(client.backend, &(netcore_host_stats){0});
    nci_sim_backend_counters(server.backend, &c);
    cr_assert_gt(c.duplicates_dropped, 0, "duplicates were suppressed, not delivered");
    nci_sim_backend_counters(client.backend, &c);
    cr_assert_gt(c.fragments_resent, 0);
}

Test(sim_backend, large_messages_are_fragmented_and_reassembled)
{
    uint32_t slot = connect_client(1);
    static uint8_t buf[262144];
    cr_assert_eq(nci_backend_sim.send(client.backend, slot, 1, buf, make_payload(buf, 0, 262144)),
                 NETCORE_OK);
    cr_assert_eq(nci_backend_sim.send(client.backend, slot, 2, buf, make_payload(buf, 1, 100000)),
                 NETCORE_OK);
    cr_assert_eq(nci_backend_sim.send(client.backend, slot, 4, buf, make_payload(buf, 2, 20000)),
                 NETCORE_OK);
    cr_assert_eq(nci_backend_sim.send(client.backend, slot, 1, buf, 262145), NETCORE_ERR_TOO_LARGE);
    run_ms(2000);
    cr_assert_eq(server.rec.corrupt, 0);
    cr_assert_eq(server.rec.seen[1][0], 1);
    cr_assert_eq(server.rec.seen[2][1], 1);
    cr_assert_eq(server.rec.seen[4][2], 1);
    cr_assert_eq(server.rec.largest_bytes, 262144);

    /* Again through a lossy link: reliable fragments are resent. */
    netcore_link_profile p = {.latency_ms = 30, .loss_pct = 15.0f, .duplicate_pct = 10.0f};
    impair(&p);
    cr_assert_eq(nci_backend_sim.send(client.backend, slot, 1, buf, make_payload(buf, 3, 150000)),
                 NETCORE_OK);
    run_ms(10000);
    cr_assert_eq(server.rec.seen[1][3], 1);
    cr_assert_eq(server.rec.corrupt, 0);
}

Test(sim_backend, silence_times_out_on_both_sides)
{
    connect_client(1);
    netcore_link_profile dead = {.loss_pct = 100.0f};
    cr_assert_eq(nci_backend_sim.set_conditioner(client.backend, &dead, &dead), NETCORE_OK);
    run_ms(9000);
    cr_assert_eq(client.rec.disconnects, 0, "not before timeout_ms");
    run_ms(2000);
    cr_assert_eq(client.rec.disconnects, 1);
    cr_assert_eq(client.rec.disconnect_data32, 0);
    cr_assert_eq(server.rec.disconnects, 1);
    cr_assert_eq(server.rec.disconnect_data32, 0);
}

Test(sim_backend, pings_keep_an_idle_connection_alive)
{
    uint32_t slot = connect_client(1);
    run_ms(20000);
    cr_assert_eq(client.rec.disconnects, 0);
    cr_assert_eq(server.rec.disconnects, 0);
    nci_peer_link link;
    nci_backend_sim.peer_link(client.backend, slot, &link);
    cr_assert_lt(link.rtt_ms, 50.0f);
}

Test(sim_backend, connecting_to_nobody_fails_after_the_connect_timeout)
{
    netcore_address nowhere = netcore_address_ipv4(127, 100, 200, 1, 9);
    uint32_t slot;
    cr_assert_eq(nci_backend_sim.connect(client.backend, &nowhere, 5, &slot), NETCORE_OK);
    run_ms(2500);
    cr_assert_eq(client.rec.disconnects, 0);
    run_ms(1000);
    cr_assert_eq(client.rec.disconnects, 1);
    cr_assert_eq(client.rec.disconnect_data32, 0);
    cr_assert_eq(client.rec.connects, 0);
}

Test(sim_backend, graceful_disconnect_flushes_then_notifies_both_sides)
{
    uint32_t slot = connect_client(1);
    netcore_link_profile p = {.latency_ms = 50, .loss_pct = 20.0f};
    impair(&p);
    send_all_lanes(slot, 100, 500);
    nci_backend_sim.disconnect(client.backend, slot, 0x01000007u);
    cr_assert_eq(nci_backend_sim.send(client.backend, slot, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
    run_ms(9000);
    cr_assert_eq(server.rec.received[0], 100, "queued reliable data arrives first");
    cr_assert_eq(server.rec.received[1], 100);
    cr_assert_eq(server.rec.received[2], 100);
    cr_assert_eq(server.rec.disconnects, 1);
    cr_assert_eq(server.rec.disconnect_data32, 0x01000007u);
    cr_assert_eq(client.rec.disconnects, 1);
    cr_assert_eq(client.rec.disconnect_data32, 0);
}

Test(sim_backend, disconnect_now_frees_at_once_and_tells_the_remote)
{
    uint32_t slot = connect_client(1);
    nci_backend_sim.disconnect_now(client.backend, slot, 0x02000003u);
    cr_assert_eq(nci_backend_sim.send(client.backend, slot, 0, "x", 1), NETCORE_ERR_NOT_CONNECTED);
    run_ms(200);
    cr_assert_eq(client.rec.disconnects, 0, "no local event");
    cr_assert_eq(server.rec.disconnects, 1);
    cr_assert_eq(server.rec.disconnect_data32, 0x02000003u);
}

Test(sim_backend, destroy_notifies_every_peer)
{
    connect_client(1);
    nci_backend_sim.destroy(server.backend, 0x07000000u);
    server.backend = NULL;
    run_ms(200);
    cr_assert_eq(client.rec.disconnects, 1);
    cr_assert_eq(client.rec.disconnect_data32, 0x07000000u);
}

Test(sim_backend, send_queue_is_bounded)
{
    uint32_t slot = connect_client(1);
    netcore_link_profile dead = {.loss_pct = 100.0f};
    nci_backend_sim.set_conditioner(client.backend, &dead, &dead);
    static uint8_t buf[10000];
    netcore_result r = NETCORE_OK;
    uint32_t sent = 0;
    for (; sent < 100000 && r == NETCORE_OK; sent++) {
        r = nci_backend_sim.send(client.backend, slot, 0, buf, make_payload(buf, sent, 10000));
        if (sent % 50 == 0)
            run_ms(10);
    }
    cr_assert_eq(r, NETCORE_ERR_FULL);
    cr_assert_lt(sent, 1000, "the queue holds about two maximum messages");
}

Test(sim_backend, mismatched_lanes_are_refused)
{
    netcore_host_config c = make_config(false);
    void *other = NULL;
    cr_assert_eq(nci_backend_sim.create(&c, lane_modes, LANES - 1, NULL, &other), NETCORE_OK);
    netcore_address to;
    nci_backend_sim.local_address(server.backend, &to);
    uint32_t slot;
    cr_assert_eq(nci_backend_sim.connect(other, &to, 0, &slot), NETCORE_OK);
    nci_backend_event ev = {0};
    for (int i = 0; i < 100 && ev.type == NCI_BEV_NONE; i++) {
        netcore_sim_advance(sim, STEP_US);
        drain(&server);
        nci_backend_sim.service(other, 0, &ev);
    }
    cr_assert_eq(ev.type, NCI_BEV_DISCONNECT);
    cr_assert_eq(NCI_DISCONNECT_REASON(ev.data32), NETCORE_DISCONNECT_PROTOCOL_ERROR);
    cr_assert_eq(server.rec.connects, 0);
    nci_backend_sim.destroy(other, 0);
}

/* A well-formed DATA header for the server's peer at slot 0 from the client. */
static size_t data_header(uint8_t *buf, uint16_t dest, uint32_t session)
{
    nci_sim_write_header(buf, NCI_SIM_DATA, dest, 0, session);
    buf[10] = NCI_SIM_FLAG_SEQ;
    memset(buf + 11, 0, 8);
    return NCI_SIM_DATA_HEADER_BYTES;
}

Test(sim_backend, malformed_datagrams_are_counted_and_harmless)
{
    uint32_t slot = connect_client(1);
    netcore_address from;
    nci_backend_sim.local_address(client.backend, &from);
    nci_sim_host *sh = server.backend;
    nci_sim_host *ch = client.backend;
    uint32_t session = ch->peers[slot].session;

    uint8_t buf[1500];
    nci_sim_counters before, after;
    nci_sim_backend_counters(server.backend, &before);
    uint32_t malformed = 0;

    /* Random bytes with our protocol id. */
    nci_rng rng;
    nci_rng_seed(&rng, 7);
    for (int i = 0; i < 500; i++) {
        size_t n = nci_rng_below(&rng, 1300);
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)nci_rng_next(&rng);
        if (n > 0)
            buf[0] = NCI_SIM_PROTOCOL_ID;
        if (n > 1)
            buf[1] = (uint8_t)(1 + nci_rng_below(&rng, 5));
        nci_sim_backend_inject(server.backend, &from, buf, n);
    }
    /* Crafted: right session and slot, broken chunks. */
    size_t h = data_header(buf, 0, session);
    buf[h] = NCI_SIM_CHUNK_MESSAGE; /* truncated chunk header */
    nci_sim_backend_inject(server.backend, &from, buf, h + 3);
    malformed++;
    buf[h] = NCI_SIM_CHUNK_MESSAGE;
    buf[h + 1] = 0;
    buf[h + 4] = 0xff; /* length beyond the datagram */
    buf[h + 5] = 0x00;
    nci_sim_backend_inject(server.backend, &from, buf, h + 10);
    malformed++;
    buf[h + 1] = LANES; /* lane out of range */
    buf[h + 4] = 0;
    nci_sim_backend_inject(server.backend, &from, buf, h + 6);
    malformed++;
    buf[h] = NCI_SIM_CHUNK_FRAGMENT; /* fragment index beyond count */
    buf[h + 1] = 1;
    memset(buf + h + 2, 0, 12);
    buf[h + 4] = 5;
    buf[h + 6] = 2;
    buf[h + 8] = 100;
    nci_sim_backend_inject(server.backend, &from, buf, h + 14);
    malformed++;
    buf[h] = 0x77; /* unknown chunk kind */
    nci_sim_backend_inject(server.backend, &from, buf, h + 1);
    malformed++;
    memset(buf, 0, 2000 > sizeof buf ? sizeof buf : 2000);
    nci_sim_backend_inject(server.backend, &from, buf, 1300); /* above the mtu */
    malformed++;

    run_ms(100);
    nci_sim_backend_counters(server.backend, &after);
    cr_assert_geq(after.malformed_dropped - before.malformed_dropped, malformed);
    cr_assert_eq(server.rec.received[0] + server.rec.received[1] + server.rec.received[2] +
                     server.rec.received[3] + server.rec.received[4],
                 0, "nothing malformed was delivered");
    cr_assert_eq(server.rec.connects, 1, "random CONNECTs carry no valid lanes");
    cr_assert_eq(server.rec.disconnects, 0);

    /* The connection still works. */
    send_all_lanes(slot, 10, 30);
    run_ms(300);
    check_lane_guarantees(&server.rec, 10);
    cr_assert_eq(server.rec.received[0], 10);
    (void)sh;
}

Test(sim_backend, same_seed_same_trace)
{
    /* Two identical worlds driven identically end in identical counters. */
    netcore_host_stats a[2];
    for (int run = 0; run < 2; run++) {
        if (run == 1) {
            teardown();
            setup();
        }
        uint32_t slot = connect_client(1);
        netcore_link_profile p = {
            .latency_ms = 40, .jitter_ms = 30, .loss_pct = 10.0f, .duplicate_pct = 10.0f};
        impair(&p);
        send_all_lanes(slot, 50, 900);
        run_ms(3000);
        memset(&a[run], 0, sizeof a[run]);
        nci_backend_sim.host_stats(server.backend, &a[run]);
    }
    cr_assert_eq(memcmp(&a[0], &a[1], sizeof a[0]), 0);
    cr_assert_gt(a[0].datagrams_received, 0);
}

Test(sim_backend, sequence_numbers_survive_wraparound, .timeout = 60)
{
    /* More than 65536 messages and datagrams: both sequence spaces wrap. */
    uint32_t slot = connect_client(1);
    static uint8_t buf[700];
    uint32_t total = 0;
    for (uint32_t round = 0; round < 700; round++) {
        for (uint32_t i = 0; i < 200; i++, total++) {
            uint8_t lane = i % 2 == 0 ? 0 : 3;
            cr_assert_eq(nci_backend_sim.send(client.backend, slot, lane, buf,
                                              make_payload(buf, total, 600)),
                         NETCORE_OK);
        }
        run_ms(10);
    }
    run_ms(500);
    cr_assert_eq(server.rec.corrupt, 0);
    cr_assert_eq(server.rec.out_of_order, 0);
    cr_assert_eq(server.rec.went_backwards, 0);
    cr_assert_eq(server.rec.received[0], total / 2, "every reliable message, once, in order");
    cr_assert_eq(server.rec.received[3], total / 2, "a perfect link loses nothing");
    nci_sim_host *ch = client.backend;
    cr_assert_gt(total / 2, 65536u);
    cr_assert_gt(ch->datagrams_sent, 2u * 65536u, "the datagram seq wrapped too");
}

Test(sim_backend, incomplete_unreliable_messages_expire)
{
    uint32_t slot = connect_client(1);
    netcore_address from;
    nci_backend_sim.local_address(client.backend, &from);
    nci_sim_host *ch = client.backend;
    uint8_t buf[200];
    memset(buf, 0, sizeof buf);
    size_t h = data_header(buf, 0, ch->peers[slot].session);
    uint8_t *c = buf + h;
    c[0] = NCI_SIM_CHUNK_FRAGMENT;
    c[1] = 4;                    /* unreliable unordered */
    nci_sim_put_u16(c + 2, 5);   /* message seq */
    nci_sim_put_u16(c + 4, 0);   /* index */
    nci_sim_put_u16(c + 6, 2);   /* count */
    nci_sim_put_u32(c + 8, 100); /* total */
    nci_sim_put_u16(c + 12, 50); /* length */
    nci_sim_backend_inject(server.backend, &from, buf, h + NCI_SIM_FRAGMENT_CHUNK_BYTES + 50);
    run_ms(100);
    nci_sim_counters counters;
    nci_sim_backend_counters(server.backend, &counters);
    cr_assert_eq(counters.malformed_dropped, 0, "a well-formed fragment");
    cr_assert_eq(counters.assemblies_expired, 0);
    run_ms(NCI_SIM_ASSEMBLY_TIMEOUT_US / 1000);
    nci_sim_backend_counters(server.backend, &counters);
    cr_assert_eq(counters.assemblies_expired, 1);
    cr_assert_eq(server.rec.received[4], 0);
}

/* Appends a MESSAGE chunk; returns the new length. */
static size_t put_message_chunk(uint8_t *buf, size_t at, uint8_t lane, uint16_t seq, size_t len)
{
    buf[at] = NCI_SIM_CHUNK_MESSAGE;
    buf[at + 1] = lane;
    nci_sim_put_u16(buf + at + 2, seq);
    nci_sim_put_u16(buf + at + 4, (uint16_t)len);
    memset(buf + at + NCI_SIM_MESSAGE_CHUNK_BYTES, 0x5a, len);
    return at + NCI_SIM_MESSAGE_CHUNK_BYTES + len;
}

Test(sim_backend, mutated_traffic_is_survived, .timeout = 60)
{
    /* Well-formed datagrams of the live connection with random bytes
     * changed: whatever passes validation may deliver junk, nothing may
     * crash, leak or read out of bounds (the sanitizers watch). */
    uint32_t slot = connect_client(1);
    netcore_address from;
    nci_backend_sim.local_address(client.backend, &from);
    nci_sim_host *ch = client.backend;
    uint32_t session = ch->peers[slot].session;
    nci_rng rng;
    nci_rng_seed(&rng, 99);
    uint8_t tmpl[1200], buf[1200];
    for (int i = 0; i < 3000; i++) {
        size_t n = data_header(tmpl, 0, session);
        nci_sim_put_u16(tmpl + 11, (uint16_t)i);
        tmpl[10] |= NCI_SIM_FLAG_ACK;
        tmpl[n++] = NCI_SIM_CHUNK_PING;
        n = put_message_chunk(tmpl, n, (uint8_t)(i % LANES), (uint16_t)(i / 3), 20);
        uint8_t *c = tmpl + n;
        c[0] = NCI_SIM_CHUNK_FRAGMENT;
        c[1] = (uint8_t)((i + 1) % LANES);
        nci_sim_put_u16(c + 2, (uint16_t)(i / 5));
        nci_sim_put_u16(c + 4, (uint16_t)(i % 3));
        nci_sim_put_u16(c + 6, 3);
        nci_sim_put_u32(c + 8, 300);
        nci_sim_put_u16(c + 12, 100);
        n += NCI_SIM_FRAGMENT_CHUNK_BYTES + 100;
        memcpy(buf, tmpl, n);
        uint32_t flips = 1 + nci_rng_below(&rng, 4);
        for (uint32_t f = 0; f < flips; f++)
            buf[NCI_SIM_HEADER_BYTES + nci_rng_below(&rng, (uint32_t)(n - NCI_SIM_HEADER_BYTES))] =
                (uint8_t)nci_rng_next(&rng);
        size_t len = nci_rng_below(&rng, 8) == 0 ? nci_rng_below(&rng, (uint32_t)n) : n;
        nci_sim_backend_inject(server.backend, &from, buf, len);
        if (i % 50 == 0)
            run_ms(10);
    }
    run_ms(4000);
    nci_sim_counters counters;
    nci_sim_backend_counters(server.backend, &counters);
    cr_assert_gt(counters.malformed_dropped, 100);
    cr_assert_gt(counters.duplicates_dropped + counters.assemblies_expired, 0);
    netcore_host_stats st = {0};
    nci_backend_sim.host_stats(server.backend, &st);
    cr_assert_geq(st.datagrams_received, 3000);
}
