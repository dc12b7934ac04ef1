/*
 * match: the whole path from lobby to play, in one process over loopback.
 *   1. A lobby (netcore_lobby_server) and a game server (netcore_game_server
 *      with token admission) share one key.
 *   2. Two players connect to the lobby; the first opens a room, the second
 *      joins it, both press ready, the owner starts the match.
 *   3. Each player gets MATCH_START: the game server's address, a connect
 *      token and the address proof, which go unchanged to
 *      netcore_game_client_connect.
 *   4. They play the arena game (see ../world/arena.h) for --seconds.
 *
 *   match [--seconds S]
 *
 * Exits 0 when both played and ended with their prediction equal to the
 * server's state.
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "netcore/lobby.h"

#define PLAYERS 2

typedef struct game game;

typedef struct player {
    game *g;
    int k;
    netcore_lobby_client *lobby;
    netcore_game_client *client;
    bool ready_sent, start_sent;
} player;

struct game {
    arena arena;
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    netcore_lobby_server *lobby;
    netcore_address lobby_address;
    netcore_game_server *server;
    player players[PLAYERS];
    bool room_open;
    bool resting;
    bool failed;
};

static void sample_input(void *user, netcore_game_client *client, uint32_t tick, void *out);

/* ---- players in the lobby ---- */

static void join_match(player *p, const netcore_lobby_match_start *m)
{
    netcore_game_client_config cc;
    netcore_game_client_config_default(&cc);
    arena_describe(&p->g->arena, &cc.game);
    cc.sample_input = sample_input;
    cc.user = p;
    /* The lobby's token, proof and session keys become the connect options:
     * the game traffic is sealed with those keys. */
    netcore_address server;
    netcore_connect_options opt;
    if (netcore_lobby_match_connect_options(m, &p->g->lobby_address, &server, &opt) != NETCORE_OK ||
        netcore_game_client_create(&cc, &p->client) != NETCORE_OK ||
        netcore_game_client_connect(p->client, &server, &opt) != NETCORE_OK) {
        fprintf(stderr, "match: player %d cannot join the game server\n", p->k);
        p->g->failed = true;
        return;
    }
    printf("player %d: match %llu started, joining the game server\n", p->k,
           (unsigned long long)m->match_id);
}

static void on_room(player *p, const netcore_lobby_room_state *room)
{
    bool all_ready = room->member_count == PLAYERS;
    for (uint8_t i = 0; i < room->member_count; i++)
        all_ready = all_ready && room->members[i].ready;
    if (p->k == 0)
        p->g->room_open = true; /* the second player may come in now */
    if (!p->ready_sent && room->member_count == PLAYERS)
        p->ready_sent = netcore_lobby_client_set_ready(p->lobby, true) == NETCORE_OK;
    if (all_ready && room->owner_id == netcore_lobby_client_id(p->lobby) && !room->in_match &&
        !p->start_sent)
        p->start_sent = netcore_lobby_client_start_match(p->lobby) == NETCORE_OK;
}

static void on_lobby_event(void *user, const netcore_lobby_event *e)
{
    player *p = user;
    netcore_lobby_room_params params;
    switch (e->type) {
    case NETCORE_LOBBY_EVENT_WELCOME:
        if (p->k == 0) {
            memset(&params, 0, sizeof params);
            snprintf(params.name, sizeof params.name, "duel");
            params.max_players = PLAYERS;
            netcore_lobby_client_create_room(p->lobby, &params);
        } else {
            netcore_lobby_client_list_rooms(p->lobby, &(netcore_lobby_room_filter){.max_count = 8});
        }
        break;
    case NETCORE_LOBBY_EVENT_ROOM_LIST:
        if (e->room_list_count > 0)
            netcore_lobby_client_join_room(p->lobby, e->room_list[0].room_id, NULL);
        break;
    case NETCORE_LOBBY_EVENT_ROOM_STATE:
        on_room(p, e->room);
        break;
    case NETCORE_LOBBY_EVENT_MATCH_START:
        join_match(p, e->match);
        break;
    case NETCORE_LOBBY_EVENT_ERROR:
    case NETCORE_LOBBY_EVENT_DISCONNECTED:
        fprintf(stderr, "match: player %d: lobby %s\n", p->k,
                netcore_lobby_error_str(e->error_code));
        p->g->failed = true;
        break;
    default:
        break;
    }
}

static bool connect_lobby(game *g, int k)
{
    player *p = &g->players[k];
    p->g = g;
    p->k = k;
    netcore_lobby_client_config cfg;
    netcore_lobby_client_config_default(&cfg);
    cfg.on_event = on_lobby_event;
    cfg.event_user = p;
    char name[16];
    snprintf(name, sizeof name, "player%d", k);
    return netcore_lobby_client_create(&cfg, &p->lobby) == NETCORE_OK &&
           netcore_lobby_client_connect(p->lobby, &g->lobby_address, name, netcore_time_now_us()) ==
               NETCORE_OK;
}

/* ---- play ---- */

static void sample_input(void *user, netcore_game_client *client, uint32_t tick, void *out)
{
    player *p = user;
    arena_input *in = out;
    (void)client;
    if (p->g->resting)
        return;
    in->move_x = (int8_t)((tick / 45 + (uint32_t)p->k) % 3) - 1;
    in->move_y = (int8_t)((tick / 70 + 2 * (uint32_t)p->k) % 3) - 1;
}

static bool start(game *g)
{
    if (netcore_token_key_generate(g->key) != NETCORE_OK)
        return false;
    netcore_game_server_config sc;
    netcore_game_server_config_default(&sc);
    arena_describe(&g->arena, &sc.game);
    sc.bind_address = netcore_address_ipv4(127, 0, 0, 1, 0);
    sc.max_clients = PLAYERS;
    sc.max_entities = 16;
    sc.require_token = true; /* and the guard's address proof, with the same key */
    memcpy(sc.token_key, g->key, sizeof g->key);
    netcore_address game_address;
    if (netcore_game_server_create(&sc, &g->server) != NETCORE_OK ||
        netcore_game_server_address(g->server, &game_address) != NETCORE_OK)
        return false;
    netcore_lobby_server_config lc;
    netcore_lobby_server_config_default(&lc);
    lc.listen[0] = netcore_address_ipv4(127, 0, 0, 1, 0);
    memcpy(lc.key, g->key, sizeof g->key);
    lc.game_address = game_address; /* written in every token */
    return netcore_lobby_server_create(&lc, &g->lobby) == NETCORE_OK &&
           netcore_lobby_server_address(g->lobby, 0, &g->lobby_address) == NETCORE_OK;
}

static void step(game *g)
{
    uint64_t now = netcore_time_now_us();
    netcore_lobby_server_update(g->lobby, now, 0);
    for (int k = 0; k < PLAYERS; k++) {
        player *p = &g->players[k];
        /* The second player comes once the first one's room is open. */
        if (!p->lobby && g->room_open && !connect_lobby(g, k))
            g->failed = true;
        if (p->lobby)
            netcore_lobby_client_update(p->lobby, now);
        if (p->client)
            netcore_game_client_update(p->client, now);
    }
    netcore_game_server_update(g->server, now);
}

static bool playing(const game *g)
{
    for (int k = 0; k < PLAYERS; k++)
        if (netcore_game_client_get_state(g->players[k].client) != NETCORE_GAME_CLIENT_PLAYING)
            return false;
    return true;
}

static int finish(game *g)
{
    int failures = g->failed;
    for (int k = 0; k < PLAYERS; k++) {
        netcore_game_client *c = g->players[k].client;
        const arena_state *mine = netcore_game_client_predicted_state(c, NULL);
        const arena_state *truth =
            netcore_game_server_client_state(g->server, netcore_game_client_index(c));
        bool ok =
            mine && truth && mine->x_milli == truth->x_milli && mine->y_milli == truth->y_milli;
        netcore_game_client_stats st;
        netcore_game_client_get_stats(c, &st);
        printf("player %d: %s, %llu snapshots, %llu ticks, at %.2f,%.2f%s\n", k,
               netcore_game_client_state_str(st.state), (unsigned long long)st.snapshots_decoded,
               (unsigned long long)st.ticks_run, truth ? truth->x_milli / 1000.0 : 0.0,
               truth ? truth->y_milli / 1000.0 : 0.0,
               ok ? ", prediction exact" : ", prediction off");
        failures += !ok;
    }
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    double seconds = argc == 3 && strcmp(argv[1], "--seconds") == 0 ? atof(argv[2]) : 3.0;
    if ((argc != 1 && argc != 3) || seconds <= 0.0) {
        fprintf(stderr, "usage: match [--seconds S]\n");
        return 2;
    }
    game g;
    memset(&g, 0, sizeof g);
    if (netcore_init() != NETCORE_OK || !arena_create(&g.arena) || !start(&g) ||
        !connect_lobby(&g, 0)) {
        fprintf(stderr, "match: cannot start\n");
        return 1;
    }
    uint64_t begin = netcore_time_now_us(), play_start = 0;
    uint64_t play_us = (uint64_t)(seconds * 1e6);
    while (!g.failed && netcore_time_now_us() - begin < play_us + 15000000u) {
        step(&g);
        uint64_t now = netcore_time_now_us();
        if (!play_start && playing(&g)) {
            play_start = now;
            printf("both players are in the game\n");
        }
        if (play_start && now - play_start >= play_us)
            break;
        g.resting =
            play_start && now - play_start + 1000000u >= play_us; /* still for the last second */
        poll(NULL, 0, 1);
    }
    int status = play_start ? finish(&g) : 1;
    for (int k = 0; k < PLAYERS; k++) {
        netcore_game_client_destroy(g.players[k].client);
        netcore_lobby_client_destroy(g.players[k].lobby);
    }
    netcore_lobby_server_destroy(g.lobby);
    netcore_game_server_destroy(g.server);
    arena_destroy(&g.arena);
    netcore_shutdown();
    return status;
}
