/* Lobby nodes sharing state through a real redis-server: three nodes in
 * this process (each its own lobby server, epoll set and Redis links),
 * clients on different nodes in one room, the races that must have
 * exactly one winner, a node's death, Redis going away, and game servers
 * registered with different nodes. A node is killed by destroying it
 * without a word to Redis, which is what Redis sees of a SIGKILL (the
 * process-level SIGKILL is in test_lobby_cluster_process.c). */
#define _POSIX_C_SOURCE 200809L
#include "redis_fixture.h"

#include "lobby_fixture.h"

#define NODES 3
#define CLUSTER_CLIENTS 16
#define RACE_ROUNDS 20

typedef struct cluster {
    test_redis redis;
    netcore_lobby_server *nodes[NODES];
    netcore_address addresses[NODES];
    test_client clients[CLUSTER_CLIENTS];
    int client_count;
    uint32_t node_timeout_ms; /* 0: 1000 */
} cluster;

static void node_config(const cluster *cl, int index, netcore_lobby_server_config *cfg)
{
    netcore_lobby_server_config_default(cfg);
    cfg->listen[0] = netcore_address_ipv4(127, 0, 0, 1, 0);
    cfg->listen_count = 1;
    memcpy(cfg->key, lobby_key, sizeof cfg->key);
    cfg->game_address = netcore_address_ipv4(127, 0, 0, 1, 7778);
    cfg->clock = fixed_clock;
    cfg->seed = 100 + (uint64_t)index;
    cfg->messages_per_s = 1000;
    if (getenv("NETCORE_TEST_VERBOSE")) {
        cfg->log.fn = netcore_log_stderr;
        cfg->log.min_level = NETCORE_LOG_DEBUG;
    }
    cfg->chat_per_s = 1000;
    snprintf(cfg->cluster_redis, sizeof cfg->cluster_redis, "%s", cl->redis.address);
    snprintf(cfg->cluster_node_id, sizeof cfg->cluster_node_id, "node-%c", 'a' + index);
    if (cl->redis.password)
        snprintf(cfg->cluster_redis_password, sizeof cfg->cluster_redis_password, "%s",
                 cl->redis.password);
}

static void pump(cluster *cl)
{
    uint64_t now = now_us();
    for (int i = 0; i < NODES; i++)
        if (cl->nodes[i])
            cr_assert_eq(netcore_lobby_server_update(cl->nodes[i], now, 1), NETCORE_OK);
    for (int i = 0; i < cl->client_count; i++)
        if (cl->clients[i].client)
            netcore_lobby_client_update(cl->clients[i].client, now);
}

/* Pumps until cond holds; fails the test (with what) if it never does. */
#define WAIT_UNTIL(cl, cond, what)                                                                 \
    do {                                                                                           \
        uint64_t wait_deadline_ = now_ms() + WAIT_MS;                                              \
        for (int wait_i_ = 0;                                                                      \
             wait_i_ < 4 * WAIT_ITERATIONS && !(cond) && now_ms() < wait_deadline_; wait_i_++)     \
            pump(cl);                                                                              \
        cr_assert(cond, "waiting for %s", what);                                                   \
    } while (0)

static void pump_ms(cluster *cl, uint64_t duration_ms)
{
    uint64_t deadline = now_ms() + duration_ms;
    while (now_ms() < deadline)
        pump(cl);
}

static bool node_up(const netcore_lobby_server *node)
{
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(node, &st);
    return st.cluster_up;
}

static uint32_t mirrored_rooms(const cluster *cl)
{
    uint32_t rooms = 0;
    for (int i = 0; i < NODES; i++) {
        netcore_lobby_server_stats st;
        if (cl->nodes[i] && netcore_lobby_server_get_stats(cl->nodes[i], &st) == NETCORE_OK)
            rooms += st.rooms;
    }
    return rooms;
}

static void start_node(cluster *cl, int index, uint32_t grace_ms)
{
    netcore_lobby_server_config cfg;
    node_config(cl, index, &cfg);
    cfg.reconnect_grace_ms = grace_ms;
    cfg.cluster_node_timeout_ms = cl->node_timeout_ms ? cl->node_timeout_ms : 1000;
    cr_assert_eq(netcore_lobby_server_create(&cfg, &cl->nodes[index]), NETCORE_OK);
    cr_assert_eq(netcore_lobby_server_address(cl->nodes[index], 0, &cl->addresses[index]),
                 NETCORE_OK);
    WAIT_UNTIL(cl, node_up(cl->nodes[index]), "the node to reach Redis");
}

static void start_cluster(cluster *cl, uint32_t grace_ms)
{
    redis_start(&cl->redis);
    for (int i = 0; i < NODES; i++)
        start_node(cl, i, grace_ms);
}

static void stop_cluster(cluster *cl)
{
    for (int i = 0; i < cl->client_count; i++)
        netcore_lobby_client_destroy(cl->clients[i].client);
    for (int i = 0; i < NODES; i++)
        netcore_lobby_server_destroy(cl->nodes[i]);
    redis_cleanup(&cl->redis);
}

static test_client *new_client(cluster *cl)
{
    cr_assert_lt(cl->client_count, CLUSTER_CLIENTS);
    test_client *t = &cl->clients[cl->client_count++];
    memset(t, 0, sizeof *t);
    netcore_lobby_client_config cfg;
    netcore_lobby_client_config_default(&cfg);
    cfg.on_event = on_event;
    cfg.event_user = t;
    cr_assert_eq(netcore_lobby_client_create(&cfg, &t->client), NETCORE_OK);
    return t;
}

static test_client *join_node(cluster *cl, int node, const char *nickname)
{
    test_client *t = new_client(cl);
    cr_assert_eq(netcore_lobby_client_connect(t->client, &cl->addresses[node], nickname, now_us()),
                 NETCORE_OK);
    WAIT_UNTIL(cl, t->welcomes == 1, "welcome");
    return t;
}

static uint32_t make_room(cluster *cl, test_client *owner, uint8_t max_players)
{
    netcore_lobby_room_params p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "arena");
    p.max_players = max_players;
    p.meta_count = 1;
    strcpy(p.meta[0].key, "map");
    strcpy(p.meta[0].value, "docks");
    cr_assert_eq(netcore_lobby_client_create_room(owner->client, &p), NETCORE_OK);
    WAIT_UNTIL(cl, owner->room.room_id != 0 && owner->room.member_count == 1, "the new room");
    cr_assert_eq(owner->room.owner_id, owner->id);
    return owner->room.room_id;
}

static void enter(cluster *cl, test_client *t, uint32_t room_id, int members)
{
    cr_assert_eq(netcore_lobby_client_join_room(t->client, room_id, NULL), NETCORE_OK);
    WAIT_UNTIL(cl, t->room.member_count == members, "the join");
}

static const netcore_lobby_member *member(const test_client *t, uint64_t id)
{
    for (uint8_t i = 0; i < t->room.member_count; i++)
        if (t->room.members[i].client_id == id)
            return &t->room.members[i];
    return NULL;
}

/* owner and other (members of owner's room) ready, as owner's node shows. */
static void ready_both(cluster *cl, test_client *owner, test_client *other)
{
    cr_assert_eq(netcore_lobby_client_set_ready(owner->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(other->client, true), NETCORE_OK);
    WAIT_UNTIL(cl, member(owner, other->id)->ready && member(owner, owner->id)->ready,
               "both ready");
}

Test(lobby_cluster, players_on_three_nodes_share_a_room_its_chat_ready_flags_and_match_start)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    start_cluster(&cl, 30000);
    test_client *alice = join_node(&cl, 0, "alice");
    test_client *bob = join_node(&cl, 1, "bob");
    test_client *carol = join_node(&cl, 2, "carol");
    uint32_t room = make_room(&cl, alice, 4);
    enter(&cl, bob, room, 2);
    enter(&cl, carol, room, 3);
    WAIT_UNTIL(&cl, alice->room.member_count == 3 && bob->room.member_count == 3,
               "every node to show three members");
    cr_assert_str_eq(alice->room.members[2].nickname, "carol");
    cr_assert(member(alice, carol->id)->connected, "a member on another node shows connected");
    cr_assert_str_eq(carol->room.meta[0].value, "docks");

    cr_assert_eq(netcore_lobby_client_chat(bob->client, NETCORE_LOBBY_CHAT_ROOM, "from b"),
                 NETCORE_OK);
    WAIT_UNTIL(&cl, alice->chats == 1 && carol->chats == 1 && bob->chats == 1,
               "room chat everywhere");
    cr_assert_str_eq(alice->last_chat, "from b");
    cr_assert_str_eq(carol->last_chat, "from b");

    cr_assert_eq(netcore_lobby_client_set_ready(carol->client, true), NETCORE_OK);
    WAIT_UNTIL(&cl, member(alice, carol->id)->ready, "carol's ready flag on node a");
    cr_assert_eq(netcore_lobby_client_set_ready(bob->client, true), NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_set_ready(alice->client, true), NETCORE_OK);
    WAIT_UNTIL(&cl, member(carol, alice->id)->ready && member(carol, bob->id)->ready,
               "every ready flag on node c");
    cr_assert_eq(netcore_lobby_client_start_match(alice->client), NETCORE_OK);
    WAIT_UNTIL(&cl, alice->matches == 1 && bob->matches == 1 && carol->matches == 1,
               "MATCH_START on every node");
    cr_assert_eq(alice->match.match_id, bob->match.match_id);
    cr_assert_eq(alice->match.match_id, carol->match.match_id);
    cr_assert_neq(alice->match.match_id, 0);
    WAIT_UNTIL(&cl, carol->room.in_match, "the room in a match");

    cr_assert_eq(netcore_lobby_client_leave_room(carol->client), NETCORE_OK);
    WAIT_UNTIL(&cl, carol->room_left == 1 && alice->room.member_count == 2, "carol's leave");
    cr_assert_null(member(alice, carol->id));
    stop_cluster(&cl);
}

Test(lobby_cluster, lobby_wide_chat_reaches_every_node)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    start_cluster(&cl, 30000);
    test_client *t[NODES];
    for (int i = 0; i < NODES; i++)
        t[i] = join_node(&cl, i, i == 0 ? "ann" : i == 1 ? "ben" : "cid");
    cr_assert_eq(netcore_lobby_client_chat(t[2]->client, NETCORE_LOBBY_CHAT_LOBBY, "hello all"),
                 NETCORE_OK);
    WAIT_UNTIL(&cl, t[0]->chats == 1 && t[1]->chats == 1 && t[2]->chats == 1, "lobby chat");
    cr_assert_str_eq(t[0]->last_chat, "hello all");
    stop_cluster(&cl);
}

/* Two players on two nodes ask for the last seat in the same update. */
Test(lobby_cluster, two_nodes_racing_for_the_last_seat_have_exactly_one_winner)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    start_cluster(&cl, 30000);
    test_client *owner = join_node(&cl, 0, "owner");
    test_client *b = join_node(&cl, 1, "bee");
    test_client *c = join_node(&cl, 2, "sea");
    for (int round = 0; round < RACE_ROUNDS; round++) {
        uint32_t room = make_room(&cl, owner, 2);
        int b_errors = b->errors, c_errors = c->errors;
        cr_assert_eq(netcore_lobby_client_join_room(b->client, room, NULL), NETCORE_OK);
        cr_assert_eq(netcore_lobby_client_join_room(c->client, room, NULL), NETCORE_OK);
        WAIT_UNTIL(&cl,
                   (b->room.room_id == room) + (b->errors > b_errors) == 1 &&
                       (c->room.room_id == room) + (c->errors > c_errors) == 1,
                   "both joins answered");
        bool b_won = b->room.room_id == room, c_won = c->room.room_id == room;
        cr_assert(b_won != c_won, "round %d: exactly one joins (b %d, c %d)", round, b_won, c_won);
        cr_assert_eq((b_won ? c : b)->last_error, NETCORE_LOBBY_ERR_ROOM_FULL);
        WAIT_UNTIL(&cl, owner->room.member_count == 2, "the owner sees two members");
        test_client *winner = b_won ? b : c;
        cr_assert_eq(netcore_lobby_client_leave_room(winner->client), NETCORE_OK);
        cr_assert_eq(netcore_lobby_client_leave_room(owner->client), NETCORE_OK);
        WAIT_UNTIL(&cl, winner->room.room_id == 0 && owner->room.room_id == 0, "the room emptied");
    }
    stop_cluster(&cl);
}

/* The owner starts on one node while a member withdraws its ready flag on
 * another: either the match starts (and the flag change is refused) or
 * the flag changes (and the start is refused), never both. */
Test(lobby_cluster, a_match_start_racing_an_unready_has_exactly_one_outcome)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    start_cluster(&cl, 30000);
    test_client *owner = join_node(&cl, 0, "owner");
    test_client *m = join_node(&cl, 1, "member");
    uint32_t room = make_room(&cl, owner, 2);
    enter(&cl, m, room, 2);
    for (int round = 0; round < RACE_ROUNDS; round++) {
        ready_both(&cl, owner, m);
        int owner_errors = owner->errors, m_errors = m->errors, matches = owner->matches;
        cr_assert_eq(netcore_lobby_client_start_match(owner->client), NETCORE_OK);
        cr_assert_eq(netcore_lobby_client_set_ready(m->client, false), NETCORE_OK);
        WAIT_UNTIL(&cl,
                   (owner->matches > matches) + (owner->errors > owner_errors) == 1 &&
                       (!member(m, m->id)->ready) + (m->errors > m_errors) == 1,
                   "both requests answered");
        bool started = owner->matches > matches;
        bool unready = !member(m, m->id)->ready && m->errors == m_errors;
        cr_assert(started != unready, "round %d: started %d, unready %d", round, started, unready);
        if (started) {
            cr_assert_eq(m->last_error, NETCORE_LOBBY_ERR_IN_MATCH);
            WAIT_UNTIL(&cl, m->matches == owner->matches, "the member's MATCH_START");
            int ends = m->match_ends;
            cr_assert_eq(netcore_lobby_client_end_match(owner->client), NETCORE_OK);
            WAIT_UNTIL(&cl, m->match_ends == ends + 1 && !owner->room.in_match, "the match end");
        } else {
            cr_assert_eq(owner->last_error, NETCORE_LOBBY_ERR_NOT_READY);
        }
    }
    stop_cluster(&cl);
}

/* The owner and the next in line leave at once on two nodes: the room
 * ends with exactly one owner, the last member, on every node. */
Test(lobby_cluster, an_ownership_migration_race_leaves_exactly_one_owner)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    start_cluster(&cl, 30000);
    test_client *a = join_node(&cl, 0, "first");
    test_client *b = join_node(&cl, 1, "second");
    test_client *c = join_node(&cl, 2, "third");
    for (int round = 0; round < RACE_ROUNDS; round++) {
        uint32_t room = make_room(&cl, a, 3);
        enter(&cl, b, room, 2);
        enter(&cl, c, room, 3);
        WAIT_UNTIL(&cl, a->room.member_count == 3, "three members");
        cr_assert_eq(netcore_lobby_client_leave_room(a->client), NETCORE_OK);
        cr_assert_eq(netcore_lobby_client_leave_room(b->client), NETCORE_OK);
        WAIT_UNTIL(&cl, c->room.member_count == 1 && a->room.room_id == 0 && b->room.room_id == 0,
                   "the two leaves");
        cr_assert_eq(c->room.owner_id, c->id, "round %d: the last member owns the room", round);
        cr_assert_eq(netcore_lobby_client_leave_room(c->client), NETCORE_OK);
        WAIT_UNTIL(&cl, c->room.room_id == 0, "the room emptied");
        /* Every node applies the room's deletion, each in its own time. */
        WAIT_UNTIL(&cl, mirrored_rooms(&cl) == 0, "every node to drop the room");
    }
    stop_cluster(&cl);
}

/* Node b dies. Its player that comes back through node c resumes its seat;
 * its player that never comes back is shown lost after the node timeout,
 * then removed after the grace, and the room it owned passes on. */
Test(lobby_cluster, players_of_a_dead_node_resume_elsewhere_and_ghosts_expire)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    start_cluster(&cl, 3000);
    test_client *ghost = join_node(&cl, 1, "ghost");
    test_client *bob = join_node(&cl, 1, "bob");
    test_client *alice = join_node(&cl, 0, "alice");
    uint32_t room = make_room(&cl, ghost, 4);
    enter(&cl, bob, room, 2);
    enter(&cl, alice, room, 3);
    WAIT_UNTIL(&cl, alice->room.owner_id == ghost->id, "ghost owns the room");

    netcore_lobby_server_destroy(cl.nodes[1]);
    cl.nodes[1] = NULL;
    WAIT_UNTIL(&cl, bob->disconnects == 1, "bob to see node b go");
    netcore_address others[2] = {cl.addresses[1], cl.addresses[2]};
    cr_assert_eq(netcore_lobby_client_reconnect_any(bob->client, others, 2, now_us()), NETCORE_OK);
    WAIT_UNTIL(&cl, bob->welcomes == 2, "bob resumed through node c");
    cr_assert(bob->resumed);
    WAIT_UNTIL(&cl, bob->room.room_id == room && bob->room.member_count == 3,
               "bob back in his room");
    WAIT_UNTIL(&cl, member(alice, bob->id) && member(alice, bob->id)->connected,
               "alice sees bob connected");
    cr_assert_eq(bob->disconnects, 1, "the dead node was skipped without a DISCONNECTED");

    WAIT_UNTIL(&cl, member(alice, ghost->id) && !member(alice, ghost->id)->connected,
               "the ghost shown lost once node b is declared dead");
    WAIT_UNTIL(&cl, alice->room.member_count == 2, "the ghost removed after the grace");
    cr_assert_null(member(alice, ghost->id));
    cr_assert_eq(alice->room.owner_id, bob->id, "ownership passed to the next member");
    WAIT_UNTIL(&cl, bob->room.owner_id == bob->id, "bob's node agrees");
    stop_cluster(&cl);
}

/* Redis stops answering (SIGSTOP), then comes back (SIGCONT); then it
 * restarts from its append-only file. Meanwhile new rooms are refused
 * with ERROR(INTERNAL), chat in a room keeps working on its node, and no
 * room is lost. */
Test(lobby_cluster, without_redis_new_rooms_are_refused_and_nodes_recover_without_losing_a_room)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    cl.redis.persistent = true;
    start_cluster(&cl, 30000);
    test_client *a = join_node(&cl, 0, "ann");
    test_client *a2 = join_node(&cl, 0, "ada");
    test_client *b = join_node(&cl, 1, "ben");
    uint32_t room = make_room(&cl, a, 4);
    enter(&cl, a2, room, 2);
    enter(&cl, b, room, 3);

    kill(cl.redis.pid, SIGSTOP);
    WAIT_UNTIL(&cl, !node_up(cl.nodes[0]) && !node_up(cl.nodes[1]),
               "the nodes to give up on Redis");
    netcore_lobby_room_params p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "new");
    p.max_players = 2;
    int errors = b->errors;
    cr_assert_eq(netcore_lobby_client_leave_room(b->client), NETCORE_OK);
    WAIT_UNTIL(&cl, b->errors == errors + 1, "the refusal");
    cr_assert_eq(b->last_error, NETCORE_LOBBY_ERR_INTERNAL);
    cr_assert_eq(netcore_lobby_client_chat(a->client, NETCORE_LOBBY_CHAT_ROOM, "still here"),
                 NETCORE_OK);
    WAIT_UNTIL(&cl, a2->chats == 1, "chat on the same node without Redis");
    kill(cl.redis.pid, SIGCONT);
    WAIT_UNTIL(&cl, node_up(cl.nodes[0]) && node_up(cl.nodes[1]), "the nodes back on Redis");
    cr_assert_eq(netcore_lobby_client_set_ready(b->client, true), NETCORE_OK);
    WAIT_UNTIL(&cl, member(a, b->id)->ready, "a change after the outage");

    redis_stop(&cl.redis);
    WAIT_UNTIL(&cl, !node_up(cl.nodes[0]), "node a to notice the restart");
    errors = b->errors;
    cr_assert_eq(netcore_lobby_client_leave_room(b->client), NETCORE_OK);
    WAIT_UNTIL(&cl, b->errors == errors + 1, "a refusal while Redis is down");
    cr_assert_eq(b->last_error, NETCORE_LOBBY_ERR_INTERNAL);
    redis_start(&cl.redis);
    WAIT_UNTIL(&cl, node_up(cl.nodes[0]) && node_up(cl.nodes[1]) && node_up(cl.nodes[2]),
               "the nodes back after the restart");
    pump_ms(&cl, 300);
    cr_assert_eq(a->room.room_id, room, "the room survived the restart");
    cr_assert_eq(a->room_left, 0);
    test_client *late = join_node(&cl, 2, "late");
    enter(&cl, late, room, 4);
    stop_cluster(&cl);
}

static test_client *register_game_server(cluster *cl, int node, uint16_t port, uint16_t capacity)
{
    test_client *g = new_client(cl);
    netcore_address game = netcore_address_ipv4(127, 0, 0, 1, port);
    cr_assert_eq(netcore_lobby_client_register_game_server(g->client, &cl->addresses[node],
                                                           lobby_key, &game, capacity,
                                                           token_clock_s, now_us()),
                 NETCORE_OK);
    WAIT_UNTIL(cl, g->registered == 1, "the registration");
    return g;
}

/* Game servers registered with nodes a and b; the room lives on c. The
 * match goes to the least loaded, wherever it registered; when that game
 * server goes, its match ends on every node. */
Test(lobby_cluster, matches_go_to_the_least_loaded_game_server_of_the_cluster_and_end_with_it)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    start_cluster(&cl, 30000);
    test_client *busy = register_game_server(&cl, 0, 9001, 10);
    test_client *idle = register_game_server(&cl, 1, 9002, 10);
    cr_assert_eq(netcore_lobby_client_report_load(busy->client, 6, 10), NETCORE_OK);
    pump_ms(&cl, 100);
    test_client *owner = join_node(&cl, 2, "owner");
    test_client *other = join_node(&cl, 0, "other");
    uint32_t room = make_room(&cl, owner, 2);
    enter(&cl, other, room, 2);
    ready_both(&cl, owner, other);
    cr_assert_eq(netcore_lobby_client_start_match(owner->client), NETCORE_OK);
    WAIT_UNTIL(&cl, owner->matches == 1 && other->matches == 1 && idle->assigned == 1,
               "the match placed on the idle game server");
    cr_assert_eq(owner->match.server_address.port, 9002);
    cr_assert_eq(other->match.server_address.port, 9002);
    cr_assert_eq(idle->assigned_match, owner->match.match_id);
    cr_assert_eq(idle->assigned_count, 2);
    cr_assert_eq(busy->assigned, 0);

    netcore_lobby_client_destroy(idle->client);
    idle->client = NULL;
    WAIT_UNTIL(&cl, owner->match_ends == 1 && other->match_ends == 1, "the match ended everywhere");
    cr_assert_eq(owner->match_end_reason, NETCORE_LOBBY_MATCH_GAME_SERVER_LOST);
    cr_assert_eq(other->match_end_reason, NETCORE_LOBBY_MATCH_GAME_SERVER_LOST);
    stop_cluster(&cl);
}

/* The node a game server registered through dies: once the node is declared
 * dead, the match placed on that game server ends on every other node. */
Test(lobby_cluster, a_dead_nodes_game_servers_end_their_matches_everywhere)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    start_cluster(&cl, 30000);
    test_client *game = register_game_server(&cl, 1, 9005, 10);
    test_client *owner = join_node(&cl, 0, "owner");
    test_client *other = join_node(&cl, 2, "other");
    uint32_t room = make_room(&cl, owner, 2);
    enter(&cl, other, room, 2);
    ready_both(&cl, owner, other);
    cr_assert_eq(netcore_lobby_client_start_match(owner->client), NETCORE_OK);
    WAIT_UNTIL(&cl, owner->matches == 1 && other->matches == 1 && game->assigned == 1,
               "the match on the game server of node b");
    cr_assert_eq(owner->match.server_address.port, 9005);

    netcore_lobby_server_destroy(cl.nodes[1]);
    cl.nodes[1] = NULL;
    WAIT_UNTIL(&cl, owner->match_ends == 1 && other->match_ends == 1,
               "the match ended once node b is declared dead");
    cr_assert_eq(owner->match_end_reason, NETCORE_LOBBY_MATCH_GAME_SERVER_LOST);
    WAIT_UNTIL(&cl, !owner->room.in_match && !other->room.in_match, "the room back in the lobby");
    stop_cluster(&cl);
}

/* A member's connection drops while Redis is out of reach, and its grace
 * ends before Redis is back: its node no longer holds it, so once Redis
 * answers again the node files it as lost, and its seat goes after the
 * grace, as if Redis had heard of it all along. */
Test(lobby_cluster, a_grace_that_ends_while_redis_is_away_still_frees_the_seat)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    /* No node is declared dead meanwhile: only the node's own account of
     * what it holds can free the seat. */
    cl.node_timeout_ms = 60000;
    start_cluster(&cl, 1000);
    test_client *alice = join_node(&cl, 0, "alice");
    test_client *bob = join_node(&cl, 1, "bob");
    uint32_t room = make_room(&cl, alice, 4);
    enter(&cl, bob, room, 2);
    WAIT_UNTIL(&cl, alice->room.member_count == 2, "both in the room");

    kill(cl.redis.pid, SIGSTOP);
    WAIT_UNTIL(&cl, !node_up(cl.nodes[0]) && !node_up(cl.nodes[1]),
               "the nodes to give up on Redis");
    netcore_lobby_client_destroy(bob->client);
    bob->client = NULL;
    pump_ms(&cl, 1500); /* longer than the grace */
    kill(cl.redis.pid, SIGCONT);
    WAIT_UNTIL(&cl, node_up(cl.nodes[0]) && node_up(cl.nodes[1]), "the nodes back on Redis");
    WAIT_UNTIL(&cl, alice->room.member_count == 1, "bob's seat freed");
    cr_assert_eq(alice->room.members[0].client_id, alice->id);
    stop_cluster(&cl);
}

/* A game server given the list of nodes registers with the first that
 * answers, and gets the matches of rooms held by other nodes. */
Test(lobby_cluster, a_game_server_registers_with_the_next_node_when_one_is_down)
{
    cluster cl;
    memset(&cl, 0, sizeof cl);
    start_cluster(&cl, 30000);
    netcore_lobby_server_destroy(cl.nodes[1]);
    cl.nodes[1] = NULL;
    test_client *game = new_client(&cl);
    netcore_address nodes[2] = {cl.addresses[1], cl.addresses[2]};
    netcore_address game_address = netcore_address_ipv4(127, 0, 0, 1, 9007);
    cr_assert_eq(netcore_lobby_client_register_game_server_any(
                     game->client, nodes, 2, lobby_key, &game_address, 10, token_clock_s, now_us()),
                 NETCORE_OK);
    WAIT_UNTIL(&cl, game->registered == 1, "the registration through node c");
    cr_assert_eq(game->disconnects, 0, "the dead node was skipped without a DISCONNECTED");
    test_client *owner = join_node(&cl, 0, "owner");
    make_room(&cl, owner, 1);
    cr_assert_eq(netcore_lobby_client_set_ready(owner->client, true), NETCORE_OK);
    WAIT_UNTIL(&cl, member(owner, owner->id)->ready, "ready");
    cr_assert_eq(netcore_lobby_client_start_match(owner->client), NETCORE_OK);
    WAIT_UNTIL(&cl, owner->matches == 1 && game->assigned == 1, "the match on that game server");
    cr_assert_eq(owner->match.server_address.port, 9007);
    stop_cluster(&cl);
}
