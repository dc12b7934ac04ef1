/* Shared by the lobby integration tests: a lobby server on 127.0.0.1 with
 * an ephemeral port, lobby clients that record every event, and bounded
 * waits (in iterations and in wall time). Header-only, static inline. */
#ifndef NETCORE_TEST_LOBBY_FIXTURE_H
#define NETCORE_TEST_LOBBY_FIXTURE_H

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netcore/lobby.h"
#include "netcore/token.h"
#include "redis_fixture.h"

#define MAX_CLIENTS 4
/* Every wait is bounded both in iterations and in wall time. */
#define WAIT_ITERATIONS 4000
#define WAIT_MS 8000

static const uint8_t lobby_key[NETCORE_TOKEN_KEY_BYTES] = {
    9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 9, 8};
static const uint64_t token_clock_s = 1700000000;

static inline uint64_t fixed_clock(void *user)
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
    netcore_lobby_match_end_reason match_end_reason; /* of the last MATCH_END */
    uint64_t match_end_id;
    int room_lists;
    uint16_t rooms_total;
    size_t list_count;
    int pongs;
    int errors;
    uint16_t last_error;
    int rate_limited;
    int disconnects;
    uint16_t disconnect_code;
    char disconnect_text[NETCORE_LOBBY_ERROR_TEXT_MAX + 1];
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

static inline void on_event(void *user, const netcore_lobby_event *e)
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
    case NETCORE_LOBBY_EVENT_MATCH_END:
        t->match_ends++;
        t->match_end_reason = e->match_end_reason;
        t->match_end_id = e->match_id;
        break;
    case NETCORE_LOBBY_EVENT_ROOM_LIST:
        t->room_lists++;
        t->rooms_total = e->rooms_total;
        t->list_count = e->room_list_count;
        break;
    case NETCORE_LOBBY_EVENT_PONG:
        t->pongs++;
        break;
    case NETCORE_LOBBY_EVENT_ERROR:
        t->errors++;
        t->last_error = e->error_code;
        t->rate_limited += e->error_code == NETCORE_LOBBY_ERR_RATE_LIMITED;
        break;
    case NETCORE_LOBBY_EVENT_DISCONNECTED:
        t->disconnects++;
        t->disconnect_code = e->error_code;
        snprintf(t->disconnect_text, sizeof t->disconnect_text, "%s", e->text ? e->text : "");
        break;
    case NETCORE_LOBBY_EVENT_REGISTERED:
        t->registered++;
        t->id = e->client_id;
        break;
    case NETCORE_LOBBY_EVENT_MATCH_ASSIGNED:
        t->assigned++;
        t->assigned_match = e->match_id;
        t->assigned_count = e->member_count;
        memcpy(t->assigned_ids, e->member_ids, e->member_count * sizeof *e->member_ids);
        break;
    }
}

static inline uint64_t now_ms(void)
{
    return netcore_time_now_us() / 1000;
}

/* The lobby's API takes microseconds. */
static inline uint64_t now_us(void)
{
    return netcore_time_now_us();
}

/* With NETCORE_TEST_LOBBY_TLS=1 in the environment (ctest runs the lobby
 * tests a second time so), the fixture's lobby speaks TLS with a
 * self-signed certificate for 127.0.0.1 made for each test in a temporary
 * directory, and its clients verify it against that certificate as their
 * CA and 127.0.0.1 as the name: every test then runs over TLS. */
typedef struct fixture_tls {
    bool made;
    char dir[64];
    char cert[96];
    char key[96];
    netcore_lobby_tls *trust;
} fixture_tls;

static fixture_tls test_tls;

static inline bool lobby_tls_mode(void)
{
    const char *e = getenv("NETCORE_TEST_LOBBY_TLS");
    return e && strcmp(e, "1") == 0;
}

/* Makes a self-signed certificate for name in a new temporary directory. */
static inline void make_test_cert(fixture_tls *t, const char *name)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/netcore-lobby-tls-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    snprintf(t->cert, sizeof t->cert, "%s/cert.pem", t->dir);
    snprintf(t->key, sizeof t->key, "%s/key.pem", t->dir);
    cr_assert_eq(netcore_lobby_tls_make_self_signed(t->cert, t->key, name, 2), NETCORE_OK);
    t->made = true;
}

static inline void remove_test_cert(fixture_tls *t)
{
    if (!t->made)
        return;
    unlink(t->cert);
    unlink(t->key);
    rmdir(t->dir);
    t->made = false;
}

static inline void fixture_tls_prepare(void)
{
    if (!lobby_tls_mode() || test_tls.made)
        return;
    make_test_cert(&test_tls, "127.0.0.1");
    netcore_lobby_tls_config tc;
    netcore_lobby_tls_config_default(&tc);
    tc.ca_file = test_tls.cert;
    cr_assert_eq(netcore_lobby_tls_create(&tc, &test_tls.trust), NETCORE_OK);
}

static inline void fixture_tls_release(void)
{
    netcore_lobby_tls_destroy(test_tls.trust);
    test_tls.trust = NULL;
    remove_test_cert(&test_tls);
}

/* Tests that speak raw plaintext TCP to the lobby skip under TLS, visibly. */
#define SKIP_UNDER_TLS(why)                                                                        \
    do {                                                                                           \
        if (lobby_tls_mode())                                                                      \
            cr_skip_test("plaintext only: %s", why);                                               \
    } while (0)

/* With NETCORE_TEST_LOBBY_REDIS=1 (ctest runs the lobby tests a third
 * time so), every lobby the fixture makes is a cluster node backed by a
 * real redis-server started for the test (unix socket in a temporary
 * directory, no persistence): the single-node behaviour must not change
 * when the state lives in Redis. */
static test_redis fixture_redis;
static int fixture_redis_nodes;

static inline bool lobby_redis_mode(void)
{
    const char *e = getenv("NETCORE_TEST_LOBBY_REDIS");
    return e && strcmp(e, "1") == 0;
}

static inline void fixture_redis_prepare(netcore_lobby_server_config *cfg)
{
    if (!lobby_redis_mode())
        return;
    if (fixture_redis.pid == 0)
        redis_start(&fixture_redis);
    snprintf(cfg->cluster_redis, sizeof cfg->cluster_redis, "%s", fixture_redis.address);
    snprintf(cfg->cluster_node_id, sizeof cfg->cluster_node_id, "solo-%d", ++fixture_redis_nodes);
}

/* Pumps a new cluster node until it has loaded its scripts and subscribed. */
static inline void fixture_redis_wait(netcore_lobby_server *server)
{
    if (!lobby_redis_mode())
        return;
    netcore_lobby_server_stats st;
    memset(&st, 0, sizeof st);
    uint64_t deadline = netcore_time_now_us() / 1000 + WAIT_MS;
    for (int i = 0;
         i < WAIT_ITERATIONS && !st.cluster_up && netcore_time_now_us() / 1000 < deadline; i++) {
        netcore_lobby_server_update(server, netcore_time_now_us(), 2);
        netcore_lobby_server_get_stats(server, &st);
    }
    cr_assert(st.cluster_up, "the lobby did not reach Redis");
}

static inline void server_config(netcore_lobby_server_config *cfg)
{
    netcore_lobby_server_config_default(cfg);
    cfg->listen[0] = netcore_address_ipv4(127, 0, 0, 1, 0);
    cfg->listen_count = 1;
    memcpy(cfg->key, lobby_key, sizeof cfg->key);
    cfg->game_address = netcore_address_ipv4(127, 0, 0, 1, 7778);
    cfg->clock = fixed_clock;
    cfg->seed = 42;
    if (getenv("NETCORE_TEST_VERBOSE")) {
        cfg->log.fn = netcore_log_stderr;
        cfg->log.min_level = NETCORE_LOG_DEBUG;
    }
    fixture_tls_prepare();
    fixture_redis_prepare(cfg);
    if (test_tls.made) {
        cfg->tls_cert_file = test_tls.cert;
        cfg->tls_key_file = test_tls.key;
    }
}

static inline void start_server(fixture *f, const netcore_lobby_server_config *cfg)
{
    memset(f, 0, sizeof *f);
    cr_assert_eq(netcore_lobby_server_create(cfg, &f->server), NETCORE_OK);
    cr_assert_eq(netcore_lobby_server_address(f->server, 0, &f->address), NETCORE_OK);
    cr_assert_neq(f->address.port, 0);
    fixture_redis_wait(f->server);
}

/* A server with the test settings of server_config, unchanged. */
static inline void start_default_server(fixture *f)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    start_server(f, &cfg);
}

static inline test_client *add_client(fixture *f, uint32_t keepalive_ms)
{
    test_client *t = &f->clients[f->client_count++];
    netcore_lobby_client_config cfg;
    netcore_lobby_client_config_default(&cfg);
    cfg.on_event = on_event;
    cfg.event_user = t;
    cfg.keepalive_ms = keepalive_ms;
    if (test_tls.trust) {
        cfg.tls = test_tls.trust;
        snprintf(cfg.tls_server_name, sizeof cfg.tls_server_name, "127.0.0.1");
    }
    cr_assert_eq(netcore_lobby_client_create(&cfg, &t->client), NETCORE_OK);
    return t;
}

static inline void pump_once(fixture *f)
{
    uint64_t now = now_us();
    cr_assert_eq(netcore_lobby_server_update(f->server, now, 2), NETCORE_OK);
    for (int i = 0; i < f->client_count; i++)
        if (f->clients[i].client)
            netcore_lobby_client_update(f->clients[i].client, now);
}

/* Pumps until *counter reaches target; fails the test if it never does. */
static inline void wait_for(fixture *f, const int *counter, int target, const char *what)
{
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && *counter < target && now_ms() < deadline; i++)
        pump_once(f);
    cr_assert_geq(*counter, target, "waiting for %s: %d < %d", what, *counter, target);
}

static inline void pump_for(fixture *f, uint64_t duration_ms)
{
    uint64_t deadline = now_ms() + duration_ms;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline; i++)
        pump_once(f);
}

/* A client (keepalive_ms as in add_client) connected and welcomed. */
static inline test_client *connect_client_with(fixture *f, uint32_t keepalive_ms,
                                               const char *nickname)
{
    test_client *t = add_client(f, keepalive_ms);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &f->address, nickname, now_us()),
                 NETCORE_OK);
    wait_for(f, &t->welcomes, 1, "welcome");
    cr_assert_neq(t->id, 0);
    return t;
}

static inline test_client *connect_client(fixture *f, const char *nickname)
{
    return connect_client_with(f, 15000, nickname);
}

static inline void teardown(fixture *f)
{
    for (int i = 0; i < f->client_count; i++)
        netcore_lobby_client_destroy(f->clients[i].client);
    netcore_lobby_server_destroy(f->server);
    fixture_tls_release();
    redis_cleanup(&fixture_redis);
}

static inline void create_room(fixture *f, test_client *owner, const char *name,
                               uint8_t max_players, const char *password)
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
    cr_assert_eq(owner->room.owner_id, owner->id, "owner %llu, expected %llu, room %u members %u",
                 (unsigned long long)owner->room.owner_id, (unsigned long long)owner->id,
                 owner->room.room_id, owner->room.member_count);
}

static inline void join(fixture *f, test_client *t, uint32_t room_id, int expected_members)
{
    cr_assert_eq(netcore_lobby_client_join_room(t->client, room_id, NULL), NETCORE_OK);
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0;
         i < WAIT_ITERATIONS && t->room.member_count != expected_members && now_ms() < deadline;
         i++)
        pump_once(f);
    cr_assert_eq(t->room.member_count, expected_members);
}

static inline void wait_members(fixture *f, test_client *t, int members)
{
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && t->room.member_count != members && now_ms() < deadline;
         i++)
        pump_once(f);
    cr_assert_eq(t->room.member_count, members);
}

/* A raw TCP connection to the lobby, from 127.0.0.<from_last_octet> (0: any
 * source) with a receive buffer of rcvbuf_bytes (0: the default). */
static inline int raw_connect_with(const netcore_address *address, uint8_t from_last_octet,
                                   int rcvbuf_bytes)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    if (rcvbuf_bytes > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
    if (from_last_octet) {
        struct sockaddr_in from;
        memset(&from, 0, sizeof from);
        from.sin_family = AF_INET;
        from.sin_addr.s_addr = htonl(0x7f000000u | from_last_octet);
        cr_assert_eq(bind(fd, (struct sockaddr *)&from, sizeof from), 0);
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, address->bytes, 4);
    sin.sin_port = htons(address->port);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    return fd;
}

static inline int raw_connect(const netcore_address *address)
{
    return raw_connect_with(address, 0, 0);
}

/* Pumps the lobby until the raw connection is closed by the server; returns
 * the error code of the ERROR frame received before the close (0 if none). */
static inline uint16_t wait_closed(fixture *f, int fd)
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

static inline void list(fixture *f, test_client *t, const netcore_lobby_room_filter *filter)
{
    int before = t->room_lists;
    cr_assert_eq(netcore_lobby_client_list_rooms(t->client, filter), NETCORE_OK);
    wait_for(f, &t->room_lists, before + 1, "room list");
}

#endif /* NETCORE_TEST_LOBBY_FIXTURE_H */
