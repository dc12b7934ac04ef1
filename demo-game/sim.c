/* Deterministic fixed-tick simulation of the demo arena; see sim.h. */
#include "sim.h"

#include <string.h>

/* Acceleration per tick while a direction is held and drag per tick: the
 * terminal speed is accel * 64 / DRAG_NUM = 5.33 units per tick (320 u/s). */
#define SHIP_ACCEL (DEMO_FX_ONE / 4)
#define DRAG_NUM 3
#define DRAG_DEN 64
/* 1/sqrt(2) in Q16.16, so diagonal movement is not faster. */
#define INV_SQRT2_FX 46341
#define PROJECTILE_SUBSTEPS 2

static const demo_wall arena_walls[] = {
    /* border */
    {0, 0, DEMO_ARENA_W, 24},
    {0, DEMO_ARENA_H - 24, DEMO_ARENA_W, 24},
    {0, 0, 24, DEMO_ARENA_H},
    {DEMO_ARENA_W - 24, 0, 24, DEMO_ARENA_H},
    /* point-symmetric cover */
    {760, 390, 80, 120},
    {300, 200, 160, 32},
    {1140, 200, 160, 32},
    {300, 668, 160, 32},
    {1140, 668, 160, 32},
    {560, 330, 32, 240},
    {1008, 330, 32, 240},
};
#define ARENA_WALL_COUNT ((int)(sizeof arena_walls / sizeof arena_walls[0]))

static const int32_t spawn_points[][2] = {
    {100, 100}, {1500, 800}, {1500, 100}, {100, 800},  {800, 150},  {800, 750},
    {200, 450}, {1400, 450}, {450, 300},  {1150, 600}, {1150, 300}, {450, 600},
    {650, 120}, {950, 780},  {250, 650},  {1350, 250},
};
#define SPAWN_POINT_COUNT ((int)(sizeof spawn_points / sizeof spawn_points[0]))

/* ---- random numbers ---- */

void demo_rng_seed(demo_rng *rng, uint64_t seed)
{
    /* Spread the seed so that nearby seeds give unrelated sequences; xorshift
     * must never hold 0. */
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    rng->state = z ? z : 0x2545f4914f6cdd1dull;
}

uint64_t demo_rng_next(demo_rng *rng)
{
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint32_t demo_rng_below(demo_rng *rng, uint32_t bound)
{
    if (bound == 0) {
        return 0;
    }
    return (uint32_t)((demo_rng_next(rng) >> 32) * bound >> 32);
}

/* ---- integer math ---- */

/* sin of a quarter-turn angle in [0, 16384], Q30, by Taylor series in
 * integer arithmetic: exact and identical everywhere, error below 1e-7. */
static int64_t sin_quarter_q30(int64_t quarter_angle)
{
    const int64_t half_pi_q30 = 1686629713; /* pi/2 * 2^30 */
    int64_t x = quarter_angle * half_pi_q30 / 16384;
    int64_t x2 = (x * x) >> 30;
    int64_t term = x;
    int64_t sum = x;
    for (int n = 1; n <= 6; n++) {
        term = ((term * x2) >> 30) / ((2 * n) * (2 * n + 1));
        sum += (n & 1) ? -term : term;
    }
    return sum;
}

demo_fx demo_sin(uint16_t angle)
{
    int64_t quarter = angle & 16383;
    int quadrant = angle >> 14;
    if (quadrant & 1) {
        quarter = 16384 - quarter;
    }
    demo_fx v = (demo_fx)((sin_quarter_q30(quarter) + (1 << 13)) >> 14);
    return quadrant >= 2 ? -v : v;
}

demo_fx demo_cos(uint16_t angle)
{
    return demo_sin((uint16_t)(angle + 16384));
}

uint16_t demo_atan2(int64_t dy, int64_t dx)
{
    /* CORDIC in vectoring mode; angles in 1/256 of a binary angle unit. */
    static const int32_t atan_table[] = {2097152, 1238021, 654136, 332050, 166669, 83416,
                                         41718,   20860,   10430,  5215,   2608,   1304,
                                         652,     326,     163,    81,     41,     20};
    if (dx == 0 && dy == 0) {
        return 0;
    }
    /* Normalise the magnitude into [2^28, 2^30) for precision without overflow. */
    while ((dx > (1ll << 30) || dx < -(1ll << 30) || dy > (1ll << 30) || dy < -(1ll << 30))) {
        dx /= 2;
        dy /= 2;
    }
    while (dx < (1ll << 28) && dx > -(1ll << 28) && dy < (1ll << 28) && dy > -(1ll << 28)) {
        dx *= 2;
        dy *= 2;
    }
    int64_t angle = 0;
    if (dx < 0) {
        dx = -dx;
        dy = -dy;
        angle = 32768ll * 256;
    }
    for (int i = 0; i < (int)(sizeof atan_table / sizeof atan_table[0]); i++) {
        int64_t step_x = dx / (1ll << i);
        int64_t step_y = dy / (1ll << i);
        if (dy > 0) {
            dx += step_y;
            dy -= step_x;
            angle += atan_table[i];
        } else {
            dx -= step_y;
            dy += step_x;
            angle -= atan_table[i];
        }
    }
    return (uint16_t)(((angle + 128) / 256) & 0xffff);
}

uint32_t demo_isqrt(uint64_t value)
{
    uint64_t result = 0;
    uint64_t bit = 1ull << 62;
    while (bit > value) {
        bit >>= 2;
    }
    while (bit != 0) {
        if (value >= result + bit) {
            value -= result + bit;
            result = (result >> 1) + bit;
        } else {
            result >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)result;
}

/* Product of two Q16.16 numbers; division truncates towards zero, which is
 * defined by C for negative values, unlike a right shift. */
static demo_fx fx_mul(demo_fx a, demo_fx b)
{
    return (demo_fx)(((int64_t)a * b) / DEMO_FX_ONE);
}

/* ---- arena ---- */

const demo_wall *demo_arena_walls(int *count)
{
    if (count) {
        *count = ARENA_WALL_COUNT;
    }
    return arena_walls;
}

bool demo_arena_blocked(demo_fx x, demo_fx y, demo_fx radius)
{
    int64_t r = radius;
    for (int i = 0; i < ARENA_WALL_COUNT; i++) {
        const demo_wall *w = &arena_walls[i];
        int64_t left = (int64_t)w->x * DEMO_FX_ONE;
        int64_t top = (int64_t)w->y * DEMO_FX_ONE;
        int64_t right = left + (int64_t)w->w * DEMO_FX_ONE;
        int64_t bottom = top + (int64_t)w->h * DEMO_FX_ONE;
        int64_t cx = x < left ? left : (x > right ? right : x);
        int64_t cy = y < top ? top : (y > bottom ? bottom : y);
        int64_t dx = x - cx;
        int64_t dy = y - cy;
        if (dx * dx + dy * dy < r * r) {
            return true;
        }
    }
    return false;
}

/* ---- world ---- */

void demo_sim_config_default(demo_sim_config *config)
{
    config->warmup_ticks = 3 * DEMO_TICK_RATE_HZ;
    config->round_ticks = 120 * DEMO_TICK_RATE_HZ;
    config->over_ticks = 6 * DEMO_TICK_RATE_HZ;
    config->seed = 1;
}

static void push_event(demo_world *world, demo_event_kind kind, int a, int b, demo_fx x, demo_fx y)
{
    if (world->event_count >= DEMO_MAX_EVENTS) {
        world->events_dropped++;
        return;
    }
    demo_event *e = &world->events[world->event_count++];
    e->kind = (uint8_t)kind;
    e->a = (uint8_t)a;
    e->b = (uint8_t)b;
    e->x = x;
    e->y = y;
}

void demo_world_init(demo_world *world, const demo_sim_config *config)
{
    memset(world, 0, sizeof *world);
    if (config) {
        world->config = *config;
    } else {
        demo_sim_config_default(&world->config);
    }
    demo_rng rng;
    demo_rng_seed(&rng, world->config.seed);
    world->rng_state = rng.state;
    world->round_state = DEMO_ROUND_WARMUP;
    world->round_number = 1;
    world->state_ticks_left = world->config.warmup_ticks;
}

/* More players than spawn points: each point has three more spots, three
 * ship radii towards the arena's centre (in x, in y, in both). */
#define SPAWN_RINGS 4
#define SPAWN_RING_STEP 48

static void spawn_spot(int s, int ring, int32_t *x, int32_t *y)
{
    int32_t step_x = spawn_points[s][0] < DEMO_ARENA_W / 2 ? SPAWN_RING_STEP : -SPAWN_RING_STEP;
    int32_t step_y = spawn_points[s][1] < DEMO_ARENA_H / 2 ? SPAWN_RING_STEP : -SPAWN_RING_STEP;
    *x = spawn_points[s][0] + ((ring & 1) ? step_x : 0);
    *y = spawn_points[s][1] + ((ring & 2) ? step_y : 0);
}

/* Squared distance (units) from (x, y) to the nearest living ship but id's. */
static int64_t nearest_ship(const demo_world *world, int id, int32_t x, int32_t y)
{
    int64_t nearest = INT64_MAX;
    for (int j = 0; j < DEMO_MAX_PLAYERS; j++) {
        const demo_player *o = &world->players[j];
        if (j == id || !o->active || !o->alive) {
            continue;
        }
        int64_t dx = (int64_t)x - o->x / DEMO_FX_ONE;
        int64_t dy = (int64_t)y - o->y / DEMO_FX_ONE;
        int64_t d = dx * dx + dy * dy;
        if (d < nearest) {
            nearest = d;
        }
    }
    return nearest;
}

/* Places player id at the spawn point farthest from every other living ship;
 * the world's generator picks where the scan starts so ties vary by seed.
 * Only when a ship sits on every spawn point (more than 16 alive) do the
 * further rings of spots come in, so smaller games spawn as they always did. */
static void spawn_player(demo_world *world, int id)
{
    demo_rng rng = {world->rng_state};
    int start = (int)demo_rng_below(&rng, SPAWN_POINT_COUNT);
    world->rng_state = rng.state;
    const int64_t free_d2 = (int64_t)(2 * DEMO_SHIP_RADIUS) * (2 * DEMO_SHIP_RADIUS);
    int32_t best_x = spawn_points[start][0];
    int32_t best_y = spawn_points[start][1];
    int64_t best_dist = -1;
    for (int ring = 0; ring < SPAWN_RINGS && best_dist <= free_d2; ring++) {
        for (int k = 0; k < SPAWN_POINT_COUNT; k++) {
            int32_t x = 0;
            int32_t y = 0;
            spawn_spot((start + k) % SPAWN_POINT_COUNT, ring, &x, &y);
            if (ring > 0 && demo_arena_blocked(DEMO_FX(x), DEMO_FX(y), DEMO_FX(DEMO_SHIP_RADIUS))) {
                continue;
            }
            int64_t nearest = nearest_ship(world, id, x, y);
            if (nearest > best_dist) {
                best_dist = nearest;
                best_x = x;
                best_y = y;
            }
        }
    }
    demo_player *p = &world->players[id];
    p->alive = true;
    p->x = DEMO_FX(best_x);
    p->y = DEMO_FX(best_y);
    p->vx = 0;
    p->vy = 0;
    /* Face the arena centre. */
    p->angle = demo_atan2(DEMO_ARENA_H / 2 - best_y, DEMO_ARENA_W / 2 - best_x);
    p->health = DEMO_SHIP_MAX_HEALTH;
    p->respawn_ticks = 0;
    p->fire_cooldown = 0;
    push_event(world, DEMO_EVENT_RESPAWN, id, id, p->x, p->y);
}

bool demo_sim_add_player(demo_world *world, int id, const char *name)
{
    if (id < 0 || id >= DEMO_MAX_PLAYERS || world->players[id].active) {
        return false;
    }
    demo_player *p = &world->players[id];
    memset(p, 0, sizeof *p);
    p->active = true;
    p->last_attacker = (uint8_t)id;
    if (name) {
        size_t n = strlen(name);
        if (n > DEMO_NAME_MAX - 1) {
            n = DEMO_NAME_MAX - 1;
        }
        memcpy(p->name, name, n);
    } else {
        /* Two digits at most: ids are below DEMO_MAX_PLAYERS. */
        memcpy(p->name, "player ", 7);
        int pos = 7;
        if (id >= 9) {
            p->name[pos++] = (char)('0' + (id + 1) / 10);
        }
        p->name[pos] = (char)('0' + (id + 1) % 10);
    }
    spawn_player(world, id);
    return true;
}

void demo_sim_remove_player(demo_world *world, int id)
{
    if (id < 0 || id >= DEMO_MAX_PLAYERS) {
        return;
    }
    memset(&world->players[id], 0, sizeof world->players[id]);
    for (int i = 0; i < DEMO_MAX_PROJECTILES; i++) {
        if (world->projectiles[i].active && world->projectiles[i].owner == id) {
            world->projectiles[i].active = false;
        }
    }
}

/* Moves *pos by *vel unless that overlaps a wall; then tries shorter moves
 * and finally stops on that axis, so ships slide along walls. */
static void move_axis(demo_fx *pos, demo_fx *vel, demo_fx other, bool is_x)
{
    demo_fx step = *vel;
    for (int attempt = 0; attempt < 5 && step != 0; attempt++) {
        demo_fx next = *pos + step;
        bool blocked = is_x ? demo_arena_blocked(next, other, DEMO_FX(DEMO_SHIP_RADIUS))
                            : demo_arena_blocked(other, next, DEMO_FX(DEMO_SHIP_RADIUS));
        if (!blocked) {
            *pos = next;
            if (attempt > 0) {
                *vel = 0;
            }
            return;
        }
        step /= 2;
    }
    *vel = 0;
}

bool demo_sim_apply_input(demo_player *player, const demo_input *input)
{
    if (!player->active || !player->alive) {
        return false;
    }
    player->angle = input->aim;
    int ax =
        ((input->buttons & DEMO_BTN_RIGHT) ? 1 : 0) - ((input->buttons & DEMO_BTN_LEFT) ? 1 : 0);
    int ay = ((input->buttons & DEMO_BTN_DOWN) ? 1 : 0) - ((input->buttons & DEMO_BTN_UP) ? 1 : 0);
    demo_fx accel = SHIP_ACCEL;
    if (ax != 0 && ay != 0) {
        accel = fx_mul(accel, INV_SQRT2_FX);
    }
    player->vx += ax * accel;
    player->vy += ay * accel;
    player->vx -= player->vx * DRAG_NUM / DRAG_DEN;
    player->vy -= player->vy * DRAG_NUM / DRAG_DEN;
    move_axis(&player->x, &player->vx, player->y, true);
    move_axis(&player->y, &player->vy, player->x, false);
    if (player->fire_cooldown > 0) {
        player->fire_cooldown--;
    }
    if ((input->buttons & DEMO_BTN_FIRE) && player->fire_cooldown == 0) {
        player->fire_cooldown = DEMO_FIRE_COOLDOWN_TICKS;
        return true;
    }
    return false;
}

/* The input as the round rules let it act: nothing moves once the round is
 * over, and weapons stay cold during warmup. */
static demo_input round_filtered(const demo_world *world, const demo_input *input)
{
    demo_input in = *input;
    in.buttons &= DEMO_BTN_ALL;
    if (world->round_state != DEMO_ROUND_PLAYING) {
        in.buttons &= (uint8_t)~DEMO_BTN_FIRE;
    }
    return in;
}

bool demo_sim_step_player(demo_world *world, int id, const demo_input *input)
{
    if (id < 0 || id >= DEMO_MAX_PLAYERS || world->round_state == DEMO_ROUND_OVER) {
        return false;
    }
    demo_input in = round_filtered(world, input);
    return demo_sim_apply_input(&world->players[id], &in);
}

static void spawn_projectile(demo_world *world, int owner)
{
    const demo_player *p = &world->players[owner];
    for (int i = 0; i < DEMO_MAX_PROJECTILES; i++) {
        demo_projectile *pr = &world->projectiles[i];
        if (pr->active) {
            continue;
        }
        demo_fx c = demo_cos(p->angle);
        demo_fx s = demo_sin(p->angle);
        demo_fx muzzle = DEMO_FX(DEMO_SHIP_RADIUS + 4);
        pr->active = true;
        pr->owner = (uint8_t)owner;
        pr->life_ticks = DEMO_PROJECTILE_LIFE_TICKS;
        pr->x = p->x + fx_mul(c, muzzle);
        pr->y = p->y + fx_mul(s, muzzle);
        pr->vx = c * DEMO_PROJECTILE_SPEED;
        pr->vy = s * DEMO_PROJECTILE_SPEED;
        push_event(world, DEMO_EVENT_SHOT, owner, owner, pr->x, pr->y);
        return;
    }
    /* Full table: the shot is lost; 16 ships at 5 shots/s for 1 s fit in 256. */
}

static void hit_player(demo_world *world, int shooter, int victim)
{
    demo_player *v = &world->players[victim];
    v->health = (int16_t)(v->health - DEMO_PROJECTILE_DAMAGE);
    v->last_attacker = (uint8_t)shooter;
    push_event(world, DEMO_EVENT_HIT, shooter, victim, v->x, v->y);
    if (v->health > 0) {
        return;
    }
    v->health = 0;
    v->alive = false;
    v->vx = 0;
    v->vy = 0;
    v->deaths++;
    v->respawn_ticks = DEMO_RESPAWN_TICKS;
    if (world->players[shooter].active && shooter != victim) {
        world->players[shooter].score++;
    }
    push_event(world, DEMO_EVENT_KILL, shooter, victim, v->x, v->y);
}

/* Advances one projectile in substeps so that it can neither cross a wall
 * (24 units thick at least) nor a ship (32 units wide) between two checks. */
static void step_projectile(demo_world *world, demo_projectile *pr, const demo_rewind *rewind)
{
    const int64_t hit_r = DEMO_FX(DEMO_SHIP_RADIUS + DEMO_PROJECTILE_RADIUS);
    for (int sub = 0; sub < PROJECTILE_SUBSTEPS; sub++) {
        pr->x += pr->vx / PROJECTILE_SUBSTEPS;
        pr->y += pr->vy / PROJECTILE_SUBSTEPS;
        if (demo_arena_blocked(pr->x, pr->y, DEMO_FX(DEMO_PROJECTILE_RADIUS))) {
            pr->active = false;
            push_event(world, DEMO_EVENT_WALL, pr->owner, pr->owner, pr->x, pr->y);
            return;
        }
        for (int j = 0; j < DEMO_MAX_PLAYERS; j++) {
            const demo_player *p = &world->players[j];
            if (j == pr->owner || !p->active || !p->alive) {
                continue;
            }
            demo_fx tx = p->x;
            demo_fx ty = p->y;
            /* Lag compensation: the target where the shooter saw it. Whether
             * it is alive is still decided by the present. */
            if (rewind && rewind->target_position) {
                rewind->target_position(rewind->user, pr->owner, j, &tx, &ty);
            }
            int64_t dx = (int64_t)tx - pr->x;
            int64_t dy = (int64_t)ty - pr->y;
            if (dx * dx + dy * dy < hit_r * hit_r) {
                pr->active = false;
                hit_player(world, pr->owner, j);
                return;
            }
        }
    }
    if (--pr->life_ticks == 0) {
        pr->active = false;
    }
}

static void enter_state(demo_world *world, demo_round_state state)
{
    world->round_state = (uint8_t)state;
    push_event(world, DEMO_EVENT_ROUND, state, state, 0, 0);
    if (state == DEMO_ROUND_PLAYING) {
        world->state_ticks_left = world->config.round_ticks;
        return;
    }
    if (state == DEMO_ROUND_OVER) {
        world->state_ticks_left = world->config.over_ticks;
        memset(world->projectiles, 0, sizeof world->projectiles);
        for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
            world->players[i].vx = 0;
            world->players[i].vy = 0;
        }
        return;
    }
    /* A new round: fresh scores and everybody respawned, in id order. */
    world->state_ticks_left = world->config.warmup_ticks;
    world->round_number++;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        world->players[i].alive = false;
    }
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        demo_player *p = &world->players[i];
        if (p->active) {
            p->score = 0;
            p->deaths = 0;
            p->last_attacker = (uint8_t)i;
            spawn_player(world, i);
        }
    }
}

static void advance_round(demo_world *world)
{
    if (world->state_ticks_left > 0) {
        world->state_ticks_left--;
    }
    if (world->state_ticks_left > 0) {
        return;
    }
    switch (world->round_state) {
    case DEMO_ROUND_WARMUP:
        enter_state(world, DEMO_ROUND_PLAYING);
        break;
    case DEMO_ROUND_PLAYING:
        enter_state(world, DEMO_ROUND_OVER);
        break;
    default:
        enter_state(world, DEMO_ROUND_WARMUP);
        break;
    }
}

bool demo_sim_step(demo_world *world, const demo_input inputs[DEMO_MAX_PLAYERS], uint32_t tick)
{
    return demo_sim_step_rewind(world, inputs, tick, NULL);
}

bool demo_sim_step_rewind(demo_world *world, const demo_input inputs[DEMO_MAX_PLAYERS],
                          uint32_t tick, const demo_rewind *rewind)
{
    if (tick != world->tick + 1) {
        return false;
    }
    world->tick = tick;
    world->event_count = 0;
    advance_round(world);
    if (world->round_state == DEMO_ROUND_OVER) {
        return true;
    }
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        demo_player *p = &world->players[i];
        if (!p->active) {
            continue;
        }
        if (!p->alive) {
            if (p->respawn_ticks > 0) {
                p->respawn_ticks--;
            }
            if (p->respawn_ticks == 0) {
                spawn_player(world, i);
            }
            continue;
        }
        demo_input in = {0, p->angle};
        if (inputs) {
            in = round_filtered(world, &inputs[i]);
        }
        if (demo_sim_apply_input(p, &in)) {
            spawn_projectile(world, i);
        }
    }
    for (int i = 0; i < DEMO_MAX_PROJECTILES; i++) {
        if (world->projectiles[i].active) {
            step_projectile(world, &world->projectiles[i], rewind);
        }
    }
    return true;
}

/* ---- hashing and queries ---- */

typedef struct hasher {
    uint64_t h;
} hasher;

static void hash_u32(hasher *hs, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        hs->h ^= (uint8_t)(v >> (8 * i));
        hs->h *= 0x100000001b3ull;
    }
}

static void hash_u64(hasher *hs, uint64_t v)
{
    hash_u32(hs, (uint32_t)v);
    hash_u32(hs, (uint32_t)(v >> 32));
}

uint64_t demo_world_hash(const demo_world *world)
{
    hasher hs = {0xcbf29ce484222325ull};
    hash_u32(&hs, world->tick);
    hash_u32(&hs, world->round_state);
    hash_u32(&hs, world->round_number);
    hash_u32(&hs, world->state_ticks_left);
    hash_u64(&hs, world->rng_state);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *p = &world->players[i];
        hash_u32(&hs, (uint32_t)p->active | (uint32_t)p->alive << 1);
        if (!p->active) {
            continue;
        }
        hash_u32(&hs, (uint32_t)p->x);
        hash_u32(&hs, (uint32_t)p->y);
        hash_u32(&hs, (uint32_t)p->vx);
        hash_u32(&hs, (uint32_t)p->vy);
        hash_u32(&hs, p->angle);
        hash_u32(&hs, (uint32_t)(uint16_t)p->health);
        hash_u32(&hs, (uint32_t)(uint16_t)p->score);
        hash_u32(&hs, (uint32_t)(uint16_t)p->deaths);
        hash_u32(&hs, p->respawn_ticks);
        hash_u32(&hs, p->fire_cooldown);
        hash_u32(&hs, p->last_attacker);
    }
    for (int i = 0; i < DEMO_MAX_PROJECTILES; i++) {
        const demo_projectile *pr = &world->projectiles[i];
        hash_u32(&hs, pr->active);
        if (!pr->active) {
            continue;
        }
        hash_u32(&hs, pr->owner);
        hash_u32(&hs, pr->life_ticks);
        hash_u32(&hs, (uint32_t)pr->x);
        hash_u32(&hs, (uint32_t)pr->y);
        hash_u32(&hs, (uint32_t)pr->vx);
        hash_u32(&hs, (uint32_t)pr->vy);
    }
    return hs.h;
}

int demo_world_player_count(const demo_world *world)
{
    int n = 0;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        n += world->players[i].active ? 1 : 0;
    }
    return n;
}

static bool ranks_before(const demo_player *a, int ia, const demo_player *b, int ib)
{
    if (a->score != b->score) {
        return a->score > b->score;
    }
    if (a->deaths != b->deaths) {
        return a->deaths < b->deaths;
    }
    return ia < ib;
}

int demo_world_scoreboard(const demo_world *world, int order[DEMO_MAX_PLAYERS])
{
    int n = 0;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        if (!world->players[i].active) {
            continue;
        }
        /* Insertion sort: at most 16 entries. */
        int pos = n++;
        while (pos > 0 && ranks_before(&world->players[i], i, &world->players[order[pos - 1]],
                                       order[pos - 1])) {
            order[pos] = order[pos - 1];
            pos--;
        }
        order[pos] = i;
    }
    return n;
}

uint32_t demo_world_seconds_left(const demo_world *world)
{
    return (world->state_ticks_left + DEMO_TICK_RATE_HZ - 1) / DEMO_TICK_RATE_HZ;
}
