/* Lag compensation: interpolated rewinds, the rewind bound, entities that
 * come and go, and argument checks. */
#include <criterion/criterion.h>
#include <math.h>

#include "netcore/lagcomp.h"

#define A 0x00010003u /* generation 1, slot 3 */
#define B 0x00010007u

static netcore_lagcomp *make(uint32_t history, uint32_t max_rewind)
{
    netcore_lagcomp_config c;
    netcore_lagcomp_config_default(&c);
    c.max_entities = 16;
    c.components = 2;
    c.history_ticks = history;
    c.max_rewind_ticks = max_rewind;
    netcore_lagcomp *lc = NULL;
    cr_assert_eq(netcore_lagcomp_create(&c, &lc), NETCORE_OK);
    return lc;
}

/* A at x = tick, y = -tick on every tick; B only on even ticks. */
static void record_ticks(netcore_lagcomp *lc, uint32_t from, uint32_t to)
{
    for (uint32_t t = from; t <= to; t++) {
        cr_assert_eq(netcore_lagcomp_begin_tick(lc, t), NETCORE_OK);
        float a[2] = {(float)t, -(float)t};
        cr_assert_eq(netcore_lagcomp_record(lc, A, a), NETCORE_OK);
        if (t % 2 == 0) {
            float b[2] = {100.0f + (float)t, 0.0f};
            cr_assert_eq(netcore_lagcomp_record(lc, B, b), NETCORE_OK);
        }
    }
}

Test(lagcomp, rewinds_and_interpolates)
{
    netcore_lagcomp *lc = make(72, 0);
    record_ticks(lc, 1, 100);
    float v[2];
    netcore_lagcomp_result r;
    cr_assert_eq(netcore_lagcomp_query(lc, A, 60.25, v, &r), NETCORE_OK);
    cr_assert_float_eq(v[0], 60.25f, 1e-4f);
    cr_assert_float_eq(v[1], -60.25f, 1e-4f);
    cr_assert(r.interpolated);
    cr_assert_not(r.clamped);
    cr_assert_eq(netcore_lagcomp_query(lc, A, 70.0, v, &r), NETCORE_OK);
    cr_assert_eq(v[0], 70.0f);
    uint32_t newest = 0;
    cr_assert_eq(netcore_lagcomp_newest_tick(lc, &newest), NETCORE_OK);
    cr_assert_eq(newest, 100u);
    netcore_lagcomp_destroy(lc);
}

Test(lagcomp, rewind_is_bounded)
{
    netcore_lagcomp *lc = make(72, 30);
    record_ticks(lc, 1, 100);
    float v[2];
    netcore_lagcomp_result r;
    cr_assert_eq(netcore_lagcomp_query(lc, A, 10.0, v, &r), NETCORE_OK);
    cr_assert(r.clamped);
    cr_assert_eq(v[0], 70.0f);
    cr_assert_float_eq(r.tick, 70.0, 1e-9);
    cr_assert_eq(netcore_lagcomp_query(lc, A, 130.5, v, &r), NETCORE_OK);
    cr_assert(r.clamped);
    cr_assert_eq(v[0], 100.0f);
    netcore_lagcomp_stats st;
    cr_assert_eq(netcore_lagcomp_get_stats(lc, &st), NETCORE_OK);
    cr_assert_eq(st.queries_clamped, 2u);
    netcore_lagcomp_destroy(lc);
}

Test(lagcomp, missing_entities)
{
    netcore_lagcomp *lc = make(72, 0);
    float v[2];
    cr_assert_eq(netcore_lagcomp_query(lc, A, 1.0, v, NULL), NETCORE_ERR_NOT_FOUND);
    record_ticks(lc, 1, 50);
    /* B is recorded at 40 and 42 only: 41.5 falls between 41 (absent) and 42. */
    netcore_lagcomp_result r;
    cr_assert_eq(netcore_lagcomp_query(lc, B, 41.5, v, &r), NETCORE_OK);
    cr_assert_not(r.interpolated);
    cr_assert_eq(v[0], 142.0f);
    cr_assert_eq(netcore_lagcomp_query(lc, B, 40.5, v, &r), NETCORE_OK);
    cr_assert_eq(v[0], 140.0f);
    /* Same slot, another generation: not the same entity. */
    cr_assert_eq(netcore_lagcomp_query(lc, 0x00020003u, 45.0, v, NULL), NETCORE_ERR_NOT_FOUND);
    cr_assert_eq(netcore_lagcomp_query(lc, A, NAN, v, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_lagcomp_stats st;
    netcore_lagcomp_get_stats(lc, &st);
    cr_assert_eq(st.queries_missing, 1u);
    netcore_lagcomp_destroy(lc);
}

Test(lagcomp, ticks_rise_and_ids_are_checked)
{
    netcore_lagcomp *lc = make(8, 0);
    float v[2] = {1.0f, 2.0f};
    cr_assert_eq(netcore_lagcomp_record(lc, A, v), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_lagcomp_begin_tick(lc, 5), NETCORE_OK);
    cr_assert_eq(netcore_lagcomp_begin_tick(lc, 5), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_lagcomp_begin_tick(lc, 4), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_lagcomp_record(lc, 0x00010010u, v),
                 NETCORE_ERR_INVALID_ARGUMENT); /* slot 16 */
    cr_assert_eq(netcore_lagcomp_record(lc, 0, v), NETCORE_ERR_INVALID_ARGUMENT);
    /* Gaps are allowed; a slot left behind by the ring holds nothing stale. */
    cr_assert_eq(netcore_lagcomp_record(lc, A, v), NETCORE_OK);
    cr_assert_eq(netcore_lagcomp_begin_tick(lc, 13), NETCORE_OK); /* same ring slot as 5 */
    float out[2];
    cr_assert_eq(netcore_lagcomp_query(lc, A, 13.0, out, NULL), NETCORE_ERR_NOT_FOUND);
    netcore_lagcomp_stats st;
    netcore_lagcomp_get_stats(lc, &st);
    cr_assert_eq(st.records_rejected, 3u);
    netcore_lagcomp_destroy(lc);

    netcore_lagcomp_config c;
    netcore_lagcomp_config_default(&c);
    c.max_rewind_ticks = c.history_ticks;
    cr_assert_eq(netcore_lagcomp_create(&c, &lc), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_lagcomp_config_default(&c);
    c.components = NETCORE_LAGCOMP_MAX_COMPONENTS + 1;
    cr_assert_eq(netcore_lagcomp_create(&c, &lc), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_lagcomp_destroy(NULL);
}
