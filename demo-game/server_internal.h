/*
 * demo-game server internals shared by server.c (lobby link, admission,
 * players, the tick) and server_stats.c (the figures). Not part of the
 * server's interface (server.h).
 */
#ifndef DEMO_SERVER_INTERNAL_H
#define DEMO_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "net_proto.h"
#include "netcore/input.h"
#include "netcore/lagcomp.h"
#include "netcore/lobby.h"
#include "netcore/snapshot.h"
#include "netcore/token.h"
#include "server.h"
#include "server_registry.h"
#include "sim.h"

#define MAX_PEERS (2 * DEMO_MAX_PLAYERS)
#define MAX_MATCHES 64
#define TICK_SAMPLES 4096

typedef struct peer_rec {
    bool used;
    netcore_peer_id peer;
    bool admitted;
    uint64_t client_id;
    uint64_t match_id;
    int slot;      /* ship id in the world, -1 before HELLO */
    uint32_t snap; /* snapshot and input client index, valid when slot >= 0 */
    demo_net_input last;
} peer_rec;

typedef struct match_rec {
    bool used;
    uint64_t match_id;
    uint32_t players; /* connected now */
    bool joined;      /* someone connected once */
    uint64_t started_ms;
    uint32_t member_count; /* the players the lobby sends: only they are admitted */
    uint64_t members[NETCORE_LOBBY_MAX_PLAYERS];
} match_rec;

struct demo_server {
    demo_server_config config;
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    netcore_address game_address;
    netcore_host *host;
    netcore_lobby_server *lobby; /* embedded lobby; NULL in register mode */
    demo_registry *registry;     /* register mode: the link to the remote lobby */
    uint64_t assign_refused;     /* register mode: matches with no record free */
    netcore_token_validator *validator;
    demo_net_schema schema;
    netcore_snapshot_server *snap;
    netcore_input_server *input;
    netcore_lagcomp *lag;
    demo_net_mirror mirror;
    demo_world world;
    demo_rng bot_rng[DEMO_MAX_PLAYERS];
    bool is_bot[DEMO_MAX_PLAYERS];
    uint32_t last_input[DEMO_MAX_PLAYERS];
    int rewind_ticks[DEMO_MAX_PLAYERS]; /* per shooter, -1: no lag compensation */
    peer_rec peers[MAX_PEERS];
    match_rec matches[MAX_MATCHES];
    int client_slot[DEMO_MAX_PLAYERS]; /* snapshot client index -> ship id, -1: none */
    bool roster_dirty;
    uint64_t start_us, next_tick_us, tick_us;
    uint32_t snapshot_every;
    /* figures */
    float tick_ms[TICK_SAMPLES];
    uint32_t tick_samples;
    uint64_t last_stats_us, last_wire_out, last_wire_in;
    uint64_t decode_errors, hello_rejected, full_rejected, snapshot_errors, ticks_behind;
    uint64_t inputs_late, inputs_too_far, snapshots_sent, kills, shots, hits;
    uint64_t rewind_ticks_sum, rewind_inputs; /* lag compensation, since the last figures */
    uint8_t msg[DEMO_NET_MAX_MESSAGE];
};

#endif
