/*
 * A small deterministic game for the session layer's tests: each player is a
 * point moved by its input in fixed-point steps (exact on both ends), and the
 * server may add "bots" that slide along x. Shared by test_session.c
 * (simulated network) and test_session_enet.c (real ENet on loopback).
 * Header-only (static) because each test file is its own program.
 */
#ifndef TEST_SESSION_GAME_H
#define TEST_SESSION_GAME_H

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "netcore/session.h"

#define TG_STEP 50 /* thousandths of a unit per tick per input axis */
#define TG_TO_UNITS 0.001f

typedef struct tg_state {
    int32_t x, y; /* thousandths of a unit */
} tg_state;

typedef struct tg_input {
    int8_t mx, my;
    uint8_t fire;
    uint8_t unused;
    float aim_x, aim_y; /* where the shooter saw its target */
} tg_input;

typedef struct tg_schema {
    netcore_schema *schema;
    uint16_t type_player, type_bot;
    uint16_t player_x, player_y, player_pos, player_tick;
    uint16_t bot_pos;
} tg_schema;

static void tg_simulate(void *user, void *state, const void *input, uint32_t tick)
{
    (void)user;
    (void)tick;
    tg_state *s = state;
    tg_input in;
    memcpy(&in, input, sizeof in);
    s->x += in.mx * TG_STEP;
    s->y += in.my * TG_STEP;
}

static netcore_vec3 tg_position(void *user, const void *state)
{
    (void)user;
    const tg_state *s = state;
    netcore_vec3 v = {(float)s->x * TG_TO_UNITS, (float)s->y * TG_TO_UNITS, 0.0f};
    return v;
}

static void tg_write_state(void *user, netcore_snapshot_server *snap, netcore_entity_id entity,
                           const void *state)
{
    const tg_schema *sc = user;
    const tg_state *s = state;
    netcore_snapshot_server_set_int(snap, entity, sc->player_x, s->x);
    netcore_snapshot_server_set_int(snap, entity, sc->player_y, s->y);
    netcore_snapshot_server_set_vec3(snap, entity, sc->player_pos, tg_position(NULL, s));
}

static bool tg_read_state(void *user, const netcore_snapshot_client *snap, netcore_entity_id entity,
                          void *out)
{
    const tg_schema *sc = user;
    tg_state *s = out;
    int64_t x = 0, y = 0;
    if (netcore_snapshot_client_get_int(snap, entity, sc->player_x, &x) != NETCORE_OK ||
        netcore_snapshot_client_get_int(snap, entity, sc->player_y, &y) != NETCORE_OK)
        return false;
    s->x = (int32_t)x;
    s->y = (int32_t)y;
    return true;
}

static void tg_add(netcore_schema *s, uint16_t type, const char *name, netcore_field_kind kind,
                   unsigned bits, bool is_signed, uint16_t *out)
{
    netcore_field_desc d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.kind = kind;
    d.bits = bits;
    d.is_signed = is_signed;
    d.min = -512.0f;
    d.max = 512.0f;
    d.precision = 1.0f / 256.0f;
    cr_assert_eq(netcore_schema_add_field(s, type, &d, out), NETCORE_OK);
}

static void tg_schema_make(tg_schema *sc)
{
    memset(sc, 0, sizeof *sc);
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cr_assert_eq(netcore_schema_create(&cfg, &sc->schema), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(sc->schema, "player", &sc->type_player), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(sc->schema, "bot", &sc->type_bot), NETCORE_OK);
    tg_add(sc->schema, sc->type_player, "x", NETCORE_FIELD_INT, 32, true, &sc->player_x);
    tg_add(sc->schema, sc->type_player, "y", NETCORE_FIELD_INT, 32, true, &sc->player_y);
    tg_add(sc->schema, sc->type_player, "pos", NETCORE_FIELD_VEC2, 0, false, &sc->player_pos);
    tg_add(sc->schema, sc->type_player, "tick", NETCORE_FIELD_INT, 32, false, &sc->player_tick);
    tg_add(sc->schema, sc->type_bot, "pos", NETCORE_FIELD_VEC2, 0, false, &sc->bot_pos);
    cr_assert_eq(netcore_schema_finalize(sc->schema), NETCORE_OK);
}

static void tg_desc(netcore_game_desc *g, tg_schema *sc)
{
    netcore_game_desc_default(g);
    g->schema = sc->schema;
    g->player_type = sc->type_player;
    g->player_tick_field = sc->player_tick;
    g->input_size_bytes = sizeof(tg_input);
    g->state_size_bytes = sizeof(tg_state);
    g->simulate = tg_simulate;
    g->position = tg_position;
    g->write_state = tg_write_state;
    g->read_state = tg_read_state;
    g->user = sc;
}

#endif
