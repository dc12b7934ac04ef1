/*
 * Multi-client scenes of snapshot_bench.
 *
 * arena: a shooter's arena of 160 x 160 m with 64 players (one client each)
 * and up to 200 projectiles. Players walk between random waypoints at 6 m/s
 * (turning at most 4 rad/s, pausing now and then), aim at the nearest other
 * player within 30 m (turning the aim at most 6 rad/s), and fire every
 * 0.15-0.35 s while fewer than 200 projectiles fly. A projectile flies at
 * 25 m/s for 1-2 s, or until it leaves the arena or hits a player (15 damage;
 * a player at 0 respawns elsewhere; health regenerates 2 points a second), so
 * close to 200 fly at any time and about as many are created and removed
 * every second. The world steps at 60 Hz; snapshots go out at 20 Hz or 60 Hz
 * with the default 1200-byte budget; each client sees what is within 50 m of
 * its player (weight 1 + 4 (1 - d / 50 m); its own player 10). Acks reach the
 * server 100 ms (6 ticks) after their snapshot, as in the cube scene. The
 * world runs 2 s before the clients join, so projectiles are in their steady
 * state; the first 200 ms after joining are not averaged. Every client
 * decodes every snapshot (a rejected one ends the program).
 *
 * scale: 1024 units wandering like the arena's players over 256 x 256 m, the
 * first N of them each followed by a client that sees what is within 50 m,
 * for N = 8, 32, 64, 128 and 256 at 60 Hz. Timed per tick: the world update
 * (move every unit and set its fields) plus one snapshot for every client
 * (acks applied 6 ticks late, as above); clients are not decoded (their acks
 * name the snapshots written). The first second is not measured. Each tick
 * is timed on the monotonic clock (ms_per_tick_*) and in process CPU time
 * (cpu_ms_per_tick_median: the same work without the time other programs
 * took the core away).
 *
 * Both scenes are deterministic (seeded xorshift): sizes are identical in
 * every run, only times vary.
 */
#define _POSIX_C_SOURCE 200809L
#include "snapshot_scenes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/snapshot.h"

#define PI_F 3.14159265f
#define TICK_HZ 60
#define ACK_DELAY_TICKS 6 /* 100 ms at 60 Hz */
#define ACK_QUEUE 16      /* > snapshots in flight: at most ACK_DELAY_TICKS */
#define POS_RANGE_M 128.0f
#define POS_PRECISION_M (1.0f / 64.0f)
#define WALK_SPEED_M_S 6.0f
#define TURN_RATE_RAD_S 4.0f
#define OWN_WEIGHT 10.0f
#define MAX_RUNS 64

/* ---- shared pieces ---- */

typedef struct rng {
    uint64_t state;
} rng;

static uint32_t rng_next(rng *r)
{
    r->state ^= r->state << 13;
    r->state ^= r->state >> 7;
    r->state ^= r->state << 17;
    return (uint32_t)(r->state >> 32);
}

static float rng_range(rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)(rng_next(r) >> 8) / 16777216.0f;
}

static float wrap_angle(float a)
{
    while (a > PI_F)
        a -= 2.0f * PI_F;
    while (a < -PI_F)
        a += 2.0f * PI_F;
    return a;
}

static float turn_towards(float from, float to, float max_step)
{
    float diff = wrap_angle(to - from);
    if (diff > max_step)
        diff = max_step;
    if (diff < -max_step)
        diff = -max_step;
    return wrap_angle(from + diff);
}

/* Someone walking between random waypoints of a square [-half, half]^2,
 * pausing for 0.5-2 s at one waypoint in three. */
typedef struct walker {
    float x, y, heading;
    float goal_x, goal_y;
    float idle_s;
} walker;

static void walker_place(walker *w, rng *r, float half)
{
    w->x = rng_range(r, -half, half);
    w->y = rng_range(r, -half, half);
    w->heading = rng_range(r, -PI_F, PI_F);
    w->goal_x = rng_range(r, -half, half);
    w->goal_y = rng_range(r, -half, half);
    w->idle_s = 0.0f;
}

static void walker_step(walker *w, rng *r, float half, float dt)
{
    if (w->idle_s > 0.0f) {
        w->idle_s -= dt;
        return;
    }
    float dx = w->goal_x - w->x, dy = w->goal_y - w->y;
    if (dx * dx + dy * dy < 4.0f) {
        if (rng_next(r) % 3 == 0)
            w->idle_s = rng_range(r, 0.5f, 2.0f);
        w->goal_x = rng_range(r, -half, half);
        w->goal_y = rng_range(r, -half, half);
        return;
    }
    w->heading = turn_towards(w->heading, atan2f(dy, dx), TURN_RATE_RAD_S * dt);
    w->x += cosf(w->heading) * WALK_SPEED_M_S * dt;
    w->y += sinf(w->heading) * WALK_SPEED_M_S * dt;
    w->x = w->x < -half ? -half : (w->x > half ? half : w->x);
    w->y = w->y < -half ? -half : (w->y > half ? half : w->y);
}

/* The game's own positions by slot index, read by the interest callback (a
 * game filters with its own data, not the replication getters). */
typedef struct interest_view {
    const float *x, *y;          /* [max_entities] */
    const uint32_t *viewer_slot; /* [clients]: slot of the client's own entity */
    float radius_m;
    uint64_t relevant; /* answers above 0, to report entities in view */
} interest_view;

static float distance_interest(void *user, const netcore_snapshot_server *server, uint32_t client,
                               netcore_entity_id entity, uint16_t type)
{
    (void)server;
    (void)type;
    interest_view *v = user;
    uint32_t index = entity & 0xffffu, own = v->viewer_slot[client];
    if (index == own) {
        v->relevant++;
        return OWN_WEIGHT;
    }
    float dx = v->x[index] - v->x[own], dy = v->y[index] - v->y[own];
    float d2 = dx * dx + dy * dy;
    if (d2 > v->radius_m * v->radius_m)
        return 0.0f;
    v->relevant++;
    return 1.0f + 4.0f * (1.0f - sqrtf(d2) / v->radius_m);
}

/* Acks in flight from one client: the ack of a snapshot written at tick t
 * reaches the server at tick t + ACK_DELAY_TICKS. */
typedef struct ack_queue {
    uint32_t due[ACK_QUEUE];
    uint16_t seq[ACK_QUEUE];
    uint32_t head, count;
} ack_queue;

static void ack_push(ack_queue *q, uint32_t due_tick, uint16_t seq)
{
    if (q->count == ACK_QUEUE) /* cannot happen with the delays used here */
        return;
    uint32_t at = (q->head + q->count++) % ACK_QUEUE;
    q->due[at] = due_tick;
    q->seq[at] = seq;
}

static void ack_deliver(ack_queue *q, netcore_snapshot_server *server, uint32_t client,
                        uint32_t tick)
{
    while (q->count > 0 && q->due[q->head] <= tick) {
        netcore_snapshot_server_ack(server, client, q->seq[q->head], NULL);
        q->head = (q->head + 1) % ACK_QUEUE;
        q->count--;
    }
}

static void fail(const char *what)
{
    fprintf(stderr, "snapshot_bench: %s\n", what);
    exit(1);
}

double snapshot_wire_kbps(double payload_bytes, double rate_hz)
{
    return (payload_bytes + SNAPSHOT_WIRE_OVERHEAD_BYTES) * 8.0 * rate_hz / 1000.0;
}

static netcore_field_desc position_field(void)
{
    return (netcore_field_desc){.name = "pos",
                                .kind = NETCORE_FIELD_VEC2,
                                .min = -POS_RANGE_M,
                                .max = POS_RANGE_M,
                                .precision = POS_PRECISION_M};
}

/* ---- arena ---- */

#define ARENA_PLAYERS 64
#define ARENA_SHOTS 200
#define ARENA_HALF_M 80.0f
#define ARENA_RADIUS_M 50.0f
#define ARENA_AIM_RANGE_M 30.0f
#define ARENA_AIM_RATE_RAD_S 6.0f
#define ARENA_SHOT_SPEED_M_S 25.0f
#define ARENA_HIT_RADIUS_M 1.0f
#define ARENA_DAMAGE 15.0f
#define ARENA_MAX_ENTITIES 512
#define ARENA_MAX_VIEW 256
#define ARENA_RING 16
#define ARENA_BUDGET_BYTES 1200
#define ARENA_SECONDS 15
#define ARENA_PRE_ROLL_TICKS (2 * TICK_HZ)
#define ARENA_WARMUP_TICKS 12

/* Fields, in schema order. */
enum { PLAYER_POS, PLAYER_AIM, PLAYER_HEALTH, PLAYER_FIRING };
enum { SHOT_POS, SHOT_HEADING, SHOT_OWNER };

typedef struct arena_player {
    walker body;
    float aim, cooldown_s, firing_s, health;
    netcore_entity_id id;
} arena_player;

typedef struct arena_shot {
    bool alive;
    float x, y, heading, life_s;
    uint32_t owner;
    netcore_entity_id id;
} arena_shot;

typedef struct arena_params {
    uint32_t players, shots, seconds;
} arena_params;

typedef struct arena {
    arena_params params;
    rng rng;
    netcore_snapshot_server *server;
    uint16_t type_player, type_shot;
    arena_player players[ARENA_PLAYERS];
    arena_shot shots[ARENA_SHOTS];
    uint32_t shots_alive;
    float x[ARENA_MAX_ENTITIES], y[ARENA_MAX_ENTITIES];
    uint32_t viewer_slot[ARENA_PLAYERS];
    interest_view view;
    uint64_t spawned, hits, shots_alive_sum;
} arena;

static netcore_schema *arena_schema(netcore_snapshot_format format, uint16_t *type_player,
                                    uint16_t *type_shot)
{
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cfg.snapshot_format = format;
    netcore_schema *schema = NULL;
    netcore_field_desc pos = position_field();
    netcore_field_desc aim = {.name = "aim", .kind = NETCORE_FIELD_ANGLE, .bits = 10};
    netcore_field_desc health = {.name = "health", .kind = NETCORE_FIELD_INT, .bits = 7};
    netcore_field_desc firing = {.name = "firing", .kind = NETCORE_FIELD_BOOL};
    netcore_field_desc heading = {.name = "heading", .kind = NETCORE_FIELD_ANGLE, .bits = 8};
    netcore_field_desc owner = {.name = "owner", .kind = NETCORE_FIELD_INT, .bits = 6};
    if (netcore_schema_create(&cfg, &schema) != NETCORE_OK ||
        netcore_schema_add_type(schema, "player", type_player) != NETCORE_OK ||
        netcore_schema_add_field(schema, *type_player, &pos, NULL) != NETCORE_OK ||
        netcore_schema_add_field(schema, *type_player, &aim, NULL) != NETCORE_OK ||
        netcore_schema_add_field(schema, *type_player, &health, NULL) != NETCORE_OK ||
        netcore_schema_add_field(schema, *type_player, &firing, NULL) != NETCORE_OK ||
        netcore_schema_add_type(schema, "projectile", type_shot) != NETCORE_OK ||
        netcore_schema_add_field(schema, *type_shot, &pos, NULL) != NETCORE_OK ||
        netcore_schema_add_field(schema, *type_shot, &heading, NULL) != NETCORE_OK ||
        netcore_schema_add_field(schema, *type_shot, &owner, NULL) != NETCORE_OK ||
        netcore_schema_finalize(schema) != NETCORE_OK)
        fail("arena schema setup failed");
    return schema;
}

static void arena_spawn_shot(arena *a, uint32_t owner)
{
    uint32_t k = 0;
    while (k < a->params.shots && a->shots[k].alive)
        k++;
    if (k == a->params.shots)
        return;
    const arena_player *p = &a->players[owner];
    arena_shot *s = &a->shots[k];
    s->heading = wrap_angle(p->aim + rng_range(&a->rng, -0.05f, 0.05f));
    s->x = p->body.x + cosf(s->heading);
    s->y = p->body.y + sinf(s->heading);
    s->life_s = rng_range(&a->rng, 1.0f, 2.0f);
    s->owner = owner;
    if (netcore_snapshot_server_entity_create(a->server, a->type_shot, &s->id) != NETCORE_OK)
        fail("arena: projectile creation failed");
    netcore_snapshot_server_set_float(a->server, s->id, SHOT_HEADING, s->heading);
    netcore_snapshot_server_set_int(a->server, s->id, SHOT_OWNER, owner);
    s->alive = true;
    a->shots_alive++;
    a->spawned++;
}

static void arena_remove_shot(arena *a, arena_shot *s)
{
    netcore_snapshot_server_entity_destroy(a->server, s->id);
    s->alive = false;
    a->shots_alive--;
}

static void arena_players_step(arena *a, float dt)
{
    uint32_t n = a->params.players;
    for (uint32_t i = 0; i < n; i++) {
        arena_player *p = &a->players[i];
        walker_step(&p->body, &a->rng, ARENA_HALF_M, dt);
        float best = ARENA_AIM_RANGE_M * ARENA_AIM_RANGE_M, target = p->body.heading;
        for (uint32_t j = 0; j < n; j++) {
            float dx = a->players[j].body.x - p->body.x, dy = a->players[j].body.y - p->body.y;
            float d2 = dx * dx + dy * dy;
            if (j != i && d2 < best) {
                best = d2;
                target = atan2f(dy, dx);
            }
        }
        p->aim = turn_towards(p->aim, target, ARENA_AIM_RATE_RAD_S * dt);
        p->health = p->health + 2.0f * dt > 100.0f ? 100.0f : p->health + 2.0f * dt;
        p->cooldown_s -= dt;
        p->firing_s -= dt;
        if (p->cooldown_s <= 0.0f && a->shots_alive < a->params.shots) {
            arena_spawn_shot(a, i);
            p->cooldown_s = rng_range(&a->rng, 0.15f, 0.35f);
            p->firing_s = 0.1f;
        }
    }
}

static void arena_shots_step(arena *a, float dt)
{
    for (uint32_t k = 0; k < a->params.shots; k++) {
        arena_shot *s = &a->shots[k];
        if (!s->alive)
            continue;
        s->x += cosf(s->heading) * ARENA_SHOT_SPEED_M_S * dt;
        s->y += sinf(s->heading) * ARENA_SHOT_SPEED_M_S * dt;
        s->life_s -= dt;
        if (s->life_s <= 0.0f || fabsf(s->x) > ARENA_HALF_M || fabsf(s->y) > ARENA_HALF_M) {
            arena_remove_shot(a, s);
            continue;
        }
        for (uint32_t i = 0; i < a->params.players; i++) {
            arena_player *p = &a->players[i];
            float dx = p->body.x - s->x, dy = p->body.y - s->y;
            if (i == s->owner || dx * dx + dy * dy > ARENA_HIT_RADIUS_M * ARENA_HIT_RADIUS_M)
                continue;
            a->hits++;
            p->health -= ARENA_DAMAGE;
            if (p->health <= 0.0f) {
                walker_place(&p->body, &a->rng, ARENA_HALF_M);
                p->health = 100.0f;
            }
            arena_remove_shot(a, s);
            break;
        }
    }
}

/* One 60 Hz step, then every entity's fields and game-side position are set. */
static void arena_step(arena *a)
{
    const float dt = 1.0f / TICK_HZ;
    arena_players_step(a, dt);
    arena_shots_step(a, dt);
    for (uint32_t i = 0; i < a->params.players; i++) {
        const arena_player *p = &a->players[i];
        uint32_t slot = p->id & 0xffffu;
        a->x[slot] = p->body.x;
        a->y[slot] = p->body.y;
        netcore_snapshot_server_set_vec3(a->server, p->id, PLAYER_POS,
                                         (netcore_vec3){p->body.x, p->body.y, 0.0f});
        netcore_snapshot_server_set_float(a->server, p->id, PLAYER_AIM, p->aim);
        netcore_snapshot_server_set_int(a->server, p->id, PLAYER_HEALTH, (int64_t)p->health);
        netcore_snapshot_server_set_bool(a->server, p->id, PLAYER_FIRING, p->firing_s > 0.0f);
    }
    for (uint32_t k = 0; k < a->params.shots; k++) {
        const arena_shot *s = &a->shots[k];
        if (!s->alive)
            continue;
        uint32_t slot = s->id & 0xffffu;
        a->x[slot] = s->x;
        a->y[slot] = s->y;
        netcore_snapshot_server_set_vec3(a->server, s->id, SHOT_POS,
                                         (netcore_vec3){s->x, s->y, 0.0f});
    }
    a->shots_alive_sum += a->shots_alive;
}

/* What one run at one snapshot rate measured. */
typedef struct arena_result {
    double kbps_mean, kbps_max, payload_mean;
    uint32_t payload_max;
    double in_view, shots_alive;
    double encode_us, decode_us;
    double created_per_s, removed_per_s, hits_per_s;
    uint64_t full, delta, created, updated, removed, deferred, removals_deferred;
    uint32_t max_baseline_age;
    uint64_t decode_errors;
} arena_result;

typedef struct arena_client {
    netcore_snapshot_client *client;
    ack_queue acks;
    uint64_t bytes, snapshots;
} arena_client;

static void arena_run(const arena_params *params, netcore_snapshot_format format, uint32_t rate_hz,
                      arena_result *out)
{
    static arena a;
    static arena_client clients[ARENA_PLAYERS];
    static uint8_t buf[ARENA_BUDGET_BYTES];
    memset(&a, 0, sizeof a);
    memset(clients, 0, sizeof clients);
    memset(out, 0, sizeof *out);
    a.params = *params;
    a.rng.state = 0x9e3779b97f4a7c15ull;
    netcore_schema *schema = arena_schema(format, &a.type_player, &a.type_shot);
    a.view = (interest_view){a.x, a.y, a.viewer_slot, ARENA_RADIUS_M, 0};
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.schema = schema;
    sc.max_entities = ARENA_MAX_ENTITIES;
    sc.max_clients = params->players;
    sc.max_view_entities = ARENA_MAX_VIEW;
    sc.ring_length = ARENA_RING;
    sc.budget_bytes = ARENA_BUDGET_BYTES;
    sc.interest = distance_interest;
    sc.interest_user = &a.view;
    if (netcore_snapshot_server_create(&sc, &a.server) != NETCORE_OK)
        fail("arena: server setup failed");
    for (uint32_t i = 0; i < params->players; i++) {
        arena_player *p = &a.players[i];
        walker_place(&p->body, &a.rng, ARENA_HALF_M);
        p->aim = p->body.heading;
        p->health = 100.0f;
        p->cooldown_s = rng_range(&a.rng, 0.0f, 0.35f);
        if (netcore_snapshot_server_entity_create(a.server, a.type_player, &p->id) != NETCORE_OK)
            fail("arena: player creation failed");
        a.viewer_slot[i] = p->id & 0xffffu;
    }
    for (uint32_t t = 0; t < ARENA_PRE_ROLL_TICKS; t++)
        arena_step(&a);
    netcore_snapshot_client_config cc;
    netcore_snapshot_client_config_default(&cc);
    cc.schema = schema;
    cc.max_entities = ARENA_MAX_ENTITIES;
    cc.ring_length = ARENA_RING;
    for (uint32_t i = 0; i < params->players; i++) {
        uint32_t cid = 0;
        if (netcore_snapshot_client_create(&cc, &clients[i].client) != NETCORE_OK ||
            netcore_snapshot_server_client_add(a.server, &cid) != NETCORE_OK || cid != i)
            fail("arena: client setup failed");
    }
    uint64_t spawned0 = a.spawned, alive0 = a.shots_alive, hits0 = a.hits;
    a.shots_alive_sum = 0;
    uint32_t ticks = params->seconds * TICK_HZ, every = TICK_HZ / rate_hz;
    uint64_t encode_ns = 0, decode_ns = 0, writes = 0, in_view_sum = 0;
    for (uint32_t t = 0; t < ticks; t++) {
        arena_step(&a);
        if (t % every != 0)
            continue;
        bool measured = t >= ARENA_WARMUP_TICKS;
        for (uint32_t i = 0; i < params->players; i++) {
            arena_client *c = &clients[i];
            ack_deliver(&c->acks, a.server, i, t);
            size_t len = 0;
            uint64_t t0 = bench_now_ns();
            netcore_result wr =
                netcore_snapshot_server_write(a.server, i, t, buf, sizeof buf, &len);
            uint64_t t1 = bench_now_ns();
            netcore_snapshot_receive_outcome outcome;
            netcore_result rr = netcore_snapshot_client_read(c->client, buf, len, &outcome);
            uint64_t t2 = bench_now_ns();
            if (wr != NETCORE_OK)
                fail("arena: snapshot write failed");
            if (rr != NETCORE_OK || outcome != NETCORE_SNAPSHOT_RECEIVED_NEWEST) {
                out->decode_errors++;
                continue;
            }
            uint16_t seq = 0;
            netcore_snapshot_client_sequence(c->client, &seq, NULL);
            ack_push(&c->acks, t + ACK_DELAY_TICKS, seq);
            encode_ns += t1 - t0;
            decode_ns += t2 - t1;
            writes++;
            if (measured) {
                c->bytes += len;
                c->snapshots++;
                in_view_sum += netcore_snapshot_client_entity_count(c->client);
                out->payload_max = len > out->payload_max ? (uint32_t)len : out->payload_max;
            }
        }
    }
    uint64_t measured_snapshots = 0;
    double kbps_sum = 0.0, bytes_sum = 0.0;
    for (uint32_t i = 0; i < params->players; i++) {
        arena_client *c = &clients[i];
        double payload = c->snapshots ? (double)c->bytes / (double)c->snapshots : 0.0;
        double kbps = snapshot_wire_kbps(payload, rate_hz);
        kbps_sum += kbps;
        bytes_sum += (double)c->bytes;
        measured_snapshots += c->snapshots;
        out->kbps_max = kbps > out->kbps_max ? kbps : out->kbps_max;
        netcore_snapshot_server_stats st;
        netcore_snapshot_server_get_client_stats(a.server, i, &st);
        out->full += st.snapshots_full;
        out->delta += st.snapshots_delta;
        out->created += st.entities_created;
        out->updated += st.entities_updated;
        out->removed += st.entities_removed;
        out->deferred += st.entities_deferred;
        out->removals_deferred += st.removals_deferred;
        if (st.max_baseline_age > out->max_baseline_age)
            out->max_baseline_age = st.max_baseline_age;
        netcore_snapshot_client_destroy(c->client);
    }
    out->kbps_mean = kbps_sum / params->players;
    out->payload_mean = measured_snapshots ? bytes_sum / (double)measured_snapshots : NAN;
    out->in_view = measured_snapshots ? (double)in_view_sum / (double)measured_snapshots : NAN;
    out->shots_alive = (double)a.shots_alive_sum / ticks;
    double seconds = (double)ticks / TICK_HZ;
    out->created_per_s = (double)(a.spawned - spawned0) / seconds;
    out->hits_per_s = (double)(a.hits - hits0) / seconds;
    out->removed_per_s =
        ((double)(a.spawned - spawned0) + (double)alive0 - a.shots_alive) / seconds;
    out->encode_us = writes ? (double)encode_ns / (double)writes / 1000.0 : NAN;
    out->decode_us = writes ? (double)decode_ns / (double)writes / 1000.0 : NAN;
    netcore_snapshot_server_destroy(a.server);
    netcore_schema_destroy(schema);
}

static void arena_rate_report(bench_json *json, const arena_params *params,
                              netcore_snapshot_format format, uint32_t rate_hz, uint32_t runs)
{
    double enc[MAX_RUNS], dec[MAX_RUNS];
    arena_result r = {0}; /* runs >= 1 fills it; gcc cannot tell */
    uint64_t decode_errors = 0;
    for (uint32_t i = 0; i < runs; i++) {
        arena_run(params, format, rate_hz, &r);
        enc[i] = r.encode_us;
        dec[i] = r.decode_us;
        decode_errors += r.decode_errors;
    }
    if (decode_errors)
        fail("arena: a client rejected a snapshot");
    char key[32];
    snprintf(key, sizeof key, "rate_%uhz", (unsigned)rate_hz);
    bench_json_object_begin(json, key);
    bench_json_uint(json, "rate_hz", rate_hz);
    bench_json_uint(json, "baseline_age_snapshots", ACK_DELAY_TICKS * rate_hz / TICK_HZ);
    bench_json_number(json, "kbps_per_client", r.kbps_mean);
    bench_json_number(json, "kbps_per_client_max", r.kbps_max);
    bench_json_number(json, "avg_payload_bytes", r.payload_mean);
    bench_json_uint(json, "max_payload_bytes", r.payload_max);
    bench_json_number(json, "entities_held_per_client", r.in_view);
    bench_json_number(json, "projectiles_alive", r.shots_alive);
    bench_json_number(json, "projectiles_created_per_s", r.created_per_s);
    bench_json_number(json, "projectiles_removed_per_s", r.removed_per_s);
    bench_json_number(json, "projectile_mean_life_s", r.shots_alive / r.created_per_s);
    bench_json_number(json, "hits_per_s", r.hits_per_s);
    bench_json_uint(json, "snapshots_full", r.full);
    bench_json_uint(json, "snapshots_delta", r.delta);
    bench_json_uint(json, "entities_created", r.created);
    bench_json_uint(json, "entities_updated", r.updated);
    bench_json_uint(json, "entities_removed", r.removed);
    bench_json_uint(json, "entities_deferred", r.deferred);
    bench_json_uint(json, "removals_deferred", r.removals_deferred);
    bench_json_uint(json, "max_baseline_age", r.max_baseline_age);
    bench_json_uint(json, "decode_errors", decode_errors);
    bench_json_runs(json, "encode_us_per_snapshot", enc, runs);
    bench_json_runs(json, "decode_us_per_snapshot", dec, runs);
    bench_json_object_end(json);
}

void arena_report(bench_json *json, bool quick, uint32_t runs)
{
    arena_params params = {ARENA_PLAYERS, ARENA_SHOTS, ARENA_SECONDS};
    if (quick)
        params = (arena_params){16, 50, 1};
    runs = runs > MAX_RUNS ? MAX_RUNS : runs;
    bench_json_object_begin(json, "arena");
    bench_json_uint(json, "players", params.players);
    bench_json_uint(json, "projectiles_max", params.shots);
    bench_json_number(json, "arena_m", 2.0 * ARENA_HALF_M);
    bench_json_number(json, "interest_radius_m", ARENA_RADIUS_M);
    bench_json_number(json, "projectile_lifetime_min_s", 1.0);
    bench_json_number(json, "projectile_lifetime_max_s", 2.0);
    bench_json_uint(json, "tick_hz", TICK_HZ);
    bench_json_uint(json, "seconds", params.seconds);
    bench_json_uint(json, "ack_delay_ms", ACK_DELAY_TICKS * 1000 / TICK_HZ);
    bench_json_uint(json, "budget_bytes", ARENA_BUDGET_BYTES);
    bench_json_uint(json, "warmup_ms_not_averaged", ARENA_WARMUP_TICKS * 1000 / TICK_HZ);
    arena_rate_report(json, &params, NETCORE_SNAPSHOT_FORMAT_BITPACKED, 20, runs);
    arena_rate_report(json, &params, NETCORE_SNAPSHOT_FORMAT_BITPACKED, 60, runs);
    /* The same runs with the range-coded format. */
    bench_json_object_begin(json, "range_coded");
    arena_rate_report(json, &params, NETCORE_SNAPSHOT_FORMAT_RANGE_CODED, 20, runs);
    arena_rate_report(json, &params, NETCORE_SNAPSHOT_FORMAT_RANGE_CODED, 60, runs);
    bench_json_object_end(json);
    bench_json_object_end(json);
}

/* ---- scale ---- */

#define SCALE_ENTITIES 1024
#define SCALE_HALF_M 128.0f
#define SCALE_RADIUS_M 50.0f
#define SCALE_MAX_VIEW 256
#define SCALE_RING 16
#define SCALE_BUDGET_BYTES 1200
#define SCALE_TICKS 300
#define SCALE_WARMUP_TICKS TICK_HZ
#define SCALE_MAX_CLIENTS 256
#define SCALE_GOAL_CLIENTS 64
#define SCALE_GOAL_MS 2.0

enum { UNIT_POS, UNIT_HEADING, UNIT_MOVING };

typedef struct scale_params {
    uint32_t entities, ticks, warmup_ticks;
} scale_params;

typedef struct scale_world {
    rng rng;
    walker units[SCALE_ENTITIES];
    netcore_entity_id ids[SCALE_ENTITIES];
    float x[SCALE_ENTITIES], y[SCALE_ENTITIES];
    uint32_t viewer_slot[SCALE_MAX_CLIENTS];
    ack_queue acks[SCALE_MAX_CLIENTS];
    double tick_ms[SCALE_TICKS], cpu_ms[SCALE_TICKS], update_ms[SCALE_TICKS];
    interest_view view;
} scale_world;

typedef struct scale_result {
    double tick_ms_median, tick_ms_p99, cpu_ms_median, update_ms_median, encode_us_per_client;
    double bytes_per_snapshot, in_view;
    uint64_t full, deferred;
} scale_result;

static netcore_schema *scale_schema(netcore_snapshot_format format)
{
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cfg.snapshot_format = format;
    netcore_schema *schema = NULL;
    uint16_t type;
    netcore_field_desc pos = position_field();
    netcore_field_desc heading = {.name = "heading", .kind = NETCORE_FIELD_ANGLE, .bits = 10};
    netcore_field_desc moving = {.name = "moving", .kind = NETCORE_FIELD_BOOL};
    if (netcore_schema_create(&cfg, &schema) != NETCORE_OK ||
        netcore_schema_add_type(schema, "unit", &type) != NETCORE_OK ||
        netcore_schema_add_field(schema, type, &pos, NULL) != NETCORE_OK ||
        netcore_schema_add_field(schema, type, &heading, NULL) != NETCORE_OK ||
        netcore_schema_add_field(schema, type, &moving, NULL) != NETCORE_OK ||
        netcore_schema_finalize(schema) != NETCORE_OK)
        fail("scale schema setup failed");
    return schema;
}

static void scale_run(const netcore_schema *schema, const scale_params *params, uint32_t clients,
                      scale_result *out)
{
    static scale_world w;
    static uint8_t buf[SCALE_BUDGET_BYTES];
    memset(&w, 0, sizeof w);
    memset(out, 0, sizeof *out);
    w.rng.state = 0x2545f4914f6cdd1dull;
    w.view = (interest_view){w.x, w.y, w.viewer_slot, SCALE_RADIUS_M, 0};
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.schema = schema;
    sc.max_entities = params->entities;
    sc.max_clients = clients;
    sc.max_view_entities = SCALE_MAX_VIEW < params->entities ? SCALE_MAX_VIEW : params->entities;
    sc.ring_length = SCALE_RING;
    sc.budget_bytes = SCALE_BUDGET_BYTES;
    sc.interest = distance_interest;
    sc.interest_user = &w.view;
    netcore_snapshot_server *server = NULL;
    if (netcore_snapshot_server_create(&sc, &server) != NETCORE_OK)
        fail("scale: server setup failed");
    for (uint32_t e = 0; e < params->entities; e++) {
        walker_place(&w.units[e], &w.rng, SCALE_HALF_M);
        if (netcore_snapshot_server_entity_create(server, 0, &w.ids[e]) != NETCORE_OK)
            fail("scale: entity creation failed");
    }
    for (uint32_t c = 0; c < clients; c++) {
        uint32_t cid = 0;
        if (netcore_snapshot_server_client_add(server, &cid) != NETCORE_OK || cid != c)
            fail("scale: client setup failed");
        w.viewer_slot[c] = w.ids[c] & 0xffffu;
    }
    const float dt = 1.0f / TICK_HZ;
    uint64_t bytes = 0, snapshots = 0, encode_ns = 0, relevant = 0;
    uint32_t measured = 0;
    for (uint32_t t = 0; t < params->warmup_ticks + params->ticks; t++) {
        uint64_t cpu0 = bench_cpu_time_ns(), t0 = bench_now_ns();
        for (uint32_t e = 0; e < params->entities; e++) {
            walker *u = &w.units[e];
            walker_step(u, &w.rng, SCALE_HALF_M, dt);
            uint32_t slot = w.ids[e] & 0xffffu;
            w.x[slot] = u->x;
            w.y[slot] = u->y;
            netcore_snapshot_server_set_vec3(server, w.ids[e], UNIT_POS,
                                             (netcore_vec3){u->x, u->y, 0.0f});
            netcore_snapshot_server_set_float(server, w.ids[e], UNIT_HEADING, u->heading);
            netcore_snapshot_server_set_bool(server, w.ids[e], UNIT_MOVING, u->idle_s <= 0.0f);
        }
        uint64_t t1 = bench_now_ns();
        uint64_t relevant0 = w.view.relevant, tick_bytes = 0;
        for (uint32_t c = 0; c < clients; c++) {
            ack_deliver(&w.acks[c], server, c, t);
            size_t len = 0;
            if (netcore_snapshot_server_write(server, c, t, buf, sizeof buf, &len) != NETCORE_OK)
                fail("scale: snapshot write failed");
            tick_bytes += len;
            /* The client would decode it and ack its sequence, which is the
             * number of snapshots written to it before (from 0, wrapping). */
            netcore_snapshot_server_stats st;
            netcore_snapshot_server_get_client_stats(server, c, &st);
            ack_push(&w.acks[c], t + ACK_DELAY_TICKS,
                     (uint16_t)(st.snapshots_full + st.snapshots_delta - 1));
        }
        uint64_t t2 = bench_now_ns(), cpu2 = bench_cpu_time_ns();
        if (t < params->warmup_ticks)
            continue;
        w.tick_ms[measured] = (double)(t2 - t0) / 1e6;
        w.cpu_ms[measured] = (double)(cpu2 - cpu0) / 1e6;
        w.update_ms[measured] = (double)(t1 - t0) / 1e6;
        measured++;
        encode_ns += t2 - t1;
        bytes += tick_bytes;
        snapshots += clients;
        relevant += w.view.relevant - relevant0;
    }
    for (uint32_t c = 0; c < clients; c++) {
        netcore_snapshot_server_stats st;
        netcore_snapshot_server_get_client_stats(server, c, &st);
        out->full += st.snapshots_full;
        out->deferred += st.entities_deferred;
    }
    bench_sort_doubles(w.tick_ms, measured);
    out->tick_ms_median = bench_median(w.tick_ms, measured);
    out->tick_ms_p99 = bench_percentile_sorted(w.tick_ms, measured, 99.0);
    out->cpu_ms_median = bench_median(w.cpu_ms, measured);
    out->update_ms_median = bench_median(w.update_ms, measured);
    out->encode_us_per_client = (double)encode_ns / (double)snapshots / 1000.0;
    out->bytes_per_snapshot = (double)bytes / (double)snapshots;
    out->in_view = (double)relevant / (double)snapshots;
    netcore_snapshot_server_destroy(server);
}

static void scale_curve(bench_json *json, const netcore_schema *schema,
                        const scale_params *base_params, const uint32_t *curve, size_t points,
                        uint32_t runs)
{
    scale_params params = *base_params;
    for (size_t p = 0; p < points; p++) {
        double median[MAX_RUNS], p99[MAX_RUNS], cpu[MAX_RUNS], update[MAX_RUNS], encode[MAX_RUNS];
        scale_result r = {0}; /* runs >= 1; the last run's counts are reported */
        for (uint32_t i = 0; i < runs; i++) {
            scale_run(schema, &params, curve[p], &r);
            median[i] = r.tick_ms_median;
            p99[i] = r.tick_ms_p99;
            cpu[i] = r.cpu_ms_median;
            update[i] = r.update_ms_median;
            encode[i] = r.encode_us_per_client;
        }
        char key[32];
        snprintf(key, sizeof key, "clients_%u", (unsigned)curve[p]);
        bench_json_object_begin(json, key);
        bench_json_uint(json, "clients", curve[p]);
        bench_json_runs(json, "ms_per_tick_median", median, runs);
        bench_json_runs(json, "ms_per_tick_p99", p99, runs);
        bench_json_runs(json, "cpu_ms_per_tick_median", cpu, runs);
        bench_json_runs(json, "world_update_ms_median", update, runs);
        bench_json_runs(json, "encode_us_per_client", encode, runs);
        bench_json_number(json, "bytes_per_client_per_snapshot", r.bytes_per_snapshot);
        bench_json_number(json, "entities_in_view", r.in_view);
        bench_json_uint(json, "snapshots_full", r.full);
        bench_json_uint(json, "entities_deferred", r.deferred);
        bench_json_object_end(json);
    }
}

void scale_report(bench_json *json, bool quick, uint32_t runs)
{
    static const uint32_t full_curve[] = {8, 32, SCALE_GOAL_CLIENTS, 128, SCALE_MAX_CLIENTS};
    static const uint32_t quick_curve[] = {4, 8};
    const uint32_t *curve = quick ? quick_curve : full_curve;
    size_t points =
        quick ? sizeof quick_curve / sizeof *quick_curve : sizeof full_curve / sizeof *full_curve;
    scale_params params = {SCALE_ENTITIES, SCALE_TICKS, SCALE_WARMUP_TICKS};
    if (quick)
        params = (scale_params){256, 30, 12};
    runs = runs > MAX_RUNS ? MAX_RUNS : runs;
    netcore_schema *schema = scale_schema(NETCORE_SNAPSHOT_FORMAT_BITPACKED);
    bench_json_object_begin(json, "scale");
    bench_json_uint(json, "entities", params.entities);
    bench_json_uint(json, "rate_hz", TICK_HZ);
    bench_json_number(json, "world_m", 2.0 * SCALE_HALF_M);
    bench_json_number(json, "interest_radius_m", SCALE_RADIUS_M);
    bench_json_uint(json, "budget_bytes", SCALE_BUDGET_BYTES);
    bench_json_uint(json, "ticks_measured", params.ticks);
    bench_json_uint(json, "ack_delay_ms", ACK_DELAY_TICKS * 1000 / TICK_HZ);
    bench_json_uint(json, "goal_clients", SCALE_GOAL_CLIENTS);
    bench_json_number(json, "goal_ms_per_tick", SCALE_GOAL_MS);
    scale_curve(json, schema, &params, curve, points, runs);
    /* The same curve with the range-coded format. */
    netcore_schema *range_schema = scale_schema(NETCORE_SNAPSHOT_FORMAT_RANGE_CODED);
    bench_json_object_begin(json, "range_coded");
    scale_curve(json, range_schema, &params, curve, points, runs);
    bench_json_object_end(json);
    netcore_schema_destroy(range_schema);
    bench_json_object_end(json);
    netcore_schema_destroy(schema);
}
