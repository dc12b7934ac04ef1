/* The demo's replication of the world (net_proto.c), server to client
 * through a real snapshot server and client: what the client shows must be
 * what the server simulated, down to who destroyed whom. */
#include <criterion/criterion.h>
#include <string.h>

#include "net_proto.h"
#include "netcore/snapshot.h"
#include "sim.h"

/* Mirrors server_world into a snapshot, decodes it, and rebuilds client_world. */
static void replicate(const demo_world *server_world, demo_world *client_world)
{
    demo_net_schema sc;
    cr_assert(demo_net_schema_create(&sc, NETCORE_SNAPSHOT_FORMAT_BITPACKED));
    netcore_snapshot_server_config scfg;
    netcore_snapshot_server_config_default(&scfg);
    scfg.schema = sc.schema;
    scfg.budget_bytes = 8192;
    netcore_snapshot_server *server = NULL;
    cr_assert_eq(netcore_snapshot_server_create(&scfg, &server), NETCORE_OK);
    uint32_t slot = 0;
    cr_assert_eq(netcore_snapshot_server_client_add(server, &slot), NETCORE_OK);
    demo_net_mirror mirror;
    memset(&mirror, 0, sizeof mirror);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        mirror.players[i] = NETCORE_ENTITY_NONE;
        mirror.ships[i] = NETCORE_ENTITY_NONE;
    }
    for (int i = 0; i < DEMO_MAX_PROJECTILES; i++)
        mirror.shots[i] = NETCORE_ENTITY_NONE;
    mirror.round = NETCORE_ENTITY_NONE;
    cr_assert(demo_net_mirror_sync(&sc, server, &mirror, server_world));
    static uint8_t bytes[8192];
    size_t written = 0;
    cr_assert_eq(netcore_snapshot_server_write(server, slot, 1, bytes, sizeof bytes, &written),
                 NETCORE_OK);
    netcore_snapshot_client_config ccfg;
    netcore_snapshot_client_config_default(&ccfg);
    ccfg.schema = sc.schema;
    netcore_snapshot_client *client = NULL;
    cr_assert_eq(netcore_snapshot_client_create(&ccfg, &client), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_client_read(client, bytes, written, NULL), NETCORE_OK);
    demo_net_world_from_snapshot(&sc, client, client_world);
    netcore_snapshot_client_destroy(client);
    netcore_snapshot_server_destroy(server);
    demo_net_schema_destroy(&sc);
}

Test(demo_net, the_death_banner_names_the_player_who_fired_the_last_shot)
{
    demo_sim_config cfg;
    demo_sim_config_default(&cfg);
    static demo_world server_world, client_world;
    demo_world_init(&server_world, &cfg);
    cr_assert(demo_sim_add_player(&server_world, 0, "zero"));
    cr_assert(demo_sim_add_player(&server_world, 1, "victim"));
    cr_assert(demo_sim_add_player(&server_world, 2, "killer"));
    /* Slot 2 destroyed slot 1: the render's banner reads last_attacker. */
    server_world.players[1].alive = false;
    server_world.players[1].health = 0;
    server_world.players[1].respawn_ticks = 60;
    server_world.players[1].last_attacker = 2;
    demo_world_init(&client_world, &cfg);
    replicate(&server_world, &client_world);
    cr_assert(client_world.players[1].active);
    cr_assert_not(client_world.players[1].alive);
    cr_assert_eq(client_world.players[1].last_attacker, 2,
                 "the client would show \"destroyed by %s\"",
                 client_world.players[client_world.players[1].last_attacker].name);
    /* Every slot can be named. */
    server_world.players[1].last_attacker = DEMO_MAX_PLAYERS - 1;
    replicate(&server_world, &client_world);
    cr_assert_eq(client_world.players[1].last_attacker, DEMO_MAX_PLAYERS - 1);
}
