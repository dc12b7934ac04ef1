/*
 * chat: the lobby client against netcore-lobby. Joins (or creates) a room,
 * prints what is said there and sends each line typed on stdin.
 *
 *   chat --lobby HOST:PORT [--name NAME] [--room ROOM] [--say TEXT]
 *        [--expect TEXT] [--seconds S]
 *
 * --say sends TEXT once in the room; --expect exits 0 as soon as someone
 * else says TEXT (1 if --seconds pass first); without --expect it exits 0
 * after --seconds (default: until stdin closes and 5 s pass, or Ctrl-C).
 * Start a lobby first, e.g.
 *   netcore-lobby --generate-key > lobby.key
 *   netcore-lobby --key-file lobby.key --game-address 127.0.0.1:7778 --port 7777
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/lobby.h"

typedef struct chat {
    netcore_lobby_client *lobby;
    const char *room;
    const char *say;
    const char *expect;
    bool in_room, said, heard, failed, leaving;
} chat;

static void enter_room(chat *c, const netcore_lobby_event *e)
{
    /* A room of that name already listed: join it; otherwise open it. */
    for (size_t i = 0; i < e->room_list_count; i++) {
        if (strcmp(e->room_list[i].name, c->room) == 0) {
            netcore_lobby_client_join_room(c->lobby, e->room_list[i].room_id, NULL);
            return;
        }
    }
    netcore_lobby_room_params p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", c->room);
    p.max_players = 8;
    netcore_lobby_client_create_room(c->lobby, &p);
}

static void on_event(void *user, const netcore_lobby_event *e)
{
    chat *c = user;
    netcore_lobby_room_filter filter;
    switch (e->type) {
    case NETCORE_LOBBY_EVENT_WELCOME:
        printf("welcome, %s\n", e->nickname);
        memset(&filter, 0, sizeof filter);
        snprintf(filter.name_contains, sizeof filter.name_contains, "%s", c->room);
        filter.max_count = 16;
        netcore_lobby_client_list_rooms(c->lobby, &filter);
        break;
    case NETCORE_LOBBY_EVENT_ROOM_LIST:
        enter_room(c, e);
        break;
    case NETCORE_LOBBY_EVENT_ROOM_STATE:
        if (!c->in_room)
            printf("joined room %s (%u here)\n", e->room->name, (unsigned)e->room->member_count);
        c->in_room = true;
        if (c->say && !c->said)
            c->said =
                netcore_lobby_client_chat(c->lobby, NETCORE_LOBBY_CHAT_ROOM, c->say) == NETCORE_OK;
        break;
    case NETCORE_LOBBY_EVENT_CHAT:
        printf("[%s] %s\n", e->nickname, e->text);
        if (c->expect && e->from_id != netcore_lobby_client_id(c->lobby) &&
            strcmp(e->text, c->expect) == 0)
            c->heard = true;
        break;
    case NETCORE_LOBBY_EVENT_ERROR:
        fprintf(stderr, "chat: lobby error: %s\n",
                e->text && e->text[0] ? e->text : netcore_lobby_error_str(e->error_code));
        c->failed = true;
        break;
    case NETCORE_LOBBY_EVENT_DISCONNECTED:
        if (c->leaving)
            break;
        fprintf(stderr, "chat: disconnected from the lobby\n");
        c->failed = true;
        break;
    default:
        break;
    }
    fflush(stdout);
}

/* Sends each complete line of stdin; false once stdin is closed. */
static bool read_stdin(chat *c)
{
    struct pollfd p = {0, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0)
        return true;
    char line[NETCORE_LOBBY_CHAT_MAX];
    if (!fgets(line, sizeof line, stdin))
        return false;
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] && c->in_room)
        netcore_lobby_client_chat(c->lobby, NETCORE_LOBBY_CHAT_ROOM, line);
    return true;
}

int main(int argc, char **argv)
{
    const char *lobby_text = NULL, *name = "player";
    double seconds = 0.0;
    chat c = {NULL, "hall", NULL, NULL, false, false, false, false, false};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--lobby") == 0)
            lobby_text = v;
        else if (strcmp(argv[i], "--name") == 0)
            name = v;
        else if (strcmp(argv[i], "--room") == 0)
            c.room = v;
        else if (strcmp(argv[i], "--say") == 0)
            c.say = v;
        else if (strcmp(argv[i], "--expect") == 0)
            c.expect = v;
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(v);
    }
    netcore_address lobby_address;
    if (!lobby_text || argc % 2 == 0 ||
        netcore_address_parse(lobby_text, 7777, &lobby_address) != NETCORE_OK) {
        fprintf(stderr, "usage: chat --lobby HOST:PORT [--name NAME] [--room ROOM] [--say TEXT] "
                        "[--expect TEXT] "
                        "[--seconds S]\n");
        return 2;
    }
    netcore_lobby_client_config cfg;
    netcore_lobby_client_config_default(&cfg);
    cfg.on_event = on_event;
    cfg.event_user = &c;
    uint64_t start_us = netcore_time_now_us();
    if (netcore_lobby_client_create(&cfg, &c.lobby) != NETCORE_OK ||
        netcore_lobby_client_connect(c.lobby, &lobby_address, name, start_us) != NETCORE_OK) {
        fprintf(stderr, "chat: cannot reach the lobby\n");
        netcore_lobby_client_destroy(c.lobby);
        return 1;
    }
    uint64_t limit_us = seconds > 0.0 ? (uint64_t)(seconds * 1e6) : UINT64_MAX;
    bool stdin_open = true;
    uint64_t stdin_closed_us = 0;
    for (;;) {
        uint64_t now_us = netcore_time_now_us();
        netcore_lobby_client_update(c.lobby, now_us);
        if (c.failed || c.heard || now_us - start_us >= limit_us)
            break;
        if (stdin_open && !(stdin_open = read_stdin(&c)))
            stdin_closed_us = now_us;
        /* Input ended and nothing to wait for: leave a moment later. */
        if (!stdin_open && !c.expect && seconds <= 0.0 && now_us - stdin_closed_us > 5000000)
            break;
        poll(NULL, 0, 5);
    }
    if (netcore_lobby_client_is_connected(c.lobby)) {
        c.leaving = true;
        netcore_lobby_client_disconnect(c.lobby);
        netcore_lobby_client_update(c.lobby, netcore_time_now_us());
    }
    netcore_lobby_client_destroy(c.lobby);
    if (c.failed || (c.expect && !c.heard) || (c.say && !c.said))
        return 1;
    return 0;
}
