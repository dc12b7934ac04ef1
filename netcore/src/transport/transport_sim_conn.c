/* Simulated transport backend: connections. The handshake (CONNECT,
 * ACCEPT with retries), DISCONNECT and its ack, the dispatch of every
 * incoming datagram (parsed as hostile), per-peer timers and the work one
 * service call does. */
#include <string.h>

#include "transport/transport_sim_conn.h"

#define CONNECT_RETRY_MAX_US 2000000u
#define MALFORMED_LOG_INTERVAL_US 1000000u
#define CONNECT_BYTES 21u /* without the lane modes */
#define ACCEPT_BYTES 16u

static void send_control(nci_sim_host *host, uint64_t to_key, uint8_t type, uint16_t dest_slot,
                         uint16_t src_slot, uint32_t session, uint32_t value, size_t value_bytes)
{
    uint8_t buf[NCI_SIM_HEADER_BYTES + 4];
    nci_sim_write_header(buf, type, dest_slot, src_slot, session);
    if (value_bytes == 4)
        nci_sim_put_u32(buf + NCI_SIM_HEADER_BYTES, value);
    nci_sim_send_datagram(host, to_key, buf, NCI_SIM_HEADER_BYTES + value_bytes);
}

void nci_sim_send_disconnect(nci_sim_host *host, const nci_sim_peer *peer, uint32_t slot,
                             uint32_t data32)
{
    send_control(host, peer->address_key, NCI_SIM_DISCONNECT, peer->remote_slot, (uint16_t)slot,
                 peer->session, data32, 4);
}

void nci_sim_send_connect(nci_sim_host *host, const nci_sim_peer *peer, uint32_t slot)
{
    uint8_t buf[CONNECT_BYTES + NCI_MAX_LANES];
    nci_sim_write_header(buf, NCI_SIM_CONNECT, NCI_SIM_NO_SLOT, (uint16_t)slot, peer->session);
    nci_sim_put_u32(buf + 10, peer->connect_data);
    nci_sim_put_u32(buf + 14, (uint32_t)nci_sim_host_now_us(host));
    nci_sim_put_u16(buf + 18, (uint16_t)host->mtu_bytes);
    buf[20] = (uint8_t)host->lane_count;
    memcpy(buf + CONNECT_BYTES, host->lane_modes, host->lane_count);
    nci_sim_send_datagram(host, peer->address_key, buf, CONNECT_BYTES + host->lane_count);
}

/* ACCEPT echoes the time stamp of the CONNECT it answers, so the client
 * gets an exact RTT sample even when it had to retry. */
static void send_accept(nci_sim_host *host, uint64_t to_key, uint16_t dest_slot, uint16_t src_slot,
                        uint32_t session, uint32_t time_echo)
{
    uint8_t buf[ACCEPT_BYTES];
    nci_sim_write_header(buf, NCI_SIM_ACCEPT, dest_slot, src_slot, session);
    nci_sim_put_u16(buf + 10, (uint16_t)host->mtu_bytes);
    nci_sim_put_u32(buf + 12, time_echo);
    nci_sim_send_datagram(host, to_key, buf, ACCEPT_BYTES);
}

/* Ends a connection with a DISCONNECT event; the slot is free afterwards. */
void nci_sim_close_with_event(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot,
                              uint32_t data32)
{
    nci_sim_peer_clear(host, peer);
    nci_sim_push_event(host, NCI_BEV_DISCONNECT, slot, data32, 0, NULL, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* Incoming datagrams                                                   */
/* ------------------------------------------------------------------ */

static void count_malformed(nci_sim_host *host)
{
    host->counters.malformed_dropped++;
    if (nci_log_limit_allow(&host->log_limiter, nci_sim_host_now_us(host),
                            MALFORMED_LOG_INTERVAL_US))
        nci_logf(&host->log, NETCORE_LOG_WARN,
                 "sim host %u: dropped a malformed datagram (%llu so far)", (unsigned)host->index,
                 (unsigned long long)host->counters.malformed_dropped);
}

static nci_sim_peer *find_by_session(nci_sim_host *host, uint64_t from_key, uint32_t session,
                                     uint32_t *out_slot)
{
    for (uint32_t i = 0; i < host->max_peers; i++) {
        nci_sim_peer *p = &host->peers[i];
        if (p->state != NCI_SIM_PEER_FREE && p->session == session && p->address_key == from_key) {
            *out_slot = i;
            return p;
        }
    }
    return NULL;
}

static nci_sim_peer *find_peer(nci_sim_host *host, uint64_t from_key, uint16_t dest,
                               uint32_t session, uint32_t *out_slot)
{
    if (dest == NCI_SIM_NO_SLOT)
        return find_by_session(host, from_key, session, out_slot);
    if (dest >= host->max_peers)
        return NULL;
    nci_sim_peer *p = &host->peers[dest];
    if (p->state == NCI_SIM_PEER_FREE || p->session != session || p->address_key != from_key)
        return NULL;
    *out_slot = dest;
    return p;
}

static void handle_connect(nci_sim_host *host, uint64_t from_key, const uint8_t *d, size_t n)
{
    uint16_t src = nci_sim_get_u16(d + 4);
    uint32_t session = nci_sim_get_u32(d + 6);
    if (n < CONNECT_BYTES || n != CONNECT_BYTES + d[20] || src == NCI_SIM_NO_SLOT || session == 0) {
        count_malformed(host);
        return;
    }
    uint32_t connect_data = nci_sim_get_u32(d + 10);
    uint32_t time_echo = nci_sim_get_u32(d + 14);
    uint32_t mtu = nci_sim_get_u16(d + 18);
    if (mtu < NCI_SIM_MIN_MTU || mtu > NCI_SIM_MAX_MTU) {
        count_malformed(host);
        return;
    }
    uint32_t slot;
    nci_sim_peer *peer = find_by_session(host, from_key, session, &slot);
    if (peer) {
        /* A retry whose ACCEPT was lost or is still travelling. */
        if (peer->state == NCI_SIM_PEER_CONNECTED)
            send_accept(host, from_key, src, (uint16_t)slot, session, time_echo);
        return;
    }
    if (d[20] != host->lane_count ||
        memcmp(d + CONNECT_BYTES, host->lane_modes, host->lane_count) != 0) {
        send_control(host, from_key, NCI_SIM_DISCONNECT, src, NCI_SIM_NO_SLOT, session,
                     NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_PROTOCOL_ERROR, NETCORE_ERR_MISMATCH),
                     4);
        return;
    }
    for (slot = 0; slot < host->max_peers && host->peers[slot].state != NCI_SIM_PEER_FREE; slot++) {
    }
    netcore_result r =
        slot < host->max_peers ? nci_sim_peer_prepare(host, &host->peers[slot]) : NETCORE_ERR_FULL;
    if (r != NETCORE_OK) {
        send_control(host, from_key, NCI_SIM_DISCONNECT, src, NCI_SIM_NO_SLOT, session,
                     NCI_DISCONNECT_DATA(NETCORE_DISCONNECT_REJECTED, r), 4);
        return;
    }
    uint64_t now = nci_sim_host_now_us(host);
    peer = &host->peers[slot];
    peer->state = NCI_SIM_PEER_CONNECTED;
    peer->session = session;
    peer->remote_slot = src;
    peer->connect_data = connect_data;
    peer->address = nci_sim_key_address(from_key);
    peer->address_key = from_key;
    peer->mtu_bytes = mtu < host->mtu_bytes ? mtu : host->mtu_bytes;
    peer->state_since_us = now;
    peer->last_ack_us = now;
    peer->last_eliciting_us = now;
    nci_sim_push_event(host, NCI_BEV_CONNECT, slot, connect_data, 0, NULL, 0, NULL);
    send_accept(host, from_key, src, (uint16_t)slot, session, time_echo);
}

static void handle_accept(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot, uint16_t src,
                          const uint8_t *d, size_t n)
{
    uint32_t mtu = n == ACCEPT_BYTES ? nci_sim_get_u16(d + 10) : 0;
    if (mtu < NCI_SIM_MIN_MTU || mtu > NCI_SIM_MAX_MTU || src == NCI_SIM_NO_SLOT) {
        count_malformed(host);
        return;
    }
    if (peer->state != NCI_SIM_PEER_CONNECTING)
        return; /* a duplicate */
    uint64_t now = nci_sim_host_now_us(host);
    /* 32 bits of microseconds: the difference is exact unless the handshake
     * took over an hour; a forged echo is bounded by the connect time. */
    uint32_t rtt_us = (uint32_t)now - nci_sim_get_u32(d + 12);
    if (rtt_us <= now - peer->state_since_us)
        nci_sim_rtt_sample(peer, (double)rtt_us);
    peer->state = NCI_SIM_PEER_CONNECTED;
    peer->remote_slot = src;
    if (mtu < peer->mtu_bytes)
        peer->mtu_bytes = mtu;
    peer->state_since_us = now;
    peer->last_ack_us = now;
    peer->last_eliciting_us = now;
    nci_sim_push_event(host, NCI_BEV_CONNECT, slot, peer->connect_data, 0, NULL, 0, NULL);
}

static void handle_disconnect(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot,
                              uint64_t from_key, const uint8_t *d)
{
    uint16_t src = nci_sim_get_u16(d + 4);
    uint32_t data32 = nci_sim_get_u32(d + 10);
    /* Acknowledged even for a connection already gone: our first ack may
     * have been lost. One small reply per datagram, never more. */
    if (src != NCI_SIM_NO_SLOT)
        send_control(host, from_key, NCI_SIM_DISCONNECT_ACK, src, nci_sim_get_u16(d + 2),
                     nci_sim_get_u32(d + 6), 0, 0);
    if (!peer) {
        host->counters.unmatched_dropped++;
        return;
    }
    if (peer->state == NCI_SIM_PEER_CONNECTING) {
        nci_sim_close_with_event(host, peer, slot, data32);
    } else if (peer->state == NCI_SIM_PEER_CONNECTED || peer->state == NCI_SIM_PEER_DISCONNECTING) {
        /* Complete messages still get delivered before the event. */
        peer->state = NCI_SIM_PEER_REMOTE_CLOSED;
        peer->close_data32 = data32;
        if (!peer->ready) {
            peer->ready = true;
            host->ready_peers++;
        }
    }
}

static void handle_datagram(nci_sim_host *host, uint64_t from_key, const uint8_t *d, size_t n)
{
    host->work_pending = true;
    host->datagrams_received++;
    host->wire_bytes_received += n;
    if (n < NCI_SIM_HEADER_BYTES || d[0] != NCI_SIM_PROTOCOL_ID) {
        count_malformed(host);
        return;
    }
    uint8_t type = d[1];
    uint16_t dest = nci_sim_get_u16(d + 2);
    uint16_t src = nci_sim_get_u16(d + 4);
    uint32_t session = nci_sim_get_u32(d + 6);
    if (type == NCI_SIM_CONNECT) {
        handle_connect(host, from_key, d, n);
        return;
    }
    bool sized = (type == NCI_SIM_ACCEPT && n == ACCEPT_BYTES) ||
                 (type == NCI_SIM_DISCONNECT && n == NCI_SIM_HEADER_BYTES + 4u) ||
                 (type == NCI_SIM_DISCONNECT_ACK && n == NCI_SIM_HEADER_BYTES) ||
                 (type == NCI_SIM_DATA && n >= NCI_SIM_DATA_HEADER_BYTES);
    if (!sized) {
        count_malformed(host);
        return;
    }
    uint32_t slot = 0;
    nci_sim_peer *peer = find_peer(host, from_key, dest, session, &slot);
    if (type == NCI_SIM_DISCONNECT) {
        handle_disconnect(host, peer, slot, from_key, d);
        return;
    }
    bool known_remote = peer && peer->state != NCI_SIM_PEER_CONNECTING && peer->remote_slot == src;
    if (type == NCI_SIM_ACCEPT && peer) {
        handle_accept(host, peer, slot, src, d, n);
    } else if (type == NCI_SIM_DISCONNECT_ACK && known_remote) {
        if (peer->state == NCI_SIM_PEER_DISCONNECTING)
            nci_sim_close_with_event(host, peer, slot, 0);
    } else if (type == NCI_SIM_DATA && known_remote) {
        if (peer->state != NCI_SIM_PEER_REMOTE_CLOSED &&
            !nci_sim_receive_data(host, peer, slot, d + NCI_SIM_HEADER_BYTES,
                                  n - NCI_SIM_HEADER_BYTES))
            count_malformed(host);
    } else {
        host->counters.unmatched_dropped++;
    }
}

/* ------------------------------------------------------------------ */
/* Timers and the service loop                                          */
/* ------------------------------------------------------------------ */

static void peer_timers(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot, uint64_t now)
{
    if (peer->state == NCI_SIM_PEER_CONNECTING) {
        if (now - peer->state_since_us >= host->connect_timeout_us) {
            nci_sim_close_with_event(host, peer, slot, 0);
        } else if (now >= peer->next_control_us) {
            nci_sim_send_connect(host, peer, slot);
            peer->next_control_us = now + peer->control_interval_us;
            peer->control_interval_us *= 2;
            if (peer->control_interval_us > CONNECT_RETRY_MAX_US)
                peer->control_interval_us = CONNECT_RETRY_MAX_US;
        }
        return;
    }
    if (peer->state != NCI_SIM_PEER_CONNECTED && peer->state != NCI_SIM_PEER_DISCONNECTING)
        return;
    if (now - peer->last_ack_us >= host->timeout_us) {
        nci_sim_close_with_event(host, peer, slot, 0);
        return;
    }
    nci_sim_expire_assemblies(host, peer);
    if (peer->state != NCI_SIM_PEER_DISCONNECTING)
        return;
    if (now - peer->state_since_us >= host->timeout_us) {
        /* The remote never confirmed: give up, telling it once more. */
        nci_sim_send_disconnect(host, peer, slot, peer->close_data32);
        nci_sim_close_with_event(host, peer, slot, 0);
    } else if (nci_sim_peer_drained(host, peer) && now >= peer->next_control_us) {
        nci_sim_send_disconnect(host, peer, slot, peer->close_data32);
        peer->next_control_us = now + nci_sim_rto_us(peer);
    }
}

/* Hands out complete reliable messages and deferred close events. */
static bool take_ready(nci_sim_host *host)
{
    for (uint32_t slot = 0; host->ready_peers > 0 && slot < host->max_peers; slot++) {
        nci_sim_peer *peer = &host->peers[slot];
        if (!peer->ready)
            continue;
        if (nci_sim_take_ready(host, peer, slot))
            return true;
        if (peer->state == NCI_SIM_PEER_REMOTE_CLOSED) {
            nci_sim_close_with_event(host, peer, slot, peer->close_data32);
            return true;
        }
        peer->ready = false;
        host->ready_peers--;
    }
    return false;
}

void nci_sim_host_work(nci_sim_host *host)
{
    netcore_sim *sim = host->sim;
    nci_sim_pump(sim);
    nci_link_datagram dg;
    for (;;) {
        if (take_ready(host) || host->event_count > 0)
            return;
        if (!nci_link_pop_due(host->inbound, nci_sim_host_now_us(host), &dg))
            break;
        if (dg.size_bytes > host->mtu_bytes) {
            host->datagrams_received++;
            host->wire_bytes_received += dg.size_bytes;
            count_malformed(host);
            continue;
        }
        /* Copied: RECEIVE events point into rx_buffer, and the link's copy
         * is only valid until the next call on the link. */
        memcpy(host->rx_buffer, dg.data, dg.size_bytes);
        handle_datagram(host, dg.tag, host->rx_buffer, dg.size_bytes);
    }
    /* Timers and flushes depend only on the clock and on what happened
     * since: polling again at the same time with nothing new skips the
     * walk over every slot. */
    uint64_t now = nci_sim_host_now_us(host);
    if (!host->work_pending && host->last_work_us == now)
        return;
    host->work_pending = false;
    host->last_work_us = now;
    for (uint32_t slot = 0; slot < host->max_peers; slot++)
        if (host->peers[slot].state != NCI_SIM_PEER_FREE)
            peer_timers(host, &host->peers[slot], slot, now);
    for (uint32_t slot = 0; slot < host->max_peers; slot++)
        nci_sim_flush_peer(host, &host->peers[slot], slot);
}
