/*
 * The session layer over real ENet on loopback: a game server with token
 * admission (and the guard's address proof, from the same key) and two
 * clients holding lobby-style tokens play for a few seconds of real time;
 * their predicted own state and their view of the other player end equal to
 * the server's. A client without a token is refused. Bounded: at most 8 s.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <time.h>

#include "test_session_game.h"

static void init_netcore(void)
{
    cr_assert_eq(netcore_init(), NETCORE_OK);
}
static void fini_netcore(void)
{
    netcore_shutdown();
}
TestSuite(session_enet, .init = init_netcore, .fini = fini_netcore, .timeout = 60);

#define PLAYERS 2
#define MOVE_TICKS 90u

static uint32_t first_tick[PLAYERS];

static void sample_input(void *user, netcore_game_client *client, uint32_t tick, void *out)
{
    int k = (int)(intptr_t)user;
    (void)client;
    tg_input in;
    memset(&in, 0, sizeof in);
    if (!first_tick[k])
        first_tick[k] = tick;
    if (tick - first_tick[k] < MOVE_TICKS) {
        in.mx = (int8_t)(k ? 1 : -1);
        in.my = 1;
    }
    memcpy(out, &in, sizeof in);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void make_token(const uint8_t *key, const netcore_address *server, uint64_t client_id,
                       netcore_session_keys *out_keys, uint8_t out[NETCORE_TOKEN_BYTES])
{
    netcore_token_params tp;
    memset(&tp, 0, sizeof tp);
    cr_assert_eq(netcore_session_keys_generate(&tp.session_keys), NETCORE_OK);
    *out_keys = tp.session_keys;
    tp.client_id = client_id;
    tp.match_id = 1;
    tp.server_address = *server;
    tp.create_time_s = (uint64_t)time(NULL);
    tp.lifetime_s = 60;
    netcore_address me = netcore_address_ipv4(127, 0, 0, 1, 0);
    cr_assert_eq(netcore_token_create_for_client(key, &tp, &me, out), NETCORE_OK);
}

Test(session_enet, token_holders_play_and_converge_on_loopback)
{
    tg_schema sc;
    tg_schema_make(&sc);
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    cr_assert_eq(netcore_token_key_generate(key), NETCORE_OK);

    netcore_game_server_config scfg;
    netcore_game_server_config_default(&scfg);
    tg_desc(&scfg.game, &sc);
    scfg.bind_address = netcore_address_ipv4(127, 0, 0, 1, 0);
    scfg.max_clients = 4;
    scfg.max_entities = 16;
    scfg.require_token = true;
    memcpy(scfg.token_key, key, sizeof key);
    netcore_game_server *server = NULL;
    cr_assert_eq(netcore_game_server_create(&scfg, &server), NETCORE_OK);
    netcore_address at;
    cr_assert_eq(netcore_game_server_address(server, &at), NETCORE_OK);

    netcore_game_client *clients[PLAYERS + 1];
    uint8_t tokens[PLAYERS][NETCORE_TOKEN_BYTES];
    netcore_session_keys keys[PLAYERS];
    for (int k = 0; k <= PLAYERS; k++) {
        netcore_game_client_config cc;
        netcore_game_client_config_default(&cc);
        tg_desc(&cc.game, &sc);
        cc.max_entities = 16;
        cc.sample_input = sample_input;
        cc.user = (void *)(intptr_t)k;
        cc.connect_timeout_ms = 3000;
        cr_assert_eq(netcore_game_client_create(&cc, &clients[k]), NETCORE_OK);
        if (k < PLAYERS) {
            make_token(key, &at, 100 + (uint64_t)k, &keys[k], tokens[k]);
            /* As the lobby's MATCH_START gives them: token, its address
             * proof for the guard, and the session keys. */
            netcore_connect_options opt = {
                tokens[k], NETCORE_TOKEN_BYTES,
                netcore_token_embedded_proof(tokens[k], NETCORE_TOKEN_BYTES), &keys[k]};
            cr_assert_eq(netcore_game_client_connect(clients[k], &at, &opt), NETCORE_OK);
        } else {
            cr_assert_eq(netcore_game_client_connect(clients[k], &at, NULL), NETCORE_OK);
        }
    }

    /* Play until both moved and rested for a while (bounded in time). */
    uint64_t start = netcore_time_now_us();
    while (netcore_time_now_us() - start < 6000000) {
        uint64_t now = netcore_time_now_us();
        cr_assert_eq(netcore_game_server_update(server, now), NETCORE_OK);
        for (int k = 0; k <= PLAYERS; k++)
            cr_assert_eq(netcore_game_client_update(clients[k], now), NETCORE_OK);
        bool rested = true;
        for (int k = 0; k < PLAYERS; k++) {
            uint32_t tick = 0;
            rested = rested && netcore_game_client_predicted_state(clients[k], &tick) &&
                     tick > first_tick[k] + MOVE_TICKS + 60;
        }
        if (rested &&
            netcore_game_client_get_state(clients[PLAYERS]) == NETCORE_GAME_CLIENT_DISCONNECTED)
            break;
        sleep_ms(1);
    }

    for (int k = 0; k < PLAYERS; k++) {
        cr_assert_eq(netcore_game_client_get_state(clients[k]), NETCORE_GAME_CLIENT_PLAYING,
                     "player %d", k);
        uint32_t me = netcore_game_client_index(clients[k]);
        const tg_state *truth = netcore_game_server_client_state(server, me);
        const tg_state *predicted = netcore_game_client_predicted_state(clients[k], NULL);
        cr_assert_not_null(predicted);
        cr_assert_eq(predicted->x, truth->x);
        cr_assert_eq(predicted->y, truth->y);
        cr_assert_neq(truth->y, 0, "player %d never moved", k);
        uint32_t other = netcore_game_client_index(clients[1 - k]);
        const tg_state *o = netcore_game_server_client_state(server, other);
        netcore_vec3 seen;
        cr_assert_eq(netcore_interp_get_vec3(netcore_game_client_interp(clients[k]),
                                             netcore_game_server_client_entity(server, other),
                                             sc.player_pos, &seen),
                     NETCORE_OK);
        cr_assert_lt(fabsf(seen.x - (float)o->x * TG_TO_UNITS), 1.0f / 256.0f);
        cr_assert_lt(fabsf(seen.y - (float)o->y * TG_TO_UNITS), 1.0f / 256.0f);
    }
    /* No token: the guard drops its CONNECT (no address proof), so it never connects. */
    cr_assert_eq(netcore_game_client_get_state(clients[PLAYERS]), NETCORE_GAME_CLIENT_DISCONNECTED);
    netcore_game_server_stats ss;
    netcore_game_server_get_stats(server, &ss);
    cr_assert_eq(ss.clients, PLAYERS);
    cr_assert_gt(ss.host.guard_proof_dropped, 0);

    for (int k = 0; k <= PLAYERS; k++)
        netcore_game_client_destroy(clients[k]);
    netcore_game_server_destroy(server);
    netcore_schema_destroy(sc.schema);
}
