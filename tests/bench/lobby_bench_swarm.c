/* lobby_bench's server process and client swarm: see lobby_bench_swarm.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "lobby_bench_swarm.h"

/* ------------------------------------------------------------------ */
/* Server process                                                      */
/* ------------------------------------------------------------------ */

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

static uint64_t now_us(void)
{
    return bench_now_ns() / 1000u;
}

/* A cluster node waits until it has reached Redis before it tells its
 * address (a zero address when it could not within this long). */
#define CLUSTER_UP_LIMIT_NS 10000000000ull

static bool cluster_wait_up(netcore_lobby_server *server)
{
    netcore_lobby_server_stats st;
    memset(&st, 0, sizeof st);
    uint64_t deadline = bench_now_ns() + CLUSTER_UP_LIMIT_NS;
    while (!st.cluster_up && bench_now_ns() < deadline) {
        netcore_lobby_server_update(server, now_us(), 5);
        netcore_lobby_server_get_stats(server, &st);
    }
    return st.cluster_up;
}

static void server_child(int control_fd, int reply_fd, uint32_t max_connections,
                         const char *cert_file, const char *key_file, const server_cluster *cluster)
{
    /* The child starts as a copy of the parent, whose freed heap is still
     * resident: handed back first, so that the server's own pages are what
     * its VmRSS grows by (glibc). */
    malloc_trim(0);
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
    cfg.tls_cert_file = cert_file;
    cfg.tls_key_file = key_file;
    if (cluster) {
        cfg.seed = 42 + (uint64_t)cluster->node_index;
        snprintf(cfg.cluster_redis, sizeof cfg.cluster_redis, "%s", cluster->redis_address);
        snprintf(cfg.cluster_node_id, sizeof cfg.cluster_node_id, "bench-%d", cluster->node_index);
    }
    netcore_lobby_server *server = NULL;
    netcore_address address;
    memset(&address, 0, sizeof address);
    if (netcore_lobby_server_create(&cfg, &server) != NETCORE_OK ||
        netcore_lobby_server_address(server, 0, &address) != NETCORE_OK) {
        (void)write_all(reply_fd, &address, sizeof address);
        _exit(1);
    }
    if (cluster && !cluster_wait_up(server))
        memset(&address, 0, sizeof address);
    (void)write_all(reply_fd, &address, sizeof address);
    fcntl(control_fd, F_SETFL, fcntl(control_fd, F_GETFL, 0) | O_NONBLOCK);
    for (;;) {
        netcore_lobby_server_update(server, now_us(), 5);
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

bool server_start(server_proc *p, uint32_t max_connections, const char *cert_file,
                  const char *key_file)
{
    return server_start_node(p, max_connections, cert_file, key_file, NULL);
}

bool server_start_node(server_proc *p, uint32_t max_connections, const char *cert_file,
                       const char *key_file, const server_cluster *cluster)
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
        /* A node sees the end of its control pipe only when no other
         * process holds its write end: the earlier nodes' ends go. */
        for (int i = 0; cluster && i < cluster->other_count; i++) {
            close(cluster->others[i].control_fd);
            close(cluster->others[i].reply_fd);
        }
        server_child(control[0], reply[1], max_connections, cert_file, key_file, cluster);
    }
    close(control[0]);
    close(reply[1]);
    p->pid = pid;
    p->control_fd = control[1];
    p->reply_fd = reply[0];
    if (pid < 0 || !read_all(p->reply_fd, &p->address, sizeof p->address) || p->address.port == 0) {
        close(p->control_fd);
        close(p->reply_fd);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        return false;
    }
    return true;
}

bool server_report_get(const server_proc *p, server_report *out)
{
    return write_all(p->control_fd, "S", 1) && read_all(p->reply_fd, out, sizeof *out);
}

void server_stop(server_proc *p)
{
    close(p->control_fd);
    close(p->reply_fd);
    int status = 0;
    waitpid(p->pid, &status, 0);
}

/* VmRSS of a process in bytes; NaN if unreadable. */
double process_rss_bytes(pid_t pid)
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
uint64_t process_cpu_ns(pid_t pid)
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

static bool send_msg(swarm *w, bot *b, const nci_lobby_msg *m)
{
    uint8_t frame[512];
    size_t size = 0;
    if (nci_lobby_encode(m, frame, sizeof frame, &size) != NETCORE_OK)
        return false;
    /* Requests are tiny and the socket's buffer holds far more than the
     * few outstanding ones, so a short write means a broken connection. */
    (void)w;
    if (b->tls) {
        size_t put = 0;
        return nci_lobby_tls_write(b->tls, frame, size, &put) == NCI_LOBBY_TLS_DONE && put == size;
    }
    ssize_t n = send(b->fd, frame, size, MSG_NOSIGNAL);
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
    if (!b->creator && !b->lobby_only && !b->resume && w->join_ms)
        w->join_ms[w->join_count++] = (double)(bench_now_ns() - b->start_ns) / 1e6;
}

static bool bot_start(swarm *w, uint32_t index)
{
    bot *b = &w->bots[index];
    const netcore_address *server = w->servers ? &w->servers[w->node_of[index]] : &w->server;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, server->bytes, 4);
    sin.sin_port = htons(server->port);
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

static void send_hello(swarm *w, uint32_t index);

/* One TLS handshake step; HELLO once it is done. */
static void bot_handshake(swarm *w, uint32_t index)
{
    bot *b = &w->bots[index];
    nci_lobby_tls_status st = nci_lobby_tls_handshake(b->tls);
    if (st == NCI_LOBBY_TLS_WANT_READ || st == NCI_LOBBY_TLS_WANT_WRITE)
        return;
    if (st != NCI_LOBBY_TLS_DONE) {
        bot_fail(w, b);
        return;
    }
    w->handshakes++;
    send_hello(w, index);
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
    if (w->tls && !b->tls) {
        /* The bench's own server: no verification (a pin check costs one
         * SHA-256 of the certificate, nothing beside a handshake). */
        b->tls = nci_lobby_tls_new(w->tls, b->fd, false, "", false);
        b->state = BOT_HANDSHAKE;
        if (!b->tls)
            bot_fail(w, b);
        else
            bot_handshake(w, index);
        return;
    }
    send_hello(w, index);
}

static void send_hello(swarm *w, uint32_t index)
{
    bot *b = &w->bots[index];
    nci_lobby_msg *m = &w->msg;
    memset(m, 0, sizeof *m);
    m->type = NCI_LOBBY_HELLO;
    m->u.hello.version = NETCORE_LOBBY_PROTOCOL_VERSION;
    snprintf(m->u.hello.nickname, sizeof m->u.hello.nickname, "bot%u", index);
    if (b->resume) {
        m->type = NCI_LOBBY_RECONNECT;
        m->u.reconnect.version = NETCORE_LOBBY_PROTOCOL_VERSION;
        memcpy(m->u.reconnect.token, b->token, sizeof b->token);
    }
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
        bool other_node = !w->node_of || w->node_of[index] != w->node_of[w->chat_sender];
        if (w->chat_wait_ns != 0 && index != w->chat_sender && other_node &&
            w->chat_samples < w->chat_capacity)
            w->chat_ms[w->chat_samples++] = (double)(now_ns - w->chat_wait_ns) / 1e6;
        return;
    }
    if (type == NCI_LOBBY_WELCOME && b->state == BOT_HELLO_SENT) {
        if (w->keep_tokens) {
            if (nci_lobby_decode(body, size, m) != NETCORE_OK) {
                bot_fail(w, b);
                return;
            }
            memcpy(b->token, m->u.welcome.reconnect_token, sizeof b->token);
        }
        /* Resumed: the ROOM_STATE of its room follows. */
        if (b->resume) {
            b->state = BOT_JOIN_SENT;
            return;
        }
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

/* recv(2), through TLS on a TLS run. */
static ssize_t bot_recv(bot *b, uint8_t *into, size_t room)
{
    if (!b->tls)
        return recv(b->fd, into, room, 0);
    size_t got = 0;
    nci_lobby_tls_status st = nci_lobby_tls_read(b->tls, into, room, &got);
    if (st == NCI_LOBBY_TLS_DONE)
        return (ssize_t)got;
    if (st == NCI_LOBBY_TLS_CLOSED)
        return 0;
    errno = st == NCI_LOBBY_TLS_FAILED ? ECONNRESET : EAGAIN;
    return -1;
}

static void bot_read(swarm *w, uint32_t index)
{
    bot *b = &w->bots[index];
    for (int reads = 0; reads < 8 || (b->tls && nci_lobby_tls_pending(b->tls)); reads++) {
        ssize_t n = bot_recv(b, b->rx + b->rx_len, sizeof b->rx - b->rx_len);
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
void swarm_poll(swarm *w, int timeout_ms)
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
        if (b->state == BOT_HANDSHAKE) {
            bot_handshake(w, index);
            continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            bot_read(w, index);
    }
}

/* Starts bots [first, first + count) with at most window in flight and waits
 * until each is ready or failed. false on the time limit. */
bool swarm_run(swarm *w, uint32_t first, uint32_t count, uint32_t window)
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

bool swarm_init(swarm *w, uint32_t count, const netcore_address *server,
                const netcore_lobby_tls *tls)
{
    memset(w, 0, sizeof *w);
    w->tls = tls;
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

void swarm_free(swarm *w)
{
    for (uint32_t i = 0; w->bots && i < w->count; i++) {
        nci_lobby_tls_free(w->bots[i].tls);
        if (w->bots[i].fd >= 0)
            close(w->bots[i].fd);
    }
    if (w->epoll_fd >= 0)
        close(w->epoll_fd);
    free(w->bots);
    free(w->join_ms);
    free(w->room_ids);
    free(w->chat_ms);
}

/* Sends `messages` chats in turn from members[] (scope as given) and records,
 * per chat, each other member's receive delay. Returns samples recorded. */
bool fanout_begin(swarm *w, const uint32_t *members, uint32_t member_count, uint32_t messages)
{
    free(w->chat_ms);
    w->chat_capacity = (size_t)messages * member_count;
    w->chat_ms = calloc(w->chat_capacity, sizeof *w->chat_ms);
    w->chat_samples = 0;
    if (!w->chat_ms || member_count > FANOUT_CLIENTS || member_count == 0)
        return false;
    w->fan_count = member_count;
    for (uint32_t i = 0; i < member_count; i++) {
        w->fan_members[i] = members[i];
        w->fan_base[i] = w->bots[members[i]].chats;
    }
    return true;
}

bool fanout_one(swarm *w, uint8_t scope, uint32_t k)
{
    uint32_t sender = w->fan_members[k % w->fan_count];
    nci_lobby_msg m;
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_CHAT;
    m.u.chat.scope = scope;
    snprintf(m.u.chat.text, sizeof m.u.chat.text, "fan-out %u", k);
    w->chat_sender = sender;
    w->chat_wait_ns = bench_now_ns();
    bool ok = send_msg(w, &w->bots[sender], &m);
    uint64_t deadline = w->chat_wait_ns + CHAT_LIMIT_NS;
    while (ok) {
        bool all = true;
        for (uint32_t i = 0; i < w->fan_count && all; i++)
            all = w->bots[w->fan_members[i]].chats >= w->fan_base[i] + k + 1 ||
                  w->bots[w->fan_members[i]].state == BOT_FAILED;
        if (all)
            break;
        ok = bench_now_ns() <= deadline;
        if (ok)
            swarm_poll(w, 5);
    }
    w->chat_wait_ns = 0;
    return ok;
}

size_t measure_fanout(swarm *w, const uint32_t *members, uint32_t member_count, uint8_t scope,
                      uint32_t messages)
{
    if (!fanout_begin(w, members, member_count, messages))
        return 0;
    for (uint32_t k = 0; k < messages && fanout_one(w, scope, k); k++)
        ;
    return w->chat_samples;
}
