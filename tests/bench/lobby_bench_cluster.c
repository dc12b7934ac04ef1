/* lobby_bench's cluster part: three lobby node processes sharing one
 * redis-server (Debian's, on a unix socket in a temporary directory, no
 * persistence), the same swarm of raw clients spread over them in three
 * blocks (the first third on node 0, ...), so every room of 32 has members
 * on every node (room i's creator is on node 0; its joiners come from all
 * three blocks).
 *
 *   - joins: as in the single-node scenario (creators first, then the
 *     joiners, JOIN_WINDOW in flight): joiners per second of wall time;
 *   - cross-node chat fan-out: room chats in the first room, senders in
 *     turn, and only the members on another node than the sender's are
 *     sampled (time until each has read the CHAT_MESSAGE);
 *   - failover: node 1 is killed with SIGKILL; each of its players, once it
 *     has read the end of its connection, reconnects with its reconnect
 *     token to node 0 or 2 (alternately) and counts as resumed when the
 *     ROOM_STATE of its room arrives; the figure is the time from the kill
 *     to the last resumed player.
 */
#define _GNU_SOURCE
#include "lobby_bench_cluster.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define NODES 3
#define DEAD_NODE 1
#define JOIN_WINDOW 96
#define RESUME_LIMIT_NS (60ull * 1000000000ull)

typedef struct redis_proc {
    pid_t pid;
    char dir[64];
    char socket_path[108];
    char address[128];
} redis_proc;

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool redis_ping(const redis_proc *r)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", r->socket_path);
    char reply[16] = "";
    bool ok = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0 &&
              write(fd, "PING\r\n", 6) == 6 && read(fd, reply, sizeof reply - 1) > 0 &&
              strstr(reply, "PONG") != NULL;
    close(fd);
    return ok;
}

static bool redis_start(redis_proc *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/lobby-bench-redis-XXXXXX");
    if (!mkdtemp(r->dir))
        return false;
    snprintf(r->socket_path, sizeof r->socket_path, "%s/redis.sock", r->dir);
    snprintf(r->address, sizeof r->address, "unix:%s", r->socket_path);
    fflush(stdout);
    fflush(stderr);
    r->pid = fork();
    if (r->pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", r->socket_path,
               "--unixsocketperm", "700", "--dir", r->dir, "--save", "", "--appendonly", "no",
               "--maxclients", "1000", (char *)NULL);
        _exit(127);
    }
    if (r->pid < 0)
        return false;
    for (int i = 0; i < 1000; i++) {
        if (redis_ping(r))
            return true;
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid) {
            r->pid = 0;
            return false;
        }
        pause_ms(10);
    }
    return false;
}

static void redis_stop(redis_proc *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        waitpid(r->pid, NULL, 0);
    }
    unlink(r->socket_path);
    rmdir(r->dir);
}

static void percentiles(double *values, size_t count, double *p50, double *p99)
{
    bench_sort_doubles(values, count);
    *p50 = bench_percentile_sorted(values, count, 50);
    *p99 = bench_percentile_sorted(values, count, 99);
}

/* Kills DEAD_NODE and resumes its players on the others; seconds from the
 * kill to the last ROOM_STATE after a resumed WELCOME. */
static bool fail_over(swarm *w, server_proc *nodes, uint8_t *node_of, uint32_t first,
                      uint32_t count, double *out_s, uint32_t *out_resumed)
{
    uint32_t failed_before = w->failed;
    uint64_t killed_ns = bench_now_ns();
    kill(nodes[DEAD_NODE].pid, SIGKILL);
    waitpid(nodes[DEAD_NODE].pid, NULL, 0);
    nodes[DEAD_NODE].pid = 0;
    /* Each of its players notices the end of its connection. */
    uint64_t deadline = killed_ns + RESUME_LIMIT_NS;
    while (w->failed - failed_before < count && bench_now_ns() < deadline)
        swarm_poll(w, 5);
    if (w->failed - failed_before < count)
        return false;
    for (uint32_t i = first; i < first + count; i++) {
        bot *b = &w->bots[i];
        close(b->fd);
        b->fd = -1;
        b->state = BOT_IDLE;
        b->resume = true;
        b->rx_len = 0;
        node_of[i] = (i % 2) ? 0 : 2;
    }
    uint32_t done_before = w->done;
    bool ok = swarm_run(w, first, count, JOIN_WINDOW);
    *out_resumed = w->done - done_before;
    *out_s = (double)(bench_now_ns() - killed_ns) / 1e9;
    return ok && *out_resumed == count;
}

bool cluster_bench_available(void)
{
    redis_proc r;
    if (!redis_start(&r))
        return false;
    redis_stop(&r);
    return true;
}

bool cluster_bench_run(uint32_t clients, uint32_t messages, cluster_result *out)
{
    memset(out, 0, sizeof *out);
    out->joins_per_s = out->join_ms_p50 = out->join_ms_p99 = NAN;
    out->fanout_ms_p50 = out->fanout_ms_p99 = out->resume_s = NAN;
    redis_proc redis;
    if (!redis_start(&redis))
        return false;
    server_proc nodes[NODES];
    memset(nodes, 0, sizeof nodes);
    netcore_address addresses[NODES];
    bool ok = true;
    for (int i = 0; ok && i < NODES; i++) {
        server_cluster node = {redis.address, i, nodes, i};
        ok = server_start_node(&nodes[i], clients + 64, NULL, NULL, &node);
        addresses[i] = nodes[i].address;
    }
    uint8_t *node_of = calloc(clients, 1);
    swarm w;
    memset(&w, 0, sizeof w);
    w.epoll_fd = -1;
    ok = ok && node_of && swarm_init(&w, clients, &addresses[0], NULL);
    uint32_t rooms = (clients + NETCORE_LOBBY_MAX_PLAYERS - 1) / NETCORE_LOBBY_MAX_PLAYERS;
    uint32_t block = (clients + NODES - 1) / NODES;
    if (ok) {
        w.servers = addresses;
        w.node_of = node_of;
        w.keep_tokens = true;
        w.rooms = rooms;
        for (uint32_t i = 0; i < clients; i++) {
            node_of[i] = (uint8_t)(i / block);
            w.bots[i].creator = i < rooms;
            w.bots[i].room_index = i < rooms ? i : (i - rooms) % rooms;
        }
    }
    ok = ok && swarm_run(&w, 0, rooms, JOIN_WINDOW) && w.failed == 0;
    uint64_t wall0 = bench_now_ns();
    ok = ok && swarm_run(&w, rooms, clients - rooms, JOIN_WINDOW) && w.failed == 0;
    uint64_t wall = bench_now_ns() - wall0;
    if (ok) {
        out->joins_per_s = (double)w.join_count / ((double)wall / 1e9);
        percentiles(w.join_ms, w.join_count, &out->join_ms_p50, &out->join_ms_p99);
    }
    /* The first room, and how many of its members each chat reaches on
     * another node than its sender's. */
    uint32_t members[NETCORE_LOBBY_MAX_PLAYERS];
    uint32_t member_count = 0;
    for (uint32_t i = 0; ok && i < clients && member_count < NETCORE_LOBBY_MAX_PLAYERS; i++)
        if (w.bots[i].room_index == 0 && w.bots[i].state == BOT_READY)
            members[member_count++] = i;
    size_t expected = 0;
    for (uint32_t k = 0; k < messages && member_count > 0; k++)
        for (uint32_t j = 0; j < member_count; j++)
            expected += node_of[members[j]] != node_of[members[k % member_count]];
    out->room_members = member_count;
    if (ok && member_count >= 2) {
        size_t samples =
            measure_fanout(&w, members, member_count, NETCORE_LOBBY_CHAT_ROOM, messages);
        out->cross_node_samples = (uint32_t)samples;
        ok = samples == expected && samples > 0;
        if (ok)
            percentiles(w.chat_ms, samples, &out->fanout_ms_p50, &out->fanout_ms_p99);
    }
    uint32_t first = DEAD_NODE * block;
    uint32_t count = first + block <= clients ? block : clients - first;
    out->dead_node_players = count;
    out->failures = w.failed;
    if (ok) {
        ok = fail_over(&w, nodes, node_of, first, count, &out->resume_s, &out->resumed);
        out->failures = w.failed >= count ? w.failed - count : 0;
    }
    if (w.bots)
        swarm_free(&w);
    free(node_of);
    for (int i = 0; i < NODES; i++)
        if (nodes[i].pid > 0)
            server_stop(&nodes[i]);
    redis_stop(&redis);
    return ok;
}
