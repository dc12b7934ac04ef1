/* Clock sync: server time estimate under delay, jitter and spikes, the
 * client tick lead, time dilation, hard resyncs and argument checks. */
#include <criterion/criterion.h>
#include <math.h>

#include "core/core_internal.h"
#include "netcore/timesync.h"

#define TICK_US (1e6 / 60.0)
#define LOCAL_OFFSET_US 5000000ull /* local clock = server clock + 5 s */

static netcore_timesync *make_sync(void)
{
    netcore_timesync_config c;
    netcore_timesync_config_default(&c);
    netcore_timesync *s = NULL;
    cr_assert_eq(netcore_timesync_create(&c, &s), NETCORE_OK);
    return s;
}

/* Local time at which server time server_us happens. */
static uint64_t local_of(double server_us)
{
    return (uint64_t)llround(server_us) + LOCAL_OFFSET_US;
}

/* Feeds snapshots (every 2 ticks) from first_tick to last_tick, each delayed
 * by delay_us plus uniform jitter in [0, jitter_us), plus spike_us on one in
 * spike_every (0: never). */
static void feed(netcore_timesync *s, nci_rng *rng, uint32_t first_tick, uint32_t last_tick,
                 double delay_us, double jitter_us, double spike_us, uint32_t spike_every)
{
    for (uint32_t t = first_tick; t <= last_tick; t += 2) {
        double d = delay_us + jitter_us * nci_rng_unit(rng);
        if (spike_every && nci_rng_below(rng, spike_every) == 0)
            d += spike_us;
        cr_assert_eq(netcore_timesync_on_snapshot(s, t, local_of(t * TICK_US + d), NULL),
                     NETCORE_OK);
    }
}

Test(timesync, config_is_checked)
{
    netcore_timesync_config c;
    netcore_timesync *s = (netcore_timesync *)1;
    netcore_timesync_config_default(&c);
    c.tick_rate_hz = 0;
    cr_assert_eq(netcore_timesync_create(&c, &s), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_null(s);
    netcore_timesync_config_default(&c);
    c.window = 2;
    cr_assert_eq(netcore_timesync_create(&c, &s), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_timesync_config_default(&c);
    c.max_dilation = 0.9f;
    cr_assert_eq(netcore_timesync_create(&c, &s), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_timesync_config_default(&c);
    c.catch_up_s = NAN;
    cr_assert_eq(netcore_timesync_create(&c, &s), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_timesync_create(NULL, &s), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_timesync_on_snapshot(NULL, 1, 1, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_timesync_destroy(NULL);
}

Test(timesync, unsynced_clock_hands_out_nothing)
{
    netcore_timesync *s = make_sync();
    uint32_t first = 9, count = 9;
    cr_assert_eq(netcore_timesync_advance(s, 1000, &first, &count), NETCORE_ERR_STATE);
    cr_assert_eq(count, 0u);
    cr_assert_eq(netcore_timesync_server_time_us(s, 1000), 0.0);
    cr_assert_not(netcore_timesync_is_synced(s));
    cr_assert_eq(netcore_timesync_set_rtt(s, -1.0f), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_timesync_set_rtt(s, NAN), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_timesync_destroy(s);
}

Test(timesync, estimates_server_time_through_delay_and_spikes)
{
    netcore_timesync *s = make_sync();
    nci_rng rng;
    nci_rng_seed(&rng, 3);
    /* One-way delay 50 ms +/- 5 (uniform 45..55), RTT 100; one snapshot in
     * eight delayed by a further 200 ms. */
    cr_assert_eq(netcore_timesync_set_rtt(s, 100.0f), NETCORE_OK);
    feed(s, &rng, 2, 600, 45000.0, 10000.0, 200000.0, 8);
    double server_now = 601 * TICK_US;
    double est = netcore_timesync_server_time_us(s, local_of(server_now));
    cr_assert_lt(fabs(est - server_now), 4000.0, "estimate off by %f us", est - server_now);
    netcore_timesync_stats st;
    cr_assert_eq(netcore_timesync_get_stats(s, &st), NETCORE_OK);
    cr_assert_eq(st.samples, 300u);
    cr_assert_gt(st.jitter_ms, 2.0f);
    cr_assert_lt(st.jitter_ms, 8.0f);
    netcore_timesync_destroy(s);
}

Test(timesync, estimate_never_goes_backwards_while_slewing)
{
    netcore_timesync *s = make_sync();
    nci_rng rng;
    nci_rng_seed(&rng, 5);
    cr_assert_eq(netcore_timesync_set_rtt(s, 60.0f), NETCORE_OK);
    /* Snapshots every 2 ticks with 30..70 ms of delay (so they also arrive
     * out of order); the clock is read every millisecond. */
    enum { SNAPSHOTS = 1000 };
    static uint64_t arrival[SNAPSHOTS];
    for (uint32_t i = 0; i < SNAPSHOTS; i++)
        arrival[i] = local_of((2 + 2 * i) * TICK_US + 30000.0 + 40000.0 * nci_rng_unit(&rng));
    double last = -1.0;
    uint32_t fed = 0;
    for (uint64_t now = local_of(0.0); fed < SNAPSHOTS; now += 1000) {
        for (uint32_t i = 0; i < SNAPSHOTS; i++)
            if (arrival[i] > now - 1000 && arrival[i] <= now) {
                netcore_timesync_on_snapshot(s, 2 + 2 * i, now, NULL);
                fed++;
            }
        if (!netcore_timesync_is_synced(s))
            continue;
        double est = netcore_timesync_server_time_us(s, now);
        cr_assert_geq(est, last, "estimate went back by %f us", last - est);
        last = est;
    }
    netcore_timesync_stats st;
    netcore_timesync_get_stats(s, &st);
    cr_assert_eq(st.offset_resyncs, 0u);
    netcore_timesync_destroy(s);
}

/* Runs frames at 60 fps between server ticks from..to, feeding snapshots
 * with a fixed delay; checks that handed-out ticks are consecutive. */
static uint32_t run_frames(netcore_timesync *s, uint32_t from, uint32_t to, double delay_us,
                           uint32_t *next_expected)
{
    uint32_t handed = 0;
    for (uint32_t t = from; t <= to; t++) {
        if (t % 2 == 0)
            netcore_timesync_on_snapshot(s, t, local_of(t * TICK_US + delay_us), NULL);
        uint32_t first = 0, count = 0;
        cr_assert_eq(
            netcore_timesync_advance(s, local_of(t * TICK_US + delay_us + 1000.0), &first, &count),
            NETCORE_OK);
        if (count) {
            if (*next_expected)
                cr_assert_eq(first, *next_expected, "tick %u handed out after %u", first,
                             *next_expected - 1);
            *next_expected = first + count;
            handed += count;
        }
    }
    return handed;
}

Test(timesync, client_runs_ahead_by_the_target_lead)
{
    netcore_timesync *s = make_sync();
    cr_assert_eq(netcore_timesync_set_rtt(s, 80.0f), NETCORE_OK);
    uint32_t next = 0;
    uint32_t handed = run_frames(s, 2, 1200, 40000.0, &next);
    cr_assert_gt(handed, 1100u);
    netcore_timesync_stats st;
    cr_assert_eq(netcore_timesync_get_stats(s, &st), NETCORE_OK);
    /* RTT / 2 + margin (8 ms) + 2 * jitter (0 here). */
    cr_assert_float_eq(st.target_lead_ms, 48.0f, 0.5f);
    double server_tick = 1200.0 + (40000.0 + 1000.0) / TICK_US;
    double lead_ms = (netcore_timesync_client_tick(s) - server_tick) * TICK_US / 1000.0;
    cr_assert_float_eq(lead_ms, 48.0, 3.0, "lead %f ms", lead_ms);
    cr_assert_eq(st.hard_resyncs, 0u);
    netcore_timesync_destroy(s);
}

Test(timesync, dilation_closes_a_lead_change_gradually)
{
    netcore_timesync *s = make_sync();
    cr_assert_eq(netcore_timesync_set_rtt(s, 40.0f), NETCORE_OK);
    uint32_t next = 0;
    run_frames(s, 2, 600, 20000.0, &next);
    /* The RTT doubles: the client must get 40 ms further ahead, by running fast. */
    for (int i = 0; i < 16; i++)
        netcore_timesync_set_rtt(s, 120.0f);
    float max_dilation = 0.0f;
    for (uint32_t t = 601; t < 1800; t += 30) {
        run_frames(s, t, t + 29, 60000.0, &next);
        netcore_timesync_stats st;
        netcore_timesync_get_stats(s, &st);
        if (st.dilation > max_dilation)
            max_dilation = st.dilation;
        cr_assert_leq(fabsf(st.dilation), 0.05f + 1e-6f);
    }
    netcore_timesync_stats st;
    netcore_timesync_get_stats(s, &st);
    cr_assert_gt(max_dilation, 0.01f, "never sped up");
    cr_assert_eq(st.hard_resyncs, 0u);
    cr_assert_lt(fabsf(st.lead_error_ms), 2.0f, "still %f ms off", st.lead_error_ms);
    netcore_timesync_destroy(s);
}

Test(timesync, large_errors_resync_at_once)
{
    netcore_timesync *s = make_sync();
    cr_assert_eq(netcore_timesync_set_rtt(s, 20.0f), NETCORE_OK);
    uint32_t next = 0;
    run_frames(s, 2, 300, 10000.0, &next);
    /* The server's clock jumps one second ahead (e.g. it stalled and caught up). */
    for (uint32_t t = 362; t < 600; t += 2)
        netcore_timesync_on_snapshot(s, t, local_of((t - 60) * TICK_US + 10000.0), NULL);
    netcore_timesync_stats st;
    netcore_timesync_get_stats(s, &st);
    cr_assert_geq(st.offset_resyncs, 1u);
    uint32_t first = 0, count = 0;
    cr_assert_eq(netcore_timesync_advance(s, local_of(540 * TICK_US + 20000.0), &first, &count),
                 NETCORE_OK);
    netcore_timesync_get_stats(s, &st);
    cr_assert_geq(st.hard_resyncs, 1u);
    cr_assert_leq(count, 8u);
    cr_assert_geq(first, next, "ticks went backwards");
    netcore_timesync_destroy(s);
}

Test(timesync, stale_ticks_are_ignored_as_an_outcome)
{
    netcore_timesync *s = make_sync();
    cr_assert_eq(netcore_timesync_on_snapshot(s, 100000, 1000, NULL), NETCORE_OK);
    netcore_timesync_sample_outcome outcome;
    cr_assert_eq(netcore_timesync_on_snapshot(s, 10, 2000, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_TIMESYNC_SAMPLE_STALE);
    netcore_timesync_stats st;
    netcore_timesync_get_stats(s, &st);
    cr_assert_eq(st.samples_rejected, 1u);
    cr_assert_eq(st.samples, 1u);
    netcore_timesync_reset(s);
    cr_assert_not(netcore_timesync_is_synced(s));
    cr_assert_eq(netcore_timesync_on_snapshot(s, 10, 2000, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_TIMESYNC_SAMPLE_USED, "after a reset any tick is news");
    netcore_timesync_destroy(s);
}

Test(timesync, extreme_stamps_stay_defined)
{
    netcore_timesync *s = make_sync();
    uint32_t first = 0, count = 0;
    /* A stamp at the very end of the tick range, then one at 0 (rejected as stale). */
    cr_assert_eq(netcore_timesync_on_snapshot(s, UINT32_MAX, 1000, NULL), NETCORE_OK);
    cr_assert_eq(netcore_timesync_advance(s, 2000, &first, &count), NETCORE_OK);
    cr_assert_leq(count, 8u);
    netcore_timesync_sample_outcome outcome;
    cr_assert_eq(netcore_timesync_on_snapshot(s, 0, 3000, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_TIMESYNC_SAMPLE_STALE);
    netcore_timesync_reset(s);
    /* Tick 0 received long after local time 0 with no margin: a target below zero. */
    netcore_timesync_destroy(s);
    netcore_timesync_config c;
    netcore_timesync_config_default(&c);
    c.safety_margin_ms = 0.0f;
    cr_assert_eq(netcore_timesync_create(&c, &s), NETCORE_OK);
    cr_assert_eq(netcore_timesync_on_snapshot(s, 0, 5000000, NULL), NETCORE_OK);
    cr_assert_eq(netcore_timesync_advance(s, 5000001, &first, &count), NETCORE_OK);
    cr_assert_leq(count, 1u);
    netcore_timesync_destroy(s);
}
