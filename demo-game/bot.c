/* Bot AI for the demo arena: integer-only, deterministic from its inputs. */
#include "sim.h"

#define BOT_FAR_UNITS 420  /* closer in beyond this distance */
#define BOT_NEAR_UNITS 200 /* back off within this distance */
#define BOT_FIRE_RANGE_UNITS 640
#define BOT_PROBE_UNITS 56 /* how far ahead walls are looked for */
#define BOT_AIM_JITTER 600 /* binary angle units, about 3.3 degrees */
#define BOT_STRAFE_PERIOD_TICKS 90

/* True when the straight segment between two points (Q16.16) touches no wall;
 * sampled every 8 units, finer than any wall (24 units). */
static bool line_of_sight(demo_fx x0, demo_fx y0, demo_fx x1, demo_fx y1)
{
    int64_t dx = (int64_t)x1 - x0;
    int64_t dy = (int64_t)y1 - y0;
    uint32_t len_units = demo_isqrt((uint64_t)(dx * dx + dy * dy)) / DEMO_FX_ONE;
    uint32_t steps = len_units / 8 + 1;
    for (uint32_t i = 1; i < steps; i++) {
        demo_fx x = (demo_fx)(x0 + dx * (int64_t)i / steps);
        demo_fx y = (demo_fx)(y0 + dy * (int64_t)i / steps);
        if (demo_arena_blocked(x, y, DEMO_FX(DEMO_PROJECTILE_RADIUS))) {
            return false;
        }
    }
    return true;
}

/* True when a ship heading along `angle` would run into a wall soon. */
static bool heading_blocked(const demo_player *me, uint16_t angle)
{
    demo_fx px = me->x + demo_cos(angle) * BOT_PROBE_UNITS;
    demo_fx py = me->y + demo_sin(angle) * BOT_PROBE_UNITS;
    return demo_arena_blocked(px, py, DEMO_FX(DEMO_SHIP_RADIUS));
}

/* The pressed directions closest to heading `angle` (8 directions). */
static uint8_t buttons_for_heading(uint16_t angle)
{
    const demo_fx threshold = DEMO_FX_ONE * 38 / 100; /* sin(22.5 deg) */
    demo_fx c = demo_cos(angle);
    demo_fx s = demo_sin(angle);
    uint8_t b = 0;
    if (c > threshold) {
        b |= DEMO_BTN_RIGHT;
    } else if (c < -threshold) {
        b |= DEMO_BTN_LEFT;
    }
    if (s > threshold) {
        b |= DEMO_BTN_DOWN;
    } else if (s < -threshold) {
        b |= DEMO_BTN_UP;
    }
    return b;
}

static int nearest_enemy(const demo_world *world, int id, int64_t *dist_sq_out)
{
    const demo_player *me = &world->players[id];
    int best = -1;
    int64_t best_d = INT64_MAX;
    for (int j = 0; j < DEMO_MAX_PLAYERS; j++) {
        const demo_player *o = &world->players[j];
        if (j == id || !o->active || !o->alive) {
            continue;
        }
        int64_t dx = ((int64_t)o->x - me->x) / DEMO_FX_ONE;
        int64_t dy = ((int64_t)o->y - me->y) / DEMO_FX_ONE;
        int64_t d = dx * dx + dy * dy;
        if (d < best_d) {
            best_d = d;
            best = j;
        }
    }
    *dist_sq_out = best_d;
    return best;
}

demo_input demo_bot_think(const demo_world *world, int id, uint32_t tick, demo_rng *rng)
{
    demo_input in = {0, 0};
    if (id < 0 || id >= DEMO_MAX_PLAYERS) {
        return in;
    }
    const demo_player *me = &world->players[id];
    in.aim = me->angle;
    /* Draw the jitter every tick, alive or not, so the generator's sequence
     * depends only on the tick count and not on the fight's history. */
    int32_t jitter = (int32_t)demo_rng_below(rng, 2 * BOT_AIM_JITTER + 1) - BOT_AIM_JITTER;
    uint32_t wander = demo_rng_below(rng, 4);
    if (!me->active || !me->alive || world->round_state == DEMO_ROUND_OVER) {
        return in;
    }

    int64_t dist_sq = 0;
    int target = nearest_enemy(world, id, &dist_sq);
    uint16_t heading;
    if (target >= 0) {
        const demo_player *t = &world->players[target];
        uint16_t to_target = demo_atan2((int64_t)t->y - me->y, (int64_t)t->x - me->x);
        in.aim = (uint16_t)(to_target + jitter);
        uint32_t dist = demo_isqrt((uint64_t)dist_sq);
        /* Strafe direction flips every period, staggered per bot. */
        bool clockwise = ((tick / BOT_STRAFE_PERIOD_TICKS + (uint32_t)id) & 1u) != 0;
        if (dist > BOT_FAR_UNITS) {
            heading = to_target;
        } else if (dist < BOT_NEAR_UNITS) {
            heading = (uint16_t)(to_target + 32768);
        } else {
            heading = (uint16_t)(to_target + (clockwise ? 16384 : 49152));
        }
        if (world->round_state == DEMO_ROUND_PLAYING && dist < BOT_FIRE_RANGE_UNITS &&
            line_of_sight(me->x, me->y, t->x, t->y)) {
            in.buttons |= DEMO_BTN_FIRE;
        }
    } else {
        /* Nobody to fight: drift towards the arena centre, with a wobble. */
        heading = demo_atan2(DEMO_FX(DEMO_ARENA_H / 2) - (int64_t)me->y,
                             DEMO_FX(DEMO_ARENA_W / 2) - (int64_t)me->x);
        heading = (uint16_t)(heading + (wander - 2) * 4096);
    }
    /* Turn by eighth turns, alternating sides, until the way ahead is clear. */
    static const uint16_t detours[] = {0, 8192, 57344, 16384, 49152, 24576, 40960, 32768};
    for (int k = 0; k < (int)(sizeof detours / sizeof detours[0]); k++) {
        uint16_t h = (uint16_t)(heading + detours[k]);
        if (!heading_blocked(me, h)) {
            in.buttons |= buttons_for_heading(h);
            break;
        }
    }
    return in;
}
