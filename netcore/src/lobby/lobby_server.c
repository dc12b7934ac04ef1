/* Lobby server, connection layer: listening sockets, epoll loop, bounded
 * per-connection buffers, framing, timeouts and rate limits. What the
 * messages mean is handled in lobby_rooms.c.
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

#include "lobby/lobby_internal.h"
#include "platform/net_internal.h"

/* A closing connection gets this long to flush its final ERROR. */
#define CLOSE_LINGER_MS 1000
/* Work bounds per connection and update, so one busy client cannot starve others. */
#define MAX_READS_PER_UPDATE 4
#define MAX_ACCEPTS_PER_UPDATE 64
/* How long the listeners rest after accept() ran out of descriptors or memory. */
#define ACCEPT_BACKOFF_MS 100
/* Kept free in every send buffer for the ERROR(SLOW_READER) that closes a
 * connection whose buffer is otherwise full (largest ERROR frame: 137 bytes). */
#define SLOW_READER_RESERVE_BYTES 160
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
           (!c->discovery_enabled || nci_lobby_text_valid(c->lobby_name, NETCORE_LOBBY_NAME_MAX, true)) &&
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
    *out_server = s;
    return NETCORE_OK;
}

/* Closes the socket (which also leaves the epoll set) and returns the slot
 * to the free stack. A slot on the dirty list stays marked: its entry is
 * skipped while free and serves the slot again if it is reused meanwhile. */
static void conn_release(netcore_lobby_server *s, nci_lobby_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    nci_free(&s->config.allocator, c->recv);
    nci_free(&s->config.allocator, c->send);
    bool dirty = c->dirty;
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->session = NCI_LOBBY_NONE;
    c->game_server = NCI_LOBBY_NONE;
    c->dirty = dirty;
    s->free_conns[s->free_conn_count++] = (int32_t)(c - s->conns);
}

void netcore_lobby_server_destroy(netcore_lobby_server *server)
{
    if (!server)
        return;
    const netcore_allocator a = server->config.allocator;
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
                conn_release(server, &server->conns[i]);
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
    out_stats->game_servers = 0;
    for (uint32_t i = 0; i < server->config.max_game_servers; i++)
        out_stats->game_servers += server->game_servers[i].used;
    return NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

/* Lists a connection for the end-of-update pass (see flush_dirty). */
static void mark_dirty(netcore_lobby_server *s, nci_lobby_conn *c)
{
    if (c->dirty)
        return;
    c->dirty = true;
    s->dirty_conns[s->dirty_count++] = (int32_t)(c - s->conns);
}

static void conn_flush(nci_lobby_conn *c)
{
    while (c->send_off < c->send_len) {
        ssize_t n = send(c->fd, c->send + c->send_off, c->send_len - c->send_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->send_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        /* The peer is gone; the read side will notice and close. */
        c->send_off = c->send_len;
        break;
    }
    if (c->send_off == c->send_len)
        c->send_off = c->send_len = 0;
}

/* Appends bytes to a connection's send buffer, using at most cap bytes of
 * it; false when they would not fit. */
static bool conn_queue(netcore_lobby_server *s, nci_lobby_conn *c, const uint8_t *bytes, size_t n,
                       size_t cap)
{
    /* Hand what is queued to the kernel first: a burst of frames within one
     * update is normal, only a peer that stops reading should overflow. */
    if (n > cap - c->send_len)
        conn_flush(c);
    if (c->send_off > 0 && n > cap - c->send_len) {
        memmove(c->send, c->send + c->send_off, c->send_len - c->send_off);
        c->send_len -= c->send_off;
        c->send_off = 0;
    }
    if (n > cap - c->send_len)
        return false;
    memcpy(c->send + c->send_len, bytes, n);
    c->send_len += n;
    s->stats.frames_sent++;
    mark_dirty(s, c);
    return true;
}

void nci_lobby_timer_at(netcore_lobby_server *s, uint64_t deadline_ms)
{
    if (deadline_ms < s->next_timer_scan_ms)
        s->next_timer_scan_ms = deadline_ms;
}

/* Announces the earliest of a connection's deadlines (see run_timers). */
static void conn_timer(netcore_lobby_server *s, const nci_lobby_conn *c)
{
    const netcore_lobby_server_config *cfg = &s->config;
    if (c->closing) {
        nci_lobby_timer_at(s, c->close_deadline_ms);
        return;
    }
    bool game_server = c->game_server != NCI_LOBBY_NONE;
    uint64_t idle_ms = game_server && cfg->game_server_timeout_ms > 0 ? cfg->game_server_timeout_ms
                                                                      : cfg->idle_timeout_ms;
    nci_lobby_timer_at(s, c->last_frame_ms + idle_ms);
    if (c->session == NCI_LOBBY_NONE && !game_server)
        nci_lobby_timer_at(s, c->opened_ms + cfg->hello_timeout_ms);
    if (c->recv_len > 0)
        nci_lobby_timer_at(s, c->partial_since_ms + cfg->frame_timeout_ms);
}

static void conn_close_now(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_conn *c = &s->conns[index];
    int32_t session = c->session;
    int32_t game_server = c->game_server;
    conn_release(s, c);
    if (session != NCI_LOBBY_NONE && s->sessions[session].conn == index)
        nci_lobby_session_lost(s, session, false);
    if (game_server != NCI_LOBBY_NONE)
        nci_lobby_registry_lost(s, game_server);
}

/* Starts the lingering close: stop handling input, flush what is queued,
 * half-close, then wait (bounded) for the peer to close so that unread input
 * does not turn the close into a reset that would discard our last frame. */
void nci_lobby_close(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_conn *c = &s->conns[index];
    if (c->closing)
        return;
    c->closing = true;
    c->close_deadline_ms = s->now_ms + CLOSE_LINGER_MS;
    nci_lobby_timer_at(s, c->close_deadline_ms);
    conn_flush(c);
    mark_dirty(s, c);
    /* A game server's registration ends when its connection starts closing,
     * not after the linger: its rooms must not wait for a dead peer. */
    int32_t game_server = c->game_server;
    if (game_server != NCI_LOBBY_NONE) {
        c->game_server = NCI_LOBBY_NONE;
        nci_lobby_registry_lost(s, game_server);
    }
}

/* Queues one encoded frame on a connection. */
static void queue_frame(netcore_lobby_server *s, int32_t index, const uint8_t *frame, size_t size)
{
    if (index == NCI_LOBBY_NONE)
        return;
    nci_lobby_conn *c = &s->conns[index];
    if (c->fd < 0 || c->closing)
        return;
    size_t cap = s->config.send_buffer_bytes;
    if (conn_queue(s, c, frame, size, cap - SLOW_READER_RESERVE_BYTES))
        return;
    /* A client that does not read must not make the server buffer without
     * bound: it is closed. The frames already queued stay whole, and the
     * reserve left free by every other frame holds the ERROR that follows
     * them, so a client that does catch up reads why it was dropped. The
     * ERROR is encoded on the stack: frame may be the scratch buffer, still
     * needed by the rest of a broadcast. */
    s->stats.slow_reader_dropped++;
    if (nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000))
        nci_logf(&s->config.log, NETCORE_LOG_INFO, "lobby: closing a connection that does not read");
    nci_lobby_msg *m = &s->error_msg;
    m->type = NCI_LOBBY_ERROR;
    m->u.error.code = NETCORE_LOBBY_ERR_SLOW_READER;
    m->u.error.request_type = 0;
    snprintf(m->u.error.text, sizeof m->u.error.text, "not reading fast enough");
    uint8_t notice[SLOW_READER_RESERVE_BYTES];
    size_t notice_size = 0;
    if (nci_lobby_encode(m, notice, sizeof notice, &notice_size) == NETCORE_OK)
        (void)conn_queue(s, c, notice, notice_size, cap);
    nci_lobby_close(s, index);
}

static bool encode_scratch(netcore_lobby_server *s, const nci_lobby_msg *msg, size_t *out_size)
{
    netcore_result r = nci_lobby_encode(msg, s->scratch, NCI_LOBBY_SCRATCH_BYTES, out_size);
    if (r == NETCORE_OK)
        return true;
    nci_logf(&s->config.log, NETCORE_LOG_ERROR, "lobby: cannot encode message 0x%02x: %s",
             msg->type, netcore_result_str(r));
    return false;
}

static void queue_msg(netcore_lobby_server *s, int32_t index, const nci_lobby_msg *msg)
{
    if (index == NCI_LOBBY_NONE || s->conns[index].fd < 0 || s->conns[index].closing)
        return;
    size_t size = 0;
    if (encode_scratch(s, msg, &size))
        queue_frame(s, index, s->scratch, size);
}

void nci_lobby_send_out(netcore_lobby_server *s, int32_t conn) { queue_msg(s, conn, &s->out_msg); }

bool nci_lobby_encode_out(netcore_lobby_server *s)
{
    return encode_scratch(s, &s->out_msg, &s->out_frame_size);
}

void nci_lobby_send_encoded(netcore_lobby_server *s, int32_t conn)
{
    queue_frame(s, conn, s->scratch, s->out_frame_size);
}

void nci_lobby_send_error(netcore_lobby_server *s, int32_t conn, uint16_t code,
                          uint8_t request_type, const char *text)
{
    /* Its own message buffer: an error raised in the middle of a broadcast
     * must not replace the message the other members are about to get. */
    nci_lobby_msg *m = &s->error_msg;
    m->type = NCI_LOBBY_ERROR;
    m->u.error.code = code;
    m->u.error.request_type = request_type;
    snprintf(m->u.error.text, sizeof m->u.error.text, "%s", text ? text : "");
    queue_msg(s, conn, m);
}

void nci_lobby_fail(netcore_lobby_server *s, int32_t conn, uint16_t code, const char *text)
{
    nci_lobby_conn *c = &s->conns[conn];
    if (c->fd < 0 || c->closing)
        return;
    if (nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000)) {
        char peer[NETCORE_ADDRESS_STRLEN];
        netcore_address_format(&c->peer, peer, sizeof peer);
        nci_logf(&s->config.log, NETCORE_LOG_INFO, "lobby: closing %s: %s", peer, text);
    }
    nci_lobby_send_error(s, conn, code, 0, text);
    nci_lobby_close(s, conn);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                           */
/* ------------------------------------------------------------------ */

static void refill_buckets(const netcore_lobby_server *s, nci_lobby_conn *c)
{
    uint64_t elapsed = s->now_ms > c->tokens_ms ? s->now_ms - c->tokens_ms : 0;
    if (elapsed > 100000)
        elapsed = 100000;
    uint64_t msg_cap = 2000ull * s->config.messages_per_s;
    uint64_t chat_cap = 1000ull * (s->config.chat_per_s * 5 / 2 > 0 ? s->config.chat_per_s * 5 / 2 : 1);
    c->msg_tokens += elapsed * s->config.messages_per_s;
    c->chat_tokens += elapsed * s->config.chat_per_s;
    if (c->msg_tokens > msg_cap)
        c->msg_tokens = msg_cap;
    if (c->chat_tokens > chat_cap)
        c->chat_tokens = chat_cap;
    c->tokens_ms = s->now_ms;
}

/* Returns false when the connection was told to close. */
static bool handle_frame(netcore_lobby_server *s, int32_t index, const uint8_t *body, size_t size)
{
    nci_lobby_conn *c = &s->conns[index];
    s->stats.frames_received++;
    c->last_frame_ms = s->now_ms;
    refill_buckets(s, c);
    if (c->msg_tokens < 1000) {
        s->stats.rate_limit_dropped++;
        nci_lobby_fail(s, index, NETCORE_LOBBY_ERR_RATE_LIMITED, "too many messages");
        return false;
    }
    c->msg_tokens -= 1000;
    if (nci_lobby_decode(body, size, &s->in_msg) != NETCORE_OK) {
        s->stats.malformed_dropped++;
        nci_lobby_fail(s, index, NETCORE_LOBBY_ERR_MALFORMED, "malformed frame");
        return false;
    }
    if (s->in_msg.type == NCI_LOBBY_CHAT) {
        if (c->chat_tokens < 1000) {
            s->stats.chat_rate_limited++;
            nci_lobby_send_error(s, index, NETCORE_LOBBY_ERR_RATE_LIMITED, NCI_LOBBY_CHAT,
                                 "chat rate limited");
            return true;
        }
        c->chat_tokens -= 1000;
    }
    s->in_body = body;
    s->in_body_size = size;
    nci_lobby_handle(s, index);
    return c->fd >= 0 && !c->closing;
}

/* Consumes every complete frame in the receive buffer. */
static void process_frames(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_conn *c = &s->conns[index];
    size_t pos = 0;
    while (c->fd >= 0 && !c->closing) {
        size_t body = 0;
        nci_lobby_frame_status st =
            nci_lobby_frame_peek(c->recv + pos, c->recv_len - pos, s->config.max_frame_bytes, &body);
        if (st == NCI_LOBBY_FRAME_TOO_LARGE) {
            s->stats.oversize_dropped++;
            nci_lobby_fail(s, index, NETCORE_LOBBY_ERR_FRAME_TOO_LARGE, "frame too large");
            return;
        }
        if (st == NCI_LOBBY_FRAME_EMPTY) {
            s->stats.malformed_dropped++;
            nci_lobby_fail(s, index, NETCORE_LOBBY_ERR_MALFORMED, "empty frame");
            return;
        }
        if (st == NCI_LOBBY_FRAME_NEED_MORE)
            break;
        const uint8_t *bytes = c->recv + pos + NCI_LOBBY_LENGTH_BYTES;
        pos += NCI_LOBBY_LENGTH_BYTES + body;
        if (!handle_frame(s, index, bytes, body))
            return;
    }
    if (c->fd < 0 || c->closing)
        return;
    if (pos > 0) {
        memmove(c->recv, c->recv + pos, c->recv_len - pos);
        c->recv_len -= pos;
        c->partial_since_ms = s->now_ms;
    }
    if (c->recv_len == 0)
        c->partial_since_ms = 0;
}

static void conn_read(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_conn *c = &s->conns[index];
    size_t cap = (size_t)s->config.max_frame_bytes + NCI_LOBBY_LENGTH_BYTES;
    for (int i = 0; i < MAX_READS_PER_UPDATE && c->fd >= 0; i++) {
        uint8_t discard[512];
        /* A closing connection's input is read and dropped (see nci_lobby_close). */
        uint8_t *into = c->closing ? discard : c->recv + c->recv_len;
        size_t room = c->closing ? sizeof discard : cap - c->recv_len;
        ssize_t n = recv(c->fd, into, room, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_close_now(s, index);
            return;
        }
        if (c->closing)
            continue;
        if (c->recv_len == 0)
            c->partial_since_ms = s->now_ms;
        c->recv_len += (size_t)n;
        process_frames(s, index);
        /* Frames, a new partial frame, HELLO or a registration move this
         * connection's deadlines. */
        if (c->fd >= 0)
            conn_timer(s, c);
    }
}

/* Best-effort SERVER_FULL notice from a stack buffer, then close; no state is kept. */
static void refuse(int fd, const char *text)
{
    uint8_t frame[128];
    nci_lobby_msg m;
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_ERROR;
    m.u.error.code = NETCORE_LOBBY_ERR_SERVER_FULL;
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
        if (over_ip_limit(s, &peer)) {
            refuse(fd, "too many connections from this address");
            s->stats.connections_rejected_per_ip++;
            continue;
        }
        int32_t slot = s->free_conn_count > 0 ? s->free_conns[--s->free_conn_count] : NCI_LOBBY_NONE;
        nci_lobby_conn *c = slot == NCI_LOBBY_NONE ? NULL : &s->conns[slot];
        if (c) {
            c->recv = nci_alloc(&s->config.allocator, (size_t)s->config.max_frame_bytes + 4);
            c->send = nci_alloc(&s->config.allocator, s->config.send_buffer_bytes);
        }
        if (!c || !c->recv || !c->send || !set_nonblocking(fd) ||
            !epoll_watch(s, EPOLL_CTL_ADD, fd, EPOLLIN, (uint64_t)slot)) {
            refuse(fd, "server full");
            s->stats.connections_rejected_full++;
            if (c) {
                c->fd = -1;
                conn_release(s, c);
            }
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->peer = peer;
        c->session = NCI_LOBBY_NONE;
        c->game_server = NCI_LOBBY_NONE;
        c->opened_ms = c->last_frame_ms = c->tokens_ms = s->now_ms;
        c->msg_tokens = 2000ull * s->config.messages_per_s;
        c->chat_tokens = 1000ull * (s->config.chat_per_s * 5 / 2 > 0 ? s->config.chat_per_s * 5 / 2 : 1);
        conn_timer(s, c);
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
                conn_close_now(s, (int32_t)i);
            else
                conn_timer(s, c);
            continue;
        }
        const char *why = NULL;
        bool game_server = c->game_server != NCI_LOBBY_NONE;
        uint64_t idle_ms = game_server && cfg->game_server_timeout_ms > 0
                               ? cfg->game_server_timeout_ms
                               : cfg->idle_timeout_ms;
        if (c->session == NCI_LOBBY_NONE && !game_server &&
            s->now_ms - c->opened_ms >= cfg->hello_timeout_ms)
            why = "no hello in time";
        else if (s->now_ms - c->last_frame_ms >= idle_ms)
            why = game_server ? "no game server heartbeat in time" : "idle";
        else if (c->recv_len > 0 && s->now_ms - c->partial_since_ms >= cfg->frame_timeout_ms)
            why = "frame not completed in time";
        if (why) {
            s->stats.timeout_dropped++;
            nci_lobby_fail(s, (int32_t)i, NETCORE_LOBBY_ERR_TIMEOUT, why);
        }
        conn_timer(s, c);
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
            conn_flush(c);
        bool pending = c->send_len > c->send_off;
        if (c->closing && !pending && !c->write_shut) {
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
    int max_events = (int)(s->conn_capacity + NETCORE_LOBBY_MAX_LISTEN + 1);
    int ready = epoll_wait(s->epoll_fd, s->events, max_events,
                           (int)(timeout_ms > 60000 ? 60000 : timeout_ms));
    if (ready < 0 && errno != EINTR)
        return NETCORE_ERR_SOCKET;
    for (int k = 0; k < ready; k++) {
        uint32_t re = s->events[k].events;
        uint64_t data = s->events[k].data.u64;
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
        if (re & (EPOLLIN | EPOLLHUP | EPOLLERR))
            conn_read(s, index);
        if (s->conns[index].fd >= 0 && (re & EPOLLOUT)) {
            conn_flush(&s->conns[index]);
            mark_dirty(s, &s->conns[index]);
        }
    }
    if (s->now_ms >= s->next_timer_scan_ms && s->now_ms >= s->timer_floor_ms)
        run_timers(s);
    /* Frames queued while handling input go out now rather than next update. */
    flush_dirty(s);
    return NETCORE_OK;
}
