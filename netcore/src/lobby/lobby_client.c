/* Lobby client: one non-blocking TCP connection driven by update(now_us),
 * requests queued as frames, every received message reported as an event. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <sodium.h>
#include <string.h>

#include "lobby/lobby_internal.h"

#define CLIENT_SEND_BUFFER_BYTES 65536
#define MAX_READS_PER_UPDATE 8

typedef enum failover_kind {
    FAILOVER_HELLO = 0, /* HELLO(failover_nickname) */
    FAILOVER_RECONNECT,
    FAILOVER_REGISTER /* SERVER_REGISTER with the stored parameters */
} failover_kind;

typedef enum client_state {
    CLIENT_IDLE = 0,
    CLIENT_CONNECTING,
    CLIENT_HANDSHAKE, /* TCP is up, TLS is not yet: nothing is sent */
    CLIENT_OPEN
} client_state;

struct netcore_lobby_client {
    netcore_lobby_client_config config;
    nci_socket socket;
    nci_poller *poller; /* the one socket, while its connect is under way */
    bool platform_started;
    client_state state;
    nci_lobby_tls *tls;    /* this connection's TLS, when config.tls is set */
    bool closed_event_due; /* DISCONNECTED still to be reported */
    uint8_t *recv;
    size_t recv_len;
    uint8_t *send;
    size_t send_len;
    size_t send_off;
    uint64_t now_ms;
    uint64_t connect_started_ms;
    uint64_t last_send_ms;
    uint64_t client_id;
    bool welcomed;
    bool has_reconnect_token;
    uint8_t reconnect_token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES];
    uint16_t last_error;
    char last_error_text[NETCORE_LOBBY_ERROR_TEXT_MAX + 1];
    nci_lobby_msg in_msg;
    nci_lobby_msg out_msg;
    /* connect_any / reconnect_any: the addresses still to try when the
     * current attempt fails before WELCOME. */
    netcore_address failover[NETCORE_LOBBY_FAILOVER_MAX];
    uint32_t failover_count;
    uint32_t failover_next;
    uint8_t failover_kind; /* failover_kind: what each attempt sends */
    char failover_nickname[NETCORE_LOBBY_NAME_MAX + 1];
    uint8_t failover_key[NETCORE_TOKEN_KEY_BYTES]; /* FAILOVER_REGISTER: its parameters */
    netcore_address failover_game_address;
    uint16_t failover_capacity;
    uint64_t failover_time_s;
};

void netcore_lobby_client_config_default(netcore_lobby_client_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->max_frame_bytes = 65536;
    config->connect_timeout_ms = 5000;
    config->keepalive_ms = 15000;
}

netcore_result netcore_lobby_client_create(const netcore_lobby_client_config *config,
                                           netcore_lobby_client **out_client)
{
    if (!config || !out_client || !config->on_event || config->max_frame_bytes < 256 ||
        config->max_frame_bytes > NCI_LOBBY_FRAME_HARD_MAX || config->connect_timeout_ms == 0 ||
        memchr(config->tls_server_name, '\0', sizeof config->tls_server_name) == NULL ||
        (config->tls && !config->tls_pin_set && config->tls_server_name[0] == '\0'))
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_client = NULL;
    netcore_lobby_client *c = nci_calloc(&config->allocator, 1, sizeof *c);
    if (!c)
        return NETCORE_ERR_OUT_OF_MEMORY;
    c->config = *config;
    c->socket = NCI_SOCKET_INVALID;
    c->recv =
        nci_alloc(&config->allocator, (size_t)config->max_frame_bytes + NCI_LOBBY_LENGTH_BYTES);
    c->send = nci_alloc(&config->allocator, CLIENT_SEND_BUFFER_BYTES);
    if (!c->recv || !c->send) {
        netcore_lobby_client_destroy(c);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    netcore_result r = nci_platform_startup();
    c->platform_started = r == NETCORE_OK;
    if (r == NETCORE_OK)
        r = nci_poller_create(&config->allocator, 1, &c->poller);
    if (r != NETCORE_OK) {
        netcore_lobby_client_destroy(c);
        return r;
    }
    *out_client = c;
    return NETCORE_OK;
}

void netcore_lobby_client_destroy(netcore_lobby_client *client)
{
    if (!client)
        return;
    nci_lobby_tls_free(client->tls);
    if (client->socket != NCI_SOCKET_INVALID && client->poller)
        (void)nci_poller_remove(client->poller, client->socket);
    nci_socket_close(client->socket);
    nci_poller_destroy(client->poller);
    netcore_allocator allocator = client->config.allocator;
    bool platform_started = client->platform_started;
    nci_free(&allocator, client->recv);
    nci_free(&allocator, client->send);
    sodium_memzero(client->failover_key, sizeof client->failover_key);
    nci_free(&allocator, client);
    if (platform_started)
        nci_platform_cleanup();
}

bool netcore_lobby_client_is_connected(const netcore_lobby_client *client)
{
    return client && client->state != CLIENT_IDLE;
}

uint64_t netcore_lobby_client_id(const netcore_lobby_client *client)
{
    return client ? client->client_id : 0;
}

/* Closes the socket; the DISCONNECTED event is reported by the next update. */
static void close_connection(netcore_lobby_client *c, uint16_t code, const char *text)
{
    /* text may live in the TLS state (its failure reason): kept first. */
    if (code != NETCORE_LOBBY_ERR_NONE && c->last_error == NETCORE_LOBBY_ERR_NONE) {
        c->last_error = code;
        snprintf(c->last_error_text, sizeof c->last_error_text, "%s", text);
    }
    nci_lobby_tls_free(c->tls);
    c->tls = NULL;
    if (c->socket != NCI_SOCKET_INVALID)
        (void)nci_poller_remove(c->poller, c->socket); /* NOT_FOUND once connected */
    nci_socket_close(c->socket);
    c->socket = NCI_SOCKET_INVALID;
    if (c->state != CLIENT_IDLE)
        c->closed_event_due = true;
    c->state = CLIENT_IDLE;
    c->recv_len = c->send_len = c->send_off = 0;
}

/* Sends, through TLS when the connection has it. */
static nci_io conn_send(netcore_lobby_client *c, const uint8_t *bytes, size_t n, size_t *out_bytes)
{
    if (!c->tls)
        return nci_socket_send(c->socket, bytes, n, out_bytes);
    nci_lobby_tls_status st = nci_lobby_tls_write(c->tls, bytes, n, out_bytes);
    if (st == NCI_LOBBY_TLS_DONE)
        return NCI_IO_DONE;
    return st == NCI_LOBBY_TLS_WANT_READ || st == NCI_LOBBY_TLS_WANT_WRITE ? NCI_IO_WOULD_BLOCK
                                                                           : NCI_IO_CLOSED;
}

/* Receives, through TLS when the connection has it; NCI_IO_CLOSED when the
 * peer closed or the TLS layer failed. */
static nci_io conn_recv(netcore_lobby_client *c, uint8_t *into, size_t room, size_t *out_bytes)
{
    if (!c->tls)
        return nci_socket_recv(c->socket, into, room, out_bytes);
    nci_lobby_tls_status st = nci_lobby_tls_read(c->tls, into, room, out_bytes);
    if (st == NCI_LOBBY_TLS_DONE)
        return NCI_IO_DONE;
    if (st == NCI_LOBBY_TLS_CLOSED || st == NCI_LOBBY_TLS_FAILED)
        return NCI_IO_CLOSED;
    return NCI_IO_WOULD_BLOCK;
}

static void flush(netcore_lobby_client *c)
{
    while (c->state == CLIENT_OPEN && c->send_off < c->send_len) {
        size_t n = 0;
        nci_io io = conn_send(c, c->send + c->send_off, c->send_len - c->send_off, &n);
        if (io == NCI_IO_DONE && n > 0) {
            c->send_off += n;
            c->last_send_ms = c->now_ms;
        } else if (io == NCI_IO_WOULD_BLOCK) {
            return;
        } else {
            close_connection(c, NETCORE_LOBBY_ERR_NONE, "");
            return;
        }
    }
    if (c->send_off == c->send_len)
        c->send_off = c->send_len = 0;
}

/* Appends out_msg as a frame; *out_size (may be NULL) receives its size, the
 * frame then ends at send + send_len. */
static netcore_result queue_out_sized(netcore_lobby_client *c, size_t *out_size)
{
    for (int attempt = 0;; attempt++) {
        if (c->state == CLIENT_IDLE)
            return NETCORE_ERR_STATE;
        if (c->send_off > 0) {
            memmove(c->send, c->send + c->send_off, c->send_len - c->send_off);
            c->send_len -= c->send_off;
            c->send_off = 0;
        }
        size_t size = 0;
        netcore_result r = nci_lobby_encode(&c->out_msg, c->send + c->send_len,
                                            CLIENT_SEND_BUFFER_BYTES - c->send_len, &size);
        if (r == NETCORE_OK) {
            c->send_len += size;
            if (out_size)
                *out_size = size;
            return NETCORE_OK;
        }
        if (r != NETCORE_ERR_TOO_LARGE)
            return r;
        /* Full: give the kernel what it takes now, then try once more. */
        if (attempt > 0 || c->state != CLIENT_OPEN || c->send_len == 0)
            return NETCORE_ERR_FULL;
        flush(c);
    }
}

static netcore_result queue_out(netcore_lobby_client *c)
{
    return queue_out_sized(c, NULL);
}

static netcore_result open_socket(netcore_lobby_client *c, const netcore_address *address)
{
    if (!address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->state != CLIENT_IDLE)
        return NETCORE_ERR_STATE;
    if (address->family != NETCORE_ADDRESS_IPV4 && address->family != NETCORE_ADDRESS_IPV6)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_socket opened = NCI_SOCKET_INVALID;
    netcore_result r = nci_socket_open_connected(address, true, &opened, NULL);
    if (r != NETCORE_OK)
        return r == NETCORE_ERR_INVALID_ARGUMENT ? r : NETCORE_ERR_SOCKET;
    (void)nci_socket_set_option(opened, NCI_SOCKOPT_NODELAY, 1);
    /* Writable once the connect has ended, either way (finish_connecting). */
    if (nci_poller_set(c->poller, opened, NCI_POLL_OUT, 0) != NETCORE_OK) {
        nci_socket_close(opened);
        return NETCORE_ERR_SOCKET;
    }
    c->socket = opened;
    c->state = CLIENT_CONNECTING;
    c->closed_event_due = false;
    c->connect_started_ms = c->last_send_ms = c->now_ms;
    c->recv_len = c->send_len = c->send_off = 0;
    c->last_error = NETCORE_LOBBY_ERR_NONE;
    c->last_error_text[0] = '\0';
    c->welcomed = false;
    return NETCORE_OK;
}

/* The public API takes microseconds (one unit for every update in netcore);
 * the client's timers are in milliseconds, converted here once. The clock
 * never moves back. */
static void clock_to(netcore_lobby_client *c, uint64_t now_us)
{
    uint64_t now_ms = now_us / 1000u;
    if (now_ms > c->now_ms)
        c->now_ms = now_ms;
}

netcore_result netcore_lobby_client_connect(netcore_lobby_client *client,
                                            const netcore_address *lobby_address,
                                            const char *nickname, uint64_t now_us)
{
    if (!client || !nci_lobby_name_valid(nickname, NETCORE_LOBBY_NAME_MAX))
        return NETCORE_ERR_INVALID_ARGUMENT;
    clock_to(client, now_us);
    netcore_result r = open_socket(client, lobby_address);
    if (r != NETCORE_OK)
        return r;
    client->out_msg.type = NCI_LOBBY_HELLO;
    client->out_msg.u.hello.version = NETCORE_LOBBY_PROTOCOL_VERSION;
    snprintf(client->out_msg.u.hello.nickname, sizeof client->out_msg.u.hello.nickname, "%s",
             nickname);
    return queue_out(client);
}

netcore_result netcore_lobby_client_reconnect(netcore_lobby_client *client,
                                              const netcore_address *lobby_address, uint64_t now_us)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!client->has_reconnect_token)
        return NETCORE_ERR_STATE;
    clock_to(client, now_us);
    netcore_result r = open_socket(client, lobby_address);
    if (r != NETCORE_OK)
        return r;
    client->out_msg.type = NCI_LOBBY_RECONNECT;
    client->out_msg.u.reconnect.version = NETCORE_LOBBY_PROTOCOL_VERSION;
    memcpy(client->out_msg.u.reconnect.token, client->reconnect_token,
           NETCORE_LOBBY_RECONNECT_TOKEN_BYTES);
    return queue_out(client);
}

/* Opens the next address of the failover list; false when none is left. */
static bool failover_open(netcore_lobby_client *c)
{
    while (c->failover_next < c->failover_count) {
        const netcore_address *next = &c->failover[c->failover_next++];
        netcore_result r;
        if (c->failover_kind == FAILOVER_HELLO)
            r = netcore_lobby_client_connect(c, next, c->failover_nickname, c->now_ms * 1000u);
        else if (c->failover_kind == FAILOVER_RECONNECT)
            r = netcore_lobby_client_reconnect(c, next, c->now_ms * 1000u);
        else
            r = netcore_lobby_client_register_game_server(
                c, next, c->failover_key, &c->failover_game_address, c->failover_capacity,
                c->failover_time_s, c->now_ms * 1000u);
        if (r == NETCORE_OK)
            return true;
    }
    c->failover_count = c->failover_next = 0;
    return false;
}

static netcore_result start_any(netcore_lobby_client *c, const netcore_address *addresses,
                                size_t count, failover_kind kind, const char *nickname,
                                uint64_t now_us)
{
    if (!addresses || count == 0 || count > NETCORE_LOBBY_FAILOVER_MAX)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->state != CLIENT_IDLE)
        return NETCORE_ERR_STATE;
    clock_to(c, now_us);
    memcpy(c->failover, addresses, count * sizeof *addresses);
    c->failover_count = (uint32_t)count;
    c->failover_next = 0;
    c->failover_kind = (uint8_t)kind;
    snprintf(c->failover_nickname, sizeof c->failover_nickname, "%s", nickname ? nickname : "");
    return failover_open(c) ? NETCORE_OK : NETCORE_ERR_SOCKET;
}

netcore_result netcore_lobby_client_connect_any(netcore_lobby_client *client,
                                                const netcore_address *addresses, size_t count,
                                                const char *nickname, uint64_t now_us)
{
    if (!client || !nci_lobby_name_valid(nickname, NETCORE_LOBBY_NAME_MAX))
        return NETCORE_ERR_INVALID_ARGUMENT;
    return start_any(client, addresses, count, FAILOVER_HELLO, nickname, now_us);
}

netcore_result netcore_lobby_client_reconnect_any(netcore_lobby_client *client,
                                                  const netcore_address *addresses, size_t count,
                                                  uint64_t now_us)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!client->has_reconnect_token)
        return NETCORE_ERR_STATE;
    return start_any(client, addresses, count, FAILOVER_RECONNECT, NULL, now_us);
}

netcore_result netcore_lobby_client_disconnect(netcore_lobby_client *client)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (client->state == CLIENT_IDLE)
        return NETCORE_ERR_STATE;
    if (client->state == CLIENT_OPEN) {
        client->out_msg.type = NCI_LOBBY_GOODBYE;
        if (queue_out(client) == NETCORE_OK)
            flush(client);
        if (client->tls && client->state == CLIENT_OPEN)
            nci_lobby_tls_close_notify(client->tls);
    }
    /* The seat was given back: a reconnect would only fail. */
    client->has_reconnect_token = false;
    close_connection(client, NETCORE_LOBBY_ERR_NONE, "");
    return NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Receiving                                                           */
/* ------------------------------------------------------------------ */

static void emit(netcore_lobby_client *c, netcore_lobby_event *e)
{
    c->config.on_event(c->config.event_user, e);
}

static void dispatch(netcore_lobby_client *c)
{
    const nci_lobby_msg *m = &c->in_msg;
    netcore_lobby_event e;
    memset(&e, 0, sizeof e);
    e.client_id = c->client_id;
    switch (m->type) {
    case NCI_LOBBY_WELCOME:
        c->welcomed = true;
        c->client_id = e.client_id = m->u.welcome.client_id;
        memcpy(c->reconnect_token, m->u.welcome.reconnect_token, sizeof c->reconnect_token);
        c->has_reconnect_token = true;
        e.type = NETCORE_LOBBY_EVENT_WELCOME;
        e.nickname = m->u.welcome.nickname;
        e.resumed = m->u.welcome.resumed;
        break;
    case NCI_LOBBY_ROOM_LIST:
        e.type = NETCORE_LOBBY_EVENT_ROOM_LIST;
        e.room_list = m->u.room_list.rooms;
        e.room_list_count = m->u.room_list.count;
        e.rooms_total = m->u.room_list.total;
        e.list_offset = m->u.room_list.offset;
        break;
    case NCI_LOBBY_ROOM_STATE:
        e.type = NETCORE_LOBBY_EVENT_ROOM_STATE;
        e.room = &m->u.room_state;
        e.room_id = m->u.room_state.room_id;
        break;
    case NCI_LOBBY_ROOM_LEFT:
        e.type = NETCORE_LOBBY_EVENT_ROOM_LEFT;
        e.room_id = m->u.room_left.room_id;
        e.leave_reason = (netcore_lobby_leave_reason)m->u.room_left.reason;
        break;
    case NCI_LOBBY_CHAT_MESSAGE:
        e.type = NETCORE_LOBBY_EVENT_CHAT;
        e.chat_scope = (netcore_lobby_chat_scope)m->u.chat_message.scope;
        e.from_id = m->u.chat_message.from_id;
        e.nickname = m->u.chat_message.from_nickname;
        e.text = m->u.chat_message.text;
        break;
    case NCI_LOBBY_MATCH_START:
        e.type = NETCORE_LOBBY_EVENT_MATCH_START;
        e.match = &m->u.match_start;
        e.match_id = m->u.match_start.match_id;
        break;
    case NCI_LOBBY_MATCH_END: /* a version-1 lobby: no reason given */
        e.type = NETCORE_LOBBY_EVENT_MATCH_END;
        e.match_id = m->u.match_end_id;
        e.match_end_reason = NETCORE_LOBBY_MATCH_ENDED;
        break;
    case NCI_LOBBY_MATCH_ENDED:
        e.type = NETCORE_LOBBY_EVENT_MATCH_END;
        e.match_id = m->u.match_ended.match_id;
        e.match_end_reason = (netcore_lobby_match_end_reason)m->u.match_ended.reason;
        break;
    case NCI_LOBBY_PONG:
        e.type = NETCORE_LOBBY_EVENT_PONG;
        e.ping_value = m->u.ping_value;
        break;
    case NCI_LOBBY_SERVER_ACCEPTED:
        c->welcomed = true;
        c->client_id = e.client_id = m->u.server_id;
        e.type = NETCORE_LOBBY_EVENT_REGISTERED;
        break;
    case NCI_LOBBY_MATCH_ASSIGNED:
        e.type = NETCORE_LOBBY_EVENT_MATCH_ASSIGNED;
        e.match_id = m->u.match_assigned.match_id;
        e.room_id = m->u.match_assigned.room_id;
        e.member_ids = m->u.match_assigned.client_ids;
        e.member_count = m->u.match_assigned.count;
        break;
    case NCI_LOBBY_ERROR:
        c->last_error = m->u.error.code;
        memcpy(c->last_error_text, m->u.error.text, sizeof c->last_error_text);
        e.type = NETCORE_LOBBY_EVENT_ERROR;
        e.error_code = m->u.error.code;
        e.request_type = m->u.error.request_type;
        e.text = m->u.error.text;
        break;
    default:
        /* A client-to-server type coming from the server. */
        close_connection(c, NETCORE_LOBBY_ERR_MALFORMED, "unexpected message from server");
        return;
    }
    emit(c, &e);
}

static void process_frames(netcore_lobby_client *c)
{
    size_t pos = 0;
    while (c->state == CLIENT_OPEN) {
        size_t body = 0;
        nci_lobby_frame_status st = nci_lobby_frame_peek(c->recv + pos, c->recv_len - pos,
                                                         c->config.max_frame_bytes, &body);
        if (st == NCI_LOBBY_FRAME_NEED_MORE)
            break;
        if (st != NCI_LOBBY_FRAME_READY || nci_lobby_decode(c->recv + pos + NCI_LOBBY_LENGTH_BYTES,
                                                            body, &c->in_msg) != NETCORE_OK) {
            close_connection(c, NETCORE_LOBBY_ERR_MALFORMED, "malformed frame from server");
            return;
        }
        pos += NCI_LOBBY_LENGTH_BYTES + body;
        /* The callback may queue requests or even disconnect; the buffer
         * stays intact until this loop is done with it. */
        dispatch(c);
    }
    if (c->state != CLIENT_OPEN)
        return;
    memmove(c->recv, c->recv + pos, c->recv_len - pos);
    c->recv_len -= pos;
}

static void read_input(netcore_lobby_client *c)
{
    size_t cap = (size_t)c->config.max_frame_bytes + NCI_LOBBY_LENGTH_BYTES;
    /* Plaintext already decrypted inside TLS does not wake poll(): take it. */
    for (int i = 0; c->state == CLIENT_OPEN &&
                    (i < MAX_READS_PER_UPDATE || (c->tls && nci_lobby_tls_pending(c->tls)));
         i++) {
        size_t n = 0;
        nci_io io = conn_recv(c, c->recv + c->recv_len, cap - c->recv_len, &n);
        if (io == NCI_IO_WOULD_BLOCK)
            return;
        if (io != NCI_IO_DONE || n == 0) {
            close_connection(c, NETCORE_LOBBY_ERR_NONE, "");
            return;
        }
        c->recv_len += n;
        process_frames(c);
    }
}

static void finish_connecting(netcore_lobby_client *c)
{
    nci_poll_event event;
    if (nci_poller_wait(c->poller, &event, 1, 0) <= 0) {
        if (c->now_ms - c->connect_started_ms >= c->config.connect_timeout_ms)
            close_connection(c, NETCORE_LOBBY_ERR_TIMEOUT, "connect timed out");
        return;
    }
    if (nci_socket_connect_result(c->socket) != NETCORE_OK) {
        close_connection(c, NETCORE_LOBBY_ERR_NONE, "");
        return;
    }
    /* Connected: from here on the socket is only read and written when
     * update runs, as before, so the poller lets it go. */
    (void)nci_poller_remove(c->poller, c->socket);
    if (!c->config.tls) {
        c->state = CLIENT_OPEN;
        return;
    }
    /* A pin replaces the chain and name checks (a self-signed LAN host);
     * without one the chain must verify and name tls_server_name. */
    c->tls = nci_lobby_tls_new(c->config.tls, c->socket, false, c->config.tls_server_name,
                               !c->config.tls_pin_set);
    if (!c->tls) {
        close_connection(c, NETCORE_LOBBY_ERR_TLS_FAILED, "cannot start TLS");
        return;
    }
    c->state = CLIENT_HANDSHAKE;
}

/* One handshake step; the HELLO (or RECONNECT, SERVER_REGISTER) queued at
 * connect leaves only once the server is verified. */
static void continue_handshake(netcore_lobby_client *c)
{
    nci_lobby_tls_status st = nci_lobby_tls_handshake(c->tls);
    if (st == NCI_LOBBY_TLS_WANT_READ || st == NCI_LOBBY_TLS_WANT_WRITE) {
        if (c->now_ms - c->connect_started_ms >= c->config.connect_timeout_ms)
            close_connection(c, NETCORE_LOBBY_ERR_TIMEOUT, "TLS handshake timed out");
        return;
    }
    if (st != NCI_LOBBY_TLS_DONE) {
        close_connection(c, NETCORE_LOBBY_ERR_TLS_FAILED,
                         st == NCI_LOBBY_TLS_CLOSED ? "closed during the TLS handshake"
                                                    : nci_lobby_tls_failure(c->tls));
        return;
    }
    if (c->config.tls_pin_set &&
        !nci_lobby_tls_peer_pin_matches(c->tls, c->config.tls_pin_sha256)) {
        close_connection(c, NETCORE_LOBBY_ERR_TLS_FAILED, "certificate does not match the pin");
        return;
    }
    c->state = CLIENT_OPEN;
}

netcore_result netcore_lobby_client_set_tls_peer(netcore_lobby_client *client,
                                                 const char *server_name,
                                                 const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    size_t len = server_name ? strlen(server_name) : 0;
    if (!client || !client->config.tls || len > NETCORE_LOBBY_TLS_SERVER_NAME_MAX ||
        (len == 0 && !pin))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (client->state != CLIENT_IDLE)
        return NETCORE_ERR_STATE;
    memcpy(client->config.tls_server_name, server_name ? server_name : "", len + 1);
    client->config.tls_pin_set = pin != NULL;
    if (pin)
        memcpy(client->config.tls_pin_sha256, pin, NETCORE_LOBBY_TLS_PIN_BYTES);
    return NETCORE_OK;
}

netcore_result netcore_lobby_client_update(netcore_lobby_client *client, uint64_t now_us)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_lobby_client *c = client;
    clock_to(c, now_us);
    if (c->state == CLIENT_CONNECTING)
        finish_connecting(c);
    if (c->state == CLIENT_HANDSHAKE)
        continue_handshake(c);
    if (c->state == CLIENT_OPEN)
        flush(c);
    if (c->state == CLIENT_OPEN)
        read_input(c);
    if (c->state == CLIENT_OPEN && c->welcomed && c->config.keepalive_ms > 0 &&
        c->now_ms - c->last_send_ms >= c->config.keepalive_ms && c->send_len == 0) {
        c->out_msg.type = NCI_LOBBY_PING;
        c->out_msg.u.ping_value = c->now_ms;
        if (queue_out(c) == NETCORE_OK)
            c->last_send_ms = c->now_ms;
    }
    if (c->state == CLIENT_OPEN)
        flush(c);
    /* An attempt of connect_any/reconnect_any failed before WELCOME: the
     * next address is tried instead of reporting it. */
    if (c->closed_event_due && !c->welcomed && c->failover_count > 0 && failover_open(c))
        c->closed_event_due = false;
    if (c->closed_event_due) {
        c->closed_event_due = false;
        c->failover_count = c->failover_next = 0;
        netcore_lobby_event e;
        memset(&e, 0, sizeof e);
        e.type = NETCORE_LOBBY_EVENT_DISCONNECTED;
        e.client_id = c->client_id;
        e.error_code = c->last_error;
        e.text = c->last_error_text;
        emit(c, &e);
    }
    return NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

nci_lobby_msg *nci_lobby_client_out_msg(netcore_lobby_client *c)
{
    return &c->out_msg;
}

netcore_result nci_lobby_client_request(netcore_lobby_client *c, uint8_t type)
{
    if (!c)
        return NETCORE_ERR_INVALID_ARGUMENT;
    c->out_msg.type = type;
    return queue_out(c);
}

/* ------------------------------------------------------------------ */
/* Game server side                                                    */
/* ------------------------------------------------------------------ */

netcore_result netcore_lobby_client_register_game_server(netcore_lobby_client *client,
                                                         const netcore_address *lobby_address,
                                                         const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                                         const netcore_address *game_address,
                                                         uint16_t capacity, uint64_t unix_time_s,
                                                         uint64_t now_us)
{
    if (!client || !key || !game_address || capacity == 0 ||
        (game_address->family != NETCORE_ADDRESS_IPV4 &&
         game_address->family != NETCORE_ADDRESS_IPV6))
        return NETCORE_ERR_INVALID_ARGUMENT;
    clock_to(client, now_us);
    netcore_result r = open_socket(client, lobby_address);
    if (r != NETCORE_OK)
        return r;
    /* A game server never resumes a player's session. */
    client->has_reconnect_token = false;
    nci_lobby_msg *m = &client->out_msg;
    m->type = NCI_LOBBY_SERVER_REGISTER;
    m->u.server_register.version = NETCORE_LOBBY_PROTOCOL_VERSION;
    m->u.server_register.game_address = *game_address;
    m->u.server_register.capacity = capacity;
    m->u.server_register.time_s = unix_time_s;
    memset(m->u.server_register.mac, 0, NCI_LOBBY_MAC_BYTES);
    size_t size = 0;
    r = queue_out_sized(client, &size);
    if (r != NETCORE_OK)
        return r;
    /* The digest covers the encoded body, so it is written after encoding,
     * over the last NCI_LOBBY_MAC_BYTES of the frame just queued. */
    uint8_t *body = client->send + client->send_len - size + NCI_LOBBY_LENGTH_BYTES;
    size_t body_size = size - NCI_LOBBY_LENGTH_BYTES;
    nci_lobby_register_mac(key, body, body_size - NCI_LOBBY_MAC_BYTES,
                           body + body_size - NCI_LOBBY_MAC_BYTES);
    return NETCORE_OK;
}

netcore_result netcore_lobby_client_register_game_server_any(
    netcore_lobby_client *client, const netcore_address *addresses, size_t count,
    const uint8_t key[NETCORE_TOKEN_KEY_BYTES], const netcore_address *game_address,
    uint16_t capacity, uint64_t unix_time_s, uint64_t now_us)
{
    if (!client || !key || !game_address || capacity == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    memcpy(client->failover_key, key, sizeof client->failover_key);
    client->failover_game_address = *game_address;
    client->failover_capacity = capacity;
    client->failover_time_s = unix_time_s;
    return start_any(client, addresses, count, FAILOVER_REGISTER, NULL, now_us);
}
