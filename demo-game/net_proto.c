/*
 * demo-game network protocol: schema, world mirroring and control messages
 * (see net_proto.h).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "net_proto.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TWO_PI 6.283185307179586

/* ---- schema ---- */

_Static_assert(DEMO_MAX_PLAYERS <= 64, "ship ids, owners and attackers are 6-bit schema fields");

static bool add_field(netcore_schema *s, uint16_t type, const char *name, netcore_field_kind kind,
                      unsigned bits, bool is_signed, float min, float max, float precision,
                      uint16_t *out)
{
    netcore_field_desc d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.kind = kind;
    d.bits = bits;
    d.is_signed = is_signed;
    d.min = min;
    d.max = max;
    d.precision = precision;
    return netcore_schema_add_field(s, type, &d, out) == NETCORE_OK;
}

static bool add_int(netcore_schema *s, uint16_t type, const char *name, unsigned bits,
                    bool is_signed, uint16_t *out)
{
    return add_field(s, type, name, NETCORE_FIELD_INT, bits, is_signed, 0, 0, 0, out);
}

/* Display positions: the arena plus a margin, 1/32 unit (17 bits a component). */
static bool add_pos(netcore_schema *s, uint16_t type, const char *name, uint16_t *out)
{
    return add_field(s, type, name, NETCORE_FIELD_VEC2, 0, false, -64.0f, DEMO_ARENA_W + 64.0f,
                     1.0f / 32.0f, out);
}

bool demo_net_schema_create(demo_net_schema *o, netcore_snapshot_format format)
{
    memset(o, 0, sizeof *o);
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cfg.snapshot_format = format;
    if (netcore_schema_create(&cfg, &o->schema) != NETCORE_OK) {
        fprintf(stderr, "demo: cannot create the replication schema\n");
        return false;
    }
    netcore_schema *s = o->schema;
    bool ok = netcore_schema_add_type(s, "ship", &o->type_ship) == NETCORE_OK &&
              netcore_schema_add_type(s, "shot", &o->type_shot) == NETCORE_OK &&
              netcore_schema_add_type(s, "round", &o->type_round) == NETCORE_OK;
    uint16_t t = o->type_ship;
    /* The exact Q16.16 state is sent beside the display position so that the
     * own ship reconciles bit for bit (x < 1600 * 65536 < 2^27). */
    ok = ok && add_int(s, t, "id", 6, false, &o->ship_id) && add_pos(s, t, "pos", &o->ship_pos) &&
         add_int(s, t, "x", 28, true, &o->ship_x) && add_int(s, t, "y", 28, true, &o->ship_y) &&
         add_int(s, t, "vx", 24, true, &o->ship_vx) && add_int(s, t, "vy", 24, true, &o->ship_vy) &&
         add_field(s, t, "angle", NETCORE_FIELD_ANGLE, 16, false, 0, 0, 0, &o->ship_angle) &&
         add_int(s, t, "health", 7, false, &o->ship_health) &&
         add_field(s, t, "alive", NETCORE_FIELD_BOOL, 0, false, 0, 0, 0, &o->ship_alive) &&
         add_int(s, t, "cooldown", 4, false, &o->ship_cooldown) &&
         add_int(s, t, "respawn", 7, false, &o->ship_respawn) &&
         add_int(s, t, "score", 12, true, &o->ship_score) &&
         add_int(s, t, "deaths", 12, false, &o->ship_deaths) &&
         add_int(s, t, "last_input", 32, false, &o->ship_last_input) &&
         /* Who hit it last: the death banner names that player. */
         add_int(s, t, "attacker", 6, false, &o->ship_attacker);
    t = o->type_shot;
    ok = ok && add_pos(s, t, "pos", &o->shot_pos) &&
         add_field(s, t, "vel", NETCORE_FIELD_VEC2, 0, false, -16.0f, 16.0f, 1.0f / 64.0f,
                   &o->shot_vel) &&
         add_int(s, t, "owner", 6, false, &o->shot_owner) &&
         add_int(s, t, "life", 6, false, &o->shot_life);
    t = o->type_round;
    ok = ok && add_int(s, t, "state", 2, false, &o->round_state) &&
         add_int(s, t, "number", 16, false, &o->round_number) &&
         add_int(s, t, "ticks_left", 24, false, &o->round_ticks_left);
    ok = ok && netcore_schema_finalize(s) == NETCORE_OK &&
         netcore_schema_hash(s, &o->hash) == NETCORE_OK;
    if (!ok) {
        fprintf(stderr, "demo: the replication schema was refused\n");
        demo_net_schema_destroy(o);
    }
    return ok;
}

void demo_net_schema_destroy(demo_net_schema *schema)
{
    netcore_schema_destroy(schema->schema);
    schema->schema = NULL;
}

void demo_net_interp_types(const demo_net_schema *schema, netcore_interp *interp)
{
    /* A respawn moves a ship across the arena: snap instead of gliding. A
     * shot moves 24 units per snapshot at 30 Hz; farther is a re-used slot. */
    netcore_interp_type_config tc = {NETCORE_INTERP_NO_FIELD, 100.0f};
    netcore_interp_set_type_config(interp, schema->type_ship, &tc);
    tc.snap_distance = 60.0f;
    netcore_interp_set_type_config(interp, schema->type_shot, &tc);
}

/* ---- inputs ---- */

static void put_u32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t get_u32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

void demo_net_input_encode(const demo_net_input *in, uint8_t out[DEMO_NET_INPUT_BYTES])
{
    out[0] = in->input.buttons & DEMO_BTN_ALL;
    out[1] = (uint8_t)in->input.aim;
    out[2] = (uint8_t)(in->input.aim >> 8);
    out[3] = in->flags;
}

void demo_net_input_decode(const uint8_t bytes[DEMO_NET_INPUT_BYTES], demo_net_input *out)
{
    out->input.buttons = bytes[0] & DEMO_BTN_ALL;
    out->input.aim = (uint16_t)(bytes[1] | bytes[2] << 8);
    out->flags = bytes[3];
}

/* ---- the game description ---- */

/* The own ship's step, as the server's world step moves it: the round rules,
 * then the movement kernel. The shot it may fire is the server's business. */
static void ship_simulate(void *user, void *state, const void *input, uint32_t tick)
{
    (void)user;
    (void)tick;
    demo_net_ship *st = state;
    demo_net_input in;
    demo_net_input_decode(input, &in);
    demo_world scratch; /* only the round state and slot 0 are read */
    scratch.round_state = st->round_state;
    scratch.players[0] = st->player;
    demo_sim_step_player(&scratch, 0, &in.input);
    st->player = scratch.players[0];
}

static netcore_vec3 ship_position(void *user, const void *state)
{
    (void)user;
    const demo_player *p = &((const demo_net_ship *)state)->player;
    netcore_vec3 v = {(float)p->x / DEMO_FX_ONE, (float)p->y / DEMO_FX_ONE, 0.0f};
    return v;
}

static float ship_error(void *user, const void *predicted, const void *authoritative)
{
    (void)user;
    const demo_player *a = &((const demo_net_ship *)predicted)->player;
    const demo_player *b = &((const demo_net_ship *)authoritative)->player;
    if (a->alive != b->alive || a->active != b->active) {
        return 1000.0f;
    }
    double dx = fabs((double)a->x - b->x) / DEMO_FX_ONE;
    double dy = fabs((double)a->y - b->y) / DEMO_FX_ONE;
    double dv = (fabs((double)a->vx - b->vx) + fabs((double)a->vy - b->vy)) / DEMO_FX_ONE;
    /* Any difference in the exact state is an error: the kernel is
     * deterministic, so only a repeated input, a hit or a respawn differs. */
    return (float)(dx + dy + dv + (a->fire_cooldown != b->fire_cooldown ? 1.0 : 0.0));
}

void demo_net_game_desc(const demo_net_schema *schema, uint32_t tick_rate_hz,
                        uint32_t snapshot_rate_hz, netcore_game_desc *out)
{
    netcore_game_desc_default(out);
    out->schema = schema->schema;
    out->player_type = schema->type_ship;
    out->player_tick_field = schema->ship_last_input;
    out->tick_rate_hz = tick_rate_hz;
    out->snapshot_every_ticks = tick_rate_hz / snapshot_rate_hz;
    out->input_size_bytes = DEMO_NET_INPUT_BYTES;
    out->state_size_bytes = sizeof(demo_net_ship);
    out->simulate = ship_simulate;
    out->position = ship_position;
    out->error = ship_error;
}

/* ---- server: mirroring the world ---- */

static float fx_to_units(demo_fx v)
{
    return (float)v / (float)DEMO_FX_ONE;
}

static float angle_to_radians(uint16_t a)
{
    /* Signed so that it lies in the ANGLE field's [-pi, pi). */
    return (float)((double)(int16_t)a * TWO_PI / 65536.0);
}

static uint16_t radians_to_angle(float r)
{
    return (uint16_t)(int32_t)lround((double)r * 65536.0 / TWO_PI);
}

static bool ensure(netcore_snapshot_server *server, uint16_t type, netcore_entity_id *id)
{
    if (*id != NETCORE_ENTITY_NONE) {
        return true;
    }
    return netcore_snapshot_server_entity_create(server, type, id) == NETCORE_OK;
}

static void drop(netcore_snapshot_server *server, netcore_entity_id *id)
{
    if (*id != NETCORE_ENTITY_NONE) {
        netcore_snapshot_server_entity_destroy(server, *id);
        *id = NETCORE_ENTITY_NONE;
    }
}

static void sync_ship(const demo_net_schema *sc, netcore_snapshot_server *sv, netcore_entity_id e,
                      int id, const demo_player *p)
{
    netcore_vec3 pos = {fx_to_units(p->x), fx_to_units(p->y), 0.0f};
    netcore_snapshot_server_set_int(sv, e, sc->ship_id, id);
    netcore_snapshot_server_set_vec3(sv, e, sc->ship_pos, pos);
    netcore_snapshot_server_set_int(sv, e, sc->ship_x, p->x);
    netcore_snapshot_server_set_int(sv, e, sc->ship_y, p->y);
    netcore_snapshot_server_set_int(sv, e, sc->ship_vx, p->vx);
    netcore_snapshot_server_set_int(sv, e, sc->ship_vy, p->vy);
    netcore_snapshot_server_set_float(sv, e, sc->ship_angle, angle_to_radians(p->angle));
    netcore_snapshot_server_set_int(sv, e, sc->ship_health, p->health);
    netcore_snapshot_server_set_bool(sv, e, sc->ship_alive, p->alive);
    netcore_snapshot_server_set_int(sv, e, sc->ship_cooldown, p->fire_cooldown);
    netcore_snapshot_server_set_int(sv, e, sc->ship_respawn, p->respawn_ticks);
    netcore_snapshot_server_set_int(sv, e, sc->ship_score, p->score);
    netcore_snapshot_server_set_int(sv, e, sc->ship_deaths, p->deaths);
    netcore_snapshot_server_set_int(sv, e, sc->ship_attacker, p->last_attacker);
}

void demo_net_write_ship(const demo_net_schema *schema, netcore_snapshot_server *server,
                         netcore_entity_id entity, const demo_net_ship *ship)
{
    sync_ship(schema, server, entity, ship->id, &ship->player);
}

bool demo_net_mirror_sync(const demo_net_schema *sc, netcore_snapshot_server *sv,
                          demo_net_mirror *m, const demo_world *w)
{
    bool ok = ensure(sv, sc->type_round, &m->round);
    if (ok) {
        netcore_snapshot_server_set_int(sv, m->round, sc->round_state, w->round_state);
        netcore_snapshot_server_set_int(sv, m->round, sc->round_number, w->round_number);
        netcore_snapshot_server_set_int(sv, m->round, sc->round_ticks_left, w->state_ticks_left);
    }
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *p = &w->players[i];
        if (!p->active || m->players[i] != NETCORE_ENTITY_NONE) {
            drop(sv, &m->ships[i]); /* gone, or a bot whose seat a player took */
        } else if (ensure(sv, sc->type_ship, &m->ships[i])) {
            sync_ship(sc, sv, m->ships[i], i, p);
        } else {
            ok = false;
        }
    }
    for (int i = 0; i < DEMO_MAX_PROJECTILES; i++) {
        const demo_projectile *pr = &w->projectiles[i];
        /* Life only counts down: a higher one is a new shot in a re-used slot,
         * which clients must see as a new entity, not a jump. */
        if (!pr->active || pr->life_ticks > m->shot_life[i]) {
            drop(sv, &m->shots[i]);
        }
        m->shot_life[i] = pr->active ? pr->life_ticks : 0;
        if (!pr->active) {
            continue;
        }
        if (!ensure(sv, sc->type_shot, &m->shots[i])) {
            ok = false;
            continue;
        }
        netcore_entity_id e = m->shots[i];
        netcore_vec3 pos = {fx_to_units(pr->x), fx_to_units(pr->y), 0.0f};
        netcore_vec3 vel = {fx_to_units(pr->vx), fx_to_units(pr->vy), 0.0f};
        netcore_snapshot_server_set_vec3(sv, e, sc->shot_pos, pos);
        netcore_snapshot_server_set_vec3(sv, e, sc->shot_vel, vel);
        netcore_snapshot_server_set_int(sv, e, sc->shot_owner, pr->owner);
        netcore_snapshot_server_set_int(sv, e, sc->shot_life, pr->life_ticks);
    }
    return ok;
}

/* ---- client: rebuilding a world ---- */

/* The snapshot client and the interpolator have the same getters on
 * different handles; this lets one reader serve both. */
typedef struct reader {
    const void *obj;
    uint32_t (*count)(const void *obj);
    netcore_result (*at)(const void *obj, uint32_t i, netcore_entity_id *id, uint16_t *type);
    netcore_result (*get_int)(const void *obj, netcore_entity_id id, uint16_t f, int64_t *v);
    netcore_result (*get_float)(const void *obj, netcore_entity_id id, uint16_t f, float *v);
    netcore_result (*get_bool)(const void *obj, netcore_entity_id id, uint16_t f, bool *v);
    netcore_result (*get_vec3)(const void *obj, netcore_entity_id id, uint16_t f, netcore_vec3 *v);
} reader;

static uint32_t snap_count(const void *o)
{
    return netcore_snapshot_client_entity_count(o);
}
static netcore_result snap_at(const void *o, uint32_t i, netcore_entity_id *id, uint16_t *t)
{
    return netcore_snapshot_client_entity_at(o, i, id, t);
}
static netcore_result snap_int(const void *o, netcore_entity_id id, uint16_t f, int64_t *v)
{
    return netcore_snapshot_client_get_int(o, id, f, v);
}
static netcore_result snap_float(const void *o, netcore_entity_id id, uint16_t f, float *v)
{
    return netcore_snapshot_client_get_float(o, id, f, v);
}
static netcore_result snap_bool(const void *o, netcore_entity_id id, uint16_t f, bool *v)
{
    return netcore_snapshot_client_get_bool(o, id, f, v);
}
static netcore_result snap_vec3(const void *o, netcore_entity_id id, uint16_t f, netcore_vec3 *v)
{
    return netcore_snapshot_client_get_vec3(o, id, f, v);
}
static uint32_t interp_count(const void *o)
{
    return netcore_interp_entity_count(o);
}
static netcore_result interp_at(const void *o, uint32_t i, netcore_entity_id *id, uint16_t *t)
{
    return netcore_interp_entity_at(o, i, id, t, NULL);
}
static netcore_result interp_int(const void *o, netcore_entity_id id, uint16_t f, int64_t *v)
{
    return netcore_interp_get_int(o, id, f, v);
}
static netcore_result interp_float(const void *o, netcore_entity_id id, uint16_t f, float *v)
{
    return netcore_interp_get_float(o, id, f, v);
}
static netcore_result interp_bool(const void *o, netcore_entity_id id, uint16_t f, bool *v)
{
    return netcore_interp_get_bool(o, id, f, v);
}
static netcore_result interp_vec3(const void *o, netcore_entity_id id, uint16_t f, netcore_vec3 *v)
{
    return netcore_interp_get_vec3(o, id, f, v);
}

static int64_t rd_int(const reader *r, netcore_entity_id id, uint16_t f)
{
    int64_t v = 0;
    r->get_int(r->obj, id, f, &v);
    return v;
}

static demo_fx units_to_fx(float u)
{
    return (demo_fx)lround((double)u * DEMO_FX_ONE);
}

/* Reads one ship into *p; false (nothing read) when its id is out of range. */
static bool read_player(const demo_net_schema *sc, const reader *r, netcore_entity_id e, bool exact,
                        demo_player *p, int64_t *out_id)
{
    int64_t id = rd_int(r, e, sc->ship_id);
    if (id < 0 || id >= DEMO_MAX_PLAYERS) {
        return false;
    }
    *out_id = id;
    p->active = true;
    bool alive = false;
    r->get_bool(r->obj, e, sc->ship_alive, &alive);
    p->alive = alive;
    if (exact) {
        p->x = (demo_fx)rd_int(r, e, sc->ship_x);
        p->y = (demo_fx)rd_int(r, e, sc->ship_y);
    } else {
        netcore_vec3 pos = {0, 0, 0};
        r->get_vec3(r->obj, e, sc->ship_pos, &pos);
        p->x = units_to_fx(pos.x);
        p->y = units_to_fx(pos.y);
    }
    float angle = 0.0f;
    r->get_float(r->obj, e, sc->ship_angle, &angle);
    p->angle = radians_to_angle(angle);
    p->vx = (demo_fx)rd_int(r, e, sc->ship_vx);
    p->vy = (demo_fx)rd_int(r, e, sc->ship_vy);
    p->health = (int16_t)rd_int(r, e, sc->ship_health);
    p->fire_cooldown = (uint16_t)rd_int(r, e, sc->ship_cooldown);
    p->respawn_ticks = (uint16_t)rd_int(r, e, sc->ship_respawn);
    p->score = (int16_t)rd_int(r, e, sc->ship_score);
    p->deaths = (int16_t)rd_int(r, e, sc->ship_deaths);
    int64_t attacker = rd_int(r, e, sc->ship_attacker);
    p->last_attacker = attacker >= 0 && attacker < DEMO_MAX_PLAYERS ? (uint8_t)attacker : 0;
    return true;
}

static void read_ship(const demo_net_schema *sc, const reader *r, netcore_entity_id e, bool exact,
                      demo_world *w)
{
    demo_player p;
    memset(&p, 0, sizeof p);
    int64_t id = 0;
    if (read_player(sc, r, e, exact, &p, &id)) {
        w->players[id] = p;
    }
}

static void read_world(const demo_net_schema *sc, const reader *r, bool exact, demo_world *w)
{
    char names[DEMO_MAX_PLAYERS][DEMO_NAME_MAX];
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        memcpy(names[i], w->players[i].name, DEMO_NAME_MAX);
    }
    memset(w->players, 0, sizeof w->players);
    memset(w->projectiles, 0, sizeof w->projectiles);
    int shots = 0;
    uint32_t n = r->count(r->obj);
    for (uint32_t i = 0; i < n; i++) {
        netcore_entity_id e = NETCORE_ENTITY_NONE;
        uint16_t type = 0;
        if (r->at(r->obj, i, &e, &type) != NETCORE_OK) {
            continue;
        }
        if (type == sc->type_ship) {
            read_ship(sc, r, e, exact, w);
        } else if (type == sc->type_shot && shots < DEMO_MAX_PROJECTILES) {
            demo_projectile *pr = &w->projectiles[shots++];
            netcore_vec3 pos = {0, 0, 0};
            netcore_vec3 vel = {0, 0, 0};
            r->get_vec3(r->obj, e, sc->shot_pos, &pos);
            r->get_vec3(r->obj, e, sc->shot_vel, &vel);
            pr->active = true;
            pr->x = units_to_fx(pos.x);
            pr->y = units_to_fx(pos.y);
            pr->vx = units_to_fx(vel.x);
            pr->vy = units_to_fx(vel.y);
            pr->owner = (uint8_t)rd_int(r, e, sc->shot_owner);
            pr->life_ticks = (uint16_t)rd_int(r, e, sc->shot_life);
        } else if (type == sc->type_round) {
            w->round_state = (uint8_t)rd_int(r, e, sc->round_state);
            w->round_number = (uint16_t)rd_int(r, e, sc->round_number);
            w->state_ticks_left = (uint32_t)rd_int(r, e, sc->round_ticks_left);
        }
    }
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        memcpy(w->players[i].name, names[i], DEMO_NAME_MAX);
    }
}

void demo_net_world_from_snapshot(const demo_net_schema *schema,
                                  const netcore_snapshot_client *client, demo_world *out)
{
    reader r = {client, snap_count, snap_at, snap_int, snap_float, snap_bool, snap_vec3};
    read_world(schema, &r, true, out);
}

bool demo_net_read_ship(const demo_net_schema *schema, const netcore_snapshot_client *client,
                        netcore_entity_id entity, demo_net_ship *out)
{
    reader r = {client, snap_count, snap_at, snap_int, snap_float, snap_bool, snap_vec3};
    memset(out, 0, sizeof *out);
    int64_t id = 0;
    if (!read_player(schema, &r, entity, true, &out->player, &id)) {
        return false;
    }
    out->id = (uint8_t)id;
    /* Not part of the predicted state: only the server's world uses them. */
    out->player.last_attacker = 0;
    uint32_t n = netcore_snapshot_client_entity_count(client);
    for (uint32_t i = 0; i < n; i++) {
        netcore_entity_id e = NETCORE_ENTITY_NONE;
        uint16_t type = 0;
        if (netcore_snapshot_client_entity_at(client, i, &e, &type) == NETCORE_OK &&
            type == schema->type_round) {
            out->round_state = (uint8_t)rd_int(&r, e, schema->round_state);
        }
    }
    return true;
}

void demo_net_world_from_interp(const demo_net_schema *schema, const netcore_interp *interp,
                                demo_world *out)
{
    reader r = {interp,       interp_count, interp_at,  interp_int,
                interp_float, interp_bool,  interp_vec3};
    read_world(schema, &r, false, out);
}

/* ---- control messages ---- */

/* Names travel as 0..DEMO_NAME_MAX-1 bytes without a terminator. They end up
 * in log lines and on screen, so control bytes (NUL, escapes, newlines) are
 * refused by the readers; the writers put '?' in their place so that what
 * they send is always read back. Other bytes (UTF-8) pass unchanged. */
static bool name_byte_ok(uint8_t c)
{
    return c >= 0x20 && c != 0x7f;
}

static bool name_ok(const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!name_byte_ok(name[i])) {
            return false;
        }
    }
    return true;
}

/* Writes at most DEMO_NAME_MAX-1 bytes of name; returns the length. */
static size_t put_name(uint8_t *out, const char *name)
{
    size_t len = name ? strnlen(name, DEMO_NAME_MAX - 1) : 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)name[i];
        out[i] = name_byte_ok(c) ? c : (uint8_t)'?';
    }
    return len;
}

size_t demo_net_write_name(const char *name, uint8_t *out)
{
    out[0] = DEMO_MSG_NAME;
    size_t len = put_name(out + 2, name);
    out[1] = (uint8_t)len;
    return 2 + len;
}

bool demo_net_read_name(const uint8_t *d, size_t size, char out_name[DEMO_NAME_MAX])
{
    if (size < 2 || d[0] != DEMO_MSG_NAME || d[1] >= DEMO_NAME_MAX || size != 2u + d[1] ||
        !name_ok(d + 2, d[1])) {
        return false;
    }
    memcpy(out_name, d + 2, d[1]);
    out_name[d[1]] = '\0';
    return true;
}

size_t demo_net_write_roster(const demo_world *w, uint8_t *out)
{
    size_t n = 2;
    out[0] = DEMO_MSG_ROSTER;
    out[1] = 0;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        if (!w->players[i].active) {
            continue;
        }
        size_t len = put_name(out + n + 2, w->players[i].name);
        out[n] = (uint8_t)i;
        out[n + 1] = (uint8_t)len;
        n += 2 + len;
        out[1]++;
    }
    return n;
}

bool demo_net_read_roster(const uint8_t *d, size_t size, demo_world *w)
{
    if (size < 2 || d[0] != DEMO_MSG_ROSTER || d[1] > DEMO_MAX_PLAYERS) {
        return false;
    }
    char names[DEMO_MAX_PLAYERS][DEMO_NAME_MAX];
    memset(names, 0, sizeof names);
    size_t n = 2;
    for (unsigned k = 0; k < d[1]; k++) {
        if (n + 2 > size || d[n] >= DEMO_MAX_PLAYERS || d[n + 1] >= DEMO_NAME_MAX ||
            n + 2 + d[n + 1] > size || !name_ok(d + n + 2, d[n + 1])) {
            return false;
        }
        memcpy(names[d[n]], d + n + 2, d[n + 1]);
        n += 2u + d[n + 1];
    }
    if (n != size) {
        return false;
    }
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        memcpy(w->players[i].name, names[i], DEMO_NAME_MAX);
    }
    return true;
}

#define EVENT_BYTES 11

size_t demo_net_write_events(const demo_world *w, uint8_t *out)
{
    size_t n = 2;
    out[0] = DEMO_MSG_EVENTS;
    out[1] = 0;
    for (uint32_t i = 0; i < w->event_count && n + EVENT_BYTES <= DEMO_NET_MAX_MESSAGE; i++) {
        const demo_event *e = &w->events[i];
        if (e->kind == DEMO_EVENT_SHOT) {
            continue;
        }
        out[n] = e->kind;
        out[n + 1] = e->a;
        out[n + 2] = e->b;
        put_u32(out + n + 3, (uint32_t)e->x);
        put_u32(out + n + 7, (uint32_t)e->y);
        n += EVENT_BYTES;
        out[1]++;
    }
    return out[1] ? n : 0;
}

bool demo_net_read_events(const uint8_t *d, size_t size, demo_world *w)
{
    if (size < 2 || d[0] != DEMO_MSG_EVENTS || d[1] > DEMO_MAX_EVENTS ||
        size != 2u + (size_t)d[1] * EVENT_BYTES) {
        return false;
    }
    w->event_count = 0;
    for (unsigned k = 0; k < d[1]; k++) {
        const uint8_t *b = d + 2 + (size_t)k * EVENT_BYTES;
        /* SHOT is never sent (demo_net_write_events skips it). */
        if (b[0] < DEMO_EVENT_HIT || b[0] > DEMO_EVENT_ROUND || b[1] >= DEMO_MAX_PLAYERS ||
            b[2] >= DEMO_MAX_PLAYERS) {
            w->event_count = 0;
            return false;
        }
        demo_event *e = &w->events[w->event_count++];
        e->kind = b[0];
        e->a = b[1];
        e->b = b[2];
        e->x = (demo_fx)get_u32(b + 3);
        e->y = (demo_fx)get_u32(b + 7);
    }
    return true;
}
