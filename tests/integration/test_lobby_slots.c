/* Lobby server bookkeeping that must stay exact while connection and session
 * slots are handed out from free lists and timeouts are checked only when
 * one is due: slots reused round after round, fresh client ids every time,
 * counts that return to zero, and a closing connection whose peer neither
 * reads nor closes still let go of after the linger. */
#define _POSIX_C_SOURCE 200809L
#include "lobby_fixture.h"

#define ROUNDS 5
#define PER_ROUND 3

static void wait_counts(fixture *f, uint32_t connections, uint32_t sessions)
{
    netcore_lobby_server_stats stats;
    memset(&stats, 0, sizeof stats);
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && now_ms() < deadline; i++) {
        pump_once(f);
        netcore_lobby_server_get_stats(f->server, &stats);
        if (stats.connections == connections && stats.sessions == sessions)
            break;
    }
    cr_assert_eq(stats.connections, connections);
    cr_assert_eq(stats.sessions, sessions);
}

Test(lobby_slots, slots_are_reused_and_every_welcome_has_a_fresh_id)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.max_connections = PER_ROUND;
    fixture f;
    start_server(&f, &cfg);
    uint64_t ids[ROUNDS * PER_ROUND];
    size_t id_count = 0;
    for (int round = 0; round < ROUNDS; round++) {
        f.client_count = 0;
        for (int i = 0; i < PER_ROUND; i++) {
            test_client *t = connect_client(&f, "slot");
            for (size_t k = 0; k < id_count; k++)
                cr_assert_neq(ids[k], t->id, "client id %llu handed out twice",
                              (unsigned long long)t->id);
            ids[id_count++] = t->id;
        }
        wait_counts(&f, PER_ROUND, PER_ROUND);
        /* GOODBYE frees the seat at once: both tables empty again. */
        for (int i = 0; i < PER_ROUND; i++)
            cr_assert_eq(netcore_lobby_client_disconnect(f.clients[i].client), NETCORE_OK);
        wait_counts(&f, 0, 0);
        for (int i = 0; i < PER_ROUND; i++) {
            netcore_lobby_client_destroy(f.clients[i].client);
            memset(&f.clients[i], 0, sizeof f.clients[i]);
        }
    }
    f.client_count = 0;
    teardown(&f);
}

Test(lobby_slots, a_closing_connection_that_never_closes_is_released_after_the_linger)
{
    SKIP_UNDER_TLS("raw TCP frames");
    fixture f;
    start_default_server(&f);
    test_client *a = connect_client(&f, "stays");
    int fd = raw_connect(&f.address);
    /* A frame whose length prefix is 0: malformed, the server closes. */
    const uint8_t empty[] = {0, 0, 0, 0};
    cr_assert_eq(send(fd, empty, sizeof empty, 0), (ssize_t)sizeof empty);
    cr_assert_eq(wait_closed(&f, fd), NETCORE_LOBBY_ERR_MALFORMED);
    /* fd stays open and unread from here: only the linger deadline ends it. */
    wait_counts(&f, 1, 1);
    cr_assert_eq(netcore_lobby_client_ping(a->client, 7), NETCORE_OK);
    wait_for(&f, &a->pongs, 1, "pong from the remaining client");
    close(fd);
    teardown(&f);
}
