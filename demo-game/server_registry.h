/*
 * demo-server in game server only mode (--register): the connection to a
 * remote lobby. It registers with the key shared with the lobby, reports the
 * server's load when it changes and every couple of seconds (the lobby
 * places each match on the least loaded game server; the report also keeps
 * the connection alive), hands every match the lobby assigns to the server,
 * reports the end of matches, and registers again with exponential backoff
 * (with jitter) when the connection drops or the lobby cannot be reached.
 *
 * Real clock: now_ms is netcore_time_now_us() / 1000, and registrations are
 * stamped with UNIX time (the lobby's default token clock). Single-threaded.
 */
#ifndef DEMO_SERVER_REGISTRY_H
#define DEMO_SERVER_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/token.h"
#include "netcore/transport.h"
#include "trust.h"

/* A match placed on this server: member_ids (member_count client ids) are
 * the players whose tokens to expect; valid only during the call. */
typedef void (*demo_registry_match_fn)(void *user, uint64_t match_id, const uint64_t *member_ids,
                                       size_t member_count);

typedef struct demo_registry_config {
    netcore_address lobby;                /* the lobby's TCP address */
    uint8_t key[NETCORE_TOKEN_KEY_BYTES]; /* shared with the lobby */
    netcore_address game_address;         /* what players are told (written in their tokens) */
    uint16_t capacity;                    /* players, at least 1 */
    demo_registry_match_fn on_match;      /* required */
    void *user;
    uint64_t seed;           /* backoff jitter */
    bool quiet;              /* no log lines on stderr */
    const demo_trust *trust; /* borrowed; NULL or trust->tls NULL: plaintext */
} demo_registry_config;

typedef struct demo_registry_stats {
    bool registered;
    uint32_t load_reported; /* last load sent */
    uint64_t registrations; /* accepted by the lobby */
    uint64_t failures;      /* attempts that ended before the lobby accepted them */
    uint64_t lost;          /* registrations that ended with the connection */
    uint64_t assigned;      /* matches the lobby placed here */
    uint64_t ended;         /* match ends reported */
    uint64_t errors;        /* requests the lobby refused */
} demo_registry_stats;

typedef struct demo_registry demo_registry;

/* Copies the config; the first registration attempt is made by the first
 * update. Returns NULL if config is invalid or memory runs out. */
demo_registry *demo_registry_create(const demo_registry_config *config);

/* Says goodbye to the lobby (best effort, not waiting) and frees
 * everything; NULL is ignored. */
void demo_registry_destroy(demo_registry *registry);

/* Registers when due, runs the connection (on_match may be called), and
 * reports load (the players on the server and those still expected, at most
 * the capacity) when it changed or is due. Never blocks. */
void demo_registry_update(demo_registry *registry, uint32_t load, uint64_t now_ms);

/* Tells the lobby the match is over (its room returns to the lobby). False
 * when not registered or the send buffer is full: a lobby that lost this
 * server does not count on it any more. */
bool demo_registry_end_match(demo_registry *registry, uint64_t match_id);

bool demo_registry_registered(const demo_registry *registry);
void demo_registry_get_stats(const demo_registry *registry, demo_registry_stats *out);

#endif
