/* Common transport layer: peer ids, control lane (HELLO/WELCOME), admission,
 * channel -> lane routing and the event contract of transport.h. Config and
 * lane layout are in transport_config.c, payload stats in transport_stats.c,
 * sealing (keys, counters, buffers) in transport_seal.c.
 * The wire format of the control lane is specified in docs/transport-protocol.md. */
#include <string.h>

#include "transport/transport_control.h"
#include "transport/transport_host.h"

/* Events transport.c makes itself (a connect attempt cancelled or timed out,
 * a message that implied WELCOME) wait here. Each comes from one peer slot
 * that is then released or reported, so max_peers plus a margin is enough in
 * practice; a full queue defers deadline checks to the next poll. */
#define EVENT_QUEUE_MARGIN 16u
/* Upper bound of internal events (control messages, dropped messages) one poll
 * swallows before returning NONE, so a flood cannot hold the caller forever. */
#define MAX_SWALLOWED_PER_POLL 4096u
/* Polls that return an event without reading the clock before one does, so
 * the one-second rate window still rolls under a flood that never lets a
 * poll come back empty. */
#define MAX_POLLS_UNCLOCKED 64u
/* How stale, by the backend's recent_ms, the last clock read may get before a
 * poll that found nothing reads it again (rolls the rate window this late). */
#define CLOCK_HINT_MS 50u

_Static_assert(sizeof(nci_peer) % _Alignof(nci_traffic) == 0, "peer block layout");

/* --- Small helpers --- */

/* Every change of a peer's deadline goes through here, so that the host knows
 * when none is armed and a poll can skip the clock (see netcore_host_poll). */
static void peer_set_deadline(netcore_host *host, nci_peer *p, uint64_t deadline_us)
{
    host->deadlines_armed += (uint32_t)(deadline_us != 0) - (uint32_t)(p->deadline_us != 0);
    p->deadline_us = deadline_us;
    if (host->deadlines_armed == 0)
        host->next_deadline_us = UINT64_MAX;
    else if (deadline_us && deadline_us < host->next_deadline_us)
        host->next_deadline_us = deadline_us;
}

/* A slot goes back to the free list: a new generation makes old ids stale. */
static void peer_release(netcore_host *host, nci_peer *p)
{
    peer_set_deadline(host, p, 0);
    nci_free(&host->cfg.allocator, p->token);
    uint16_t generation = (uint16_t)(p->generation + 1u);
    nci_traffic_clear(host, (uint32_t)(p - host->peers));
    nci_host_seal_clear(host, (uint32_t)(p - host->peers));
    memset(p, 0, sizeof *p);
    p->generation = generation ? generation : 1u;
}

static void peer_claim(netcore_host *host, nci_peer *p, nci_peer_state state, uint64_t deadline_us)
{
    uint16_t generation = p->generation ? p->generation : 1u;
    nci_free(&host->cfg.allocator, p->token);
    peer_set_deadline(host, p, 0);
    nci_traffic_clear(host, (uint32_t)(p - host->peers));
    nci_host_seal_clear(host, (uint32_t)(p - host->peers));
    memset(p, 0, sizeof *p);
    p->generation = generation;
    p->state = state;
    peer_set_deadline(host, p, deadline_us);
}

static bool queue_push(netcore_host *host, const netcore_event *event)
{
    if (host->queue_count == host->queue_capacity)
        return false;
    host->queue[(host->queue_head + host->queue_count) % host->queue_capacity] = *event;
    host->queue_count++;
    return true;
}

static bool queue_pop(netcore_host *host, netcore_event *out)
{
    if (host->queue_count == 0)
        return false;
    *out = host->queue[host->queue_head];
    host->queue_head = (host->queue_head + 1u) % host->queue_capacity;
    host->queue_count--;
    return true;
}

static void make_disconnect(netcore_event *ev, netcore_peer_id id, netcore_disconnect_reason reason,
                            uint32_t code)
{
    memset(ev, 0, sizeof *ev);
    ev->type = NETCORE_EVENT_DISCONNECT;
    ev->peer = id;
    ev->reason = reason;
    ev->code = code;
}

/* --- Lifecycle --- */

netcore_result netcore_host_create(const netcore_host_config *config, netcore_host **out_host)
{
    return nci_host_create_clocked(config, NULL, out_host);
}

netcore_result nci_host_create_clocked(const netcore_host_config *config, const nci_clock *clock,
                                       netcore_host **out_host)
{
    if (!config || !out_host)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_host = NULL;
    netcore_result r = nci_host_config_validate(config);
    if (r != NETCORE_OK)
        return r;
    if (!config->sim && !nci_is_initialized())
        return NETCORE_ERR_NOT_INITIALIZED;
    netcore_host *host = nci_calloc(&config->allocator, 1, sizeof *host);
    if (!host)
        return NETCORE_ERR_OUT_OF_MEMORY;
    host->cfg = *config;
    host->ops = config->sim ? &nci_backend_sim : &nci_backend_enet;
    /* Peers and their channels' traffic counters in one block: sizeof(nci_peer)
     * is a multiple of the counters' alignment, so they follow directly. */
    size_t peers_bytes = (size_t)config->max_peers * sizeof(nci_peer);
    host->peers = nci_calloc(&config->allocator, 1,
                             peers_bytes + (size_t)config->max_peers * config->channel_count *
                                               sizeof(nci_traffic));
    host->peer_traffic =
        host->peers ? (nci_traffic *)(void *)((uint8_t *)host->peers + peers_bytes) : NULL;
    host->queue_capacity = config->max_peers + EVENT_QUEUE_MARGIN;
    host->queue = nci_calloc(&config->allocator, host->queue_capacity, sizeof *host->queue);
    r = host->peers && host->queue ? NETCORE_OK : NETCORE_ERR_OUT_OF_MEMORY;
    if (r == NETCORE_OK) {
        for (uint32_t i = 0; i < config->max_peers; i++)
            host->peers[i].generation = 1;
        nci_host_build_lanes(host);
        r = nci_host_seal_create(host);
    }
    if (r == NETCORE_OK) {
        /* The backend carries sealed messages, a little larger than the
         * application's; transport.c checks the application's limit. */
        netcore_host_config backend_cfg = host->cfg;
        backend_cfg.max_message_bytes += NETCORE_SEAL_MAX_OVERHEAD_BYTES;
        r = host->ops->create(&backend_cfg, host->lane_modes, host->lane_count, clock,
                              &host->backend);
    }
    if (r != NETCORE_OK) {
        nci_host_seal_destroy(host);
        nci_free(&config->allocator, host->queue);
        nci_free(&config->allocator, host->peers);
        nci_free(&config->allocator, host);
        return r;
    }
    host->next_deadline_us = UINT64_MAX;
    host->window_start_us = host->ops->now_us(host->backend);
    *out_host = host;
    return NETCORE_OK;
}

void netcore_host_destroy(netcore_host *host)
{
    if (!host)
        return;
    host->ops->destroy(host->backend, NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_SHUTDOWN, 0));
    for (uint32_t i = 0; i < host->cfg.max_peers; i++)
        nci_free(&host->cfg.allocator, host->peers[i].token);
    nci_host_seal_destroy(host);
    netcore_allocator allocator = host->cfg.allocator;
    nci_free(&allocator, host->queue);
    nci_free(&allocator, host->peers);
    nci_free(&allocator, host);
}

/* --- Connect, disconnect, send --- */

netcore_result netcore_host_connect(netcore_host *host, const netcore_address *address,
                                    const netcore_connect_options *options,
                                    netcore_peer_id *out_peer)
{
    if (out_peer)
        *out_peer = NETCORE_PEER_NONE;
    if (!host || !address || !out_peer)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (host->cfg.is_server)
        return NETCORE_ERR_STATE;
    size_t token_size = options ? options->token_size_bytes : 0;
    if (token_size > NETCORE_MAX_TOKEN_BYTES)
        return NETCORE_ERR_TOO_LARGE;
    if (token_size > 0 && !options->token)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const netcore_session_keys *keys =
        options && !host->cfg.seal_disabled ? options->session_keys : NULL;
    /* A token means admission, and admission means sealing: refuse to
     * present one in clear unless sealing was switched off. */
    if (token_size > 0 && !keys && !host->cfg.seal_disabled)
        return NETCORE_ERR_AUTH;
    if (address->family != NETCORE_ADDRESS_IPV4 &&
        !(host->cfg.sim && address->family == NETCORE_ADDRESS_IPV6))
        return NETCORE_ERR_UNSUPPORTED;
    uint8_t *token = NULL;
    if (token_size > 0) {
        token = nci_alloc(&host->cfg.allocator, token_size);
        if (!token)
            return NETCORE_ERR_OUT_OF_MEMORY;
        memcpy(token, options->token, token_size);
    }
    uint32_t slot = 0;
    uint32_t connect_data = options ? options->connect_data : 0;
    netcore_result r = host->ops->connect(host->backend, address, connect_data, &slot);
    if (r != NETCORE_OK || slot >= host->cfg.max_peers) {
        nci_free(&host->cfg.allocator, token);
        return r != NETCORE_OK ? r : NETCORE_ERR_BACKEND;
    }
    nci_peer *p = &host->peers[slot];
    uint64_t now = host->ops->now_us(host->backend);
    peer_claim(host, p, NCI_PEER_CONNECTING, now + (uint64_t)host->cfg.connect_timeout_ms * 1000u);
    p->token = token;
    p->token_size = (uint16_t)token_size;
    p->address = *address;
    if (keys) {
        r = nci_host_seal_begin(host, slot, keys->client_to_server, keys->server_to_client);
        if (r != NETCORE_OK) {
            host->ops->disconnect_now(host->backend, slot, 0);
            peer_release(host, p);
            return r;
        }
    }
    *out_peer = nci_peer_id(p, slot);
    return NETCORE_OK;
}

/* Graceful disconnect of a connected peer: the remote hears reason and code,
 * and so does our application when it is done. Only the application's own
 * request (REQUESTED) waits for what is queued to the peer. */
static void begin_disconnect(netcore_host *host, nci_peer *p, uint32_t slot,
                             netcore_disconnect_reason reason, uint32_t code)
{
    (reason == NETCORE_DISCONNECT_REQUESTED ? host->ops->disconnect_later : host->ops->disconnect)(
        host->backend, slot, NCI_DISCONNECT_DATA(reason, code));
    p->state = NCI_PEER_DISCONNECTING;
    p->local_request = true;
    p->local_reason = (uint8_t)reason;
    p->local_code = code;
    peer_set_deadline(host, p, 0);
}

netcore_result netcore_host_disconnect(netcore_host *host, netcore_peer_id peer_id, uint32_t code)
{
    uint32_t slot = 0;
    nci_peer *p = host ? nci_peer_lookup(host, peer_id, &slot) : NULL;
    if (!p)
        return host ? NETCORE_ERR_NOT_CONNECTED : NETCORE_ERR_INVALID_ARGUMENT;
    code &= 0xffffffu;
    switch (p->state) {
    case NCI_PEER_DISCONNECTING:
    case NCI_PEER_CLOSING:
        return NETCORE_OK;
    case NCI_PEER_PENDING:
        /* Never reported: leave quietly, the remote hears REQUESTED. */
        host->ops->disconnect_later(host->backend, slot,
                                    NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_REQUESTED, code));
        p->state = NCI_PEER_CLOSING;
        peer_set_deadline(host, p, 0);
        return NETCORE_OK;
    case NCI_PEER_CONNECTING: {
        /* The backend has no connection to close gracefully yet (ENet resets
         * such a peer without an event), so finish here and report it. */
        netcore_event ev;
        make_disconnect(&ev, peer_id, NETCORE_DISCONNECT_REQUESTED, code);
        if (!queue_push(host, &ev))
            return NETCORE_ERR_FULL;
        host->ops->disconnect_now(host->backend, slot,
                                  NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_REQUESTED, code));
        peer_release(host, p);
        return NETCORE_OK;
    }
    default:
        break;
    }
    begin_disconnect(host, p, slot, NETCORE_DISCONNECT_REQUESTED, code);
    return NETCORE_OK;
}

static netcore_result check_send_args(const netcore_host *host, uint8_t channel, const void *data,
                                      size_t size_bytes)
{
    if (!host || channel >= host->cfg.channel_count || (!data && size_bytes > 0))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (size_bytes > host->cfg.max_message_bytes)
        return NETCORE_ERR_TOO_LARGE;
    return NETCORE_OK;
}

static netcore_result send_to_slot(netcore_host *host, nci_peer *p, uint32_t slot, uint8_t channel,
                                   const void *data, size_t size_bytes)
{
    uint32_t lane = host->channel_first_lane[channel];
    if (host->channel_lanes[channel] > 1) {
        lane += p->rr_next[channel];
        p->rr_next[channel] = (uint8_t)((p->rr_next[channel] + 1u) % host->channel_lanes[channel]);
    }
    static const uint8_t empty = 0;
    netcore_result r;
    if (p->sealed) {
        r = nci_host_seal_send(host, slot, (uint8_t)lane, size_bytes ? data : &empty, size_bytes);
        if (r == NETCORE_ERR_EXPIRED) {
            /* Never reuse a nonce: this session has said all it may. */
            host->counters.crypto_disconnects++;
            begin_disconnect(host, p, slot, NETCORE_DISCONNECT_CRYPTO_FAILED, NETCORE_ERR_EXPIRED);
        }
    } else {
        r = host->ops->send(host->backend, slot, (uint8_t)lane, size_bytes ? data : &empty,
                            size_bytes);
    }
    if (r != NETCORE_OK)
        return r;
    nci_traffic_count(host, slot, channel, true, size_bytes);
    return NETCORE_OK;
}

netcore_result netcore_host_send(netcore_host *host, netcore_peer_id peer_id, uint8_t channel,
                                 const void *data, size_t size_bytes)
{
    netcore_result r = check_send_args(host, channel, data, size_bytes);
    if (r != NETCORE_OK)
        return r;
    uint32_t slot = 0;
    nci_peer *p = nci_peer_lookup(host, peer_id, &slot);
    if (!p || p->state != NCI_PEER_CONNECTED)
        return NETCORE_ERR_NOT_CONNECTED;
    return send_to_slot(host, p, slot, channel, data, size_bytes);
}

netcore_result netcore_host_broadcast(netcore_host *host, uint8_t channel, const void *data,
                                      size_t size_bytes)
{
    netcore_result r = check_send_args(host, channel, data, size_bytes);
    if (r != NETCORE_OK)
        return r;
    netcore_result first_error = NETCORE_OK;
    for (uint32_t slot = 0; slot < host->cfg.max_peers; slot++) {
        nci_peer *p = &host->peers[slot];
        if (p->state != NCI_PEER_CONNECTED)
            continue;
        r = send_to_slot(host, p, slot, channel, data, size_bytes);
        /* Keep going: one slow peer must not starve the others. */
        if (r != NETCORE_OK && r != NETCORE_ERR_NOT_CONNECTED && first_error == NETCORE_OK)
            first_error = r;
    }
    return first_error;
}

/* --- Control protocol --- */

static netcore_result send_hello(netcore_host *host, nci_peer *p, uint32_t slot)
{
    nci_hello hello;
    memset(&hello, 0, sizeof hello);
    hello.channel_count = host->cfg.channel_count;
    for (uint32_t c = 0; c < host->cfg.channel_count; c++)
        hello.modes[c] = (uint8_t)host->cfg.channels[c].delivery;
    hello.token = p->token;
    hello.token_size_bytes = p->token_size;
    hello.sealed = p->sealed;
    uint8_t buf[NCI_CONTROL_HELLO_MAX_BYTES];
    size_t n = nci_control_write_hello(&hello, buf);
    nci_free(&host->cfg.allocator, p->token);
    p->token = NULL;
    p->token_size = 0;
    /* The one message that travels in clear: it carries the token, which
     * is itself encrypted and authenticated. */
    return n ? host->ops->send(host->backend, slot, 0, buf, n) : NETCORE_ERR_INVALID_ARGUMENT;
}

static netcore_result send_welcome(netcore_host *host, const nci_peer *p, uint32_t slot)
{
    uint8_t buf[NCI_CONTROL_HEADER_BYTES];
    size_t n = nci_control_write_welcome(buf);
    if (p->sealed)
        return nci_host_seal_send(host, slot, 0, buf, n);
    return host->ops->send(host->backend, slot, 0, buf, n);
}

static void note_bad_input(netcore_host *host, uint32_t slot, const char *what)
{
    uint64_t now = host->ops->now_us(host->backend);
    if (nci_log_limit_allow(&host->log_limit, now, NCI_STATS_WINDOW_US))
        nci_logf(&host->cfg.log, NETCORE_LOG_WARN, "peer slot %u: %s (%llu similar suppressed)",
                 (unsigned)slot, what, (unsigned long long)host->log_limit.suppressed);
}

static void report_connect(netcore_host *host, nci_peer *p, uint32_t slot, netcore_event *out)
{
    p->state = NCI_PEER_CONNECTED;
    p->reported = true;
    peer_set_deadline(host, p, 0);
    memset(out, 0, sizeof *out);
    out->type = NETCORE_EVENT_CONNECT;
    out->peer = nci_peer_id(p, slot);
}

/* Server side: a pending peer leaves without an event; the remote hears data32. */
static void close_pending(netcore_host *host, nci_peer *p, uint32_t slot, uint32_t data32)
{
    host->ops->disconnect(host->backend, slot, data32);
    p->state = NCI_PEER_CLOSING;
    peer_set_deadline(host, p, 0);
}

/* A peer whose CONNECT (or connect attempt) the application knows about broke
 * the protocol: cut it off now and report PROTOCOL_ERROR. */
static void fail_protocol(netcore_host *host, nci_peer *p, uint32_t slot, netcore_event *out)
{
    host->counters.malformed_dropped++;
    note_bad_input(host, slot, "unexpected control message");
    host->ops->disconnect_now(
        host->backend, slot,
        NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_PROTOCOL_ERROR, NETCORE_ERR_MALFORMED));
    make_disconnect(out, nci_peer_id(p, slot), NETCORE_DISCONNECT_PROTOCOL_ERROR,
                    NETCORE_ERR_MALFORMED);
    peer_release(host, p);
}

/* A sealed message on a reliable lane failed to open: the backend has
 * acknowledged it, so the stream has a hole that cannot be repaired. Cut the
 * peer off now, like TLS on a bad record, and report it. */
static void fail_crypto(netcore_host *host, nci_peer *p, uint32_t slot, netcore_event *out)
{
    host->counters.crypto_disconnects++;
    note_bad_input(host, slot, "sealed message failed to open on a reliable lane");
    host->ops->disconnect_now(
        host->backend, slot,
        NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_CRYPTO_FAILED, NETCORE_ERR_AUTH));
    if (p->reported || !host->cfg.is_server)
        make_disconnect(out, nci_peer_id(p, slot), NETCORE_DISCONNECT_CRYPTO_FAILED,
                        NETCORE_ERR_AUTH);
    peer_release(host, p);
}

static void admit_hello(netcore_host *host, nci_peer *p, uint32_t slot, const uint8_t *data,
                        size_t size, netcore_event *out)
{
    nci_control_type type = NCI_CONTROL_HELLO;
    nci_hello hello;
    memset(&hello, 0, sizeof hello);
    netcore_result read = nci_control_read(data, size, &type, &hello);
    if (read == NETCORE_OK && type != NCI_CONTROL_HELLO)
        read = NETCORE_ERR_MALFORMED;
    if (read == NETCORE_ERR_MALFORMED) {
        host->counters.malformed_dropped++;
        note_bad_input(host, slot, "malformed HELLO");
        close_pending(
            host, p, slot,
            NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_PROTOCOL_ERROR, NETCORE_ERR_MALFORMED));
        return;
    }
    bool same = read == NETCORE_OK && hello.channel_count == host->cfg.channel_count;
    for (uint32_t c = 0; same && c < hello.channel_count; c++)
        same = hello.modes[c] == (uint8_t)host->cfg.channels[c].delivery;
    if (!same) { /* another protocol version or another channel layout */
        host->counters.admission_rejected++;
        close_pending(host, p, slot,
                      NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_REJECTED, NETCORE_ERR_MISMATCH));
        return;
    }
    netcore_peer_id id = nci_peer_id(p, slot);
    netcore_result verdict = NETCORE_OK;
    netcore_admission_grant grant;
    memset(&grant, 0, sizeof grant);
    if (host->cfg.admission)
        verdict = host->cfg.admission(host->cfg.admission_user, id, &p->address, hello.token,
                                      hello.token_size_bytes, &grant);
    /* The callback may have disconnected this very peer. */
    if (p->state != NCI_PEER_PENDING || nci_peer_id(p, slot) != id) {
        netcore_session_keys_wipe(&grant.session_keys);
        return;
    }
    if (verdict == NETCORE_ERR_ADDRESS)
        host->counters.token_address_rejected++;
    else if (verdict == NETCORE_OK)
        verdict = nci_host_seal_settle(host, slot, hello.sealed, &grant);
    netcore_session_keys_wipe(&grant.session_keys);
    if (verdict != NETCORE_OK) {
        host->counters.admission_rejected++;
        close_pending(host, p, slot, NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_REJECTED, verdict));
        return;
    }
    if (send_welcome(host, p, slot) != NETCORE_OK) {
        close_pending(host, p, slot,
                      NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_REJECTED, NETCORE_ERR_OUT_OF_MEMORY));
        return;
    }
    host->counters.admission_accepted++;
    report_connect(host, p, slot, out);
}

static void handle_control(netcore_host *host, nci_peer *p, uint32_t slot, const uint8_t *data,
                           size_t size, netcore_event *out)
{
    if (host->cfg.is_server) {
        if (p->state == NCI_PEER_PENDING)
            admit_hello(host, p, slot, data, size, out);
        else if (p->state == NCI_PEER_CONNECTED || p->state == NCI_PEER_DISCONNECTING)
            fail_protocol(host, p, slot, out);
        return;
    }
    nci_control_type type = NCI_CONTROL_HELLO;
    nci_hello unused;
    bool welcome =
        nci_control_read(data, size, &type, &unused) == NETCORE_OK && type == NCI_CONTROL_WELCOME;
    if (welcome && !p->welcomed &&
        (p->state == NCI_PEER_HELLO_SENT || p->state == NCI_PEER_CONNECTED ||
         p->state == NCI_PEER_DISCONNECTING)) {
        p->welcomed = true;
        if (p->state == NCI_PEER_HELLO_SENT)
            report_connect(host, p, slot, out);
        return;
    }
    if (p->state == NCI_PEER_HELLO_SENT || p->state == NCI_PEER_CONNECTED ||
        p->state == NCI_PEER_DISCONNECTING)
        fail_protocol(host, p, slot, out);
}

/* --- Backend events --- */

static void on_backend_connect(netcore_host *host, uint32_t slot, netcore_event *out)
{
    nci_peer *p = &host->peers[slot];
    uint64_t now = host->ops->now_us(host->backend);
    if (host->cfg.is_server) {
        peer_claim(host, p, NCI_PEER_PENDING,
                   now + (uint64_t)host->cfg.admission_timeout_ms * 1000u);
        p->backend_up = true;
        nci_peer_link link;
        memset(&link, 0, sizeof link);
        host->ops->peer_link(host->backend, slot, &link);
        p->address = link.address;
        return;
    }
    if (p->state != NCI_PEER_CONNECTING) {
        /* Someone connected to a client host: nothing to talk about. */
        host->ops->disconnect_now(
            host->backend, slot,
            NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_REJECTED, NETCORE_ERR_STATE));
        return;
    }
    p->backend_up = true;
    p->state = NCI_PEER_HELLO_SENT;
    if (send_hello(host, p, slot) != NETCORE_OK) {
        host->ops->disconnect_now(host->backend, slot, 0);
        make_disconnect(out, nci_peer_id(p, slot), NETCORE_DISCONNECT_CONNECT_FAILED,
                        NETCORE_ERR_OUT_OF_MEMORY);
        peer_release(host, p);
    }
}

static void on_backend_disconnect(netcore_host *host, uint32_t slot, uint32_t data32,
                                  netcore_event *out)
{
    nci_peer *p = &host->peers[slot];
    if (p->state == NCI_PEER_FREE)
        return;
    bool visible = p->reported || !host->cfg.is_server;
    if (visible) {
        netcore_disconnect_reason reason;
        uint32_t code = NCI_DISCONNECT_CODE(data32);
        uint32_t remote_reason = NCI_DISCONNECT_REASON(data32);
        if (data32 == 0) {
            if (p->local_request) {
                reason = p->local_reason ? (netcore_disconnect_reason)p->local_reason
                                         : NETCORE_DISCONNECT_REQUESTED;
                code = p->local_code;
            } else {
                reason =
                    p->reported ? NETCORE_DISCONNECT_TIMEOUT : NETCORE_DISCONNECT_CONNECT_FAILED;
            }
        } else if (remote_reason >= NETCORE_DISCONNECT_REQUESTED &&
                   remote_reason <= NETCORE_DISCONNECT_CRYPTO_FAILED) {
            reason = (netcore_disconnect_reason)remote_reason;
        } else {
            /* Not a netcore peer: whatever it sent is not a reason we know. */
            reason = NETCORE_DISCONNECT_PROTOCOL_ERROR;
            code = NETCORE_ERR_MALFORMED;
        }
        if (reason == NETCORE_DISCONNECT_TIMEOUT)
            host->counters.timeouts++;
        else if (reason == NETCORE_DISCONNECT_CRYPTO_FAILED && !p->local_request)
            host->counters.crypto_disconnects++;
        make_disconnect(out, nci_peer_id(p, slot), reason, code);
    }
    peer_release(host, p);
}

/* Opens a message from a sealed peer. false: nothing to deliver (counted;
 * on a reliable lane the peer was cut off and *out may hold its DISCONNECT). */
static bool open_sealed(netcore_host *host, nci_peer *p, const nci_backend_event *bev,
                        const uint8_t **data, size_t *size, netcore_event *out)
{
    if (bev->size_bytes > (size_t)host->cfg.max_message_bytes + NETCORE_SEAL_MAX_OVERHEAD_BYTES) {
        host->counters.oversize_dropped++;
        return false;
    }
    nci_seal_verdict v =
        nci_host_seal_open(host, bev->slot, bev->lane, bev->data, bev->size_bytes, data, size);
    if (v == NCI_SEAL_OPENED)
        return true;
    /* Fatal only when the backend acknowledged it as part of a reliable
     * stream: an unreliable datagram whose clear channel id was altered onto
     * a reliable lane leaves no hole, so it is only dropped. */
    if (v == NCI_SEAL_AUTH_FAILED && bev->reliable)
        fail_crypto(host, p, bev->slot, out);
    else if (v == NCI_SEAL_AUTH_FAILED)
        note_bad_input(host, bev->slot, "sealed message failed to open; dropped");
    return false;
}

static void on_backend_receive(netcore_host *host, const nci_backend_event *bev, netcore_event *out)
{
    nci_peer *p = &host->peers[bev->slot];
    if (p->state == NCI_PEER_FREE)
        return;
    if (bev->lane >= host->lane_count) {
        host->counters.malformed_dropped++;
        return;
    }
    const uint8_t *data = bev->data;
    size_t size = bev->size_bytes;
    /* A server seals a peer from its admission on, a client from its HELLO:
     * before that only HELLO (in clear) is read, anything else dropped. */
    if (p->sealed && !open_sealed(host, p, bev, &data, &size, out))
        return;
    if (bev->lane == 0) {
        handle_control(host, p, bev->slot, data, size, out);
        return;
    }
    bool client_implied_welcome = !host->cfg.is_server && p->state == NCI_PEER_HELLO_SENT;
    if (!p->reported && !client_implied_welcome) {
        host->counters.pending_messages_dropped++;
        return;
    }
    if (size > host->cfg.max_message_bytes) {
        host->counters.oversize_dropped++;
        return;
    }
    uint8_t channel = host->lane_channel[bev->lane];
    /* out is still zeroed by netcore_host_poll. */
    out->type = NETCORE_EVENT_RECEIVE;
    out->peer = nci_peer_id(p, bev->slot);
    out->channel = channel;
    out->data = data;
    out->size_bytes = size;
    if (client_implied_welcome) {
        /* The server sends on user lanes only after WELCOME, which travels on
         * lane 0 and may be overtaken by another lane's datagram: such a
         * message proves admission (sealed, it proves the server holds the
         * keys). Report CONNECT now, the message next (its data stays valid:
         * neither the backend nor the rx buffer is touched in between). */
        bool queued = queue_push(host, out);
        memset(out, 0, sizeof *out);
        if (!queued) {
            host->counters.pending_messages_dropped++;
            return;
        }
        report_connect(host, p, bev->slot, out);
    }
    nci_traffic_count(host, bev->slot, channel, false, size);
}

/* --- Timers and poll --- */

static void run_deadlines(netcore_host *host, uint64_t now)
{
    if (now < host->next_deadline_us)
        return;
    uint64_t next = UINT64_MAX;
    for (uint32_t slot = 0; slot < host->cfg.max_peers; slot++) {
        nci_peer *p = &host->peers[slot];
        if (p->deadline_us == 0)
            continue;
        if (p->deadline_us > now) {
            if (p->deadline_us < next)
                next = p->deadline_us;
            continue;
        }
        if (p->state == NCI_PEER_PENDING) {
            host->counters.admission_timed_out++;
            close_pending(host, p, slot,
                          NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_REJECTED, NETCORE_ERR_TIMEOUT));
        } else if (p->state == NCI_PEER_CONNECTING || p->state == NCI_PEER_HELLO_SENT) {
            netcore_event ev;
            make_disconnect(&ev, nci_peer_id(p, slot), NETCORE_DISCONNECT_CONNECT_FAILED,
                            NETCORE_ERR_TIMEOUT);
            if (!queue_push(host, &ev)) {
                next = now; /* queue full: try again on the next poll */
                break;
            }
            host->ops->disconnect_now(host->backend, slot, 0);
            peer_release(host, p);
        } else {
            peer_set_deadline(host, p, 0);
        }
    }
    host->next_deadline_us = next;
}

/* How long the backend may wait: up to the caller's deadline, but no later
 * than the next connect or admission deadline so that those fire on time. */
static uint32_t wait_budget_ms(const netcore_host *host, uint64_t now, uint64_t deadline)
{
    uint64_t until = deadline < host->next_deadline_us ? deadline : host->next_deadline_us;
    return now >= until ? 0 : (uint32_t)((until - now + 999u) / 1000u);
}

static void dispatch(netcore_host *host, const nci_backend_event *bev, netcore_event *out)
{
    if (bev->slot >= host->cfg.max_peers)
        return;
    switch (bev->type) {
    case NCI_BEV_CONNECT:
        on_backend_connect(host, bev->slot, out);
        break;
    case NCI_BEV_DISCONNECT:
        on_backend_disconnect(host, bev->slot, bev->data32, out);
        break;
    case NCI_BEV_RECEIVE:
        on_backend_receive(host, bev, out);
        break;
    case NCI_BEV_NONE:
        break;
    }
}

/* A poll that cannot wait and has no deadline armed found nothing: the clock
 * is only needed to roll the rate window, which can wait until the backend's
 * own recent time says CLOCK_HINT_MS passed since the clock was last read. */
static bool clock_can_wait(const netcore_host *host)
{
    return host->ops->recent_ms &&
           (uint32_t)(host->ops->recent_ms(host->backend) - host->clock_read_ms) < CLOCK_HINT_MS;
}

/* Reads the clock, then fires due deadlines and rolls the rate window. */
static uint64_t clock_tick(netcore_host *host)
{
    uint64_t now = host->ops->now_us(host->backend);
    host->polls_unclocked = 0;
    if (host->ops->recent_ms)
        host->clock_read_ms = host->ops->recent_ms(host->backend);
    run_deadlines(host, now);
    nci_traffic_roll(host, now);
    return now;
}

netcore_result netcore_host_poll(netcore_host *host, uint32_t timeout_ms, netcore_event *out_event)
{
    if (out_event)
        memset(out_event, 0, sizeof *out_event);
    if (!host || !out_event)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (queue_pop(host, out_event))
        return NETCORE_OK;
    /* A clock read costs about as much as the rest of a poll that finds a
     * message waiting, and a game drains the host with timeout 0 until NONE.
     * Such a poll reads the clock up front only while a connect or admission
     * deadline is armed (so those fire exactly as before); otherwise the rate
     * window is rolled by a poll that ends the drain (below), or here after
     * MAX_POLLS_UNCLOCKED polls that all returned an event. */
    bool waits = timeout_ms > 0;
    uint64_t now = 0;
    if (waits || host->next_deadline_us != UINT64_MAX ||
        ++host->polls_unclocked >= MAX_POLLS_UNCLOCKED) {
        now = clock_tick(host);
        if (queue_pop(host, out_event))
            return NETCORE_OK;
    }
    uint64_t deadline = now + (uint64_t)timeout_ms * 1000u;
    for (uint32_t round = 0; round < MAX_SWALLOWED_PER_POLL; round++) {
        nci_backend_event bev; /* service fills all of it */
        netcore_result r = host->ops->service(
            host->backend, waits ? wait_budget_ms(host, now, deadline) : 0, &bev);
        if (r != NETCORE_OK)
            return r;
        dispatch(host, &bev, out_event);
        if (out_event->type != NETCORE_EVENT_NONE || queue_pop(host, out_event))
            return NETCORE_OK;
        /* Nothing for the caller yet (a control message, a dropped message,
         * or a peer deadline came first): keep waiting for the rest of the
         * timeout. A clock that did not move (simulated backend) ends it. */
        bool idle = bev.type == NCI_BEV_NONE;
        if (idle && !waits && host->next_deadline_us == UINT64_MAX && clock_can_wait(host))
            return NETCORE_OK;
        uint64_t before = now;
        now = clock_tick(host);
        if (queue_pop(host, out_event))
            return NETCORE_OK;
        if (idle && (now >= deadline || now == before))
            return NETCORE_OK;
    }
    return NETCORE_OK;
}
