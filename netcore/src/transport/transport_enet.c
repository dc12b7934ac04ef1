/* ENet backend of the transport seam: lanes are ENet channels, slots are ENet
 * peer indices. With conditioner.enabled every datagram passes an in-process
 * impairment relay (relay.h):
 *   client: each connection gets its own relay on 127.0.0.1:0 forwarding to the
 *           server; the ENet peer talks to the relay (upstream = outbound).
 *   server: ENet binds 127.0.0.1:0 internally; one relay listens on the
 *           configured address and forwards to it (upstream = inbound).
 * Without the conditioner no relay exists and service() is enet_host_service().
 *
 * Unless cfg->guard.disabled, ENet's intercept hook hands every received
 * datagram to the datagram guard (enet_guard.h) before ENet parses it; only
 * what the guard passes can make ENet allocate a peer. The guard learns which
 * slot is held by which address from nci_enet_guard_sync(). */
#include <enet/enet.h>
#include <enet/time.h>
#include <string.h>

#include "core/core_internal.h"
#include "transport/transport_enet_internal.h"
#include "transport/transport_internal.h"

/* Longest a conditioned service() sleeps at once: relays must forward
 * datagrams at their due time while ENet sleeps on its own socket only. */
#define RELAY_SLICE_MS 1u

/* ENet queues without limit. A peer with more commands than this waiting to
 * go out or to be acknowledged is not keeping up, and sends to it fail with
 * NETCORE_ERR_FULL. Counting ENet's lists is linear, so it is done on every
 * QUEUE_CHECK_INTERVAL-th send, and on every send while the peer is full. */
#define MAX_QUEUED_COMMANDS 8192u
#define QUEUE_CHECK_INTERVAL 64u

/* Failed receives (oversized datagrams) skipped per service call. */
#define MAX_RECEIVE_RETRIES 64u

_Static_assert(sizeof(ENetProtocolConnect) == NCI_ENET_CONNECT_BYTES, "ENet CONNECT layout");
_Static_assert(ENET_PROTOCOL_MAXIMUM_PEER_ID == NCI_ENET_PEER_ID_NONE, "ENet peer id space");
_Static_assert(ENET_PROTOCOL_MAXIMUM_PACKET_COMMANDS == NCI_ENET_MAX_COMMANDS, "ENet commands");

static void to_enet_address(const netcore_address *in, ENetAddress *out)
{
    memset(out, 0, sizeof *out);
    if (in->family == NETCORE_ADDRESS_IPV4)
        memcpy(&out->host, in->bytes, 4);
    else
        out->host = ENET_HOST_ANY;
    out->port = in->port;
}

static enet_uint32 lane_flags(nci_lane_mode mode)
{
    switch (mode) {
    case NCI_LANE_RELIABLE_ORDERED:
    case NCI_LANE_RELIABLE_UNORDERED:
        return ENET_PACKET_FLAG_RELIABLE;
    case NCI_LANE_UNRELIABLE_SEQUENCED:
        return ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT;
    case NCI_LANE_UNRELIABLE_UNORDERED:
        return ENET_PACKET_FLAG_UNSEQUENCED | ENET_PACKET_FLAG_UNRELIABLE_FRAGMENT;
    }
    return ENET_PACKET_FLAG_RELIABLE;
}

/* ENet counts bandwidth in bytes per second; 0 stays "unlimited". */
static enet_uint32 kbps_to_bytes_per_s(uint32_t kbps)
{
    uint64_t bytes = (uint64_t)kbps * 125u;
    return bytes > UINT32_MAX ? UINT32_MAX : (enet_uint32)bytes;
}

static void add_conditioner_stats(netcore_conditioner_stats *sum,
                                  const netcore_conditioner_stats *add)
{
    sum->forwarded += add->forwarded;
    sum->dropped_loss += add->dropped_loss;
    sum->dropped_bandwidth += add->dropped_bandwidth;
    sum->dropped_overflow += add->dropped_overflow;
    sum->duplicated += add->duplicated;
    sum->reordered += add->reordered;
    sum->corrupted += add->corrupted;
    sum->bytes_forwarded += add->bytes_forwarded;
}

/* The backend's clock: the real one unless a test injected its own. */
static uint64_t clock_us(const enet_backend *b)
{
    return b->clock.now_us ? b->clock.now_us(b->clock.user) : netcore_time_now_us();
}

/* --- Conditioner relays --- */

static netcore_result make_relay(enet_backend *b, const netcore_address *listen,
                                 const netcore_address *forward,
                                 const netcore_address *upstream_bind,
                                 const netcore_link_profile *upstream,
                                 const netcore_link_profile *downstream, nci_relay **out)
{
    nci_relay_config rc;
    nci_relay_config_default(&rc);
    rc.allocator = b->allocator;
    rc.log = b->log;
    rc.listen = *listen;
    rc.forward = *forward;
    rc.upstream_bind = *upstream_bind;
    rc.upstream_bind.port = 0;
    rc.upstream = *upstream;
    rc.downstream = *downstream;
    /* One decision stream per relay, all derived from the host's seed. */
    rc.seed = b->conditioner.seed + 0x9e3779b97f4a7c15ull * b->relays_made++;
    if (b->is_server && rc.max_sessions < b->max_peers + 16u)
        rc.max_sessions = b->max_peers + 16u;
    return nci_relay_create(&rc, out);
}

static void pump_relays(enet_backend *b, uint64_t now)
{
    if (b->server_relay)
        nci_relay_update(b->server_relay, now);
    if (b->client_relays)
        for (uint32_t i = 0; i < b->max_peers; i++)
            if (b->client_relays[i])
                nci_relay_update(b->client_relays[i], now);
}

static nci_relay *first_relay(const enet_backend *b)
{
    if (b->server_relay)
        return b->server_relay;
    if (b->client_relays)
        for (uint32_t i = 0; i < b->max_peers; i++)
            if (b->client_relays[i])
                return b->client_relays[i];
    return NULL;
}

static void drop_client_relay(enet_backend *b, uint32_t slot)
{
    if (!b->client_relays || !b->client_relays[slot])
        return;
    nci_relay *relay = b->client_relays[slot];
    /* Forward what ENet just queued (e.g. a disconnect notice) before closing. */
    nci_relay_update(relay, clock_us(b));
    nci_relay_stats rs;
    nci_relay_stats_get(relay, &rs);
    add_conditioner_stats(&b->closed_outbound, &rs.upstream);
    add_conditioner_stats(&b->closed_inbound, &rs.downstream);
    nci_relay_destroy(relay);
    b->client_relays[slot] = NULL;
}

/* enet_host_service() without a wait, then waits on the socket timed with
 * the monotonic clock. ENet 1.3 times its own wait with the wall clock
 * (gettimeofday), so a step back of the system clock would block it that
 * long, and it waits again after a signal; here a signal ends the wait
 * early. Waits are no longer than the retransmission cap, so that ENet
 * cannot double a resend timeout twice before it is clamped. */
static int service_plain(enet_backend *b, uint32_t timeout_ms, ENetEvent *event)
{
    int r = enet_host_service(b->host, event, 0);
    /* An injected clock only moves between polls: waiting for it would never end. */
    if (r != 0 || timeout_ms == 0 || b->clock.now_us)
        return r;
    uint64_t now = clock_us(b);
    uint64_t deadline = now + (uint64_t)timeout_ms * 1000u;
    for (;;) {
        nci_enet_upkeep(b);
        uint64_t left_ms = (deadline - now + 999u) / 1000u;
        uint32_t slice_ms = (uint32_t)left_ms;
        if (b->retransmit_cap_ms && slice_ms > b->retransmit_cap_ms)
            slice_ms = b->retransmit_cap_ms;
        enet_uint32 condition = ENET_SOCKET_WAIT_RECEIVE | ENET_SOCKET_WAIT_INTERRUPT;
        int waited = enet_socket_wait(b->host->socket, &condition, slice_ms);
        r = enet_host_service(b->host, event, 0);
        if (r != 0)
            return r;
        if (waited == 0 && (condition & ENET_SOCKET_WAIT_INTERRUPT))
            return 0;
        now = clock_us(b);
        if (now >= deadline)
            return 0;
    }
}

/* --- Backend operations --- */

static void enet_destroy(void *backend, uint32_t shutdown_data32)
{
    enet_backend *b = backend;
    if (!b)
        return;
    if (b->host) {
        if (b->held)
            enet_packet_destroy(b->held);
        for (size_t i = 0; i < b->host->peerCount; i++) {
            ENetPeer *peer = &b->host->peers[i];
            /* A peer the application was leaving gracefully still hears the
             * application's reason (kept in eventData), not SHUTDOWN. */
            if (peer->state == ENET_PEER_STATE_DISCONNECT_LATER)
                enet_peer_disconnect_now(peer, peer->eventData);
            else if (peer->state != ENET_PEER_STATE_DISCONNECTED)
                enet_peer_disconnect_now(peer, shutdown_data32);
        }
        enet_host_flush(b->host);
        pump_relays(b, clock_us(b));
        enet_host_destroy(b->host);
    }
    nci_guard_destroy(b->guard);
    if (b->client_relays)
        for (uint32_t i = 0; i < b->max_peers; i++)
            if (b->client_relays[i])
                nci_relay_destroy(b->client_relays[i]);
    if (b->server_relay)
        nci_relay_destroy(b->server_relay);
    nci_free(&b->allocator, b->client_relays);
    nci_free(&b->allocator, b->send_checks);
    nci_free(&b->allocator, b->lingers);
    nci_free(&b->allocator, b->client_targets);
    nci_free(&b->allocator, b->capped_tail);
    nci_free(&b->allocator, b->capped_tail_sent);
    netcore_allocator allocator = b->allocator;
    nci_free(&allocator, b);
}

static netcore_result create_server_relay(enet_backend *b, const netcore_host_config *cfg)
{
    netcore_address loopback = netcore_address_ipv4(127, 0, 0, 1, 0);
    return make_relay(b, &cfg->bind_address, &b->local, &loopback, &cfg->conditioner.inbound,
                      &cfg->conditioner.outbound, &b->server_relay);
}

static netcore_result enet_create(const netcore_host_config *cfg, const nci_lane_mode *lane_modes,
                                  uint32_t lane_count, const nci_clock *clock, void **out_backend)
{
    if (lane_count < 1 || lane_count > ENET_PROTOCOL_MAXIMUM_CHANNEL_COUNT)
        return NETCORE_ERR_INVALID_ARGUMENT;
    /* The relays run on real sockets and real time; a virtual network
     * conditions its own links. */
    if (clock && clock->now_us && cfg->conditioner.enabled)
        return NETCORE_ERR_UNSUPPORTED;
    enet_backend *b = nci_calloc(&cfg->allocator, 1, sizeof *b);
    if (!b)
        return NETCORE_ERR_OUT_OF_MEMORY;
    b->allocator = cfg->allocator;
    b->log = cfg->log;
    if (clock)
        b->clock = *clock;
    b->max_peers = cfg->max_peers;
    b->lane_count = lane_count;
    for (uint32_t i = 0; i < lane_count; i++)
        b->lane_flags[i] = lane_flags(lane_modes[i]);
    b->ping_interval_ms = cfg->ping_interval_ms;
    b->timeout_ms = cfg->timeout_ms;
    b->is_server = cfg->is_server;
    b->conditioned = cfg->conditioner.enabled;
    b->conditioner = cfg->conditioner;
    b->bind_address = cfg->bind_address;
    b->send_checks = nci_calloc(&b->allocator, cfg->max_peers, sizeof *b->send_checks);
    b->lingers = nci_calloc(&b->allocator, cfg->max_peers, sizeof *b->lingers);
    if (!b->send_checks || !b->lingers) {
        enet_destroy(b, 0);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    b->retransmit_cap_ms = cfg->retransmit_timeout_max_ms;
    if (b->retransmit_cap_ms) {
        b->capped_tail = nci_calloc(&b->allocator, cfg->max_peers, sizeof *b->capped_tail);
        b->capped_tail_sent =
            nci_calloc(&b->allocator, cfg->max_peers, sizeof *b->capped_tail_sent);
        if (!b->capped_tail || !b->capped_tail_sent) {
            enet_destroy(b, 0);
            return NETCORE_ERR_OUT_OF_MEMORY;
        }
    }

    ENetAddress bind;
    if (b->conditioned && b->is_server) {
        netcore_address internal = netcore_address_ipv4(127, 0, 0, 1, 0);
        to_enet_address(&internal, &bind);
    } else {
        to_enet_address(&cfg->bind_address, &bind);
    }
    b->host = enet_host_create(&bind, cfg->max_peers, lane_count,
                               kbps_to_bytes_per_s(cfg->incoming_bandwidth_kbps),
                               kbps_to_bytes_per_s(cfg->outgoing_bandwidth_kbps));
    if (!b->host) {
        enet_destroy(b, 0);
        return NETCORE_ERR_SOCKET;
    }
    b->host->mtu = cfg->mtu_bytes;
    /* enet_host_create reset every peer with the default MTU, and a peer
     * keeps it until its next reset: without this the first connection of
     * each slot would ignore mtu_bytes. */
    for (size_t i = 0; i < b->host->peerCount; i++)
        b->host->peers[i].mtu = cfg->mtu_bytes;
    /* ENet refuses larger packets before reassembling them, which bounds the
     * memory a peer can make us allocate. Twice the limit leaves room for
     * transport.c to see, count and drop slightly oversized messages. */
    size_t limit = (size_t)cfg->max_message_bytes * 2u + 4096u;
    if (limit < b->host->maximumPacketSize)
        b->host->maximumPacketSize = limit;
    ENetAddress actual;
    if (enet_socket_get_address(b->host->socket, &actual) != 0) {
        enet_destroy(b, 0);
        return NETCORE_ERR_SOCKET;
    }
    b->local = nci_from_enet_address(&actual);
    b->upkeep_at_ms = b->host->serviceTime - 1u;
    netcore_result r = NETCORE_OK;
    if (!cfg->guard.disabled) {
        uint64_t seed = clock_us(b) ^ ((uint64_t)b->local.port << 48) ^ (uint64_t)(uintptr_t)b;
        netcore_guard_config guard_cfg = cfg->guard;
        /* A handshake needs VERIFY_CONNECT and its acknowledgement through;
         * by default it gets as long as a silent connected peer does. */
        if (!guard_cfg.handshake_timeout_ms)
            guard_cfg.handshake_timeout_ms = cfg->timeout_ms;
        r = nci_guard_create(&b->allocator, &guard_cfg, cfg->max_peers, cfg->is_server, seed,
                             &b->guard);
        if (r != NETCORE_OK) {
            enet_destroy(b, 0);
            return r;
        }
        b->host->compressor.context = b;
        b->host->intercept = nci_enet_guard_intercept;
        /* ENet's own per-IP cap counts every slot but outgoing ones. Behind
         * the relay all peers share 127.0.0.1, so only the guard, which sees
         * real addresses, can cap per IP there. */
        if (cfg->is_server && !b->conditioned)
            b->host->duplicatePeers = nci_guard_config_resolved(b->guard)->max_peers_per_ip;
        b->guard_service_ms = b->host->serviceTime;
    }
    if (b->conditioned && b->is_server) {
        r = create_server_relay(b, cfg);
        if (r == NETCORE_OK)
            r = nci_relay_listen_address(b->server_relay, &b->local);
    } else if (b->conditioned) {
        b->client_relays = nci_calloc(&b->allocator, cfg->max_peers, sizeof *b->client_relays);
        b->client_targets = nci_calloc(&b->allocator, cfg->max_peers, sizeof *b->client_targets);
        if (!b->client_relays || !b->client_targets)
            r = NETCORE_ERR_OUT_OF_MEMORY;
    }
    if (r != NETCORE_OK) {
        enet_destroy(b, 0);
        return r;
    }
    *out_backend = b;
    return NETCORE_OK;
}

static netcore_result enet_local_address(const void *backend, netcore_address *out_address)
{
    const enet_backend *b = backend;
    *out_address = b->local;
    return NETCORE_OK;
}

static void configure_peer(const enet_backend *b, ENetPeer *peer)
{
    enet_peer_ping_interval(peer, b->ping_interval_ms);
    enet_peer_timeout(peer, 0, b->timeout_ms, b->timeout_ms);
}

static netcore_result enet_connect(void *backend, const netcore_address *to, uint32_t connect_data,
                                   uint32_t *out_slot)
{
    enet_backend *b = backend;
    if (to->family != NETCORE_ADDRESS_IPV4)
        return NETCORE_ERR_UNSUPPORTED;
    ENetAddress target;
    to_enet_address(to, &target);
    nci_relay *relay = NULL;
    if (b->conditioned) {
        netcore_address listen = netcore_address_ipv4(127, 0, 0, 1, 0);
        netcore_address relay_address;
        netcore_result r = make_relay(b, &listen, to, &b->bind_address, &b->conditioner.outbound,
                                      &b->conditioner.inbound, &relay);
        if (r == NETCORE_OK)
            r = nci_relay_listen_address(relay, &relay_address);
        if (r != NETCORE_OK) {
            nci_relay_destroy(relay);
            return r;
        }
        to_enet_address(&relay_address, &target);
    }
    ENetPeer *peer = enet_host_connect(b->host, &target, b->lane_count, connect_data);
    if (!peer) {
        if (relay)
            nci_relay_destroy(relay);
        return NETCORE_ERR_FULL;
    }
    uint32_t slot = (uint32_t)(peer - b->host->peers);
    configure_peer(b, peer);
    if (b->guard)
        b->guard_sync_needed = true;
    if (relay) {
        drop_client_relay(b, slot);
        b->client_relays[slot] = relay;
        b->client_targets[slot] = *to;
    }
    *out_slot = slot;
    return NETCORE_OK;
}

static void stop_linger(enet_backend *b, uint32_t slot)
{
    if (b->lingers[slot].active) {
        b->lingers[slot].active = false;
        b->lingering--;
    }
}

/* enet_peer_disconnect throws away what is still queued to the peer, which
 * suits the library's own reasons (a refusal, a broken session: nothing
 * queued should still go out, and the slot should be free soon). */
static void enet_disconnect(void *backend, uint32_t slot, uint32_t data32)
{
    enet_backend *b = backend;
    if (slot >= b->host->peerCount)
        return;
    stop_linger(b, slot);
    enet_peer_disconnect(&b->host->peers[slot], data32);
}

/* The application's disconnect: enet_peer_disconnect_later sends the
 * DISCONNECT once every queued and unacknowledged command is acknowledged
 * (meanwhile the peer accepts no new sends). The wait is bounded by
 * timeout_ms (nci_enet_linger_pass), after which it is enet_peer_disconnect. */
static void enet_disconnect_later(void *backend, uint32_t slot, uint32_t data32)
{
    enet_backend *b = backend;
    if (slot >= b->host->peerCount)
        return;
    ENetPeer *peer = &b->host->peers[slot];
    if (peer->state != ENET_PEER_STATE_CONNECTED) {
        enet_disconnect(b, slot, data32);
        return;
    }
    enet_peer_disconnect_later(peer, data32);
    if (peer->state != ENET_PEER_STATE_DISCONNECT_LATER)
        return; /* nothing was queued: ENet disconnected at once */
    if (!b->lingers[slot].active)
        b->lingering++;
    b->lingers[slot].active = true;
    b->lingers[slot].until_ms = b->host->serviceTime + b->timeout_ms;
}

static void enet_disconnect_now(void *backend, uint32_t slot, uint32_t data32)
{
    enet_backend *b = backend;
    if (slot >= b->host->peerCount)
        return;
    stop_linger(b, slot);
    enet_peer_disconnect_now(&b->host->peers[slot], data32);
    drop_client_relay(b, slot);
}

static netcore_result enet_send(void *backend, uint32_t slot, uint8_t lane, const void *data,
                                size_t size_bytes)
{
    enet_backend *b = backend;
    if (slot >= b->host->peerCount || lane >= b->lane_count)
        return NETCORE_ERR_NOT_CONNECTED;
    ENetPeer *peer = &b->host->peers[slot];
    if (peer->state != ENET_PEER_STATE_CONNECTED)
        return NETCORE_ERR_NOT_CONNECTED;
    send_check *check = &b->send_checks[slot];
    if (check->queue_full || ++check->sends_since_check >= QUEUE_CHECK_INTERVAL) {
        check->sends_since_check = 0;
        size_t queued =
            enet_list_size(&peer->outgoingCommands) + enet_list_size(&peer->sentReliableCommands);
        check->queue_full = queued >= MAX_QUEUED_COMMANDS;
        if (check->queue_full)
            return NETCORE_ERR_FULL;
    }
    ENetPacket *packet = enet_packet_create(data, size_bytes, b->lane_flags[lane]);
    if (!packet)
        return NETCORE_ERR_OUT_OF_MEMORY;
    if (enet_peer_send(peer, lane, packet) != 0) {
        /* ENet keeps the packet only on success. */
        if (packet->referenceCount == 0)
            enet_packet_destroy(packet);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    return NETCORE_OK;
}

/* With the conditioner, wait in short slices so the relays forward datagrams
 * on time, until ENet has an event or the timeout passes. */
static int service_conditioned(enet_backend *b, uint32_t timeout_ms, ENetEvent *event)
{
    uint64_t now = clock_us(b);
    uint64_t deadline = now + (uint64_t)timeout_ms * 1000u;
    for (;;) {
        pump_relays(b, now);
        int r = enet_host_service(b->host, event, 0);
        if (r != 0)
            return r;
        nci_enet_upkeep(b);
        /* Pass on what ENet just sent (acknowledgements, pings, data). */
        now = clock_us(b);
        pump_relays(b, now);
        if (now >= deadline)
            return 0;
        uint64_t left_ms = (deadline - now + 999u) / 1000u;
        uint32_t slice_ms = left_ms < RELAY_SLICE_MS ? (uint32_t)left_ms : RELAY_SLICE_MS;
        nci_relay *relay = first_relay(b);
        if (relay) {
            nci_relay_wait(relay, now, slice_ms);
        } else {
            enet_uint32 condition = ENET_SOCKET_WAIT_RECEIVE;
            enet_socket_wait(b->host->socket, &condition, slice_ms);
        }
        now = clock_us(b);
    }
}

static netcore_result enet_service(void *backend, uint32_t timeout_ms, nci_backend_event *out_event)
{
    enet_backend *b = backend;
    memset(out_event, 0, sizeof *out_event);
    if (b->held) {
        enet_packet_destroy(b->held);
        b->held = NULL;
    }
    ENetEvent event; /* enet_host_service fills it whenever it returns 1 */
    int r = -1;
    /* ENet 1.3 fails the whole service call when one datagram is larger than
     * its 4096-byte buffer (it reads it truncated and reports an error); the
     * datagram is consumed, so one stranger could otherwise make every poll
     * fail. While the socket itself reports no error, such failures are
     * counted and the service is retried, a bounded number of times. */
    for (uint32_t attempt = 0; attempt < MAX_RECEIVE_RETRIES && r < 0; attempt++) {
        r = b->conditioned ? service_conditioned(b, attempt ? 0 : timeout_ms, &event)
                           : service_plain(b, attempt ? 0 : timeout_ms, &event);
        if (r >= 0)
            break;
        int socket_error = 0;
        if (enet_socket_get_option(b->host->socket, ENET_SOCKOPT_ERROR, &socket_error) != 0 ||
            socket_error != 0)
            break;
        b->receive_errors_dropped++;
        r = attempt + 1 < MAX_RECEIVE_RETRIES ? -1 : 0;
    }
    nci_enet_upkeep(b);
    if (b->guard) {
        uint64_t now_ms = nci_enet_guard_clock_ms(b);
        if (nci_enet_guard_sync_due(b, now_ms) || (r > 0 && event.type != ENET_EVENT_TYPE_RECEIVE))
            nci_enet_guard_sync(b, now_ms, b->is_server);
    }
    if (r < 0)
        return NETCORE_ERR_SOCKET;
    if (r == 0 || !event.peer)
        return NETCORE_OK;
    uint32_t slot = (uint32_t)(event.peer - b->host->peers);
    out_event->slot = slot;
    switch (event.type) {
    case ENET_EVENT_TYPE_CONNECT:
        configure_peer(b, event.peer);
        out_event->type = NCI_BEV_CONNECT;
        out_event->data32 = event.data;
        break;
    case ENET_EVENT_TYPE_DISCONNECT:
        out_event->type = NCI_BEV_DISCONNECT;
        out_event->data32 = event.data;
        drop_client_relay(b, slot);
        break;
    case ENET_EVENT_TYPE_RECEIVE:
        b->held = event.packet;
        out_event->type = NCI_BEV_RECEIVE;
        out_event->lane = event.channelID;
        out_event->reliable = (event.packet->flags & ENET_PACKET_FLAG_RELIABLE) != 0;
        out_event->data = event.packet->data;
        out_event->size_bytes = event.packet->dataLength;
        break;
    case ENET_EVENT_TYPE_NONE:
        break;
    }
    return NETCORE_OK;
}

static netcore_result enet_flush(void *backend)
{
    enet_backend *b = backend;
    enet_host_flush(b->host);
    nci_enet_upkeep(b);
    if (b->conditioned)
        pump_relays(b, clock_us(b));
    return NETCORE_OK;
}

static void enet_peer_link(const void *backend, uint32_t slot, nci_peer_link *out_link)
{
    const enet_backend *b = backend;
    memset(out_link, 0, sizeof *out_link);
    if (slot >= b->host->peerCount)
        return;
    const ENetPeer *peer = &b->host->peers[slot];
    out_link->address = nci_from_enet_address(&peer->address);
    if (b->client_targets) {
        out_link->address = b->client_targets[slot];
    } else if (b->server_relay) {
        netcore_address origin;
        if (nci_relay_origin(b->server_relay, &out_link->address, &origin) == NETCORE_OK)
            out_link->address = origin;
    }
    out_link->rtt_ms = (float)peer->roundTripTime;
    out_link->rtt_variance_ms = (float)peer->roundTripTimeVariance;
    out_link->loss_pct = (float)peer->packetLoss * 100.0f / (float)ENET_PEER_PACKET_LOSS_SCALE;
}

static void enet_host_stats(const void *backend, netcore_host_stats *out_stats)
{
    const enet_backend *b = backend;
    out_stats->wire_bytes_sent = b->wire_bytes_sent + b->host->totalSentData;
    out_stats->wire_bytes_received = b->wire_bytes_received + b->host->totalReceivedData;
    out_stats->datagrams_sent = b->datagrams_sent + b->host->totalSentPackets;
    out_stats->datagrams_received = b->datagrams_received + b->host->totalReceivedPackets;
    if (b->guard)
        nci_guard_stats(b->guard, out_stats);
    out_stats->receive_errors_dropped = b->receive_errors_dropped;
    memset(&out_stats->conditioner_inbound, 0, sizeof out_stats->conditioner_inbound);
    memset(&out_stats->conditioner_outbound, 0, sizeof out_stats->conditioner_outbound);
    nci_relay_stats rs;
    if (b->server_relay) {
        nci_relay_stats_get(b->server_relay, &rs);
        out_stats->conditioner_inbound = rs.upstream;
        out_stats->conditioner_outbound = rs.downstream;
    }
    if (b->client_relays) {
        out_stats->conditioner_inbound = b->closed_inbound;
        out_stats->conditioner_outbound = b->closed_outbound;
        for (uint32_t i = 0; i < b->max_peers; i++) {
            if (!b->client_relays[i])
                continue;
            nci_relay_stats_get(b->client_relays[i], &rs);
            add_conditioner_stats(&out_stats->conditioner_outbound, &rs.upstream);
            add_conditioner_stats(&out_stats->conditioner_inbound, &rs.downstream);
        }
    }
}

static netcore_result enet_set_conditioner(void *backend, const netcore_link_profile *inbound,
                                           const netcore_link_profile *outbound)
{
    enet_backend *b = backend;
    if (!b->conditioned)
        return NETCORE_ERR_STATE;
    b->conditioner.inbound = *inbound;
    b->conditioner.outbound = *outbound;
    if (b->server_relay)
        nci_relay_set_profiles(b->server_relay, inbound, outbound);
    if (b->client_relays)
        for (uint32_t i = 0; i < b->max_peers; i++)
            if (b->client_relays[i])
                nci_relay_set_profiles(b->client_relays[i], outbound, inbound);
    return NETCORE_OK;
}

static uint64_t enet_now_us(const void *backend)
{
    return clock_us(backend);
}

/* ENet reads its millisecond clock in every service call that finds no event
 * already queued (every one that comes back empty), so this costs no clock read. */
static uint32_t enet_recent_ms(const void *backend)
{
    const enet_backend *b = backend;
    return b->host->serviceTime;
}

const nci_backend_ops nci_backend_enet = {
    .name = "enet",
    .native_reliable_unordered = false,
    /* enet_peer_send splits any packet longer than the MTU less a protocol
     * header and a fragment command, whatever the packet's flags. */
    .unfragmented_overhead_bytes = sizeof(ENetProtocolHeader) + sizeof(ENetProtocolSendFragment),
    .create = enet_create,
    .destroy = enet_destroy,
    .local_address = enet_local_address,
    .connect = enet_connect,
    .disconnect_later = enet_disconnect_later,
    .disconnect = enet_disconnect,
    .disconnect_now = enet_disconnect_now,
    .send = enet_send,
    .service = enet_service,
    .flush = enet_flush,
    .peer_link = enet_peer_link,
    .host_stats = enet_host_stats,
    .set_conditioner = enet_set_conditioner,
    .now_us = enet_now_us,
    .recent_ms = enet_recent_ms,
};
