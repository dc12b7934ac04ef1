/* Lobby server: listening sockets, accept, the epoll loop, the timer scan
 * and the end-of-update flush. One connection's buffers, TLS, framing and
 * rate limits are in lobby_conn.c; what the messages mean is handled in
 * lobby_rooms.c.
 *
 * An update costs in proportion to what happens, not to how many clients
 * are connected: epoll reports only the sockets that are ready, connections
 * that queued output are listed as they do (the dirty list), free
 * connection and session slots are stacks, and timeouts are checked by one
 * scan when the earliest deadline is due (see TIMER_SCAN_MIN_MS). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lobby/lobby_cluster.h"
#include "lobby/lobby_internal.h"
#include "lobby/lobby_redis.h"
#include "platform/net_internal.h"

/* Work bound per update, so a burst of connections cannot starve the others. */
#define MAX_ACCEPTS_PER_UPDATE 64
/* How long the listeners rest after accept() ran out of descriptors or memory. */
#define ACCEPT_BACKOFF_MS 100
/* Timeouts (hello, idle, unfinished frame, close linger, reconnect grace)
 * are checked by one scan over the connections and sessions, run in the
 * first update at or after the earliest deadline it found or was told of
 * (nci_lobby_timer_at), but at most every TIMER_SCAN_MIN_MS (so a timeout
 * among many due at once may fire up to that much late) and at least every
 * TIMER_SCAN_MAX_MS. */
#define TIMER_SCAN_MIN_MS 10
#define TIMER_SCAN_MAX_MS 1000

void netcore_lobby_server_config_default(netcore_lobby_server_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->listen[0] = netcore_address_ipv4(0, 0, 0, 0, 7777);
    config->listen_count = 1;
    config->max_connections = 256;
    config->max_rooms = 128;
    config->max_frame_bytes = 16384;
    config->send_buffer_bytes = 65536;
    config->hello_timeout_ms = 5000;
    config->idle_timeout_ms = 60000;
    config->frame_timeout_ms = 10000;
    config->messages_per_s = 20;
    config->chat_per_s = 2;
    config->reconnect_grace_ms = 30000;
    config->token_lifetime_s = 30;
    config->max_game_servers = 16;
    config->registration_skew_s = 60;
    config->game_server_timeout_ms = 0;
    config->discovery_port = 7777;
    config->cluster_node_timeout_ms = 3000;
    snprintf(config->lobby_name, sizeof config->lobby_name, "netcore lobby");
}

static bool config_valid(const netcore_lobby_server_config *c)
{
    return c->listen_count >= 1 && c->listen_count <= NETCORE_LOBBY_MAX_LISTEN &&
           c->max_connections >= 1 && c->max_connections <= 65536 && c->max_rooms >= 1 &&
           c->max_rooms <= 65536 && c->max_frame_bytes >= 256 &&
           c->max_frame_bytes <= NCI_LOBBY_FRAME_HARD_MAX && c->send_buffer_bytes >= 4096 &&
           c->hello_timeout_ms > 0 && c->idle_timeout_ms > 0 && c->frame_timeout_ms > 0 &&
           c->messages_per_s > 0 && c->chat_per_s > 0 && c->token_lifetime_s >= 1 &&
           c->token_lifetime_s <= 86400 && c->max_game_servers <= 4096 &&
           (!c->discovery_enabled || nci_lobby_name_valid(c->lobby_name, NETCORE_LOBBY_NAME_MAX)) &&
           !c->tls_cert_file == !c->tls_key_file &&
           (!c->cluster_redis[0] || (nci_lobby_cluster_node_id_valid(c->cluster_node_id) &&
                                     c->cluster_node_timeout_ms >= 500)) &&
           (c->game_address.family == NETCORE_ADDRESS_IPV4 ||
            c->game_address.family == NETCORE_ADDRESS_IPV6);
}

static bool set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

static netcore_result open_listener(const netcore_address *address, int *out_fd,
                                    netcore_address *out_bound)
{
    struct sockaddr_storage ss;
    socklen_t len = nci_address_to_sockaddr(address, &ss);
    if (len == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0)
        return NETCORE_ERR_SOCKET;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* One socket per family: an IPv6 listener never also takes IPv4 traffic,
     * so listening on 0.0.0.0 and :: at the same port works everywhere. */
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    if (!set_nonblocking(fd) || bind(fd, (struct sockaddr *)&ss, len) != 0 ||
        listen(fd, 128) != 0 || getsockname(fd, (struct sockaddr *)&bound, &bound_len) != 0 ||
        !nci_address_from_sockaddr((struct sockaddr *)&bound, out_bound)) {
        close(fd);
        return NETCORE_ERR_SOCKET;
    }
    *out_fd = fd;
    return NETCORE_OK;
}

static bool epoll_watch(netcore_lobby_server *s, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    if (epoll_ctl(s->epoll_fd, op, fd, &ev) == 0)
        return true;
    /* Already where it should be (a retry after a partial failure). */
    return (op == EPOLL_CTL_ADD && errno == EEXIST) || (op == EPOLL_CTL_DEL && errno == ENOENT);
}

/* Adds the listeners to the epoll set or takes them out (accept back-off).
 * On failure the next call tries again. */
static bool set_listeners_armed(netcore_lobby_server *s, bool armed)
{
    if (s->listeners_armed == armed)
        return true;
    bool ok = true;
    for (uint32_t i = 0; i < s->config.listen_count; i++)
        ok = epoll_watch(s, armed ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->listen_fds[i], EPOLLIN,
                         NCI_LOBBY_EPOLL_LISTENER + i) && ok;
    if (ok)
        s->listeners_armed = armed;
    return ok;
}

netcore_result netcore_lobby_server_create(const netcore_lobby_server_config *config,
                                           netcore_lobby_server **out_server)
{
    if (!config || !out_server || !config_valid(config))
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_server = NULL;
    if (sodium_init() < 0)
        return NETCORE_ERR_BACKEND;
    const netcore_allocator *a = &config->allocator;
    netcore_lobby_server *s = nci_calloc(a, 1, sizeof *s);
    if (!s)
        return NETCORE_ERR_OUT_OF_MEMORY;
    s->config = *config;
    for (uint32_t i = 0; i < NETCORE_LOBBY_MAX_LISTEN; i++)
        s->listen_fds[i] = -1;
    s->discovery_fd = -1;
    s->epoll_fd = -1;
    s->conn_capacity = config->max_connections;
    /* Lost sessions wait for their reconnect while new connections arrive. */
    s->session_capacity = 2 * config->max_connections;
    /* A cluster node also mirrors the members other nodes hold. */
    if (config->cluster_redis[0])
        s->session_capacity += config->max_rooms * NETCORE_LOBBY_MAX_PLAYERS;
    s->conns = nci_calloc(a, s->conn_capacity, sizeof *s->conns);
    s->sessions = nci_calloc(a, s->session_capacity, sizeof *s->sessions);
    s->rooms = nci_calloc(a, config->max_rooms, sizeof *s->rooms);
    s->events = nci_calloc(a, (size_t)s->conn_capacity + NETCORE_LOBBY_MAX_LISTEN + 1,
                           sizeof *s->events);
    s->free_conns = nci_calloc(a, s->conn_capacity, sizeof *s->free_conns);
    s->free_sessions = nci_calloc(a, s->session_capacity, sizeof *s->free_sessions);
    s->dirty_conns = nci_calloc(a, s->conn_capacity, sizeof *s->dirty_conns);
    s->scratch = nci_alloc(a, NCI_LOBBY_SCRATCH_BYTES);
    /* One spare entry so that a zero max_game_servers still allocates. */
    s->game_servers = nci_calloc(a, (size_t)config->max_game_servers + 1, sizeof *s->game_servers);
    /* Before any failure path: destroy releases the slots whose fd is open. */
    for (uint32_t i = 0; s->conns && i < s->conn_capacity; i++)
        s->conns[i].fd = -1;
    if (!s->conns || !s->sessions || !s->rooms || !s->events || !s->free_conns ||
        !s->free_sessions || !s->dirty_conns || !s->scratch || !s->game_servers) {
        netcore_lobby_server_destroy(s);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    /* The stacks hand out low indices first. */
    for (uint32_t i = 0; i < s->conn_capacity; i++)
        s->free_conns[i] = (int32_t)(s->conn_capacity - 1 - i);
    s->free_conn_count = s->conn_capacity;
    for (uint32_t i = 0; i < s->session_capacity; i++)
        s->free_sessions[i] = (int32_t)(s->session_capacity - 1 - i);
    s->free_session_count = s->session_capacity;
    uint64_t seed = config->seed;
    if (seed == 0)
        randombytes_buf(&seed, sizeof seed);
    nci_rng_seed(&s->rng, seed);
    s->next_room_id = 1;
    s->next_client_id = nci_rng_next(&s->rng);
    if (config->tls_cert_file) {
        char why[160] = "";
        netcore_result tr = nci_lobby_tls_server_context(config->tls_cert_file,
                                                         config->tls_key_file,
                                                         config->tls_allow_tls12,
                                                         &s->tls_context, why, sizeof why);
        if (tr != NETCORE_OK) {
            nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: TLS: %s", why);
            netcore_lobby_server_destroy(s);
            return tr;
        }
    }
    /* The paths were for this call only. */
    s->config.tls_cert_file = s->config.tls_key_file = NULL;
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epoll_fd < 0) {
        nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: cannot create epoll set: %s",
                 strerror(errno));
        netcore_lobby_server_destroy(s);
        return NETCORE_ERR_SOCKET;
    }
    for (uint32_t i = 0; i < config->listen_count; i++) {
        netcore_result r = open_listener(&config->listen[i], &s->listen_fds[i],
                                         &s->listen_addresses[i]);
        if (r != NETCORE_OK) {
            nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: cannot listen (%s): %s",
                     netcore_result_str(r), strerror(errno));
            netcore_lobby_server_destroy(s);
            return r;
        }
    }
    netcore_result r = nci_lobby_discovery_open(s);
    if (r != NETCORE_OK) {
        nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: cannot open discovery (%s)",
                 netcore_result_str(r));
        netcore_lobby_server_destroy(s);
        return r;
    }
    if (!set_listeners_armed(s, true) ||
        (s->discovery_fd >= 0 &&
         !epoll_watch(s, EPOLL_CTL_ADD, s->discovery_fd, EPOLLIN, NCI_LOBBY_EPOLL_DISCOVERY))) {
        nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: cannot watch the listeners: %s",
                 strerror(errno));
        netcore_lobby_server_destroy(s);
        return NETCORE_ERR_SOCKET;
    }
    if (config->cluster_redis[0]) {
        r = nci_lobby_cluster_create(s);
        if (r != NETCORE_OK) {
            nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: cannot join the cluster (%s)",
                     netcore_result_str(r));
            netcore_lobby_server_destroy(s);
            return r;
        }
    }
    *out_server = s;
    return NETCORE_OK;
}


void netcore_lobby_server_destroy(netcore_lobby_server *server)
{
    if (!server)
        return;
    const netcore_allocator a = server->config.allocator;
    nci_lobby_cluster_destroy(server);
    for (uint32_t i = 0; i < NETCORE_LOBBY_MAX_LISTEN; i++)
        if (server->listen_fds[i] >= 0)
            close(server->listen_fds[i]);
    if (server->discovery_fd >= 0)
        close(server->discovery_fd);
    if (server->epoll_fd >= 0)
        close(server->epoll_fd);
    if (server->conns)
        for (uint32_t i = 0; i < server->conn_capacity; i++)
            if (server->conns[i].fd >= 0)
                nci_lobby_conn_release(server, &server->conns[i]);
    netcore_lobby_tls_destroy(server->tls_context);
    nci_free(&a, server->conns);
    if (server->sessions)
        sodium_memzero(server->sessions, (size_t)server->session_capacity * sizeof *server->sessions);
    nci_free(&a, server->sessions);
    nci_free(&a, server->rooms);
    nci_free(&a, server->game_servers);
    nci_free(&a, server->events);
    nci_free(&a, server->free_conns);
    nci_free(&a, server->free_sessions);
    nci_free(&a, server->dirty_conns);
    nci_free(&a, server->scratch);
    sodium_memzero(server->config.key, sizeof server->config.key);
    nci_free(&a, server);
}

netcore_result netcore_lobby_server_address(const netcore_lobby_server *server, uint32_t index,
                                            netcore_address *out_address)
{
    if (!server || !out_address || index >= server->config.listen_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_address = server->listen_addresses[index];
    return NETCORE_OK;
}

netcore_result netcore_lobby_server_get_stats(const netcore_lobby_server *server,
                                              netcore_lobby_server_stats *out_stats)
{
    if (!server || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = server->stats;
    out_stats->connections = server->conn_capacity - server->free_conn_count;
    out_stats->sessions = server->session_capacity - server->free_session_count;
    out_stats->rooms = 0;
    for (uint32_t i = 0; i < server->config.max_rooms; i++)
        out_stats->rooms += server->rooms[i].used;
    out_stats->cluster_up = nci_lobby_cluster_up(server);
    out_stats->cluster_remote_members = 0;
    for (uint32_t i = 0; server->cluster && i < server->session_capacity; i++)
        out_stats->cluster_remote_members += server->sessions[i].used && server->sessions[i].remote;
    out_stats->sessions -= out_stats->cluster_remote_members;
    out_stats->game_servers = 0;
    for (uint32_t i = 0; i < server->config.max_game_servers; i++)
        out_stats->game_servers += server->game_servers[i].used;
    return NETCORE_OK;
}

/* Best-effort SERVER_FULL notice from a stack buffer, then close; no state is kept. */
static void refuse(int fd, uint16_t code, const char *text)
{
    uint8_t frame[128];
    nci_lobby_msg m;
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_ERROR;
    m.u.error.code = code;
    snprintf(m.u.error.text, sizeof m.u.error.text, "%s", text);
    size_t size = 0;
    if (nci_lobby_encode(&m, frame, sizeof frame, &size) == NETCORE_OK)
        (void)send(fd, frame, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}

static bool same_ip(const netcore_address *a, const netcore_address *b)
{
    size_t n = a->family == NETCORE_ADDRESS_IPV4 ? 4 : 16;
    return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

static bool over_ip_limit(const netcore_lobby_server *s, const netcore_address *peer)
{
    uint32_t limit = s->config.max_connections_per_ip;
    if (limit == 0)
        return false;
    uint32_t open = 0;
    for (uint32_t k = 0; k < s->conn_capacity && open < limit; k++)
        open += s->conns[k].fd >= 0 && same_ip(&s->conns[k].peer, peer);
    return open >= limit;
}

static void accept_connections(netcore_lobby_server *s, int listen_fd)
{
    for (int i = 0; i < MAX_ACCEPTS_PER_UPDATE; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept(listen_fd, (struct sockaddr *)&ss, &len);
        if (fd < 0) {
            /* The pending connection stays queued and the listener stays
             * readable, so epoll_wait() would return at once for as long as
             * descriptors or memory are short: pause the listeners instead
             * of spinning. Connections already open keep being served. */
            int error = errno;
            if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
                s->accept_paused_until_ms = s->now_ms + ACCEPT_BACKOFF_MS;
                s->stats.accept_backoffs++;
                if (nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000))
                    nci_logf(&s->config.log, NETCORE_LOG_WARN,
                             "lobby: cannot accept (%s), pausing for %d ms", strerror(error),
                             ACCEPT_BACKOFF_MS);
            }
            return;
        }
        netcore_address peer;
        nci_address_from_sockaddr((struct sockaddr *)&ss, &peer);
        if (nci_lobby_ip_banned(s, &peer)) {
            refuse(fd, NETCORE_LOBBY_ERR_RATE_LIMITED, "rate limited: try again later");
            s->stats.connections_rejected_banned++;
            continue;
        }
        if (over_ip_limit(s, &peer)) {
            refuse(fd, NETCORE_LOBBY_ERR_SERVER_FULL, "too many connections from this address");
            s->stats.connections_rejected_per_ip++;
            continue;
        }
        int32_t slot = s->free_conn_count > 0 ? s->free_conns[--s->free_conn_count] : NCI_LOBBY_NONE;
        nci_lobby_conn *c = slot == NCI_LOBBY_NONE ? NULL : &s->conns[slot];
        if (c) {
            c->recv = nci_alloc(&s->config.allocator, (size_t)s->config.max_frame_bytes + 4);
            c->send = nci_alloc(&s->config.allocator, s->config.send_buffer_bytes);
        }
        if (c && s->tls_context)
            c->tls = nci_lobby_tls_new(s->tls_context, fd, true, NULL, false);
        if (!c || !c->recv || !c->send || (s->tls_context && !c->tls) || !set_nonblocking(fd) ||
            !epoll_watch(s, EPOLL_CTL_ADD, fd, EPOLLIN, (uint64_t)slot)) {
            refuse(fd, NETCORE_LOBBY_ERR_SERVER_FULL, "server full");
            s->stats.connections_rejected_full++;
            if (c) {
                c->fd = -1;
                nci_lobby_conn_release(s, c);
            }
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->peer = peer;
        c->session = NCI_LOBBY_NONE;
        c->game_server = NCI_LOBBY_NONE;
        c->opened_ms = c->last_frame_ms = s->now_ms;
        c->serial = ++s->next_conn_serial;
        nci_lobby_bucket_fill(s, &c->bucket);
        nci_lobby_conn_timer(s, c);
        s->stats.connections_accepted++;
    }
}

/* Checks every connection's deadlines and the lost sessions' grace, and
 * gathers the earliest deadline still ahead. */
static void run_timers(netcore_lobby_server *s)
{
    const netcore_lobby_server_config *cfg = &s->config;
    s->next_timer_scan_ms = s->now_ms + TIMER_SCAN_MAX_MS;
    s->timer_floor_ms = s->now_ms + TIMER_SCAN_MIN_MS;
    for (uint32_t i = 0; i < s->conn_capacity; i++) {
        nci_lobby_conn *c = &s->conns[i];
        if (c->fd < 0)
            continue;
        if (c->closing) {
            if (s->now_ms >= c->close_deadline_ms)
                nci_lobby_conn_close_now(s, (int32_t)i);
            else
                nci_lobby_conn_timer(s, c);
            continue;
        }
        const char *why = NULL;
        bool game_server = c->game_server != NCI_LOBBY_NONE;
        uint64_t idle_ms = game_server && cfg->game_server_timeout_ms > 0
                               ? cfg->game_server_timeout_ms
                               : cfg->idle_timeout_ms;
        if (c->session == NCI_LOBBY_NONE && !game_server &&
            s->now_ms - c->opened_ms >= cfg->hello_timeout_ms)
            why = c->tls && !c->tls_ready ? "no TLS handshake in time" : "no hello in time";
        else if (s->now_ms - c->last_frame_ms >= idle_ms)
            why = game_server ? "no game server heartbeat in time" : "idle";
        else if (c->recv_len > 0 && s->now_ms - c->partial_since_ms >= cfg->frame_timeout_ms)
            why = "frame not completed in time";
        if (why) {
            s->stats.timeout_dropped++;
            nci_lobby_fail(s, (int32_t)i, NETCORE_LOBBY_ERR_TIMEOUT, why);
        }
        if (c->fd >= 0)
            nci_lobby_conn_timer(s, c);
    }
    nci_lobby_expire_sessions(s);
}

/* For every listed connection: hand its queued output to the kernel,
 * half-close it once a closing connection has flushed, and ask epoll for
 * writability exactly while output is left. */
static void flush_dirty(netcore_lobby_server *s)
{
    for (uint32_t k = 0; k < s->dirty_count; k++) {
        int32_t index = s->dirty_conns[k];
        nci_lobby_conn *c = &s->conns[index];
        c->dirty = false;
        if (c->fd < 0)
            continue;
        if (c->send_len > c->send_off)
            nci_lobby_conn_flush(c);
        bool pending = c->send_len > c->send_off || c->tls_read_wants_write;
        if (c->closing && !pending && !c->write_shut) {
            if (c->tls && c->tls_ready)
                nci_lobby_tls_close_notify(c->tls);
            shutdown(c->fd, SHUT_WR);
            c->write_shut = true;
        }
        if (pending != c->want_write &&
            epoll_watch(s, EPOLL_CTL_MOD, c->fd, EPOLLIN | (pending ? EPOLLOUT : 0u),
                        (uint64_t)index))
            c->want_write = pending;
    }
    s->dirty_count = 0;
}

netcore_result netcore_lobby_server_update(netcore_lobby_server *server, uint64_t now_ms,
                                           uint32_t timeout_ms)
{
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_lobby_server *s = server;
    /* The caller's clock never runs backwards for us. */
    if (now_ms > s->now_ms)
        s->now_ms = now_ms;
    /* Output queued between updates (netcore_lobby_server_end_match) goes
     * out before waiting. */
    flush_dirty(s);
    bool accepting = s->now_ms >= s->accept_paused_until_ms;
    if (!accepting && s->accept_paused_until_ms - s->now_ms < timeout_ms)
        timeout_ms = (uint32_t)(s->accept_paused_until_ms - s->now_ms);
    /* A failure here is retried next update; the connections are served meanwhile. */
    if (!set_listeners_armed(s, accepting) &&
        nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000))
        nci_logf(&s->config.log, NETCORE_LOG_WARN, "lobby: cannot %s the listeners: %s",
                 accepting ? "resume" : "pause", strerror(errno));
    if (s->cluster) {
        uint32_t cluster_wait_ms = nci_lobby_cluster_tick(s);
        if (timeout_ms > cluster_wait_ms)
            timeout_ms = cluster_wait_ms;
    }
    int max_events = (int)(s->conn_capacity + NETCORE_LOBBY_MAX_LISTEN + 1);
    int ready = epoll_wait(s->epoll_fd, s->events, max_events,
                           (int)(timeout_ms > 60000 ? 60000 : timeout_ms));
    if (ready < 0 && errno != EINTR)
        return NETCORE_ERR_SOCKET;
    for (int k = 0; k < ready; k++) {
        uint32_t re = s->events[k].events;
        uint64_t data = s->events[k].data.u64;
        if (data >= NCI_LOBBY_EPOLL_REDIS) {
            nci_lobby_cluster_io(s, (uint32_t)(data - NCI_LOBBY_EPOLL_REDIS), re);
            continue;
        }
        if (data >= NCI_LOBBY_EPOLL_DISCOVERY) {
            nci_lobby_discovery_read(s);
            continue;
        }
        if (data >= NCI_LOBBY_EPOLL_LISTENER) {
            /* The back-off may have started earlier in this batch. */
            if (s->now_ms >= s->accept_paused_until_ms)
                accept_connections(s, s->listen_fds[data - NCI_LOBBY_EPOLL_LISTENER]);
            continue;
        }
        int32_t index = (int32_t)data;
        /* The slot may have been closed while handling an earlier event; if
         * it was reused meanwhile, the new socket is merely tried once. */
        if (s->conns[index].fd < 0)
            continue;
        if ((re & (EPOLLIN | EPOLLHUP | EPOLLERR)) ||
            ((re & EPOLLOUT) && s->conns[index].tls_read_wants_write))
            nci_lobby_conn_read(s, index);
        if (s->conns[index].fd >= 0 && (re & EPOLLOUT)) {
            nci_lobby_conn_flush(&s->conns[index]);
            nci_lobby_mark_dirty(s, &s->conns[index]);
        }
    }
    if (s->now_ms >= s->next_timer_scan_ms && s->now_ms >= s->timer_floor_ms)
        run_timers(s);
    /* Frames queued while handling input go out now rather than next update. */
    flush_dirty(s);
    return NETCORE_OK;
}
