/* Interpolation: per-kind blending, teleports, extrapolation then hold,
 * the adaptive delay, a monotonic render time, entities that come and go.
 * Worlds come from a real snapshot server and client. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "netcore/interp.h"

#define TICK_US (1e6 / 60.0)
#define PI_F 3.14159265f

enum { F_POS, F_YAW, F_ROT, F_HP, F_ALIVE, F_SPEED, F_WARP };

static netcore_schema *schema;
static netcore_snapshot_server *server;
static netcore_snapshot_client *client;
static netcore_interp *interp;
static uint32_t slot;
static netcore_entity_id ent;
static uint16_t type;

static void add(netcore_field_kind kind, unsigned bits, bool is_signed)
{
    netcore_field_desc d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.bits = bits;
    d.is_signed = is_signed;
    d.min = -512.0f;
    d.max = 512.0f;
    d.precision = 1.0f / 1024.0f;
    cr_assert_eq(netcore_schema_add_field(schema, type, &d, NULL), NETCORE_OK);
}

static void setup(void)
{
    netcore_schema_config sc;
    netcore_schema_config_default(&sc);
    cr_assert_eq(netcore_schema_create(&sc, &schema), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(schema, "thing", &type), NETCORE_OK);
    add(NETCORE_FIELD_VEC3, 0, false);
    add(NETCORE_FIELD_ANGLE, 16, false);
    add(NETCORE_FIELD_QUAT, 16, false);
    add(NETCORE_FIELD_INT, 10, true);
    add(NETCORE_FIELD_BOOL, 0, false);
    add(NETCORE_FIELD_FLOAT, 0, false);
    add(NETCORE_FIELD_INT, 4, false);
    cr_assert_eq(netcore_schema_finalize(schema), NETCORE_OK);
    netcore_snapshot_server_config ssc;
    netcore_snapshot_server_config_default(&ssc);
    ssc.schema = schema;
    cr_assert_eq(netcore_snapshot_server_create(&ssc, &server), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_client_add(server, &slot), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_entity_create(server, type, &ent), NETCORE_OK);
    netcore_snapshot_client_config scc;
    netcore_snapshot_client_config_default(&scc);
    scc.schema = schema;
    cr_assert_eq(netcore_snapshot_client_create(&scc, &client), NETCORE_OK);
    netcore_interp_config ic;
    netcore_interp_config_default(&ic);
    ic.schema = schema;
    ic.max_extrapolation_ms = 50.0f;
    cr_assert_eq(netcore_interp_create(&ic, &interp), NETCORE_OK);
}

static void teardown(void)
{
    netcore_interp_destroy(interp);
    netcore_snapshot_client_destroy(client);
    netcore_snapshot_server_destroy(server);
    netcore_schema_destroy(schema);
}

static void set_x(float x)
{
    netcore_vec3 v = {x, 2.0f * x, 0.0f};
    cr_assert_eq(netcore_snapshot_server_set_vec3(server, ent, F_POS, v), NETCORE_OK);
}

/* Sends the server's world at `tick` to the client, acknowledged, and pushes
 * it into the interpolator as arriving delay_us later. */
static void deliver(uint32_t tick, double delay_us)
{
    uint8_t buf[1200], ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t n = 0;
    cr_assert_eq(netcore_snapshot_server_write(server, slot, tick, buf, sizeof buf, &n),
                 NETCORE_OK);
    cr_assert_eq(netcore_snapshot_client_read(client, buf, n, NULL), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_client_write_ack(client, ack, sizeof ack, &n), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_read_ack(server, slot, ack, n, NULL), NETCORE_OK);
    netcore_interp_push_outcome outcome;
    cr_assert_eq(netcore_interp_push(interp, client, tick * TICK_US + delay_us, &outcome),
                 NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_INTERP_PUSHED);
}

static double render_at_tick(double server_tick)
{
    cr_assert_eq(netcore_interp_update(interp, server_tick * TICK_US), NETCORE_OK);
    return netcore_interp_render_tick(interp);
}

Test(interp, floats_and_vectors_blend_linearly, .init = setup, .fini = teardown)
{
    for (uint32_t t = 2; t <= 40; t += 2) {
        set_x((float)t);
        cr_assert_eq(netcore_snapshot_server_set_float(server, ent, F_SPEED, (float)t * 0.5f),
                     NETCORE_OK);
        deliver(t, 0.0);
    }
    for (double s = 40.0; s < 44.0; s += 0.37) {
        double rt = render_at_tick(s);
        cr_assert_lt(rt, 40.0);
        netcore_vec3 v;
        float speed;
        cr_assert_eq(netcore_interp_get_vec3(interp, ent, F_POS, &v), NETCORE_OK);
        cr_assert_eq(netcore_interp_get_float(interp, ent, F_SPEED, &speed), NETCORE_OK);
        cr_assert_float_eq(v.x, (float)rt, 2e-3f, "x %f at render tick %f", v.x, rt);
        cr_assert_float_eq(v.y, 2.0f * (float)rt, 4e-3f);
        cr_assert_float_eq(speed, 0.5f * (float)rt, 2e-3f);
    }
    cr_assert_eq(netcore_interp_entity_count(interp), 1u);
    netcore_entity_id id;
    uint16_t ty;
    bool extrapolated = true;
    cr_assert_eq(netcore_interp_entity_at(interp, 0, &id, &ty, &extrapolated), NETCORE_OK);
    cr_assert_eq(id, ent);
    cr_assert_eq(ty, type);
    cr_assert_not(extrapolated);
    netcore_interp_stats st;
    cr_assert_eq(netcore_interp_get_stats(interp, &st), NETCORE_OK);
    /* Two 33 ms snapshot intervals to start with. */
    cr_assert_float_eq(st.delay_ms, 66.7f, 1.5f);
    cr_assert_eq(st.frames_extrapolated, 0u);
}

Test(interp, angles_take_the_short_way_and_quaternions_stay_unit, .init = setup, .fini = teardown)
{
    netcore_quat a = {0.0f, 0.0f, 0.0f, 1.0f};
    netcore_quat b = {0.0f, 0.0f, sinf(PI_F / 4.0f), cosf(PI_F / 4.0f)}; /* 90 degrees about z */
    for (uint32_t t = 2; t <= 20; t += 2) {
        bool odd = (t / 2) % 2;
        netcore_snapshot_server_set_float(server, ent, F_YAW, odd ? 3.0f : -3.0f);
        netcore_snapshot_server_set_quat(server, ent, F_ROT, odd ? b : a);
        deliver(t, 0.0);
    }
    for (double s = 18.0; s < 22.0; s += 0.25) {
        double rt = render_at_tick(s);
        double base = 2.0 * floor(rt / 2.0);
        float frac = (float)((rt - base) / 2.0);
        float yaw;
        cr_assert_eq(netcore_interp_get_float(interp, ent, F_YAW, &yaw), NETCORE_OK);
        /* Between 3 and -3 the short way crosses pi: never near 0. */
        cr_assert_gt(fabsf(yaw), 2.99f, "yaw %f at %f", yaw, rt);
        netcore_quat q;
        cr_assert_eq(netcore_interp_get_quat(interp, ent, F_ROT, &q), NETCORE_OK);
        float len = sqrtf(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w);
        cr_assert_float_eq(len, 1.0f, 1e-4f);
        float angle = 2.0f * atan2f(fabsf(q.z), fabsf(q.w));
        float expect = ((int)(base / 2.0) % 2 ? 1.0f - frac : frac) * PI_F / 2.0f;
        cr_assert_float_eq(angle, expect, 0.03f, "angle %f expected %f", angle, expect);
    }
}

Test(interp, ints_and_bools_snap_at_the_newer_tick, .init = setup, .fini = teardown)
{
    for (uint32_t t = 2; t <= 20; t += 2) {
        netcore_snapshot_server_set_int(server, ent, F_HP, -(int64_t)t);
        netcore_snapshot_server_set_bool(server, ent, F_ALIVE, (t / 2) % 2);
        deliver(t, 0.0);
    }
    for (double s = 18.0; s < 22.0; s += 0.3) {
        double rt = render_at_tick(s);
        int64_t hp;
        bool alive;
        cr_assert_eq(netcore_interp_get_int(interp, ent, F_HP, &hp), NETCORE_OK);
        cr_assert_eq(netcore_interp_get_bool(interp, ent, F_ALIVE, &alive), NETCORE_OK);
        uint32_t held = (uint32_t)(2.0 * floor(rt / 2.0));
        cr_assert_eq(hp, -(int64_t)held, "hp %lld at %f", (long long)hp, rt);
        cr_assert_eq(alive, (bool)((held / 2) % 2));
    }
    float f;
    cr_assert_eq(netcore_interp_get_float(interp, ent, F_HP, &f), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_interp_get_int(interp, ent, 99, &(int64_t){0}),
                 NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_interp_get_int(interp, ent + 1, F_HP, &(int64_t){0}),
                 NETCORE_ERR_NOT_FOUND);
}

Test(interp, teleports_snap, .init = setup, .fini = teardown)
{
    netcore_interp_type_config tc = {F_WARP, 0.0f};
    cr_assert_eq(netcore_interp_set_type_config(interp, type, &tc), NETCORE_OK);
    /* Moves 1 per tick, but at tick 12 it is warped (field bumped) to 100. */
    for (uint32_t t = 2; t <= 20; t += 2) {
        set_x(t < 12 ? (float)t : 100.0f + (float)t);
        netcore_snapshot_server_set_int(server, ent, F_WARP, t < 12 ? 0 : 1);
        deliver(t, 0.0);
    }
    netcore_interp_stats st;
    netcore_interp_get_stats(interp, &st);
    cr_assert_eq(st.teleports, 1u);
    /* Render from tick 10 to 12: the old position holds, then the new one. */
    for (double s = 14.0; s < 18.0; s += 0.25) {
        double rt = render_at_tick(s);
        netcore_vec3 v;
        netcore_interp_get_vec3(interp, ent, F_POS, &v);
        if (rt < 10.0 || rt > 12.0)
            continue;
        cr_assert(fabsf(v.x - 10.0f) < 1e-3f || (rt >= 12.0 && fabsf(v.x - 112.0f) < 1e-3f),
                  "x %f at %f", v.x, rt);
    }
    /* Distance rule: a jump of more than 5 units snaps too. */
    tc.teleport_field = NETCORE_INTERP_NO_FIELD;
    tc.snap_distance = 5.0f;
    cr_assert_eq(netcore_interp_set_type_config(interp, type, &tc), NETCORE_OK);
    tc.teleport_field = F_POS;
    cr_assert_eq(netcore_interp_set_type_config(interp, type, &tc), NETCORE_ERR_INVALID_ARGUMENT);
    tc.teleport_field = NETCORE_INTERP_NO_FIELD;
    tc.snap_distance = -1.0f;
    cr_assert_eq(netcore_interp_set_type_config(interp, type, &tc), NETCORE_ERR_INVALID_ARGUMENT);
}

Test(interp, extrapolation_is_bounded_then_holds, .init = setup, .fini = teardown)
{
    for (uint32_t t = 2; t <= 20; t += 2) {
        set_x((float)t);
        netcore_snapshot_server_set_int(server, ent, F_HP, (int64_t)t);
        deliver(t, 0.0);
    }
    bool saw_extrapolated = false;
    double last_x = 0.0;
    for (double s = 20.0; s < 40.0; s += 0.5) {
        double rt = render_at_tick(s);
        netcore_vec3 v;
        netcore_interp_get_vec3(interp, ent, F_POS, &v);
        double limit = 20.0 + 3.0; /* 50 ms at 60 Hz */
        double expect = rt < limit ? rt : limit;
        cr_assert_float_eq(v.x, (float)expect, 2e-3f, "x %f at %f", v.x, rt);
        cr_assert_geq(v.x, last_x);
        last_x = v.x;
        bool extrapolated = false;
        netcore_interp_entity_at(interp, 0, NULL, NULL, &extrapolated);
        saw_extrapolated |= extrapolated;
        if (rt > 20.0) {
            int64_t hp = 0;
            netcore_interp_get_int(interp, ent, F_HP, &hp);
            cr_assert_eq(hp, 20, "an extrapolated int holds the newest value");
        }
    }
    cr_assert(saw_extrapolated);
    netcore_interp_stats st;
    netcore_interp_get_stats(interp, &st);
    cr_assert_gt(st.frames_extrapolated, 0u);
    cr_assert_gt(st.frames_starved, 0u);
    cr_assert_eq(st.starvation_events, 1u);
    cr_assert_gt(st.extrapolated_pct, 0.0f);
    cr_assert_gt(st.starved_pct, 0.0f);
    cr_assert_gt(st.delay_ms, 70.0f, "starvation raised the delay above two intervals");
}

Test(interp, delay_follows_jitter_and_render_time_never_goes_back, .init = setup, .fini = teardown)
{
    /* Arrival delay alternates between 20 and 120 ms. */
    double last_rt = -1e9;
    for (uint32_t t = 2; t <= 600; t += 2) {
        set_x((float)t * 0.1f);
        deliver(t, (t / 2) % 2 ? 120000.0 : 20000.0);
        /* The clock estimate wobbles back by up to 10 ms now and then. */
        double wobble = (t % 14 == 0) ? -0.6 : 0.0;
        double rt = render_at_tick((double)t + 0.5 + wobble);
        cr_assert_geq(rt, last_rt, "render tick went back from %f to %f", last_rt, rt);
        last_rt = rt;
    }
    netcore_interp_stats st;
    netcore_interp_get_stats(interp, &st);
    cr_assert_float_eq(st.arrival_delay_ms, 120.0f, 1.0f);
    /* About 120 ms late tail + one interval, plus whatever starvation added. */
    cr_assert_gt(st.delay_ms, 150.0f);
    cr_assert_lt(st.delay_ms, 260.0f);
}

/* The server pauses (no snapshots while the client's clock runs on, so the
 * render time runs out of states and holds), then resumes its ticks where it
 * left them; the clock estimate steps back to match. The render time leaves
 * the hold and goes back into the buffer at once instead of freezing every
 * entity until the old render time comes round again. */
Test(interp, a_clock_step_back_after_a_hold_renders_from_the_buffer_again, .init = setup,
     .fini = teardown)
{
    for (uint32_t t = 2; t <= 20; t += 2) {
        set_x((float)t);
        deliver(t, 0.0);
        render_at_tick((double)t);
    }
    double held = 0.0;
    for (double s = 20.0; s <= 200.0; s += 1.0) /* 3 s of silence */
        held = render_at_tick(s);
    cr_assert_gt(held, 150.0);
    netcore_interp_stats st;
    netcore_interp_get_stats(interp, &st);
    cr_assert_eq(st.clock_steps_back, 0u);
    double rt = 0.0;
    for (uint32_t t = 22; t <= 60; t += 2) { /* resumed; the clock follows the ticks again */
        set_x((float)t);
        deliver(t, 0.0);
        rt = render_at_tick((double)t);
    }
    netcore_interp_get_stats(interp, &st);
    cr_assert_eq(st.clock_steps_back, 1u);
    cr_assert_lt(rt, 60.0);
    cr_assert_gt(rt, 40.0);
    netcore_vec3 v;
    netcore_interp_get_vec3(interp, ent, F_POS, &v);
    cr_assert_float_eq(v.x, (float)rt, 2e-3f, "x %f at render tick %f", (double)v.x, rt);
    bool extrapolated = true;
    netcore_interp_entity_at(interp, 0, NULL, NULL, &extrapolated);
    cr_assert(!extrapolated);
}

Test(interp, entities_appear_and_disappear, .init = setup, .fini = teardown)
{
    for (uint32_t t = 2; t <= 10; t += 2) {
        set_x((float)t);
        deliver(t, 0.0);
    }
    netcore_entity_id other;
    cr_assert_eq(netcore_snapshot_server_entity_create(server, type, &other), NETCORE_OK);
    deliver(12, 0.0);
    cr_assert_eq(netcore_snapshot_server_entity_destroy(server, ent), NETCORE_OK);
    deliver(14, 0.0);
    deliver(16, 0.0);
    netcore_interp_push_outcome outcome;
    cr_assert_eq(netcore_interp_push(interp, client, 0.0, &outcome),
                 NETCORE_OK); /* the same world again is not an error ... */
    cr_assert_eq(outcome, NETCORE_INTERP_IGNORED_OLD); /* ... but ignored */
    double rt = render_at_tick(14.0);
    cr_assert_lt(rt, 14.0);
    cr_assert_eq(netcore_interp_entity_count(interp), 2u);
    for (double s = 14.0; s < 22.0; s += 0.5)
        rt = render_at_tick(s);
    cr_assert_geq(rt, 14.0);
    cr_assert_eq(netcore_interp_entity_count(interp), 1u);
    netcore_vec3 v;
    cr_assert_eq(netcore_interp_get_vec3(interp, ent, F_POS, &v), NETCORE_ERR_NOT_FOUND);
    cr_assert_eq(netcore_interp_get_vec3(interp, other, F_POS, &v), NETCORE_OK);
    netcore_interp_stats st;
    netcore_interp_get_stats(interp, &st);
    cr_assert_eq(st.snapshots_ignored, 1u);
}

Test(interp, config_is_checked)
{
    netcore_interp_config c;
    netcore_interp *ip = NULL;
    netcore_interp_config_default(&c);
    cr_assert_eq(netcore_interp_create(&c, &ip), NETCORE_ERR_INVALID_ARGUMENT); /* no schema */
    netcore_schema_config sc;
    netcore_schema_config_default(&sc);
    netcore_schema *s = NULL;
    cr_assert_eq(netcore_schema_create(&sc, &s), NETCORE_OK);
    uint16_t t;
    netcore_schema_add_type(s, "x", &t);
    c.schema = s;
    cr_assert_eq(netcore_interp_create(&c, &ip), NETCORE_ERR_INVALID_ARGUMENT); /* not finalized */
    netcore_schema_finalize(s);
    c.buffer_length = 2;
    cr_assert_eq(netcore_interp_create(&c, &ip), NETCORE_ERR_INVALID_ARGUMENT);
    c.buffer_length = 16;
    c.snapshot_rate_hz = 120; /* above the tick rate */
    cr_assert_eq(netcore_interp_create(&c, &ip), NETCORE_ERR_INVALID_ARGUMENT);
    c.snapshot_rate_hz = 30;
    cr_assert_eq(netcore_interp_create(&c, &ip), NETCORE_OK);
    cr_assert_eq(netcore_interp_update(ip, 1000.0), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_interp_update(ip, NAN), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_interp_entity_count(ip), 0u);
    netcore_interp_destroy(ip);
    netcore_schema_destroy(s);
    netcore_interp_destroy(NULL);
}
