/* Simulated transport backend: the data protocol of one connection.
 *
 * Sending: each lane keeps a FIFO of messages. Reliable messages enter a
 * window of NCI_SIM_WINDOW sequence numbers; each of their fragments carries
 * its own resend timer (RTO from the RTT estimate, doubled per resend).
 * Every datagram with chunks has a sequence number and is recorded with the
 * reliable chunks it carried, so an ack (seq + 32-bit field) releases them all.
 * Resends are driven by the fragment timers, never by missing acks, so a lost
 * ack costs at most a duplicate that the receiver suppresses.
 *
 * Receiving: a datagram is validated completely before anything is applied.
 * Reliable lanes hold a reorder window indexed by seq; unreliable lanes keep
 * the newest seq (sequenced) or a bitmap of recent ones (unordered) so a
 * duplicated datagram never produces a second delivery. */
#include <string.h>

#include "transport_sim_internal.h"

#define RTO_INITIAL_US 1000000u
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

static bool seq_newer(uint16_t a, uint16_t b) { return (int16_t)(uint16_t)(a - b) > 0; }

static bool lane_reliable(const nci_sim_host *host, uint32_t lane)
{
    return host->lane_modes[lane] == NCI_LANE_RELIABLE_ORDERED ||
           host->lane_modes[lane] == NCI_LANE_RELIABLE_UNORDERED;
}

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    put_u16(p, (uint16_t)v);
    put_u16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)get_u16(p) | ((uint32_t)get_u16(p + 2) << 16);
}

/* Payload bytes of one fragment chunk at the peer's MTU. */
static uint32_t fragment_capacity(const nci_sim_peer *peer)
{
    return peer->mtu_bytes - NCI_SIM_DATA_HEADER_BYTES - NCI_SIM_FRAGMENT_CHUNK_BYTES;
}

/* Fragment f of a message of total bytes cut into count even pieces. */
static uint32_t piece_bytes(uint32_t total, uint32_t count) { return (total + count - 1) / count; }

static uint32_t fragment_offset(uint32_t total, uint32_t count, uint32_t index)
{
    return index * piece_bytes(total, count);
}

static uint32_t fragment_length(uint32_t total, uint32_t count, uint32_t index)
{
    uint32_t piece = piece_bytes(total, count);
    return index + 1 < count ? piece : total - (count - 1) * piece;
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

static uint64_t resend_delay_us(const nci_sim_peer *peer, uint16_t send_count)
{
    uint32_t shift = send_count > 0 ? send_count - 1u : 0u;
    if (shift > RTO_BACKOFF_LIMIT)
        shift = RTO_BACKOFF_LIMIT;
    uint64_t delay = nci_sim_rto_us(peer) << shift;
    return delay > RTO_MAX_US ? RTO_MAX_US : delay;
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
        uint32_t n = lane_reliable(host, lane) ? NCI_SIM_WINDOW : NCI_SIM_UNRELIABLE_ASSEMBLIES;
        peer->rx[lane].slots = nci_calloc(&host->allocator, n, sizeof(nci_sim_assembly));
        ok = peer->rx[lane].slots != NULL;
    }
    if (!ok) {
        nci_sim_peer_release(host, peer);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    return NETCORE_OK;
}

static void free_message_list(nci_sim_host *host, nci_sim_message *m)
{
    while (m) {
        nci_sim_message *next = m->next;
        nci_free(&host->allocator, m);
        m = next;
    }
}

void nci_sim_peer_clear(nci_sim_host *host, nci_sim_peer *peer)
{
    for (uint32_t lane = 0; peer->tx && lane < host->lane_count; lane++) {
        nci_sim_lane_tx *tx = &peer->tx[lane];
        free_message_list(host, tx->head);
        for (uint32_t i = 0; i < NCI_SIM_WINDOW; i++)
            nci_free(&host->allocator, tx->window[i]);
        memset(tx, 0, sizeof *tx);
    }
    for (uint32_t lane = 0; peer->rx && lane < host->lane_count; lane++) {
        nci_sim_lane_rx *rx = &peer->rx[lane];
        nci_sim_assembly *slots = rx->slots;
        uint32_t n = lane_reliable(host, lane) ? NCI_SIM_WINDOW : NCI_SIM_UNRELIABLE_ASSEMBLIES;
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
    size_t count = size_bytes <= single ? 1
                                        : (size_bytes + fragment_capacity(peer) - 1) /
                                              fragment_capacity(peer);
    if (count > UINT16_MAX)
        return NETCORE_ERR_TOO_LARGE;
    bool reliable = lane_reliable(host, lane);
    size_t fragments_bytes = reliable ? count * sizeof(nci_sim_fragment_tx) : 0;
    nci_sim_message *m =
        nci_alloc(&host->allocator, sizeof *m + fragments_bytes + size_bytes);
    if (!m)
        return NETCORE_ERR_OUT_OF_MEMORY;
    memset(m, 0, sizeof *m + fragments_bytes);
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
    nci_free(&host->allocator, m);
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
    put_u16(buf + 11, seq);
    put_u16(buf + 13, peer->rx_ack);
    put_u32(buf + 15, peer->rx_ack_bits);
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
    if (b->chunks > 0 &&
        (b->len + chunk_bytes > b->peer->mtu_bytes ||
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
static void builder_put(datagram_builder *b, uint8_t lane, const nci_sim_message *m,
                        uint16_t index)
{
    uint8_t *p = b->host->tx_buffer + b->len;
    uint32_t off = 0;
    uint32_t len = m->size_bytes;
    if (m->fragment_count == 1) {
        p[0] = NCI_SIM_CHUNK_MESSAGE;
        p[1] = lane;
        put_u16(p + 2, m->seq);
        put_u16(p + 4, (uint16_t)len);
        p += NCI_SIM_MESSAGE_CHUNK_BYTES;
    } else {
        off = fragment_offset(m->size_bytes, m->fragment_count, index);
        len = fragment_length(m->size_bytes, m->fragment_count, index);
        p[0] = NCI_SIM_CHUNK_FRAGMENT;
        p[1] = lane;
        put_u16(p + 2, m->seq);
        put_u16(p + 4, index);
        put_u16(p + 6, m->fragment_count);
        put_u32(p + 8, m->size_bytes);
        put_u16(p + 12, (uint16_t)len);
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
    return NCI_SIM_FRAGMENT_CHUNK_BYTES + fragment_length(m->size_bytes, m->fragment_count, index);
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
            uint64_t due = frag->send_count == 0
                               ? 0
                               : frag->sent_us + resend_delay_us(b->peer, frag->send_count);
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
                due = b->now_us + resend_delay_us(b->peer, frag->send_count);
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
        } else if (rec->state == NCI_SIM_SENT_LOST || now_us - rec->sent_us >= deadline_us) {
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
                          0, NULL};
    classify_losses(peer, b.now_us);
    bool room = true;
    for (uint32_t lane = 0; room && lane < host->lane_count; lane++)
        room = lane_reliable(host, lane) ? flush_reliable(&b, (uint8_t)lane)
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
        if (tx->head || (lane_reliable(host, lane) && tx->oldest_seq != tx->next_seq))
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Acknowledgements                                                     */
/* ------------------------------------------------------------------ */

static void ack_fragment(nci_sim_host *host, nci_sim_peer *peer, const nci_sim_sent_entry *e)
{
    if (e->lane >= host->lane_count || !lane_reliable(host, e->lane))
        return;
    nci_sim_lane_tx *tx = &peer->tx[e->lane];
    nci_sim_message *m = tx->window[e->seq % NCI_SIM_WINDOW];
    if (!m || m->seq != e->seq || e->fragment >= m->fragment_count || m->fragments[e->fragment].acked)
        return;
    m->fragments[e->fragment].acked = true;
    if (--m->fragments_unacked > 0)
        return;
    tx->window[e->seq % NCI_SIM_WINDOW] = NULL;
    message_done(host, peer, m);
    while (tx->oldest_seq != tx->next_seq && !tx->window[tx->oldest_seq % NCI_SIM_WINDOW])
        tx->oldest_seq++;
}

static void rtt_sample(nci_sim_peer *peer, double sample_us)
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
        rtt_sample(peer, (double)(now_us - rec->sent_us));
    rec->state = NCI_SIM_SENT_ACKED;
    peer->last_ack_us = now_us;
    for (uint32_t i = 0; i < rec->entry_count; i++)
        ack_fragment(host, peer, &rec->entries[i]);
}

/* Marks datagrams older than newest_acked - FAST_RESEND_GAP that are still
 * in flight as lost and makes their chunks due now, unless a chunk was
 * already sent again since. */
static void fast_resend(nci_sim_peer *peer, uint16_t newest_acked)
{
    for (uint16_t seq = peer->loss_scan_seq;
         seq != peer->tx_seq && seq_newer((uint16_t)(newest_acked - FAST_RESEND_GAP + 1u), seq);
         seq++) {
        nci_sim_sent *rec = &peer->sent[seq % NCI_SIM_SENT_RING];
        if (rec->state != NCI_SIM_SENT_IN_FLIGHT || rec->seq != seq)
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

static void note_received_seq(nci_sim_peer *peer, uint16_t seq)
{
    peer->ack_owed = true;
    if (!peer->rx_any) {
        peer->rx_any = true;
        peer->rx_ack = seq;
        peer->rx_ack_bits = 0;
    } else if (seq_newer(seq, peer->rx_ack)) {
        uint16_t d = (uint16_t)(seq - peer->rx_ack);
        if (d > 32)
            peer->rx_ack_bits = 0;
        else if (d == 32)
            peer->rx_ack_bits = 1u << 31;
        else
            peer->rx_ack_bits = (peer->rx_ack_bits << d) | (1u << (d - 1));
        peer->rx_ack = seq;
    } else {
        uint16_t d = (uint16_t)(peer->rx_ack - seq);
        if (d >= 1 && d <= 32)
            peer->rx_ack_bits |= 1u << (d - 1);
    }
}

/* ------------------------------------------------------------------ */
/* Receiving                                                            */
/* ------------------------------------------------------------------ */

typedef struct chunk {
    uint8_t kind;
    uint8_t lane;
    uint16_t seq;
    uint16_t index;
    uint16_t count;
    uint32_t total;
    uint32_t len;
    const uint8_t *bytes;
} chunk;

/* Reads the chunk at *pos; false when malformed. */
static bool chunk_read(const nci_sim_host *host, const uint8_t *p, size_t n, size_t *pos,
                       chunk *c)
{
    size_t at = *pos;
    memset(c, 0, sizeof *c);
    c->kind = p[at];
    if (c->kind == NCI_SIM_CHUNK_PING) {
        *pos = at + 1;
        return true;
    }
    size_t head = c->kind == NCI_SIM_CHUNK_MESSAGE    ? NCI_SIM_MESSAGE_CHUNK_BYTES
                  : c->kind == NCI_SIM_CHUNK_FRAGMENT ? NCI_SIM_FRAGMENT_CHUNK_BYTES
                                                      : 0;
    if (head == 0 || n - at < head)
        return false;
    c->lane = p[at + 1];
    c->seq = get_u16(p + at + 2);
    if (c->kind == NCI_SIM_CHUNK_MESSAGE) {
        c->count = 1;
        c->len = get_u16(p + at + 4);
        c->total = c->len;
    } else {
        c->index = get_u16(p + at + 4);
        c->count = get_u16(p + at + 6);
        c->total = get_u32(p + at + 8);
        c->len = get_u16(p + at + 12);
        if (c->count < 2 || c->index >= c->count || c->total < c->count ||
            (uint64_t)(c->count - 1) * piece_bytes(c->total, c->count) >= c->total ||
            c->len != fragment_length(c->total, c->count, c->index))
            return false;
    }
    if (c->lane >= host->lane_count || n - at - head < c->len)
        return false;
    c->bytes = p + at + head;
    *pos = at + head + c->len;
    return true;
}

static nci_sim_assembly *assembly_alloc(nci_sim_host *host, nci_sim_assembly *a, const chunk *c,
                                        uint64_t now_us)
{
    size_t bitmap = ((size_t)c->count + 7) / 8;
    a->block = nci_alloc(&host->allocator, bitmap + c->total);
    if (!a->block)
        return NULL;
    memset(a->block, 0, bitmap);
    a->data = a->block + bitmap;
    a->size_bytes = c->total;
    a->seq = c->seq;
    a->fragment_count = c->count;
    a->fragments_missing = c->count;
    a->started_us = now_us;
    a->state = NCI_SIM_ASM_PARTIAL;
    return a;
}

/* Adds a fragment; false when it was a duplicate or inconsistent. */
static bool assembly_add(nci_sim_host *host, nci_sim_assembly *a, const chunk *c)
{
    if (a->seq != c->seq || a->fragment_count != c->count || a->size_bytes != c->total) {
        host->counters.malformed_dropped++;
        return false;
    }
    uint8_t bit = (uint8_t)(1u << (c->index % 8));
    if (a->block[c->index / 8] & bit) {
        host->counters.duplicates_dropped++;
        return false;
    }
    a->block[c->index / 8] |= bit;
    memcpy(a->data + fragment_offset(c->total, c->count, c->index), c->bytes, c->len);
    if (--a->fragments_missing == 0)
        a->state = NCI_SIM_ASM_COMPLETE;
    return true;
}

static void mark_ready(nci_sim_host *host, nci_sim_peer *peer)
{
    if (!peer->ready) {
        peer->ready = true;
        host->ready_peers++;
    }
}

static void push_receive(nci_sim_host *host, uint32_t slot, uint8_t lane, const uint8_t *data,
                         uint32_t size, void *owned)
{
    nci_sim_push_event(host, NCI_BEV_RECEIVE, slot, 0, lane, data, size, owned);
}

static void advance_delivered(nci_sim_lane_rx *rx)
{
    while (rx->slots[rx->base % NCI_SIM_WINDOW].state == NCI_SIM_ASM_DELIVERED) {
        rx->slots[rx->base % NCI_SIM_WINDOW].state = NCI_SIM_ASM_EMPTY;
        rx->base++;
    }
}

static void receive_reliable_hold(nci_sim_host *host, nci_sim_peer *peer, nci_sim_assembly *a,
                                  const chunk *c, uint64_t now_us);

static void receive_reliable(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot,
                             const chunk *c, uint64_t now_us)
{
    nci_sim_lane_rx *rx = &peer->rx[c->lane];
    bool ordered = host->lane_modes[c->lane] == NCI_LANE_RELIABLE_ORDERED;
    nci_sim_assembly *a = &rx->slots[c->seq % NCI_SIM_WINDOW];
    if ((uint16_t)(c->seq - rx->base) >= NCI_SIM_WINDOW || a->state == NCI_SIM_ASM_COMPLETE ||
        a->state == NCI_SIM_ASM_DELIVERED) {
        host->counters.duplicates_dropped++;
        return;
    }
    if (c->count == 1 && a->state != NCI_SIM_ASM_EMPTY) {
        host->counters.malformed_dropped++; /* a whole message where fragments were */
        return;
    }
    if (c->total > host->max_message_bytes) {
        /* Skipped, not stalled: the seq counts as delivered. */
        host->counters.oversize_dropped++;
        if (a->state == NCI_SIM_ASM_PARTIAL)
            peer->rx_bytes -= a->size_bytes;
        nci_free(&host->allocator, a->block);
        memset(a, 0, sizeof *a);
        a->state = NCI_SIM_ASM_DELIVERED;
        advance_delivered(rx);
    } else if (c->count == 1 && (!ordered || c->seq == rx->base)) {
        /* Deliverable at once: the event points into the datagram buffer. */
        push_receive(host, slot, c->lane, c->bytes, c->len, NULL);
        a->state = NCI_SIM_ASM_DELIVERED;
        advance_delivered(rx);
    } else {
        receive_reliable_hold(host, peer, a, c, now_us);
    }
    /* Delivering the base may have made later complete messages deliverable. */
    if (rx->ready > 0)
        mark_ready(host, peer);
}

static void receive_reliable_hold(nci_sim_host *host, nci_sim_peer *peer, nci_sim_assembly *a,
                                  const chunk *c, uint64_t now_us)
{
    nci_sim_lane_rx *rx = &peer->rx[c->lane];
    if (a->state == NCI_SIM_ASM_EMPTY) {
        if (!assembly_alloc(host, a, c, now_us))
            return;
        peer->rx_bytes += c->total;
    }
    if (c->count == 1) {
        memcpy(a->data, c->bytes, c->len);
        a->state = NCI_SIM_ASM_COMPLETE;
    } else if (!assembly_add(host, a, c)) {
        return;
    }
    if (a->state == NCI_SIM_ASM_COMPLETE)
        rx->ready++;
}

/* Unreliable dedup state: sequenced keeps the newest seq, unordered a bitmap. */
static bool unreliable_fresh(const nci_sim_host *host, const nci_sim_lane_rx *rx, const chunk *c)
{
    if (!rx->has_newest || seq_newer(c->seq, rx->newest_seq))
        return true;
    if (host->lane_modes[c->lane] == NCI_LANE_UNRELIABLE_SEQUENCED)
        return false;
    uint16_t d = (uint16_t)(rx->newest_seq - c->seq);
    return d < NCI_SIM_WINDOW && !(rx->seen_bits[d / 64] & (1ull << (d % 64)));
}

static void unreliable_mark(nci_sim_lane_rx *rx, uint16_t seq)
{
    if (!rx->has_newest || seq_newer(seq, rx->newest_seq)) {
        uint32_t shift = rx->has_newest ? (uint16_t)(seq - rx->newest_seq) : NCI_SIM_WINDOW;
        uint64_t old[NCI_SIM_WINDOW / 64];
        memcpy(old, rx->seen_bits, sizeof old);
        memset(rx->seen_bits, 0, sizeof rx->seen_bits);
        for (uint32_t d = 0; d + shift < NCI_SIM_WINDOW; d++)
            if (old[d / 64] & (1ull << (d % 64)))
                rx->seen_bits[(d + shift) / 64] |= 1ull << ((d + shift) % 64);
        rx->has_newest = true;
        rx->newest_seq = seq;
    }
    uint16_t d = (uint16_t)(rx->newest_seq - seq);
    rx->seen_bits[d / 64] |= 1ull << (d % 64);
}

static void receive_unreliable(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot,
                               const chunk *c, uint64_t now_us)
{
    nci_sim_lane_rx *rx = &peer->rx[c->lane];
    if (!unreliable_fresh(host, rx, c)) {
        host->counters.duplicates_dropped++;
        return;
    }
    if (c->total > host->max_message_bytes) {
        host->counters.oversize_dropped++;
        unreliable_mark(rx, c->seq);
        return;
    }
    if (c->count == 1) {
        unreliable_mark(rx, c->seq);
        push_receive(host, slot, c->lane, c->bytes, c->len, NULL);
        return;
    }
    nci_sim_assembly *a = NULL;
    nci_sim_assembly *victim = &rx->slots[0];
    for (uint32_t i = 0; i < NCI_SIM_UNRELIABLE_ASSEMBLIES && !a; i++) {
        nci_sim_assembly *s = &rx->slots[i];
        if (s->state == NCI_SIM_ASM_PARTIAL && s->seq == c->seq)
            a = s;
        else if (s->state == NCI_SIM_ASM_EMPTY ||
                 (victim->state != NCI_SIM_ASM_EMPTY && s->started_us < victim->started_us))
            victim = s;
    }
    if (!a) {
        if (victim->state != NCI_SIM_ASM_EMPTY) {
            host->counters.assemblies_expired++;
            nci_free(&host->allocator, victim->block);
            memset(victim, 0, sizeof *victim);
        }
        a = assembly_alloc(host, victim, c, now_us);
        if (!a)
            return;
    }
    if (!assembly_add(host, a, c) || a->state != NCI_SIM_ASM_COMPLETE)
        return;
    unreliable_mark(rx, c->seq);
    push_receive(host, slot, c->lane, a->data, a->size_bytes, a->block);
    memset(a, 0, sizeof *a);
}

/* Bytes that the reliable chunks of a datagram would newly hold in
 * assemblies (an upper bound). The window base is exempt so that a full
 * budget can always drain. */
static size_t reliable_hold_bytes(const nci_sim_host *host, const nci_sim_peer *peer,
                                  const chunk *c)
{
    if (!lane_reliable(host, c->lane))
        return 0;
    const nci_sim_lane_rx *rx = &peer->rx[c->lane];
    if (c->seq == rx->base || (uint16_t)(c->seq - rx->base) >= NCI_SIM_WINDOW ||
        rx->slots[c->seq % NCI_SIM_WINDOW].state != NCI_SIM_ASM_EMPTY)
        return 0;
    if (c->count == 1 && host->lane_modes[c->lane] == NCI_LANE_RELIABLE_UNORDERED)
        return 0;
    return c->total;
}

bool nci_sim_receive_data(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot,
                          const uint8_t *body, size_t body_bytes)
{
    if (body_bytes < NCI_SIM_DATA_HEADER_BYTES - NCI_SIM_HEADER_BYTES)
        return false;
    uint8_t flags = body[0];
    uint16_t seq = get_u16(body + 1);
    uint16_t ack = get_u16(body + 3);
    uint32_t ack_bits = get_u32(body + 5);
    size_t start = NCI_SIM_DATA_HEADER_BYTES - NCI_SIM_HEADER_BYTES;
    if (flags & ~(NCI_SIM_FLAG_SEQ | NCI_SIM_FLAG_ACK))
        return false;

    /* Pass 1: validate everything, nothing is applied yet. */
    size_t pos = start;
    size_t hold = 0;
    uint32_t chunks = 0;
    chunk c;
    while (pos < body_bytes) {
        if (!chunk_read(host, body, body_bytes, &pos, &c))
            return false;
        chunks++;
        if (c.kind != NCI_SIM_CHUNK_PING && c.total <= host->max_message_bytes)
            hold += reliable_hold_bytes(host, peer, &c);
    }
    if ((chunks > 0) != ((flags & NCI_SIM_FLAG_SEQ) != 0))
        return false;

    uint64_t now_us = nci_sim_host_now_us(host);
    if (flags & NCI_SIM_FLAG_ACK) {
        for (uint32_t i = 0; i <= 32; i++)
            if (i == 0 || (ack_bits & (1u << (i - 1))))
                ack_datagram(host, peer, (uint16_t)(ack - i), i == 0, now_us);
        if ((uint16_t)(peer->tx_seq - 1u - ack) < NCI_SIM_SENT_RING)
            fast_resend(peer, ack);
    }
    if (chunks == 0)
        return true;
    if (peer->rx_bytes + hold > host->rx_budget_bytes) {
        /* Not acknowledged, so the sender will offer it again later. */
        host->counters.rx_budget_dropped++;
        return true;
    }
    note_received_seq(peer, seq);
    /* One ack covers 33 seqs: during a burst, acknowledge every half of
     * that instead of once at the end, or most of the burst is resent. */
    if (++peer->acks_unsent >= 16) {
        datagram_builder b = {host, peer, slot, now_us, NCI_SIM_DATA_HEADER_BYTES, 0, NULL};
        builder_close(&b);
    }

    /* Pass 2: apply. */
    pos = start;
    while (pos < body_bytes) {
        chunk_read(host, body, body_bytes, &pos, &c);
        if (c.kind == NCI_SIM_CHUNK_PING)
            continue;
        if (lane_reliable(host, c.lane))
            receive_reliable(host, peer, slot, &c, now_us);
        else
            receive_unreliable(host, peer, slot, &c, now_us);
    }
    return true;
}

bool nci_sim_take_ready(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot)
{
    for (uint32_t lane = 0; lane < host->lane_count; lane++) {
        nci_sim_lane_rx *rx = &peer->rx[lane];
        if (!lane_reliable(host, lane) || rx->ready == 0)
            continue;
        bool ordered = host->lane_modes[lane] == NCI_LANE_RELIABLE_ORDERED;
        for (uint16_t d = 0; d < (ordered ? 1u : NCI_SIM_WINDOW); d++) {
            nci_sim_assembly *a = &rx->slots[(uint16_t)(rx->base + d) % NCI_SIM_WINDOW];
            if (a->state != NCI_SIM_ASM_COMPLETE)
                continue;
            peer->rx_bytes -= a->size_bytes;
            rx->ready--;
            push_receive(host, slot, (uint8_t)lane, a->data, a->size_bytes, a->block);
            memset(a, 0, sizeof *a);
            a->state = NCI_SIM_ASM_DELIVERED;
            advance_delivered(rx);
            return true;
        }
    }
    return false;
}

void nci_sim_expire_assemblies(nci_sim_host *host, nci_sim_peer *peer)
{
    uint64_t now_us = nci_sim_host_now_us(host);
    for (uint32_t lane = 0; lane < host->lane_count; lane++) {
        if (lane_reliable(host, lane))
            continue;
        for (uint32_t i = 0; i < NCI_SIM_UNRELIABLE_ASSEMBLIES; i++) {
            nci_sim_assembly *a = &peer->rx[lane].slots[i];
            if (a->state == NCI_SIM_ASM_PARTIAL &&
                now_us - a->started_us >= NCI_SIM_ASSEMBLY_TIMEOUT_US) {
                nci_free(&host->allocator, a->block);
                memset(a, 0, sizeof *a);
                host->counters.assemblies_expired++;
            }
        }
    }
}
