/* Lobby server: listening sockets, accept, the poller loop, the timer scan
 * and the end-of-update flush. One connection's buffers, TLS, framing and
 * rate limits are in lobby_conn.c; what the messages mean is handled in
 * lobby_rooms.c.
 *
 * An update costs in proportion to what happens, not to how many clients
 * are connected: the poller reports only the sockets that are ready (with
 * epoll; poll() and WSAPoll() scan the registered ones), connections
 * that queued output are listed as they do (the dirty list), free
 * connection and session slots are stacks, and timeouts are checked by one
 * scan when the earliest deadline is due (see TIMER_SCAN_MIN_MS). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "lobby/lobby_cluster.h"
#include "lobby/lobby_internal.h"
#include "lobby/lobby_redis.h"

/* Work bound per update, so a burst of connections cannot starve the others. */
#define MAX_ACCEPTS_PER_UPDATE 64
/* How long the listeners rest after accept ran out of descriptors or memory. */
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

/* The system's text for its last socket error, for the log. */
static const char *socket_error_text(char *buffer, size_t size)
{
    return nci_socket_error_str(nci_socket_last_error(), buffer, size);
}

/* Wakes for the listeners or holds them asleep (accept back-off): they
 * stay registered, so the poller's room for them is never given away.
 * On failure the next call tries again. */
static bool set_listeners_armed(netcore_lobby_server *s, bool armed)
{
    if (s->listeners_armed == armed)
        return true;
    bool ok = true;
    for (uint32_t i = 0; i < s->config.listen_count; i++)
        ok = nci_poller_set(s->poller, s->listen_sockets[i], armed ? NCI_POLL_IN : 0u,
                            NCI_LOBBY_POLL_LISTENER + i) == NETCORE_OK &&
             ok;
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
        s->listen_sockets[i] = NCI_SOCKET_INVALID;
    s->discovery_socket = NCI_SOCKET_INVALID;
    s->conn_capacity = config->max_connections;
    /* Lost sessions wait for their reconnect while new connections arrive. */
    s->session_capacity = 2 * config->max_connections;
    /* A cluster node also mirrors the members other nodes hold. */
    if (config->cluster_redis[0])
        s->session_capacity += config->max_rooms * NETCORE_LOBBY_MAX_PLAYERS;
    s->conns = nci_calloc(a, s->conn_capacity, sizeof *s->conns);
    s->sessions = nci_calloc(a, s->session_capacity, sizeof *s->sessions);
    s->rooms = nci_calloc(a, config->max_rooms, sizeof *s->rooms);
    s->events =
        nci_calloc(a, (size_t)s->conn_capacity + NCI_LOBBY_POLL_EXTRA_SOCKETS, sizeof *s->events);
    s->free_conns = nci_calloc(a, s->conn_capacity, sizeof *s->free_conns);
    s->free_sessions = nci_calloc(a, s->session_capacity, sizeof *s->free_sessions);
    s->dirty_conns = nci_calloc(a, s->conn_capacity, sizeof *s->dirty_conns);
    s->scratch = nci_alloc(a, NCI_LOBBY_SCRATCH_BYTES);
    /* One spare entry so that a zero max_game_servers still allocates. */
    s->game_servers = nci_calloc(a, (size_t)config->max_game_servers + 1, sizeof *s->game_servers);
    /* Before any failure path: destroy releases the slots whose socket is open. */
    for (uint32_t i = 0; s->conns && i < s->conn_capacity; i++)
        s->conns[i].socket = NCI_SOCKET_INVALID;
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
        netcore_result tr =
            nci_lobby_tls_server_context(config->tls_cert_file, config->tls_key_file,
                                         config->tls_allow_tls12, &s->tls_context, why, sizeof why);
        if (tr != NETCORE_OK) {
            nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: TLS: %s", why);
            netcore_lobby_server_destroy(s);
            return tr;
        }
    }
    /* The paths were for this call only. */
    s->config.tls_cert_file = s->config.tls_key_file = NULL;
    char why[128];
    netcore_result pr = nci_platform_startup();
    if (pr != NETCORE_OK) {
        nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: cannot start sockets: %s",
                 socket_error_text(why, sizeof why));
        netcore_lobby_server_destroy(s);
        return pr;
    }
    s->platform_started = true;
    pr = nci_poller_create(a, s->conn_capacity + NCI_LOBBY_POLL_EXTRA_SOCKETS, &s->poller);
    if (pr != NETCORE_OK) {
        nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: cannot create the poller: %s",
                 socket_error_text(why, sizeof why));
        netcore_lobby_server_destroy(s);
        return pr;
    }
    for (uint32_t i = 0; i < config->listen_count; i++) {
        /* An IPv6 listener takes IPv6 only, so 0.0.0.0 and :: on one port both work. */
        netcore_result r =
            nci_socket_open_tcp_listener(&config->listen[i], 128, &s->listen_sockets[i]);
        if (r == NETCORE_OK)
            r = nci_socket_local_address(s->listen_sockets[i], &s->listen_addresses[i]);
        if (r != NETCORE_OK) {
            /* As before the platform layer: every listen failure is a socket error. */
            r = r == NETCORE_ERR_INVALID_ARGUMENT ? r : NETCORE_ERR_SOCKET;
            nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: cannot listen (%s): %s",
                     netcore_result_str(r), socket_error_text(why, sizeof why));
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
        (s->discovery_socket != NCI_SOCKET_INVALID &&
         nci_poller_set(s->poller, s->discovery_socket, NCI_POLL_IN, NCI_LOBBY_POLL_DISCOVERY) !=
             NETCORE_OK)) {
        nci_logf(&config->log, NETCORE_LOG_ERROR, "lobby: cannot watch the listeners: %s",
                 socket_error_text(why, sizeof why));
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
    /* The Redis links and the connections leave the poller as they close;
     * the poller goes before the other sockets are closed, as none may be
     * closed while in it. */
    nci_lobby_cluster_destroy(server);
    if (server->conns)
        for (uint32_t i = 0; i < server->conn_capacity; i++)
            if (server->conns[i].socket != NCI_SOCKET_INVALID)
                nci_lobby_conn_release(server, &server->conns[i]);
    nci_poller_destroy(server->poller);
    server->poller = NULL;
    for (uint32_t i = 0; i < NETCORE_LOBBY_MAX_LISTEN; i++)
        nci_socket_close(server->listen_sockets[i]);
    nci_socket_close(server->discovery_socket);
    netcore_lobby_tls_destroy(server->tls_context);
    nci_free(&a, server->conns);
    if (server->sessions)
        sodium_memzero(server->sessions,
                       (size_t)server->session_capacity * sizeof *server->sessions);
    nci_free(&a, server->sessions);
    nci_free(&a, server->rooms);
    nci_free(&a, server->game_servers);
    nci_free(&a, server->events);
    nci_free(&a, server->free_conns);
    nci_free(&a, server->free_sessions);
    nci_free(&a, server->dirty_conns);
    nci_free(&a, server->scratch);
    sodium_memzero(server->config.key, sizeof server->config.key);
    bool platform_started = server->platform_started;
    nci_free(&a, server);
    if (platform_started)
        nci_platform_cleanup();
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
static void refuse(nci_socket socket, uint16_t code, const char *text)
{
    uint8_t frame[128];
    nci_lobby_msg m;
    memset(&m, 0, sizeof m);
    m.type = NCI_LOBBY_ERROR;
    m.u.error.code = code;
    snprintf(m.u.error.text, sizeof m.u.error.text, "%s", text);
    size_t size = 0;
    size_t sent = 0;
    /* The accepted socket is non-blocking: this never waits. */
    if (nci_lobby_encode(&m, frame, sizeof frame, &size) == NETCORE_OK)
        (void)nci_socket_send(socket, frame, size, &sent);
    nci_socket_close(socket);
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
        open += s->conns[k].socket != NCI_SOCKET_INVALID && same_ip(&s->conns[k].peer, peer);
    return open >= limit;
}

static void accept_connections(netcore_lobby_server *s, nci_socket listener)
{
    for (int i = 0; i < MAX_ACCEPTS_PER_UPDATE; i++) {
        nci_socket accepted = NCI_SOCKET_INVALID;
        netcore_address peer;
        nci_accept outcome = nci_socket_accept(listener, &accepted, &peer);
        if (outcome != NCI_ACCEPT_OK) {
            /* The pending connection stays queued and the listener stays
             * readable, so the poller would return at once for as long as
             * descriptors or memory are short: pause the listeners instead
             * of spinning. Connections already open keep being served. */
            if (outcome == NCI_ACCEPT_RESOURCES) {
                s->accept_paused_until_ms = s->now_ms + ACCEPT_BACKOFF_MS;
                s->stats.accept_backoffs++;
                char why[128];
                if (nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000))
                    nci_logf(&s->config.log, NETCORE_LOG_WARN,
                             "lobby: cannot accept (%s), pausing for %d ms",
                             socket_error_text(why, sizeof why), ACCEPT_BACKOFF_MS);
            }
            return;
        }
        if (nci_lobby_ip_banned(s, &peer)) {
            refuse(accepted, NETCORE_LOBBY_ERR_RATE_LIMITED, "rate limited: try again later");
            s->stats.connections_rejected_banned++;
            continue;
        }
        if (over_ip_limit(s, &peer)) {
            refuse(accepted, NETCORE_LOBBY_ERR_SERVER_FULL,
                   "too many connections from this address");
            s->stats.connections_rejected_per_ip++;
            continue;
        }
        int32_t slot =
            s->free_conn_count > 0 ? s->free_conns[--s->free_conn_count] : NCI_LOBBY_NONE;
        nci_lobby_conn *c = slot == NCI_LOBBY_NONE ? NULL : &s->conns[slot];
        if (c) {
            c->recv = nci_alloc(&s->config.allocator, (size_t)s->config.max_frame_bytes + 4);
            c->send = nci_alloc(&s->config.allocator, s->config.send_buffer_bytes);
        }
        if (c && s->tls_context)
            c->tls = nci_lobby_tls_new(s->tls_context, accepted, true, NULL, false);
        if (!c || !c->recv || !c->send || (s->tls_context && !c->tls) ||
            nci_poller_set(s->poller, accepted, NCI_POLL_IN, (uint64_t)slot) != NETCORE_OK) {
            refuse(accepted, NETCORE_LOBBY_ERR_SERVER_FULL, "server full");
            s->stats.connections_rejected_full++;
            if (c) {
                c->socket = NCI_SOCKET_INVALID;
                nci_lobby_conn_release(s, c);
            }
            continue;
        }
        (void)nci_socket_set_option(accepted, NCI_SOCKOPT_NODELAY, 1);
        c->socket = accepted;
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
        if (c->socket == NCI_SOCKET_INVALID)
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
        if (c->socket != NCI_SOCKET_INVALID)
            nci_lobby_conn_timer(s, c);
    }
    nci_lobby_expire_sessions(s);
}

/* For every listed connection: hand its queued output to the kernel,
 * half-close it once a closing connection has flushed, and ask the poller for
 * writability exactly while output is left. */
static void flush_dirty(netcore_lobby_server *s)
{
    for (uint32_t k = 0; k < s->dirty_count; k++) {
        int32_t index = s->dirty_conns[k];
        nci_lobby_conn *c = &s->conns[index];
        c->dirty = false;
        if (c->socket == NCI_SOCKET_INVALID)
            continue;
        if (c->send_len > c->send_off)
            nci_lobby_conn_flush(c);
        bool pending = c->send_len > c->send_off || c->tls_read_wants_write;
        if (c->closing && !pending && !c->write_shut) {
            if (c->tls && c->tls_ready)
                nci_lobby_tls_close_notify(c->tls);
            nci_socket_shutdown_write(c->socket);
            c->write_shut = true;
        }
        if (pending != c->want_write &&
            nci_poller_set(s->poller, c->socket, NCI_POLL_IN | (pending ? NCI_POLL_OUT : 0u),
                           (uint64_t)index) == NETCORE_OK)
            c->want_write = pending;
    }
    s->dirty_count = 0;
}

netcore_result netcore_lobby_server_update(netcore_lobby_server *server, uint64_t now_us,
                                           uint32_t timeout_ms)
{
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_lobby_server *s = server;
    /* The caller's clock never runs backwards for us. */
    /* The API speaks microseconds; the server's timers run in milliseconds. */
    uint64_t now_ms = now_us / 1000u;
    if (now_ms > s->now_ms)
        s->now_ms = now_ms;
    /* Output queued between updates (netcore_lobby_server_end_match) goes
     * out before waiting. */
    flush_dirty(s);
    bool accepting = s->now_ms >= s->accept_paused_until_ms;
    if (!accepting && s->accept_paused_until_ms - s->now_ms < timeout_ms)
        timeout_ms = (uint32_t)(s->accept_paused_until_ms - s->now_ms);
    /* A failure here is retried next update; the connections are served meanwhile. */
    char why[128];
    if (!set_listeners_armed(s, accepting) &&
        nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000))
        nci_logf(&s->config.log, NETCORE_LOG_WARN, "lobby: cannot %s the listeners: %s",
                 accepting ? "resume" : "pause", socket_error_text(why, sizeof why));
    if (s->cluster) {
        uint32_t cluster_wait_ms = nci_lobby_cluster_tick(s);
        if (timeout_ms > cluster_wait_ms)
            timeout_ms = cluster_wait_ms;
    }
    uint32_t max_events = s->conn_capacity + NCI_LOBBY_POLL_EXTRA_SOCKETS;
    /* An interrupting signal is a wait that ended early (0 events). */
    int ready =
        nci_poller_wait(s->poller, s->events, max_events, timeout_ms > 60000 ? 60000 : timeout_ms);
    if (ready < 0)
        return NETCORE_ERR_SOCKET;
    for (int k = 0; k < ready; k++) {
        uint32_t re = s->events[k].events;
        uint64_t data = s->events[k].data;
        if (data >= NCI_LOBBY_POLL_REDIS) {
            nci_lobby_cluster_io(s, (uint32_t)(data - NCI_LOBBY_POLL_REDIS), re);
            continue;
        }
        if (data >= NCI_LOBBY_POLL_DISCOVERY) {
            nci_lobby_discovery_read(s);
            continue;
        }
        if (data >= NCI_LOBBY_POLL_LISTENER) {
            /* The back-off may have started earlier in this batch. */
            if (s->now_ms >= s->accept_paused_until_ms)
                accept_connections(s, s->listen_sockets[data - NCI_LOBBY_POLL_LISTENER]);
            continue;
        }
        int32_t index = (int32_t)data;
        /* The slot may have been closed while handling an earlier event; if
         * it was reused meanwhile, the new socket is merely tried once. */
        if (s->conns[index].socket == NCI_SOCKET_INVALID)
            continue;
        if ((re & (NCI_POLL_IN | NCI_POLL_ERR)) ||
            ((re & NCI_POLL_OUT) && s->conns[index].tls_read_wants_write))
            nci_lobby_conn_read(s, index);
        if (s->conns[index].socket != NCI_SOCKET_INVALID && (re & NCI_POLL_OUT)) {
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
