/*
 * demo-game server: a lobby (TCP, with LAN discovery) and an authoritative
 * game server (ENet) in one object, used by the dedicated demo-server program
 * and embedded in the client when a player hosts.
 *
 * The lobby and the game server share a random token key made at create.
 * Every match the lobby starts plays in the one arena of this server: a
 * client connects with its connect token (checked by a netcore token
 * validator as the host's admission callback, and by a policy that only
 * admits matches this lobby started), says HELLO, and gets a ship.
 *
 * Game address: the lobby writes the bind address with the game port in
 * tokens. When the server listens on every interface that address is
 * 0.0.0.0:port, which clients read as "the host I reached the lobby on, at
 * this port", so each client is sent to an address it can reach.
 *
 * Game server only: with config.register_lobby set there is no embedded
 * lobby. The server registers with that remote lobby (netcore-lobby or any
 * netcore lobby server) over TCP, proving it holds the key the lobby mints
 * tokens with, reports its load every couple of seconds (the lobby places
 * each match on the least loaded game server), accepts the matches the lobby
 * assigns to it (only their members, with tokens made by that lobby's key),
 * reports each match's end, and registers again with exponential backoff
 * when the lobby connection drops. Running matches go on meanwhile.
 *
 * In both modes the game host's datagram guard requires the address proof
 * the lobby hands each player with its token (a CONNECT from an IP the lobby
 * did not see is dropped before it takes a peer slot).
 *
 * Real clock (netcore_time_now_us). Single-threaded.
 */
#ifndef DEMO_SERVER_H
#define DEMO_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/schema.h"
#include "netcore/token.h"
#include "netcore/transport.h"
#include "trust.h"

typedef struct demo_server_config {
    netcore_address bind;      /* IPv4 to listen on; family NONE: every interface */
    uint16_t lobby_port;       /* TCP lobby and UDP discovery; default 7777, 0: ephemeral */
    uint16_t game_port;        /* UDP game; default 7778, 0: ephemeral */
    uint32_t tick_rate_hz;     /* default 60 */
    uint32_t snapshot_rate_hz; /* default 30; at most the tick rate */
    uint32_t max_players;      /* default 16, at most DEMO_MAX_PLAYERS */
    uint32_t bots;             /* server-side bots filling empty slots, default 0 */
    uint32_t round_s;          /* round length, default 120 */
    uint64_t seed;             /* world seed, default 1 */
    bool discovery;            /* answer LAN discovery probes; default true */
    const char *lobby_name;    /* default "netcore demo"; copied */
    bool quiet;                /* no log lines on stderr */
    /* The embedded lobby's certificate (TLS on every lobby connection, its
     * pin in discovery answers); NULL: a plaintext lobby (--insecure).
     * Borrowed during create. */
    const demo_host_identity *identity;
    /* Game server only mode: the remote lobby's TCP address (IPv4 or IPv6);
     * family NONE (the default): the embedded lobby above. lobby_port,
     * discovery and lobby_name are then unused. */
    netcore_address register_lobby;
    uint8_t key[NETCORE_TOKEN_KEY_BYTES]; /* register mode: the key shared with that lobby */
    /* Register mode: the address players are sent to (written in their
     * tokens); family NONE: the bind IP (0.0.0.0 when listening on every
     * interface, which clients read as the lobby's host); port 0: the game
     * port actually bound. IPv4. */
    netcore_address game_address;
    uint32_t capacity; /* register mode: players announced, default (0) and at most max_players */
    netcore_snapshot_format snapshot_format; /* default bit-packed; clients must use the same */
    /* Register mode: how the remote lobby is trusted (borrowed; must outlive
     * the server); NULL or without a TLS context: plaintext. */
    const demo_trust *register_trust;
} demo_server_config;

typedef struct demo_server demo_server;

/* Fills *config with the defaults above. */
void demo_server_config_default(demo_server_config *config);

/* Opens the sockets and starts the world. Returns NULL with a message on
 * stderr (e.g. a port in use). netcore_init() must have been called. */
demo_server *demo_server_create(const demo_server_config *config);

/* Disconnects everyone and frees everything; NULL is ignored. */
void demo_server_destroy(demo_server *server);

/* The actual lobby and game ports (ephemeral ones included); the lobby port
 * is 0 in register mode. */
void demo_server_ports(const demo_server *server, uint16_t *lobby_port, uint16_t *game_port);

/* Serves the lobby (or the connection to the remote lobby) and the game and
 * runs every simulation tick that is due, waiting at most wait_ms for
 * network activity first. */
void demo_server_update(demo_server *server, uint32_t wait_ms);

/* Writes one JSON object (no newline) with the figures of the last second
 * and the counters since start into buffer (size bytes); t_s is the time
 * since start. Returns the length, or 0 if it did not fit. Call it about once
 * a second: rates and the tick percentile cover the time since the last call. */
size_t demo_server_stats_json(demo_server *server, double t_s, char *buffer, size_t size);

/* Register mode: true while registered with the remote lobby. Always false
 * with the embedded lobby. */
bool demo_server_registered(const demo_server *server);

#endif
