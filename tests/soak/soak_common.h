/*
 * Shared pieces of the soak programs (soak_server, soak_bot): the replicated
 * schema, the scripted motion both ends compute, the soak game as the session
 * layer runs it (the players' state, input and callbacks, identical on both
 * ends), and small process helpers (clock, key loading, resource usage).
 */
#ifndef NETCORE_SOAK_COMMON_H
#define NETCORE_SOAK_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netcore/netcore.h"
#include "netcore/schema.h"
#include "netcore/session.h"
#include "netcore/token.h"

/* Entity types and their field indexes, in the order soak_schema_create adds them. */
enum {
    SOAK_TYPE_SCRIPTED = 0, /* moves on its own; state is a pure function of (index, tick) */
    SOAK_TYPE_PLAYER = 1    /* moved by one bot's inputs */
};
enum { SOAK_SCRIPTED_INDEX = 0, SOAK_SCRIPTED_X, SOAK_SCRIPTED_Y, SOAK_SCRIPTED_HASH };
enum { SOAK_PLAYER_OWNER = 0, SOAK_PLAYER_X, SOAK_PLAYER_Y, SOAK_PLAYER_LAST_INPUT };

/* Bytes of one bot input: dx, dy (signed), then the input tick's low byte as a
 * marker; the rest is zero. */
#define SOAK_INPUT_BYTES 8

/* Builds and finalizes the soak schema with the given snapshot format (server
 * and bots must agree: --range-coded 1 on both). *out_schema is the caller's
 * to destroy. Errors: those of the netcore_schema_* calls. */
netcore_result soak_schema_create(netcore_snapshot_format format, netcore_schema **out_schema);

/* State of scripted entity `index` at server tick `tick`: every field changes
 * every tick, and hash covers every bit of a 32-bit field, so a codec error in
 * any delta shows up as a mismatch. */
typedef struct soak_scripted_state {
    uint32_t x;    /* 0..65535 */
    uint32_t y;    /* 0..65535 */
    uint32_t hash; /* full 32 bits */
} soak_scripted_state;
soak_scripted_state soak_scripted_at(uint32_t index, uint32_t tick);

/* A player's state as the session layer keeps and predicts it: its position
 * (wrapping inside the 24-bit signed fields) and the client id of the bot
 * that owns it (from its connect token). */
typedef struct soak_player_state {
    int32_t x;
    int32_t y;
    uint32_t owner;
} soak_player_state;

/* Fills *desc with the soak game for the session layer: the schema
 * (borrowed), the player type and its input-tick field, tick_hz ticks a
 * second with a snapshot every tick_hz / snapshot_hz ticks, the input and
 * state sizes, and the callbacks. Server and bots call it with the same
 * arguments. */
void soak_game_desc(netcore_game_desc *desc, const netcore_schema *schema, uint32_t tick_hz,
                    uint32_t snapshot_hz);

/* The input the bot with client id client_id plays at tick `tick`: a zigzag
 * that differs between bots, so their positions differ. */
void soak_input_at(uint64_t client_id, uint32_t tick, uint8_t out[SOAK_INPUT_BYTES]);

/* Monotonic clock in microseconds (netcore_time_now_us). */
uint64_t soak_now_us(void);
/* Sleeps until the monotonic clock reaches deadline_us (returns at once if past). */
void soak_sleep_until_us(uint64_t deadline_us);

/* Loads the token key from 64 hex digits (hex non-NULL) or from the first line
 * of a file holding them (path non-NULL). Returns false (message on stderr) on
 * any error. */
bool soak_load_key(const char *hex, const char *path, uint8_t key[NETCORE_TOKEN_KEY_BYTES]);

/* Resident set size of this process in KiB from /proc/self/status; 0 if unknown. */
uint64_t soak_rss_kib(void);
/* User plus system CPU time used by this process, in microseconds. */
uint64_t soak_cpu_us(void);

#endif /* NETCORE_SOAK_COMMON_H */
