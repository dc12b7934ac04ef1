/*
 * The session layer's hooks for programs that run a server loop and check
 * what clients see (the soak programs among them), over the simulated
 * network: the client's on_snapshot callback reports each new world once and
 * in order, the server's wait handles traffic without running ticks, the
 * server counts snapshot bytes and why players left, and the timeouts and
 * ring sizes in the configs reach the owned modules.
 */
#include "test_session_game.h"

#define FRAME_US 4000u

typedef struct hooks_world {
    tg_schema sc;
    netcore_sim *sim;
    netcore_game_server *server;
    netcore_game_client *client;
    uint32_t reported[512]; /* ticks on_snapshot reported, in call order */
    uint32_t reported_count;
    bool out_of_order;
} hooks_world;

static void on_snapshot(void *user, netcore_game_client *client, uint32_t tick)
{
    hooks_world *w = user;
    uint32_t carried = 0;
    cr_assert_eq(
        netcore_snapshot_client_sequence(netcore_game_client_snapshot(client), NULL, &carried),
        NETCORE_OK);
    cr_assert_eq(carried, tick, "the current world carries tick %u, reported %u", carried, tick);
    if (w->reported_count > 0 && (int32_t)(tick - w->reported[w->reported_count - 1]) <= 0)
        w->out_of_order = true;
    if (w->reported_count < 512)
        w->reported[w->reported_count++] = tick;
}

/* One server (server timeout server_timeout_ms, 0: default) and one client
 * on a link with the given one-way loss. */
static void hooks_start(hooks_world *w, uint32_t server_timeout_ms, float loss_pct)
{
    memset(w, 0, sizeof *w);
    tg_schema_make(&w->sc);
    netcore_sim_config simc;
    netcore_sim_config_default(&simc);
    simc.seed = 27;
    cr_assert_eq(netcore_sim_create(&simc, &w->sim), NETCORE_OK);
    netcore_game_server_config sc;
    netcore_game_server_config_default(&sc);
    tg_desc(&sc.game, &w->sc);
    sc.sim = w->sim;
    sc.max_clients = 2;
    sc.max_entities = 8;
    sc.timeout_ms = server_timeout_ms;
    sc.snapshot_ring_length = 128;
    sc.max_view_entities = 4;
    cr_assert_eq(netcore_game_server_create(&sc, &w->server), NETCORE_OK);
    netcore_game_client_config cc;
    netcore_game_client_config_default(&cc);
    tg_desc(&cc.game, &w->sc);
    cc.sim = w->sim;
    cc.max_entities = 8;
    cc.snapshot_ring_length = 128;
    cc.conditioner.enabled = true;
    cc.conditioner.seed = 3;
    cc.conditioner.inbound.loss_pct = loss_pct;
    cc.conditioner.outbound.loss_pct = loss_pct;
    cc.on_snapshot = on_snapshot;
    cc.user = w;
    cr_assert_eq(netcore_game_client_create(&cc, &w->client), NETCORE_OK);
    netcore_address to;
    cr_assert_eq(netcore_game_server_address(w->server, &to), NETCORE_OK);
    cr_assert_eq(netcore_game_client_connect(w->client, &to, NULL), NETCORE_OK);
}

static void hooks_run(hooks_world *w, uint64_t duration_us)
{
    for (uint64_t t = 0; t < duration_us; t += FRAME_US) {
        netcore_sim_advance(w->sim, FRAME_US);
        uint64_t now = netcore_sim_now_us(w->sim);
        cr_assert_eq(netcore_game_server_update(w->server, now), NETCORE_OK);
        cr_assert_eq(netcore_game_client_update(w->client, now), NETCORE_OK);
    }
}

static void hooks_stop(hooks_world *w)
{
    netcore_game_client_destroy(w->client);
    netcore_game_server_destroy(w->server);
    netcore_sim_destroy(w->sim);
    netcore_schema_destroy(w->sc.schema);
}

Test(session_hooks, on_snapshot_reports_each_new_world_once_and_in_order)
{
    hooks_world w;
    hooks_start(&w, 0, 10.0f); /* loss and the conditioner's reordering leave gaps */
    hooks_run(&w, 3000000);
    netcore_game_client_stats cs;
    cr_assert_eq(netcore_game_client_get_stats(w.client, &cs), NETCORE_OK);
    cr_assert_gt(w.reported_count, 20);
    cr_assert_eq(w.reported_count, cs.snapshots_decoded);
    cr_assert(!w.out_of_order);
    hooks_stop(&w);
}

Test(session_hooks, wait_handles_traffic_but_runs_no_tick)
{
    hooks_world w;
    hooks_start(&w, 0, 0.0f);
    cr_assert_eq(netcore_game_server_next_tick_us(w.server), 0);
    /* The client connects and says HELLO; the server only waits. */
    for (int i = 0; i < 100; i++) {
        netcore_sim_advance(w.sim, FRAME_US);
        cr_assert_eq(netcore_game_client_update(w.client, netcore_sim_now_us(w.sim)), NETCORE_OK);
        cr_assert_eq(netcore_game_server_wait(w.server, 0), NETCORE_OK);
    }
    netcore_game_server_stats ss;
    cr_assert_eq(netcore_game_server_get_stats(w.server, &ss), NETCORE_OK);
    cr_assert_eq(ss.joins, 1);
    cr_assert_eq(ss.ticks_run, 0);
    cr_assert_eq(netcore_game_server_tick(w.server), 0);
    uint64_t now = netcore_sim_now_us(w.sim);
    cr_assert_eq(netcore_game_server_update(w.server, now), NETCORE_OK);
    cr_assert_eq(netcore_game_server_tick(w.server), 1);
    cr_assert_gt(netcore_game_server_next_tick_us(w.server), now);
    cr_assert_eq(netcore_game_server_wait(NULL, 0), NETCORE_ERR_INVALID_ARGUMENT);
    hooks_stop(&w);
}

Test(session_hooks, server_counts_snapshot_bytes_and_a_requested_leave)
{
    hooks_world w;
    hooks_start(&w, 0, 0.0f);
    hooks_run(&w, 1000000);
    cr_assert_eq(netcore_game_client_disconnect(w.client), NETCORE_OK);
    hooks_run(&w, 1000000);
    netcore_game_server_stats ss;
    cr_assert_eq(netcore_game_server_get_stats(w.server, &ss), NETCORE_OK);
    cr_assert_gt(ss.snapshots_sent, 0);
    /* Every snapshot holds at least its header and the player. */
    cr_assert_geq(ss.snapshot_bytes_sent, ss.snapshots_sent * 4);
    cr_assert_eq(ss.leaves, 1);
    cr_assert_eq(ss.leaves_requested, 1);
    cr_assert_eq(ss.leaves_timeout, 0);
    hooks_stop(&w);
}

Test(session_hooks, a_silent_client_times_out_after_the_configured_timeout)
{
    hooks_world w;
    hooks_start(&w, 1000, 0.0f); /* the host's default would wait 10 s */
    hooks_run(&w, 1000000);
    netcore_link_profile cut;
    memset(&cut, 0, sizeof cut);
    cut.loss_pct = 100.0f;
    cr_assert_eq(netcore_host_set_conditioner(netcore_game_client_host(w.client), &cut, &cut),
                 NETCORE_OK);
    hooks_run(&w, 4000000);
    netcore_game_server_stats ss;
    cr_assert_eq(netcore_game_server_get_stats(w.server, &ss), NETCORE_OK);
    cr_assert_eq(ss.leaves, 1);
    cr_assert_eq(ss.leaves_timeout, 1);
    cr_assert_eq(ss.clients, 0);
    hooks_stop(&w);
}

Test(session_hooks, ring_lengths_reach_the_snapshot_modules)
{
    tg_schema sc;
    tg_schema_make(&sc);
    netcore_sim_config simc;
    netcore_sim_config_default(&simc);
    netcore_sim *sim = NULL;
    cr_assert_eq(netcore_sim_create(&simc, &sim), NETCORE_OK);
    netcore_game_server_config cfg;
    netcore_game_server_config_default(&cfg);
    tg_desc(&cfg.game, &sc);
    cfg.sim = sim;
    cfg.snapshot_ring_length = 3; /* not a power of two: the snapshot server refuses it */
    netcore_game_server *server = NULL;
    cr_assert_eq(netcore_game_server_create(&cfg, &server), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_game_client_config cc;
    netcore_game_client_config_default(&cc);
    tg_desc(&cc.game, &sc);
    cc.sim = sim;
    cc.snapshot_ring_length = 3;
    netcore_game_client *client = NULL;
    cr_assert_eq(netcore_game_client_create(&cc, &client), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_sim_destroy(sim);
    netcore_schema_destroy(sc.schema);
}
