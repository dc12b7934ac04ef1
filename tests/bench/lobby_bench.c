/*
 * lobby_bench: what a netcore lobby server costs with many TCP clients on
 * 127.0.0.1.
 *
 * The server runs in a child process (fork) so that its memory and CPU time
 * can be read from /proc/PID without the clients' share; the clients are raw
 * non-blocking sockets in the parent, driven by one epoll loop, that speak
 * the documented framing (encoded with the library's own codec) and only peek
 * at frame headers of what they receive, so the server is the side that
 * saturates (see the cpu shares in the output).
 *
 * For each client count (1,000 and 5,000; --quick: 48 and 96):
 *   - rooms of up to NETCORE_LOBBY_MAX_PLAYERS (32) are made by one client
 *     each, then the other clients join them, at most JOIN_WINDOW at a time
 *     in flight: TCP connect, HELLO -> WELCOME, JOIN_ROOM -> ROOM_STATE. Every
 *     join also sends the new ROOM_STATE to the room's members, as it would
 *     in production. joins_per_s is joining clients / wall time of that phase;
 *     join_ms is each client's connect-to-ROOM_STATE time;
 *   - with everybody connected: the server's VmRSS and heap (requested bytes,
 *     through a counting allocator) minus its figures before the first
 *     client, divided by the client count;
 *   - room chat fan-out in the first room (32 members, the protocol's
 *     maximum): one member (in turn) sends a room chat, and the time until
 *     each other member has read the CHAT_MESSAGE is one sample; the next
 *     chat goes out once every member has it.
 * A 64-member room does not exist in this protocol (rooms hold at most 32),
 * so the 64-recipient figure is lobby-scope chat on a server with exactly 64
 * clients, which is fanned out the same way (every welcomed connection).
 *
 * Each client count runs twice at once, plaintext and with every client over
 * TLS, on two servers: the joins and the memory are measured one server
 * after the other, and the room chats then alternate between the two rooms
 * so that both fan-outs are timed through the same moments of a shared
 * machine (their ratio is the TLS goal). The TLS figures (a self-signed
 * ECDSA P-256 certificate made for the run, TLS 1.3) are reported under
 * "tls", with, besides, the TLS handshake rate: HANDSHAKES clients (each TLS, then
 * HELLO -> WELCOME) against a fresh server, per second of wall time and per
 * second of the server's CPU time (the server is one thread: handshakes per
 * second on one core), and the goal's verdict (5,000 clients held, chat p99
 * within twice the plaintext one). The clients' TLS runs in this process, so
 * on a 2-vCPU machine client and server share the two cores.
 *
 * Then the same swarm over three lobby nodes sharing a redis-server,
 * reported under "cluster" (lobby_bench_cluster.c): joins per second,
 * cross-node room chat fan-out, and the seconds from a node's SIGKILL until
 * all its players have resumed their rooms through the other nodes.
 *
 * Medians over --runs runs; --messages: chats per fan-out measurement.
 * RLIMIT_NOFILE is raised to its hard limit; a client count that does not fit
 * is scaled down and said so in "note".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

#include "bench_util.h"
#include "lobby_bench_cluster.h"
#include "lobby_bench_swarm.h"

#define DEFAULT_RUNS 3
#define DEFAULT_MESSAGES 200
#define QUICK_RUNS 1
#define QUICK_MESSAGES 5
#define MAX_RUNS 15
#define MAX_MESSAGES 100000
#define SCENARIOS 2
/* Joins in flight; below the server's listen backlog (128) so that no SYN is
 * dropped and retried a second later. */
#define JOIN_WINDOW 96
#define FD_RESERVE 64
/* TLS handshakes timed for the handshake rate (--quick: 48). */
#define HANDSHAKES 2000
#define QUICK_HANDSHAKES 48

static const uint32_t full_counts[SCENARIOS] = {1000, 5000};
static const uint32_t quick_counts[SCENARIOS] = {48, 96};

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */
/* ------------------------------------------------------------------ */

typedef struct scenario_result {
    double rss_per_conn_bytes;
    double heap_per_conn_bytes;
    double joins_per_s;
    double join_ms_p50;
    double join_ms_p99;
    double server_cpu_share; /* server CPU time / wall time during the joins */
    double client_cpu_share;
    double fanout_ms_p50;
    double fanout_ms_p99;
    uint32_t room_members;
    uint32_t failures;
    uint64_t slow_reader_dropped;
} scenario_result;

static void percentiles(double *values, size_t count, double *p50, double *p99)
{
    bench_sort_doubles(values, count);
    *p50 = bench_percentile_sorted(values, count, 50);
    *p99 = bench_percentile_sorted(values, count, 99);
}

static void wait_quiet(swarm *w, uint32_t ms)
{
    uint64_t until = bench_now_ns() + (uint64_t)ms * 1000000u;
    while (bench_now_ns() < until)
        swarm_poll(w, 5);
}

/* The TLS runs: a self-signed certificate made for them, and the clients' context. */
typedef struct tls_setup {
    char dir[64];
    char cert[96];
    char key[96];
    netcore_lobby_tls *trust;
} tls_setup;

/* One scenario's server and clients, kept open for the paired fan-out. */
typedef struct scenario {
    server_proc p;
    swarm w;
    bool server_up;
    uint32_t members[NETCORE_LOBBY_MAX_PLAYERS];
    uint32_t member_count;
} scenario;

static void result_clear(scenario_result *out)
{
    memset(out, 0, sizeof *out);
    out->rss_per_conn_bytes = out->heap_per_conn_bytes = out->joins_per_s = NAN;
    out->join_ms_p50 = out->join_ms_p99 = out->fanout_ms_p50 = out->fanout_ms_p99 = NAN;
    out->server_cpu_share = out->client_cpu_share = NAN;
}

/* Starts a server and fills it: rooms, then the joiners; measures the joins
 * and the memory and finds the first room's members. */
static bool scenario_open(scenario *sc, uint32_t clients, const tls_setup *tls,
                          scenario_result *out)
{
    memset(sc, 0, sizeof *sc);
    result_clear(out);
    sc->server_up =
        server_start(&sc->p, clients + 16, tls ? tls->cert : NULL, tls ? tls->key : NULL);
    if (!sc->server_up)
        return false;
    swarm *w = &sc->w;
    bool ok = swarm_init(w, clients, &sc->p.address, tls ? tls->trust : NULL);
    server_report before, after;
    ok = ok && server_report_get(&sc->p, &before);
    double rss_before = process_rss_bytes(sc->p.pid);
    uint32_t rooms = (clients + NETCORE_LOBBY_MAX_PLAYERS - 1) / NETCORE_LOBBY_MAX_PLAYERS;
    w->rooms = rooms;
    for (uint32_t i = 0; ok && i < clients; i++) {
        w->bots[i].creator = i < rooms;
        w->bots[i].room_index = i < rooms ? i : (i - rooms) % rooms;
    }
    ok = ok && swarm_run(w, 0, rooms, JOIN_WINDOW) && w->failed == 0;

    uint64_t wall0 = bench_now_ns(), server0 = process_cpu_ns(sc->p.pid);
    uint64_t client0 = bench_cpu_time_ns();
    ok = ok && swarm_run(w, rooms, clients - rooms, JOIN_WINDOW);
    uint64_t wall = bench_now_ns() - wall0;
    uint64_t server_cpu = process_cpu_ns(sc->p.pid) - server0;
    uint64_t client_cpu = bench_cpu_time_ns() - client0;
    if (ok) {
        out->joins_per_s = (double)w->join_count / ((double)wall / 1e9);
        out->server_cpu_share = (double)server_cpu / (double)wall;
        out->client_cpu_share = (double)client_cpu / (double)wall;
        percentiles(w->join_ms, w->join_count, &out->join_ms_p50, &out->join_ms_p99);
    }
    /* Let the last ROOM_STATE broadcasts drain before reading memory. */
    wait_quiet(w, 200);
    ok = ok && server_report_get(&sc->p, &after);
    double rss_after = process_rss_bytes(sc->p.pid);
    if (ok && after.stats.connections >= clients) {
        out->rss_per_conn_bytes = (rss_after - rss_before) / clients;
        out->heap_per_conn_bytes =
            ((double)after.heap_live_bytes - (double)before.heap_live_bytes) / clients;
    }
    /* The first room: its creator and the joiners of room index 0. */
    for (uint32_t i = 0; ok && i < clients && sc->member_count < NETCORE_LOBBY_MAX_PLAYERS; i++)
        if (w->bots[i].room_index == 0 && w->bots[i].state == BOT_READY)
            sc->members[sc->member_count++] = i;
    out->room_members = sc->member_count;
    return ok && sc->member_count >= 2;
}

static void scenario_close(scenario *sc, scenario_result *out)
{
    server_report last;
    if (sc->server_up && server_report_get(&sc->p, &last))
        out->slow_reader_dropped = last.stats.slow_reader_dropped;
    out->failures = sc->w.failed;
    swarm_free(&sc->w);
    if (sc->server_up)
        server_stop(&sc->p);
}

/* The plaintext scenario and the TLS one at the same client count, both
 * open at once; room chats alternate between them, so that both fan-outs
 * are timed through the same moments of a shared machine and their ratio
 * compares like with like. */
static bool run_pair(uint32_t clients, uint32_t messages, const tls_setup *tls,
                     scenario_result out[2])
{
    static scenario sc[2];
    bool ok = scenario_open(&sc[0], clients, NULL, &out[0]);
    ok = scenario_open(&sc[1], clients, tls, &out[1]) && ok;
    for (int t = 0; ok && t < 2; t++)
        ok = fanout_begin(&sc[t].w, sc[t].members, sc[t].member_count, messages);
    for (uint32_t k = 0; ok && k < messages; k++)
        for (int t = 0; ok && t < 2; t++)
            ok = fanout_one(&sc[t].w, NETCORE_LOBBY_CHAT_ROOM, k);
    for (int t = 0; ok && t < 2; t++) {
        swarm *w = &sc[t].w;
        if (w->chat_samples == (size_t)messages * (sc[t].member_count - 1))
            percentiles(w->chat_ms, w->chat_samples, &out[t].fanout_ms_p50, &out[t].fanout_ms_p99);
    }
    for (int t = 1; t >= 0; t--)
        scenario_close(&sc[t], &out[t]);
    return ok;
}

static bool run_lobby_fanout(uint32_t messages, double *p50, double *p99)
{
    *p50 = *p99 = NAN;
    server_proc p;
    if (!server_start(&p, FANOUT_CLIENTS + 16, NULL, NULL))
        return false;
    swarm w;
    bool ok = swarm_init(&w, FANOUT_CLIENTS, &p.address, NULL);
    for (uint32_t i = 0; ok && i < FANOUT_CLIENTS; i++)
        w.bots[i].lobby_only = true;
    ok = ok && swarm_run(&w, 0, FANOUT_CLIENTS, JOIN_WINDOW) && w.failed == 0;
    uint32_t members[FANOUT_CLIENTS];
    for (uint32_t i = 0; i < FANOUT_CLIENTS; i++)
        members[i] = i;
    if (ok) {
        size_t samples =
            measure_fanout(&w, members, FANOUT_CLIENTS, NETCORE_LOBBY_CHAT_LOBBY, messages);
        ok = samples == (size_t)messages * (FANOUT_CLIENTS - 1);
        if (ok)
            percentiles(w.chat_ms, samples, p50, p99);
    }
    swarm_free(&w);
    server_stop(&p);
    return ok;
}

/* TLS handshakes (each then HELLO -> WELCOME) against a fresh server, at
 * most JOIN_WINDOW in flight: completed per second of wall time and per
 * second of the server's CPU time (one thread: "on one core"). */
static bool run_handshakes(uint32_t count, const tls_setup *tls, double *per_s, double *per_cpu_s,
                           double *server_cpu_share)
{
    *per_s = *per_cpu_s = *server_cpu_share = NAN;
    server_proc p;
    if (!server_start(&p, count + 16, tls->cert, tls->key))
        return false;
    swarm w;
    bool ok = swarm_init(&w, count, &p.address, tls->trust);
    for (uint32_t i = 0; ok && i < count; i++)
        w.bots[i].lobby_only = true;
    uint64_t wall0 = bench_now_ns(), server0 = process_cpu_ns(p.pid);
    ok = ok && swarm_run(&w, 0, count, JOIN_WINDOW) && w.failed == 0 && w.handshakes == count;
    uint64_t wall = bench_now_ns() - wall0;
    uint64_t server_cpu = process_cpu_ns(p.pid) - server0;
    if (ok && wall > 0 && server_cpu > 0) {
        *per_s = (double)count / ((double)wall / 1e9);
        *per_cpu_s = (double)count / ((double)server_cpu / 1e9);
        *server_cpu_share = (double)server_cpu / (double)wall;
    }
    swarm_free(&w);
    server_stop(&p);
    return ok;
}

static bool tls_setup_make(tls_setup *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/lobby-bench-tls-XXXXXX");
    if (!mkdtemp(t->dir))
        return false;
    snprintf(t->cert, sizeof t->cert, "%s/cert.pem", t->dir);
    snprintf(t->key, sizeof t->key, "%s/key.pem", t->dir);
    netcore_lobby_tls_config tc;
    netcore_lobby_tls_config_default(&tc);
    tc.ca_file = t->cert;
    return netcore_lobby_tls_make_self_signed(t->cert, t->key, "127.0.0.1", 2) == NETCORE_OK &&
           netcore_lobby_tls_create(&tc, &t->trust) == NETCORE_OK;
}

static void tls_setup_free(tls_setup *t)
{
    netcore_lobby_tls_destroy(t->trust);
    unlink(t->cert);
    unlink(t->key);
    rmdir(t->dir);
}

/* Writes one scenario's object (plaintext or TLS). */
static void json_scenario(bench_json *json, uint32_t clients, uint32_t runs, const double *rss,
                          const double *heap, const double *joins, const double *join50,
                          const double *join99, const double *srv_cpu, const double *cli_cpu,
                          uint32_t members, const double *fan50, const double *fan99)
{
    char key[32];
    snprintf(key, sizeof key, "clients_%u", clients);
    bench_json_object_begin(json, key);
    bench_json_uint(json, "clients", clients);
    bench_json_runs(json, "rss_per_connection_bytes", rss, runs);
    bench_json_runs(json, "heap_per_connection_bytes", heap, runs);
    bench_json_runs(json, "joins_per_s", joins, runs);
    bench_json_runs(json, "join_ms_p50", join50, runs);
    bench_json_runs(json, "join_ms_p99", join99, runs);
    bench_json_runs(json, "server_cpu_share_joining", srv_cpu, runs);
    bench_json_runs(json, "client_cpu_share_joining", cli_cpu, runs);
    bench_json_uint(json, "room_members", members);
    bench_json_runs(json, "room_chat_fanout_ms_p50", fan50, runs);
    bench_json_runs(json, "room_chat_fanout_ms_p99", fan99, runs);
    bench_json_object_end(json);
}

/* Raises the soft descriptor limit to the hard one; returns the soft limit. */
static uint64_t raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : (uint64_t)rl.rlim_cur;
}

int main(int argc, char **argv)
{
    static const char usage[] =
        "usage: lobby_bench [--quick] [--runs N] [--messages N]\n"
        "  --messages N  room chats per fan-out measurement (default 200)\n";
    bench_options o = {false, DEFAULT_RUNS, DEFAULT_MESSAGES};
    bench_args_result a = bench_options_parse(argc, argv, usage, QUICK_RUNS, QUICK_MESSAGES,
                                              MAX_RUNS, MAX_MESSAGES, &o);
    if (a != BENCH_ARGS_OK)
        return a == BENCH_ARGS_HELP ? 0 : 2;
    if (netcore_init() != NETCORE_OK)
        return 1;
    signal(SIGPIPE, SIG_IGN);

    uint64_t fd_limit = raise_fd_limit();
    char note[256] = "";
    uint32_t counts[SCENARIOS];
    for (int s = 0; s < SCENARIOS; s++) {
        uint32_t wanted = o.quick ? quick_counts[s] : full_counts[s];
        /* Each process holds its side's sockets: clients in this one (the
         * plaintext and the TLS ones at once), connections in the servers';
         * FD_RESERVE covers the rest. */
        uint64_t fit = fd_limit > FD_RESERVE ? (fd_limit - FD_RESERVE) / 2 : 0;
        counts[s] = wanted <= fit ? wanted : (uint32_t)fit;
        if (counts[s] != wanted)
            snprintf(note, sizeof note,
                     "RLIMIT_NOFILE hard limit %llu: %u-client scenario scaled down to %u",
                     (unsigned long long)fd_limit, wanted, counts[s]);
    }

    /* [0]: plaintext, [1]: TLS, in the same run so they compare. */
    static double rss[2][SCENARIOS][MAX_RUNS], heap[2][SCENARIOS][MAX_RUNS];
    static double joins[2][SCENARIOS][MAX_RUNS], join50[2][SCENARIOS][MAX_RUNS];
    static double join99[2][SCENARIOS][MAX_RUNS], srv_cpu[2][SCENARIOS][MAX_RUNS];
    static double cli_cpu[2][SCENARIOS][MAX_RUNS], fan50[2][SCENARIOS][MAX_RUNS];
    static double fan99[2][SCENARIOS][MAX_RUNS];
    static double lobby50[MAX_RUNS], lobby99[MAX_RUNS];
    static double hs_per_s[MAX_RUNS], hs_per_cpu_s[MAX_RUNS], hs_cpu_share[MAX_RUNS];
    uint32_t members[2][SCENARIOS] = {{0, 0}, {0, 0}};
    uint64_t failures = 0, slow_readers = 0;
    uint32_t held_tls[SCENARIOS] = {0, 0};
    bool all_ok = true;
    tls_setup tls;
    if (!tls_setup_make(&tls)) {
        fprintf(stderr, "lobby_bench: cannot make a TLS certificate\n");
        return 1;
    }
    uint32_t handshakes = o.quick ? QUICK_HANDSHAKES : HANDSHAKES;
    static cluster_result cluster[MAX_RUNS];
    static double c_joins[MAX_RUNS], c_join50[MAX_RUNS], c_join99[MAX_RUNS];
    static double c_fan50[MAX_RUNS], c_fan99[MAX_RUNS], c_resume[MAX_RUNS];
    bool cluster_ok = cluster_bench_available();
    bool cluster_complete = cluster_ok;
    uint32_t cluster_resumed_all = 0;
    for (uint32_t r = 0; r < o.runs; r++) {
        for (int s = 0; s < SCENARIOS; s++) {
            scenario_result pair[2];
            bool ok = run_pair(counts[s], o.messages, &tls, pair);
            all_ok &= ok;
            for (int t = 0; t < 2; t++) {
                const scenario_result res = pair[t];
                rss[t][s][r] = res.rss_per_conn_bytes;
                heap[t][s][r] = res.heap_per_conn_bytes;
                joins[t][s][r] = res.joins_per_s;
                join50[t][s][r] = res.join_ms_p50;
                join99[t][s][r] = res.join_ms_p99;
                srv_cpu[t][s][r] = res.server_cpu_share;
                cli_cpu[t][s][r] = res.client_cpu_share;
                fan50[t][s][r] = res.fanout_ms_p50;
                fan99[t][s][r] = res.fanout_ms_p99;
                members[t][s] = res.room_members;
                failures += res.failures;
                slow_readers += res.slow_reader_dropped;
                if (t == 1 && ok && res.failures == 0)
                    held_tls[s]++;
            }
        }
        all_ok &= run_lobby_fanout(o.messages, &lobby50[r], &lobby99[r]);
        all_ok &=
            run_handshakes(handshakes, &tls, &hs_per_s[r], &hs_per_cpu_s[r], &hs_cpu_share[r]);
        if (cluster_ok) {
            cluster_result *c = &cluster[r];
            bool ok = cluster_bench_run(counts[SCENARIOS - 1], o.messages, c);
            cluster_complete &= ok;
            all_ok &= ok;
            failures += c->failures;
            cluster_resumed_all += ok && c->resumed == c->dead_node_players;
            c_joins[r] = c->joins_per_s;
            c_join50[r] = c->join_ms_p50;
            c_join99[r] = c->join_ms_p99;
            c_fan50[r] = c->fanout_ms_p50;
            c_fan99[r] = c->fanout_ms_p99;
            c_resume[r] = c->resume_s;
        }
    }
    tls_setup_free(&tls);

    bench_json json;
    bench_json_init(&json, stdout);
    bench_json_object_begin(&json, NULL);
    bench_json_machine(&json);
    bench_json_uint(&json, "runs", o.runs);
    bench_json_uint(&json, "chats_per_fanout", o.messages);
    bench_json_uint(&json, "join_window", JOIN_WINDOW);
    bench_json_uint(&json, "fd_limit", fd_limit);
    bench_json_string(&json, "note", note[0] ? note : NULL);
    for (int s = 0; s < SCENARIOS; s++)
        json_scenario(&json, counts[s], o.runs, rss[0][s], heap[0][s], joins[0][s], join50[0][s],
                      join99[0][s], srv_cpu[0][s], cli_cpu[0][s], members[0][s], fan50[0][s],
                      fan99[0][s]);
    bench_json_object_begin(&json, "lobby_chat_fanout_64");
    bench_json_uint(&json, "recipients", FANOUT_CLIENTS - 1);
    bench_json_runs(&json, "fanout_ms_p50", lobby50, o.runs);
    bench_json_runs(&json, "fanout_ms_p99", lobby99, o.runs);
    bench_json_object_end(&json);
    /* The same scenarios with every client over TLS 1.3 (ECDSA P-256). */
    bench_json_object_begin(&json, "tls");
    bench_json_string(&json, "protocol", "TLS 1.3, ECDSA P-256 certificate, no session resumption");
    bench_json_object_begin(&json, "handshakes");
    bench_json_uint(&json, "count", handshakes);
    bench_json_runs(&json, "per_s", hs_per_s, o.runs);
    bench_json_runs(&json, "per_server_cpu_s", hs_per_cpu_s, o.runs);
    bench_json_runs(&json, "server_cpu_share", hs_cpu_share, o.runs);
    bench_json_object_end(&json);
    for (int s = 0; s < SCENARIOS; s++)
        json_scenario(&json, counts[s], o.runs, rss[1][s], heap[1][s], joins[1][s], join50[1][s],
                      join99[1][s], srv_cpu[1][s], cli_cpu[1][s], members[1][s], fan50[1][s],
                      fan99[1][s]);
    /* The goal: the largest scenario held over TLS in every run, and its
     * chat p99 within twice the plaintext one (medians of the runs). */
    int big = SCENARIOS - 1;
    double ratio = bench_median(fan99[1][big], o.runs) / bench_median(fan99[0][big], o.runs);
    bench_json_object_begin(&json, "goal");
    bench_json_uint(&json, "clients", counts[big]);
    bench_json_bool(&json, "all_clients_held", held_tls[big] == o.runs);
    bench_json_number(&json, "chat_p99_ratio_to_plaintext", ratio);
    bench_json_bool(&json, "chat_p99_within_2x", isfinite(ratio) && ratio <= 2.0);
    bench_json_object_end(&json);
    bench_json_object_end(&json);
    /* Three lobby nodes sharing one redis-server (docs/lobby-cluster.md). */
    bench_json_object_begin(&json, "cluster");
    if (!cluster_ok) {
        bench_json_string(&json, "skipped", "redis-server could not be started");
    } else {
        bench_json_uint(&json, "nodes", 3);
        bench_json_uint(&json, "clients", counts[SCENARIOS - 1]);
        bench_json_string(&json, "redis", "one redis-server on a unix socket, no persistence");
        bench_json_runs(&json, "joins_per_s", c_joins, o.runs);
        bench_json_runs(&json, "join_ms_p50", c_join50, o.runs);
        bench_json_runs(&json, "join_ms_p99", c_join99, o.runs);
        bench_json_uint(&json, "room_members", cluster[0].room_members);
        bench_json_uint(&json, "cross_node_chat_samples", cluster[0].cross_node_samples);
        bench_json_runs(&json, "cross_node_chat_fanout_ms_p50", c_fan50, o.runs);
        bench_json_runs(&json, "cross_node_chat_fanout_ms_p99", c_fan99, o.runs);
        bench_json_uint(&json, "players_on_killed_node", cluster[0].dead_node_players);
        bench_json_runs(&json, "seconds_until_all_resumed", c_resume, o.runs);
        double c_p99 = bench_median(c_fan99, o.runs), resume = bench_median(c_resume, o.runs);
        bench_json_object_begin(&json, "goal");
        bench_json_bool(&json, "cross_node_chat_p99_under_5_ms", isfinite(c_p99) && c_p99 < 5.0);
        bench_json_bool(&json, "all_resumed_within_5_s",
                        cluster_resumed_all == o.runs && isfinite(resume) && resume <= 5.0);
        bench_json_object_end(&json);
        bench_json_bool(&json, "complete", cluster_complete);
    }
    bench_json_object_end(&json);
    bench_json_uint(&json, "client_failures", failures);
    bench_json_uint(&json, "server_slow_reader_drops", slow_readers);
    bench_json_bool(&json, "complete", all_ok);
    bench_json_object_end(&json);
    bench_json_finish(&json);
    netcore_shutdown();
    return all_ok ? 0 : 1;
}
