/*
 * demo-game network protocol: what the dedicated server and the networked
 * client agree on, on top of netcore.
 *
 * Channels (netcore_host defaults: channel i has delivery mode i):
 *   DEMO_NET_CHANNEL_CONTROL, reliable ordered: HELLO (client: schema hash and
 *     name), WELCOME (server: the client's ship slot and rates), ROSTER (names
 *     of every slot), EVENTS (hits, kills, respawns, impacts, round changes
 *     of one tick, for effects and the kill feed).
 *   DEMO_NET_CHANNEL_GAME, unreliable unordered: snapshots (server to client,
 *     snapshot.h) and input packets (client to server, input.h, carrying the
 *     snapshot ack).
 *
 * Replication schema (see make_schema in net_proto.c): a "ship" per player
 * with its exact Q16.16 state (for reconciliation of the own ship) plus a
 * quantized position and an angle (for interpolation of the others), a
 * "shot" per projectile, and one "round" entity.
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
#include "netcore/snapshot.h"
#include "sim.h"

#define DEMO_NET_CHANNEL_CONTROL 0
#define DEMO_NET_CHANNEL_GAME 3
#define DEMO_NET_CHANNELS 4
#define DEMO_NET_SNAPSHOT_RATE_HZ 30
#define DEMO_NET_INPUT_BYTES 8
#define DEMO_NET_MAX_MESSAGE 1400 /* control messages and snapshots fit one datagram */
#define DEMO_NET_MAX_ENTITIES (DEMO_MAX_PLAYERS + DEMO_MAX_PROJECTILES + 1)

enum { DEMO_MSG_HELLO = 1, DEMO_MSG_WELCOME = 2, DEMO_MSG_ROSTER = 3, DEMO_MSG_EVENTS = 4 };

/* Input flags (demo_net_input.flags). */
enum { DEMO_NET_FLAG_LAGCOMP = 1u << 0 };

/* One tick's command as it travels: the game input plus what the server
 * needs for lag compensation. */
typedef struct demo_net_input {
    demo_input input;
    uint8_t flags;         /* DEMO_NET_FLAG_* */
    uint32_t view_tick_q8; /* server tick the client was displaying, times 256 */
} demo_net_input;

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

/* Input codec: exactly DEMO_NET_INPUT_BYTES bytes, little-endian. */
void demo_net_input_encode(const demo_net_input *in, uint8_t out[DEMO_NET_INPUT_BYTES]);
void demo_net_input_decode(const uint8_t bytes[DEMO_NET_INPUT_BYTES], demo_net_input *out);

/* Server side: which snapshot entity mirrors which slot of the world. */
typedef struct demo_net_mirror {
    netcore_entity_id ships[DEMO_MAX_PLAYERS];
    netcore_entity_id shots[DEMO_MAX_PROJECTILES];
    uint16_t shot_life[DEMO_MAX_PROJECTILES]; /* life seen last sync: a rise is a new shot */
    netcore_entity_id round;
} demo_net_mirror;

/* Writes the world into the snapshot server's entities: creates, updates and
 * destroys ships and shots to match, with last_input[id] (newest input tick
 * applied to ship id, 0 for none) in each ship. Returns false if the snapshot
 * server ran out of entities (the world is then partly mirrored). */
bool demo_net_mirror_sync(const demo_net_schema *schema, netcore_snapshot_server *server,
                          demo_net_mirror *mirror, const demo_world *world,
                          const uint32_t last_input[DEMO_MAX_PLAYERS]);

/* Client side: rebuilds *out (names kept from *out, everything else
 * replaced) from the snapshot client's current world, exactly; last_input
 * (may be NULL) gets each ship's newest applied input tick. */
void demo_net_world_from_snapshot(const demo_net_schema *schema,
                                  const netcore_snapshot_client *client, demo_world *out,
                                  uint32_t last_input[DEMO_MAX_PLAYERS]);
/* Same from the interpolator's displayed state: positions and angles are the
 * interpolated ones, everything else the snapped values. */
void demo_net_world_from_interp(const demo_net_schema *schema, const netcore_interp *interp,
                                demo_world *out);

/* Control message codecs. Each writer returns the size written into
 * out (at least DEMO_NET_MAX_MESSAGE bytes), 0 if it does not fit. Names are
 * sent as at most DEMO_NAME_MAX-1 bytes with control bytes replaced by '?';
 * the readers refuse names with control bytes (out_name and the roster's
 * names are then always NUL-terminated text without them). Readers leave
 * their outputs untouched when they refuse a message, except
 * demo_net_read_events, which may leave world->events empty. tests/fuzz_demo_proto.c
 * checks every reader. */
size_t demo_net_write_hello(uint64_t schema_hash, const char *name, uint8_t *out);
size_t demo_net_write_welcome(uint8_t slot, uint16_t tick_rate_hz, uint16_t snapshot_rate_hz,
                              uint8_t *out);
size_t demo_net_write_roster(const demo_world *world, uint8_t *out);
/* Events of the last step worth showing (not SHOT); 0 when there are none. */
size_t demo_net_write_events(const demo_world *world, uint8_t *out);

bool demo_net_read_hello(const uint8_t *data, size_t size, uint64_t *out_hash,
                         char out_name[DEMO_NAME_MAX]);
bool demo_net_read_welcome(const uint8_t *data, size_t size, uint8_t *out_slot,
                           uint16_t *out_tick_rate_hz, uint16_t *out_snapshot_rate_hz);
/* Copies the names into world->players[].name. */
bool demo_net_read_roster(const uint8_t *data, size_t size, demo_world *world);
/* Replaces world->events with the message's events (HIT to ROUND only: SHOT
 * is never sent). */
bool demo_net_read_events(const uint8_t *data, size_t size, demo_world *world);

#endif
