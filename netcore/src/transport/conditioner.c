/* Link conditioner: one direction of an impaired link.
 *
 * A datagram entering the link first passes the bandwidth serialiser (when a
 * cap is set), then the loss decision, then gets its delay (latency, jitter,
 * reordering hold-back) and possibly a duplicate with a delay of its own.
 * Queued copies sit in a binary min-heap ordered by (deliver time, submission
 * sequence), so ties leave in the order they were submitted.
 *
 * Memory: the heap, the slot table and the free list start small and double
 * up to max_queued. Each slot keeps its payload buffer after delivery, so in
 * steady state a submission reuses memory and never allocates. */
#include <string.h>

#include "transport/conditioner.h"
#include "core/core_internal.h"

#define LINK_INITIAL_CAPACITY 64u
#define LINK_MIN_BUFFER_BYTES 64u
/* A datagram that would wait longer than this behind the bandwidth cap is dropped. */
#define LINK_MAX_SERIALISE_WAIT_US 1000000u
#define LINK_MIN_REORDER_DELAY_MS 10u

typedef struct link_slot {
    uint64_t tag;
    uint8_t *buffer;
    uint32_t buffer_capacity;
    uint32_t size_bytes;
} link_slot;

typedef struct link_heap_entry {
    uint64_t deliver_at_us;
    uint64_t sequence;
    uint32_t slot;
} link_heap_entry;

struct nci_link {
    netcore_allocator allocator;
    nci_rng rng;
    netcore_link_profile profile;
    uint32_t max_datagram_bytes;
    uint32_t max_queued;

    uint32_t capacity;   /* slots allocated (heap, slots and free list share it) */
    uint32_t count;      /* entries in the heap */
    uint32_t free_count; /* entries in free_slots */
    link_heap_entry *heap;
    link_slot *slots;
    uint32_t *free_slots;

    uint64_t next_sequence;
    uint64_t serialiser_free_at_us; /* when the bandwidth serialiser is idle again */
    netcore_conditioner_stats stats;
};

/* ------------------------------------------------------------------ */
/* Heap                                                                 */
/* ------------------------------------------------------------------ */

static bool entry_before(const link_heap_entry *a, const link_heap_entry *b)
{
    if (a->deliver_at_us != b->deliver_at_us)
        return a->deliver_at_us < b->deliver_at_us;
    return a->sequence < b->sequence;
}

static void heap_sift_up(link_heap_entry *heap, uint32_t index)
{
    link_heap_entry moving = heap[index];
    while (index > 0) {
        uint32_t parent = (index - 1) / 2;
        if (!entry_before(&moving, &heap[parent]))
            break;
        heap[index] = heap[parent];
        index = parent;
    }
    heap[index] = moving;
}

static void heap_sift_down(link_heap_entry *heap, uint32_t count, uint32_t index)
{
    link_heap_entry moving = heap[index];
    for (;;) {
        uint32_t child = 2 * index + 1;
        if (child >= count)
            break;
        if (child + 1 < count && entry_before(&heap[child + 1], &heap[child]))
            child++;
        if (!entry_before(&heap[child], &moving))
            break;
        heap[index] = heap[child];
        index = child;
    }
    heap[index] = moving;
}

/* ------------------------------------------------------------------ */
/* Storage                                                              */
/* ------------------------------------------------------------------ */

/* Doubles the tables (up to max_queued). The allocator has no realloc, so
 * each table is copied into a fresh block. False on allocation failure, with
 * the link unchanged. */
static bool link_grow(nci_link *link)
{
    if (link->capacity >= link->max_queued)
        return false;
    uint32_t new_capacity = link->capacity == 0 ? LINK_INITIAL_CAPACITY : link->capacity * 2;
    if (link->capacity > link->max_queued / 2 || new_capacity > link->max_queued)
        new_capacity = link->max_queued;
    link_heap_entry *heap = nci_calloc(&link->allocator, new_capacity, sizeof *heap);
    link_slot *slots = nci_calloc(&link->allocator, new_capacity, sizeof *slots);
    uint32_t *free_slots = nci_calloc(&link->allocator, new_capacity, sizeof *free_slots);
    if (!heap || !slots || !free_slots) {
        nci_free(&link->allocator, heap);
        nci_free(&link->allocator, slots);
        nci_free(&link->allocator, free_slots);
        return false;
    }
    if (link->capacity > 0) {
        memcpy(heap, link->heap, link->count * sizeof *heap);
        memcpy(slots, link->slots, link->capacity * sizeof *slots);
        memcpy(free_slots, link->free_slots, link->free_count * sizeof *free_slots);
    }
    /* New slots are pushed so that the lowest index is handed out first. */
    for (uint32_t i = new_capacity; i > link->capacity; i--)
        free_slots[link->free_count++] = i - 1;
    nci_free(&link->allocator, link->heap);
    nci_free(&link->allocator, link->slots);
    nci_free(&link->allocator, link->free_slots);
    link->heap = heap;
    link->slots = slots;
    link->free_slots = free_slots;
    link->capacity = new_capacity;
    return true;
}

/* Makes sure the slot's buffer holds size_bytes. Buffers grow in powers of two
 * (capped at max_datagram_bytes) and are kept for reuse. */
static bool slot_reserve(nci_link *link, link_slot *slot, uint32_t size_bytes)
{
    if (slot->buffer_capacity >= size_bytes)
        return true;
    uint32_t capacity = LINK_MIN_BUFFER_BYTES;
    while (capacity < size_bytes && capacity < link->max_datagram_bytes / 2)
        capacity *= 2;
    if (capacity < size_bytes)
        capacity = link->max_datagram_bytes;
    uint8_t *buffer = nci_alloc(&link->allocator, capacity);
    if (!buffer)
        return false;
    nci_free(&link->allocator, slot->buffer);
    slot->buffer = buffer;
    slot->buffer_capacity = capacity;
    return true;
}

/* Queues one copy; false (nothing changed) when the queue is full or memory ran out. */
/* Where one copy's altered byte goes: corrupt is false for an intact copy. */
typedef struct link_damage {
    bool corrupt;
    uint32_t offset;
    uint8_t mask; /* never 0: the byte always changes */
} link_damage;

static link_damage link_draw_damage(nci_link *link, uint32_t size_bytes)
{
    link_damage d = {false, 0, 0};
    /* Drawn only when asked for, so profiles without it keep the decision
     * sequence they always had for a given seed. */
    if (link->profile.corrupt_pct <= 0.0f || size_bytes == 0 ||
        !nci_rng_chance_pct(&link->rng, link->profile.corrupt_pct))
        return d;
    d.corrupt = true;
    d.offset = nci_rng_below(&link->rng, size_bytes);
    d.mask = (uint8_t)(1u + nci_rng_below(&link->rng, 255u));
    return d;
}

static bool link_enqueue(nci_link *link, uint64_t deliver_at_us, uint64_t tag, const void *data,
                         uint32_t size_bytes, link_damage damage)
{
    if (link->count >= link->max_queued)
        return false;
    if (link->free_count == 0 && !link_grow(link))
        return false;
    uint32_t slot_index = link->free_slots[link->free_count - 1];
    link_slot *slot = &link->slots[slot_index];
    if (!slot_reserve(link, slot, size_bytes))
        return false;
    link->free_count--;
    if (size_bytes > 0)
        memcpy(slot->buffer, data, size_bytes);
    if (damage.corrupt) {
        slot->buffer[damage.offset] ^= damage.mask;
        link->stats.corrupted++;
    }
    slot->size_bytes = size_bytes;
    slot->tag = tag;

    link_heap_entry *entry = &link->heap[link->count];
    entry->deliver_at_us = deliver_at_us;
    entry->sequence = link->next_sequence++;
    entry->slot = slot_index;
    heap_sift_up(link->heap, link->count);
    link->count++;
    return true;
}

/* ------------------------------------------------------------------ */
/* Decisions                                                            */
/* ------------------------------------------------------------------ */

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* latency + uniform(-jitter, +jitter), in microseconds, never below zero. */
static uint64_t link_draw_delay_us(nci_link *link)
{
    int64_t delay_us = (int64_t)link->profile.latency_ms * 1000;
    if (link->profile.jitter_ms > 0) {
        uint64_t jitter_us = (uint64_t)link->profile.jitter_ms * 1000;
        uint64_t span = 2 * jitter_us + 1;
        delay_us += (int64_t)(nci_rng_next(&link->rng) % span) - (int64_t)jitter_us;
    }
    return delay_us > 0 ? (uint64_t)delay_us : 0;
}

static uint64_t link_reorder_delay_us(const nci_link *link)
{
    uint64_t delay_ms = link->profile.reorder_delay_ms;
    if (delay_ms == 0) {
        delay_ms = 2 * (uint64_t)link->profile.jitter_ms;
        if (delay_ms < LINK_MIN_REORDER_DELAY_MS)
            delay_ms = LINK_MIN_REORDER_DELAY_MS;
    }
    return delay_ms * 1000;
}

/* Schedules the datagram on the bandwidth serialiser. Returns false when it
 * would wait too long (dropped); otherwise *out_sent_us is when its last bit
 * leaves the serialiser. The caller commits that time (serialiser_free_at_us)
 * only if the datagram really used the link. */
static bool link_serialise(const nci_link *link, uint64_t now_us, uint32_t size_bytes,
                           uint64_t *out_sent_us)
{
    uint32_t kbps = link->profile.bandwidth_kbps;
    if (kbps == 0) {
        *out_sent_us = now_us;
        return true;
    }
    uint64_t start_us = link->serialiser_free_at_us > now_us ? link->serialiser_free_at_us : now_us;
    if (start_us - now_us > LINK_MAX_SERIALISE_WAIT_US)
        return false;
    /* bits / (kbps * 1000) seconds = bytes * 8000 / kbps microseconds, rounded up
     * so that a stream of tiny datagrams cannot exceed the cap. */
    uint64_t transmit_us = ((uint64_t)size_bytes * 8000u + kbps - 1) / kbps;
    *out_sent_us = start_us + transmit_us;
    return true;
}

/* ------------------------------------------------------------------ */
/* Public functions                                                     */
/* ------------------------------------------------------------------ */

netcore_result nci_link_create(const netcore_allocator *allocator, uint64_t seed,
                               uint32_t max_datagram_bytes, uint32_t max_queued,
                               nci_link **out_link)
{
    if (!out_link)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_link = NULL;
    if (max_datagram_bytes == 0 || max_queued == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (allocator && ((allocator->alloc == NULL) != (allocator->free == NULL)))
        return NETCORE_ERR_INVALID_ARGUMENT;

    netcore_allocator alloc_copy;
    memset(&alloc_copy, 0, sizeof alloc_copy);
    if (allocator)
        alloc_copy = *allocator;
    nci_link *link = nci_calloc(&alloc_copy, 1, sizeof *link);
    if (!link)
        return NETCORE_ERR_OUT_OF_MEMORY;
    link->allocator = alloc_copy;
    nci_rng_seed(&link->rng, seed);
    link->max_datagram_bytes = max_datagram_bytes;
    link->max_queued = max_queued;
    /* Start with a small table; link_grow doubles it from here. */
    if (!link_grow(link)) {
        nci_free(&alloc_copy, link);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    *out_link = link;
    return NETCORE_OK;
}

void nci_link_destroy(nci_link *link)
{
    if (!link)
        return;
    netcore_allocator allocator = link->allocator;
    for (uint32_t i = 0; i < link->capacity; i++)
        nci_free(&allocator, link->slots[i].buffer);
    nci_free(&allocator, link->heap);
    nci_free(&allocator, link->slots);
    nci_free(&allocator, link->free_slots);
    nci_free(&allocator, link);
}

void nci_link_set_profile(nci_link *link, const netcore_link_profile *profile)
{
    if (!link || !profile)
        return;
    link->profile = *profile;
}

void nci_link_get_profile(const nci_link *link, netcore_link_profile *out_profile)
{
    if (!link || !out_profile)
        return;
    *out_profile = link->profile;
}

bool nci_link_is_perfect(const nci_link *link)
{
    if (!link)
        return true;
    const netcore_link_profile *p = &link->profile;
    return p->latency_ms == 0 && p->jitter_ms == 0 && p->loss_pct <= 0.0f &&
           p->duplicate_pct <= 0.0f && p->reorder_pct <= 0.0f && p->reorder_delay_ms == 0 &&
           p->bandwidth_kbps == 0 && p->corrupt_pct <= 0.0f;
}

uint32_t nci_link_submit(nci_link *link, uint64_t now_us, uint64_t tag, const void *data,
                         size_t size_bytes)
{
    if (!link || (!data && size_bytes > 0))
        return 0;
    if (size_bytes > link->max_datagram_bytes) {
        link->stats.dropped_overflow++;
        return 0;
    }
    uint32_t size = (uint32_t)size_bytes;

    uint64_t sent_us;
    if (!link_serialise(link, now_us, size, &sent_us)) {
        link->stats.dropped_bandwidth++;
        return 0;
    }
    /* Loss happens after the bottleneck: a lost datagram still used the bandwidth. */
    if (nci_rng_chance_pct(&link->rng, link->profile.loss_pct)) {
        link->serialiser_free_at_us = sent_us;
        link->stats.dropped_loss++;
        return 0;
    }

    /* Every random decision for this datagram is drawn before anything is
     * queued, so a full queue never shifts the decisions of later datagrams. */
    uint64_t deliver_at_us = add_saturating(sent_us, link_draw_delay_us(link));
    bool held_back = nci_rng_chance_pct(&link->rng, link->profile.reorder_pct);
    if (held_back)
        deliver_at_us = add_saturating(deliver_at_us, link_reorder_delay_us(link));
    bool duplicate = nci_rng_chance_pct(&link->rng, link->profile.duplicate_pct);
    uint64_t duplicate_at_us = duplicate ? add_saturating(sent_us, link_draw_delay_us(link)) : 0;
    link_damage damage = link_draw_damage(link, size);
    link_damage duplicate_damage = duplicate ? link_draw_damage(link, size) : damage;

    /* A datagram refused by a full queue never reached the wire, so it
     * leaves the serialiser's schedule untouched. */
    if (!link_enqueue(link, deliver_at_us, tag, data, size, damage)) {
        link->stats.dropped_overflow++;
        return 0;
    }
    link->serialiser_free_at_us = sent_us;
    if (held_back)
        link->stats.reordered++;
    /* No room for the extra copy: the original still goes through. */
    if (!duplicate || !link_enqueue(link, duplicate_at_us, tag, data, size, duplicate_damage))
        return 1;
    link->stats.duplicated++;
    return 2;
}

bool nci_link_pop_due(nci_link *link, uint64_t now_us, nci_link_datagram *out_datagram)
{
    if (!link || !out_datagram || link->count == 0 || link->heap[0].deliver_at_us > now_us)
        return false;
    link_heap_entry top = link->heap[0];
    link->count--;
    if (link->count > 0) {
        link->heap[0] = link->heap[link->count];
        heap_sift_down(link->heap, link->count, 0);
    }
    /* The slot returns to the free list at once; its buffer is only rewritten by
     * a later submission, which keeps out_datagram->data valid until then. */
    link->free_slots[link->free_count++] = top.slot;
    const link_slot *slot = &link->slots[top.slot];
    out_datagram->deliver_at_us = top.deliver_at_us;
    out_datagram->tag = slot->tag;
    out_datagram->data = slot->buffer;
    out_datagram->size_bytes = slot->size_bytes;
    link->stats.forwarded++;
    link->stats.bytes_forwarded += slot->size_bytes;
    return true;
}

uint64_t nci_link_next_due_us(const nci_link *link)
{
    if (!link || link->count == 0)
        return UINT64_MAX;
    return link->heap[0].deliver_at_us;
}

void nci_link_discard_tag(nci_link *link, uint64_t tag)
{
    if (!link)
        return;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < link->count; i++) {
        link_heap_entry entry = link->heap[i];
        if (link->slots[entry.slot].tag == tag)
            link->free_slots[link->free_count++] = entry.slot;
        else
            link->heap[kept++] = entry;
    }
    if (kept == link->count)
        return;
    link->count = kept;
    /* Compacting broke the heap order; rebuild it bottom-up in O(n). */
    for (uint32_t i = kept / 2; i > 0; i--)
        heap_sift_down(link->heap, kept, i - 1);
}

uint32_t nci_link_queued(const nci_link *link)
{
    return link ? link->count : 0;
}

void nci_link_stats(const nci_link *link, netcore_conditioner_stats *out_stats)
{
    if (!out_stats)
        return;
    if (!link) {
        memset(out_stats, 0, sizeof *out_stats);
        return;
    }
    *out_stats = link->stats;
}

/* Named link presets: the figures each preset stands for. */
netcore_link_profile netcore_link_preset_profile(netcore_link_preset preset)
{
    netcore_link_profile p;
    memset(&p, 0, sizeof p);
    switch (preset) {
    case NETCORE_LINK_LAN:
        p.latency_ms = 1;
        break;
    case NETCORE_LINK_WIFI:
        p.latency_ms = 20;
        p.jitter_ms = 5;
        p.loss_pct = 1.0f;
        break;
    case NETCORE_LINK_4G:
        p.latency_ms = 60;
        p.jitter_ms = 20;
        p.loss_pct = 3.0f;
        break;
    case NETCORE_LINK_BAD:
        p.latency_ms = 150;
        p.jitter_ms = 50;
        p.loss_pct = 10.0f;
        p.duplicate_pct = 2.0f;
        p.reorder_pct = 2.0f;
        break;
    default:
        break;
    }
    return p;
}

const char *netcore_link_preset_name(netcore_link_preset preset)
{
    switch (preset) {
    case NETCORE_LINK_PERFECT:
        return "perfect";
    case NETCORE_LINK_LAN:
        return "lan";
    case NETCORE_LINK_WIFI:
        return "wifi";
    case NETCORE_LINK_4G:
        return "4g";
    case NETCORE_LINK_BAD:
        return "bad";
    default:
        return "unknown";
    }
}
