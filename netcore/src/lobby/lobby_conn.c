/* Lobby server, connection layer: per-connection buffers, the TLS layer
 * under them, framing, rate limits, timeouts of one connection and the
 * lingering close. The sockets, the poller loop and the timer scan are in
 * lobby_server.c; what the messages mean is in lobby_rooms.c. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "lobby/lobby_internal.h"

/* A closing connection gets this long to flush its final ERROR. */
#define CLOSE_LINGER_MS 1000
/* Work bounds per connection and update, so one busy client cannot starve others. */
#define MAX_READS_PER_UPDATE 4
/* Kept free in every send buffer for the ERROR(SLOW_READER) that closes a
 * connection whose buffer is otherwise full (largest ERROR frame: 137 bytes). */
#define SLOW_READER_RESERVE_BYTES 160

/* Takes the socket out of the poller, closes it and returns the slot
 * to the free stack. A slot on the dirty list stays marked: its entry is
 * skipped while free and serves the slot again if it is reused meanwhile. */
void nci_lobby_conn_release(netcore_lobby_server *s, nci_lobby_conn *c)
{
    nci_lobby_tls_free(c->tls);
    if (c->socket != NCI_SOCKET_INVALID) {
        /* Absent from the poller when it was never added (refused at accept). */
        if (s->poller)
            (void)nci_poller_remove(s->poller, c->socket);
        nci_socket_close(c->socket);
    }
    nci_free(&s->config.allocator, c->recv);
    nci_free(&s->config.allocator, c->send);
    bool dirty = c->dirty;
    memset(c, 0, sizeof *c);
    c->socket = NCI_SOCKET_INVALID;
    c->session = NCI_LOBBY_NONE;
    c->game_server = NCI_LOBBY_NONE;
    c->dirty = dirty;
    s->free_conns[s->free_conn_count++] = (int32_t)(c - s->conns);
}

/* ------------------------------------------------------------------ */
/* Socket or TLS                                                       */
/* ------------------------------------------------------------------ */

/* Sends on the connection, through TLS when it has it. */
static nci_io conn_send(nci_lobby_conn *c, const uint8_t *bytes, size_t n, size_t *out_bytes)
{
    if (!c->tls)
        return nci_socket_send(c->socket, bytes, n, out_bytes);
    /* Nothing leaves before the handshake: a handshake that times out or
     * fails is closed without a frame. */
    nci_lobby_tls_status st =
        c->tls_ready ? nci_lobby_tls_write(c->tls, bytes, n, out_bytes) : NCI_LOBBY_TLS_WANT_WRITE;
    if (st == NCI_LOBBY_TLS_DONE)
        return NCI_IO_DONE;
    return st == NCI_LOBBY_TLS_WANT_READ || st == NCI_LOBBY_TLS_WANT_WRITE ? NCI_IO_WOULD_BLOCK
                                                                           : NCI_IO_CLOSED;
}

/* Receives on the connection, through TLS when it is up; NCI_IO_CLOSED when
 * the peer closed or the TLS layer failed. */
static nci_io conn_recv(nci_lobby_conn *c, uint8_t *into, size_t room, size_t *out_bytes)
{
    if (!c->tls || c->closing)
        return nci_socket_recv(c->socket, into, room, out_bytes);
    nci_lobby_tls_status st = nci_lobby_tls_read(c->tls, into, room, out_bytes);
    if (st == NCI_LOBBY_TLS_DONE)
        return NCI_IO_DONE;
    if (st == NCI_LOBBY_TLS_CLOSED || st == NCI_LOBBY_TLS_FAILED)
        return NCI_IO_CLOSED;
    c->tls_read_wants_write = st == NCI_LOBBY_TLS_WANT_WRITE;
    return NCI_IO_WOULD_BLOCK;
}

/* The first bytes of a connection on a TLS lobby: a plaintext client is
 * answered in plaintext (it could not read anything else) and closed;
 * otherwise one handshake step. True once the handshake is done. */
static bool conn_handshake(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_conn *c = &s->conns[index];
    c->tls_read_wants_write = false;
    if (!c->tls_sniffed) {
        uint8_t head[2];
        size_t n = 0;
        nci_io io = nci_socket_peek(c->socket, head, sizeof head, &n);
        if (io == NCI_IO_WOULD_BLOCK)
            return false;
        if (io != NCI_IO_DONE) {
            nci_lobby_conn_close_now(s, index);
            return false;
        }
        if (!nci_lobby_tls_looks_like_client_hello(head, n)) {
            nci_lobby_tls_free(c->tls);
            c->tls = NULL;
            s->stats.tls_plaintext_refused++;
            nci_lobby_fail(s, index, NETCORE_LOBBY_ERR_TLS_REQUIRED, "this lobby speaks TLS only");
            return false;
        }
        c->tls_sniffed = true;
    }
    nci_lobby_tls_status st = nci_lobby_tls_handshake(c->tls);
    if (st == NCI_LOBBY_TLS_DONE) {
        c->tls_ready = true;
        s->stats.tls_handshakes++;
        return true;
    }
    if (st == NCI_LOBBY_TLS_WANT_READ)
        return false;
    if (st == NCI_LOBBY_TLS_WANT_WRITE) {
        c->tls_read_wants_write = true;
        nci_lobby_mark_dirty(s, c);
        return false;
    }
    if (st == NCI_LOBBY_TLS_FAILED) {
        s->stats.tls_handshakes_failed++;
        if (nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000)) {
            char peer[NETCORE_ADDRESS_STRLEN];
            netcore_address_format(&c->peer, peer, sizeof peer);
            nci_logf(&s->config.log, NETCORE_LOG_INFO, "lobby: TLS handshake with %s failed: %s",
                     peer, nci_lobby_tls_failure(c->tls));
        }
    }
    nci_lobby_conn_close_now(s, index);
    return false;
}

/* ------------------------------------------------------------------ */
/* Sending                                                             */
/* ------------------------------------------------------------------ */

/* Lists a connection for the end-of-update pass (see flush_dirty). */
void nci_lobby_mark_dirty(netcore_lobby_server *s, nci_lobby_conn *c)
{
    if (c->dirty)
        return;
    c->dirty = true;
    s->dirty_conns[s->dirty_count++] = (int32_t)(c - s->conns);
}

void nci_lobby_conn_flush(nci_lobby_conn *c)
{
    while (c->send_off < c->send_len) {
        size_t n = 0;
        nci_io io = conn_send(c, c->send + c->send_off, c->send_len - c->send_off, &n);
        if (io == NCI_IO_DONE && n > 0) {
            c->send_off += n;
            continue;
        }
        if (io == NCI_IO_WOULD_BLOCK)
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
        nci_lobby_conn_flush(c);
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
    nci_lobby_mark_dirty(s, c);
    return true;
}

void nci_lobby_timer_at(netcore_lobby_server *s, uint64_t deadline_ms)
{
    if (deadline_ms < s->next_timer_scan_ms)
        s->next_timer_scan_ms = deadline_ms;
}

/* Announces the earliest of a connection's deadlines (see run_timers). */
void nci_lobby_conn_timer(netcore_lobby_server *s, const nci_lobby_conn *c)
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

void nci_lobby_conn_close_now(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_conn *c = &s->conns[index];
    int32_t session = c->session;
    int32_t game_server = c->game_server;
    nci_lobby_conn_release(s, c);
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
    nci_lobby_conn_flush(c);
    nci_lobby_mark_dirty(s, c);
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
    if (c->socket == NCI_SOCKET_INVALID || c->closing)
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
        nci_logf(&s->config.log, NETCORE_LOG_INFO,
                 "lobby: closing a connection that does not read");
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
    if (index == NCI_LOBBY_NONE || s->conns[index].socket == NCI_SOCKET_INVALID ||
        s->conns[index].closing)
        return;
    size_t size = 0;
    if (encode_scratch(s, msg, &size))
        queue_frame(s, index, s->scratch, size);
}

void nci_lobby_send_out(netcore_lobby_server *s, int32_t conn)
{
    queue_msg(s, conn, &s->out_msg);
}

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
    if (c->socket == NCI_SOCKET_INVALID || c->closing)
        return;
    if (nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000)) {
        char peer[NETCORE_ADDRESS_STRLEN];
        netcore_address_format(&c->peer, peer, sizeof peer);
        nci_logf(&s->config.log, NETCORE_LOG_INFO, "lobby: closing %s: %s", peer, text);
    }
    if (c->tls && !c->tls_ready) {
        /* No channel to say why on: a handshake that failed its deadline. */
        nci_lobby_conn_close_now(s, conn);
        return;
    }
    nci_lobby_send_error(s, conn, code, 0, text);
    nci_lobby_close(s, conn);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                           */
/* ------------------------------------------------------------------ */

static uint64_t chat_burst(const netcore_lobby_server *s)
{
    uint32_t burst = s->config.chat_per_s * 5 / 2;
    return 1000ull * (burst > 0 ? burst : 1);
}

void nci_lobby_bucket_fill(const netcore_lobby_server *s, nci_lobby_bucket *b)
{
    b->msg_tokens = 2000ull * s->config.messages_per_s;
    b->chat_tokens = chat_burst(s);
    b->tokens_ms = s->now_ms;
}

static void refill_bucket(const netcore_lobby_server *s, nci_lobby_bucket *b)
{
    uint64_t elapsed = s->now_ms > b->tokens_ms ? s->now_ms - b->tokens_ms : 0;
    if (elapsed > 100000)
        elapsed = 100000;
    uint64_t msg_cap = 2000ull * s->config.messages_per_s;
    b->msg_tokens += elapsed * s->config.messages_per_s;
    b->chat_tokens += elapsed * s->config.chat_per_s;
    if (b->msg_tokens > msg_cap)
        b->msg_tokens = msg_cap;
    if (b->chat_tokens > chat_burst(s))
        b->chat_tokens = chat_burst(s);
    b->tokens_ms = s->now_ms;
}

bool nci_lobby_ip_banned(const netcore_lobby_server *s, const netcore_address *ip)
{
    if (s->config.rate_limit_ban_ms == 0)
        return false;
    size_t n = ip->family == NETCORE_ADDRESS_IPV4 ? 4 : 16;
    for (uint32_t i = 0; i < NCI_LOBBY_BANS; i++) {
        const nci_lobby_ban *b = &s->bans[i];
        if (b->until_ms > s->now_ms && b->ip.family == ip->family &&
            memcmp(b->ip.bytes, ip->bytes, n) == 0)
            return true;
    }
    return false;
}

/* A flood closes the connection; its session keeps the empty bucket for a
 * reconnect, and its address is barred for a while (new sessions would
 * otherwise start full). */
static void flood_close(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_conn *c = &s->conns[index];
    s->stats.rate_limit_dropped++;
    if (s->config.rate_limit_ban_ms > 0) {
        nci_lobby_ban *b = &s->bans[s->next_ban];
        s->next_ban = (s->next_ban + 1) % NCI_LOBBY_BANS;
        b->ip = c->peer;
        b->ip.port = 0;
        b->until_ms = s->now_ms + s->config.rate_limit_ban_ms;
    }
    nci_lobby_fail(s, index, NETCORE_LOBBY_ERR_RATE_LIMITED, "too many messages");
}

/* Returns false when the connection was told to close. */
static bool handle_frame(netcore_lobby_server *s, int32_t index, const uint8_t *body, size_t size)
{
    nci_lobby_conn *c = &s->conns[index];
    s->stats.frames_received++;
    c->last_frame_ms = s->now_ms;
    nci_lobby_bucket *b =
        c->session != NCI_LOBBY_NONE ? &s->sessions[c->session].bucket : &c->bucket;
    refill_bucket(s, b);
    if (b->msg_tokens < 1000) {
        flood_close(s, index);
        return false;
    }
    b->msg_tokens -= 1000;
    if (nci_lobby_decode(body, size, &s->in_msg) != NETCORE_OK) {
        s->stats.malformed_dropped++;
        nci_lobby_fail(s, index, NETCORE_LOBBY_ERR_MALFORMED, "malformed frame");
        return false;
    }
    if (s->in_msg.type == NCI_LOBBY_CHAT) {
        if (b->chat_tokens < 1000) {
            s->stats.chat_rate_limited++;
            nci_lobby_send_error(s, index, NETCORE_LOBBY_ERR_RATE_LIMITED, NCI_LOBBY_CHAT,
                                 "chat rate limited");
            return true;
        }
        b->chat_tokens -= 1000;
    }
    s->in_body = body;
    s->in_body_size = size;
    nci_lobby_handle(s, index);
    return c->socket != NCI_SOCKET_INVALID && !c->closing;
}

/* Consumes every complete frame in the receive buffer. */
static void process_frames(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_conn *c = &s->conns[index];
    size_t pos = 0;
    while (c->socket != NCI_SOCKET_INVALID && !c->closing) {
        size_t body = 0;
        nci_lobby_frame_status st = nci_lobby_frame_peek(c->recv + pos, c->recv_len - pos,
                                                         s->config.max_frame_bytes, &body);
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
    if (c->socket == NCI_SOCKET_INVALID || c->closing)
        return;
    if (pos > 0) {
        memmove(c->recv, c->recv + pos, c->recv_len - pos);
        c->recv_len -= pos;
        c->partial_since_ms = s->now_ms;
    }
    if (c->recv_len == 0)
        c->partial_since_ms = 0;
}

void nci_lobby_conn_read(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_conn *c = &s->conns[index];
    size_t cap = (size_t)s->config.max_frame_bytes + NCI_LOBBY_LENGTH_BYTES;
    if (c->tls && !c->tls_ready && !c->closing && !conn_handshake(s, index))
        return;
    /* Plaintext already decrypted inside the TLS layer does not make the
     * socket readable again: it is taken now (at most one record). */
    for (int i = 0;
         c->socket != NCI_SOCKET_INVALID &&
         (i < MAX_READS_PER_UPDATE || (c->tls && !c->closing && nci_lobby_tls_pending(c->tls)));
         i++) {
        uint8_t discard[512];
        /* A closing connection's input is read and dropped (see nci_lobby_close). */
        uint8_t *into = c->closing ? discard : c->recv + c->recv_len;
        size_t room = c->closing ? sizeof discard : cap - c->recv_len;
        size_t n = 0;
        nci_io io = conn_recv(c, into, room, &n);
        if (io == NCI_IO_WOULD_BLOCK)
            return;
        if (io != NCI_IO_DONE || n == 0) {
            nci_lobby_conn_close_now(s, index);
            return;
        }
        if (c->closing)
            continue;
        if (c->recv_len == 0)
            c->partial_since_ms = s->now_ms;
        c->recv_len += n;
        process_frames(s, index);
        /* Frames, a new partial frame, HELLO or a registration move this
         * connection's deadlines. */
        if (c->socket != NCI_SOCKET_INVALID)
            nci_lobby_conn_timer(s, c);
    }
}
