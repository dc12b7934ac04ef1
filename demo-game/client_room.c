/*
 * The demo client's lobby side (see client.h, demo_client_create): a
 * one-seat room of its own, ready at once, the match started by its owner,
 * and back to the room when the match ends under the client (the game
 * server died, or the lobby ended the match), where the cycle runs again.
 */
#include <stdio.h>
#include <string.h>

#include "client_internal.h"

#define MAX_RETURNS_WITHOUT_PLAY                                                                   \
    3 /* back in the room this often in a row without playing: give up */

/* Back to the room after the match ended under this client; the room's
 * ready/start cycle (on_lobby_event) starts the next match. */
static void back_to_room(demo_client *c, const char *why)
{
    demo_client_log(c, "back in the room", why);
    demo_client_reset_game(c);
    if (++c->returns_without_play > MAX_RETURNS_WITHOUT_PLAY) {
        demo_client_log(c, "giving up", "no game server could be joined");
        c->state = DEMO_CLIENT_FAILED;
        return;
    }
    c->state = DEMO_CLIENT_LOBBY;
}

bool demo_client_room_game_lost(demo_client *c)
{
    if (!c->lobby || !netcore_lobby_client_is_connected(c->lobby)) {
        return false;
    }
    /* The lobby still counts the match as playing: the room's owner ends
     * it, and every member then gets MATCH_END. */
    back_to_room(c, "the game server is gone");
    if (c->state == DEMO_CLIENT_LOBBY && c->room_owner == netcore_lobby_client_id(c->lobby)) {
        c->end_sent = netcore_lobby_client_end_match(c->lobby) == NETCORE_OK;
    }
    return true;
}

static void on_lobby_event(void *user, const netcore_lobby_event *e)
{
    demo_client *c = user;
    if (e->type == NETCORE_LOBBY_EVENT_ROOM_STATE && e->room) {
        c->room_owner = e->room->owner_id;
    }
    if (e->type == NETCORE_LOBBY_EVENT_MATCH_END && c->match.match_id != 0 &&
        e->match_id == c->match.match_id && c->state != DEMO_CLIENT_FAILED) {
        /* The room is back from its match, every member unready: ready
         * again, and the owner starts the next match. */
        c->returned++;
        c->end_sent = false;
        c->ready_sent = c->start_sent = false;
        c->match.match_id = 0;
        if (c->state != DEMO_CLIENT_LOBBY) {
            back_to_room(c, e->match_end_reason == NETCORE_LOBBY_MATCH_GAME_SERVER_LOST
                                ? "the game server was lost; the lobby ended the match"
                                : "the lobby ended the match");
        }
        return;
    }
    if (e->type == NETCORE_LOBBY_EVENT_ERROR && c->end_sent &&
        e->error_code == NETCORE_LOBBY_ERR_STATE) {
        /* The match was already over when END_MATCH arrived: MATCH_END
         * is on its way. */
        c->end_sent = false;
        return;
    }
    if (c->state != DEMO_CLIENT_LOBBY) {
        return;
    }
    if (e->type == NETCORE_LOBBY_EVENT_WELCOME) {
        netcore_lobby_room_params p;
        memset(&p, 0, sizeof p);
        snprintf(p.name, sizeof p.name, "%s", c->name);
        p.max_players = 1;
        netcore_lobby_client_create_room(c->lobby, &p);
    } else if (e->type == NETCORE_LOBBY_EVENT_ROOM_STATE && e->room) {
        uint64_t me = netcore_lobby_client_id(c->lobby);
        bool all_ready = e->room->member_count > 0;
        for (uint8_t i = 0; i < e->room->member_count; i++) {
            all_ready = all_ready && e->room->members[i].ready;
        }
        if (!c->ready_sent) {
            c->ready_sent = netcore_lobby_client_set_ready(c->lobby, true) == NETCORE_OK;
        } else if (all_ready && e->room->owner_id == me && !e->room->in_match && !c->start_sent) {
            c->start_sent = netcore_lobby_client_start_match(c->lobby) == NETCORE_OK;
        }
    } else if (e->type == NETCORE_LOBBY_EVENT_MATCH_START && e->match) {
        c->match = *e->match;
        c->matches++;
        demo_client_start_game(c);
    } else if (e->type == NETCORE_LOBBY_EVENT_ERROR ||
               e->type == NETCORE_LOBBY_EVENT_DISCONNECTED) {
        demo_client_log(c, "lobby",
                        e->text && e->text[0] ? e->text : netcore_lobby_error_str(e->error_code));
        c->state = DEMO_CLIENT_FAILED;
    }
}

demo_client *demo_client_create(const demo_client_config *config)
{
    demo_client *c = demo_client_alloc(config);
    if (!c) {
        return NULL;
    }
    netcore_lobby_client_config lc;
    netcore_lobby_client_config_default(&lc);
    lc.on_event = on_lobby_event;
    lc.event_user = c;
    demo_trust_apply(config->trust, NULL, &lc);
    if (netcore_lobby_client_create(&lc, &c->lobby) != NETCORE_OK ||
        netcore_lobby_client_connect(c->lobby, &config->lobby, c->name, netcore_time_now_us()) !=
            NETCORE_OK) {
        fprintf(stderr, "demo-game: cannot reach the lobby\n");
        demo_client_destroy(c);
        return NULL;
    }
    return c;
}
