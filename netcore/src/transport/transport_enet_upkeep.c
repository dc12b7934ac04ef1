/* ENet backend upkeep: the datagram guard's intercept hook and slot sync,
 * and what runs once per millisecond of ENet's service clock (the wire
 * counters and the retransmission cap, see transport_enet_internal.h). */
#include <enet/time.h>

#include "transport/transport_enet_internal.h"

/* ENet's counters are 32 bits and meant to be reset by the user. They are
 * moved into 64-bit totals once a byte counter passes this, far below the
 * wrap (host_stats adds what ENet still holds). They are looked at once per
 * millisecond of ENet's service clock (nci_enet_upkeep): no socket moves the
 * 3 GiB left before the wrap in one millisecond. */
#define HARVEST_AT_BYTES (1u << 30)

static void harvest_wire_counters(enet_backend *b)
{
    if (b->host->totalSentData < HARVEST_AT_BYTES && b->host->totalReceivedData < HARVEST_AT_BYTES)
        return;
    b->wire_bytes_sent += b->host->totalSentData;
    b->wire_bytes_received += b->host->totalReceivedData;
    b->datagrams_sent += b->host->totalSentPackets;
    b->datagrams_received += b->host->totalReceivedPackets;
    b->host->totalSentData = 0;
    b->host->totalReceivedData = 0;
    b->host->totalSentPackets = 0;
    b->host->totalReceivedPackets = 0;
}

/* --- Datagram guard --- */

static nci_guard_slot_state guard_slot_state(ENetPeerState state)
{
    switch (state) {
    case ENET_PEER_STATE_DISCONNECTED:
        return NCI_GUARD_SLOT_FREE;
    case ENET_PEER_STATE_CONNECTING:
    case ENET_PEER_STATE_ACKNOWLEDGING_CONNECT:
    case ENET_PEER_STATE_CONNECTION_PENDING:
    case ENET_PEER_STATE_CONNECTION_SUCCEEDED:
        return NCI_GUARD_SLOT_HANDSHAKE;
    default:
        return NCI_GUARD_SLOT_CONNECTED;
    }
}

/* Behind the server's relay ENet sees relay sockets; the relay knows whose. */
static netcore_address real_address(const enet_backend *b, const netcore_address *wire)
{
    netcore_address origin;
    if (b->server_relay && nci_relay_origin(b->server_relay, wire, &origin) == NETCORE_OK)
        return origin;
    return *wire;
}

/* Tells the guard what every slot holds now. With free_expired (never from
 * inside ENet's receive loop), a server slot still acknowledging a CONNECT
 * after handshake_timeout_ms is freed silently: ENet has reported nothing
 * about it, so no event is owed. */
void nci_enet_guard_sync(enet_backend *b, uint64_t now_ms, bool free_expired)
{
    uint64_t now_us = now_ms * 1000u;
    for (uint32_t slot = 0; slot < b->host->peerCount; slot++) {
        ENetPeer *peer = &b->host->peers[slot];
        nci_guard_slot_state state = guard_slot_state(peer->state);
        netcore_address wire = nci_from_enet_address(&peer->address);
        if (!nci_guard_slot_matches(b->guard, slot, state, &wire)) {
            netcore_address real = real_address(b, &wire);
            nci_guard_set_slot(b->guard, slot, state, &wire, &real, now_us);
        }
        if (free_expired && peer->state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT &&
            nci_guard_handshake_expired(b->guard, slot, now_us)) {
            enet_peer_reset(peer);
            nci_guard_set_slot(b->guard, slot, NCI_GUARD_SLOT_FREE, NULL, NULL, now_us);
            nci_guard_count_handshake_timeout(b->guard);
        }
    }
    b->guard_sync_needed = false;
    b->guard_synced_ms = now_ms;
}

/* The guard's clock is ENet's own service time (read by ENet in every
 * service call that receives), so the guard adds no clock read to a poll. */
uint64_t nci_enet_guard_clock_ms(enet_backend *b)
{
    uint32_t service_ms = b->host->serviceTime;
    b->guard_clock_ms += (uint32_t)(service_ms - b->guard_service_ms);
    b->guard_service_ms = service_ms;
    return b->guard_clock_ms;
}

bool nci_enet_guard_sync_due(const enet_backend *b, uint64_t now_ms)
{
    return b->guard_sync_needed || now_ms - b->guard_synced_ms >= GUARD_SYNC_INTERVAL_MS;
}

/* ENet's intercept hook: 1 swallows the datagram, 0 lets ENet parse it.
 * ENetHost has no user pointer, so the backend rides in the compressor's
 * context: ENet only compresses or decompresses when the compressor's
 * functions are set too, and they stay NULL. */
int ENET_CALLBACK nci_enet_guard_intercept(ENetHost *host, ENetEvent *event)
{
    (void)event;
    enet_backend *b = host->compressor.context;
    uint64_t now_ms = nci_enet_guard_clock_ms(b);
    /* The previous datagram may have made ENet take a slot; its owner's next
     * datagram must already be known. */
    if (nci_enet_guard_sync_due(b, now_ms))
        nci_enet_guard_sync(b, now_ms, false);
    const uint8_t *data = host->receivedData;
    size_t size = host->receivedDataLength;
    /* wire is built once and then only pointed to: copying a freshly built
     * address stalls on its partly written bytes (store forwarding). */
    netcore_address wire = nci_from_enet_address(&host->receivedAddress);
    const netcore_address *real = &wire;
    netcore_address origin;
    /* Only a CONNECT (to peer id 0xFFF) needs the real address, which costs
     * a relay lookup, and only a CONNECT can make ENet take a slot. */
    bool to_no_peer =
        size >= 2 && ((uint32_t)(data[0] << 8 | data[1]) & 0x0FFFu) == NCI_ENET_PEER_ID_NONE;
    if (b->server_relay && to_no_peer) {
        origin = real_address(b, &wire);
        real = &origin;
    }
    if (nci_guard_check(b->guard, data, size, &wire, real, now_ms * 1000u) != NCI_GUARD_PASS)
        return 1;
    if (to_no_peer)
        b->guard_sync_needed = true;
    return 0;
}

/* --- Retransmission cap --- */

/* The peer's cap: the configured one, raised to ENet's own first resend
 * timeout for this peer (round trip + 4 x variance, as ENet computes it). */
static enet_uint32 retransmit_cap(const enet_backend *b, const ENetPeer *peer)
{
    uint64_t rto = (uint64_t)peer->roundTripTime + 4u * (uint64_t)peer->roundTripTimeVariance;
    if (rto < b->retransmit_cap_ms)
        rto = b->retransmit_cap_ms;
    /* Far below ENET_TIME_OVERFLOW, so ENet's time comparisons hold. */
    return rto > 3600000u ? 3600000u : (enet_uint32)rto;
}

static void cap_peer(enet_backend *b, ENetPeer *peer)
{
    enet_uint32 cap = retransmit_cap(b, peer);
    enet_uint32 earliest_due = 0;
    bool any = false;
    ENetListIterator end = enet_list_end(&peer->sentReliableCommands);
    for (ENetListIterator it = enet_list_begin(&peer->sentReliableCommands); it != end;
         it = enet_list_next(it)) {
        ENetOutgoingCommand *command = (ENetOutgoingCommand *)it;
        if (command->roundTripTimeout > cap)
            command->roundTripTimeout = cap;
        if (command->roundTripTimeoutLimit <= command->roundTripTimeout)
            command->roundTripTimeoutLimit = command->roundTripTimeout + 1u;
        enet_uint32 due = command->sentTime + command->roundTripTimeout;
        if (!any || ENET_TIME_LESS(due, earliest_due))
            earliest_due = due;
        any = true;
    }
    if (any && ENET_TIME_LESS(earliest_due, peer->nextTimeout))
        peer->nextTimeout = earliest_due;
}

/* One pass over the peers; a list is walked only when its tail changed. */
static void cap_pass(enet_backend *b)
{
    for (uint32_t slot = 0; slot < b->host->peerCount; slot++) {
        ENetPeer *peer = &b->host->peers[slot];
        if (enet_list_empty(&peer->sentReliableCommands)) {
            b->capped_tail[slot] = NULL;
            continue;
        }
        const ENetOutgoingCommand *tail =
            (const ENetOutgoingCommand *)enet_list_back(&peer->sentReliableCommands);
        if (tail == b->capped_tail[slot] && tail->sentTime == b->capped_tail_sent[slot])
            continue;
        cap_peer(b, peer);
        b->capped_tail[slot] = tail;
        b->capped_tail_sent[slot] = tail->sentTime;
    }
}

/* --- Graceful disconnects --- */

void nci_enet_linger_pass(enet_backend *b)
{
    for (uint32_t slot = 0; slot < b->max_peers && b->lingering; slot++) {
        peer_linger *l = &b->lingers[slot];
        if (!l->active)
            continue;
        ENetPeer *peer = &b->host->peers[slot];
        bool waiting = peer->state == ENET_PEER_STATE_DISCONNECT_LATER;
        if (waiting && ENET_TIME_LESS(b->host->serviceTime, l->until_ms))
            continue;
        l->active = false;
        b->lingering--;
        /* Still waiting after timeout_ms: the remote is not taking the
         * backlog, so drop it and say goodbye (data32 was kept in eventData). */
        if (waiting)
            enet_peer_disconnect(peer, peer->eventData);
    }
}

void nci_enet_upkeep_pass(enet_backend *b)
{
    b->upkeep_at_ms = b->host->serviceTime;
    harvest_wire_counters(b);
    if (b->retransmit_cap_ms)
        cap_pass(b);
    if (b->lingering)
        nci_enet_linger_pass(b);
}
