/* Simulated transport backend, sending side of one connection.
 *
 * Each lane keeps a FIFO of messages. Reliable messages enter a window of
 * NCI_SIM_WINDOW sequence numbers; each of their fragments carries its own
 * resend timer (RTO from the RTT estimate, doubled per resend up to a limit
 * and to the host's retransmission cap).
 * Every datagram with chunks has a sequence number and is recorded with the
 * reliable chunks it carried, so an ack (seq + 32-bit field) releases them all.
 * Resends are driven by the fragment timers and by gaps in the acks (a
 * datagram three seqs older than an acknowledged one, and older than an RTT
 * plus a reordering allowance, is taken as lost); a lost ack costs at most a
 * duplicate that the receiver suppresses. */
#include <string.h>

#include "transport/transport_sim_lane.h"

#define RTO_INITIAL_US 500000u
#define RTO_MIN_US 50000u
#define RTO_MAX_US 4000000u
#define RTO_BACKOFF_LIMIT 2u
#define LOSS_SMOOTHING 32.0f
/* A datagram still unacknowledged when one this many seqs newer was
 * acknowledged is taken as lost and its chunks are resent at once. */
#define FAST_RESEND_GAP 3u

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

/* Payload bytes of one fragment chunk at the peer's MTU. */
static uint32_t fragment_capacity(const nci_sim_peer *peer)
{
    return peer->mtu_bytes - NCI_SIM_DATA_HEADER_BYTES - NCI_SIM_FRAGMENT_CHUNK_BYTES;
}

uint64_t nci_sim_rto_us(const nci_sim_peer *peer)
{
    if (!peer->has_rtt)
        return RTO_INITIAL_US;
    double var4 = 4.0 * peer->rttvar_us;
    double rto = peer->srtt_us + (var4 > 10000.0 ? var4 : 10000.0);
    if (rto < RTO_MIN_US)
        return RTO_MIN_US;
    if (rto > RTO_MAX_US)
        return RTO_MAX_US;
    return (uint64_t)rto;
}

/* The resend interval doubles per send, at most RTO_BACKOFF_LIMIT times and
 * to RTO_MAX_US; with the host's retransmission cap it also stops at
 * max(cap, RTO), as on the ENet backend. The timeout counts from the last
 * acknowledgement, so the backoff never decides it. */
static uint64_t resend_delay_us(const nci_sim_host *host, const nci_sim_peer *peer,
                                uint16_t send_count)
{
    uint32_t shift = send_count > 0 ? send_count - 1u : 0u;
    if (shift > RTO_BACKOFF_LIMIT)
        shift = RTO_BACKOFF_LIMIT;
    uint64_t rto = nci_sim_rto_us(peer);
    uint64_t delay = rto << shift;
    if (delay > RTO_MAX_US)
        delay = RTO_MAX_US;
    if (host->retransmit_cap_us) {
        uint64_t cap = host->retransmit_cap_us > rto ? host->retransmit_cap_us : rto;
        if (delay > cap)
            delay = cap;
    }
    return delay;
}

/* ------------------------------------------------------------------ */
/* Slot tables                                                          */
/* ------------------------------------------------------------------ */

netcore_result nci_sim_peer_prepare(nci_sim_host *host, nci_sim_peer *peer)
{
    if (peer->tx)
        return NETCORE_OK;
    peer->tx = nci_calloc(&host->allocator, host->lane_count, sizeof *peer->tx);
    peer->rx = nci_calloc(&host->allocator, host->lane_count, sizeof *peer->rx);
    peer->sent = nci_calloc(&host->allocator, NCI_SIM_SENT_RING, sizeof *peer->sent);
    bool ok = peer->tx && peer->rx && peer->sent;
    for (uint32_t lane = 0; ok && lane < host->lane_count; lane++) {
        uint32_t n =
            nci_sim_lane_reliable(host, lane) ? NCI_SIM_WINDOW : NCI_SIM_UNRELIABLE_ASSEMBLIES;
        peer->rx[lane].slots = nci_calloc(&host->allocator, n, sizeof(nci_sim_assembly));
        ok = peer->rx[lane].slots != NULL;
    }
    if (!ok) {
        nci_sim_peer_release(host, peer);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    return NETCORE_OK;
}

/* Single-chunk messages live in blocks of one size (room for an MTU of
 * payload) that are recycled through a bounded free list, so steady traffic
 * of small messages allocates nothing. */
static size_t small_block_bytes(const nci_sim_host *host)
{
    return sizeof(nci_sim_message) + sizeof(nci_sim_fragment_tx) + host->mtu_bytes;
}

static nci_sim_message *message_alloc(nci_sim_host *host, size_t block_bytes, bool small)
{
    if (small && host->message_pool) {
        nci_sim_message *m = host->message_pool;
        host->message_pool = m->next;
        host->message_pool_count--;
        return m;
    }
    return nci_alloc(&host->allocator, small ? small_block_bytes(host) : block_bytes);
}

static void message_free(nci_sim_host *host, nci_sim_message *m)
{
    if (m && m->pooled && host->message_pool_count < NCI_SIM_MESSAGE_POOL_MAX) {
        m->next = host->message_pool;
        host->message_pool = m;
        host->message_pool_count++;
        return;
    }
    nci_free(&host->allocator, m);
}

void nci_sim_message_pool_release(nci_sim_host *host)
{
    while (host->message_pool) {
        nci_sim_message *next = host->message_pool->next;
        nci_free(&host->allocator, host->message_pool);
        host->message_pool = next;
    }
    host->message_pool_count = 0;
}

static void free_message_list(nci_sim_host *host, nci_sim_message *m)
{
    while (m) {
        nci_sim_message *next = m->next;
        message_free(host, m);
        m = next;
    }
}

void nci_sim_peer_clear(nci_sim_host *host, nci_sim_peer *peer)
{
    for (uint32_t lane = 0; peer->tx && lane < host->lane_count; lane++) {
        nci_sim_lane_tx *tx = &peer->tx[lane];
        free_message_list(host, tx->head);
        for (uint32_t i = 0; i < NCI_SIM_WINDOW; i++)
            message_free(host, tx->window[i]);
        memset(tx, 0, sizeof *tx);
    }
    for (uint32_t lane = 0; peer->rx && lane < host->lane_count; lane++) {
        nci_sim_lane_rx *rx = &peer->rx[lane];
        nci_sim_assembly *slots = rx->slots;
        uint32_t n =
            nci_sim_lane_reliable(host, lane) ? NCI_SIM_WINDOW : NCI_SIM_UNRELIABLE_ASSEMBLIES;
        for (uint32_t i = 0; slots && i < n; i++)
            nci_free(&host->allocator, slots[i].block);
        if (slots)
            memset(slots, 0, n * sizeof *slots);
        memset(rx, 0, sizeof *rx);
        rx->slots = slots;
    }
    if (peer->sent)
        memset(peer->sent, 0, NCI_SIM_SENT_RING * sizeof *peer->sent);
    if (peer->ready && host->ready_peers > 0)
        host->ready_peers--;
    nci_sim_lane_tx *tx = peer->tx;
    nci_sim_lane_rx *rx = peer->rx;
    nci_sim_sent *sent = peer->sent;
    memset(peer, 0, sizeof *peer);
    peer->tx = tx;
    peer->rx = rx;
    peer->sent = sent;
}

void nci_sim_peer_release(nci_sim_host *host, nci_sim_peer *peer)
{
    nci_sim_peer_clear(host, peer);
    for (uint32_t lane = 0; peer->rx && lane < host->lane_count; lane++)
        nci_free(&host->allocator, peer->rx[lane].slots);
    nci_free(&host->allocator, peer->tx);
    nci_free(&host->allocator, peer->rx);
    nci_free(&host->allocator, peer->sent);
    peer->tx = NULL;
    peer->rx = NULL;
    peer->sent = NULL;
}

/* ------------------------------------------------------------------ */
/* Sending                                                              */
/* ------------------------------------------------------------------ */

/* Moves waiting reliable messages into the window while it has room. */
static void lane_promote(nci_sim_lane_tx *tx)
{
    while (tx->head && (uint16_t)(tx->next_seq - tx->oldest_seq) < NCI_SIM_WINDOW) {
        nci_sim_message *m = tx->head;
        tx->head = m->next;
        if (!tx->head)
            tx->tail = NULL;
        m->next = NULL;
        m->seq = tx->next_seq++;
        m->due_us = 0;
        tx->window[m->seq % NCI_SIM_WINDOW] = m;
    }
}

netcore_result nci_sim_lane_send(nci_sim_host *host, nci_sim_peer *peer, uint8_t lane,
                                 const void *data, size_t size_bytes)
{
    if (lane >= host->lane_count || (!data && size_bytes > 0))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (size_bytes > host->max_message_bytes)
        return NETCORE_ERR_TOO_LARGE;
    if (peer->state != NCI_SIM_PEER_CONNECTED)
        return NETCORE_ERR_NOT_CONNECTED;
    if (peer->queued_messages >= NCI_SIM_MAX_QUEUED_MESSAGES ||
        peer->queued_bytes + size_bytes > host->tx_budget_bytes)
        return NETCORE_ERR_FULL;

    uint32_t single = peer->mtu_bytes - NCI_SIM_DATA_HEADER_BYTES - NCI_SIM_MESSAGE_CHUNK_BYTES;
    size_t count = size_bytes <= single
                       ? 1
                       : (size_bytes + fragment_capacity(peer) - 1) / fragment_capacity(peer);
    if (count > UINT16_MAX)
        return NETCORE_ERR_TOO_LARGE;
    bool reliable = nci_sim_lane_reliable(host, lane);
    size_t fragments_bytes = reliable ? count * sizeof(nci_sim_fragment_tx) : 0;
    bool small = count == 1 && size_bytes <= host->mtu_bytes;
    nci_sim_message *m = message_alloc(host, sizeof *m + fragments_bytes + size_bytes, small);
    if (!m)
        return NETCORE_ERR_OUT_OF_MEMORY;
    memset(m, 0, sizeof *m + fragments_bytes);
    m->pooled = small;
    m->fragments = reliable ? (nci_sim_fragment_tx *)(void *)(m + 1) : NULL;
    m->data = (uint8_t *)(m + 1) + fragments_bytes;
    if (size_bytes > 0)
        memcpy(m->data, data, size_bytes);
    m->size_bytes = (uint32_t)size_bytes;
    m->fragment_count = (uint16_t)count;
    m->fragments_unacked = (uint16_t)count;

    nci_sim_lane_tx *tx = &peer->tx[lane];
    if (!reliable)
        m->seq = tx->next_seq++;
    if (tx->tail)
        tx->tail->next = m;
    else
        tx->head = m;
    tx->tail = m;
    peer->queued_messages++;
    peer->queued_bytes += size_bytes;
    if (reliable)
        lane_promote(tx);
    return NETCORE_OK;
}

static void message_done(nci_sim_host *host, nci_sim_peer *peer, nci_sim_message *m)
{
    peer->queued_messages--;
    peer->queued_bytes -= m->size_bytes;
    message_free(host, m);
}

/* The datagram being filled for one peer. */
typedef struct datagram_builder {
    nci_sim_host *host;
    nci_sim_peer *peer;
    uint32_t slot;
    uint64_t now_us;
    size_t len;
    uint32_t chunks;
    nci_sim_sent *record; /* the ring slot of the seq this datagram will take */
} datagram_builder;

static bool ring_has_room(const nci_sim_peer *peer)
{
    return (uint16_t)(peer->tx_seq - peer->loss_scan_seq) < NCI_SIM_SENT_RING;
}

/* Sends the datagram if it carries chunks or an ack is owed. */
static void builder_close(datagram_builder *b)
{
    nci_sim_peer *peer = b->peer;
    if (b->chunks == 0 && !peer->ack_owed)
        return;
    uint8_t *buf = b->host->tx_buffer;
    uint8_t flags = 0;
    uint16_t seq = 0;
    if (b->chunks > 0) {
        seq = peer->tx_seq++;
        flags |= NCI_SIM_FLAG_SEQ;
        b->record->seq = seq;
        b->record->sent_us = b->now_us;
        b->record->state = NCI_SIM_SENT_IN_FLIGHT;
        peer->last_eliciting_us = b->now_us;
    }
    if (peer->rx_any)
        flags |= NCI_SIM_FLAG_ACK;
    nci_sim_write_header(buf, NCI_SIM_DATA, peer->remote_slot, (uint16_t)b->slot, peer->session);
    buf[10] = flags;
    nci_sim_put_u16(buf + 11, seq);
    nci_sim_put_u16(buf + 13, peer->rx_ack);
    nci_sim_put_u32(buf + 15, peer->rx_ack_bits);
    peer->ack_owed = false;
    peer->acks_unsent = 0;
    nci_sim_send_datagram(b->host, peer->address_key, buf, b->len);
    b->len = NCI_SIM_DATA_HEADER_BYTES;
    b->chunks = 0;
}

/* Makes room for a chunk of chunk_bytes (closing the current datagram if
 * needed). false: no new acknowledgeable datagram may be opened now. */
static bool builder_reserve(datagram_builder *b, size_t chunk_bytes, bool reliable)
{
    if (b->chunks > 0 && (b->len + chunk_bytes > b->peer->mtu_bytes ||
                          (reliable && b->record->entry_count >= NCI_SIM_ENTRIES_PER_DATAGRAM)))
        builder_close(b);
    if (b->chunks == 0) {
        if (!ring_has_room(b->peer))
            return false;
        b->record = &b->peer->sent[b->peer->tx_seq % NCI_SIM_SENT_RING];
        memset(b->record, 0, sizeof *b->record);
    }
    return true;
}

/* Writes one message or fragment chunk; the caller reserved room. */
static void builder_put(datagram_builder *b, uint8_t lane, const nci_sim_message *m, uint16_t index)
{
    uint8_t *p = b->host->tx_buffer + b->len;
    uint32_t off = 0;
    uint32_t len = m->size_bytes;
    if (m->fragment_count == 1) {
        p[0] = NCI_SIM_CHUNK_MESSAGE;
        p[1] = lane;
        nci_sim_put_u16(p + 2, m->seq);
        nci_sim_put_u16(p + 4, (uint16_t)len);
        p += NCI_SIM_MESSAGE_CHUNK_BYTES;
    } else {
        off = nci_sim_fragment_offset(m->size_bytes, m->fragment_count, index);
        len = nci_sim_fragment_length(m->size_bytes, m->fragment_count, index);
        p[0] = NCI_SIM_CHUNK_FRAGMENT;
        p[1] = lane;
        nci_sim_put_u16(p + 2, m->seq);
        nci_sim_put_u16(p + 4, index);
        nci_sim_put_u16(p + 6, m->fragment_count);
        nci_sim_put_u32(p + 8, m->size_bytes);
        nci_sim_put_u16(p + 12, (uint16_t)len);
        p += NCI_SIM_FRAGMENT_CHUNK_BYTES;
    }
    if (len > 0)
        memcpy(p, m->data + off, len);
    b->len = (size_t)(p + len - b->host->tx_buffer);
    b->chunks++;
}

static size_t chunk_bytes(const nci_sim_message *m, uint16_t index)
{
    if (m->fragment_count == 1)
        return NCI_SIM_MESSAGE_CHUNK_BYTES + m->size_bytes;
    return NCI_SIM_FRAGMENT_CHUNK_BYTES +
           nci_sim_fragment_length(m->size_bytes, m->fragment_count, index);
}

/* Sends every reliable fragment whose timer is due. false: out of room. */
static bool flush_reliable(datagram_builder *b, uint8_t lane)
{
    nci_sim_lane_tx *tx = &b->peer->tx[lane];
    lane_promote(tx);
    for (uint16_t seq = tx->oldest_seq; seq != tx->next_seq; seq++) {
        nci_sim_message *m = tx->window[seq % NCI_SIM_WINDOW];
        if (!m || m->due_us > b->now_us)
            continue;
        uint64_t next_due = UINT64_MAX;
        for (uint16_t f = 0; f < m->fragment_count; f++) {
            nci_sim_fragment_tx *frag = &m->fragments[f];
            if (frag->acked)
                continue;
            uint64_t due = 0;
            if (frag->send_count > 0)
                due = frag->sent_us + resend_delay_us(b->host, b->peer, frag->send_count);
            if (due <= b->now_us) {
                if (!builder_reserve(b, chunk_bytes(m, f), true)) {
                    m->due_us = 0;
                    return false;
                }
                builder_put(b, lane, m, f);
                nci_sim_sent_entry *e = &b->record->entries[b->record->entry_count++];
                e->lane = lane;
                e->seq = m->seq;
                e->fragment = f;
                if (frag->send_count > 0)
                    b->host->counters.fragments_resent++;
                frag->sent_us = b->now_us;
                if (frag->send_count < UINT16_MAX)
                    frag->send_count++;
                due = b->now_us + resend_delay_us(b->host, b->peer, frag->send_count);
            }
            if (due < next_due)
                next_due = due;
        }
        m->due_us = next_due;
    }
    return true;
}

/* Sends every queued unreliable message once. false: out of room. */
static bool flush_unreliable(datagram_builder *b, uint8_t lane)
{
    nci_sim_lane_tx *tx = &b->peer->tx[lane];
    while (tx->head) {
        nci_sim_message *m = tx->head;
        /* fragments_unacked counts the fragments still to send here. */
        while (m->fragments_unacked > 0) {
            uint16_t f = (uint16_t)(m->fragment_count - m->fragments_unacked);
            if (!builder_reserve(b, chunk_bytes(m, f), false))
                return false;
            builder_put(b, lane, m, f);
            m->fragments_unacked--;
        }
        tx->head = m->next;
        if (!tx->head)
            tx->tail = NULL;
        message_done(b->host, b->peer, m);
    }
    return true;
}

/* Classifies old datagrams as acknowledged or lost, feeding loss_pct. */
static void classify_losses(nci_sim_peer *peer, uint64_t now_us)
{
    uint64_t deadline_us = 2 * nci_sim_rto_us(peer);
    while (peer->loss_scan_seq != peer->tx_seq) {
        nci_sim_sent *rec = &peer->sent[peer->loss_scan_seq % NCI_SIM_SENT_RING];
        float sample;
        if (rec->state == NCI_SIM_SENT_ACKED) {
            sample = 0.0f;
        } else if (now_us - rec->sent_us >= deadline_us) {
            /* Even a datagram fast_resend gave up on counts only now: with
             * reordering its ack may still come. */
            rec->state = NCI_SIM_SENT_LOST;
            sample = 100.0f;
        } else {
            break;
        }
        peer->loss_pct += (sample - peer->loss_pct) / LOSS_SMOOTHING;
        peer->loss_scan_seq++;
    }
}

void nci_sim_flush_peer(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot)
{
    if (peer->state != NCI_SIM_PEER_CONNECTED && peer->state != NCI_SIM_PEER_DISCONNECTING)
        return;
    datagram_builder b = {host, peer, slot, nci_sim_host_now_us(host), NCI_SIM_DATA_HEADER_BYTES,
                          0,    NULL};
    classify_losses(peer, b.now_us);
    bool room = true;
    for (uint32_t lane = 0; room && lane < host->lane_count; lane++)
        room = nci_sim_lane_reliable(host, lane) ? flush_reliable(&b, (uint8_t)lane)
                                                 : flush_unreliable(&b, (uint8_t)lane);
    /* Keep-alive: the ack of a ping feeds the RTT estimate and the timeout. */
    if (b.chunks == 0 && b.now_us - peer->last_eliciting_us >= host->ping_interval_us &&
        builder_reserve(&b, 1, false)) {
        host->tx_buffer[b.len++] = NCI_SIM_CHUNK_PING;
        b.chunks++;
    }
    builder_close(&b);
}

bool nci_sim_peer_drained(const nci_sim_host *host, const nci_sim_peer *peer)
{
    for (uint32_t lane = 0; lane < host->lane_count; lane++) {
        const nci_sim_lane_tx *tx = &peer->tx[lane];
        if (tx->head || (nci_sim_lane_reliable(host, lane) && tx->oldest_seq != tx->next_seq))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Acknowledgements                                                     */
/* ------------------------------------------------------------------ */

static void ack_fragment(nci_sim_host *host, nci_sim_peer *peer, const nci_sim_sent_entry *e)
{
    if (e->lane >= host->lane_count || !nci_sim_lane_reliable(host, e->lane))
        return;
    nci_sim_lane_tx *tx = &peer->tx[e->lane];
    nci_sim_message *m = tx->window[e->seq % NCI_SIM_WINDOW];
    if (!m || m->seq != e->seq || e->fragment >= m->fragment_count ||
        m->fragments[e->fragment].acked)
        return;
    m->fragments[e->fragment].acked = true;
    if (--m->fragments_unacked > 0)
        return;
    tx->window[e->seq % NCI_SIM_WINDOW] = NULL;
    message_done(host, peer, m);
    while (tx->oldest_seq != tx->next_seq && !tx->window[tx->oldest_seq % NCI_SIM_WINDOW])
        tx->oldest_seq++;
}

void nci_sim_rtt_sample(nci_sim_peer *peer, double sample_us)
{
    /* RFC 6298 smoothing: srtt gains 1/8 of the error, rttvar 1/4. */
    if (!peer->has_rtt) {
        peer->has_rtt = true;
        peer->srtt_us = sample_us;
        peer->rttvar_us = sample_us / 2.0;
        return;
    }
    double err = sample_us - peer->srtt_us;
    peer->rttvar_us += ((err < 0 ? -err : err) - peer->rttvar_us) / 4.0;
    peer->srtt_us += err / 8.0;
}

static void ack_datagram(nci_sim_host *host, nci_sim_peer *peer, uint16_t seq, bool newest,
                         uint64_t now_us)
{
    /* Only seqs of the current ring generation can be ours. */
    if ((uint16_t)(peer->tx_seq - 1u - seq) >= NCI_SIM_SENT_RING)
        return;
    nci_sim_sent *rec = &peer->sent[seq % NCI_SIM_SENT_RING];
    if (rec->seq != seq || rec->state == NCI_SIM_SENT_FREE || rec->state == NCI_SIM_SENT_ACKED)
        return;
    /* Each datagram is acknowledged once: a duplicate ack finds it ACKED and
     * gives no second RTT sample. Only the datagram that triggered the ack
     * is timed; an older one in the bit field may have waited for it. */
    if (newest)
        nci_sim_rtt_sample(peer, (double)(now_us - rec->sent_us));
    rec->state = NCI_SIM_SENT_ACKED;
    peer->last_ack_us = now_us;
    for (uint32_t i = 0; i < rec->entry_count; i++)
        ack_fragment(host, peer, &rec->entries[i]);
}

/* Marks datagrams older than newest_acked - FAST_RESEND_GAP that are still
 * in flight as lost and makes their chunks due now, unless a chunk was
 * already sent again since. Jitter reorders datagrams, so a datagram also
 * needs to be older than an RTT plus a reordering allowance (as in RACK). */
static void fast_resend(nci_sim_peer *peer, uint16_t newest_acked, uint64_t now_us)
{
    if (!peer->has_rtt)
        return;
    double allowance_us = peer->srtt_us / 4.0;
    if (allowance_us < 2.0 * peer->rttvar_us)
        allowance_us = 2.0 * peer->rttvar_us;
    uint64_t min_age_us = (uint64_t)(peer->srtt_us + allowance_us);
    for (uint16_t seq = peer->loss_scan_seq;
         seq != peer->tx_seq &&
         nci_sim_seq_newer((uint16_t)(newest_acked - FAST_RESEND_GAP + 1u), seq);
         seq++) {
        nci_sim_sent *rec = &peer->sent[seq % NCI_SIM_SENT_RING];
        if (rec->state != NCI_SIM_SENT_IN_FLIGHT || rec->seq != seq ||
            now_us - rec->sent_us < min_age_us)
            continue;
        rec->state = NCI_SIM_SENT_LOST;
        for (uint32_t i = 0; i < rec->entry_count; i++) {
            const nci_sim_sent_entry *e = &rec->entries[i];
            nci_sim_message *m = peer->tx[e->lane].window[e->seq % NCI_SIM_WINDOW];
            if (!m || m->seq != e->seq || e->fragment >= m->fragment_count)
                continue;
            nci_sim_fragment_tx *frag = &m->fragments[e->fragment];
            if (frag->acked || frag->sent_us > rec->sent_us)
                continue;
            frag->sent_us = 0; /* due at once; the backoff still counts its sends */
            m->due_us = 0;
        }
    }
}

void nci_sim_process_ack(nci_sim_host *host, nci_sim_peer *peer, uint16_t ack, uint32_t ack_bits,
                         uint64_t now_us)
{
    for (uint32_t i = 0; i <= 32; i++)
        if (i == 0 || (ack_bits & (1u << (i - 1))))
            ack_datagram(host, peer, (uint16_t)(ack - i), i == 0, now_us);
    if ((uint16_t)(peer->tx_seq - 1u - ack) < NCI_SIM_SENT_RING)
        fast_resend(peer, ack, now_us);
}

void nci_sim_send_ack(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot, uint64_t now_us)
{
    datagram_builder b = {host, peer, slot, now_us, NCI_SIM_DATA_HEADER_BYTES, 0, NULL};
    builder_close(&b);
}
