/* The holes an outside client found, closed: rate limits that follow the
 * session and the address, random reconnect tokens, the version error of a
 * game server, a member kicked while away, nicknames that pass for others. */
#define _POSIX_C_SOURCE 200809L
#include "lobby_fixture.h"

#include "lobby/lobby_internal.h"

/* Sends PINGs until the lobby closes the connection for flooding. */
static void flood_until_closed(fixture *f, test_client *t)
{
    int before = t->disconnects;
    for (int i = 0; i < 40; i++)
        cr_assert_eq(netcore_lobby_client_ping(t->client, (uint64_t)i), NETCORE_OK);
    wait_for(f, &t->disconnects, before + 1, "flood disconnect");
    cr_assert_eq(t->last_error, NETCORE_LOBBY_ERR_RATE_LIMITED);
}

Test(lobby_holes, a_flooder_reconnecting_with_its_token_keeps_its_empty_bucket)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    /* Burst 10: a fresh bucket would take the 8 PINGs below; the bucket the
     * flood emptied refills 5 a second, so it takes them only after 1.6 s. */
    cfg.messages_per_s = 5;
    fixture f;
    start_server(&f, &cfg);
    test_client *t = connect_client_with(&f, 0, "flood");
    flood_until_closed(&f, t);
    /* Back at once with the token: the session is resumed, its bucket is not refilled. */
    cr_assert_eq(netcore_lobby_client_reconnect(t->client, &f.address, now_us()), NETCORE_OK);
    wait_for(&f, &t->welcomes, 2, "resumed welcome");
    cr_assert(t->resumed);
    int pongs = t->pongs;
    for (int i = 0; i < 8; i++)
        cr_assert_eq(netcore_lobby_client_ping(t->client, (uint64_t)i), NETCORE_OK);
    wait_for(&f, &t->disconnects, 2, "second flood disconnect");
    cr_assert_eq(t->last_error, NETCORE_LOBBY_ERR_RATE_LIMITED);
    cr_assert_lt(t->pongs - pongs, 8, "a fresh bucket would have answered all eight");
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(f.server, &st);
    cr_assert_eq(st.rate_limit_dropped, 2);
    teardown(&f);
}

Test(lobby_holes, a_flooding_address_is_barred_for_a_while)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.messages_per_s = 1;
    cfg.rate_limit_ban_ms = 60000;
    fixture f;
    start_server(&f, &cfg);
    test_client *t = connect_client_with(&f, 0, "flood");
    flood_until_closed(&f, t);
    /* A new session from the same address would start with a full bucket: refused. */
    test_client *again = add_client(&f, 0);
    cr_assert_eq(netcore_lobby_client_connect(again->client, &f.address, "fresh", now_us()),
                 NETCORE_OK);
    wait_for(&f, &again->disconnects, 1, "refused");
    cr_assert_eq(again->welcomes, 0);
    if (!lobby_tls_mode()) /* the refusal is a plaintext frame, before any handshake */
        cr_assert_eq(again->last_error, NETCORE_LOBBY_ERR_RATE_LIMITED);
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(f.server, &st);
    cr_assert_eq(st.connections_rejected_banned, 1);
    teardown(&f);
}

Test(lobby_holes, reconnect_tokens_are_random_and_renewed)
{
    SKIP_UNDER_TLS("reads WELCOME from a raw socket");
    fixture f;
    start_default_server(&f);
    uint8_t tokens[2][NETCORE_LOBBY_RECONNECT_TOKEN_BYTES];
    uint64_t ids[2];
    for (int k = 0; k < 2; k++) {
        int fd = raw_connect(&f.address);
        const uint8_t hello[] = {11, 0, 0, 0, 0x01, 0x4e, 0x43, 0x4c, 0x42, 3, 0, 3, 'a', 'n', 'a'};
        cr_assert_eq(send(fd, hello, sizeof hello, 0), (ssize_t)sizeof hello);
        uint8_t frame[256];
        size_t len = 0;
        uint64_t deadline = now_ms() + WAIT_MS;
        while (len < 4 + 1 + 2 + 8 + 24 && now_ms() < deadline) {
            pump_once(&f);
            ssize_t n = recv(fd, frame + len, sizeof frame - len, MSG_DONTWAIT);
            if (n > 0)
                len += (size_t)n;
        }
        cr_assert_geq(len, 39u);
        cr_assert_eq(frame[4], NCI_LOBBY_WELCOME);
        ids[k] = 0;
        for (int i = 7; i >= 0; i--)
            ids[k] = ids[k] << 8 | frame[7 + i];
        memcpy(tokens[k], frame + 15, NETCORE_LOBBY_RECONNECT_TOKEN_BYTES);
        close(fd);
    }
    /* Neither token begins with (or holds) its client id; they share nothing. */
    for (int k = 0; k < 2; k++)
        for (int at = 0; at + 8 <= NETCORE_LOBBY_RECONNECT_TOKEN_BYTES; at++) {
            uint64_t v = 0;
            for (int i = 7; i >= 0; i--)
                v = v << 8 | tokens[k][at + i];
            cr_assert_neq(v, ids[k], "token %d holds its client id at %d", k, at);
        }
    cr_assert_neq(memcmp(tokens[0] + 8, tokens[1] + 8, 16), 0);
    teardown(&f);
}

Test(lobby_holes, a_registration_of_another_version_gets_the_version_error)
{
    SKIP_UNDER_TLS("raw TCP frames");
    fixture f;
    start_default_server(&f);
    nci_lobby_msg m;
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_SERVER_REGISTER;
    m.u.server_register.version = 9;
    m.u.server_register.game_address = netcore_address_ipv4(127, 0, 0, 1, 40000);
    m.u.server_register.capacity = 8;
    m.u.server_register.time_s = token_clock_s;
    uint8_t frame[256];
    size_t size = 0;
    cr_assert_eq(nci_lobby_encode(&m, frame, sizeof frame, &size), NETCORE_OK);
    /* A correct digest: only the version is wrong. */
    nci_lobby_register_mac(lobby_key, frame + 4, size - 4 - NCI_LOBBY_MAC_BYTES,
                           frame + size - NCI_LOBBY_MAC_BYTES);
    int fd = raw_connect(&f.address);
    cr_assert_eq(send(fd, frame, size, 0), (ssize_t)size);
    cr_assert_eq(wait_closed(&f, fd), NETCORE_LOBBY_ERR_VERSION);
    close(fd);
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(f.server, &st);
    cr_assert_eq(st.version_rejected, 1);
    cr_assert_eq(st.registrations_rejected, 1);
    teardown(&f);
}

Test(lobby_holes, a_member_kicked_while_away_learns_it_on_reconnect)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.idle_timeout_ms = 500;
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client_with(&f, 100, "owner");
    test_client *b = connect_client_with(&f, 0, "away"); /* silent: dropped for idleness */
    create_room(&f, a, "kick", 4, NULL);
    join(&f, b, a->room.room_id, 2);
    wait_for(&f, &b->disconnects, 1, "idle drop");
    cr_assert_eq(b->room_left, 0);
    cr_assert_eq(netcore_lobby_client_kick(a->client, b->id), NETCORE_OK);
    wait_members(&f, a, 1);
    cr_assert_eq(netcore_lobby_client_reconnect(b->client, &f.address, now_us()), NETCORE_OK);
    wait_for(&f, &b->room_left, 1, "ROOM_LEFT after the reconnect");
    cr_assert_eq(b->leave_reason, NETCORE_LOBBY_KICKED);
    cr_assert(b->resumed);
    teardown(&f);
}

Test(lobby_holes, the_client_refuses_invisible_and_bidi_nicknames_locally)
{
    fixture f;
    start_default_server(&f);
    test_client *t = add_client(&f, 0);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &f.address,
                                              "\xe2\x80\xae"
                                              "nimda",
                                              now_us()),
                 NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &f.address, "\xe2\x80\x8b", now_us()),
                 NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &f.address, "bob\xef\xbf\xbf", now_us()),
                 NETCORE_ERR_INVALID_ARGUMENT);
    teardown(&f);
}

Test(lobby_holes, the_server_closes_a_hello_with_a_bidi_override)
{
    SKIP_UNDER_TLS("raw TCP frames");
    fixture f;
    start_default_server(&f);
    int fd = raw_connect(&f.address);
    const uint8_t hello[] = {14, 0, 0, 0,    0x01, 0x4e, 0x43, 0x4c, 0x42,
                             3,  0, 6, 0xe2, 0x80, 0xae, 'b',  'o',  'b'};
    cr_assert_eq(send(fd, hello, sizeof hello, 0), (ssize_t)sizeof hello);
    cr_assert_eq(wait_closed(&f, fd), NETCORE_LOBBY_ERR_MALFORMED);
    close(fd);
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(f.server, &st);
    cr_assert_eq(st.sessions, 0);
    teardown(&f);
}
