/*
 * session_bench: what the session layer costs. A netcore_game_server and N
 * netcore_game_clients play the arena game of examples/world on the
 * simulated network (Wi-Fi preset on every client, 60 Hz ticks, 30 Hz
 * snapshots, 8 orbs, clients updated every 4 ms of simulated time) for
 * 10 simulated seconds per run. Reported per client count, medians over
 * --runs runs:
 *   server_update_us_p50 / _p99: CPU of one netcore_game_server_update that
 *     ran at least one tick (wall time around the call; the simulated network
 *     never sleeps);
 *   client_update_us_p50: one netcore_game_client_update;
 *   out_kbps_per_client: the server's wire bytes sent per client per second
 *     of simulated time (headers included);
 *   server_bytes, client_bytes: memory each allocated (all at create);
 *   corrections_per_min, interp_delay_ms: client figures (simulated time,
 *     independent of the machine).
 *   session_bench [--quick] [--runs N]
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/world/arena.h"
#include "bench_util.h"

#define FRAME_US 4000u
#define ORBS 8

typedef struct scene {
    arena game;
    netcore_entity_id orbs[ORBS];
} scene;

static void on_tick(void *user, netcore_game_server *server, uint32_t tick)
{
    scene *s = user;
    netcore_snapshot_server *snap = netcore_game_server_snapshot(server);
    for (int i = 0; i < ORBS; i++) {
        if (!s->orbs[i])
            netcore_snapshot_server_entity_create(snap, s->game.type_orb, &s->orbs[i]);
        double a = tick * 0.02 + i;
        netcore_vec3 pos = {(float)(30 * cos(a)), (float)(30 * sin(a)), 0.0f};
        netcore_snapshot_server_set_vec3(snap, s->orbs[i], s->game.orb_pos, pos);
        netcore_game_server_record(server, s->orbs[i], pos);
    }
}

static void sample_input(void *user, netcore_game_client *client, uint32_t tick, void *out)
{
    arena_input *in = out;
    uint32_t k = (uint32_t)(uintptr_t)user;
    (void)client;
    in->move_x = (int8_t)((tick / 50 + k) % 3) - 1;
    in->move_y = (int8_t)((tick / 80 + 2 * k) % 3) - 1;
}

typedef struct run_result {
    double server_p50_us, server_p99_us, client_p50_us, out_kbps_per_client;
    double server_bytes, client_bytes, corrections_per_min, interp_delay_ms;
} run_result;

static bool run(uint32_t clients, uint64_t seconds, uint64_t seed, run_result *out)
{
    scene s;
    memset(&s, 0, sizeof s);
    bench_alloc_counter server_mem = {0}, client_mem = {0};
    netcore_sim *sim = NULL;
    netcore_sim_config simc;
    netcore_sim_config_default(&simc);
    simc.seed = seed;
    netcore_game_server *server = NULL;
    netcore_game_client **cs = calloc(clients, sizeof *cs);
    if (!cs || !arena_create(&s.game) || netcore_sim_create(&simc, &sim) != NETCORE_OK)
        return false;
    netcore_game_server_config sc;
    netcore_game_server_config_default(&sc);
    arena_describe(&s.game, &sc.game);
    sc.allocator = bench_counting_allocator(&server_mem);
    sc.sim = sim;
    sc.max_clients = clients;
    sc.max_entities = clients + ORBS + 8;
    sc.on_tick = on_tick;
    sc.user = &s;
    netcore_address at;
    bool ok = netcore_game_server_create(&sc, &server) == NETCORE_OK &&
              netcore_game_server_address(server, &at) == NETCORE_OK;
    for (uint32_t k = 0; ok && k < clients; k++) {
        netcore_game_client_config cc;
        netcore_game_client_config_default(&cc);
        arena_describe(&s.game, &cc.game);
        cc.allocator = bench_counting_allocator(&client_mem);
        cc.sim = sim;
        cc.max_entities = sc.max_entities;
        cc.conditioner.enabled = true;
        cc.conditioner.seed = seed + k;
        cc.conditioner.inbound = netcore_link_preset_profile(NETCORE_LINK_WIFI);
        cc.conditioner.outbound = cc.conditioner.inbound;
        cc.sample_input = sample_input;
        cc.user = (void *)(uintptr_t)k;
        ok = netcore_game_client_create(&cc, &cs[k]) == NETCORE_OK &&
             netcore_game_client_connect(cs[k], &at, NULL) == NETCORE_OK;
    }
    size_t frames = (size_t)(seconds * 1000000u / FRAME_US);
    double *server_us = calloc(frames, sizeof *server_us);
    double *client_us = calloc(frames, sizeof *client_us);
    size_t server_n = 0, client_n = 0;
    uint64_t wire_start = 0, warmup = frames / 5;
    for (size_t f = 0; ok && server_us && client_us && f < frames; f++) {
        netcore_sim_advance(sim, FRAME_US);
        uint64_t now = netcore_sim_now_us(sim);
        uint32_t tick_before = netcore_game_server_tick(server);
        uint64_t t0 = bench_now_ns();
        netcore_game_server_update(server, now);
        uint64_t t1 = bench_now_ns();
        if (f >= warmup && netcore_game_server_tick(server) != tick_before)
            server_us[server_n++] = (double)(t1 - t0) / 1000.0;
        for (uint32_t k = 0; k < clients; k++) {
            uint64_t c0 = bench_now_ns();
            netcore_game_client_update(cs[k], now);
            if (f >= warmup && k == 0)
                client_us[client_n++] = (double)(bench_now_ns() - c0) / 1000.0;
        }
        if (f + 1 == warmup) {
            netcore_game_server_stats st;
            netcore_game_server_get_stats(server, &st);
            wire_start = st.host.wire_bytes_sent;
        }
    }
    if (ok && server_n && client_n) {
        netcore_game_server_stats st;
        netcore_game_server_get_stats(server, &st);
        double measured_s = (double)(frames - warmup) * FRAME_US / 1e6;
        bench_sort_doubles(server_us, server_n);
        bench_sort_doubles(client_us, client_n);
        out->server_p50_us = bench_percentile_sorted(server_us, server_n, 50);
        out->server_p99_us = bench_percentile_sorted(server_us, server_n, 99);
        out->client_p50_us = bench_percentile_sorted(client_us, client_n, 50);
        out->out_kbps_per_client =
            (double)(st.host.wire_bytes_sent - wire_start) * 8.0 / 1000.0 / measured_s / clients;
        out->server_bytes = (double)server_mem.peak_bytes;
        out->client_bytes = (double)client_mem.peak_bytes / clients;
        double corrections = 0, delay = 0;
        for (uint32_t k = 0; k < clients; k++) {
            netcore_game_client_stats cst;
            netcore_game_client_get_stats(cs[k], &cst);
            corrections += (double)cst.corrections;
            delay += cst.interp_delay_ms;
            ok = ok && cst.state == NETCORE_GAME_CLIENT_PLAYING;
        }
        out->corrections_per_min = corrections / clients / ((double)seconds / 60.0);
        out->interp_delay_ms = delay / clients;
    } else {
        ok = false;
    }
    for (uint32_t k = 0; k < clients; k++)
        netcore_game_client_destroy(cs[k]);
    netcore_game_server_destroy(server);
    netcore_sim_destroy(sim);
    arena_destroy(&s.game);
    free(cs);
    free(server_us);
    free(client_us);
    return ok;
}

#define FIGURES 8

int main(int argc, char **argv)
{
    bench_options opt = {false, 5, 0};
    bench_args_result a = bench_options_parse(
        argc, argv, "usage: session_bench [--quick] [--runs N]\n", 1, 1, 99, 1, &opt);
    if (a != BENCH_ARGS_OK)
        return a == BENCH_ARGS_HELP ? 0 : 2;
    static const uint32_t counts[] = {4, 16, 64};
    static const char *const names[FIGURES] = {"server_update_us_p50", "server_update_us_p99",
                                               "client_update_us_p50", "out_kbps_per_client",
                                               "server_bytes",         "client_bytes",
                                               "corrections_per_min",  "interp_delay_ms"};
    uint64_t seconds = opt.quick ? 2 : 10;
    bench_json j;
    bench_json_init(&j, stdout);
    bench_json_object_begin(&j, NULL);
    bench_json_machine(&j);
    bench_json_string(&j, "link", "wifi (20 +/- 5 ms one way, 1% loss) on every client");
    bench_json_uint(&j, "simulated_seconds", seconds);
    int status = 0;
    for (size_t c = 0; c < (opt.quick ? 1u : sizeof counts / sizeof counts[0]); c++) {
        double *v[FIGURES];
        for (int i = 0; i < FIGURES; i++)
            v[i] = calloc(opt.runs, sizeof(double));
        for (uint32_t r = 0; r < opt.runs; r++) {
            run_result rr;
            if (!v[FIGURES - 1] || !run(counts[c], seconds, 100 + r, &rr)) {
                status = 1;
                continue;
            }
            double vals[FIGURES] = {rr.server_p50_us,       rr.server_p99_us,  rr.client_p50_us,
                                    rr.out_kbps_per_client, rr.server_bytes,   rr.client_bytes,
                                    rr.corrections_per_min, rr.interp_delay_ms};
            for (int i = 0; i < FIGURES; i++)
                v[i][r] = vals[i];
        }
        char key[32];
        snprintf(key, sizeof key, "clients_%u", counts[c]);
        bench_json_object_begin(&j, key);
        for (int i = 0; i < FIGURES; i++) {
            bench_json_runs(&j, names[i], v[i], opt.runs);
            free(v[i]);
        }
        bench_json_object_end(&j);
    }
    bench_json_object_end(&j);
    bench_json_finish(&j);
    return status;
}
