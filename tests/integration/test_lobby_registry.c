/* Lobby game server registry over real TCP on 127.0.0.1: what happens to
 * the matches of a game server whose registration is lost (connection
 * closed, heartbeat timeout, replaced by a new registration), reports from
 * before a re-registration, and version-1 players. */
#define _POSIX_C_SOURCE 200809L
#include "lobby_fixture.h"
#include "lobby/lobby_internal.h"

static test_client *register_at(fixture *f, uint16_t port)
{
    test_client *g = add_client(f, 15000);
    netcore_address game = netcore_address_ipv4(127, 0, 0, 1, port);
    int before = g->registered;
    cr_assert_eq(netcore_lobby_client_register_game_server(g->client, &f->address, lobby_key, &game,
                                                           8, token_clock_s, now_us()),
                 NETCORE_OK);
    wait_for(f, &g->registered, before + 1, "registration");
    cr_assert_neq(g->id, 0);
    return g;
}

/* Closes a client's socket without GOODBYE (a crashed process) and stops
 * pumping it. */
static void crash(test_client *t)
{
    netcore_lobby_client_destroy(t->client);
    t->client = NULL;
}

static void set_ready(fixture *f, test_client *a, test_client *b)
{
    cr_assert_eq(netcore_lobby_client_set_ready(a->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(b->client, true), NETCORE_OK);
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline &&
                    !(a->room.members[0].ready && a->room.members[1].ready);
         i++)
        pump_once(f);
    cr_assert(a->room.members[0].ready && a->room.members[1].ready);
}

/* a owns a two-seat room with b; both ready, a starts; waits for both
 * MATCH_STARTs and for game server g's MATCH_ASSIGNED. */
static void start_on(fixture *f, test_client *a, test_client *b, test_client *g)
{
    int a_matches = a->matches, b_matches = b->matches, assigned = g->assigned;
    set_ready(f, a, b);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(f, &a->matches, a_matches + 1, "match start (a)");
    wait_for(f, &b->matches, b_matches + 1, "match start (b)");
    wait_for(f, &g->assigned, assigned + 1, "assignment");
    cr_assert_eq(g->assigned_match, a->match.match_id);
}

static void two_in_a_room(fixture *f, test_client **a, test_client **b)
{
    *a = connect_client(f, "ana");
    *b = connect_client(f, "bob");
    create_room(f, *a, "arena", 2, NULL);
    join(f, *b, (*a)->room.room_id, 2);
}

static netcore_lobby_server_stats stats_of(const fixture *f)
{
    netcore_lobby_server_stats st;
    cr_assert_eq(netcore_lobby_server_get_stats(f->server, &st), NETCORE_OK);
    return st;
}

/* Pumps until a shows its room out of the match with nobody ready. */
static void wait_room_back(fixture *f, test_client *t)
{
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline && t->room.in_match; i++)
        pump_once(f);
    cr_assert_not(t->room.in_match);
    for (uint8_t i = 0; i < t->room.member_count; i++)
        cr_assert_not(t->room.members[i].ready, "member %u still ready", i);
}

static void assert_lost_end(test_client *t, uint64_t match_id)
{
    cr_assert_eq(t->match_ends, 1);
    cr_assert_eq(t->match_end_id, match_id);
    cr_assert_eq(t->match_end_reason, NETCORE_LOBBY_MATCH_GAME_SERVER_LOST);
}

Test(lobby_registry, closed_registration_ends_its_matches_and_the_room_starts_elsewhere)
{
    fixture f;
    start_default_server(&f);
    test_client *g1 = register_at(&f, 9001);
    test_client *a, *b;
    two_in_a_room(&f, &a, &b);
    start_on(&f, a, b, g1);
    uint64_t first = a->match.match_id;
    cr_assert_eq(a->match.server_address.port, 9001);

    crash(g1);
    wait_for(&f, &a->match_ends, 1, "match end for a");
    wait_for(&f, &b->match_ends, 1, "match end for b");
    assert_lost_end(a, first);
    assert_lost_end(b, first);
    wait_room_back(&f, a);
    wait_room_back(&f, b);
    netcore_lobby_server_stats st = stats_of(&f);
    cr_assert_eq(st.game_servers, 0);
    cr_assert_eq(st.game_servers_lost, 1);
    cr_assert_eq(st.matches_ended_server_lost, 1);

    /* Ready again, and the next match goes to the server that is left. */
    test_client *g2 = register_at(&f, 9002);
    start_on(&f, a, b, g2);
    cr_assert_neq(a->match.match_id, first);
    cr_assert_eq(a->match.server_address.port, 9002);
    cr_assert_eq(netcore_lobby_client_report_match_end(g2->client, a->match.match_id), NETCORE_OK);
    wait_for(&f, &a->match_ends, 2, "second match end");
    cr_assert_eq(a->match_end_reason, NETCORE_LOBBY_MATCH_ENDED);
    st = stats_of(&f);
    cr_assert_eq(st.matches_ended_server_lost, 1);
    cr_assert_eq(g2->errors, 0);
    teardown(&f);
}

Test(lobby_registry, heartbeat_timeout_ends_the_matches)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.game_server_timeout_ms = 1500;
    fixture f;
    start_server(&f, &cfg);
    test_client *g1 = register_at(&f, 9001);
    test_client *a, *b;
    two_in_a_room(&f, &a, &b);
    /* A heartbeat now, so the setup below cannot outlast the timeout; it is
     * g1's last frame. */
    uint64_t heartbeat_ms = now_ms();
    cr_assert_eq(netcore_lobby_client_report_load(g1->client, 0, 8), NETCORE_OK);
    start_on(&f, a, b, g1);
    uint64_t match_id = a->match.match_id;
    cr_assert_eq(a->match_ends, 0);

    /* g1 stays connected and pumped but says nothing (its keep-alive is 15 s). */
    wait_for(&f, &a->match_ends, 1, "match end after the heartbeat timeout");
    uint64_t silent_ms = now_ms() - heartbeat_ms;
    wait_for(&f, &b->match_ends, 1, "match end for b");
    assert_lost_end(a, match_id);
    assert_lost_end(b, match_id);
    wait_room_back(&f, a);
    /* The lobby reads the same clock: not before the timeout, and within
     * the generous bound of one wait. */
    cr_assert_geq(silent_ms, cfg.game_server_timeout_ms);
    cr_assert_leq(silent_ms, cfg.game_server_timeout_ms + WAIT_MS);
    wait_for(&f, &g1->disconnects, 1, "game server closed");
    cr_assert_eq(g1->disconnect_code, NETCORE_LOBBY_ERR_TIMEOUT);
    netcore_lobby_server_stats st = stats_of(&f);
    cr_assert_eq(st.game_servers, 0);
    cr_assert_eq(st.game_servers_lost, 1);
    cr_assert_eq(st.matches_ended_server_lost, 1);
    cr_assert_geq(st.timeout_dropped, 1);
    /* The players, silent as long, are still there. */
    cr_assert_eq(a->disconnects, 0);
    cr_assert_eq(b->disconnects, 0);
    teardown(&f);
}

Test(lobby_registry, stale_match_end_after_reregistration_is_ignored_and_counted)
{
    fixture f;
    start_default_server(&f);
    test_client *g1 = register_at(&f, 9001);
    uint64_t first_id = g1->id;
    test_client *a, *b;
    two_in_a_room(&f, &a, &b);
    start_on(&f, a, b, g1);
    uint64_t old_match = a->match.match_id;

    /* The game server's connection drops; it registers again (same key,
     * same game address) and, not knowing what the lobby did meanwhile,
     * reports the end of the match it was playing. */
    crash(g1);
    wait_for(&f, &a->match_ends, 1, "match end after the drop");
    test_client *again = register_at(&f, 9001);
    cr_assert_neq(again->id, first_id);
    cr_assert_eq(netcore_lobby_client_report_match_end(again->client, old_match), NETCORE_OK);
    netcore_lobby_server_stats st = stats_of(&f);
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline && st.match_end_reports_ignored == 0;
         i++) {
        pump_once(&f);
        st = stats_of(&f);
    }
    cr_assert_eq(st.match_end_reports_ignored, 1);
    pump_for(&f, 50);
    cr_assert_eq(again->errors, 0, "a stale report must not be answered with an ERROR");
    cr_assert_eq(again->disconnects, 0);
    cr_assert_eq(a->match_ends, 1);
    st = stats_of(&f);
    cr_assert_eq(st.game_servers, 1);

    /* The new registration works as any other. */
    start_on(&f, a, b, again);
    cr_assert_eq(netcore_lobby_client_report_match_end(again->client, a->match.match_id),
                 NETCORE_OK);
    wait_for(&f, &a->match_ends, 2, "match end reported by the new registration");
    cr_assert_eq(a->match_end_reason, NETCORE_LOBBY_MATCH_ENDED);
    cr_assert_eq(again->errors, 0);
    teardown(&f);
}

Test(lobby_registry, registering_the_same_address_again_replaces_the_old_registration)
{
    fixture f;
    start_default_server(&f);
    test_client *g1 = register_at(&f, 9001);
    test_client *a, *b;
    two_in_a_room(&f, &a, &b);
    start_on(&f, a, b, g1);
    uint64_t match_id = a->match.match_id;

    /* The lobby still holds g1's connection (as after a drop it has not
     * seen) when the same game address registers again. */
    test_client *again = register_at(&f, 9001);
    wait_for(&f, &a->match_ends, 1, "match end on replacement");
    wait_for(&f, &b->match_ends, 1, "match end for b");
    assert_lost_end(a, match_id);
    assert_lost_end(b, match_id);
    wait_for(&f, &g1->disconnects, 1, "old registration closed");
    cr_assert_eq(g1->disconnect_code, NETCORE_LOBBY_ERR_STATE);
    netcore_lobby_server_stats st = stats_of(&f);
    cr_assert_eq(st.game_servers, 1);
    cr_assert_eq(st.game_servers_lost, 1);
    cr_assert_eq(st.matches_ended_server_lost, 1);
    /* The old match reported over the new registration: ignored. */
    cr_assert_eq(netcore_lobby_client_report_match_end(again->client, match_id), NETCORE_OK);
    pump_for(&f, 100);
    cr_assert_eq(again->errors, 0);
    st = stats_of(&f);
    cr_assert_eq(st.match_end_reports_ignored, 1);
    teardown(&f);
}

Test(lobby_registry, matches_on_the_configured_address_are_left_alone)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    fixture f;
    start_server(&f, &cfg);
    test_client *a, *b;
    two_in_a_room(&f, &a, &b);
    set_ready(&f, a, b);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->matches, 1, "match start on the configured address");
    cr_assert(netcore_address_equal(&a->match.server_address, &cfg.game_address));
    /* A game server registering and going away meanwhile does not touch it. */
    test_client *g1 = register_at(&f, 9001);
    crash(g1);
    netcore_lobby_server_stats st = stats_of(&f);
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline && st.game_servers_lost == 0; i++) {
        pump_once(&f);
        st = stats_of(&f);
    }
    cr_assert_eq(st.game_servers_lost, 1);
    pump_for(&f, 50);
    cr_assert_eq(a->match_ends, 0);
    cr_assert(a->room.in_match);
    cr_assert_eq(netcore_lobby_server_end_match(f.server, a->match.match_id), NETCORE_OK);
    wait_for(&f, &a->match_ends, 1, "match end from the lobby program");
    cr_assert_eq(a->match_end_reason, NETCORE_LOBBY_MATCH_ENDED);
    teardown(&f);
}

/* ------------------------------------------------------------------ */
/* A version-1 player, spoken to over a raw socket                     */
/* ------------------------------------------------------------------ */

static void raw_send(int fd, const nci_lobby_msg *m)
{
    uint8_t frame[1024];
    size_t size = 0;
    cr_assert_eq(nci_lobby_encode(m, frame, sizeof frame, &size), NETCORE_OK);
    cr_assert_eq(send(fd, frame, size, 0), (ssize_t)size);
}

typedef struct raw_reader {
    uint8_t buf[16384];
    size_t len;
} raw_reader;

/* Pumps the lobby until a frame of type `type` arrives on fd; returns its
 * body size and leaves the decoded message in *out. */
static size_t raw_wait(fixture *f, int fd, raw_reader *r, uint8_t type, nci_lobby_msg *out)
{
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline; i++) {
        size_t body = 0;
        while (nci_lobby_frame_peek(r->buf, r->len, sizeof r->buf, &body) ==
               NCI_LOBBY_FRAME_READY) {
            cr_assert_eq(nci_lobby_decode(r->buf + 4, body, out), NETCORE_OK);
            size_t total = 4 + body;
            memmove(r->buf, r->buf + total, r->len - total);
            r->len -= total;
            if (out->type == type)
                return body;
        }
        pump_once(f);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0)
            continue;
        ssize_t n = recv(fd, r->buf + r->len, sizeof r->buf - r->len, 0);
        cr_assert_gt(n, 0, "the lobby closed the version-1 connection");
        r->len += (size_t)n;
    }
    cr_assert_fail("no frame of type 0x%02x", type);
    return 0;
}

Test(lobby_registry, version_one_players_get_the_plain_match_end)
{
    SKIP_UNDER_TLS("raw TCP frames");
    fixture f;
    start_default_server(&f);
    test_client *g1 = register_at(&f, 9001);
    int fd = raw_connect(&f.address);
    static raw_reader r;
    static nci_lobby_msg m;
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_HELLO;
    m.u.hello.version = 1;
    strcpy(m.u.hello.nickname, "old");
    raw_send(fd, &m);
    raw_wait(&f, fd, &r, NCI_LOBBY_WELCOME, &m);
    cr_assert_eq(m.u.welcome.version, 1, "the lobby answers in the client's version");
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_CREATE_ROOM;
    strcpy(m.u.create_room.name, "solo");
    m.u.create_room.max_players = 1;
    raw_send(fd, &m);
    raw_wait(&f, fd, &r, NCI_LOBBY_ROOM_STATE, &m);
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_SET_READY;
    m.u.ready = true;
    raw_send(fd, &m);
    raw_wait(&f, fd, &r, NCI_LOBBY_ROOM_STATE, &m);
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_START_MATCH;
    raw_send(fd, &m);
    raw_wait(&f, fd, &r, NCI_LOBBY_MATCH_START, &m);
    uint64_t match_id = m.u.match_start.match_id;
    wait_for(&f, &g1->assigned, 1, "assignment");

    crash(g1);
    size_t body = raw_wait(&f, fd, &r, NCI_LOBBY_MATCH_END, &m);
    cr_assert_eq(body, 9, "type byte and u64 match id, as in version 1");
    cr_assert_eq(m.u.match_end_id, match_id);
    raw_wait(&f, fd, &r, NCI_LOBBY_ROOM_STATE, &m);
    cr_assert_not(m.u.room_state.in_match);
    cr_assert_not(m.u.room_state.members[0].ready);
    close(fd);
    netcore_lobby_server_stats st = stats_of(&f);
    cr_assert_eq(st.matches_ended_server_lost, 1);
    teardown(&f);
}

Test(lobby_registry, match_ended_reasons_decode_whatever_their_value)
{
    /* A later version may add reasons: the decoder keeps the byte as is
     * and the client reports it (callers treat unknown ones as ENDED). */
    static nci_lobby_msg in, out;
    uint8_t frame[64];
    size_t size = 0;
    memset(&in, 0, sizeof in);
    in.type = NCI_LOBBY_MATCH_ENDED;
    in.u.match_ended.match_id = 0x1122334455667788ull;
    in.u.match_ended.reason = 200;
    cr_assert_eq(nci_lobby_encode(&in, frame, sizeof frame, &size), NETCORE_OK);
    cr_assert_eq(size, 4 + 1 + 8 + 1);
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 4, &out), NETCORE_OK);
    cr_assert_eq(out.u.match_ended.match_id, in.u.match_ended.match_id);
    cr_assert_eq(out.u.match_ended.reason, 200);
    /* Exact length, as every frame. */
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 5, &out), NETCORE_ERR_MALFORMED);
    frame[size] = 0;
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 3, &out), NETCORE_ERR_MALFORMED);
}
