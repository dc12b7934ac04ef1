/* Simulated transport backend, receiving side of one connection.
 *
 * A datagram is validated completely before anything is applied. Reliable
 * lanes hold a reorder window indexed by seq; unreliable lanes keep the
 * newest seq (sequenced) or a bitmap of recent ones (unordered), so a
 * duplicated datagram never produces a second delivery. */
#include <string.h>

#include "transport/transport_sim_recv.h"

static void note_received_seq(nci_sim_peer *peer, uint16_t seq)
{
    peer->ack_owed = true;
    if (!peer->rx_any) {
        peer->rx_any = true;
        peer->rx_ack = seq;
        peer->rx_ack_bits = 0;
    } else if (nci_sim_seq_newer(seq, peer->rx_ack)) {
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
static bool chunk_read(const nci_sim_host *host, const uint8_t *p, size_t n, size_t *pos, chunk *c)
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
    c->seq = nci_sim_get_u16(p + at + 2);
    if (c->kind == NCI_SIM_CHUNK_MESSAGE) {
        c->count = 1;
        c->len = nci_sim_get_u16(p + at + 4);
        c->total = c->len;
    } else {
        c->index = nci_sim_get_u16(p + at + 4);
        c->count = nci_sim_get_u16(p + at + 6);
        c->total = nci_sim_get_u32(p + at + 8);
        c->len = nci_sim_get_u16(p + at + 12);
        if (c->count < 2 || c->index >= c->count || c->total < c->count ||
            (uint64_t)(c->count - 1) * nci_sim_piece_bytes(c->total, c->count) >= c->total ||
            c->len != nci_sim_fragment_length(c->total, c->count, c->index))
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
    memcpy(a->data + nci_sim_fragment_offset(c->total, c->count, c->index), c->bytes, c->len);
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

static void receive_reliable(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot, const chunk *c,
                             uint64_t now_us)
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
    if (!rx->has_newest || nci_sim_seq_newer(c->seq, rx->newest_seq))
        return true;
    if (host->lane_modes[c->lane] == NCI_LANE_UNRELIABLE_SEQUENCED)
        return false;
    uint16_t d = (uint16_t)(rx->newest_seq - c->seq);
    return d < NCI_SIM_WINDOW && !(rx->seen_bits[d / 64] & (1ull << (d % 64)));
}

static void unreliable_mark(nci_sim_lane_rx *rx, uint16_t seq)
{
    if (!rx->has_newest || nci_sim_seq_newer(seq, rx->newest_seq)) {
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
    if (!nci_sim_lane_reliable(host, c->lane))
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
    uint16_t seq = nci_sim_get_u16(body + 1);
    uint16_t ack = nci_sim_get_u16(body + 3);
    uint32_t ack_bits = nci_sim_get_u32(body + 5);
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
    if (flags & NCI_SIM_FLAG_ACK)
        nci_sim_process_ack(host, peer, ack, ack_bits, now_us);
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
    if (++peer->acks_unsent >= 16)
        nci_sim_send_ack(host, peer, slot, now_us);

    /* Pass 2: apply. */
    pos = start;
    while (pos < body_bytes) {
        chunk_read(host, body, body_bytes, &pos, &c);
        if (c.kind == NCI_SIM_CHUNK_PING)
            continue;
        if (nci_sim_lane_reliable(host, c.lane))
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
        if (!nci_sim_lane_reliable(host, lane) || rx->ready == 0)
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
        if (nci_sim_lane_reliable(host, lane))
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
