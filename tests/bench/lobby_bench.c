/*
 * lobby_bench: what a netcore lobby server costs with many TCP clients on
 * 127.0.0.1.
 *
 * The server runs in a child process (fork) so that its memory and CPU time
 * can be read from /proc/PID without the clients' share; the clients are raw
 * non-blocking sockets in the parent, driven by one epoll loop, that speak
 * the documented framing (encoded with the library's own codec) and only peek
 * at frame headers of what they receive, so the server is the side that
 * saturates (see the cpu shares in the output).
 *
 * For each client count (1,000 and 5,000; --quick: 48 and 96):
 *   - rooms of up to NETCORE_LOBBY_MAX_PLAYERS (32) are made by one client
 *     each, then the other clients join them, at most JOIN_WINDOW at a time
 *     in flight: TCP connect, HELLO -> WELCOME, JOIN_ROOM -> ROOM_STATE. Every
 *     join also sends the new ROOM_STATE to the room's members, as it would
 *     in production. joins_per_s is joining clients / wall time of that phase;
 *     join_ms is each client's connect-to-ROOM_STATE time;
 *   - with everybody connected: the server's VmRSS and heap (requested bytes,
 *     through a counting allocator) minus its figures before the first
 *     client, divided by the client count;
 *   - room chat fan-out in the first room (32 members, the protocol's
 *     maximum): one member (in turn) sends a room chat, and the time until
 *     each other member has read the CHAT_MESSAGE is one sample; the next
 *     chat goes out once every member has it.
 * A 64-member room does not exist in this protocol (rooms hold at most 32),
 * so the 64-recipient figure is lobby-scope chat on a server with exactly 64
 * clients, which is fanned out the same way (every welcomed connection).
 *
 * Medians over --runs runs; --messages: chats per fan-out measurement.
 * RLIMIT_NOFILE is raised to its hard limit; a client count that does not fit
 * is scaled down and said so in "note".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "lobby/lobby_internal.h"
#include "netcore/lobby.h"

#define DEFAULT_RUNS 3
#define DEFAULT_MESSAGES 200
#define QUICK_RUNS 1
#define QUICK_MESSAGES 5
#define MAX_RUNS 15
#define MAX_MESSAGES 100000
#define SCENARIOS 2
#define FANOUT_CLIENTS 64
/* Joins in flight; below the server's listen backlog (128) so that no SYN is
 * dropped and retried a second later. */
#define JOIN_WINDOW 96
#define RX_BYTES 8192
#define PHASE_LIMIT_NS (120ull * 1000000000ull)
#define CHAT_LIMIT_NS (10ull * 1000000000ull)
#define FD_RESERVE 64

static const uint32_t full_counts[SCENARIOS] = {1000, 5000};
static const uint32_t quick_counts[SCENARIOS] = {48, 96};

/* ------------------------------------------------------------------ */
/* Server process                                                      */
/* ------------------------------------------------------------------ */

typedef struct server_report {
    netcore_lobby_server_stats stats;
    uint64_t heap_live_bytes;
} server_report;

typedef struct server_proc {
    pid_t pid;
    int control_fd; /* write end: 'S' asks for a report, EOF ends the child */
    int reply_fd;   /* read end: the address, then reports */
    netcore_address address;
} server_proc;

static bool read_all(int fd, void *buffer, size_t size)
{
    uint8_t *p = buffer;
    while (size > 0) {
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        size -= (size_t)n;
    }
    return true;
}

static bool write_all(int fd, const void *buffer, size_t size)
{
    const uint8_t *p = buffer;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        size -= (size_t)n;
    }
    return true;
}

static uint64_t now_ms(void) { return bench_now_ns() / 1000000u; }

static void server_child(int control_fd, int reply_fd, uint32_t max_connections)
{
    bench_alloc_counter heap;
    memset(&heap, 0, sizeof heap);
    netcore_lobby_server_config cfg;
    netcore_lobby_server_config_default(&cfg);
    cfg.allocator = bench_counting_allocator(&heap);
    cfg.listen[0] = netcore_address_ipv4(127, 0, 0, 1, 0);
    cfg.max_connections = max_connections;
    cfg.max_rooms = max_connections / NETCORE_LOBBY_MAX_PLAYERS + 16;
    /* Generous limits: the figures are about capacity, not about flood control. */
    cfg.messages_per_s = 1000;
    cfg.chat_per_s = 1000;
    cfg.hello_timeout_ms = 120000;
    cfg.idle_timeout_ms = 600000;
    cfg.game_address = netcore_address_ipv4(127, 0, 0, 1, 7778);
    for (int i = 0; i < NETCORE_TOKEN_KEY_BYTES; i++)
        cfg.key[i] = (uint8_t)(i * 7 + 1);
    cfg.seed = 42;
    netcore_lobby_server *server = NULL;
    netcore_address address;
    memset(&address, 0, sizeof address);
    if (netcore_lobby_server_create(&cfg, &server) != NETCORE_OK ||
        netcore_lobby_server_address(server, 0, &address) != NETCORE_OK) {
        (void)write_all(reply_fd, &address, sizeof address);
        _exit(1);
    }
    (void)write_all(reply_fd, &address, sizeof address);
    fcntl(control_fd, F_SETFL, fcntl(control_fd, F_GETFL, 0) | O_NONBLOCK);
    for (;;) {
        netcore_lobby_server_update(server, now_ms(), 5);
        char c;
        ssize_t n = read(control_fd, &c, 1);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;
        if (n == 1) {
            server_report report;
            memset(&report, 0, sizeof report);
            netcore_lobby_server_get_stats(server, &report.stats);
            report.heap_live_bytes = heap.live_bytes;
            if (!write_all(reply_fd, &report, sizeof report))
                break;
        }
    }
    netcore_lobby_server_destroy(server);
    _exit(0);
}

static bool server_start(server_proc *p, uint32_t max_connections)
{
    int control[2], reply[2];
    if (pipe(control) != 0)
        return false;
    if (pipe(reply) != 0) {
        close(control[0]);
        close(control[1]);
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(control[1]);
        close(reply[0]);
        server_child(control[0], reply[1], max_connections);
    }
    close(control[0]);
    close(reply[1]);
    p->pid = pid;
    p->control_fd = control[1];
    p->reply_fd = reply[0];
    if (pid < 0 || !read_all(p->reply_fd, &p->address, sizeof p->address) ||
        p->address.port == 0) {
        close(p->control_fd);
        close(p->reply_fd);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        return false;
    }
    return true;
}

static bool server_report_get(const server_proc *p, server_report *out)
{
    return write_all(p->control_fd, "S", 1) && read_all(p->reply_fd, out, sizeof *out);
}

static void server_stop(server_proc *p)
{
    close(p->control_fd);
    close(p->reply_fd);
    int status = 0;
    waitpid(p->pid, &status, 0);
}

/* VmRSS of a process in bytes; NaN if unreadable. */
static double process_rss_bytes(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return NAN;
    char line[256];
    double kib = NAN;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtod(line + 6, NULL);
            break;
        }
    fclose(f);
    return kib * 1024.0;
}

/* CPU time of a process in nanoseconds: the scheduler's count
 * (/proc/PID/schedstat, nanosecond resolution) when there is one, else
 * utime + stime (clock ticks); 0 if unreadable. The server is one thread. */
static uint64_t process_cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    FILE *sched = fopen(path, "r");
    if (sched) {
        unsigned long long run_ns = 0;
        int fields = fscanf(sched, "%llu", &run_ns);
        fclose(sched);
        if (fields == 1)
            return run_ns;
    }
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char buffer[1024];
    size_t n = fread(buffer, 1, sizeof buffer - 1, f);
    fclose(f);
    buffer[n] = '\0';
    /* Fields after the command name, which is in parentheses and may hold spaces. */
    char *p = strrchr(buffer, ')');
    if (!p)
        return 0;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return 0;
    long ticks = sysconf(_SC_CLK_TCK);
    return ticks > 0 ? (utime + stime) * (1000000000ull / (uint64_t)ticks) : 0;
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */
/* ------------------------------------------------------------------ */

typedef enum bot_state {
    BOT_IDLE = 0,
    BOT_CONNECTING,
    BOT_HELLO_SENT,
    BOT_CREATE_SENT,
    BOT_JOIN_SENT,
    BOT_READY, /* in a room (or welcomed, for the lobby-scope fan-out) */
    BOT_FAILED
} bot_state;

typedef struct bot {
    int fd;
    uint8_t state;
    bool creator;       /* makes a room instead of joining one */
    bool lobby_only;    /* stops at WELCOME */
    uint32_t room_index;
    uint32_t chats;     /* CHAT_MESSAGEs read */
    uint64_t start_ns;
    size_t rx_len;
    uint8_t rx[RX_BYTES];
} bot;

typedef struct swarm {
    bot *bots;
    uint32_t count;
    int epoll_fd;
    netcore_address server;
    uint32_t *room_ids; /* per room index, learned from the creators' ROOM_STATE */
    uint32_t rooms;
    uint32_t in_flight;
    uint32_t done;   /* bots that reached BOT_READY */
    uint32_t failed;
    double *join_ms; /* per completed joiner */
    uint32_t join_count;
    uint64_t chat_wait_ns; /* when the chat being timed was sent */
    double *chat_ms;
    size_t chat_samples;
    size_t chat_capacity;
    uint32_t chat_sender;
    nci_lobby_msg msg; /* scratch for encoding and the few decodes */
} swarm;

static bool send_msg(swarm *w, bot *b, const nci_lobby_msg *m)
{
    uint8_t frame[512];
    size_t size = 0;
    if (nci_lobby_encode(m, frame, sizeof frame, &size) != NETCORE_OK)
        return false;
    /* Requests are tiny and the socket's buffer holds far more than the
     * few outstanding ones, so a short write means a broken connection. */
    ssize_t n = send(b->fd, frame, size, MSG_NOSIGNAL);
    (void)w;
    return n == (ssize_t)size;
}

static void bot_fail(swarm *w, bot *b)
{
    if (b->state == BOT_FAILED)
        return;
    if (b->state != BOT_READY && b->state != BOT_IDLE && w->in_flight > 0)
        w->in_flight--;
    b->state = BOT_FAILED;
    w->failed++;
}

static void bot_ready(swarm *w, bot *b)
{
    b->state = BOT_READY;
    w->in_flight--;
    w->done++;
    if (!b->creator && !b->lobby_only && w->join_ms)
        w->join_ms[w->join_count++] = (double)(bench_now_ns() - b->start_ns) / 1e6;
}

static bool bot_start(swarm *w, uint32_t index)
{
    bot *b = &w->bots[index];
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, w->server.bytes, 4);
    sin.sin_port = htons(w->server.port);
    b->start_ns = bench_now_ns();
    b->rx_len = 0;
    b->chats = 0;
    b->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    w->in_flight++;
    b->state = BOT_CONNECTING;
    if (b->fd < 0) {
        bot_fail(w, b);
        return false;
    }
    int one = 1;
    setsockopt(b->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Closed with a reset at the end: no TIME_WAIT, so repeated runs do not
     * run out of ephemeral ports. */
    struct linger off = {1, 0};
    setsockopt(b->fd, SOL_SOCKET, SO_LINGER, &off, sizeof off);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u32 = index;
    if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, b->fd, &ev) != 0 ||
        (connect(b->fd, (struct sockaddr *)&sin, sizeof sin) != 0 && errno != EINPROGRESS)) {
        bot_fail(w, b);
        return false;
    }
    return true;
}

static void bot_connected(swarm *w, uint32_t index)
{
    bot *b = &w->bots[index];
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
        bot_fail(w, b);
        return;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u32 = index;
    epoll_ctl(w->epoll_fd, EPOLL_CTL_MOD, b->fd, &ev);
    nci_lobby_msg *m = &w->msg;
    memset(m, 0, sizeof *m);
    m->type = NCI_LOBBY_HELLO;
    m->u.hello.version = NETCORE_LOBBY_PROTOCOL_VERSION;
    snprintf(m->u.hello.nickname, sizeof m->u.hello.nickname, "bot%u", index);
    b->state = BOT_HELLO_SENT;
    if (!send_msg(w, b, m))
        bot_fail(w, b);
}

static void bot_frame(swarm *w, uint32_t index, const uint8_t *body, size_t size, uint64_t now_ns)
{
    bot *b = &w->bots[index];
    nci_lobby_msg *m = &w->msg;
    uint8_t type = body[0];
    if (type == NCI_LOBBY_ERROR) {
        bot_fail(w, b);
        return;
    }
    if (type == NCI_LOBBY_CHAT_MESSAGE) {
        b->chats++;
        if (w->chat_wait_ns != 0 && index != w->chat_sender && w->chat_samples < w->chat_capacity)
            w->chat_ms[w->chat_samples++] = (double)(now_ns - w->chat_wait_ns) / 1e6;
        return;
    }
    if (type == NCI_LOBBY_WELCOME && b->state == BOT_HELLO_SENT) {
        if (b->lobby_only) {
            bot_ready(w, b);
            return;
        }
        memset(m, 0, sizeof *m);
        if (b->creator) {
            m->type = NCI_LOBBY_CREATE_ROOM;
            snprintf(m->u.create_room.name, sizeof m->u.create_room.name, "room%u", b->room_index);
            m->u.create_room.max_players = NETCORE_LOBBY_MAX_PLAYERS;
            b->state = BOT_CREATE_SENT;
        } else {
            m->type = NCI_LOBBY_JOIN_ROOM;
            m->u.join_room.room_id = w->room_ids[b->room_index];
            b->state = BOT_JOIN_SENT;
        }
        if (!send_msg(w, b, m))
            bot_fail(w, b);
        return;
    }
    if (type == NCI_LOBBY_ROOM_STATE && b->state == BOT_CREATE_SENT) {
        /* Only the creators decode one: they learn their room's id. */
        if (nci_lobby_decode(body, size, m) != NETCORE_OK) {
            bot_fail(w, b);
            return;
        }
        w->room_ids[b->room_index] = m->u.room_state.room_id;
        bot_ready(w, b);
        return;
    }
    /* A client is in no room before its join, so the first ROOM_STATE it
     * reads after JOIN_ROOM is the one that lists it. */
    if (type == NCI_LOBBY_ROOM_STATE && b->state == BOT_JOIN_SENT)
        bot_ready(w, b);
}

static void bot_read(swarm *w, uint32_t index)
{
    bot *b = &w->bots[index];
    for (int reads = 0; reads < 8; reads++) {
        ssize_t n = recv(b->fd, b->rx + b->rx_len, sizeof b->rx - b->rx_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, b->fd, NULL);
            bot_fail(w, b);
            return;
        }
        uint64_t now_ns = bench_now_ns();
        b->rx_len += (size_t)n;
        size_t pos = 0;
        for (;;) {
            size_t body = 0;
            nci_lobby_frame_status st =
                nci_lobby_frame_peek(b->rx + pos, b->rx_len - pos, sizeof b->rx - 4, &body);
            if (st == NCI_LOBBY_FRAME_NEED_MORE)
                break;
            if (st != NCI_LOBBY_FRAME_READY) {
                epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, b->fd, NULL);
                bot_fail(w, b);
                return;
            }
            bot_frame(w, index, b->rx + pos + NCI_LOBBY_LENGTH_BYTES, body, now_ns);
            pos += NCI_LOBBY_LENGTH_BYTES + body;
        }
        memmove(b->rx, b->rx + pos, b->rx_len - pos);
        b->rx_len -= pos;
    }
}

/* One epoll round: waits up to timeout_ms, handles what is ready. */
static void swarm_poll(swarm *w, int timeout_ms)
{
    struct epoll_event events[256];
    int n = epoll_wait(w->epoll_fd, events, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        uint32_t index = events[i].data.u32;
        bot *b = &w->bots[index];
        if (b->state == BOT_FAILED || b->state == BOT_IDLE)
            continue;
        if (b->state == BOT_CONNECTING) {
            if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                bot_connected(w, index);
            continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            bot_read(w, index);
    }
}

/* Starts bots [first, first + count) with at most window in flight and waits
 * until each is ready or failed. false on the time limit. */
static bool swarm_run(swarm *w, uint32_t first, uint32_t count, uint32_t window)
{
    uint32_t next = first, end = first + count;
    uint32_t target = w->done + w->failed + count;
    uint64_t deadline = bench_now_ns() + PHASE_LIMIT_NS;
    while (w->done + w->failed < target) {
        while (next < end && w->in_flight < window)
            bot_start(w, next++);
        swarm_poll(w, 5);
        if (bench_now_ns() > deadline)
            return false;
    }
    return true;
}

static bool swarm_init(swarm *w, uint32_t count, const netcore_address *server)
{
    memset(w, 0, sizeof *w);
    w->bots = calloc(count, sizeof *w->bots);
    w->join_ms = calloc(count, sizeof *w->join_ms);
    w->room_ids = calloc(count / NETCORE_LOBBY_MAX_PLAYERS + 2, sizeof *w->room_ids);
    w->epoll_fd = epoll_create1(0);
    w->count = count;
    w->server = *server;
    if (!w->bots || !w->join_ms || !w->room_ids || w->epoll_fd < 0)
        return false;
    for (uint32_t i = 0; i < count; i++)
        w->bots[i].fd = -1;
    return true;
}

static void swarm_free(swarm *w)
{
    for (uint32_t i = 0; w->bots && i < w->count; i++)
        if (w->bots[i].fd >= 0)
            close(w->bots[i].fd);
    if (w->epoll_fd >= 0)
        close(w->epoll_fd);
    free(w->bots);
    free(w->join_ms);
    free(w->room_ids);
    free(w->chat_ms);
}

/* Sends `messages` chats in turn from members[] (scope as given) and records,
 * per chat, each other member's receive delay. Returns samples recorded. */
static size_t measure_fanout(swarm *w, const uint32_t *members, uint32_t member_count,
                             uint8_t scope, uint32_t messages)
{
    free(w->chat_ms);
    w->chat_capacity = (size_t)messages * member_count;
    w->chat_ms = calloc(w->chat_capacity, sizeof *w->chat_ms);
    w->chat_samples = 0;
    if (!w->chat_ms)
        return 0;
    uint32_t base[FANOUT_CLIENTS];
    if (member_count > FANOUT_CLIENTS)
        return 0;
    for (uint32_t i = 0; i < member_count; i++)
        base[i] = w->bots[members[i]].chats;
    nci_lobby_msg m;
    for (uint32_t k = 0; k < messages; k++) {
        uint32_t sender = members[k % member_count];
        memset(&m, 0, sizeof m);
        m.type = NCI_LOBBY_CHAT;
        m.u.chat.scope = scope;
        snprintf(m.u.chat.text, sizeof m.u.chat.text, "fan-out %u", k);
        w->chat_sender = sender;
        w->chat_wait_ns = bench_now_ns();
        if (!send_msg(w, &w->bots[sender], &m))
            return w->chat_samples;
        uint64_t deadline = w->chat_wait_ns + CHAT_LIMIT_NS;
        for (;;) {
            bool all = true;
            for (uint32_t i = 0; i < member_count && all; i++)
                all = w->bots[members[i]].chats >= base[i] + k + 1 ||
                      w->bots[members[i]].state == BOT_FAILED;
            if (all)
                break;
            if (bench_now_ns() > deadline)
                return w->chat_samples;
            swarm_poll(w, 5);
        }
    }
    w->chat_wait_ns = 0;
    return w->chat_samples;
}

/* ------------------------------------------------------------------ */
/* Scenarios                                                           */
/* ------------------------------------------------------------------ */

typedef struct scenario_result {
    double rss_per_conn_bytes;
    double heap_per_conn_bytes;
    double joins_per_s;
    double join_ms_p50;
    double join_ms_p99;
    double server_cpu_share; /* server CPU time / wall time during the joins */
    double client_cpu_share;
    double fanout_ms_p50;
    double fanout_ms_p99;
    uint32_t room_members;
    uint32_t failures;
    uint64_t slow_reader_dropped;
} scenario_result;

static void percentiles(double *values, size_t count, double *p50, double *p99)
{
    bench_sort_doubles(values, count);
    *p50 = bench_percentile_sorted(values, count, 50);
    *p99 = bench_percentile_sorted(values, count, 99);
}

static void wait_quiet(swarm *w, uint32_t ms)
{
    uint64_t until = bench_now_ns() + (uint64_t)ms * 1000000u;
    while (bench_now_ns() < until)
        swarm_poll(w, 5);
}

static bool run_scenario(uint32_t clients, uint32_t messages, scenario_result *out)
{
    memset(out, 0, sizeof *out);
    out->rss_per_conn_bytes = out->heap_per_conn_bytes = out->joins_per_s = NAN;
    out->join_ms_p50 = out->join_ms_p99 = out->fanout_ms_p50 = out->fanout_ms_p99 = NAN;
    out->server_cpu_share = out->client_cpu_share = NAN;
    server_proc p;
    if (!server_start(&p, clients + 16))
        return false;
    swarm w;
    bool ok = swarm_init(&w, clients, &p.address);
    server_report before, after;
    ok = ok && server_report_get(&p, &before);
    double rss_before = process_rss_bytes(p.pid);
    uint32_t rooms = (clients + NETCORE_LOBBY_MAX_PLAYERS - 1) / NETCORE_LOBBY_MAX_PLAYERS;
    w.rooms = rooms;
    for (uint32_t i = 0; ok && i < clients; i++) {
        w.bots[i].creator = i < rooms;
        w.bots[i].room_index = i < rooms ? i : (i - rooms) % rooms;
    }
    ok = ok && swarm_run(&w, 0, rooms, JOIN_WINDOW) && w.failed == 0;

    uint64_t wall0 = bench_now_ns(), server0 = process_cpu_ns(p.pid), client0 = bench_cpu_time_ns();
    ok = ok && swarm_run(&w, rooms, clients - rooms, JOIN_WINDOW);
    uint64_t wall = bench_now_ns() - wall0;
    uint64_t server_cpu = process_cpu_ns(p.pid) - server0;
    uint64_t client_cpu = bench_cpu_time_ns() - client0;
    if (ok) {
        out->joins_per_s = (double)w.join_count / ((double)wall / 1e9);
        out->server_cpu_share = (double)server_cpu / (double)wall;
        out->client_cpu_share = (double)client_cpu / (double)wall;
        percentiles(w.join_ms, w.join_count, &out->join_ms_p50, &out->join_ms_p99);
    }
    /* Let the last ROOM_STATE broadcasts drain before reading memory. */
    wait_quiet(&w, 200);
    ok = ok && server_report_get(&p, &after);
    double rss_after = process_rss_bytes(p.pid);
    if (ok && after.stats.connections >= clients) {
        out->rss_per_conn_bytes = (rss_after - rss_before) / clients;
        out->heap_per_conn_bytes =
            ((double)after.heap_live_bytes - (double)before.heap_live_bytes) / clients;
    }

    /* The first room: its creator and the joiners of room index 0. */
    uint32_t members[NETCORE_LOBBY_MAX_PLAYERS];
    uint32_t member_count = 0;
    for (uint32_t i = 0; ok && i < clients && member_count < NETCORE_LOBBY_MAX_PLAYERS; i++)
        if (w.bots[i].room_index == 0 && w.bots[i].state == BOT_READY)
            members[member_count++] = i;
    out->room_members = member_count;
    if (ok && member_count >= 2) {
        size_t samples = measure_fanout(&w, members, member_count, NETCORE_LOBBY_CHAT_ROOM, messages);
        if (samples == (size_t)messages * (member_count - 1))
            percentiles(w.chat_ms, samples, &out->fanout_ms_p50, &out->fanout_ms_p99);
    }
    server_report last;
    if (server_report_get(&p, &last))
        out->slow_reader_dropped = last.stats.slow_reader_dropped;
    out->failures = w.failed;
    swarm_free(&w);
    server_stop(&p);
    return ok;
}

static bool run_lobby_fanout(uint32_t messages, double *p50, double *p99)
{
    *p50 = *p99 = NAN;
    server_proc p;
    if (!server_start(&p, FANOUT_CLIENTS + 16))
        return false;
    swarm w;
    bool ok = swarm_init(&w, FANOUT_CLIENTS, &p.address);
    for (uint32_t i = 0; ok && i < FANOUT_CLIENTS; i++)
        w.bots[i].lobby_only = true;
    ok = ok && swarm_run(&w, 0, FANOUT_CLIENTS, JOIN_WINDOW) && w.failed == 0;
    uint32_t members[FANOUT_CLIENTS];
    for (uint32_t i = 0; i < FANOUT_CLIENTS; i++)
        members[i] = i;
    if (ok) {
        size_t samples =
            measure_fanout(&w, members, FANOUT_CLIENTS, NETCORE_LOBBY_CHAT_LOBBY, messages);
        ok = samples == (size_t)messages * (FANOUT_CLIENTS - 1);
        if (ok)
            percentiles(w.chat_ms, samples, p50, p99);
    }
    swarm_free(&w);
    server_stop(&p);
    return ok;
}

/* Raises the soft descriptor limit to the hard one; returns the soft limit. */
static uint64_t raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur == RLIM_INFINITY ? UINT32_MAX : (uint64_t)rl.rlim_cur;
}

int main(int argc, char **argv)
{
    static const char usage[] =
        "usage: lobby_bench [--quick] [--runs N] [--messages N]\n"
        "  --messages N  room chats per fan-out measurement (default 200)\n";
    bench_options o = {false, DEFAULT_RUNS, DEFAULT_MESSAGES};
    bench_args_result a =
        bench_options_parse(argc, argv, usage, QUICK_RUNS, QUICK_MESSAGES, MAX_RUNS, MAX_MESSAGES, &o);
    if (a != BENCH_ARGS_OK)
        return a == BENCH_ARGS_HELP ? 0 : 2;
    if (netcore_init() != NETCORE_OK)
        return 1;
    signal(SIGPIPE, SIG_IGN);

    uint64_t fd_limit = raise_fd_limit();
    char note[256] = "";
    uint32_t counts[SCENARIOS];
    for (int s = 0; s < SCENARIOS; s++) {
        uint32_t wanted = o.quick ? quick_counts[s] : full_counts[s];
        /* Each process holds its side's sockets: clients in this one,
         * connections in the server's; FD_RESERVE covers the rest. */
        uint64_t fit = fd_limit > FD_RESERVE ? fd_limit - FD_RESERVE : 0;
        counts[s] = wanted <= fit ? wanted : (uint32_t)fit;
        if (counts[s] != wanted)
            snprintf(note, sizeof note,
                     "RLIMIT_NOFILE hard limit %llu: %u-client scenario scaled down to %u",
                     (unsigned long long)fd_limit, wanted, counts[s]);
    }

    static double rss[SCENARIOS][MAX_RUNS], heap[SCENARIOS][MAX_RUNS], joins[SCENARIOS][MAX_RUNS];
    static double join50[SCENARIOS][MAX_RUNS], join99[SCENARIOS][MAX_RUNS];
    static double srv_cpu[SCENARIOS][MAX_RUNS], cli_cpu[SCENARIOS][MAX_RUNS];
    static double fan50[SCENARIOS][MAX_RUNS], fan99[SCENARIOS][MAX_RUNS];
    static double lobby50[MAX_RUNS], lobby99[MAX_RUNS];
    uint32_t members[SCENARIOS] = {0, 0};
    uint64_t failures = 0, slow_readers = 0;
    bool all_ok = true;
    for (uint32_t r = 0; r < o.runs; r++) {
        for (int s = 0; s < SCENARIOS; s++) {
            scenario_result res;
            all_ok &= run_scenario(counts[s], o.messages, &res);
            rss[s][r] = res.rss_per_conn_bytes;
            heap[s][r] = res.heap_per_conn_bytes;
            joins[s][r] = res.joins_per_s;
            join50[s][r] = res.join_ms_p50;
            join99[s][r] = res.join_ms_p99;
            srv_cpu[s][r] = res.server_cpu_share;
            cli_cpu[s][r] = res.client_cpu_share;
            fan50[s][r] = res.fanout_ms_p50;
            fan99[s][r] = res.fanout_ms_p99;
            members[s] = res.room_members;
            failures += res.failures;
            slow_readers += res.slow_reader_dropped;
        }
        all_ok &= run_lobby_fanout(o.messages, &lobby50[r], &lobby99[r]);
    }

    bench_json json;
    bench_json_init(&json, stdout);
    bench_json_object_begin(&json, NULL);
    bench_json_machine(&json);
    bench_json_uint(&json, "runs", o.runs);
    bench_json_uint(&json, "chats_per_fanout", o.messages);
    bench_json_uint(&json, "join_window", JOIN_WINDOW);
    bench_json_uint(&json, "fd_limit", fd_limit);
    bench_json_string(&json, "note", note[0] ? note : NULL);
    for (int s = 0; s < SCENARIOS; s++) {
        char key[32];
        snprintf(key, sizeof key, "clients_%u", counts[s]);
        bench_json_object_begin(&json, key);
        bench_json_uint(&json, "clients", counts[s]);
        bench_json_runs(&json, "rss_per_connection_bytes", rss[s], o.runs);
        bench_json_runs(&json, "heap_per_connection_bytes", heap[s], o.runs);
        bench_json_runs(&json, "joins_per_s", joins[s], o.runs);
        bench_json_runs(&json, "join_ms_p50", join50[s], o.runs);
        bench_json_runs(&json, "join_ms_p99", join99[s], o.runs);
        bench_json_runs(&json, "server_cpu_share_joining", srv_cpu[s], o.runs);
        bench_json_runs(&json, "client_cpu_share_joining", cli_cpu[s], o.runs);
        bench_json_uint(&json, "room_members", members[s]);
        bench_json_runs(&json, "room_chat_fanout_ms_p50", fan50[s], o.runs);
        bench_json_runs(&json, "room_chat_fanout_ms_p99", fan99[s], o.runs);
        bench_json_object_end(&json);
    }
    bench_json_object_begin(&json, "lobby_chat_fanout_64");
    bench_json_uint(&json, "recipients", FANOUT_CLIENTS - 1);
    bench_json_runs(&json, "fanout_ms_p50", lobby50, o.runs);
    bench_json_runs(&json, "fanout_ms_p99", lobby99, o.runs);
    bench_json_object_end(&json);
    bench_json_uint(&json, "client_failures", failures);
    bench_json_uint(&json, "server_slow_reader_drops", slow_readers);
    bench_json_bool(&json, "complete", all_ok);
    bench_json_object_end(&json);
    bench_json_finish(&json);
    netcore_shutdown();
    return all_ok ? 0 : 1;
}
