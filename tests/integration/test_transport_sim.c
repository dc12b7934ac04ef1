/* What only the simulated backend has: the peer-review impairment standard
 * (1000 ms, 25 % loss and duplication) in virtual time with its RTT and loss
 * estimates, link statistics over 30 s of virtual traffic, a bare backend
 * peer below the common layer, and determinism (same seed, same trace).
 * What every backend promises is in transport_contract.c, run over this
 * backend as test_transport_contract_sim. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/transport.h"
#include "transport/transport_sim_internal.h"
#include "transport_loop.h"

#define CHANNELS 4
#define MAX_INDEX 512
#define MAX_HOSTS 40
#define STEP_US 10000u

/* What one host saw from its (single) peer. */
typedef struct recorder {
    uint32_t connects;
    uint32_t disconnects;
    netcore_disconnect_reason reason;
    uint32_t code;
    netcore_peer_id last_connect;
    uint32_t received[CHANNELS];
    uint8_t seen[CHANNELS][MAX_INDEX];
    int32_t last_index[CHANNELS];
    uint32_t corrupt;
    uint32_t out_of_order;   /* reliable-ordered went backwards */
    uint32_t went_backwards; /* unreliable-sequenced went backwards */
} recorder;

/* Event trace for determinism checks: fixed-size records. */
typedef struct trace_record {
    uint64_t time_us;
    uint32_t host;
    uint32_t type;
    uint32_t peer;
    uint32_t channel;
    uint32_t size_bytes;
    uint32_t data_hash;
    uint32_t reason;
    uint32_t code;
} trace_record;

#define TRACE_CAPACITY 200000
static trace_record *trace;
static size_t trace_count;

static netcore_sim *sim;
static netcore_host *hosts[MAX_HOSTS];
static recorder recs[MAX_HOSTS];
static uint32_t host_count;

/* Set by make_pair: host 0 admits with session keys, so clients present them. */
static bool server_seals;

static void init_sim(uint64_t seed)
{
    netcore_sim_config sc;
    netcore_sim_config_default(&sc);
    sc.seed = seed;
    cr_assert_eq(netcore_sim_create(&sc, &sim), NETCORE_OK);
    host_count = 0;
    server_seals = false;
    memset(recs, 0, sizeof recs);
    for (uint32_t h = 0; h < MAX_HOSTS; h++)
        for (uint32_t c = 0; c < CHANNELS; c++)
            recs[h].last_index[c] = -1;
    trace_count = 0;
}

static void fini_sim(void)
{
    for (uint32_t h = 0; h < host_count; h++)
        netcore_host_destroy(hosts[h]);
    host_count = 0;
    netcore_sim_destroy(sim);
    sim = NULL;
    free(trace);
    trace = NULL;
}

static netcore_host_config base_config(bool is_server)
{
    netcore_host_config c;
    netcore_host_config_default(&c);
    c.is_server = is_server;
    c.sim = sim;
    if (is_server) {
        c.bind_address.port = 7778;
        c.max_peers = 64;
    }
    return c;
}

static uint32_t add_host(const netcore_host_config *c)
{
    cr_assert_lt(host_count, MAX_HOSTS);
    cr_assert_eq(netcore_host_create(c, &hosts[host_count]), NETCORE_OK);
    return host_count++;
}

static netcore_peer_id connect_to(uint32_t client, uint32_t server)
{
    netcore_address to;
    cr_assert_eq(netcore_host_address(hosts[server], &to), NETCORE_OK);
    netcore_session_keys keys = tl_session_keys();
    netcore_connect_options options = tl_sealed_options(&keys);
    bool sealed = server == 0 && server_seals;
    netcore_peer_id peer = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(hosts[client], &to, sealed ? &options : NULL, &peer),
                 NETCORE_OK);
    return peer;
}

static uint32_t fnv1a(const uint8_t *data, size_t size)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    return h;
}

/* Payload: u32 index, then bytes derived from the index. */
static size_t make_payload(uint8_t *buf, uint32_t index, size_t size)
{
    memcpy(buf, &index, sizeof index);
    for (size_t i = sizeof index; i < size; i++)
        buf[i] = (uint8_t)(index * 13u + i * 5u);
    return size;
}

static void record(uint32_t h, const netcore_event *ev)
{
    recorder *r = &recs[h];
    if (trace && trace_count < TRACE_CAPACITY) {
        trace_record *t = &trace[trace_count++];
        memset(t, 0, sizeof *t);
        t->time_us = netcore_sim_now_us(sim);
        t->host = h;
        t->type = ev->type;
        t->peer = ev->peer;
        t->channel = ev->channel;
        t->size_bytes = (uint32_t)ev->size_bytes;
        t->data_hash = ev->type == NETCORE_EVENT_RECEIVE ? fnv1a(ev->data, ev->size_bytes) : 0;
        t->reason = ev->reason;
        t->code = ev->code;
    }
    if (ev->type == NETCORE_EVENT_CONNECT) {
        r->connects++;
        r->last_connect = ev->peer;
        return;
    }
    if (ev->type == NETCORE_EVENT_DISCONNECT) {
        r->disconnects++;
        r->reason = ev->reason;
        r->code = ev->code;
        return;
    }
    uint32_t index;
    cr_assert_lt(ev->channel, CHANNELS);
    if (ev->size_bytes < sizeof index) {
        r->corrupt++;
        return;
    }
    memcpy(&index, ev->data, sizeof index);
    for (size_t i = sizeof index; i < ev->size_bytes; i++)
        if (ev->data[i] != (uint8_t)(index * 13u + i * 5u)) {
            r->corrupt++;
            return;
        }
    if (index >= MAX_INDEX) {
        r->corrupt++;
        return;
    }
    uint8_t ch = ev->channel;
    if ((int32_t)index < r->last_index[ch]) {
        if (ch == NETCORE_DELIVERY_RELIABLE_ORDERED)
            r->out_of_order++;
        if (ch == NETCORE_DELIVERY_UNRELIABLE_SEQUENCED)
            r->went_backwards++;
    }
    if ((int32_t)index > r->last_index[ch])
        r->last_index[ch] = (int32_t)index;
    if (r->seen[ch][index] < UINT8_MAX)
        r->seen[ch][index]++;
    r->received[ch]++;
}

static void poll_host(uint32_t h)
{
    netcore_event ev;
    for (int i = 0; i < 100000; i++) {
        cr_assert_eq(netcore_host_poll(hosts[h], 0, &ev), NETCORE_OK);
        if (ev.type == NETCORE_EVENT_NONE)
            return;
        record(h, &ev);
    }
    cr_assert_fail("poll never ran dry");
}

static void step(void)
{
    netcore_sim_advance(sim, STEP_US);
    for (uint32_t h = 0; h < host_count; h++)
        if (hosts[h])
            poll_host(h);
}

static void run_ms(uint32_t ms)
{
    for (uint32_t t = 0; t < ms * 1000u; t += STEP_US)
        step();
}

/* Steps until done() or max_ms of simulated time; returns done(). */
static bool run_until(bool (*done)(void), uint32_t max_ms)
{
    for (uint32_t t = 0; t < max_ms * 1000u && !done(); t += STEP_US)
        step();
    return done();
}

static bool pair_connected(void)
{
    return recs[0].connects == 1 && recs[1].connects == 1;
}

/* Host 0 is the server, host 1 the client. */
static netcore_peer_id make_pair(const netcore_link_profile *client_profile)
{
    netcore_host_config sc = base_config(true);
    netcore_host_config cc = base_config(false);
    sc.connect_timeout_ms = cc.connect_timeout_ms = 60000;
    sc.admission_timeout_ms = cc.admission_timeout_ms = 60000;
    if (client_profile) {
        cc.conditioner.inbound = *client_profile;
        cc.conditioner.outbound = *client_profile;
    }
    /* Admitted with session keys, as every real pair is: sealed. */
    sc.admission = tl_admit_sealed;
    add_host(&sc);
    add_host(&cc);
    server_seals = true;
    netcore_peer_id peer = connect_to(1, 0);
    cr_assert(run_until(pair_connected, 60000), "the pair connects");
    cr_assert_eq(recs[1].last_connect, peer);
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(hosts[1], peer, &ps), NETCORE_OK);
    cr_assert(ps.sealed);
    return peer;
}

static void check_guarantees(const recorder *r, uint32_t count)
{
    cr_assert_eq(r->corrupt, 0);
    cr_assert_eq(r->out_of_order, 0, "reliable-ordered kept its order");
    cr_assert_eq(r->went_backwards, 0, "unreliable-sequenced never went backwards");
    for (uint32_t i = 0; i < count; i++) {
        cr_assert_eq(r->seen[0][i], 1, "reliable-ordered #%u seen %u times", i, r->seen[0][i]);
        cr_assert_eq(r->seen[1][i], 1, "reliable-unordered #%u seen %u times", i, r->seen[1][i]);
        cr_assert_leq(r->seen[2][i], 1, "unreliable-sequenced #%u duplicated", i);
        cr_assert_leq(r->seen[3][i], 1, "unreliable-unordered #%u duplicated", i);
    }
}

static uint32_t messages_target;
static bool reliable_complete(void)
{
    return recs[0].received[0] >= messages_target && recs[0].received[1] >= messages_target &&
           recs[1].received[0] >= messages_target && recs[1].received[1] >= messages_target;
}

Test(transport_sim, every_mode_keeps_its_promise_under_heavy_impairment, .timeout = 120)
{
    init_sim(7);
    /* On the client's links only, so each direction crosses one impaired link. */
    netcore_link_profile bad = {
        .latency_ms = 1000, .jitter_ms = 100, .loss_pct = 25.0f, .duplicate_pct = 25.0f};
    netcore_peer_id to_server = make_pair(&bad);
    netcore_peer_id to_client = recs[0].last_connect;

    static uint8_t buf[6000];
    messages_target = 300;
    for (uint32_t i = 0; i < messages_target; i++) {
        size_t size = i % 10 == 0 ? 5000 : 16 + i % 200;
        for (uint8_t ch = 0; ch < CHANNELS; ch++) {
            cr_assert_eq(
                netcore_host_send(hosts[1], to_server, ch, buf, make_payload(buf, i, size)),
                NETCORE_OK);
            cr_assert_eq(
                netcore_host_send(hosts[0], to_client, ch, buf, make_payload(buf, i, size)),
                NETCORE_OK);
        }
        if (i % 10 == 9)
            run_ms(50);
    }
    cr_assert(run_until(reliable_complete, 300000), "reliable messages all arrive: %u %u %u %u",
              recs[0].received[0], recs[0].received[1], recs[1].received[0], recs[1].received[1]);
    run_ms(5000); /* any late duplicate would show now */
    for (uint32_t h = 0; h < 2; h++) {
        check_guarantees(&recs[h], messages_target);
        cr_assert_eq(recs[h].received[0], messages_target);
        cr_assert_eq(recs[h].received[1], messages_target);
        cr_assert_gt(recs[h].received[3], messages_target / 4, "many unreliable messages arrive");
        cr_assert_lt(recs[h].received[3], messages_target);
        cr_assert_eq(recs[h].disconnects, 0);
    }
    /* One impaired link each way: RTT ~2000 ms, ~25% of datagrams lost. */
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(hosts[1], to_server, &ps), NETCORE_OK);
    cr_assert(ps.rtt_ms > 1600.0f && ps.rtt_ms < 2800.0f, "rtt %.1f ms", (double)ps.rtt_ms);
    cr_assert(ps.loss_pct > 10.0f && ps.loss_pct < 40.0f, "loss %.1f%%", (double)ps.loss_pct);
    netcore_host_stats st;
    cr_assert_eq(netcore_host_get_stats(hosts[1], &st), NETCORE_OK);
    cr_assert_gt(st.conditioner_outbound.dropped_loss, 0);
    cr_assert_gt(st.conditioner_outbound.duplicated, 0);
    cr_assert_gt(st.conditioner_inbound.dropped_loss, 0);
    /* Sealed all along, and no byte was altered: nothing failed to open. */
    cr_assert_eq(st.peers_sealed, 1);
    cr_assert_eq(st.crypto_auth_rejected, 0);
    cr_assert_eq(netcore_host_get_stats(hosts[0], &st), NETCORE_OK);
    cr_assert_eq(st.peers_sealed, 1);
    cr_assert_eq(st.crypto_auth_rejected, 0);
    fini_sim();
}

static netcore_result reject_all(void *user, netcore_peer_id peer, const netcore_address *from,
                                 const void *token, size_t token_size_bytes,
                                 netcore_admission_grant *grant)
{
    (void)grant;
    (void)user;
    (void)peer;
    (void)from;
    (void)token;
    (void)token_size_bytes;
    return NETCORE_ERR_AUTH;
}

/* The simulated backend's own peer, below the common layer, completes the
 * backend handshake and then never says HELLO (ENet's twin with a raw ENet
 * peer is in test_transport_enet_admission.c). */
Test(transport_sim, a_bare_backend_peer_is_dropped_after_admission_timeout)
{
    init_sim(8);
    netcore_host_config sc = base_config(true);
    sc.admission = reject_all;
    sc.admission_timeout_ms = 1000;
    add_host(&sc);

    /* The host's layout: control, channel 0, four lanes for the
     * reliable-unordered channel 1 (as on ENet), channels 2 and 3. */
    static const nci_lane_mode modes[8] = {
        NCI_LANE_RELIABLE_ORDERED,     NCI_LANE_RELIABLE_ORDERED,    NCI_LANE_RELIABLE_ORDERED,
        NCI_LANE_RELIABLE_ORDERED,     NCI_LANE_RELIABLE_ORDERED,    NCI_LANE_RELIABLE_ORDERED,
        NCI_LANE_UNRELIABLE_SEQUENCED, NCI_LANE_UNRELIABLE_UNORDERED};
    netcore_host_config bc = base_config(false);
    void *bare = NULL;
    cr_assert_eq(nci_backend_sim.create(&bc, modes, 8, NULL, &bare), NETCORE_OK);
    netcore_address to;
    netcore_host_address(hosts[0], &to);
    uint32_t slot;
    cr_assert_eq(nci_backend_sim.connect(bare, &to, 0, &slot), NETCORE_OK);
    nci_backend_event ev;
    uint32_t connects = 0, disconnects = 0, data32 = 0;
    for (int i = 0; i < 300; i++) {
        step();
        for (int k = 0; k < 100; k++) {
            nci_backend_sim.service(bare, 0, &ev);
            if (ev.type == NCI_BEV_NONE)
                break;
            connects += ev.type == NCI_BEV_CONNECT;
            if (ev.type == NCI_BEV_DISCONNECT) {
                disconnects++;
                data32 = ev.data32;
            }
        }
    }
    cr_assert_eq(connects, 1);
    cr_assert_eq(disconnects, 1, "dropped after admission_timeout_ms");
    /* The common layer tells a peer dropped while pending that it was refused for time. */
    cr_assert_eq(NCI_DISCONNECT_REASON(data32), NETCORE_DISCONNECT_REJECTED, "data32 %08x", data32);
    cr_assert_eq(NCI_DISCONNECT_CODE(data32), NETCORE_ERR_TIMEOUT);
    netcore_host_stats st;
    netcore_host_get_stats(hosts[0], &st);
    cr_assert_eq(st.admission_rejected, 0, "never asked: it presented nothing");
    cr_assert_eq(st.admission_timed_out, 1);
    cr_assert_eq(st.peers_pending, 0);
    nci_backend_sim.destroy(bare, 0);
    fini_sim();
}

Test(transport_sim, stats_match_the_configured_link)
{
    init_sim(9);
    /* 100 ms each way on the client's links: RTT 200 ms. 20% loss on what
     * the client sends only, so the client's loss estimate should be ~20%. */
    netcore_link_profile in = {.latency_ms = 100};
    netcore_link_profile out = {.latency_ms = 100, .loss_pct = 20.0f};
    netcore_host_config sc = base_config(true);
    netcore_host_config cc = base_config(false);
    cc.conditioner.inbound = in;
    cc.conditioner.outbound = out;
    add_host(&sc);
    add_host(&cc);
    netcore_peer_id peer = connect_to(1, 0);
    cr_assert(run_until(pair_connected, 20000));
    static uint8_t buf[200];
    for (uint32_t i = 0; i < 1500; i++) {
        netcore_host_send(hosts[1], peer, 3, buf, make_payload(buf, i % MAX_INDEX, 100));
        netcore_host_send(hosts[0], recs[0].last_connect, 3, buf,
                          make_payload(buf, i % MAX_INDEX, 100));
        run_ms(20);
    }
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(hosts[1], peer, &ps), NETCORE_OK);
    cr_assert(ps.rtt_ms > 150.0f && ps.rtt_ms < 300.0f, "rtt %.1f ms", (double)ps.rtt_ms);
    cr_assert(ps.loss_pct > 8.0f && ps.loss_pct < 35.0f, "loss %.1f%%", (double)ps.loss_pct);
    cr_assert_eq(netcore_host_get_peer_stats(hosts[0], recs[0].last_connect, &ps), NETCORE_OK);
    cr_assert(ps.rtt_ms > 150.0f && ps.rtt_ms < 300.0f, "server rtt %.1f ms", (double)ps.rtt_ms);
    cr_assert_lt(ps.loss_pct, 8.0f, "the server's datagrams are not lost");

    netcore_host_stats cs, ss;
    netcore_host_get_stats(hosts[1], &cs);
    netcore_host_get_stats(hosts[0], &ss);
    cr_assert_gt(cs.datagrams_sent, 1000);
    cr_assert_gt(cs.wire_bytes_sent, cs.datagrams_sent * 19u, "headers are counted");
    uint64_t through = cs.conditioner_outbound.forwarded;
    cr_assert_leq(ss.datagrams_received, through, "the server got what the link forwarded");
    cr_assert_geq(ss.datagrams_received + 50u, through, "minus what is still in flight");
    double dropped = (double)cs.conditioner_outbound.dropped_loss;
    double loss = 100.0 * dropped / (double)cs.datagrams_sent;
    cr_assert(loss > 15.0 && loss < 25.0, "link loss %.1f%%", loss);
    fini_sim();
}

/* A scripted session recorded into trace. */
static void scripted_session(uint64_t seed)
{
    init_sim(seed);
    trace = calloc(TRACE_CAPACITY, sizeof *trace);
    cr_assert_not_null(trace);
    netcore_link_profile bad = netcore_link_preset_profile(NETCORE_LINK_BAD);
    netcore_peer_id peer = make_pair(&bad);
    netcore_host_config cc = base_config(false);
    cc.conditioner.inbound = bad;
    cc.conditioner.outbound = bad;
    uint32_t third = add_host(&cc);
    netcore_peer_id peer3 = connect_to(third, 0);
    static uint8_t buf[3000];
    for (uint32_t i = 0; i < 200; i++) {
        uint8_t ch = (uint8_t)(i % CHANNELS);
        netcore_host_send(hosts[1], peer, ch, buf, make_payload(buf, i, 20 + (i * 37) % 2500));
        if (recs[third].connects)
            netcore_host_send(hosts[third], peer3, ch, buf, make_payload(buf, i, 50));
        netcore_host_broadcast(hosts[0], ch, buf, make_payload(buf, i, 300));
        run_ms(30);
    }
    netcore_host_disconnect(hosts[1], peer, 9);
    run_ms(5000);
}

Test(transport_sim, same_seed_same_trace_different_seed_different_trace, .timeout = 120)
{
    scripted_session(1234);
    size_t n1 = trace_count;
    trace_record *t1 = trace;
    trace = NULL;
    fini_sim();
    cr_assert_gt(n1, 500);

    scripted_session(1234);
    cr_assert_eq(trace_count, n1);
    cr_assert_eq(memcmp(trace, t1, n1 * sizeof *t1), 0, "byte-identical event traces");
    fini_sim();

    scripted_session(999);
    bool differs = trace_count != n1 || memcmp(trace, t1, n1 * sizeof *t1) != 0;
    cr_assert(differs, "another seed gives another trace");
    fini_sim();
    free(t1);
}
