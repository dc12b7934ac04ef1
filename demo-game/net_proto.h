/*
 * demo-game network protocol: what the dedicated server and the networked
 * client agree on, on top of the netcore session layer (session.h).
 *
 * The session layer carries the handshake (its HELLO/WELCOME), snapshots and
 * input packets. The demo adds its game description (demo_net_game_desc:
 * schema, input, the own ship's predicted state, the step) and one game
 * channel, DEMO_NET_CHANNEL_EVENTS (reliable ordered), with:
 *   NAME (client to server, once after WELCOME: the player's nickname),
 *   ROSTER (server: names of every slot),
 *   EVENTS (server: hits, kills, respawns, impacts, round changes of one
 *     tick, for effects and the kill feed).
 *
 * Replication schema (see make_schema in net_proto.c): a "ship" per player
 * with its exact Q16.16 state (for reconciliation of the own ship) plus a
 * quantized position and an angle (for interpolation of the others), a
 * "shot" per projectile, and one "round" entity. A player's ship is the
 * session's player entity; the server's bots have ships the demo makes.
 *
 * Every decoder here takes untrusted bytes: sizes and values are checked and a
 * bad message is refused (false), never asserted on.
 */
#ifndef DEMO_NET_PROTO_H
#define DEMO_NET_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/interp.h"
#include "netcore/schema.h"
#include "netcore/session.h"
#include "netcore/snapshot.h"
#include "sim.h"

#define DEMO_NET_CHANNEL_EVENTS 0 /* the session's game channel 0: reliable ordered */
#define DEMO_NET_GAME_CHANNELS 1
#define DEMO_NET_SNAPSHOT_RATE_HZ 30
#define DEMO_NET_INPUT_BYTES 4
#define DEMO_NET_MAX_MESSAGE 1400 /* game messages and snapshots fit one datagram */
#define DEMO_NET_MAX_ENTITIES (DEMO_MAX_PLAYERS + DEMO_MAX_PROJECTILES + 1)

enum { DEMO_MSG_NAME = 1, DEMO_MSG_ROSTER = 3, DEMO_MSG_EVENTS = 4 };

/* Input flags (demo_net_input.flags). */
enum { DEMO_NET_FLAG_LAGCOMP = 1u << 0 };

/* One tick's command as it travels: the game input and whether the server
 * should test this player's shots against what it saw (the session sends
 * the render tick itself). */
typedef struct demo_net_input {
    demo_input input;
    uint8_t flags; /* DEMO_NET_FLAG_* */
} demo_net_input;

/* The state the session keeps per player and the client predicts: the ship,
 * its slot and the round state its step obeys. Plain data: zero it whole
 * (padding included) before filling, the predictor copies bytes. */
typedef struct demo_net_ship {
    uint8_t id;          /* slot, 0..DEMO_MAX_PLAYERS-1 */
    uint8_t round_state; /* demo_round_state the ship is stepped under */
    demo_player player;  /* name and last_attacker are not carried */
} demo_net_ship;

/* The schema and the indices of its types and fields. */
typedef struct demo_net_schema {
    netcore_schema *schema;
    uint64_t hash;
    uint16_t type_ship, type_shot, type_round;
    uint16_t ship_id, ship_pos, ship_x, ship_y, ship_vx, ship_vy, ship_angle, ship_health,
        ship_alive, ship_cooldown, ship_respawn, ship_score, ship_deaths, ship_last_input,
        ship_attacker;
    uint16_t shot_pos, shot_vel, shot_owner, shot_life;
    uint16_t round_state, round_number, round_ticks_left;
} demo_net_schema;

/* Builds and finalizes the schema with the given snapshot format (part of
 * the hash in the hello, so a client and a server that differ are refused).
 * Returns false (message on stderr) if netcore refuses it. Free with
 * demo_net_schema_destroy. */
bool demo_net_schema_create(demo_net_schema *out, netcore_snapshot_format format);
void demo_net_schema_destroy(demo_net_schema *schema);

/* Sets the teleport rules of ships and shots on an interpolator. */
void demo_net_interp_types(const demo_net_schema *schema, netcore_interp *interp);

/* The demo's session game description: schema, ship type and its input tick
 * field, rates (tick_rate_hz, a snapshot every tick_rate / snapshot_rate
 * ticks), sizes, and the step, position and error of a demo_net_ship. The
 * caller sets write_state (server), read_state (client) and user. */
void demo_net_game_desc(const demo_net_schema *schema, uint32_t tick_rate_hz,
                        uint32_t snapshot_rate_hz, netcore_game_desc *out);

/* Writes a ship's state into its snapshot entity (all but the input tick). */
void demo_net_write_ship(const demo_net_schema *schema, netcore_snapshot_server *server,
                         netcore_entity_id entity, const demo_net_ship *ship);
/* Reads a ship's exact state (and the round state of the world) from a
 * decoded snapshot into *out (zeroed first); false when the entity is not a
 * ship with a valid id. */
bool demo_net_read_ship(const demo_net_schema *schema, const netcore_snapshot_client *client,
                        netcore_entity_id entity, demo_net_ship *out);

/* Input codec: exactly DEMO_NET_INPUT_BYTES bytes, little-endian. */
void demo_net_input_encode(const demo_net_input *in, uint8_t out[DEMO_NET_INPUT_BYTES]);
void demo_net_input_decode(const uint8_t bytes[DEMO_NET_INPUT_BYTES], demo_net_input *out);

/* Server side: which snapshot entity mirrors which slot of the world. A
 * slot whose players[] entry is set is a session player: the session owns
 * and writes its ship, the mirror leaves it alone. */
typedef struct demo_net_mirror {
    netcore_entity_id players[DEMO_MAX_PLAYERS]; /* set by the server */
    netcore_entity_id ships[DEMO_MAX_PLAYERS];   /* ships the mirror made (bots) */
    netcore_entity_id shots[DEMO_MAX_PROJECTILES];
    uint16_t shot_life[DEMO_MAX_PROJECTILES]; /* life seen last sync: a rise is a new shot */
    netcore_entity_id round;
} demo_net_mirror;

/* Writes the world into the snapshot server's entities: creates, updates and
 * destroys the ships of players that are not session players (bots), the
 * shots and the round to match. Returns false if the snapshot server ran
 * out of entities (the world is then partly mirrored). */
bool demo_net_mirror_sync(const demo_net_schema *schema, netcore_snapshot_server *server,
                          demo_net_mirror *mirror, const demo_world *world);

/* Client side: rebuilds *out (names kept from *out, everything else
 * replaced) from the snapshot client's current world, exactly. */
void demo_net_world_from_snapshot(const demo_net_schema *schema,
                                  const netcore_snapshot_client *client, demo_world *out);
/* Same from the interpolator's displayed state: positions and angles are the
 * interpolated ones, everything else the snapped values. */
void demo_net_world_from_interp(const demo_net_schema *schema, const netcore_interp *interp,
                                demo_world *out);

/* Game message codecs. Each writer returns the size written into
 * out (at least DEMO_NET_MAX_MESSAGE bytes), 0 if it does not fit. Names are
 * sent as at most DEMO_NAME_MAX-1 bytes with control bytes replaced by '?';
 * the readers refuse names with control bytes (out_name and the roster's
 * names are then always NUL-terminated text without them). Readers leave
 * their outputs untouched when they refuse a message, except
 * demo_net_read_events, which may leave world->events empty.
 * tests/fuzz_demo_proto.c checks every reader. */
size_t demo_net_write_name(const char *name, uint8_t *out);
size_t demo_net_write_roster(const demo_world *world, uint8_t *out);
/* Events of the last step worth showing (not SHOT); 0 when there are none. */
size_t demo_net_write_events(const demo_world *world, uint8_t *out);

bool demo_net_read_name(const uint8_t *data, size_t size, char out_name[DEMO_NAME_MAX]);
/* Copies the names into world->players[].name. */
bool demo_net_read_roster(const uint8_t *data, size_t size, demo_world *world);
/* Replaces world->events with the message's events (HIT to ROUND only: SHOT
 * is never sent). */
bool demo_net_read_events(const uint8_t *data, size_t size, demo_world *world);

#endif
