/* Lobby services over real TCP and UDP on 127.0.0.1: game server registry
 * and placement, room list filters and paging, LAN discovery, and a seeded
 * storm of requests. */
#define _POSIX_C_SOURCE 200809L
#include "counting_allocator.h"
#include "lobby_fixture.h"

static test_client *register_game_server(fixture *f, uint16_t port, uint16_t capacity)
{
    test_client *g = add_client(f, 15000);
    netcore_address game = netcore_address_ipv4(127, 0, 0, 1, port);
    cr_assert_eq(netcore_lobby_client_register_game_server(g->client, &f->address, lobby_key, &game,
                                                           capacity, token_clock_s, now_us()),
                 NETCORE_OK);
    wait_for(f, &g->registered, 1, "registration");
    return g;
}

/* a creates a room, b joins, both ready, a starts. */
static void ready_and_start(fixture *f, test_client *a, test_client *b)
{
    create_room(f, a, "placed", 2, NULL);
    join(f, b, a->room.room_id, 2);
    cr_assert_eq(netcore_lobby_client_set_ready(a->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(b->client, true), NETCORE_OK);
    pump_for(f, 50);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
}

Test(lobby, registered_game_servers_get_matches_least_loaded_first)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    fixture f;
    start_server(&f, &cfg);
    test_client *g1 = register_game_server(&f, 9001, 8);
    test_client *g2 = register_game_server(&f, 9002, 8);
    cr_assert_eq(netcore_lobby_client_report_load(g1->client, 6, 8), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_report_load(g2->client, 1, 8), NETCORE_OK);
    pump_for(&f, 50);
    test_client *a = connect_client(&f, "ana");
    test_client *b = connect_client(&f, "bob");
    ready_and_start(&f, a, b);
    wait_for(&f, &a->matches, 1, "match start");
    wait_for(&f, &g2->assigned, 1, "assignment at the least loaded server");
    cr_assert_eq(g1->assigned, 0);
    cr_assert_eq(a->match.server_address.port, 9002);
    cr_assert_eq(g2->assigned_match, a->match.match_id);
    cr_assert_eq(g2->assigned_count, 2);
    cr_assert(g2->assigned_ids[0] == a->id || g2->assigned_ids[1] == a->id);
    cr_assert(g2->assigned_ids[0] == b->id || g2->assigned_ids[1] == b->id);

    /* The token names the chosen server: its validator accepts it. */
    netcore_token_validator_config vcfg;
    netcore_token_validator_config_default(&vcfg);
    memcpy(vcfg.key, lobby_key, sizeof vcfg.key);
    vcfg.server_address = netcore_address_ipv4(127, 0, 0, 1, 9002);
    netcore_token_validator *v = NULL;
    cr_assert_eq(netcore_token_validator_create(&vcfg, &v), NETCORE_OK);
    cr_assert_eq(
        netcore_token_validate(v, a->match.token, a->match.token_size_bytes, token_clock_s, NULL),
        NETCORE_OK);
    netcore_token_validator_destroy(v);

    /* Only the hosting server may end the match. */
    cr_assert_eq(netcore_lobby_client_report_match_end(g1->client, a->match.match_id), NETCORE_OK);
    wait_for(&f, &g1->errors, 1, "foreign match end refused");
    cr_assert_eq(a->match_ends, 0);
    cr_assert_eq(netcore_lobby_client_report_match_end(g2->client, a->match.match_id), NETCORE_OK);
    wait_for(&f, &a->match_ends, 1, "match end from the game server");

    /* Both servers full for two more players: start refused. */
    cr_assert_eq(netcore_lobby_client_report_load(g1->client, 7, 8), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_report_load(g2->client, 7, 8), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(a->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(b->client, true), NETCORE_OK);
    pump_for(&f, 50);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->errors, 1, "no game server");
    cr_assert_eq(a->last_error, NETCORE_LOBBY_ERR_NO_GAME_SERVER);

    /* With every game server gone, matches go to the configured address. */
    cr_assert_eq(netcore_lobby_client_disconnect(g1->client), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_disconnect(g2->client), NETCORE_OK);
    netcore_lobby_server_stats stats;
    memset(&stats, 0, sizeof stats);
    stats.game_servers = 2;
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && stats.game_servers > 0 && now_ms() < deadline; i++) {
        pump_once(&f);
        netcore_lobby_server_get_stats(f.server, &stats);
    }
    cr_assert_eq(stats.game_servers, 0);
    cr_assert_eq(netcore_lobby_client_start_match(a->client), NETCORE_OK);
    wait_for(&f, &a->matches, 2, "second match start");
    cr_assert(netcore_address_equal(&a->match.server_address, &cfg.game_address));
    teardown(&f);
}

Test(lobby, registration_needs_the_key_and_a_close_clock)
{
    fixture f;
    start_default_server(&f);
    netcore_address game = netcore_address_ipv4(127, 0, 0, 1, 9001);
    uint8_t wrong_key[NETCORE_TOKEN_KEY_BYTES];
    memset(wrong_key, 0x11, sizeof wrong_key);
    test_client *forger = add_client(&f, 15000);
    cr_assert_eq(netcore_lobby_client_register_game_server(forger->client, &f.address, wrong_key,
                                                           &game, 8, token_clock_s, now_us()),
                 NETCORE_OK);
    wait_for(&f, &forger->disconnects, 1, "refused forger");
    cr_assert_eq(forger->disconnect_code, NETCORE_LOBBY_ERR_AUTH);
    test_client *stale = add_client(&f, 15000);
    cr_assert_eq(netcore_lobby_client_register_game_server(stale->client, &f.address, lobby_key,
                                                           &game, 8, token_clock_s - 3600,
                                                           now_us()),
                 NETCORE_OK);
    wait_for(&f, &stale->disconnects, 1, "refused stale registration");
    cr_assert_eq(stale->disconnect_code, NETCORE_LOBBY_ERR_AUTH);
    cr_assert_eq(forger->registered + stale->registered, 0);
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.registrations_rejected, 2);
    cr_assert_eq(stats.game_servers, 0);
    /* A game server cannot act as a player. */
    test_client *g = register_game_server(&f, 9003, 4);
    netcore_lobby_room_params p;
    memset(&p, 0, sizeof p);
    strcpy(p.name, "nope");
    p.max_players = 2;
    cr_assert_eq(netcore_lobby_client_create_room(g->client, &p), NETCORE_OK);
    wait_for(&f, &g->errors, 1, "player request refused");
    cr_assert_eq(g->last_error, NETCORE_LOBBY_ERR_STATE);
    teardown(&f);
}

Test(lobby, room_list_filters_paging_and_room_limits)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.max_rooms = 3;
    fixture f;
    start_server(&f, &cfg);
    test_client *a = connect_client(&f, "ana");
    test_client *b = connect_client(&f, "bob");
    test_client *c = connect_client(&f, "cy");
    test_client *d = connect_client(&f, "dee");
    create_room(&f, a, "solo duel", 1, NULL); /* full at once, meta map=docks */
    netcore_lobby_room_params p;
    memset(&p, 0, sizeof p);
    strcpy(p.name, "secret");
    p.max_players = 4;
    p.is_private = true;
    cr_assert_eq(netcore_lobby_client_create_room(b->client, &p), NETCORE_OK);
    wait_for(&f, &b->room_states, 1, "private room");
    strcpy(p.name, "open duel");
    p.is_private = false;
    cr_assert_eq(netcore_lobby_client_create_room(c->client, &p), NETCORE_OK);
    wait_for(&f, &c->room_states, 1, "open room");
    /* The fourth room is over max_rooms. */
    strcpy(p.name, "one too many");
    cr_assert_eq(netcore_lobby_client_create_room(d->client, &p), NETCORE_OK);
    wait_for(&f, &d->errors, 1, "too many rooms");
    cr_assert_eq(d->last_error, NETCORE_LOBBY_ERR_TOO_MANY_ROOMS);
    /* A full room refuses a join. */
    cr_assert_eq(netcore_lobby_client_join_room(d->client, a->room.room_id, NULL), NETCORE_OK);
    wait_for(&f, &d->errors, 2, "room full");
    cr_assert_eq(d->last_error, NETCORE_LOBBY_ERR_ROOM_FULL);
    cr_assert_eq(netcore_lobby_client_join_room(d->client, 999999, NULL), NETCORE_OK);
    wait_for(&f, &d->errors, 3, "no such room");
    cr_assert_eq(d->last_error, NETCORE_LOBBY_ERR_NO_SUCH_ROOM);

    netcore_lobby_room_filter filter;
    memset(&filter, 0, sizeof filter);
    filter.max_count = 16;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 2, "private rooms are hidden by default");
    filter.include_private = true;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 3);
    filter.hide_full = true;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 2);
    filter.hide_full = false;
    strcpy(filter.name_contains, "duel");
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 2);
    strcpy(filter.meta_key, "map");
    strcpy(filter.meta_value, "docks");
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 1);
    strcpy(filter.meta_value, "yard");
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 0);
    teardown(&f);
}

Test(lobby, paging_returns_at_most_max_count)
{
    fixture f;
    start_default_server(&f);
    test_client *owners[3];
    for (int i = 0; i < 3; i++) {
        owners[i] = connect_client(&f, "owner");
        create_room(&f, owners[i], "room", 4, NULL);
    }
    test_client *d = connect_client(&f, "dee");
    netcore_lobby_room_filter filter;
    memset(&filter, 0, sizeof filter);
    filter.max_count = 2;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 3);
    cr_assert_eq(d->list_count, 2);
    filter.offset = 2;
    list(&f, d, &filter);
    cr_assert_eq(d->rooms_total, 3);
    cr_assert_eq(d->list_count, 1);
    teardown(&f);
}

Test(lobby, lan_discovery_finds_the_lobby_on_loopback)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.discovery_enabled = true;
    cfg.discovery_port = 0;
    strcpy(cfg.lobby_name, "Friday LAN");
    fixture f;
    start_server(&f, &cfg);
    connect_client(&f, "ana");
    netcore_address probe_to;
    cr_assert_eq(netcore_lobby_server_discovery_address(f.server, &probe_to), NETCORE_OK);
    cr_assert_neq(probe_to.port, 0);

    netcore_lobby_discovery *d = NULL;
    netcore_lobby_discovery_config discovery_config;
    netcore_lobby_discovery_config_default(&discovery_config);
    cr_assert_eq(netcore_lobby_discovery_create(&discovery_config, &d), NETCORE_OK);
    cr_assert_eq(netcore_lobby_discovery_probe(d, &probe_to), NETCORE_OK);
    const netcore_lobby_found *found = NULL;
    size_t count = 0;
    uint64_t deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && count == 0 && now_ms() < deadline; i++) {
        pump_once(&f);
        cr_assert_eq(netcore_lobby_discovery_update(d, now_us()), NETCORE_OK);
        cr_assert_eq(netcore_lobby_discovery_results(d, &found, &count), NETCORE_OK);
    }
    cr_assert_eq(count, 1);
    cr_assert(netcore_address_equal(&found[0].lobby_address, &f.address),
              "the answer names the TCP address to connect to");
    cr_assert_str_eq(found[0].name, "Friday LAN");
    cr_assert_eq(found[0].players, 1);

    /* A second probe updates the same entry. */
    cr_assert_eq(netcore_lobby_discovery_probe(d, &probe_to), NETCORE_OK);
    netcore_lobby_server_stats stats;
    memset(&stats, 0, sizeof stats);
    deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && stats.discovery_answered < 2 && now_ms() < deadline;
         i++) {
        pump_once(&f);
        netcore_lobby_server_get_stats(f.server, &stats);
    }
    pump_for(&f, 20);
    /* last_seen_us is the now_us of the update that read the answer, as given. */
    uint64_t read_at_us = now_us() + 123;
    netcore_lobby_discovery_update(d, read_at_us);
    netcore_lobby_discovery_results(d, &found, &count);
    cr_assert_eq(count, 1);
    cr_assert_eq(found[0].last_seen_us, read_at_us);

    /* Malformed probes are dropped, not answered. */
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, probe_to.bytes, 4);
    sin.sin_port = htons(probe_to.port);
    uint8_t junk[8] = {'N', 'C', 'L', 'D', 1, 0, 1, 0};
    cr_assert_eq(sendto(fd, junk, sizeof junk, 0, (struct sockaddr *)&sin, sizeof sin),
                 (ssize_t)sizeof junk);
    deadline = now_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERATIONS && stats.discovery_dropped == 0 && now_ms() < deadline;
         i++) {
        pump_once(&f);
        netcore_lobby_server_get_stats(f.server, &stats);
    }
    cr_assert_eq(stats.discovery_dropped, 1);
    cr_assert_eq(stats.discovery_answered, 2);
    close(fd);
    netcore_lobby_discovery_destroy(d);
    teardown(&f);
}

Test(lobby, discovery_create_refuses_a_missing_config)
{
    netcore_lobby_discovery *d = (netcore_lobby_discovery *)&d;
    cr_assert_eq(netcore_lobby_discovery_create(NULL, &d), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_null(d, "the out pointer is cleared on failure");
}

Test(lobby, discovery_takes_its_memory_from_the_configured_allocator)
{
    counting_allocator counts = {0};
    netcore_lobby_discovery_config config;
    netcore_lobby_discovery_config_default(&config);
    config.allocator = counting_allocator_make(&counts);
    netcore_lobby_discovery *d = NULL;
    cr_assert_eq(netcore_lobby_discovery_create(&config, &d), NETCORE_OK);
    cr_assert_gt(counts.allocations, 0u);
    cr_assert_eq(counts.frees, 0u);
    netcore_lobby_discovery_destroy(d);
    cr_assert_eq(counts.frees, counts.allocations, "destroy gives back everything create took");
}

/* Seeded storm of valid requests in random order from four players: the
 * server never drops anyone, and once quiet every player's view of its room
 * agrees with the others'. */
Test(lobby, random_request_storm_keeps_rooms_consistent)
{
    netcore_lobby_server_config cfg;
    server_config(&cfg);
    cfg.messages_per_s = 100000;
    cfg.chat_per_s = 100000;
    fixture f;
    start_server(&f, &cfg);
    test_client *players[MAX_CLIENTS];
    for (int i = 0; i < MAX_CLIENTS; i++)
        players[i] = connect_client(&f, "storm");
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (int op = 0; op < 1500; op++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        test_client *t = players[state % MAX_CLIENTS];
        uint32_t pick = (uint32_t)(state >> 8) % 10;
        uint32_t room_id = 1 + (uint32_t)(state >> 20) % 6;
        netcore_lobby_room_params p;
        netcore_lobby_room_filter filter;
        switch (pick) {
        case 0:
            memset(&p, 0, sizeof p);
            strcpy(p.name, "storm room");
            p.max_players = (uint8_t)(1 + (state >> 30) % 3);
            netcore_lobby_client_create_room(t->client, &p);
            break;
        case 1:
            netcore_lobby_client_join_room(t->client, room_id, NULL);
            break;
        case 2:
            netcore_lobby_client_leave_room(t->client);
            break;
        case 3:
            netcore_lobby_client_set_ready(t->client, (state >> 40) & 1);
            break;
        case 4:
            netcore_lobby_client_kick(t->client, players[(state >> 33) % MAX_CLIENTS]->id);
            break;
        case 5:
            netcore_lobby_client_start_match(t->client);
            break;
        case 6:
            netcore_lobby_client_end_match(t->client);
            break;
        case 7:
            netcore_lobby_client_chat(t->client, (netcore_lobby_chat_scope)((state >> 44) & 1),
                                      "x");
            break;
        case 8:
            memset(&filter, 0, sizeof filter);
            filter.max_count = 4;
            filter.include_private = true;
            netcore_lobby_client_list_rooms(t->client, &filter);
            break;
        default:
            netcore_lobby_client_ping(t->client, (uint64_t)op);
            break;
        }
        if (op % 10 == 0)
            pump_once(&f);
    }
    /* Quiet: a ping answered by everyone means every earlier answer arrived. */
    for (int i = 0; i < MAX_CLIENTS; i++) {
        int pongs = players[i]->pongs;
        cr_assert_eq(netcore_lobby_client_ping(players[i]->client, 1), NETCORE_OK);
        wait_for(&f, &players[i]->pongs, pongs + 1, "final pong");
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
        const test_client *t = players[i];
        cr_assert_eq(t->disconnects, 0);
        if (t->room.room_id == 0)
            continue;
        bool self = false;
        for (int m = 0; m < t->room.member_count; m++)
            self = self || t->room.members[m].client_id == t->id;
        cr_assert(self, "player %d sees itself in its room", i);
        for (int k = 0; k < MAX_CLIENTS; k++) {
            const test_client *o = players[k];
            if (k == i || o->room.room_id != t->room.room_id)
                continue;
            cr_assert_eq(o->room.member_count, t->room.member_count);
            cr_assert_eq(o->room.owner_id, t->room.owner_id);
            cr_assert_eq(o->room.in_match, t->room.in_match);
        }
    }
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(f.server, &stats);
    cr_assert_eq(stats.sessions, MAX_CLIENTS);
    cr_assert_leq(stats.rooms, MAX_CLIENTS);
    cr_assert_eq(stats.malformed_dropped, 0);
    cr_assert_geq(stats.frames_received, 1500, "every request reached the server");
    teardown(&f);
}
