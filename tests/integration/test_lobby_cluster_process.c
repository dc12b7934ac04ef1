/* Lobby nodes as real netcore-lobby processes sharing a real redis-server
 * (with a password, given to the nodes in a file): a node killed with
 * SIGKILL, its player resumes its room through another node with its
 * reconnect token, and the player on the surviving node sees it come back. */
#define _POSIX_C_SOURCE 200809L
#include "redis_fixture.h"

#include "lobby_fixture.h"

#define NODE_PROCESSES 2

typedef struct node_process {
    pid_t pid;
    int stderr_fd;
    netcore_address address;
} node_process;

static const char *lobby_program(void)
{
#ifdef NETCORE_LOBBY_PATH
    return NETCORE_LOBBY_PATH;
#else
    return NULL;
#endif
}

/* Reads the child's stderr until "listening on ADDR," and parses ADDR. */
static void read_listen_address(node_process *n)
{
    char text[2048];
    size_t len = 0;
    uint64_t deadline = now_ms() + WAIT_MS;
    while (now_ms() < deadline && len < sizeof text - 1) {
        struct pollfd p = {n->stderr_fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t got = read(n->stderr_fd, text + len, sizeof text - 1 - len);
        if (got <= 0)
            break;
        len += (size_t)got;
        text[len] = '\0';
        char *at = strstr(text, "listening on ");
        char *comma = at ? strchr(at, ',') : NULL;
        if (!comma)
            continue;
        *comma = '\0';
        cr_assert_eq(netcore_address_parse(at + strlen("listening on "), 0, &n->address),
                     NETCORE_OK);
        return;
    }
    cr_assert_fail("netcore-lobby did not say where it listens: %s", len ? text : "(nothing)");
}

static void start_node_process(node_process *n, const test_redis *redis, const char *password_file,
                               const char *node_id)
{
    int pipe_fds[2];
    cr_assert_eq(pipe(pipe_fds), 0);
    char key_hex[2 * NETCORE_TOKEN_KEY_BYTES + 1];
    for (int i = 0; i < NETCORE_TOKEN_KEY_BYTES; i++)
        snprintf(key_hex + 2 * i, 3, "%02x", lobby_key[i]);
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        dup2(pipe_fds[1], 2);
        close(pipe_fds[0]);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        const char *argv[] = {lobby_program(),
                              "--bind",
                              "127.0.0.1",
                              "--port",
                              "0",
                              "--game-address",
                              "127.0.0.1:7778",
                              "--key-hex",
                              key_hex,
                              "--redis",
                              redis->address,
                              "--redis-password-file",
                              password_file,
                              "--node-id",
                              node_id,
                              NULL};
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipe_fds[1]);
    n->pid = pid;
    n->stderr_fd = pipe_fds[0];
    read_listen_address(n);
}

static void stop_node_process(node_process *n, int signal_number)
{
    if (n->pid <= 0)
        return;
    kill(n->pid, signal_number);
    int status = 0;
    waitpid(n->pid, &status, 0);
    /* What it said after its address goes to the test's log, where the
     * suite looks for sanitizer reports. */
    char text[4096];
    ssize_t got;
    while ((got = read(n->stderr_fd, text, sizeof text)) > 0)
        fwrite(text, 1, (size_t)got, stderr);
    close(n->stderr_fd);
    n->pid = 0;
}

static void pump_clients(test_client *clients, int count)
{
    uint64_t now = now_us();
    for (int i = 0; i < count; i++)
        netcore_lobby_client_update(clients[i].client, now);
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
}

#define WAIT_CLIENTS(clients, count, cond, what)                                                   \
    do {                                                                                           \
        uint64_t wait_deadline_ = now_ms() + 3 * WAIT_MS;                                          \
        while (!(cond) && now_ms() < wait_deadline_)                                               \
            pump_clients(clients, count);                                                          \
        cr_assert(cond, "waiting for %s", what);                                                   \
    } while (0)

Test(lobby_cluster_process, a_player_of_a_node_killed_with_sigkill_resumes_its_room_on_another)
{
    if (!lobby_program() || access(lobby_program(), X_OK) != 0)
        cr_skip_test("netcore-lobby was not built");
    test_redis redis;
    memset(&redis, 0, sizeof redis);
    redis.password = "cluster-secret";
    redis_start(&redis);
    char password_file[128];
    snprintf(password_file, sizeof password_file, "%s/password", redis.dir);
    FILE *f = fopen(password_file, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s\n", redis.password);
    fclose(f);

    node_process nodes[NODE_PROCESSES];
    memset(nodes, 0, sizeof nodes);
    start_node_process(&nodes[0], &redis, password_file, "proc-a");
    start_node_process(&nodes[1], &redis, password_file, "proc-b");

    test_client clients[2];
    memset(clients, 0, sizeof clients);
    for (int i = 0; i < 2; i++) {
        netcore_lobby_client_config cfg;
        netcore_lobby_client_config_default(&cfg);
        cfg.on_event = on_event;
        cfg.event_user = &clients[i];
        cr_assert_eq(netcore_lobby_client_create(&cfg, &clients[i].client), NETCORE_OK);
    }
    test_client *alice = &clients[0], *bob = &clients[1];
    netcore_address all[NODE_PROCESSES] = {nodes[0].address, nodes[1].address};
    cr_assert_eq(netcore_lobby_client_connect_any(alice->client, all, 2, "alice", now_us()),
                 NETCORE_OK);
    cr_assert_eq(netcore_lobby_client_connect(bob->client, &nodes[1].address, "bob", now_us()),
                 NETCORE_OK);
    WAIT_CLIENTS(clients, 2, alice->welcomes == 1 && bob->welcomes == 1, "both welcomed");

    /* A node answers requests only once it has reached Redis: retry the
     * creation until it is not refused. */
    netcore_lobby_room_params p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "survivors");
    p.max_players = 4;
    for (int attempt = 0; attempt < 50 && alice->room.room_id == 0; attempt++) {
        int errors = alice->errors;
        cr_assert_eq(netcore_lobby_client_create_room(alice->client, &p), NETCORE_OK);
        WAIT_CLIENTS(clients, 2, alice->room.room_id != 0 || alice->errors > errors, "an answer");
    }
    uint32_t room = alice->room.room_id;
    cr_assert_neq(room, 0);
    for (int attempt = 0; attempt < 50 && bob->room.room_id != room; attempt++) {
        int errors = bob->errors;
        cr_assert_eq(netcore_lobby_client_join_room(bob->client, room, NULL), NETCORE_OK);
        WAIT_CLIENTS(clients, 2, bob->room.room_id == room || bob->errors > errors, "an answer");
    }
    WAIT_CLIENTS(clients, 2, alice->room.member_count == 2 && bob->room.member_count == 2,
                 "both in the room");

    stop_node_process(&nodes[0], SIGKILL);
    WAIT_CLIENTS(clients, 2, alice->disconnects == 1, "alice to lose node a");
    cr_assert_eq(netcore_lobby_client_reconnect_any(alice->client, all, 2, now_us()), NETCORE_OK);
    WAIT_CLIENTS(clients, 2, alice->welcomes == 2, "alice resumed through node b");
    cr_assert(alice->resumed);
    WAIT_CLIENTS(clients, 2, alice->room.room_id == room && alice->room.member_count == 2,
                 "alice back in her room");
    cr_assert_eq(alice->room.owner_id, alice->id, "she still owns it");
    WAIT_CLIENTS(clients, 2,
                 bob->room.member_count == 2 && bob->room.members[0].client_id == alice->id &&
                     bob->room.members[0].connected,
                 "bob to see alice connected again");

    for (int i = 0; i < 2; i++)
        netcore_lobby_client_destroy(clients[i].client);
    stop_node_process(&nodes[1], SIGTERM);
    redis_cleanup(&redis);
}
