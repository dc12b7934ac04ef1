/* Client netcode end to end over the simulated transport: a tiny movement
 * game (tests/support/netfeel_world.h) with clock sync, input redundancy,
 * prediction and reconciliation, interpolation and lag compensation, under
 * every link preset. All in simulated time. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "netfeel_world.h"

#define SETTLE_TICKS 300u

static nf_world *run_world_with(netcore_link_preset preset, nf_path path, uint64_t seed,
                                uint32_t knockback_tick)
{
    nf_world *w = calloc(1, sizeof *w);
    cr_assert_not_null(w);
    nf_config cfg;
    nf_config_default(&cfg);
    cfg.preset = preset;
    cfg.path = path;
    cfg.seed = seed;
    cfg.move_stop_tick = 1200;
    cfg.knockback_tick = knockback_tick;
    cr_assert_eq(nf_world_create(w, &cfg), NETCORE_OK);
    nf_world_run(w, cfg.move_stop_tick + SETTLE_TICKS);
    return w;
}

static nf_world *run_world(netcore_link_preset preset, nf_path path, uint64_t seed)
{
    return run_world_with(preset, path, seed, 0);
}

static void free_world(nf_world *w)
{
    nf_world_destroy(w);
    free(w);
}

/* Every client predicted its own player, and after the inputs stop the
 * prediction equals the server's state exactly (same quantized math), with
 * the visual smoothing offset gone. */
static void assert_settled(const nf_world *w)
{
    for (uint32_t i = 0; i < w->config.clients; i++) {
        const nf_client *c = &w->clients[i];
        const nf_player *p = nf_player_of(w, c);
        cr_assert_not_null(p, "client %u never joined", i);
        uint32_t tick = 0;
        const nf_state *predicted = netcore_predict_state(c->predict, &tick);
        cr_assert_not_null(predicted, "client %u never predicted", i);
        cr_assert_lt(fabsf(predicted->x - p->state.x) + fabsf(predicted->y - p->state.y), 0.001f,
                     "client %u predicted (%f, %f), server has (%f, %f)", i, predicted->x,
                     predicted->y, p->state.x, p->state.y);
        netcore_vec3 offset = netcore_predict_visual_offset(c->predict);
        cr_assert_lt(fabsf(offset.x) + fabsf(offset.y), 0.01f);
        netcore_predict_stats ps;
        cr_assert_eq(netcore_predict_get_stats(c->predict, &ps), NETCORE_OK);
        cr_assert_gt(ps.reconciles, 100u, "client %u compared only %llu states", i,
                     (unsigned long long)ps.reconciles);
        /* The player did move: the script is not idle. */
        cr_assert(p->state.x != 10.0f * (float)p->slot || p->state.y != 0.0f);
    }
}

static void assert_continuous(const nf_world *w)
{
    for (uint32_t i = 0; i < w->config.clients; i++) {
        const nf_client *c = &w->clients[i];
        cr_assert_gt(c->bot_samples, 1000u);
        /* Steps back above 1e-4 units (float noise) are counted; a frame of
         * motion is 0.12 units or more. */
        cr_assert_eq(c->backward_steps, 0u, "client %u showed a bot stepping back %f units", i,
                     c->largest_backward);
    }
}

static void assert_shots_hit(const nf_world *w)
{
    const nf_server *s = &w->server;
    uint32_t fired = 0;
    for (uint32_t i = 0; i < w->config.clients; i++) {
        fired += w->clients[i].shots;
        cr_assert_eq(w->clients[i].send_errors, 0u);
    }
    /* A lost fire input is lost; a repeated one fires twice (same aim, same view). */
    cr_assert_gt(s->shots, 20u);
    cr_assert_geq(s->shots * 10u, fired * 9u, "%u of %u shots reached the server", s->shots, fired);
    cr_assert_eq(s->hits, s->shots, "%u of %u lag-compensated shots hit (largest miss %f)", s->hits,
                 s->shots, s->largest_shot_miss);
}

static void assert_preset(netcore_link_preset preset)
{
    nf_world *w = run_world(preset, NF_PATH_LINE, 7);
    assert_settled(w);
    assert_continuous(w);
    assert_shots_hit(w);
    for (uint32_t i = 0; i < w->config.clients; i++) {
        netcore_timesync_stats ts;
        cr_assert_eq(netcore_timesync_get_stats(w->clients[i].sync, &ts), NETCORE_OK);
        /* Dilation converged instead of jumping: no hard resync after the first sync. */
        cr_assert_eq(ts.hard_resyncs, 0u, "client %u resynced %llu times", i,
                     (unsigned long long)ts.hard_resyncs);
        netcore_input_server_stats is;
        uint32_t slot = nf_player_of(w, &w->clients[i])->slot;
        cr_assert_eq(netcore_input_server_get_client_stats(w->server.input, slot, &is), NETCORE_OK);
        cr_assert_gt(is.ticks_received, 1000u);
        /* Redundancy and the lead cover loss and jitter: almost every tick had its own input. */
        cr_assert_lt(is.ticks_repeated * 50u, is.ticks_received, "client %u: %llu repeated of %llu",
                     i, (unsigned long long)is.ticks_repeated,
                     (unsigned long long)is.ticks_received);
    }
    free_world(w);
}

Test(netfeel, no_loss_means_no_misprediction)
{
    netcore_link_preset presets[] = {NETCORE_LINK_PERFECT, NETCORE_LINK_LAN};
    for (size_t n = 0; n < 2; n++) {
        nf_world *w = run_world(presets[n], NF_PATH_CIRCLE, 3);
        for (uint32_t i = 0; i < w->config.clients; i++) {
            netcore_predict_stats ps;
            cr_assert_eq(netcore_predict_get_stats(w->clients[i].predict, &ps), NETCORE_OK);
            cr_assert_gt(ps.reconciles, 300u);
            cr_assert_eq(ps.corrections, 0u, "%s: client %u corrected %llu times (max error %f)",
                         netcore_link_preset_name(presets[n]), i,
                         (unsigned long long)ps.corrections, ps.max_error);
            cr_assert_eq(ps.max_error, 0.0f);
            netcore_input_server_stats is;
            cr_assert_eq(netcore_input_server_get_client_stats(
                             w->server.input, nf_player_of(w, &w->clients[i])->slot, &is),
                         NETCORE_OK);
            cr_assert_eq(is.ticks_repeated, 0u);
            cr_assert_eq(is.inputs_late, 0u);
        }
        assert_settled(w);
        free_world(w);
    }
}

Test(netfeel, lan)
{
    assert_preset(NETCORE_LINK_LAN);
}
Test(netfeel, wifi)
{
    assert_preset(NETCORE_LINK_WIFI);
}
Test(netfeel, mobile_4g)
{
    assert_preset(NETCORE_LINK_4G);
}
Test(netfeel, bad_link)
{
    assert_preset(NETCORE_LINK_BAD);
}

Test(netfeel, prediction_shows_input_in_the_same_frame)
{
    nf_world *w = run_world(NETCORE_LINK_4G, NF_PATH_LINE, 11);
    for (uint32_t i = 0; i < w->config.clients; i++) {
        const nf_client *c = &w->clients[i];
        cr_assert_geq(c->move_tick_frame, 0);
        cr_assert_eq(c->move_shown_frame, c->move_tick_frame);
        /* Without prediction the motion would show only a round trip later. */
        cr_assert_gt(c->move_confirmed_frame, c->move_tick_frame + 3);
    }
    free_world(w);
}

Test(netfeel, lag_compensation_is_what_makes_shots_hit)
{
    nf_world *w = run_world(NETCORE_LINK_4G, NF_PATH_LINE, 5);
    assert_shots_hit(w);
    /* Aimed at the displayed (past) position, the same shots miss the present one. */
    cr_assert_lt(w->server.hits_uncompensated * 10u, w->server.shots);
    free_world(w);
}

Test(netfeel, interpolation_delay_adapts_to_the_link)
{
    nf_world *lan = run_world(NETCORE_LINK_LAN, NF_PATH_CIRCLE, 9);
    nf_world *bad = run_world(NETCORE_LINK_BAD, NF_PATH_CIRCLE, 9);
    netcore_interp_stats a, b;
    cr_assert_eq(netcore_interp_get_stats(lan->clients[0].interp, &a), NETCORE_OK);
    cr_assert_eq(netcore_interp_get_stats(bad->clients[0].interp, &b), NETCORE_OK);
    /* LAN: about two snapshot intervals (33 ms each); bad: latency + jitter + loss allowance. */
    cr_assert_lt(a.delay_ms, 120.0f, "lan delay %f", a.delay_ms);
    cr_assert_gt(b.delay_ms, 200.0f, "bad delay %f", b.delay_ms);
    cr_assert_lt(b.delay_ms, 500.1f);
    cr_assert_lt(a.extrapolated_pct, 1.0f);
    cr_assert_lt(b.starved_pct, 5.0f);
    free_world(lan);
    free_world(bad);
}

Test(netfeel, same_seed_same_game)
{
    nf_world *a = run_world(NETCORE_LINK_BAD, NF_PATH_CIRCLE, 21);
    nf_world *b = run_world(NETCORE_LINK_BAD, NF_PATH_CIRCLE, 21);
    for (uint32_t i = 0; i < a->config.clients; i++) {
        netcore_predict_stats pa, pb;
        netcore_predict_get_stats(a->clients[i].predict, &pa);
        netcore_predict_get_stats(b->clients[i].predict, &pb);
        cr_assert_eq(pa.reconciles, pb.reconciles);
        cr_assert_eq(pa.corrections, pb.corrections);
        cr_assert_eq(a->clients[i].sq_error_render, b->clients[i].sq_error_render);
        cr_assert_eq(a->clients[i].delay_ms_sum, b->clients[i].delay_ms_sum);
        const nf_player *x = nf_player_of(a, &a->clients[i]), *y = nf_player_of(b, &b->clients[i]);
        cr_assert_not_null(x);
        cr_assert_not_null(y);
        cr_assert_eq(x->state.x, y->state.x);
        cr_assert_eq(x->state.y, y->state.y);
    }
    cr_assert_eq(a->server.shots, b->server.shots);
    free_world(a);
    free_world(b);
}

Test(netfeel, server_side_push_is_corrected_and_smoothed)
{
    netcore_link_preset presets[] = {NETCORE_LINK_LAN, NETCORE_LINK_4G, NETCORE_LINK_BAD};
    for (size_t n = 0; n < 3; n++) {
        nf_world *w = run_world_with(presets[n], NF_PATH_LINE, 13, 700);
        for (uint32_t i = 0; i < w->config.clients; i++) {
            netcore_predict_stats ps;
            cr_assert_eq(netcore_predict_get_stats(w->clients[i].predict, &ps), NETCORE_OK);
            /* The push is 2 units: one correction of about that size. */
            cr_assert_geq(ps.corrections, 1u, "%s: no correction",
                          netcore_link_preset_name(presets[n]));
            cr_assert_geq(ps.max_error, 1.99f);
            cr_assert_gt(ps.ticks_replayed, 0u);
        }
        assert_settled(w); /* and the prediction ends up exactly on the server's state */
        free_world(w);
    }
}
