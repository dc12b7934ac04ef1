/*
 * attack_bench: what a handshake flood costs a netcore game server on
 * 127.0.0.1, and what it costs a legitimate client.
 *
 *   - guard_check: forged CONNECTs (wrong address proof) and random garbage
 *     judged per second by the datagram guard alone, in process (no socket);
 *   - server_discard: forged CONNECTs per second of server time, end to end:
 *     a batch of forged datagrams goes out from 32 source ports, then the
 *     server polls them away; only the server's polling is timed, so the
 *     figure is what one core spends per datagram (socket read included);
 *   - connect_under_load: wall time from netcore_host_connect to the client's
 *     CONNECT event while forged CONNECTs keep arriving (batches of 100
 *     between client polls), with the offered forged rate, next to the same
 *     connect without load;
 *   - unguarded_raw_enet: the same flood against a plain ENet 1.3 host with
 *     64 slots: slots taken by forgeries and whether a real ENet client still
 *     connects within 2 s; and the guarded server's slots for comparison.
 *
 * One process, one thread, busy polling with timeout 0. Medians over --runs
 * runs (--messages: forged datagrams per discard measurement).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <enet/enet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "core/core_internal.h"
#include "transport/enet_guard.h"
#include "netcore/token.h"
#include "netcore/transport.h"

#define DEFAULT_RUNS 5
#define DEFAULT_MESSAGES 200000
#define QUICK_RUNS 1
#define QUICK_MESSAGES 4000
#define MAX_RUNS 32
#define MAX_MESSAGES 10000000
#define SPRAY_SOCKETS 32
#define BATCH 200
#define LOAD_BATCH 100
#define VARIANTS 1024
#define SERVER_PEERS 64
#define CONNECT_LIMIT_MS 5000
#define RAW_CONNECT_LIMIT_MS 2000
#define RAW_FLOOD 3000

static const uint8_t key[NETCORE_TOKEN_KEY_BYTES] = {9,  8,  7,  6,  5,  4,  3,  2,  1,  0,  11,
                                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                     23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

typedef struct forged {
    uint8_t data[VARIANTS][NCI_ENET_CONNECT_DATAGRAM_BYTES];
    uint8_t garbage[VARIANTS][64];
    size_t garbage_size[VARIANTS];
} forged;

static forged forgeries;

static void make_forgeries(uint64_t seed)
{
    nci_rng rng;
    nci_rng_seed(&rng, seed);
    for (uint32_t i = 0; i < VARIANTS; i++) {
        nci_enet_datagram_write_connect(forgeries.data[i], (uint32_t)nci_rng_next(&rng),
                                        (uint32_t)nci_rng_next(&rng) | 1u, 8);
        forgeries.garbage_size[i] = 1 + nci_rng_below(&rng, 64);
        for (size_t j = 0; j < forgeries.garbage_size[i]; j++)
            forgeries.garbage[i][j] = (uint8_t)nci_rng_next(&rng);
    }
}

static double ms_since(uint64_t start_ns)
{
    return (double)(bench_now_ns() - start_ns) / 1e6;
}

/* --- Sprayer --- */

typedef struct sprayer {
    int fds[SPRAY_SOCKETS];
    struct sockaddr_in target;
    uint64_t sent;
} sprayer;

static bool sprayer_open(sprayer *s, const netcore_address *target)
{
    memset(s, 0, sizeof *s);
    s->target.sin_family = AF_INET;
    memcpy(&s->target.sin_addr, target->bytes, 4);
    s->target.sin_port = htons(target->port);
    for (int i = 0; i < SPRAY_SOCKETS; i++) {
        s->fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
        if (s->fds[i] < 0)
            return false;
        struct sockaddr_in local;
        memset(&local, 0, sizeof local);
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(s->fds[i], (struct sockaddr *)&local, sizeof local) != 0)
            return false;
    }
    return true;
}

static void sprayer_close(sprayer *s)
{
    for (int i = 0; i < SPRAY_SOCKETS; i++)
        if (s->fds[i] >= 0)
            close(s->fds[i]);
}

static void spray_connects(sprayer *s, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++, s->sent++)
        (void)sendto(s->fds[s->sent % SPRAY_SOCKETS], forgeries.data[s->sent % VARIANTS],
                     NCI_ENET_CONNECT_DATAGRAM_BYTES, MSG_DONTWAIT,
                     (const struct sockaddr *)&s->target, sizeof s->target);
}

/* --- Netcore server and client --- */

static netcore_host *make_server(bool guarded)
{
    netcore_host_config cfg;
    netcore_host_config_default(&cfg);
    cfg.is_server = true;
    cfg.bind_address = netcore_address_ipv4(127, 0, 0, 1, 0);
    cfg.max_peers = SERVER_PEERS;
    cfg.guard.disabled = !guarded;
    cfg.guard.require_connect_proof = guarded;
    memcpy(cfg.guard.proof_key, key, sizeof key);
    netcore_host *host = NULL;
    return netcore_host_create(&cfg, &host) == NETCORE_OK ? host : NULL;
}

static uint64_t judged(const netcore_host *server)
{
    netcore_host_stats s;
    netcore_host_get_stats(server, &s);
    return s.guard_passed + s.guard_malformed_dropped + s.guard_unknown_dropped +
           s.guard_proof_dropped + s.guard_rate_dropped + s.guard_ip_rate_dropped +
           s.guard_ip_peers_dropped + s.guard_ip_handshakes_dropped + s.guard_full_dropped;
}

static void drain(netcore_host *host)
{
    netcore_event ev;
    for (int i = 0; i < 100000; i++)
        if (netcore_host_poll(host, 0, &ev) != NETCORE_OK || ev.type == NETCORE_EVENT_NONE)
            return;
}

/* --- Measurements --- */

static double guard_checks_per_s(uint32_t count, bool garbage)
{
    netcore_allocator allocator;
    memset(&allocator, 0, sizeof allocator);
    netcore_guard_config c;
    memset(&c, 0, sizeof c);
    c.require_connect_proof = true;
    memcpy(c.proof_key, key, sizeof key);
    nci_guard *g = NULL;
    if (nci_guard_create(&allocator, &c, SERVER_PEERS, true, 1, &g) != NETCORE_OK)
        return NAN;
    netcore_address from = netcore_address_ipv4(127, 0, 0, 1, 0);
    uint32_t passed = 0;
    uint64_t start = bench_now_ns();
    for (uint32_t i = 0; i < count; i++) {
        from.port = (uint16_t)(1024 + i % 30000);
        uint32_t v = i % VARIANTS;
        nci_guard_verdict verdict =
            garbage ? nci_guard_check(g, forgeries.garbage[v], forgeries.garbage_size[v], &from,
                                      &from, i)
                    : nci_guard_check(g, forgeries.data[v], NCI_ENET_CONNECT_DATAGRAM_BYTES, &from,
                                      &from, i);
        passed += verdict == NCI_GUARD_PASS;
    }
    double seconds = (double)(bench_now_ns() - start) / 1e9;
    nci_guard_destroy(g);
    return passed > 0 || seconds <= 0 ? NAN : count / seconds;
}

static double server_discards_per_s(uint32_t count)
{
    netcore_host *server = make_server(true);
    if (!server)
        return NAN;
    netcore_address to;
    netcore_host_address(server, &to);
    sprayer s;
    if (!sprayer_open(&s, &to)) {
        sprayer_close(&s);
        netcore_host_destroy(server);
        return NAN;
    }
    uint64_t server_ns = 0;
    while (s.sent < count) {
        spray_connects(&s, BATCH);
        uint64_t start = bench_now_ns();
        drain(server);
        server_ns += bench_now_ns() - start;
    }
    uint64_t processed = judged(server);
    sprayer_close(&s);
    netcore_host_destroy(server);
    return server_ns ? (double)processed / ((double)server_ns / 1e9) : NAN;
}

/* Connect time in ms (NaN if the client did not connect within the limit);
 * *out_offered_per_s is the forged rate sent meanwhile. */
static double connect_ms(bool load, double *out_offered_per_s)
{
    *out_offered_per_s = 0;
    netcore_host *server = make_server(true);
    netcore_host_config ccfg;
    netcore_host_config_default(&ccfg);
    netcore_host *client = NULL;
    if (!server || netcore_host_create(&ccfg, &client) != NETCORE_OK) {
        netcore_host_destroy(server);
        return NAN;
    }
    netcore_address to;
    netcore_host_address(server, &to);
    sprayer s;
    bool ok = sprayer_open(&s, &to);
    netcore_token_params p;
    memset(&p, 0, sizeof p);
    p.server_address = to;
    p.create_time_s = (uint64_t)time(NULL);
    p.lifetime_s = 30;
    netcore_address seen = netcore_address_ipv4(127, 0, 0, 1, 0);
    uint8_t token[NETCORE_TOKEN_BYTES];
    ok = ok && netcore_session_keys_generate(&p.session_keys) == NETCORE_OK &&
         netcore_token_create_for_client(key, &p, &seen, token) == NETCORE_OK;
    /* The flood is already running when the client arrives. */
    for (int i = 0; load && ok && i < 20; i++) {
        spray_connects(&s, LOAD_BATCH);
        drain(server);
    }
    /* This server admits everyone: the token only lends its address proof
     * to the handshake, which is all the guard checks. */
    netcore_connect_options options;
    memset(&options, 0, sizeof options);
    options.connect_data = netcore_token_embedded_proof(token, sizeof token);
    netcore_peer_id id;
    ok = ok && netcore_host_connect(client, &to, &options, &id) == NETCORE_OK;
    uint64_t start = bench_now_ns();
    uint64_t sent_before = s.sent;
    double result = NAN;
    while (ok && ms_since(start) < CONNECT_LIMIT_MS) {
        if (load)
            spray_connects(&s, LOAD_BATCH);
        drain(server);
        netcore_event ev;
        if (netcore_host_poll(client, 0, &ev) != NETCORE_OK || ev.type == NETCORE_EVENT_DISCONNECT)
            break;
        if (ev.type == NETCORE_EVENT_CONNECT) {
            result = ms_since(start);
            break;
        }
    }
    double elapsed_s = ms_since(start) / 1e3;
    if (elapsed_s > 0)
        *out_offered_per_s = (double)(s.sent - sent_before) / elapsed_s;
    sprayer_close(&s);
    netcore_host_destroy(client);
    netcore_host_destroy(server);
    return result;
}

/* A plain ENet host under the same flood: slots taken, and whether a real
 * ENet client still gets in within RAW_CONNECT_LIMIT_MS. */
static void raw_enet_flood(uint32_t *out_slots, bool *out_connected)
{
    *out_slots = 0;
    *out_connected = false;
    ENetAddress bind_address = {0};
    enet_address_set_host_ip(&bind_address, "127.0.0.1");
    ENetHost *server = enet_host_create(&bind_address, SERVER_PEERS, 8, 0, 0);
    ENetHost *client = enet_host_create(NULL, 1, 8, 0, 0);
    if (!server || !client) {
        if (server)
            enet_host_destroy(server);
        if (client)
            enet_host_destroy(client);
        return;
    }
    netcore_address to = netcore_address_ipv4(127, 0, 0, 1, server->address.port);
    sprayer s;
    ENetEvent ev;
    if (sprayer_open(&s, &to)) {
        while (s.sent < RAW_FLOOD) {
            spray_connects(&s, LOAD_BATCH);
            while (enet_host_service(server, &ev, 0) > 0) {
            }
        }
        for (size_t i = 0; i < server->peerCount; i++)
            *out_slots += server->peers[i].state != ENET_PEER_STATE_DISCONNECTED;
        ENetAddress target = {0};
        enet_address_set_host_ip(&target, "127.0.0.1");
        target.port = server->address.port;
        enet_host_connect(client, &target, 8, 0);
        uint64_t start = bench_now_ns();
        while (!*out_connected && ms_since(start) < RAW_CONNECT_LIMIT_MS) {
            spray_connects(&s, 10);
            while (enet_host_service(server, &ev, 0) > 0) {
            }
            while (enet_host_service(client, &ev, 1) > 0)
                if (ev.type == ENET_EVENT_TYPE_CONNECT)
                    *out_connected = true;
        }
    }
    sprayer_close(&s);
    enet_host_destroy(client);
    enet_host_destroy(server);
}

static uint32_t guarded_flood_slots(void)
{
    netcore_host *server = make_server(true);
    if (!server)
        return UINT32_MAX;
    netcore_address to;
    netcore_host_address(server, &to);
    sprayer s;
    uint32_t max_slots = 0;
    if (sprayer_open(&s, &to)) {
        while (s.sent < RAW_FLOOD) {
            spray_connects(&s, LOAD_BATCH);
            drain(server);
            netcore_host_stats st;
            netcore_host_get_stats(server, &st);
            if (st.slots_in_use > max_slots)
                max_slots = st.slots_in_use;
        }
    }
    sprayer_close(&s);
    netcore_host_destroy(server);
    return max_slots;
}

int main(int argc, char **argv)
{
    static const char usage[] =
        "usage: attack_bench [--quick] [--runs N] [--messages N]\n"
        "  --messages N  forged datagrams per discard measurement (default 200000)\n";
    bench_options o = {false, DEFAULT_RUNS, DEFAULT_MESSAGES};
    bench_args_result a = bench_options_parse(argc, argv, usage, QUICK_RUNS, QUICK_MESSAGES,
                                              MAX_RUNS, MAX_MESSAGES, &o);
    if (a != BENCH_ARGS_OK)
        return a == BENCH_ARGS_HELP ? 0 : 2;
    if (netcore_init() != NETCORE_OK)
        return 1;
    make_forgeries(12345);

    double check_connect[MAX_RUNS], check_garbage[MAX_RUNS], discard[MAX_RUNS];
    double idle_ms[MAX_RUNS], load_ms[MAX_RUNS], offered[MAX_RUNS];
    for (uint32_t r = 0; r < o.runs; r++) {
        check_connect[r] = guard_checks_per_s(o.messages, false);
        check_garbage[r] = guard_checks_per_s(o.messages, true);
        discard[r] = server_discards_per_s(o.messages);
        double unused;
        idle_ms[r] = connect_ms(false, &unused);
        load_ms[r] = connect_ms(true, &offered[r]);
    }
    uint32_t raw_slots = 0;
    bool raw_connected = false;
    raw_enet_flood(&raw_slots, &raw_connected);
    uint32_t guarded_slots = guarded_flood_slots();

    bench_json json;
    bench_json_init(&json, stdout);
    bench_json_object_begin(&json, NULL);
    bench_json_machine(&json);
    bench_json_uint(&json, "runs", o.runs);
    bench_json_uint(&json, "forged_per_measurement", o.messages);
    bench_json_object_begin(&json, "guard_check");
    bench_json_runs(&json, "forged_connects_per_s", check_connect, o.runs);
    bench_json_runs(&json, "garbage_per_s", check_garbage, o.runs);
    bench_json_object_end(&json);
    bench_json_object_begin(&json, "server_discard");
    bench_json_runs(&json, "forged_connects_per_s", discard, o.runs);
    bench_json_object_end(&json);
    bench_json_object_begin(&json, "connect_under_load");
    bench_json_runs(&json, "idle_connect_ms", idle_ms, o.runs);
    bench_json_runs(&json, "loaded_connect_ms", load_ms, o.runs);
    bench_json_runs(&json, "offered_forged_per_s", offered, o.runs);
    bench_json_object_end(&json);
    bench_json_object_begin(&json, "flood_of_forged_connects");
    bench_json_uint(&json, "forged_sent", RAW_FLOOD);
    bench_json_uint(&json, "slots", SERVER_PEERS);
    bench_json_uint(&json, "raw_enet_slots_taken", raw_slots);
    bench_json_bool(&json, "raw_enet_client_connected_within_2s", raw_connected);
    bench_json_uint(&json, "guarded_slots_taken_max", guarded_slots);
    bench_json_object_end(&json);
    bench_json_object_end(&json);
    bench_json_finish(&json);
    netcore_shutdown();
    return 0;
}
