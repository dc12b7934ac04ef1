/*
 * demo-game networked client, without SDL: the lobby handshake, the game
 * connection with its connect token, and the client netcode (clock sync,
 * snapshot decoding, interpolation, input sending, prediction and
 * reconciliation of the own ship). Used by the SDL2 client and by the
 * headless bot swarms.
 *
 * Two ways in:
 *   demo_client_create: connects to a lobby, creates a one-seat room, marks
 *     itself ready and starts the match at once (the arena is shared by every
 *     match of the server), then joins the game server. When the game server
 *     goes silent (its process died: the game connection times out) the
 *     client returns to its room, asks the lobby to end the match (it owns
 *     the room), and starts a new one, which the lobby places on a game
 *     server still running. A MATCH_END from the lobby for the match being
 *     played does the same. Three returns in a row without reaching play
 *     give up (FAILED).
 *   demo_client_create_for_match: joins the game server of a match started
 *     elsewhere (e.g. by the lobby menu), with the MATCH_START it received.
 *
 * Game address: a server address of 0.0.0.0 means "the host of the lobby",
 * with the given port (see server.h).
 *
 * Real clock (times in microseconds from netcore_time_now_us). Single-threaded.
 */
#ifndef DEMO_CLIENT_H
#define DEMO_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "netcore/lobby.h"
#include "netcore/schema.h"
#include "netcore/transport.h"
#include "render.h"
#include "sim.h"
#include "trust.h"

typedef struct demo_client_config {
    netcore_address lobby;     /* the lobby's TCP address */
    const char *name;          /* nickname; copied; NULL: "player" */
    netcore_link_profile link; /* conditioner profile of each direction; zeroed: perfect */
    uint64_t seed;             /* conditioner seed */
    bool quiet;                /* no log lines on stderr */
    netcore_snapshot_format snapshot_format; /* must match the server's (--range-coded) */
    const demo_trust *trust; /* how the lobby is trusted (borrowed); NULL or no TLS: plaintext */
} demo_client_config;

typedef enum demo_client_state {
    DEMO_CLIENT_LOBBY = 0, /* talking to the lobby */
    DEMO_CLIENT_JOINING,   /* connecting to the game server */
    DEMO_CLIENT_PLAYING,   /* welcomed: has a ship */
    DEMO_CLIENT_CLOSED,    /* the game connection ended */
    DEMO_CLIENT_FAILED     /* the lobby or the game server refused or could not be reached */
} demo_client_state;

/* Called for every client tick to simulate: the command of the own ship
 * `slot` for `tick`, given the world as this client shows it. */
typedef demo_input (*demo_client_input_fn)(void *user, const demo_world *view, int slot,
                                           uint32_t tick);

typedef struct demo_client_stats {
    bool connected; /* playing */
    float rtt_ms;
    float loss_pct;
    uint64_t decode_errors;  /* snapshots and control messages refused */
    uint64_t snapshots;      /* decoded */
    uint64_t corrections;    /* prediction corrections */
    float in_kbps, out_kbps; /* payload rates */
    int score, deaths;       /* of the own ship, as last received */
    demo_client_state state;
    uint32_t matches;              /* MATCH_STARTs received */
    uint32_t game_lost;            /* game connections lost without notice (timeout, unreachable) */
    uint32_t returned;             /* returns to the room after the lobby ended the match */
    uint16_t game_port;            /* the game server of the current (or last) match; 0: none yet */
    bool sealed;                   /* game traffic encrypted and authenticated (connected only) */
    uint64_t crypto_auth_rejected; /* sealed messages that failed to open (altered, forged) */
} demo_client_stats;

/* "lobby", "joining", "playing", "closed", "failed". Static storage. */
const char *demo_client_state_name(demo_client_state state);

typedef struct demo_client demo_client;

/* Starts the lobby connection. Returns NULL with a message on stderr.
 * netcore_init() must have been called. */
demo_client *demo_client_create(const demo_client_config *config);
/* Joins the game server of *match directly; config->lobby is the lobby the
 * match came from (its host replaces a 0.0.0.0 game address). */
demo_client *demo_client_create_for_match(const demo_client_config *config,
                                          const netcore_lobby_match_start *match);
/* Leaves the game (best-effort notice) and frees everything; NULL is ignored. */
void demo_client_destroy(demo_client *client);

/* Runs the network and every client tick due at now_us; input gives the
 * commands (NULL: no buttons). */
void demo_client_update(demo_client *client, uint64_t now_us, demo_client_input_fn input,
                        void *user);

demo_client_state demo_client_get_state(const demo_client *client);
/* The own ship's id, -1 before WELCOME. */
int demo_client_slot(const demo_client *client);

/* The world to draw: remote entities interpolated (or the newest snapshot
 * when interpolation is off), the own ship predicted (when prediction is
 * on). Its events are those received since demo_client_clear_events. NULL
 * before the first snapshot. */
const demo_world *demo_client_view(const demo_client *client);
void demo_client_clear_events(demo_client *client);

/* Toggles (all on at start). Lag compensation is a flag in every input. */
void demo_client_set_prediction(demo_client *client, bool on);
void demo_client_set_interpolation(demo_client *client, bool on);
void demo_client_set_lag_compensation(demo_client *client, bool on);
/* Replaces the link conditioner's profile (each direction); name is shown in
 * the net graph (static storage). */
void demo_client_set_link(demo_client *client, const netcore_link_profile *profile,
                          const char *name);

/* Net graph figures of the last second. */
void demo_client_figures(demo_client *client, demo_netgraph_figures *out);
void demo_client_get_stats(const demo_client *client, demo_client_stats *out);

#endif
