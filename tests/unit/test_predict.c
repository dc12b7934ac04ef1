/* Prediction and reconciliation: replay after a misprediction, visual
 * smoothing, ignored server states, gaps and statistics. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "netcore/predict.h"

typedef struct state {
    float x;
    uint32_t steps;
} state;

static uint32_t simulated;

static void simulate(void *user, void *s, const void *input, uint32_t tick)
{
    (void)user;
    (void)tick;
    state *st = s;
    int8_t dx;
    memcpy(&dx, input, 1);
    st->x += (float)dx;
    st->steps++;
    simulated++;
}

static float error(void *user, const void *a, const void *b)
{
    (void)user;
    return fabsf(((const state *)a)->x - ((const state *)b)->x);
}

static netcore_vec3 position(void *user, const void *s)
{
    (void)user;
    netcore_vec3 v = {((const state *)s)->x, 0.0f, 0.0f};
    return v;
}

static netcore_predict *make(float snap_distance)
{
    netcore_predict_config c;
    netcore_predict_config_default(&c);
    c.state_size_bytes = sizeof(state);
    c.input_size_bytes = 1;
    c.ring_length = 32;
    c.simulate = simulate;
    c.error = error;
    c.position = position;
    c.snap_distance = snap_distance;
    c.smoothing_half_life_ms = 100.0f;
    netcore_predict *p = NULL;
    cr_assert_eq(netcore_predict_create(&c, &p), NETCORE_OK);
    return p;
}

static void step(netcore_predict *p, uint32_t tick, int8_t dx)
{
    cr_assert_eq(netcore_predict_step(p, tick, &dx), NETCORE_OK);
}

Test(predict, matching_server_states_change_nothing)
{
    netcore_predict *p = make(100.0f);
    state s0 = {0.0f, 0};
    cr_assert_eq(netcore_predict_step(p, 1, &(int8_t){1}), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_predict_reset(p, 10, &s0), NETCORE_OK);
    for (uint32_t t = 11; t <= 20; t++)
        step(p, t, 1);
    uint32_t tick = 0;
    const state *now = netcore_predict_state(p, &tick);
    cr_assert_eq(tick, 20u);
    cr_assert_eq(now->x, 10.0f);
    state server = {5.0f, 5};
    netcore_predict_outcome outcome = NETCORE_PREDICT_CORRECTED;
    cr_assert_eq(netcore_predict_reconcile(p, 15, &server, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_PREDICT_MATCHED);
    netcore_predict_stats st;
    cr_assert_eq(netcore_predict_get_stats(p, &st), NETCORE_OK);
    cr_assert_eq(st.reconciles, 1u);
    cr_assert_eq(st.corrections, 0u);
    cr_assert_eq(st.max_error, 0.0f);
    netcore_predict_destroy(p);
}

Test(predict, misprediction_rewinds_and_replays)
{
    netcore_predict *p = make(100.0f);
    state s0 = {0.0f, 0};
    netcore_predict_reset(p, 0, &s0);
    for (uint32_t t = 1; t <= 20; t++)
        step(p, t, 1);
    /* The server lost input 5 and repeated input 4 ... then got pushed 3 units. */
    state server = {8.0f, 10};
    simulated = 0;
    netcore_predict_outcome outcome = NETCORE_PREDICT_MATCHED;
    cr_assert_eq(netcore_predict_reconcile(p, 10, &server, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_PREDICT_CORRECTED);
    cr_assert_eq(simulated, 10u, "ticks 11..20 replayed");
    const state *now = netcore_predict_state(p, NULL);
    cr_assert_eq(now->x, 18.0f);
    /* The player still sees the old spot; the offset fades away. */
    netcore_vec3 shown = netcore_predict_visual_position(p);
    cr_assert_float_eq(shown.x, 20.0f, 1e-5f);
    netcore_predict_update_visual(p, 100000); /* one half-life */
    cr_assert_float_eq(netcore_predict_visual_offset(p).x, 1.0f, 1e-4f);
    netcore_predict_update_visual(p, 2000000);
    cr_assert_lt(fabsf(netcore_predict_visual_offset(p).x), 1e-4f);
    netcore_predict_stats st;
    netcore_predict_get_stats(p, &st);
    cr_assert_eq(st.corrections, 1u);
    cr_assert_eq(st.ticks_replayed, 10u);
    cr_assert_float_eq(st.max_error, 2.0f, 1e-6f);
    /* The replayed ticks now agree with the server. */
    state later = {13.0f, 15};
    cr_assert_eq(netcore_predict_reconcile(p, 15, &later, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_PREDICT_MATCHED);
    netcore_predict_destroy(p);
}

Test(predict, long_corrections_snap)
{
    netcore_predict *p = make(5.0f);
    state s0 = {0.0f, 0};
    netcore_predict_reset(p, 0, &s0);
    for (uint32_t t = 1; t <= 4; t++)
        step(p, t, 1);
    state server = {100.0f, 2};
    netcore_predict_outcome outcome = NETCORE_PREDICT_MATCHED;
    netcore_predict_reconcile(p, 2, &server, &outcome);
    cr_assert_eq(outcome, NETCORE_PREDICT_CORRECTED);
    cr_assert_eq(netcore_predict_visual_offset(p).x, 0.0f);
    cr_assert_eq(netcore_predict_visual_position(p).x, 102.0f);
    netcore_predict_destroy(p);
}

Test(predict, old_and_unknown_server_states_are_ignored)
{
    netcore_predict *p = make(100.0f);
    state s0 = {0.0f, 0}, server = {3.0f, 3};
    cr_assert_eq(netcore_predict_reconcile(p, 3, &server, NULL), NETCORE_ERR_STATE);
    netcore_predict_reset(p, 0, &s0);
    for (uint32_t t = 1; t <= 40; t++)
        step(p, t, 1);
    /* Ring of 32: tick 3 is gone. */
    netcore_predict_outcome outcome;
    cr_assert_eq(netcore_predict_reconcile(p, 3, &server, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_PREDICT_IGNORED_UNKNOWN);
    cr_assert_eq(netcore_predict_reconcile(p, 41, &server, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_PREDICT_IGNORED_UNKNOWN, "not predicted yet");
    server.x = 30.0f;
    cr_assert_eq(netcore_predict_reconcile(p, 30, &server, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_PREDICT_MATCHED);
    server.x = 20.0f;
    cr_assert_eq(netcore_predict_reconcile(p, 20, &server, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_PREDICT_IGNORED_OLD);
    cr_assert_eq(netcore_predict_reconcile(p, 30, &server, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_PREDICT_IGNORED_OLD, "a repeated state");
    netcore_predict_stats st;
    netcore_predict_get_stats(p, &st);
    cr_assert_eq(st.ignored_unknown, 2u);
    cr_assert_eq(st.ignored_old, 2u);
    cr_assert_eq(st.reconciles, 1u);
    netcore_predict_destroy(p);
}

Test(predict, skipped_ticks_repeat_the_input_and_rates_are_per_minute)
{
    netcore_predict *p = make(100.0f);
    state s0 = {0.0f, 0};
    netcore_predict_reset(p, 0, &s0);
    step(p, 1, 2);
    step(p, 5, 2); /* 2, 3, 4 run with the same input */
    const state *now = netcore_predict_state(p, NULL);
    cr_assert_eq(now->x, 10.0f);
    cr_assert_eq(now->steps, 5u);
    cr_assert_eq(netcore_predict_step(p, 5, &(int8_t){1}), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_predict_step(p, 100, &(int8_t){1}), NETCORE_ERR_STATE);
    state wrong = {0.0f, 3};
    netcore_predict_reconcile(p, 3, &wrong, NULL);
    for (uint32_t t = 6; t <= 3600; t++)
        step(p, t, 0);
    netcore_predict_stats st;
    netcore_predict_get_stats(p, &st);
    cr_assert_eq(st.ticks_predicted, 3600u);
    cr_assert_float_eq(st.corrections_per_minute, 1.0f, 1e-4f); /* 3600 ticks at 60 Hz */
    netcore_predict_destroy(p);
}

Test(predict, config_is_checked)
{
    netcore_predict_config c;
    netcore_predict *p = NULL;
    netcore_predict_config_default(&c);
    c.state_size_bytes = 4;
    c.input_size_bytes = 1;
    c.error = error;
    cr_assert_eq(netcore_predict_create(&c, &p), NETCORE_ERR_INVALID_ARGUMENT); /* no simulate */
    c.simulate = simulate;
    c.ring_length = 1;
    cr_assert_eq(netcore_predict_create(&c, &p), NETCORE_ERR_INVALID_ARGUMENT);
    c.ring_length = 8;
    c.tolerance = NAN;
    cr_assert_eq(netcore_predict_create(&c, &p), NETCORE_ERR_INVALID_ARGUMENT);
    c.tolerance = 0.0f;
    c.state_size_bytes = 0;
    cr_assert_eq(netcore_predict_create(&c, &p), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_null(netcore_predict_state(NULL, NULL));
    netcore_predict_destroy(NULL);
}
