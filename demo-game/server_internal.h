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
#include "netcore/lobby.h"
#include "netcore/session.h"
#include "netcore/token.h"
#include "server.h"
#include "server_registry.h"
#include "sim.h"

#define MAX_MATCHES 64
#define TICK_SAMPLES 4096

typedef struct match_rec {
    bool used;
    uint64_t match_id;
    uint32_t players; /* connected now */
    bool joined;      /* someone connected once */
    uint64_t started_ms;
    uint32_t member_count; /* the players the lobby sends: only they are admitted */
    uint64_t members[NETCORE_LOBBY_MAX_PLAYERS];
} match_rec;

/* A player's slot in the world is its session client index; the server's
 * bots take the slots no player holds. */
struct demo_server {
    demo_server_config config;
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    netcore_address game_address;
    netcore_game_server *game;   /* host, admission, snapshots, inputs, lag compensation */
    netcore_lobby_server *lobby; /* embedded lobby; NULL in register mode */
    demo_registry *registry;     /* register mode: the link to the remote lobby */
    uint64_t assign_refused;     /* register mode: matches with no record free */
    demo_net_schema schema;
    demo_net_mirror mirror;
    demo_world world;
    demo_rng bot_rng[DEMO_MAX_PLAYERS];
    bool is_bot[DEMO_MAX_PLAYERS];
    bool lagcomp[DEMO_MAX_PLAYERS]; /* this tick's shots of that player are rewound */
    match_rec matches[MAX_MATCHES];
    bool roster_dirty;
    uint64_t start_us;
    /* figures */
    float tick_ms[TICK_SAMPLES];
    uint32_t tick_samples;
    uint64_t last_stats_us, last_wire_out, last_wire_in;
    uint64_t decode_errors; /* game messages refused */
    uint64_t kills, shots, hits;
    uint64_t rewind_ticks_sum, rewinds; /* lag compensation, since the last figures */
    uint8_t msg[DEMO_NET_MAX_MESSAGE];
};

#endif
