/*
 * netfeel_bench: how the client netcode feels under each link preset, over a
 * fixed scripted run of the movement game in tests/support/netfeel_world.h
 * (60 Hz server, 30 Hz snapshots, 60 fps clients, two clients, four bots on
 * circles), entirely in simulated time. Per preset:
 *
 *   - input_to_motion_frames: frames between the frame that runs the first
 *     moving input and the frame whose displayed own position moves (0 with
 *     prediction); server_confirm_frames: the same up to the first snapshot
 *     that shows the move (what the player would see without prediction);
 *   - remote_delay_ms: true server time minus the render time of the remote
 *     entities, averaged over frames; interp_delay_ms: the final adaptive delay;
 *   - extrapolated_pct, starved_pct: share of frames rendered past the newest
 *     snapshot (within / beyond the extrapolation limit);
 *   - corrections_per_minute, max_error: reconciliation of the own entity;
 *   - remote_rms_error_render: RMS distance between displayed bots and their
 *     true positions at the render time (interpolation quality), and
 *     remote_rms_error_now: against their positions at the true server time
 *     (what the delay costs), in world units (bots move about 10 units/s);
 *   - input_repeated_pct: server ticks that had to repeat a client's input;
 *   - shot_hit_pct: lag-compensated shots, aimed at the displayed bot, that hit.
 *
 * --runs N repeats each preset with N seeds and reports medians (with every
 * run's value under *_runs); --messages N sets the simulated seconds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../support/netfeel_world.h"
#include "bench_util.h"

#define DEFAULT_RUNS 3
#define DEFAULT_SECONDS 60
#define QUICK_RUNS 1
#define QUICK_SECONDS 8
#define MAX_RUNS 32
#define MAX_SECONDS 3600

enum {
    FIG_INPUT_FRAMES,
    FIG_CONFIRM_FRAMES,
    FIG_REMOTE_DELAY,
    FIG_INTERP_DELAY,
    FIG_EXTRAPOLATED,
    FIG_STARVED,
    FIG_CORRECTIONS,
    FIG_MAX_ERROR,
    FIG_RMS_RENDER,
    FIG_RMS_NOW,
    FIG_REPEATED,
    FIG_HITS,
    FIG_RTT,
    FIG_LEAD,
    FIG_COUNT
};

static const char *const figure_names[FIG_COUNT] = {"input_to_motion_frames",
                                                    "server_confirm_frames",
                                                    "remote_delay_ms",
                                                    "interp_delay_ms",
                                                    "extrapolated_pct",
                                                    "starved_pct",
                                                    "corrections_per_minute",
                                                    "max_error",
                                                    "remote_rms_error_render",
                                                    "remote_rms_error_now",
                                                    "input_repeated_pct",
                                                    "shot_hit_pct",
                                                    "rtt_ms",
                                                    "target_lead_ms"};

static const netcore_link_preset presets[] = {NETCORE_LINK_LAN, NETCORE_LINK_WIFI, NETCORE_LINK_4G,
                                              NETCORE_LINK_BAD};
#define PRESET_COUNT (sizeof presets / sizeof presets[0])

/* Mean over the clients of one figure; NaN when no client measured it. */
static double client_mean(const nf_world *w, int figure)
{
    double sum = 0.0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->config.clients; i++) {
        const nf_client *c = &w->clients[i];
        netcore_predict_stats ps;
        netcore_interp_stats is;
        netcore_timesync_stats ts;
        netcore_predict_get_stats(c->predict, &ps);
        netcore_interp_get_stats(c->interp, &is);
        netcore_timesync_get_stats(c->sync, &ts);
        const nf_player *p = nf_player_of(w, c);
        netcore_input_server_stats ins;
        memset(&ins, 0, sizeof ins);
        if (p)
            netcore_input_server_get_client_stats(w->server.input, p->slot, &ins);
        double v = NAN;
        switch (figure) {
        case FIG_INPUT_FRAMES:
            if (c->move_tick_frame >= 0 && c->move_shown_frame >= 0)
                v = (double)(c->move_shown_frame - c->move_tick_frame);
            break;
        case FIG_CONFIRM_FRAMES:
            if (c->move_tick_frame >= 0 && c->move_confirmed_frame >= 0)
                v = (double)(c->move_confirmed_frame - c->move_tick_frame);
            break;
        case FIG_REMOTE_DELAY:
            if (c->delay_samples)
                v = c->delay_ms_sum / (double)c->delay_samples;
            break;
        case FIG_INTERP_DELAY:
            v = is.delay_ms;
            break;
        case FIG_EXTRAPOLATED:
            v = is.extrapolated_pct;
            break;
        case FIG_STARVED:
            v = is.starved_pct;
            break;
        case FIG_CORRECTIONS:
            v = ps.corrections_per_minute;
            break;
        case FIG_MAX_ERROR:
            v = ps.max_error;
            break;
        case FIG_RMS_RENDER:
            if (c->bot_samples)
                v = sqrt(c->sq_error_render / (double)c->bot_samples);
            break;
        case FIG_RMS_NOW:
            if (c->bot_samples)
                v = sqrt(c->sq_error_now / (double)c->bot_samples);
            break;
        case FIG_REPEATED: {
            uint64_t ticks = ins.ticks_received + ins.ticks_repeated;
            if (ticks)
                v = 100.0 * (double)ins.ticks_repeated / (double)ticks;
            break;
        }
        case FIG_RTT:
            v = ts.rtt_ms;
            break;
        case FIG_LEAD:
            v = ts.target_lead_ms;
            break;
        default:
            break;
        }
        if (isfinite(v)) {
            sum += v;
            n++;
        }
    }
    return n ? sum / n : NAN;
}

/* One scripted run; figures[f] gets each figure. Returns false if the world
 * could not be built. */
static bool run_once(netcore_link_preset preset, uint64_t seed, uint32_t seconds, double *figures)
{
    nf_world *w = calloc(1, sizeof *w);
    if (!w)
        return false;
    nf_config cfg;
    nf_config_default(&cfg);
    cfg.preset = preset;
    cfg.seed = seed;
    cfg.clients = 2;
    cfg.bots = 4;
    cfg.path = NF_PATH_CIRCLE;
    uint32_t ticks = seconds * cfg.tick_rate_hz;
    cfg.move_start_tick = ticks / 8;
    cfg.move_stop_tick = ticks - ticks / 8;
    bool ok = nf_world_create(w, &cfg) == NETCORE_OK;
    if (ok) {
        nf_world_run(w, ticks);
        for (int f = 0; f < FIG_COUNT; f++)
            figures[f] = f == FIG_HITS ? NAN : client_mean(w, f);
        if (w->server.shots)
            figures[FIG_HITS] = 100.0 * (double)w->server.hits / (double)w->server.shots;
    }
    nf_world_destroy(w);
    free(w);
    return ok;
}

static const char usage[] =
    "usage: netfeel_bench [--quick] [--runs N] [--messages SECONDS]\n"
    "  Plays a scripted movement game over the simulated transport under each link\n"
    "  preset and prints how prediction, interpolation and lag compensation feel\n"
    "  as one JSON object on stdout (see docs/netcode.md).\n"
    "  --quick       one short run per preset (smoke test)\n"
    "  --runs N      seeds per preset whose medians are reported (default 3, at most 32)\n"
    "  --messages N  simulated seconds per run (default 60, at most 3600)\n";

int main(int argc, char **argv)
{
    bench_options options = {false, DEFAULT_RUNS, DEFAULT_SECONDS};
    bench_args_result args = bench_options_parse(argc, argv, usage, QUICK_RUNS, QUICK_SECONDS,
                                                 MAX_RUNS, MAX_SECONDS, &options);
    if (args != BENCH_ARGS_OK)
        return args == BENCH_ARGS_HELP ? 0 : 2;
    uint64_t start_ns = bench_now_ns();
    double values[PRESET_COUNT][FIG_COUNT][MAX_RUNS];
    uint32_t failures = 0;
    for (size_t p = 0; p < PRESET_COUNT; p++) {
        for (uint32_t r = 0; r < options.runs; r++) {
            double figures[FIG_COUNT];
            if (!run_once(presets[p], 1000u + r, options.messages, figures)) {
                failures++;
                for (int f = 0; f < FIG_COUNT; f++)
                    figures[f] = NAN;
            }
            for (int f = 0; f < FIG_COUNT; f++)
                values[p][f][r] = figures[f];
        }
    }
    double elapsed_s = (double)(bench_now_ns() - start_ns) / 1e9;

    bench_json json;
    bench_json_init(&json, stdout);
    bench_json_object_begin(&json, NULL);
    bench_json_string(&json, "benchmark", "netfeel");
    bench_json_string(&json, "netcore_version", netcore_version_string());
    bench_json_machine(&json);
    bench_json_object_begin(&json, "parameters");
    bench_json_uint(&json, "runs", options.runs);
    bench_json_uint(&json, "simulated_seconds", options.messages);
    bench_json_uint(&json, "tick_rate_hz", 60);
    bench_json_uint(&json, "snapshot_rate_hz", 30);
    bench_json_uint(&json, "frame_rate_hz", 60);
    bench_json_uint(&json, "clients", 2);
    bench_json_uint(&json, "bots", 4);
    bench_json_object_end(&json);
    bench_json_object_begin(&json, "presets");
    for (size_t p = 0; p < PRESET_COUNT; p++) {
        bench_json_object_begin(&json, netcore_link_preset_name(presets[p]));
        for (int f = 0; f < FIG_COUNT; f++)
            bench_json_runs(&json, figure_names[f], values[p][f], options.runs);
        bench_json_object_end(&json);
    }
    bench_json_object_end(&json);
    bench_json_uint(&json, "failed_runs", failures);
    bench_json_number(&json, "elapsed_s", elapsed_s);
    bench_json_object_end(&json);
    bench_json_finish(&json);
    return failures ? 1 : 0;
}
