/* Lobby server and client over real TCP on 127.0.0.1 (ephemeral ports):
 * hello, rooms, chat, ready, start with connect tokens that a validator
 * accepts, owner migration, kick, hostile connections, reconnect. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netcore/lobby.h"
#include "netcore/token.h"

#define MAX_CLIENTS 4
/* Every wait is bounded both in iterations and in wall time. */
#define WAIT_ITERATIONS 4000
#define WAIT_MS 8000

static const uint8_t lobby_key[NETCORE_TOKEN_KEY_BYTES] = {
    9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8};
static uint64_t token_clock_s = 1700000000;

static uint64_t fixed_clock(void *user)
{
    (void)user;
    return token_clock_s;
}

typedef struct test_client {
    netcore_lobby_client *client;
    int welcomes;
    bool resumed;
    uint64_t id;
    int room_states;
    netcore_lobby_room_state room;
    int room_left;
    netcore_lobby_leave_reason leave_reason;
    int chats;
    char last_chat[NETCORE_LOBBY_CHAT_MAX + 1];
    int matches;
    netcore_lobby_match_start match;
    int match_ends;
    int room_lists;
    uint16_t rooms_total;
    size_t list_count;
    int pongs;
    int errors;
    uint16_t last_error;
    int rate_limited;
    int disconnects;
    uint16_t disconnect_code;
    int registered;
    int assigned;
    uint64_t assigned_match;
    uint64_t assigned_ids[NETCORE_LOBBY_MAX_PLAYERS];
    size_t assigned_count;
} test_client;

typedef struct fixture {
    netcore_lobby_server *server;
    netcore_address address;
    test_client clients[MAX_CLIENTS];
    int client_count;
} fixture;

static void on_event(void *user, const netcore_lobby_event *e)
{
    test_client *t = user;
    switch (e->type) {
    case NETCORE_LOBBY_EVENT_WELCOME:
        t->welcomes++;
        t->id = e->client_id;
        t->resumed = e->resumed;
        break;
    case NETCORE_LOBBY_EVENT_ROOM_STATE:
        t->room_states++;
        t->room = *e->room;
        break;
    case NETCORE_LOBBY_EVENT_ROOM_LEFT:
        t->room_left++;
        t->leave_reason = e->leave_reason;
        memset(&t->room, 0, sizeof t->room);
        break;
    case NETCORE_LOBBY_EVENT_CHAT:
        t->chats++;
        snprintf(t->last_chat, sizeof t->last_chat, "%s", e->text);
        break;
    case NETCORE_LOBBY_EVENT_MATCH_START:
        t->matches++;
        t->match = *e->match;
        break;
    case NETCORE_LOBBY_EVENT_MATCH_END: t->match_ends++; break;
    case NETCORE_LOBBY_EVENT_ROOM_LIST:
        t->room_lists++;
        t->rooms_total = e->rooms_total;
        t->list_count = e->room_list_count;
        break;
    case NETCORE_LOBBY_EVENT_PONG: t->pongs++; break;
    case NETCORE_LOBBY_EVENT_ERROR:
        t->errors++;
        t->last_error = e->error_code;
        t->rate_limited += e->error_code == NETCORE_LOBBY_ERR_RATE_LIMITED;
        break;
    case NETCORE_LOBBY_EVENT_DISCONNECTED:
        t->disconnects++;
        t->disconnect_code = e->error_code;
        break;
    case NETCORE_LOBBY_EVENT_REGISTERED: t->registered++; break;
    case NETCORE_LOBBY_EVENT_MATCH_ASSIGNED:
        t->assigned++;
        t->assigned_match = e->match_id;
        t->assigned_count = e->member_count;
        memcpy(t->assigned_ids, e->member_ids, e->member_count * sizeof *e->member_ids);
        break;
    }
}

static uint64_t now_ms(void) { return netcore_time_now_us() / 1000; }

static void server_config(netcore_lobby_server_config *cfg)
{
    netcore_lobby_server_config_default(cfg);
    cfg->listen[0] = netcore_address_ipv4(127, 0, 0, 1, 0);
    cfg->listen_count = 1;
    memcpy(cfg->key, lobby_key, sizeof cfg->key);
    cfg->game_address = netcore_address_ipv4(127, 0, 0, 1, 7778);
    cfg->clock = fixed_clock;
    cfg->seed = 42;
}

static void start_server(fixture *f, const netcore_lobby_server_config *cfg)
{
    memset(f, 0, sizeof *f);
    cr_assert_eq(netcore_lobby_server_create(cfg, &f->server), NETCORE_OK);
    cr_assert_eq(netcore_lobby_server_address(f->server, 0, &f->address), NETCORE_OK);
    cr_assert_neq(f->address.port, 0);
}

static test_client *add_client(fixture *f, uint32_t keepalive_ms)
{
    test_client *t = &f->clients[f->client_count++];
    netcore_lobby_client_config cfg;
    netcore_lobby_client_config_default(&cfg);
    cfg.on_event = on_event;
    cfg.event_user = t;
    cfg.keepalive_ms = keepalive_ms;
    cr_assert_eq(netcore_lobby_client_create(&cfg, &t->client), NETCORE_OK);
    return t;
}

static void pump_once(fixture *f)
{
    uint64_t now = now_ms();
    cr_assert_eq(netcore_lobby_server_update(f->server, now, 2), NETCORE_OK);
    for (int i = 0; i < f->client_count; i++)
        if (f->clients[i].client)
            netcore_lobby_client_update(f->clients[i].client, now);
}

/* Pumps until *counter reaches target; fails the test if it never does. */
static void wait_for(fixture *f, const int *counter, int target, const char *what)
{
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && *counter < target && now_ms() < deadline; i++)
        pump_once(f);
    cr_assert_geq(*counter, target, "waiting for %s: %d < %d", what, *counter, target);
}

static void pump_for(fixture *f, uint64_t duration_ms)
{
    uint64_t deadline = now_ms() + duration_ms;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline; i++)
        pump_once(f);
}

static test_client *connect_client(fixture *f, const char *nickname)
{
    test_client *t = add_client(f, 15000);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &f->address, nickname, now_ms()),
                 NETCORE_OK);
    wait_for(f, &t->welcomes, 1, "welcome");
    cr_assert_neq(t->id, 0);
    return t;
}

static void teardown(fixture *f)
{
    for (int i = 0; i < f->client_count; i++)
        netcore_lobby_client_destroy(f->clients[i].client);
    netcore_lobby_server_destroy(f->server);
}

static void create_room(fixture *f, test_client *owner, const char *name, uint8_t max_players,
                        const char *password)
{
    netcore_lobby_room_params p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    p.max_players = max_players;
    snprintf(p.password, sizeof p.password, "%s", password ? password : "");
    p.meta_count = 1;
    strcpy(p.meta[0].key, "map");
    strcpy(p.meta[0].value, "docks");
    int before = owner->room_states;
    cr_assert_eq(netcore_lobby_client_create_room(owner->client, &p), NETCORE_OK);
    wait_for(f, &owner->room_states, before + 1, "room state after create");
    cr_assert_eq(owner->room.owner_id, owner->id);
}

static void join(fixture *f, test_client *t, uint32_t room_id, int expected_members)
{
    cr_assert_eq(netcore_lobby_client_join_room(t->client, room_id, NULL), NETCORE_OK);
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && t->room.member_count != expected_members &&
                    now_ms() < deadline;
         i++)
        pump_once(f);
    cr_assert_eq(t->room.member_count, expected_members);
}

static void wait_members(fixture *f, test_client *t, int members)
{
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && t->room.member_count != members && now_ms() < deadline; i++)
        pump_once(f);
    cr_assert_eq(t->room.member_count, members);
}

Test(lobby, full_flow_tokens_are_accepted_by_a_validator)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client(&f, "ana");
    test_client *b = connect_client(&f, "bob");
    cr_assert_neq(a->id, b->id);

    create_room(&f, a, "duel", 4, NULL);
    uint32_t room_id = a->room.room_id;
    netcore_lobby_room_filter filter;
    memset(&filter, 0, sizeof filter);
    filter.max_count = 16;
    strcpy(filter.meta_key, "map");
    cr_assert_eq(netcore_lobby_client_list_rooms(b->client, &filter), NETCORE_OK);
    wait_for(&f, &b->room_lists, 1, "room list");
    cr_assert_eq(b->rooms_total, 1);

    join(&f, b, room_id, 2);
    wait_members(&f, a, 2);

    cr_assert_eq(netcore_lobby_client_chat(b->client, NETCORE_LOBBY_CHAT_ROOM, "gl hf"), NETCORE_OK);
    wait_for(&f, &a->chats, 1, "room chat at a");
    wait_for(&f, &b->chats, 1, "room chat echo at b");
    cr_assert_str_eq(a->last_chat, "gl hf");
    test_client *c = connect_client(&f, "cy");
    cr_assert_eq(netcore_lobby_client_chat(a->client, NETCORE_LOBBY_CHAT_LOBBY, "hi all"), NETCORE_OK);
    wait_for(&f, &c->chats, 1, "lobby chat at a client outside the room");
    cr_assert_str_eq(c->last_chat, "hi all");

    /* Not everyone ready: refused. */
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->errors, 1, "not ready error");
    cr_assert_eq(a->last_error, NETCORE_LOBBY_ERR_NOT_READY);
    /* Only the owner may start. */
    cr_assert_eq(netcore_lobby_client_start_match(b->client), NETCORE_OK);
    wait_for(&f, &b->errors, 1, "not owner error");
    cr_assert_eq(b->last_error, NETCORE_LOBBY_ERR_NOT_OWNER);

    cr_assert_eq(netcore_lobby_client_set_ready(a->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(b->client, true), NETCORE_OK);
    pump_for(&f, 100);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->matches, 1, "match start at a");
    wait_for(&f, &b->matches, 1, "match start at b");
    cr_assert_eq(a->match.match_id, b->match.match_id);
    cr_assert(netcore_address_equal(&a->match.server_address, &cfg.game_address));

    netcore_token_validator_config vcfg;
    netcore_token_validator_config_default(&vcfg);
    memcpy(vcfg.key, lobby_key, sizeof vcfg.key);
    vcfg.server_address = cfg.game_address;
    netcore_token_validator *v = NULL;
    cr_assert_eq(netcore_token_validator_create(&vcfg, &v), NETCORE_OK);
    netcore_token_info info;
    test_client *players[2] = {a, b};
    netcore_address from = netcore_address_ipv4(127, 0, 0, 1, 50000);
    for (int i = 0; i < 2; i++) {
        const netcore_lobby_match_start *m = &players[i]->match;
        cr_assert_eq(netcore_token_validate(v, m->token, m->token_size_bytes, token_clock_s + 1, &info),
                     NETCORE_OK);
        cr_assert_eq(info.client_id, players[i]->id);
        cr_assert_eq(info.match_id, m->match_id);
        cr_assert_eq(netcore_token_validate(v, m->token, m->token_size_bytes, token_clock_s + 2, NULL),
                     NETCORE_ERR_REPLAYED);
        cr_assert_eq(netcore_token_check_connect_proof(lobby_key, m->token, m->token_size_bytes,
                                                       &from, m->connect_proof),
                     NETCORE_OK);
    }
    netcore_token_validator_destroy(v);

    /* In a match: joining is refused; ending returns to the room, unready. */
    cr_assert_eq(netcore_lobby_client_join_room(c->client, room_id, NULL), NETCORE_OK);
    wait_for(&f, &c->errors, 1, "in match error");
    cr_assert_eq(c->last_error, NETCORE_LOBBY_ERR_IN_MATCH);
    cr_assert_eq(netcore_lobby_server_end_match(f.server, a->match.match_id), NETCORE_OK);
    wait_for(&f, &b->match_ends, 1, "match end");
    pump_for(&f, 50);
    cr_assert_not(b->room.in_match);
    cr_assert_not(b->room.members[0].ready);
    cr_assert_eq(netcore_lobby_server_end_match(f.server, a->match.match_id), NETCORE_ERR_NOT_FOUND);

    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.matches_started, 1);
    cr_assert_eq(stats.connections, 3);
    cr_assert_eq(stats.rooms, 1);
    teardown(&f);
}

Test(lobby, owner_leaving_migrates_ownership_and_kick_removes)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client(&f, "ana");
    test_client *b = connect_client(&f, "bob");
    test_client *c = connect_client(&f, "cy");
    create_room(&f, a, "trio", 3, "pw");
    uint32_t room_id = a->room.room_id;

    cr_assert_eq(netcore_lobby_client_join_room(b->client, room_id, "nope"), NETCORE_OK);
    wait_for(&f, &b->errors, 1, "bad password");
    cr_assert_eq(b->last_error, NETCORE_LOBBY_ERR_BAD_PASSWORD);
    cr_assert_eq(netcore_lobby_client_join_room(b->client, room_id, "pw"), NETCORE_OK);
    wait_members(&f, b, 2);
    cr_assert_eq(netcore_lobby_client_join_room(c->client, room_id, "pw"), NETCORE_OK);
    wait_members(&f, c, 3);

    /* Non-owner kick refused. */
    cr_assert_eq(netcore_lobby_client_kick(c->client, b->id), NETCORE_OK);
    wait_for(&f, &c->errors, 1, "not owner");
    cr_assert_eq(c->last_error, NETCORE_LOBBY_ERR_NOT_OWNER);

    cr_assert_eq(netcore_lobby_client_leave_room(a->client), NETCORE_OK);
    wait_for(&f, &a->room_left, 1, "room left");
    cr_assert_eq(a->leave_reason, NETCORE_LOBBY_LEFT);
    wait_members(&f, c, 2);
    cr_assert_eq(c->room.owner_id, b->id, "the earliest remaining member owns the room");

    cr_assert_eq(netcore_lobby_client_kick(b->client, c->id), NETCORE_OK);
    wait_for(&f, &c->room_left, 1, "kicked");
    cr_assert_eq(c->leave_reason, NETCORE_LOBBY_KICKED);
    wait_members(&f, b, 1);

    /* The last member leaving deletes the room. */
    cr_assert_eq(netcore_lobby_client_leave_room(b->client), NETCORE_OK);
    wait_for(&f, &b->room_left, 1, "room left");
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.rooms, 0);
    teardown(&f);
}

/* A raw TCP connection to the lobby. */
static int raw_connect(const netcore_address *address)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, address->bytes, 4);
    sin.sin_port = htons(address->port);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    return fd;
}

/* Pumps the lobby until the raw connection is closed by the server; returns
 * the error code of the ERROR frame received before the close (0 if none). */
static uint16_t wait_closed(fixture *f, int fd)
{
    uint8_t buf[4096];
    size_t len = 0;
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline; i++) {
        pump_once(f);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0)
            continue;
        ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
        if (n <= 0) {
            /* ERROR frame: length(4) type(1)=0x8f code(2) */
            if (len >= 7 && buf[4] == 0x8f)
                return (uint16_t)(buf[5] | (buf[6] << 8));
            return 0;
        }
        len += (size_t)n;
        if (len == sizeof buf)
            len = 0;
    }
    cr_assert_fail("the server did not close the connection");
    return 0;
}

Test(lobby, hostile_connections_are_dropped_while_others_are_served)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.frame_timeout_ms = 300;
    cfg.hello_timeout_ms = 400;
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client(&f, "ana");

    int garbage = raw_connect(&f.address);
    const char junk[] = "\x05\x00\x00\x00GET / HTTP/1.1\r\n\r\n";
    cr_assert_eq(send(garbage, junk, sizeof junk - 1, 0), (ssize_t)(sizeof junk - 1));
    int huge = raw_connect(&f.address);
    const uint8_t prefix[] = {0xf0, 0xff, 0xff, 0xff, 0x01};
    cr_assert_eq(send(huge, prefix, sizeof prefix, 0), (ssize_t)sizeof prefix);
    int slow = raw_connect(&f.address);
    const uint8_t partial[] = {0x10, 0x00, 0x00, 0x00, 0x01, 0x4e};
    cr_assert_eq(send(slow, partial, sizeof partial, 0), (ssize_t)sizeof partial);
    int silent = raw_connect(&f.address);
    int early = raw_connect(&f.address);
    const uint8_t ping[] = {0x09, 0x00, 0x00, 0x00, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert_eq(send(early, ping, sizeof ping, 0), (ssize_t)sizeof ping);

    cr_assert_eq(wait_closed(&f, garbage), NETCORE_LOBBY_ERR_MALFORMED);
    cr_assert_eq(wait_closed(&f, huge), NETCORE_LOBBY_ERR_FRAME_TOO_LARGE);
    cr_assert_eq(wait_closed(&f, early), NETCORE_LOBBY_ERR_STATE);
    cr_assert_eq(wait_closed(&f, slow), NETCORE_LOBBY_ERR_TIMEOUT);
    cr_assert_eq(wait_closed(&f, silent), NETCORE_LOBBY_ERR_TIMEOUT);
    close(garbage);
    close(huge);
    close(slow);
    close(silent);
    close(early);

    /* The well-behaved client is still served. */
    cr_assert_eq(netcore_lobby_client_ping(a->client, 77), NETCORE_OK);
    wait_for(&f, &a->pongs, 1, "pong");
    cr_assert_eq(a->disconnects, 0);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_geq(stats.malformed_dropped, 1);
    cr_assert_eq(stats.oversize_dropped, 1);
    cr_assert_eq(stats.timeout_dropped, 2);
    cr_assert_eq(stats.connections, 1);
    teardown(&f);
}

Test(lobby, flooding_and_chat_rate_limits)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client(&f, "ana");
    test_client *b = connect_client(&f, "bob");
    /* Chat burst is 5: of 10 chats sent at once some are refused. */
    for (int i = 0; i < 10; i++)
        cr_assert_eq(netcore_lobby_client_chat(a->client, NETCORE_LOBBY_CHAT_LOBBY, "spam"),
                     NETCORE_OK);
    wait_for(&f, &a->rate_limited, 1, "chat rate limit");
    cr_assert_lt(b->chats, 10);
    cr_assert_eq(a->disconnects, 0);
    /* 200 messages at once exceed the message burst: connection closed. */
    for (int i = 0; i < 200; i++)
        cr_assert_eq(netcore_lobby_client_ping(b->client, (uint64_t)i), NETCORE_OK);
    wait_for(&f, &b->disconnects, 1, "flood disconnect");
    cr_assert_eq(b->disconnect_code, NETCORE_LOBBY_ERR_RATE_LIMITED);
    cr_assert_eq(netcore_lobby_client_ping(a->client, 1), NETCORE_OK);
    wait_for(&f, &a->pongs, 1, "pong");
    teardown(&f);
}

Test(lobby, connection_cap_refuses_extra_connections)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.max_connections = 2;
    fixture f;
    start_server(&f, &cfg);
    connect_client(&f, "one");
    connect_client(&f, "two");
    test_client *three = add_client(&f, 15000);
    cr_assert_eq(netcore_lobby_client_connect(three->client, &f.address, "three", now_ms()),
                 NETCORE_OK);
    wait_for(&f, &three->disconnects, 1, "refusal");
    cr_assert_eq(three->disconnect_code, NETCORE_LOBBY_ERR_SERVER_FULL);
    cr_assert_eq(three->welcomes, 0);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.connections_rejected_full, 1);
    teardown(&f);
}

Test(lobby, reconnect_within_grace_keeps_the_seat)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    /* Generous against scheduling hiccups on a loaded machine: a pings every 100 ms. */
    cfg.idle_timeout_ms = 1000;
    fixture f;
    start_server(&f, &cfg);
    test_client *a = add_client(&f, 100); /* keeps itself alive */
    cr_assert_eq(netcore_lobby_client_connect(a->client, &f.address, "ana", now_ms()), NETCORE_OK);
    wait_for(&f, &a->welcomes, 1, "welcome");
    test_client *b = add_client(&f, 0); /* silent: dropped for idleness */
    cr_assert_eq(netcore_lobby_client_connect(b->client, &f.address, "bob", now_ms()), NETCORE_OK);
    wait_for(&f, &b->welcomes, 1, "welcome");
    create_room(&f, a, "keep", 2, NULL);
    join(&f, b, a->room.room_id, 2);
    uint64_t b_id = b->id;

    wait_for(&f, &b->disconnects, 1, "idle drop");
    cr_assert_eq(b->disconnect_code, NETCORE_LOBBY_ERR_TIMEOUT);
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && a->room.members[1].connected && now_ms() < deadline; i++)
        pump_once(&f);
    cr_assert_eq(a->room.member_count, 2, "the seat is kept");
    cr_assert_not(a->room.members[1].connected);

    cr_assert_eq(netcore_lobby_client_reconnect(b->client, &f.address, now_ms()), NETCORE_OK);
    wait_for(&f, &b->welcomes, 2, "resumed welcome");
    cr_assert(b->resumed);
    cr_assert_eq(b->id, b_id);
    deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && !a->room.members[1].connected && now_ms() < deadline; i++)
        pump_once(&f);
    cr_assert(a->room.members[1].connected);
    cr_assert_eq(b->room.room_id, a->room.room_id);

    /* GOODBYE frees the seat at once; the token is then useless. */
    cr_assert_eq(netcore_lobby_client_disconnect(b->client), NETCORE_OK);
    wait_members(&f, a, 1);
    cr_assert_eq(netcore_lobby_client_reconnect(b->client, &f.address, now_ms()), NETCORE_ERR_STATE);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.reconnects, 1);
    teardown(&f);
}

Test(lobby, reconnect_after_grace_fails)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.idle_timeout_ms = 200;
    cfg.reconnect_grace_ms = 100;
    fixture f;
    start_server(&f, &cfg);
    test_client *b = add_client(&f, 0);
    cr_assert_eq(netcore_lobby_client_connect(b->client, &f.address, "bob", now_ms()), NETCORE_OK);
    wait_for(&f, &b->welcomes, 1, "welcome");
    wait_for(&f, &b->disconnects, 1, "idle drop");
    pump_for(&f, 300);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.sessions, 0);
    cr_assert_eq(netcore_lobby_client_reconnect(b->client, &f.address, now_ms()), NETCORE_OK);
    wait_for(&f, &b->disconnects, 2, "refused reconnect");
    cr_assert_eq(b->disconnect_code, NETCORE_LOBBY_ERR_RECONNECT_FAILED);
    teardown(&f);
}

Test(lobby, ipv6_loopback_when_available)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cr_assert_eq(netcore_address_parse("[::1]:0", 0, &cfg.listen[0]), NETCORE_OK);
    fixture f;
    memset(&f, 0, sizeof f);
    if (netcore_lobby_server_create(&cfg, &f.server) != NETCORE_OK)
        cr_skip_test("no IPv6 loopback on this machine");
    cr_assert_eq(netcore_lobby_server_address(f.server, 0, &f.address), NETCORE_OK);
    cr_assert_eq(f.address.family, NETCORE_ADDRESS_IPV6);
    test_client *a = connect_client(&f, "six");
    create_room(&f, a, "v6", 1, NULL);
    cr_assert_eq(netcore_lobby_client_set_ready(a->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->matches, 1, "solo match start");
    teardown(&f);
}

Test(lobby, a_client_that_does_not_read_is_dropped_not_buffered)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.messages_per_s = 100000;
    cfg.chat_per_s = 100000;
    cfg.send_buffer_bytes = 4096;
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client(&f, "ana");

    /* A raw client with a tiny receive window says hello and never reads. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    int small = 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, f.address.bytes, 4);
    sin.sin_port = htons(f.address.port);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    const uint8_t hello[] = {0x0b, 0, 0, 0, 0x01, 0x4e, 0x43, 0x4c, 0x42, 0x01, 0x00, 3, 'r', 'a', 'w'};
    cr_assert_eq(send(fd, hello, sizeof hello, 0), (ssize_t)sizeof hello);
    pump_for(&f, 50);

    char text[201];
    memset(text, 'z', 200);
    text[200] = '\0';
    netcore_lobby_server_stats stats;
    memset(&stats, 0, sizeof stats);
    for (int batch = 0; batch < 200 && stats.slow_reader_dropped == 0; batch++) {
        for (int i = 0; i < 50; i++)
            if (netcore_lobby_client_chat(a->client, NETCORE_LOBBY_CHAT_LOBBY, text) != NETCORE_OK)
                break;
        pump_for(&f, 5);
        netcore_lobby_server_get_stats(f.server, &stats);
    }
    cr_assert_eq(stats.slow_reader_dropped, 1);
    cr_assert_eq(a->disconnects, 0);
    cr_assert_eq(netcore_lobby_client_ping(a->client, 5), NETCORE_OK);
    wait_for(&f, &a->pongs, 1, "pong after the slow reader was dropped");
    close(fd);
    teardown(&f);
}

Test(lobby, connect_and_drop_churn_does_not_lock_out_newcomers)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.max_connections = 2; /* room for 4 sessions, lost ones included */
    fixture f;
    start_server(&f, &cfg);
    for (int i = 0; i < MAX_CLIENTS; i++) {
        test_client *t = connect_client(&f, "churn");
        /* Dropped without GOODBYE: the session waits 30 s for a reconnect. */
        netcore_lobby_client_destroy(t->client);
        t->client = NULL;
        netcore_lobby_server_stats stats;
        memset(&stats, 0, sizeof stats);
        uint64_t deadline = now_ms() + WAIT_MS;
        for (int k = 0; k < WAIT_ITERATIONS && now_ms() < deadline; k++) {
            pump_once(&f);
            netcore_lobby_server_get_stats(f.server, &stats);
            if (stats.connections == 0)
                break;
        }
        cr_assert_eq(stats.connections, 0);
        cr_assert_eq(stats.sessions, (uint32_t)(i + 1));
    }
    /* The table is full of lost sessions; a newcomer is still welcomed. */
    f.client_count = 0;
    test_client *late = connect_client(&f, "late");
    cr_assert_eq(late->welcomes, 1);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.sessions, 4);
    teardown(&f);
}

static test_client *register_game_server(fixture *f, uint16_t port, uint16_t capacity)
{
    test_client *g = add_client(f, 15000);
    netcore_address game = netcore_address_ipv4(127, 0, 0, 1, port);
    cr_assert_eq(netcore_lobby_client_register_game_server(g->client, &f->address, lobby_key, &game,
                                                           capacity, token_clock_s, now_ms()),
                 NETCORE_OK);
    wait_for(f, &g->registered, 1, "registration");
    return g;
}

/* a creates a room, b joins, both ready, a starts. */
static void ready_and_start(fixture *f, test_client *a, test_client *b)
{
    create_room(f, a, "placed", 2, NULL);
    join(f, b, a->room.room_id, 2);
    cr_assert_eq(netcore_lobby_client_set_ready(a->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(b->client, true), NETCORE_OK);
    pump_for(f, 50);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
}

Test(lobby, registered_game_servers_get_matches_least_loaded_first)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    fixture f;
    start_server(&f, &cfg);
    test_client *g1 = register_game_server(&f, 9001, 8);
    test_client *g2 = register_game_server(&f, 9002, 8);
    cr_assert_eq(netcore_lobby_client_report_load(g1->client, 6, 8), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_report_load(g2->client, 1, 8), NETCORE_OK);
    pump_for(&f, 50);
    test_client *a = connect_client(&f, "ana");
    test_client *b = connect_client(&f, "bob");
    ready_and_start(&f, a, b);
    wait_for(&f, &a->matches, 1, "match start");
    wait_for(&f, &g2->assigned, 1, "assignment at the least loaded server");
    cr_assert_eq(g1->assigned, 0);
    cr_assert_eq(a->match.server_address.port, 9002);
    cr_assert_eq(g2->assigned_match, a->match.match_id);
    cr_assert_eq(g2->assigned_count, 2);
    cr_assert(g2->assigned_ids[0] == a->id || g2->assigned_ids[1] == a->id);
    cr_assert(g2->assigned_ids[0] == b->id || g2->assigned_ids[1] == b->id);

    /* The token names the chosen server: its validator accepts it. */
    netcore_token_validator_config vcfg;
    netcore_token_validator_config_default(&vcfg);
    memcpy(vcfg.key, lobby_key, sizeof vcfg.key);
    vcfg.server_address = netcore_address_ipv4(127, 0, 0, 1, 9002);
    netcore_token_validator *v = NULL;
    cr_assert_eq(netcore_token_validator_create(&vcfg, &v), NETCORE_OK);
    cr_assert_eq(netcore_token_validate(v, a->match.token, a->match.token_size_bytes, token_clock_s,
                                        NULL),
                 NETCORE_OK);
    netcore_token_validator_destroy(v);

    /* Only the hosting server may end the match. */
    cr_assert_eq(netcore_lobby_client_report_match_end(g1->client, a->match.match_id), NETCORE_OK);
    wait_for(&f, &g1->errors, 1, "foreign match end refused");
    cr_assert_eq(a->match_ends, 0);
    cr_assert_eq(netcore_lobby_client_report_match_end(g2->client, a->match.match_id), NETCORE_OK);
    wait_for(&f, &a->match_ends, 1, "match end from the game server");

    /* Both servers full for two more players: start refused. */
    cr_assert_eq(netcore_lobby_client_report_load(g1->client, 7, 8), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_report_load(g2->client, 7, 8), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(a->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(b->client, true), NETCORE_OK);
    pump_for(&f, 50);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->errors, 1, "no game server");
    cr_assert_eq(a->last_error, NETCORE_LOBBY_ERR_NO_GAME_SERVER);

    /* With every game server gone, matches go to the configured address. */
    cr_assert_eq(netcore_lobby_client_disconnect(g1->client), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_disconnect(g2->client), NETCORE_OK);
    netcore_lobby_server_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.game_servers = 2;
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && stats.game_servers > 0 && now_ms() < deadline; i++) {
        pump_once(&f);
        netcore_lobby_server_get_stats(f.server, &stats);
    }
    cr_assert_eq(stats.game_servers, 0);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->matches, 2, "second match start");
    cr_assert(netcore_address_equal(&a->match.server_address, &cfg.game_address));
    teardown(&f);
}

Test(lobby, registration_needs_the_key_and_a_close_clock)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    fixture f;
    start_server(&f, &cfg);
    netcore_address game = netcore_address_ipv4(127, 0, 0, 1, 9001);
    uint8_t wrong_key[NETCORE_TOKEN_KEY_BYTES];
    memset(wrong_key, 0x11, sizeof wrong_key);
    test_client *forger = add_client(&f, 15000);
    cr_assert_eq(netcore_lobby_client_register_game_server(forger->client, &f.address, wrong_key,
                                                           &game, 8, token_clock_s, now_ms()),
                 NETCORE_OK);
    wait_for(&f, &forger->disconnects, 1, "refused forger");
    cr_assert_eq(forger->disconnect_code, NETCORE_LOBBY_ERR_AUTH);
    test_client *stale = add_client(&f, 15000);
    cr_assert_eq(netcore_lobby_client_register_game_server(stale->client, &f.address, lobby_key,
                                                           &game, 8, token_clock_s - 3600,
                                                           now_ms()),
                 NETCORE_OK);
    wait_for(&f, &stale->disconnects, 1, "refused stale registration");
    cr_assert_eq(stale->disconnect_code, NETCORE_LOBBY_ERR_AUTH);
    cr_assert_eq(forger->registered + stale->registered, 0);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.registrations_rejected, 2);
    cr_assert_eq(stats.game_servers, 0);
    /* A game server cannot act as a player. */
    test_client *g = register_game_server(&f, 9003, 4);
    netcore_lobby_room_params p;
    memset(&p, 0, sizeof p);
    strcpy(p.name, "nope");
    p.max_players = 2;
    cr_assert_eq(netcore_lobby_client_create_room(g->client, &p), NETCORE_OK);
    wait_for(&f, &g->errors, 1, "player request refused");
    cr_assert_eq(g->last_error, NETCORE_LOBBY_ERR_STATE);
    teardown(&f);
}

static void list(fixture *f, test_client *t, const netcore_lobby_room_filter *filter)
{
    int before = t->room_lists;
    cr_assert_eq(netcore_lobby_client_list_rooms(t->client, filter), NETCORE_OK);
    wait_for(f, &t->room_lists, before + 1, "room list");
}

Test(lobby, room_list_filters_paging_and_room_limits)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.max_rooms = 3;
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client(&f, "ana");
    test_client *b = connect_client(&f, "bob");
    test_client *c = connect_client(&f, "cy");
    test_client *d = connect_client(&f, "dee");
    create_room(&f, a, "solo duel", 1, NULL); /* full at once, meta map=docks */
    netcore_lobby_room_params p;
    memset(&p, 0, sizeof p);
    strcpy(p.name, "secret");
    p.max_players = 4;
    p.is_private = true;
    cr_assert_eq(netcore_lobby_client_create_room(b->client, &p), NETCORE_OK);
    wait_for(&f, &b->room_states, 1, "private room");
    strcpy(p.name, "open duel");
    p.is_private = false;
    cr_assert_eq(netcore_lobby_client_create_room(c->client, &p), NETCORE_OK);
    wait_for(&f, &c->room_states, 1, "open room");
    /* The fourth room is over max_rooms. */
    strcpy(p.name, "one too many");
    cr_assert_eq(netcore_lobby_client_create_room(d->client, &p), NETCORE_OK);
    wait_for(&f, &d->errors, 1, "too many rooms");
    cr_assert_eq(d->last_error, NETCORE_LOBBY_ERR_TOO_MANY_ROOMS);
    /* A full room refuses a join. */
    cr_assert_eq(netcore_lobby_client_join_room(d->client, a->room.room_id, NULL), NETCORE_OK);
    wait_for(&f, &d->errors, 2, "room full");
    cr_assert_eq(d->last_error, NETCORE_LOBBY_ERR_ROOM_FULL);
    cr_assert_eq(netcore_lobby_client_join_room(d->client, 999999, NULL), NETCORE_OK);
    wait_for(&f, &d->errors, 3, "no such room");
    cr_assert_eq(d->last_error, NETCORE_LOBBY_ERR_NO_SUCH_ROOM);

    netcore_lobby_room_filter filter;
    memset(&filter, 0, sizeof filter);
    filter.max_count = 16;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 2, "private rooms are hidden by default");
    filter.include_private = true;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 3);
    filter.hide_full = true;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 2);
    filter.hide_full = false;
    strcpy(filter.name_contains, "duel");
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 2);
    strcpy(filter.meta_key, "map");
    strcpy(filter.meta_value, "docks");
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 1);
    strcpy(filter.meta_value, "yard");
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 0);
    teardown(&f);
}

Test(lobby, paging_returns_at_most_max_count)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    fixture f;
    start_server(&f, &cfg);
    test_client *owners[3];
    for (int i = 0; i < 3; i++) {
        owners[i] = connect_client(&f, "owner");
        create_room(&f, owners[i], "room", 4, NULL);
    }
    test_client *d = connect_client(&f, "dee");
    netcore_lobby_room_filter filter;
    memset(&filter, 0, sizeof filter);
    filter.max_count = 2;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 3);
    cr_assert_eq(d->list_count, 2);
    filter.offset = 2;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 3);
    cr_assert_eq(d->list_count, 1);
    teardown(&f);
}

Test(lobby, other_protocol_versions_are_refused)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    fixture f;
    start_server(&f, &cfg);
    int fd = raw_connect(&f.address);
    const uint8_t hello_v2[] = {0x0b, 0, 0, 0, 0x01, 0x4e, 0x43, 0x4c, 0x42, 0x02, 0x00, 3, 'a', 'n', 'a'};
    cr_assert_eq(send(fd, hello_v2, sizeof hello_v2, 0), (ssize_t)sizeof hello_v2);
    cr_assert_eq(wait_closed(&f, fd), NETCORE_LOBBY_ERR_VERSION);
    close(fd);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.version_rejected, 1);
    cr_assert_eq(stats.sessions, 0);
    teardown(&f);
}

Test(lobby, lan_discovery_finds_the_lobby_on_loopback)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.discovery_enabled = true;
    cfg.discovery_port = 0;
    strcpy(cfg.lobby_name, "Friday LAN");
    fixture f;
    start_server(&f, &cfg);
    connect_client(&f, "ana");
    netcore_address probe_to;
    cr_assert_eq(netcore_lobby_server_discovery_address(f.server, &probe_to), NETCORE_OK);
    cr_assert_neq(probe_to.port, 0);

    netcore_lobby_discovery *d = NULL;
    cr_assert_eq(netcore_lobby_discovery_create(NULL, &d), NETCORE_OK);
    cr_assert_eq(netcore_lobby_discovery_probe(d, &probe_to), NETCORE_OK);
    const netcore_lobby_found *found = NULL;
    size_t count = 0;
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && count == 0 && now_ms() < deadline; i++) {
        pump_once(&f);
        cr_assert_eq(netcore_lobby_discovery_update(d, now_ms()), NETCORE_OK);
        cr_assert_eq(netcore_lobby_discovery_results(d, &found, &count), NETCORE_OK);
    }
    cr_assert_eq(count, 1);
    cr_assert(netcore_address_equal(&found[0].lobby_address, &f.address),
              "the answer names the TCP address to connect to");
    cr_assert_str_eq(found[0].name, "Friday LAN");
    cr_assert_eq(found[0].players, 1);

    /* A second probe updates the same entry. */
    cr_assert_eq(netcore_lobby_discovery_probe(d, &probe_to), NETCORE_OK);
    netcore_lobby_server_stats stats;
    memset(&stats, 0, sizeof stats);
    deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && stats.discovery_answered < 2 && now_ms() < deadline; i++) {
        pump_once(&f);
        netcore_lobby_server_get_stats(f.server, &stats);
    }
    pump_for(&f, 20);
    netcore_lobby_discovery_update(d, now_ms());
    netcore_lobby_discovery_results(d, &found, &count);
    cr_assert_eq(count, 1);

    /* Malformed probes are dropped, not answered. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, probe_to.bytes, 4);
    sin.sin_port = htons(probe_to.port);
    uint8_t junk[8] = {'N', 'C', 'L', 'D', 1, 0, 1, 0};
    cr_assert_eq(sendto(fd, junk, sizeof junk, 0, (struct sockaddr *)&sin, sizeof sin),
                 (ssize_t)sizeof junk);
    deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && stats.discovery_dropped == 0 && now_ms() < deadline; i++) {
        pump_once(&f);
        netcore_lobby_server_get_stats(f.server, &stats);
    }
    cr_assert_eq(stats.discovery_dropped, 1);
    cr_assert_eq(stats.discovery_answered, 2);
    close(fd);
    netcore_lobby_discovery_destroy(d);
    teardown(&f);
}

/* Seeded storm of valid requests in random order from four players: the
 * server never drops anyone, and once quiet every player's view of its room
 * agrees with the others'. */
Test(lobby, random_request_storm_keeps_rooms_consistent)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.messages_per_s = 100000;
    cfg.chat_per_s = 100000;
    fixture f;
    start_server(&f, &cfg);
    test_client *players[MAX_CLIENTS];
    for (int i = 0; i < MAX_CLIENTS; i++)
        players[i] = connect_client(&f, "storm");
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (int op = 0; op < 1500; op++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        test_client *t = players[state % MAX_CLIENTS];
        uint32_t pick = (uint32_t)(state >> 8) % 10;
        uint32_t room_id = 1 + (uint32_t)(state >> 20) % 6;
        netcore_lobby_room_params p;
        netcore_lobby_room_filter filter;
        switch (pick) {
        case 0:
            memset(&p, 0, sizeof p);
            strcpy(p.name, "storm room");
            p.max_players = (uint8_t)(1 + (state >> 30) % 3);
            netcore_lobby_client_create_room(t->client, &p);
            break;
        case 1: netcore_lobby_client_join_room(t->client, room_id, NULL); break;
        case 2: netcore_lobby_client_leave_room(t->client); break;
        case 3: netcore_lobby_client_set_ready(t->client, (state >> 40) & 1); break;
        case 4: netcore_lobby_client_kick(t->client, players[(state >> 33) % MAX_CLIENTS]->id); break;
        case 5: netcore_lobby_client_start_match(t->client); break;
        case 6: netcore_lobby_client_end_match(t->client); break;
        case 7: netcore_lobby_client_chat(t->client, (netcore_lobby_chat_scope)((state >> 44) & 1), "x"); break;
        case 8:
            memset(&filter, 0, sizeof filter);
            filter.max_count = 4;
            filter.include_private = true;
            netcore_lobby_client_list_rooms(t->client, &filter);
            break;
        default: netcore_lobby_client_ping(t->client, (uint64_t)op); break;
        }
        if (op % 10 == 0)
            pump_once(&f);
    }
    /* Quiet: a ping answered by everyone means every earlier answer arrived. */
    for (int i = 0; i < MAX_CLIENTS; i++) {
        int pongs = players[i]->pongs;
        cr_assert_eq(netcore_lobby_client_ping(players[i]->client, 1), NETCORE_OK);
        wait_for(&f, &players[i]->pongs, pongs + 1, "final pong");
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
        const test_client *t = players[i];
        cr_assert_eq(t->disconnects, 0);
        if (t->room.room_id == 0)
            continue;
        bool self = false;
        for (int m = 0; m < t->room.member_count; m++)
            self = self || t->room.members[m].client_id == t->id;
        cr_assert(self, "player %d sees itself in its room", i);
        for (int k = 0; k < MAX_CLIENTS; k++) {
            const test_client *o = players[k];
            if (k == i || o->room.room_id != t->room.room_id)
                continue;
            cr_assert_eq(o->room.member_count, t->room.member_count);
            cr_assert_eq(o->room.owner_id, t->room.owner_id);
            cr_assert_eq(o->room.in_match, t->room.in_match);
        }
    }
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.sessions, MAX_CLIENTS);
    cr_assert_leq(stats.rooms, MAX_CLIENTS);
    cr_assert_eq(stats.malformed_dropped, 0);
    cr_assert_geq(stats.frames_received, 1500, "every request reached the server");
    teardown(&f);
}
