/*
 * The demo client's state, shared by client.c (the game connection, on the
 * session layer) and client_room.c (the lobby and the room's ready/start
 * cycle of demo_client_create). Not part of client.h's interface.
 */
#ifndef DEMO_CLIENT_INTERNAL_H
#define DEMO_CLIENT_INTERNAL_H

#include "client.h"
#include "net_proto.h"
#include "netcore/session.h"

struct demo_client {
    demo_client_config config;
    char name[DEMO_NAME_MAX];
    demo_client_state state;
    netcore_lobby_client *lobby;
    bool ready_sent, start_sent;
    bool end_sent;       /* END_MATCH asked after losing the game server */
    uint64_t room_owner; /* of the own room, from the last ROOM_STATE */
    uint32_t matches, game_lost, returned, returns_without_play;
    netcore_lobby_match_start match;
    demo_net_schema schema;
    netcore_game_client *game; /* the current match's connection; NULL in the room */
    int slot;
    uint64_t snapshots_seen; /* worlds of this match (on_snapshot) */
    uint32_t newest_tick;
    demo_world server_world; /* exact, from the newest snapshot */
    demo_world view;         /* what is drawn */
    bool prediction, interpolation, lag_compensation;
    const char *link_name;
    demo_client_input_fn input_fn; /* of the update running, for sample_input */
    void *input_user;
    /* figures */
    uint64_t decode_errors; /* game messages refused */
};

/* A line on stderr unless the client is quiet. */
void demo_client_log(const demo_client *c, const char *what, const char *detail);
/* A client in DEMO_CLIENT_LOBBY without a lobby connection; NULL when out of memory. */
demo_client *demo_client_alloc(const demo_client_config *config);
/* Joins the game server of c->match (JOINING, or FAILED). */
void demo_client_start_game(demo_client *c);
/* Drops the game connection and everything of the match. */
void demo_client_reset_game(demo_client *c);
/* The game server is gone (timed out or never answered): true when the
 * lobby took the client back to its room, false when there is no lobby to
 * go back to. */
bool demo_client_room_game_lost(demo_client *c);

#endif
