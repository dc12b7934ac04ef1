/*
 * The session layer over the simulated network: a game server and several
 * game clients in one process, in simulated time (deterministic, no sleeps).
 * Checks that players join and see each other, that remote and predicted
 * state converge under loss and latency, that prediction reconciles (no
 * correction on a clean link, a correction after a server-side push), that
 * a lag-compensated shot hits what the shooter saw, that mismatched games
 * and missing tokens are refused.
 */
#include <stdio.h>

#include "netcode/session_internal.h"
#include "test_session_game.h"

#define MAX_TEST_CLIENTS 4
#define FRAME_US 4000u
#define HIT_RADIUS 0.05f

typedef struct world world;

typedef struct client_ctx {
    world *w;
    int k;
    netcore_game_client *client;
} client_ctx;

struct world {
    tg_schema sc;
    netcore_sim *sim;
    netcore_game_server *server;
    client_ctx clients[MAX_TEST_CLIENTS];
    int count;
    uint32_t move_until_tick; /* clients press keys before this tick */
    bool fire;                /* clients shoot at the bot every 20 ticks */
    uint32_t push_tick;       /* the server pushes every player at this tick (0: never) */
    netcore_entity_id bot;
    bool game_steps; /* the server steps players in on_tick (game_steps_players) */
    uint32_t shots, hits, hits_without_rewind, joins, leaves;
};

/* ---- the game's callbacks ---- */

static float bot_x_at(uint32_t tick)
{
    return -200.0f + 0.1f * (float)tick; /* fast enough that a shot at the present misses */
}

static void sample_input(void *user, netcore_game_client *client, uint32_t tick, void *out)
{
    client_ctx *cx = user;
    tg_input in;
    memset(&in, 0, sizeof in);
    if (tick < cx->w->move_until_tick) {
        in.mx = (int8_t)(cx->k % 2 ? 1 : -1);
        in.my = (int8_t)((tick / 30) % 2 ? 1 : -1);
    }
    if (cx->w->fire && tick % 20 == 0) {
        netcore_interp *interp = netcore_game_client_interp(client);
        netcore_vec3 aim;
        if (netcore_interp_get_vec3(interp, cx->w->bot, cx->w->sc.bot_pos, &aim) == NETCORE_OK) {
            in.fire = 1;
            in.aim_x = aim.x;
            in.aim_y = aim.y;
        }
    }
    memcpy(out, &in, sizeof in);
}

static void on_join(void *user, netcore_game_server *server, uint32_t client,
                    netcore_entity_id entity)
{
    world *w = user;
    (void)entity;
    tg_state *st = netcore_game_server_client_state(server, client);
    st->x = (int32_t)client * 1000;
    st->y = 0;
    w->joins++;
}

static void on_leave(void *user, netcore_game_server *server, uint32_t client,
                     netcore_entity_id entity)
{
    (void)server;
    (void)client;
    (void)entity;
    ((world *)user)->leaves++;
}

static float distance(netcore_vec3 a, float x, float y)
{
    return hypotf(a.x - x, a.y - y);
}

static void judge_shots(world *w, netcore_game_server *server, netcore_vec3 bot_now)
{
    for (uint32_t i = 0; i < MAX_TEST_CLIENTS; i++) {
        netcore_input_source source;
        const tg_input *in = netcore_game_server_client_input(server, i, &source);
        if (!in || !in->fire || source != NETCORE_INPUT_RECEIVED)
            continue;
        netcore_vec3 seen;
        w->shots++;
        if (netcore_game_server_rewind(server, i, w->bot, &seen, NULL) == NETCORE_OK &&
            distance(seen, in->aim_x, in->aim_y) < HIT_RADIUS)
            w->hits++;
        w->hits_without_rewind += distance(bot_now, in->aim_x, in->aim_y) < HIT_RADIUS;
    }
}

/* game_steps_players: the game steps each player with the input the session took. */
static void step_players_in_game(world *w, netcore_game_server *server)
{
    for (uint32_t i = 0; w->game_steps && i < MAX_TEST_CLIENTS; i++) {
        tg_state *st = netcore_game_server_client_state(server, i);
        const tg_input *in = netcore_game_server_client_input(server, i, NULL);
        if (st && in) {
            st->x += in->mx * TG_STEP;
            st->y += in->my * TG_STEP;
        }
    }
}

static void on_tick(void *user, netcore_game_server *server, uint32_t tick)
{
    world *w = user;
    netcore_snapshot_server *snap = netcore_game_server_snapshot(server);
    step_players_in_game(w, server);
    if (w->bot == NETCORE_ENTITY_NONE)
        cr_assert_eq(netcore_snapshot_server_entity_create(snap, w->sc.type_bot, &w->bot),
                     NETCORE_OK);
    judge_shots(w, server, (netcore_vec3){bot_x_at(tick - 1), 5.0f, 0.0f});
    netcore_vec3 pos = {bot_x_at(tick), 5.0f, 0.0f};
    netcore_snapshot_server_set_vec3(snap, w->bot, w->sc.bot_pos, pos);
    /* Record what clients will decode (the quantized value), for an exact match. */
    netcore_snapshot_server_get_vec3(snap, w->bot, w->sc.bot_pos, &pos);
    cr_assert_eq(netcore_game_server_record(server, w->bot, pos), NETCORE_OK);
    if (tick == w->push_tick) {
        for (uint32_t i = 0; i < MAX_TEST_CLIENTS; i++) {
            tg_state *st = netcore_game_server_client_state(server, i);
            if (st)
                st->x += 2000;
        }
    }
}

/* ---- harness ---- */

static void world_start_with(world *w, int clients, netcore_link_preset preset, bool require_token,
                             bool game_steps)
{
    memset(w, 0, sizeof *w);
    w->game_steps = game_steps;
    w->count = clients;
    w->move_until_tick = 400;
    tg_schema_make(&w->sc);
    netcore_sim_config simc;
    netcore_sim_config_default(&simc);
    simc.seed = 15;
    cr_assert_eq(netcore_sim_create(&simc, &w->sim), NETCORE_OK);
    netcore_game_server_config sc;
    netcore_game_server_config_default(&sc);
    tg_desc(&sc.game, &w->sc);
    sc.sim = w->sim;
    sc.max_clients = MAX_TEST_CLIENTS;
    sc.max_entities = 64;
    sc.on_tick = on_tick;
    sc.on_join = on_join;
    sc.on_leave = on_leave;
    sc.user = w;
    sc.require_token = require_token;
    memset(sc.token_key, 7, sizeof sc.token_key);
    sc.public_address = netcore_address_ipv4(10, 0, 0, 1, 7000);
    sc.game_steps_players = game_steps;
    cr_assert_eq(netcore_game_server_create(&sc, &w->server), NETCORE_OK);
    for (int k = 0; k < clients; k++) {
        netcore_game_client_config cc;
        netcore_game_client_config_default(&cc);
        tg_desc(&cc.game, &w->sc);
        cc.sim = w->sim;
        cc.max_entities = 64;
        cc.conditioner.enabled = preset != NETCORE_LINK_PERFECT;
        cc.conditioner.seed = (uint64_t)k + 1;
        cc.conditioner.inbound = netcore_link_preset_profile(preset);
        cc.conditioner.outbound = cc.conditioner.inbound;
        cc.sample_input = sample_input;
        cc.user = &w->clients[k];
        w->clients[k].w = w;
        w->clients[k].k = k;
        cr_assert_eq(netcore_game_client_create(&cc, &w->clients[k].client), NETCORE_OK);
    }
}

static void world_start(world *w, int clients, netcore_link_preset preset, bool require_token)
{
    world_start_with(w, clients, preset, require_token, false);
}

static void connect_all(world *w)
{
    netcore_address to;
    cr_assert_eq(netcore_game_server_address(w->server, &to), NETCORE_OK);
    for (int k = 0; k < w->count; k++)
        cr_assert_eq(netcore_game_client_connect(w->clients[k].client, &to, NULL), NETCORE_OK);
}

static void run(world *w, uint64_t duration_us)
{
    for (uint64_t t = 0; t < duration_us; t += FRAME_US) {
        netcore_sim_advance(w->sim, FRAME_US);
        uint64_t now = netcore_sim_now_us(w->sim);
        cr_assert_eq(netcore_game_server_update(w->server, now), NETCORE_OK);
        for (int k = 0; k < w->count; k++)
            cr_assert_eq(netcore_game_client_update(w->clients[k].client, now), NETCORE_OK);
    }
}

static void world_stop(world *w)
{
    for (int k = 0; k < w->count; k++)
        netcore_game_client_destroy(w->clients[k].client);
    netcore_game_server_destroy(w->server); /* NULL is ignored */
    netcore_sim_destroy(w->sim);
    netcore_schema_destroy(w->sc.schema);
}

/* Every client's view of every other player equals the server's state (to
 * the display field's precision), and its own prediction equals its state. */
static void assert_converged(world *w)
{
    for (int k = 0; k < w->count; k++) {
        netcore_game_client *c = w->clients[k].client;
        cr_assert_eq(netcore_game_client_get_state(c), NETCORE_GAME_CLIENT_PLAYING, "client %d", k);
        uint32_t me = netcore_game_client_index(c);
        const tg_state *predicted = netcore_game_client_predicted_state(c, NULL);
        cr_assert_not_null(predicted);
        const tg_state *truth = netcore_game_server_client_state(w->server, me);
        cr_assert_eq(predicted->x, truth->x, "client %d predicts x %d, server %d", k, predicted->x,
                     truth->x);
        cr_assert_eq(predicted->y, truth->y, "client %d predicts y %d, server %d", k, predicted->y,
                     truth->y);
        for (uint32_t other = 0; other < MAX_TEST_CLIENTS; other++) {
            const tg_state *st = netcore_game_server_client_state(w->server, other);
            if (!st || other == me)
                continue;
            netcore_vec3 seen;
            netcore_entity_id e = netcore_game_server_client_entity(w->server, other);
            cr_assert_eq(
                netcore_interp_get_vec3(netcore_game_client_interp(c), e, w->sc.player_pos, &seen),
                NETCORE_OK);
            cr_assert_lt(distance(seen, (float)st->x * TG_TO_UNITS, (float)st->y * TG_TO_UNITS),
                         1.0f / 256.0f, "client %d sees player %u at %f,%f", k, other,
                         (double)seen.x, (double)seen.y);
        }
    }
}

/* Every client ran its ticks and never had to correct its prediction. */
static void assert_predicted_exactly(world *w)
{
    for (int k = 0; k < w->count; k++) {
        netcore_game_client_stats cs;
        netcore_game_client_get_stats(w->clients[k].client, &cs);
        cr_assert_gt(cs.ticks_run, 300);
        cr_assert_eq(cs.corrections, 0, "client %d corrected %llu times", k,
                     (unsigned long long)cs.corrections);
    }
}

Test(session, players_join_get_entities_and_see_each_other)
{
    world w;
    world_start(&w, 3, NETCORE_LINK_PERFECT, false);
    connect_all(&w);
    run(&w, 1000000);
    cr_assert_eq(w.joins, 3);
    for (int k = 0; k < 3; k++) {
        netcore_game_client *c = w.clients[k].client;
        cr_assert_eq(netcore_game_client_get_state(c), NETCORE_GAME_CLIENT_PLAYING);
        cr_assert_eq(netcore_game_client_entity(c),
                     netcore_game_server_client_entity(w.server, netcore_game_client_index(c)));
        /* Three players and the bot. */
        cr_assert_eq(netcore_interp_entity_count(netcore_game_client_interp(c)), 4);
    }
    world_stop(&w);
}

/* The net-graph figures cover the last full second: the snapshot rate is the
 * configured one while the server runs, and falls to zero, with every frame
 * extrapolated or held, while it is silent; both recover once it is back. */
Test(session, the_rate_figures_follow_the_last_second)
{
    world w;
    world_start(&w, 1, NETCORE_LINK_PERFECT, false);
    connect_all(&w);
    run(&w, 3000000);
    netcore_game_client *c = w.clients[0].client;
    netcore_game_client_stats cs;
    netcore_game_desc d;
    tg_desc(&d, &w.sc);
    float rate = (float)d.tick_rate_hz / (float)d.snapshot_every_ticks;
    cr_assert_eq(netcore_game_client_get_stats(c, &cs), NETCORE_OK);
    cr_assert_float_eq(cs.snapshot_rate_hz, rate, 2.0f, "%f snapshots/s",
                       (double)cs.snapshot_rate_hz);
    cr_assert_lt(cs.recent_extrapolated_pct, 5.0f);
    for (uint64_t t = 0; t < 2500000; t += FRAME_US) { /* the server is silent */
        netcore_sim_advance(w.sim, FRAME_US);
        cr_assert_eq(netcore_game_client_update(c, netcore_sim_now_us(w.sim)), NETCORE_OK);
    }
    netcore_game_client_get_stats(c, &cs);
    cr_assert_eq(cs.snapshot_rate_hz, 0.0f);
    cr_assert_gt(cs.recent_extrapolated_pct, 99.0f);
    cr_assert_lt(cs.extrapolated_pct, cs.recent_extrapolated_pct);
    /* The server skipped the ticks it missed, so its ticks now run 2.5 s
     * behind the clock the client learned. Once the clock sync has taken
     * that step back (half its sample window, about a second), the view
     * renders from the buffer again rather than holding until the old
     * render time comes round (2.5 s more). */
    run(&w, 3000000);
    netcore_interp_stats is;
    netcore_interp_get_stats(netcore_game_client_interp(c), &is);
    cr_assert_eq(is.clock_steps_back, 1u);
    netcore_game_client_get_stats(c, &cs);
    cr_assert_eq(netcore_game_client_get_state(c), NETCORE_GAME_CLIENT_PLAYING);
    cr_assert_float_eq(cs.snapshot_rate_hz, rate, 2.0f, "%f snapshots/s",
                       (double)cs.snapshot_rate_hz);
    cr_assert_lt(cs.recent_extrapolated_pct, 5.0f);
    world_stop(&w);
}

Test(session, remote_and_predicted_state_converge_under_loss_and_latency)
{
    world w;
    world_start(&w, 4, NETCORE_LINK_BAD, false);
    connect_all(&w);
    run(&w, 12000000); /* moves until tick 400 (6.7 s), then rests */
    assert_converged(&w);
    netcore_game_server_stats ss;
    cr_assert_eq(netcore_game_server_get_stats(w.server, &ss), NETCORE_OK);
    cr_assert_eq(ss.clients, 4);
    cr_assert_eq(ss.input_rejected + ss.acks_rejected + ss.hello_rejected, 0);
    for (int k = 0; k < 4; k++) {
        netcore_game_client_stats cs;
        cr_assert_eq(netcore_game_client_get_stats(w.clients[k].client, &cs), NETCORE_OK);
        cr_assert_gt(cs.snapshots_decoded, 100);
        cr_assert_eq(cs.snapshots_rejected, 0);
        cr_assert_gt(cs.acked_input_tick, 400, "inputs acknowledged up to tick %u",
                     cs.acked_input_tick);
    }
    world_stop(&w);
}

Test(session, prediction_needs_no_correction_on_a_clean_link)
{
    world w;
    world_start(&w, 2, NETCORE_LINK_LAN, false);
    connect_all(&w);
    run(&w, 8000000);
    assert_converged(&w);
    assert_predicted_exactly(&w);
    world_stop(&w);
}

Test(session, a_game_that_steps_its_players_itself_is_predicted_exactly)
{
    world w;
    world_start_with(&w, 2, NETCORE_LINK_LAN, false, true);
    connect_all(&w);
    run(&w, 8000000);
    assert_converged(&w);
    /* Had the session stepped them too, each player would move twice as
     * far on the server as its prediction: corrections, no convergence. */
    assert_predicted_exactly(&w);
    world_stop(&w);
}

Test(session, prediction_reconciles_a_server_side_push)
{
    world w;
    world_start(&w, 2, NETCORE_LINK_WIFI, false);
    w.push_tick = 200;
    connect_all(&w);
    run(&w, 10000000);
    assert_converged(&w);
    for (int k = 0; k < 2; k++) {
        netcore_game_client_stats cs;
        netcore_game_client_get_stats(w.clients[k].client, &cs);
        cr_assert_geq(cs.corrections, 1, "client %d never corrected the push", k);
    }
    world_stop(&w);
}

Test(session, lag_compensated_shots_hit_what_the_shooter_saw)
{
    world w;
    world_start(&w, 2, NETCORE_LINK_4G, false);
    w.fire = true;
    connect_all(&w);
    run(&w, 8000000);
    cr_assert_gt(w.shots, 20);
    /* A shot whose input arrived may still miss when a late snapshot made
     * the client extrapolate; the rewind must make nearly all of them hit,
     * the present position almost none. */
    cr_assert_geq(w.hits * 100, w.shots * 95, "%u of %u shots hit", w.hits, w.shots);
    cr_assert_leq(w.hits_without_rewind * 10, w.shots, "%u hit without rewind",
                  w.hits_without_rewind);
    world_stop(&w);
}

Test(session, a_client_leaving_frees_its_player)
{
    world w;
    world_start(&w, 2, NETCORE_LINK_PERFECT, false);
    connect_all(&w);
    run(&w, 1000000);
    cr_assert_eq(netcore_game_client_disconnect(w.clients[1].client), NETCORE_OK);
    run(&w, 1000000);
    cr_assert_eq(netcore_game_client_get_state(w.clients[1].client),
                 NETCORE_GAME_CLIENT_DISCONNECTED);
    cr_assert_eq(w.leaves, 1);
    /* One player and the bot left on the remaining client. */
    cr_assert_eq(netcore_interp_entity_count(netcore_game_client_interp(w.clients[0].client)), 2);
    world_stop(&w);
}

Test(session, a_client_of_another_game_is_refused)
{
    world w;
    world_start(&w, 1, NETCORE_LINK_PERFECT, false);
    netcore_game_client_config cc;
    netcore_game_client_config_default(&cc);
    tg_desc(&cc.game, &w.sc);
    cc.game.snapshot_every_ticks = 3;
    cc.sim = w.sim;
    netcore_game_client *odd = NULL;
    cr_assert_eq(netcore_game_client_create(&cc, &odd), NETCORE_OK);
    netcore_address to;
    netcore_game_server_address(w.server, &to);
    cr_assert_eq(netcore_game_client_connect(odd, &to, NULL), NETCORE_OK);
    for (int i = 0; i < 250; i++) {
        netcore_sim_advance(w.sim, FRAME_US);
        netcore_game_server_update(w.server, netcore_sim_now_us(w.sim));
        netcore_game_client_update(odd, netcore_sim_now_us(w.sim));
    }
    netcore_game_client_stats cs;
    netcore_game_client_get_stats(odd, &cs);
    cr_assert_eq(cs.state, NETCORE_GAME_CLIENT_DISCONNECTED);
    cr_assert_eq(cs.disconnect_code, NETCORE_ERR_MISMATCH);
    netcore_game_server_stats ss;
    netcore_game_server_get_stats(w.server, &ss);
    cr_assert_eq(ss.hello_rejected, 1);
    cr_assert_eq(ss.clients, 0);
    netcore_game_client_destroy(odd);
    world_stop(&w);
}

static uint64_t fixed_clock(void *user)
{
    (void)user;
    return 1000000;
}

Test(session, token_admission_lets_token_holders_in_and_refuses_the_rest)
{
    world w;
    world_start(&w, 2, NETCORE_LINK_PERFECT, true);
    /* Recreate the server with the test clock so that tokens never expire. */
    netcore_game_server_destroy(w.server);
    netcore_game_server_config sc;
    netcore_game_server_config_default(&sc);
    tg_desc(&sc.game, &w.sc);
    sc.sim = w.sim;
    sc.max_clients = MAX_TEST_CLIENTS;
    sc.max_entities = 64;
    sc.user = &w;
    sc.on_join = on_join;
    sc.require_token = true;
    memset(sc.token_key, 7, sizeof sc.token_key);
    sc.public_address = netcore_address_ipv4(10, 0, 0, 1, 7000);
    sc.token_clock = fixed_clock;
    cr_assert_eq(netcore_game_server_create(&sc, &w.server), NETCORE_OK);

    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    memset(key, 7, sizeof key);
    netcore_token_params tp;
    memset(&tp, 0, sizeof tp);
    tp.client_id = 42;
    tp.match_id = 9;
    tp.server_address = sc.public_address;
    tp.create_time_s = fixed_clock(NULL);
    tp.lifetime_s = 60;
    cr_assert_eq(netcore_session_keys_generate(&tp.session_keys), NETCORE_OK);
    uint8_t token[NETCORE_TOKEN_BYTES];
    cr_assert_eq(netcore_token_create(key, &tp, token), NETCORE_OK);
    netcore_connect_options opt = {token, sizeof token, 0, &tp.session_keys};
    netcore_address to;
    netcore_game_server_address(w.server, &to);
    cr_assert_eq(netcore_game_client_connect(w.clients[0].client, &to, &opt), NETCORE_OK);
    cr_assert_eq(netcore_game_client_connect(w.clients[1].client, &to, NULL), NETCORE_OK);
    run(&w, 3000000);

    cr_assert_eq(netcore_game_client_get_state(w.clients[0].client), NETCORE_GAME_CLIENT_PLAYING);
    netcore_token_info info;
    uint32_t index = netcore_game_client_index(w.clients[0].client);
    cr_assert_eq(netcore_game_server_client_token(w.server, index, &info), NETCORE_OK);
    cr_assert_eq(info.client_id, 42);
    cr_assert_eq(info.match_id, 9);
    netcore_game_client_stats cs;
    netcore_game_client_get_stats(w.clients[0].client, &cs);
    cr_assert(cs.sealed, "the token's session keys seal the player's traffic");
    netcore_game_client_get_stats(w.clients[1].client, &cs);
    cr_assert_eq(cs.state, NETCORE_GAME_CLIENT_DISCONNECTED);
    cr_assert_eq(cs.disconnect_reason, NETCORE_DISCONNECT_REJECTED);
    netcore_game_server_stats ss;
    netcore_game_server_get_stats(w.server, &ss);
    cr_assert_eq(ss.clients, 1);
    cr_assert_eq(ss.host.admission_rejected, 1);
    world_stop(&w);
}

Test(session, bad_configs_are_refused)
{
    tg_schema sc;
    tg_schema_make(&sc);
    netcore_game_server_config c;
    netcore_game_server_config_default(&c);
    tg_desc(&c.game, &sc);
    netcore_game_server *s = NULL;
    c.game.player_tick_field = sc.player_x; /* signed: not a tick */
    cr_assert_eq(netcore_game_server_create(&c, &s), NETCORE_ERR_INVALID_ARGUMENT);
    tg_desc(&c.game, &sc);
    c.game.write_state = NULL;
    cr_assert_eq(netcore_game_server_create(&c, &s), NETCORE_ERR_INVALID_ARGUMENT);
    tg_desc(&c.game, &sc);
    c.game.input_size_bytes = NETCORE_SESSION_MAX_INPUT_BYTES + 1;
    cr_assert_eq(netcore_game_server_create(&c, &s), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_game_client_config cc;
    netcore_game_client_config_default(&cc);
    tg_desc(&cc.game, &sc);
    cc.game.read_state = NULL;
    netcore_game_client *client = NULL;
    cr_assert_eq(netcore_game_client_create(&cc, &client), NETCORE_ERR_INVALID_ARGUMENT);
    tg_desc(&cc.game, &sc);
    cc.sync_snapshots = 0;
    cr_assert_eq(netcore_game_client_create(&cc, &client), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_null(client);
    cr_assert_null(s);
    netcore_schema_destroy(sc.schema);
}

/* ---- hostile peers: every bad byte is refused and counted ---- */

static netcore_host *raw_host(world *w, bool is_server)
{
    netcore_host_config hc;
    netcore_host_config_default(&hc);
    hc.sim = w->sim;
    hc.is_server = is_server;
    hc.channel_count = NETCORE_SESSION_CHANNELS;
    hc.channels[0].delivery = NETCORE_DELIVERY_RELIABLE_ORDERED;
    hc.channels[1].delivery = NETCORE_DELIVERY_UNRELIABLE_UNORDERED;
    netcore_host *h = NULL;
    cr_assert_eq(netcore_host_create(&hc, &h), NETCORE_OK);
    return h;
}

/* Runs the world and drains a raw host for `frames` frames; returns the last
 * event type seen for the raw host's peer and fills *out_peer on CONNECT. */
static netcore_event_type pump(world *w, netcore_host *raw, int frames, netcore_peer_id *out_peer)
{
    netcore_event_type last = NETCORE_EVENT_NONE;
    for (int i = 0; i < frames; i++) {
        netcore_sim_advance(w->sim, FRAME_US);
        uint64_t now = netcore_sim_now_us(w->sim);
        if (w->server)
            netcore_game_server_update(w->server, now);
        for (int k = 0; k < w->count; k++)
            netcore_game_client_update(w->clients[k].client, now);
        netcore_event ev;
        while (netcore_host_poll(raw, 0, &ev) == NETCORE_OK && ev.type != NETCORE_EVENT_NONE) {
            if (ev.type == NETCORE_EVENT_CONNECT && out_peer)
                *out_peer = ev.peer;
            if (ev.type != NETCORE_EVENT_RECEIVE)
                last = ev.type;
        }
    }
    return last;
}

Test(session, a_server_refuses_and_counts_garbage_from_a_client)
{
    world w;
    world_start(&w, 0, NETCORE_LINK_PERFECT, false);
    netcore_host *raw = raw_host(&w, false);
    netcore_address to;
    netcore_game_server_address(w.server, &to);
    netcore_peer_id server = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(raw, &to, NULL, &server), NETCORE_OK);
    cr_assert_eq(pump(&w, raw, 50, NULL), NETCORE_EVENT_CONNECT);
    uint8_t junk[40];
    memset(junk, 0x5A, sizeof junk);
    /* Inputs before HELLO: not a player yet. */
    netcore_host_send(raw, server, 1, junk, sizeof junk);
    pump(&w, raw, 20, NULL);
    /* A valid HELLO, then input packets that do not decode. */
    nci_session_hello h =
        nci_session_hello_of(&(netcore_game_desc){.schema = w.sc.schema,
                                                  .tick_rate_hz = 60,
                                                  .snapshot_every_ticks = 2,
                                                  .input_size_bytes = sizeof(tg_input)});
    uint8_t hello[NCI_SESSION_HELLO_BYTES];
    nci_session_write_hello(&h, hello);
    netcore_host_send(raw, server, 0, hello, sizeof hello);
    pump(&w, raw, 20, NULL);
    netcore_host_send(raw, server, 1, junk, sizeof junk);
    pump(&w, raw, 20, NULL);
    netcore_game_server_stats ss;
    netcore_game_server_get_stats(w.server, &ss);
    cr_assert_eq(ss.messages_dropped, 1);
    cr_assert_eq(ss.clients, 1);
    cr_assert_eq(ss.input_rejected, 1);
    /* A second HELLO is a protocol error: the peer is dropped, its player freed. */
    netcore_host_send(raw, server, 0, junk, 3);
    cr_assert_eq(pump(&w, raw, 100, NULL), NETCORE_EVENT_DISCONNECT);
    netcore_game_server_get_stats(w.server, &ss);
    cr_assert_eq(ss.hello_rejected, 1);
    cr_assert_eq(ss.clients, 0);
    cr_assert_eq(ss.leaves, 1);
    netcore_host_destroy(raw);
    world_stop(&w);
}

Test(session, a_client_refuses_and_counts_garbage_from_a_server)
{
    world w;
    world_start(&w, 1, NETCORE_LINK_PERFECT, false);
    netcore_game_server_destroy(w.server);
    w.server = NULL;
    netcore_host *raw = raw_host(&w, true);
    netcore_address to;
    netcore_host_address(raw, &to);
    netcore_game_client *c = w.clients[0].client;
    cr_assert_eq(netcore_game_client_connect(c, &to, NULL), NETCORE_OK);
    netcore_peer_id peer = NETCORE_PEER_NONE;
    pump(&w, raw, 50, &peer);
    cr_assert_neq(peer, NETCORE_PEER_NONE);
    nci_session_welcome wel = {0, 0x00010001u, 60, 2};
    uint8_t welcome[NCI_SESSION_WELCOME_BYTES];
    nci_session_write_welcome(&wel, welcome);
    netcore_host_send(raw, peer, 0, welcome, sizeof welcome);
    pump(&w, raw, 20, NULL);
    cr_assert_eq(netcore_game_client_get_state(c), NETCORE_GAME_CLIENT_PLAYING);
    uint8_t junk[64];
    memset(junk, 0xC3, sizeof junk);
    for (int i = 0; i < 5; i++)
        netcore_host_send(raw, peer, 1, junk, sizeof junk - (size_t)i);
    pump(&w, raw, 20, NULL);
    netcore_game_client_stats cs;
    netcore_game_client_get_stats(c, &cs);
    cr_assert_eq(cs.snapshots_rejected, 5);
    cr_assert_eq(cs.snapshots_decoded, 0);
    cr_assert_eq(cs.state, NETCORE_GAME_CLIENT_PLAYING);
    /* A malformed WELCOME ends the connection. */
    netcore_host_send(raw, peer, 0, junk, 7);
    pump(&w, raw, 100, NULL);
    netcore_game_client_get_stats(c, &cs);
    cr_assert_eq(cs.welcome_rejected, 1);
    cr_assert_eq(cs.state, NETCORE_GAME_CLIENT_DISCONNECTED);
    netcore_host_destroy(raw);
    world_stop(&w);
}

/* ---- the game's own channels and kicks ---- */

typedef struct chatter {
    uint32_t server_got, client_got;
    uint8_t last_channel;
    char last[16];
} chatter;

static chatter chat_log;

static void server_message(void *user, netcore_game_server *server, uint32_t client,
                           uint8_t channel, const uint8_t *data, size_t size)
{
    (void)user;
    chat_log.server_got++;
    chat_log.last_channel = channel;
    /* Echo to the sender and tell everyone on the other channel. */
    netcore_game_server_send(server, client, channel, data, size);
    netcore_game_server_broadcast(server, 1, "all", 3);
}

static void client_message(void *user, netcore_game_client *client, uint8_t channel,
                           const uint8_t *data, size_t size)
{
    (void)user;
    (void)client;
    chat_log.client_got++;
    chat_log.last_channel = channel;
    snprintf(chat_log.last, sizeof chat_log.last, "%.*s", (int)size, (const char *)data);
}

Test(session, game_channels_carry_the_games_messages_both_ways)
{
    memset(&chat_log, 0, sizeof chat_log);
    world w;
    world_start(&w, 0, NETCORE_LINK_PERFECT, false);
    netcore_game_server_destroy(w.server);
    netcore_game_server_config sc;
    netcore_game_server_config_default(&sc);
    tg_desc(&sc.game, &w.sc);
    sc.sim = w.sim;
    sc.max_entities = 64;
    sc.game_channel_count = 2;
    sc.game_channels[0] = NETCORE_DELIVERY_RELIABLE_ORDERED;
    sc.game_channels[1] = NETCORE_DELIVERY_RELIABLE_UNORDERED;
    sc.on_message = server_message;
    cr_assert_eq(netcore_game_server_create(&sc, &w.server), NETCORE_OK);
    netcore_game_client_config cc;
    netcore_game_client_config_default(&cc);
    tg_desc(&cc.game, &w.sc);
    cc.sim = w.sim;
    cc.max_entities = 64;
    cc.game_channel_count = 2;
    cc.game_channels[0] = NETCORE_DELIVERY_RELIABLE_ORDERED;
    cc.game_channels[1] = NETCORE_DELIVERY_RELIABLE_UNORDERED;
    cc.on_message = client_message;
    cr_assert_eq(netcore_game_client_create(&cc, &w.clients[0].client), NETCORE_OK);
    w.count = 1;
    netcore_game_client *c = w.clients[0].client;
    cr_assert_eq(netcore_game_client_send(c, 0, "early", 5), NETCORE_ERR_NOT_CONNECTED);
    connect_all(&w);
    run(&w, 500000);
    cr_assert_eq(netcore_game_client_send(c, 2, "x", 1), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_game_client_send(c, 0, "hi", 2), NETCORE_OK);
    run(&w, 200000);
    cr_assert_eq(chat_log.server_got, 1);
    cr_assert_eq(chat_log.client_got, 2); /* the echo and the broadcast */
    cr_assert(strcmp(chat_log.last, "hi") == 0 || strcmp(chat_log.last, "all") == 0);
    /* Kicked: the client sees the code, the server frees the player. */
    cr_assert_eq(netcore_game_server_kick(w.server, netcore_game_client_index(c), 77), NETCORE_OK);
    run(&w, 500000);
    netcore_game_client_stats cs;
    netcore_game_client_get_stats(c, &cs);
    cr_assert_eq(cs.state, NETCORE_GAME_CLIENT_DISCONNECTED);
    cr_assert_eq(cs.disconnect_reason, NETCORE_DISCONNECT_REQUESTED);
    cr_assert_eq(cs.disconnect_code, 77);
    cr_assert_eq(netcore_game_server_client_active(w.server, 0), false);
    world_stop(&w);
}

/* ---- an untrusted render tick is clamped ---- */

static netcore_lagcomp_result rewind_seen;
static int rewinds;

static void rewind_tick(void *user, netcore_game_server *server, uint32_t tick)
{
    world *w = user;
    on_tick(user, server, tick);
    netcore_input_source source;
    if (!netcore_game_server_client_input(server, 0, &source) || source != NETCORE_INPUT_RECEIVED)
        return;
    netcore_vec3 pos;
    if (netcore_game_server_rewind(server, 0, w->bot, &pos, &rewind_seen) == NETCORE_OK)
        rewinds++;
}

Test(session, a_claim_to_have_seen_the_distant_past_is_clamped)
{
    rewinds = 0;
    world w;
    world_start(&w, 0, NETCORE_LINK_PERFECT, false);
    netcore_game_server_destroy(w.server);
    netcore_game_server_config sc;
    netcore_game_server_config_default(&sc);
    tg_desc(&sc.game, &w.sc);
    sc.sim = w.sim;
    sc.max_entities = 64;
    sc.lagcomp_max_rewind_ticks = 12;
    sc.on_tick = rewind_tick;
    sc.user = &w;
    cr_assert_eq(netcore_game_server_create(&sc, &w.server), NETCORE_OK);
    netcore_host *raw = raw_host(&w, false);
    netcore_address to;
    netcore_game_server_address(w.server, &to);
    netcore_peer_id server = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(raw, &to, NULL, &server), NETCORE_OK);
    pump(&w, raw, 50, NULL);
    nci_session_hello h = nci_session_hello_of(&sc.game);
    uint8_t hello[NCI_SESSION_HELLO_BYTES];
    nci_session_write_hello(&h, hello);
    netcore_host_send(raw, server, 0, hello, sizeof hello);
    pump(&w, raw, 50, NULL);
    /* Inputs a few ticks ahead, each claiming render tick 0. */
    netcore_input_client_config ic;
    netcore_input_client_config_default(&ic);
    ic.input_size_bytes = NETCORE_SESSION_INPUT_HEADER_BYTES + sizeof(tg_input);
    netcore_input_client *inputs = NULL;
    cr_assert_eq(netcore_input_client_create(&ic, &inputs), NETCORE_OK);
    uint8_t wire[NETCORE_SESSION_INPUT_HEADER_BYTES + sizeof(tg_input)];
    memset(wire, 0, sizeof wire);
    uint32_t first = netcore_game_server_tick(w.server) + 3;
    for (uint32_t t = first; t < first + 10; t++) {
        uint8_t packet[512];
        size_t n = 0;
        cr_assert_eq(netcore_input_client_add(inputs, t, wire), NETCORE_OK);
        cr_assert_eq(netcore_input_client_write(inputs, NULL, 0, packet, sizeof packet, &n),
                     NETCORE_OK);
        netcore_host_send(raw, server, 1, packet, n);
        netcore_host_flush(raw);
    }
    pump(&w, raw, 100, NULL);
    cr_assert_gt(rewinds, 0);
    cr_assert(rewind_seen.clamped);
    cr_assert_geq(rewind_seen.tick + 12.0, (double)first, "rewound to tick %f", rewind_seen.tick);
    netcore_input_client_destroy(inputs);
    netcore_host_destroy(raw);
    world_stop(&w);
}

Test(session, the_snapshot_budget_defaults_to_what_one_datagram_carries)
{
    tg_schema sc;
    tg_schema_make(&sc);
    netcore_sim_config simc;
    netcore_sim_config_default(&simc);
    netcore_sim *sim = NULL;
    cr_assert_eq(netcore_sim_create(&simc, &sim), NETCORE_OK);
    netcore_game_server_config c;
    netcore_game_server_config_default(&c);
    cr_assert_eq(c.snapshot_budget_bytes, 0, "0: derived from the host");
    tg_desc(&c.game, &sc);
    c.sim = sim;
    c.max_entities = 1024;
    netcore_game_server *s = NULL;
    cr_assert_eq(netcore_game_server_create(&c, &s), NETCORE_OK);
    uint32_t limit = netcore_host_max_unfragmented_bytes(netcore_game_server_host(s));
    cr_assert_gt(limit, 1200, "the default MTU carries more than the old fixed budget");
    /* Far more moving bots than one snapshot holds: a fresh client's full
     * snapshot fills the budget and defers the rest. */
    netcore_snapshot_server *snap = netcore_game_server_snapshot(s);
    for (uint32_t k = 0; k < 1000; k++) {
        netcore_entity_id id;
        cr_assert_eq(netcore_snapshot_server_entity_create(snap, sc.type_bot, &id), NETCORE_OK);
        netcore_vec3 pos = {(float)(k % 37), (float)(k / 37), 0.0f};
        cr_assert_eq(netcore_snapshot_server_set_vec3(snap, id, sc.bot_pos, pos), NETCORE_OK);
    }
    uint32_t client = 0;
    cr_assert_eq(netcore_snapshot_server_client_add(snap, &client), NETCORE_OK);
    static uint8_t big[65536];
    size_t written = 0;
    cr_assert_eq(netcore_snapshot_server_write(snap, client, 1, big, sizeof big, &written),
                 NETCORE_OK);
    cr_assert_leq(written, limit, "a snapshot never needs more than one datagram");
    cr_assert_gt(written, 1200, "the budget is the host's figure, not the old 1200");
    netcore_snapshot_server_stats st;
    cr_assert_eq(netcore_snapshot_server_get_client_stats(snap, client, &st), NETCORE_OK);
    cr_assert_gt(st.entities_deferred, 0);
    netcore_game_server_destroy(s);
    netcore_sim_destroy(sim);
    netcore_schema_destroy(sc.schema);
}
