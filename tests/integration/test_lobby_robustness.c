/* Lobby server robustness on loopback: a member reconnecting during its
 * match, the per-address connection cap, running out of descriptors in
 * accept(), and a client that stops reading. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lobby_fixture.h"

static const uint8_t raw_hello[] = {0x0b, 0,    0,    0, 0x01, 0x4e, 0x43, 0x4c,
                                    0x42, 0x01, 0x00, 3, 'r',  'a',  'w'};

/* Pumps until the raw connection has received a frame; returns its type. */
static uint8_t raw_first_frame_type(fixture *f, int fd)
{
    uint8_t buf[64];
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline; i++) {
        pump_once(f);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0)
            continue;
        ssize_t n = recv(fd, buf, 5, MSG_WAITALL);
        cr_assert_eq(n, 5, "a whole frame header");
        return buf[4];
    }
    cr_assert_fail("no frame arrived");
    return 0;
}

static void stats_of(fixture *f, netcore_lobby_server_stats *stats)
{
    cr_assert_eq(netcore_lobby_server_get_stats(f->server, stats), NETCORE_OK);
}

Test(lobby_robustness, a_member_reconnecting_during_its_match_gets_a_fresh_match_start)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.idle_timeout_ms = 1000; /* b is silent and gets dropped; a pings every 100 ms */
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client_with(&f, 100, "ana");
    test_client *b = connect_client_with(&f, 0, "bob");
    create_room(&f, a, "play", 2, NULL);
    join(&f, b, a->room.room_id, 2);
    cr_assert_eq(netcore_lobby_client_set_ready(a->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(b->client, true), NETCORE_OK);
    pump_for(&f, 50);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->matches, 1, "match start at a");
    wait_for(&f, &b->matches, 1, "match start at b");
    netcore_lobby_match_start first = b->match;

    wait_for(&f, &b->disconnects, 1, "idle drop");
    cr_assert_eq(netcore_lobby_client_reconnect(b->client, &f.address, now_us()), NETCORE_OK);
    wait_for(&f, &b->welcomes, 2, "resumed welcome");
    cr_assert(b->resumed);
    wait_for(&f, &b->matches, 2, "match start again after the reconnect");
    const netcore_lobby_match_start *again = &b->match;
    cr_assert_eq(again->match_id, first.match_id);
    cr_assert(netcore_address_equal(&again->server_address, &first.server_address));
    cr_assert_eq(again->token_size_bytes, first.token_size_bytes);
    cr_assert_neq(memcmp(again->token, first.token, first.token_size_bytes), 0, "a fresh token");
    netcore_address from = netcore_address_ipv4(127, 0, 0, 1, 40000);
    cr_assert_eq(again->connect_proof,
                 netcore_token_embedded_proof(again->token, again->token_size_bytes));
    cr_assert_eq(
        netcore_token_check_address_proof(lobby_key, &from, token_clock_s, 5, again->connect_proof),
        NETCORE_OK);

    /* Both tokens are good: the first may have been spent by a game client
     * that crashed, the second is not a replay of it. */
    netcore_token_validator_config vcfg;
    netcore_token_validator_config_default(&vcfg);
    memcpy(vcfg.key, lobby_key, sizeof vcfg.key);
    vcfg.server_address = cfg.game_address;
    netcore_token_validator *v = NULL;
    cr_assert_eq(netcore_token_validator_create(&vcfg, &v), NETCORE_OK);
    netcore_token_info info;
    cr_assert_eq(
        netcore_token_validate(v, first.token, first.token_size_bytes, token_clock_s, NULL),
        NETCORE_OK);
    cr_assert_eq(
        netcore_token_validate(v, again->token, again->token_size_bytes, token_clock_s, &info),
        NETCORE_OK);
    cr_assert_eq(info.client_id, b->id);
    cr_assert_eq(info.match_id, first.match_id);
    netcore_token_validator_destroy(v);

    pump_for(&f, 50);
    cr_assert_eq(a->matches, 1, "only the member who came back gets it again");
    netcore_lobby_server_stats stats;
    stats_of(&f, &stats);
    cr_assert_eq(stats.match_tokens_reissued, 1);
    cr_assert_eq(stats.matches_started, 1);

    /* After the match ends a reconnect brings no MATCH_START. */
    cr_assert_eq(netcore_lobby_server_end_match(f.server, first.match_id), NETCORE_OK);
    wait_for(&f, &b->match_ends, 1, "match end");
    wait_for(&f, &b->disconnects, 2, "second idle drop");
    cr_assert_eq(netcore_lobby_client_reconnect(b->client, &f.address, now_us()), NETCORE_OK);
    wait_for(&f, &b->welcomes, 3, "second resumed welcome");
    pump_for(&f, 50);
    cr_assert_eq(b->matches, 2);
    teardown(&f);
}

Test(lobby_robustness, per_address_connection_cap_is_enforced_and_counted)
{
    SKIP_UNDER_TLS("raw TCP frames");
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.max_connections_per_ip = 2;
    fixture f;
    start_server(&f, &cfg);
    test_client *one = connect_client(&f, "one");
    connect_client(&f, "two");
    test_client *three = add_client(&f, 15000);
    cr_assert_eq(netcore_lobby_client_connect(three->client, &f.address, "three", now_us()),
                 NETCORE_OK);
    wait_for(&f, &three->disconnects, 1, "refusal");
    cr_assert_eq(three->disconnect_code, NETCORE_LOBBY_ERR_SERVER_FULL);
    cr_assert_eq(three->welcomes, 0);

    /* Another address is not affected. */
    int other = raw_connect_with(&f.address, 2, 0);
    cr_assert_eq(send(other, raw_hello, sizeof raw_hello, 0), (ssize_t)sizeof raw_hello);
    cr_assert_eq(raw_first_frame_type(&f, other), 0x81, "WELCOME from 127.0.0.2");

    netcore_lobby_server_stats stats;
    stats_of(&f, &stats);
    cr_assert_eq(stats.connections_rejected_per_ip, 1);
    cr_assert_eq(stats.connections_rejected_full, 0);
    cr_assert_eq(stats.connections, 3);

    /* A freed place from that address can be taken again. */
    cr_assert_eq(netcore_lobby_client_disconnect(one->client), NETCORE_OK);
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && stats.connections != 2 && now_ms() < deadline; i++) {
        pump_once(&f);
        stats_of(&f, &stats);
    }
    cr_assert_eq(stats.connections, 2);
    cr_assert_eq(netcore_lobby_client_connect(three->client, &f.address, "three", now_us()),
                 NETCORE_OK);
    wait_for(&f, &three->welcomes, 1, "welcome once a place is free");
    close(other);
    teardown(&f);
}

Test(lobby_robustness, accept_without_descriptors_pauses_the_listener_instead_of_spinning)
{
    SKIP_UNDER_TLS("raw TCP frames");
    fixture f;
    start_default_server(&f);

    struct rlimit saved;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
    struct rlimit low = saved;
    low.rlim_cur = saved.rlim_max < 256 ? saved.rlim_max : 256;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fillers[256];
    int filled = 0;
    for (int fd; filled < 256 && (fd = open("/dev/null", O_RDONLY)) >= 0;)
        fillers[filled++] = fd;
    cr_assert_eq(errno, EMFILE, "the descriptor table is full");
    cr_assert_gt(filled, 0);
    /* One descriptor for the client; then none is left for accept(). */
    close(fillers[--filled]);
    int client = raw_connect_with(&f.address, 1, 0);

    uint64_t t = now_us();
    for (int i = 0; i < 20; i++)
        cr_assert_eq(netcore_lobby_server_update(f.server, t, 0), NETCORE_OK);
    netcore_lobby_server_stats stats;
    stats_of(&f, &stats);
    cr_assert_eq(stats.accept_backoffs, 1, "one failed accept, then the listener rests");
    cr_assert_eq(stats.connections_accepted, 0);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(netcore_lobby_server_update(f.server, t + 50000, 0), NETCORE_OK);
    stats_of(&f, &stats);
    cr_assert_eq(stats.accept_backoffs, 1, "still resting within the pause");

    /* Descriptors come back: after the pause the waiting connection is taken. */
    while (filled > 0)
        close(fillers[--filled]);
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
    for (int i = 0; i < 20 && stats.connections_accepted == 0; i++) {
        cr_assert_eq(netcore_lobby_server_update(f.server, t + 100000 + 1000 * (uint64_t)i, 1),
                     NETCORE_OK);
        stats_of(&f, &stats);
    }
    cr_assert_eq(stats.connections_accepted, 1);
    cr_assert_eq(send(client, raw_hello, sizeof raw_hello, 0), (ssize_t)sizeof raw_hello);
    cr_assert_eq(raw_first_frame_type(&f, client), 0x81, "WELCOME once accepted");
    close(client);
    teardown(&f);
}

Test(lobby_robustness, a_client_that_does_not_read_gets_whole_frames_then_an_error)
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

    int fd = raw_connect_with(&f.address, 0, 1024);
    cr_assert_eq(send(fd, raw_hello, sizeof raw_hello, 0), (ssize_t)sizeof raw_hello);
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
        stats_of(&f, &stats);
    }
    cr_assert_eq(stats.slow_reader_dropped, 1);

    /* The client catches up: everything it reads is whole frames, the last
     * one ERROR(SLOW_READER), then the end of the stream. */
    static uint8_t buf[65536];
    size_t len = 0;
    uint8_t last_type = 0;
    uint16_t last_code = 0;
    int frames = 0;
    bool eof = false;
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < 100000 && !eof && now_ms() < deadline; i++) {
        pump_once(&f);
        struct pollfd p = {fd, POLLIN, 0};
        while (!eof && poll(&p, 1, 0) > 0) {
            ssize_t n = recv(fd, buf + len, sizeof buf - len, 0);
            if (n <= 0) {
                eof = true;
                break;
            }
            len += (size_t)n;
            size_t pos = 0;
            while (len - pos >= 4) {
                size_t body = (size_t)buf[pos] | ((size_t)buf[pos + 1] << 8) |
                              ((size_t)buf[pos + 2] << 16) | ((size_t)buf[pos + 3] << 24);
                cr_assert(body >= 1 && body <= 16384, "frame length %zu", body);
                if (len - pos < 4 + body)
                    break;
                last_type = buf[pos + 4];
                last_code = body >= 3 ? (uint16_t)(buf[pos + 5] | (buf[pos + 6] << 8)) : 0;
                frames++;
                pos += 4 + body;
            }
            memmove(buf, buf + pos, len - pos);
            len -= pos;
        }
    }
    cr_assert(eof, "the server closed the connection");
    cr_assert_eq(len, 0, "no truncated frame before the end");
    cr_assert_gt(frames, 1);
    cr_assert_eq(last_type, 0x8f, "the last frame is an ERROR");
    cr_assert_eq(last_code, NETCORE_LOBBY_ERR_SLOW_READER);
    cr_assert_eq(a->disconnects, 0);
    close(fd);
    teardown(&f);
}
