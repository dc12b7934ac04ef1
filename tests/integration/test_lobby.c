/* Lobby server and client over real TCP on 127.0.0.1 (ephemeral ports):
 * hello, rooms, chat, ready, start with connect tokens that a validator
 * accepts, owner migration, kick, hostile connections, reconnect. */
#define _POSIX_C_SOURCE 200809L
#include "lobby_fixture.h"

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

    cr_assert_eq(netcore_lobby_client_chat(b->client, NETCORE_LOBBY_CHAT_ROOM, "gl hf"),
                 NETCORE_OK);
    wait_for(&f, &a->chats, 1, "room chat at a");
    wait_for(&f, &b->chats, 1, "room chat echo at b");
    cr_assert_str_eq(a->last_chat, "gl hf");
    test_client *c = connect_client(&f, "cy");
    cr_assert_eq(netcore_lobby_client_chat(a->client, NETCORE_LOBBY_CHAT_LOBBY, "hi all"),
                 NETCORE_OK);
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
    netcore_address elsewhere = netcore_address_ipv4(127, 0, 0, 2, 50000);
    for (int i = 0; i < 2; i++) {
        const netcore_lobby_match_start *m = &players[i]->match;
        cr_assert_eq(
            netcore_token_validate(v, m->token, m->token_size_bytes, token_clock_s + 1, &info),
            NETCORE_OK);
        /* The session keys beside the token are the ones inside it, fresh per player. */
        cr_assert(m->has_session_keys);
        cr_assert_eq(memcmp(&info.session_keys, &m->session_keys, sizeof info.session_keys), 0);
        cr_assert_neq(memcmp(&players[0]->match.session_keys, &players[1]->match.session_keys,
                             sizeof m->session_keys),
                      0);
        cr_assert_eq(info.bound_address.family, NETCORE_ADDRESS_IPV4);
        cr_assert_eq(memcmp(info.bound_address.bytes, from.bytes, 4), 0);
        cr_assert_eq(info.client_id, players[i]->id);
        cr_assert_eq(info.match_id, m->match_id);
        cr_assert_eq(
            netcore_token_validate(v, m->token, m->token_size_bytes, token_clock_s + 2, NULL),
            NETCORE_ERR_REPLAYED);
        /* The proof binds the client's IP as the lobby saw it (any port), is
         * the one the token carries, and is useless from another IP. */
        cr_assert_neq(m->connect_proof, 0);
        cr_assert_eq(m->connect_proof, netcore_token_embedded_proof(m->token, m->token_size_bytes));
        cr_assert_eq(netcore_token_check_address_proof(lobby_key, &from, token_clock_s + 1, 5,
                                                       m->connect_proof),
                     NETCORE_OK);
        cr_assert_eq(netcore_token_check_address_proof(lobby_key, &elsewhere, token_clock_s + 1, 5,
                                                       m->connect_proof),
                     NETCORE_ERR_AUTH);
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
    cr_assert_eq(netcore_lobby_server_end_match(f.server, a->match.match_id),
                 NETCORE_ERR_NOT_FOUND);

    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.matches_started, 1);
    cr_assert_eq(stats.connections, 3);
    cr_assert_eq(stats.rooms, 1);
    teardown(&f);
}

Test(lobby, owner_leaving_migrates_ownership_and_kick_removes)
{
    fixture f;
    start_default_server(&f);
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

Test(lobby, hostile_connections_are_dropped_while_others_are_served)
{
    SKIP_UNDER_TLS("raw TCP frames");
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
    fixture f;
    start_default_server(&f);
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
    SKIP_UNDER_TLS("raw TCP frames");
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.max_connections = 2;
    fixture f;
    start_server(&f, &cfg);
    connect_client(&f, "one");
    connect_client(&f, "two");
    test_client *three = add_client(&f, 15000);
    cr_assert_eq(netcore_lobby_client_connect(three->client, &f.address, "three", now_us()),
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
    test_client *a = connect_client_with(&f, 100, "ana"); /* keeps itself alive */
    test_client *b = connect_client_with(&f, 0, "bob");   /* silent: dropped for idleness */
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

    cr_assert_eq(netcore_lobby_client_reconnect(b->client, &f.address, now_us()), NETCORE_OK);
    wait_for(&f, &b->welcomes, 2, "resumed welcome");
    cr_assert(b->resumed);
    cr_assert_eq(b->id, b_id);
    deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && !a->room.members[1].connected && now_ms() < deadline;
         i++)
        pump_once(&f);
    cr_assert(a->room.members[1].connected);
    cr_assert_eq(b->room.room_id, a->room.room_id);

    /* GOODBYE frees the seat at once; the token is then useless. */
    cr_assert_eq(netcore_lobby_client_disconnect(b->client), NETCORE_OK);
    wait_members(&f, a, 1);
    cr_assert_eq(netcore_lobby_client_reconnect(b->client, &f.address, now_us()),
                 NETCORE_ERR_STATE);
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
    test_client *b = connect_client_with(&f, 0, "bob");
    wait_for(&f, &b->disconnects, 1, "idle drop");
    pump_for(&f, 300);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.sessions, 0);
    cr_assert_eq(netcore_lobby_client_reconnect(b->client, &f.address, now_us()), NETCORE_OK);
    wait_for(&f, &b->disconnects, 2, "refused reconnect");
    cr_assert_eq(b->disconnect_code, NETCORE_LOBBY_ERR_RECONNECT_FAILED);
    teardown(&f);
}

Test(lobby, ipv6_loopback_when_available)
{
    SKIP_UNDER_TLS("the test certificate names 127.0.0.1, not ::1");
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cr_assert_eq(netcore_address_parse("[::1]:0", 0, &cfg.listen[0]), NETCORE_OK);
    fixture f;
    memset(&f, 0, sizeof f);
    if (netcore_lobby_server_create(&cfg, &f.server) != NETCORE_OK)
        cr_skip_test("no IPv6 loopback on this machine");
    cr_assert_eq(netcore_lobby_server_address(f.server, 0, &f.address), NETCORE_OK);
    cr_assert_eq(f.address.family, NETCORE_ADDRESS_IPV6);
    fixture_redis_wait(f.server);
    test_client *a = connect_client(&f, "six");
    create_room(&f, a, "v6", 1, NULL);
    cr_assert_eq(netcore_lobby_client_set_ready(a->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->matches, 1, "solo match start");
    teardown(&f);
}

Test(lobby, a_client_that_does_not_read_is_dropped_not_buffered)
{
    SKIP_UNDER_TLS("raw TCP frames");
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.messages_per_s = 100000;
    cfg.chat_per_s = 100000;
    cfg.send_buffer_bytes = 4096;
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client(&f, "ana");

    /* A raw client with a tiny receive window says hello and never reads. */
    int fd = raw_connect_with(&f.address, 0, 1024);
    const uint8_t hello[] = {0x0b, 0,    0,    0, 0x01, 0x4e, 0x43, 0x4c,
                             0x42, 0x01, 0x00, 3, 'r',  'a',  'w'};
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

Test(lobby, other_protocol_versions_are_refused)
{
    SKIP_UNDER_TLS("raw TCP frames");
    fixture f;
    start_default_server(&f);
    int fd = raw_connect(&f.address);
    /* Version 4: above what this build speaks (1 to 3). */
    const uint8_t hello_v4[] = {0x0b, 0,    0,    0, 0x01, 0x4e, 0x43, 0x4c,
                                0x42, 0x04, 0x00, 3, 'a',  'n',  'a'};
    cr_assert_eq(send(fd, hello_v4, sizeof hello_v4, 0), (ssize_t)sizeof hello_v4);
    cr_assert_eq(wait_closed(&f, fd), NETCORE_LOBBY_ERR_VERSION);
    close(fd);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.version_rejected, 1);
    cr_assert_eq(stats.sessions, 0);
    teardown(&f);
}
