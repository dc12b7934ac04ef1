/*
 * The game of the world and match examples, described once for the session
 * layer: players are points moved by their keys in whole steps (fixed point,
 * so the server and every client compute bit-identical states), and the
 * server adds orbs that circle the arena.
 *
 * Everything netcore needs from a game is here: the schema (what an entity
 * of each type carries on the wire), the player's state and input, the
 * deterministic step, and how a player's state goes into its entity and back.
 */
#ifndef ARENA_H
#define ARENA_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "netcore/session.h"

#define ARENA_HALF_SIZE 40.0f /* the arena spans -40..40 units on each axis */
#define ARENA_STEP_MILLI 150  /* a held key moves 0.15 units a tick (9 units/s at 60 Hz) */

typedef struct arena_state {
    int32_t x_milli, y_milli; /* thousandths of a unit */
} arena_state;

typedef struct arena_input {
    int8_t move_x, move_y; /* -1, 0 or 1 */
} arena_input;

typedef struct arena {
    netcore_schema *schema;
    uint16_t type_player, type_orb;
    uint16_t player_x, player_y, player_pos, player_tick;
    uint16_t orb_pos;
} arena;

static inline int32_t arena_clamp(int32_t v)
{
    int32_t limit = (int32_t)(ARENA_HALF_SIZE * 1000.0f);
    return v < -limit ? -limit : (v > limit ? limit : v);
}

/* The deterministic step, run by the server for every player and by each
 * client for its own (prediction). */
static inline void arena_simulate(void *user, void *state, const void *input, uint32_t tick)
{
    arena_state *s = state;
    const arena_input *in = input;
    (void)user;
    (void)tick;
    s->x_milli = arena_clamp(s->x_milli + in->move_x * ARENA_STEP_MILLI);
    s->y_milli = arena_clamp(s->y_milli + in->move_y * ARENA_STEP_MILLI);
}

static inline netcore_vec3 arena_position(void *user, const void *state)
{
    const arena_state *s = state;
    (void)user;
    netcore_vec3 v = {(float)s->x_milli / 1000.0f, (float)s->y_milli / 1000.0f, 0.0f};
    return v;
}

/* Server: the exact state (for the owner's reconciliation) and a compact
 * display position (for everyone's interpolation). */
static inline void arena_write_state(void *user, netcore_snapshot_server *snap, netcore_entity_id e,
                                     const void *state)
{
    const arena *a = user;
    const arena_state *s = state;
    netcore_snapshot_server_set_int(snap, e, a->player_x, s->x_milli);
    netcore_snapshot_server_set_int(snap, e, a->player_y, s->y_milli);
    netcore_snapshot_server_set_vec3(snap, e, a->player_pos, arena_position(NULL, s));
}

static inline bool arena_read_state(void *user, const netcore_snapshot_client *snap,
                                    netcore_entity_id e, void *out)
{
    const arena *a = user;
    arena_state *s = out;
    int64_t x = 0, y = 0;
    if (netcore_snapshot_client_get_int(snap, e, a->player_x, &x) != NETCORE_OK ||
        netcore_snapshot_client_get_int(snap, e, a->player_y, &y) != NETCORE_OK)
        return false;
    s->x_milli = (int32_t)x;
    s->y_milli = (int32_t)y;
    return true;
}

static inline bool arena_field(arena *a, uint16_t type, const char *name, netcore_field_kind kind,
                               unsigned bits, bool is_signed, uint16_t *out)
{
    netcore_field_desc d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.kind = kind;
    d.bits = bits;
    d.is_signed = is_signed;
    d.min = -64.0f; /* VEC2 positions: the arena plus a margin, 1/256 unit */
    d.max = 64.0f;
    d.precision = 1.0f / 256.0f;
    return netcore_schema_add_field(a->schema, type, &d, out) == NETCORE_OK;
}

/* Builds the schema (identically on server and clients). Free with arena_destroy. */
static inline bool arena_create(arena *a)
{
    memset(a, 0, sizeof *a);
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    if (netcore_schema_create(&cfg, &a->schema) != NETCORE_OK)
        return false;
    bool ok =
        netcore_schema_add_type(a->schema, "player", &a->type_player) == NETCORE_OK &&
        netcore_schema_add_type(a->schema, "orb", &a->type_orb) == NETCORE_OK &&
        arena_field(a, a->type_player, "x", NETCORE_FIELD_INT, 32, true, &a->player_x) &&
        arena_field(a, a->type_player, "y", NETCORE_FIELD_INT, 32, true, &a->player_y) &&
        arena_field(a, a->type_player, "pos", NETCORE_FIELD_VEC2, 0, false, &a->player_pos) &&
        /* The session writes the input tick here: how a client knows
               * which of its predictions a snapshot confirms. */
        arena_field(a, a->type_player, "tick", NETCORE_FIELD_INT, 32, false, &a->player_tick) &&
        arena_field(a, a->type_orb, "pos", NETCORE_FIELD_VEC2, 0, false, &a->orb_pos) &&
        netcore_schema_finalize(a->schema) == NETCORE_OK;
    if (!ok)
        netcore_schema_destroy(a->schema);
    return ok;
}

static inline void arena_destroy(arena *a)
{
    netcore_schema_destroy(a->schema);
    a->schema = NULL;
}

/* The game as the session layer sees it; the same on both ends. */
static inline void arena_describe(arena *a, netcore_game_desc *g)
{
    netcore_game_desc_default(g); /* 60 ticks/s, a snapshot every 2 ticks */
    g->schema = a->schema;
    g->player_type = a->type_player;
    g->player_tick_field = a->player_tick;
    g->input_size_bytes = sizeof(arena_input);
    g->state_size_bytes = sizeof(arena_state);
    g->simulate = arena_simulate;
    g->position = arena_position;
    g->write_state = arena_write_state;
    g->read_state = arena_read_state;
    g->user = a;
}

#endif
