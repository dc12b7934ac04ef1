/* Snapshot encoder: writes each client's snapshot as a delta against its
 * newest acknowledged snapshot, within a byte budget, choosing entities by
 * interest and accumulated priority, and records what the client will hold. */
#include <string.h>

#include "replication/bitpack_internal.h"
#include "core/core_internal.h"
#include "replication/snapshot_internal.h"

#define MIN_WEIGHT 1e-3f
#define MAX_WEIGHT 1e6f

/* What one write decided before any bit is written. */
typedef struct write_plan {
    const nci_view *base; /* the baseline, or the empty view for a full snapshot */
    bool has_base;
    uint32_t age; /* snapshots between this one and the baseline */
    uint32_t cand_count;
    uint32_t removal_count;     /* removal candidates */
    uint32_t removals_selected; /* the first removals_selected of them are written */
    uint32_t selected;          /* candidates written */
    size_t header_bits;
} write_plan;

static float interest_weight(const netcore_snapshot_server *server, uint32_t client, uint32_t index)
{
    const nci_world_slot *slot = &server->slots[index];
    if (!server->interest)
        return 1.0f;
    float w = server->interest(server->interest_user, server, client, nci_make_id(slot->gen, index),
                               slot->type);
    if (!(w > 0.0f)) /* NaN too */
        return 0.0f;
    return w < MIN_WEIGHT ? MIN_WEIGHT : (w > MAX_WEIGHT ? MAX_WEIGHT : w);
}

/* The delta of world slot `index` (type t, current state cur) against ref:
 * the cached one when this pair was coded before, else measured now (and
 * cached with no bits yet: write_entities adds them when it writes it). */
static const nci_delta_cache *delta_lookup(netcore_snapshot_server *server, uint32_t index,
                                           uint16_t type, const nci_type *t, const uint32_t *ref,
                                           const uint32_t *cur)
{
    nci_delta_cache *dc = &server->delta_cache[index];
    uint32_t *key_ref = &server->delta_ref[(size_t)index * server->stride];
    uint32_t *key_cur = &server->delta_cur[(size_t)index * server->stride];
    size_t key_bytes = (size_t)t->comp_count * sizeof(uint32_t);
    if (dc->valid && dc->type == type && memcmp(key_cur, cur, key_bytes) == 0 &&
        memcmp(key_ref, ref, key_bytes) == 0)
        return dc;
    dc->bits = nci_entity_delta_bits(server->schema, t, ref, cur, &dc->mask);
    memcpy(key_ref, ref, key_bytes);
    memcpy(key_cur, cur, key_bytes);
    dc->type = type;
    dc->valid = true;
    dc->has_payload = false;
    return dc;
}

/* The newest acknowledged snapshot if it is still in the ring and usable. */
static void pick_baseline(netcore_snapshot_server *server, nci_client_slot *cl, write_plan *plan)
{
    plan->base = &server->empty_view;
    plan->has_base = false;
    plan->age = 0;
    if (cl->need_full) {
        cl->need_full = false;
        cl->has_ack = false;
        return;
    }
    if (!cl->has_ack)
        return;
    const nci_view *v = &cl->ring[cl->acked_seq % server->ring_length];
    uint32_t age = (uint16_t)(cl->next_seq - cl->acked_seq);
    /* age >= ring_length: the new snapshot would overwrite the baseline's slot,
     * and the client has acknowledged nothing newer for a whole ring. */
    if (!v->valid || v->seq != cl->acked_seq || age == 0 || age >= server->ring_length) {
        cl->has_ack = false;
        cl->stats.baselines_expired++;
        return;
    }
    plan->base = v;
    plan->has_base = true;
    plan->age = age;
}

/* Lists removals (baseline entities the client must drop) and candidates
 * (entities that differ from the baseline), and grows priorities. */
static void classify(netcore_snapshot_server *server, uint32_t client, nci_client_slot *cl,
                     write_plan *plan)
{
    const netcore_schema *schema = server->schema;
    const nci_view *b = plan->base;
    uint32_t bp = 0, nc = 0, nr = 0;
    memset(server->removed, 0, b->count);
    for (uint32_t i = 0; i < server->max_entities; i++) {
        bool in_base = bp < b->count && b->index[bp] == i;
        const nci_world_slot *slot = &server->slots[i];
        float w = slot->alive ? interest_weight(server, client, i) : 0.0f;
        /* The type check only matters after a generation wrapped (65535
         * re-creations of one slot between baseline and now). */
        bool same = in_base && w > 0.0f && b->gen[bp] == slot->gen && b->type[bp] == slot->type;
        if (in_base && !same)
            server->removals[nr++] = bp;
        if (w > 0.0f) {
            const nci_type *t = &schema->types[slot->type];
            const uint32_t *cur = nci_world_state(server, i);
            nci_candidate *c = &server->cands[nc];
            const uint32_t *ref = same ? &b->state[(size_t)bp * server->stride]
                                       : &schema->comp_default[t->first_comp];
            const nci_delta_cache *dc = delta_lookup(server, i, slot->type, t, ref, cur);
            c->mask = dc->mask;
            if (same) {
                c->bits = dc->bits;
                c->base_pos = (int32_t)bp;
                c->replaces_pos = -1;
            } else {
                c->bits = schema->type_bits + NCI_GENERATION_BITS + dc->bits;
                c->base_pos = -1;
                c->replaces_pos = in_base ? (int32_t)bp : -1;
            }
            if (same && c->mask == 0) {
                cl->accum[i] = 0.0f; /* unchanged: nothing to send, nothing to wait for */
            } else {
                cl->accum[i] += w;
                c->priority = cl->accum[i];
                c->index = (uint16_t)i;
                c->selected = false;
                nc++;
            }
        } else {
            cl->accum[i] = 0.0f;
        }
        if (in_base)
            bp++;
    }
    plan->cand_count = nc;
    plan->removal_count = nr;
}

/* True when x goes before y: higher priority first, then slot order. A total
 * order, so every correct sort gives the same sequence. */
static bool goes_before(const nci_priority_ref *x, const nci_priority_ref *y)
{
    if (x->priority != y->priority)
        return x->priority > y->priority;
    return x->pos < y->pos;
}

static void sift_down(nci_priority_ref *refs, uint32_t root, uint32_t count)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= count)
            return;
        /* A heap with the entry that goes last at the top. */
        if (child + 1 < count && goes_before(&refs[child], &refs[child + 1]))
            child++;
        if (!goes_before(&refs[root], &refs[child]))
            return;
        nci_priority_ref t = refs[root];
        refs[root] = refs[child];
        refs[child] = t;
        root = child;
    }
}

/* Heap sort in place: the C library's qsort may allocate a merge buffer, and
 * a write allocates nothing. */
static void sort_by_priority(nci_priority_ref *refs, uint32_t count)
{
    for (uint32_t i = count / 2; i-- > 0;)
        sift_down(refs, i, count);
    for (uint32_t end = count; end > 1; end--) {
        nci_priority_ref t = refs[0];
        refs[0] = refs[end - 1];
        refs[end - 1] = t;
        sift_down(refs, 0, end - 1);
    }
}

/* Greedy pass over candidates by priority, charging the longest slot gap. */
static void select_pass(netcore_snapshot_server *server, uint32_t count, size_t *avail,
                        uint32_t *view_count)
{
    for (uint32_t k = 0; k < count; k++) {
        nci_candidate *c = &server->cands[server->order[k].pos];
        if (c->selected)
            continue;
        if (c->replaces_pos >= 0 && !server->removed[c->replaces_pos])
            continue; /* the slot's old occupant is still on the client */
        if (c->base_pos < 0 && *view_count >= server->max_view)
            continue;
        size_t cost = (size_t)c->bits + NCI_GAP_MAX_BITS;
        if (cost > *avail)
            continue;
        *avail -= cost;
        c->selected = true;
        if (c->base_pos < 0)
            (*view_count)++;
    }
}

/* The common case of a snapshot with room for everything: when every removal
 * fitted, the view has room for every creation and the exact cost of all
 * candidates (real gaps) fits, all are written and no ordering is needed. */
static bool select_all_if_fits(netcore_snapshot_server *server, write_plan *plan, size_t avail,
                               uint32_t view_count)
{
    size_t cost = 0;
    uint32_t creations = 0;
    int64_t prev = -1;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const nci_candidate *c = &server->cands[k];
        cost += c->bits + nci_gap_bits((uint32_t)(c->index - prev));
        creations += c->base_pos < 0;
        prev = c->index;
    }
    if (cost > avail || (size_t)view_count + creations > server->max_view)
        return false;
    for (uint32_t k = 0; k < plan->cand_count; k++)
        server->cands[k].selected = true;
    plan->selected = plan->cand_count;
    return true;
}

/* Chooses what fits in budget_bits: removals first (cheap, and they free view
 * room), then candidates by priority. Costs of candidates use the longest
 * gap code, so the choice always fits; a second pass spends what that
 * pessimism left over. */
static void select_entities(netcore_snapshot_server *server, write_plan *plan, size_t budget_bits)
{
    const nci_view *b = plan->base;
    size_t avail = budget_bits - plan->header_bits;
    int64_t prev = -1;
    uint32_t r = 0;
    for (; r < plan->removal_count; r++) {
        uint32_t index = b->index[server->removals[r]];
        unsigned cost = nci_gap_bits((uint32_t)(index - prev));
        if (cost > avail)
            break;
        avail -= cost;
        server->removed[server->removals[r]] = 1;
        prev = index;
    }
    plan->removals_selected = r;
    uint32_t view_count = b->count - r;
    if (r == plan->removal_count && select_all_if_fits(server, plan, avail, view_count))
        return;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        server->order[k].priority = server->cands[k].priority;
        server->order[k].pos = k;
    }
    sort_by_priority(server->order, plan->cand_count);
    size_t pass_avail = avail;
    select_pass(server, plan->cand_count, &pass_avail, &view_count);
    size_t used = 0;
    prev = -1;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const nci_candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        used += c->bits + nci_gap_bits((uint32_t)(c->index - prev));
        prev = c->index;
    }
    pass_avail = avail - used;
    select_pass(server, plan->cand_count, &pass_avail, &view_count);
    plan->selected = 0;
    for (uint32_t k = 0; k < plan->cand_count; k++)
        plan->selected += server->cands[k].selected;
}

/* Copies bits coded earlier (a delta cache payload) into the snapshot. */
static void put_payload(netcore_bit_writer *w, const uint8_t *payload, uint32_t bits)
{
    for (; bits > 0; payload += 4) {
        unsigned n = bits < 32 ? bits : 32;
        if (!nci_bit_writer_reserve(w, n))
            return;
        nci_bit_writer_put(w, nci_bits_load_le32(payload), n);
        bits -= n;
    }
}

/* Writes an entity's fields against ref: the cached bits when an earlier
 * client wrote the same pair, else coded now (and kept when small enough).
 * Field statistics are charged either way. */
static void write_fields(netcore_snapshot_server *server, netcore_bit_writer *w, const nci_type *t,
                         uint32_t index, const uint32_t *ref)
{
    const netcore_schema *schema = server->schema;
    const uint32_t *cur = nci_world_state(server, index);
    nci_delta_cache *dc = &server->delta_cache[index];
    uint64_t *field_bits = &server->field_bits[t->first_field];
    /* A local copy: GCC cannot see that t->field_count stays put across the
     * calls below and warns (-Wstringop-overflow) about the loops into the
     * 16-entry arrays. */
    uint32_t field_count = t->field_count;
    /* classify() looked this pair up for this write, so the entry is its. */
    if (!dc->has_payload && dc->bits <= NCI_DELTA_CACHE_BYTES * 8 &&
        field_count <= NCI_DELTA_CACHE_FIELDS) {
        uint64_t bits[NCI_DELTA_CACHE_FIELDS] = {0};
        netcore_bit_writer scratch;
        netcore_bit_writer_init(&scratch, dc->payload, sizeof dc->payload);
        nci_entity_delta_write(&scratch, schema, t, ref, cur, dc->mask, bits);
        netcore_bit_writer_flush(&scratch);
        if (!netcore_bit_writer_failed(&scratch)) {
            for (uint32_t f = 0; f < field_count; f++)
                dc->field_bits[f] = (uint8_t)bits[f];
            dc->has_payload = true;
        }
    }
    if (!dc->has_payload) {
        nci_entity_delta_write(w, schema, t, ref, cur, dc->mask, field_bits);
        return;
    }
    put_payload(w, dc->payload, dc->bits);
    for (uint32_t f = 0; f < field_count; f++)
        field_bits[f] += dc->field_bits[f];
}

static void write_entities(netcore_snapshot_server *server, const write_plan *plan,
                           netcore_bit_writer *w)
{
    const netcore_schema *schema = server->schema;
    const nci_view *b = plan->base;
    netcore_bit_write_varint(w, plan->removals_selected);
    int64_t prev = -1;
    for (uint32_t r = 0; r < plan->removals_selected; r++) {
        uint32_t index = b->index[server->removals[r]];
        nci_gap_write(w, (uint32_t)(index - prev));
        prev = index;
    }
    netcore_bit_write_varint(w, plan->selected);
    prev = -1;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const nci_candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        const nci_world_slot *slot = &server->slots[c->index];
        const nci_type *t = &schema->types[slot->type];
        size_t before = netcore_bit_writer_bits_written(w);
        nci_gap_write(w, (uint32_t)(c->index - prev));
        prev = c->index;
        const uint32_t *ref;
        if (c->base_pos >= 0) {
            ref = &b->state[(size_t)c->base_pos * server->stride];
        } else {
            netcore_bit_write_bits(w, slot->type, schema->type_bits);
            netcore_bit_write_bits(w, slot->gen, NCI_GENERATION_BITS);
            ref = &schema->comp_default[t->first_comp];
        }
        write_fields(server, w, t, c->index, ref);
        server->type_bits[slot->type] += netcore_bit_writer_bits_written(w) - before;
        server->type_entities[slot->type]++;
        for (uint32_t f = 0; f < t->field_count; f++)
            server->field_writes[t->first_field + f] += (c->mask >> f) & 1u;
    }
}

/* Records what the client will hold once it decodes this snapshot: the
 * baseline minus removals, with written entities replaced or inserted. */
static void build_view(netcore_snapshot_server *server, const write_plan *plan, nci_view *out)
{
    const nci_view *b = plan->base;
    uint32_t stride = server->stride;
    uint32_t bp = 0;
    out->count = 0;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const nci_candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        for (; bp < b->count && b->index[bp] < c->index; bp++)
            if (!server->removed[bp])
                nci_view_append(out, b, bp, stride);
        if (bp < b->count && b->index[bp] == c->index)
            bp++;
        uint32_t at = out->count++;
        out->index[at] = c->index;
        out->gen[at] = server->slots[c->index].gen;
        out->type[at] = server->slots[c->index].type;
        memcpy(&out->state[(size_t)at * stride], nci_world_state(server, c->index),
               stride * sizeof(uint32_t));
    }
    for (; bp < b->count; bp++)
        if (!server->removed[bp])
            nci_view_append(out, b, bp, stride);
}

static void update_stats(nci_client_slot *cl, const write_plan *plan, size_t written)
{
    netcore_snapshot_server_stats *s = &cl->stats;
    if (plan->has_base)
        s->snapshots_delta++;
    else
        s->snapshots_full++;
    s->bytes_total += written;
    s->last_snapshot_bytes = (uint32_t)written;
    if (written > s->max_snapshot_bytes)
        s->max_snapshot_bytes = (uint32_t)written;
    s->last_baseline_age = plan->age;
    if (plan->age > s->max_baseline_age)
        s->max_baseline_age = plan->age;
    s->entities_removed += plan->removals_selected;
    s->removals_deferred += plan->removal_count - plan->removals_selected;
    s->entities_deferred += plan->cand_count - plan->selected;
}

/* The header. range_body: -1 in the bit-packed format; in the range-coded
 * format 1 for a range-coded body (which carries the tick delta itself) or 0
 * for the bit-packed fallback. */
static void write_header(const netcore_snapshot_server *server, const write_plan *plan,
                         uint16_t seq, uint32_t now_tick, int range_body, netcore_bit_writer *w)
{
    netcore_bit_write_bits(w, server->schema->tag, 16);
    netcore_bit_write_bits(w, seq, 16);
    netcore_bit_write_bool(w, plan->has_base);
    if (plan->has_base)
        netcore_bit_write_varint(w, plan->age);
    else
        netcore_bit_write_bits(w, now_tick, 32);
    if (range_body >= 0)
        netcore_bit_write_bool(w, range_body == 1);
    if (plan->has_base && range_body != 1)
        netcore_bit_write_varint_signed(w, (int64_t)now_tick - (int64_t)plan->base->tick);
}

/* Range-coded format: the header, a 1 bit, zero bits to a byte boundary, the
 * range-coded body. False when the body does not fit (the caller then sends
 * the bit-packed body, which the budget check guarantees fits). */
static bool write_range_coded(netcore_snapshot_server *server, nci_client_slot *cl,
                              const write_plan *plan, uint16_t seq, uint32_t now_tick,
                              uint8_t *buffer, size_t budget, size_t *out_written)
{
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, budget);
    write_header(server, plan, seq, now_tick, 1, &w);
    size_t dropped_at = netcore_bit_writer_bits_written(&w);
    netcore_bit_write_bits(&w, 0, NCI_RANGE_DROPPED_BITS); /* filled in below */
    netcore_bit_writer_align(&w);
    size_t head = netcore_bit_writer_flush(&w);
    if (netcore_bit_writer_failed(&w))
        return false;
    nci_range_body_plan rp = {
        .base = plan->base,
        .has_base = plan->has_base,
        .span_ticks = plan->has_base ? now_tick - plan->base->tick : 0,
        .tick_delta = (int64_t)now_tick - (int64_t)plan->base->tick,
        .removals = server->removals,
        .removal_count = plan->removals_selected,
        .removed = server->removed,
        .cands = server->cands,
        .cand_count = plan->cand_count,
        .models = cl->ring[seq % server->ring_length].models,
    };
    size_t body = 0;
    unsigned dropped = 0;
    if (!nci_range_body_write(server, &rp, buffer + head, budget - head, &body, &dropped))
        return false;
    for (unsigned i = 0; i < NCI_RANGE_DROPPED_BITS; i++)
        if ((dropped >> i) & 1u)
            buffer[(dropped_at + i) / 8] |= (uint8_t)(1u << ((dropped_at + i) % 8));
    const netcore_schema *schema = server->schema;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const nci_candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        const nci_type *t = &schema->types[server->slots[c->index].type];
        server->type_entities[server->slots[c->index].type]++;
        for (uint32_t f = 0; f < t->field_count; f++)
            server->field_writes[t->first_field + f] += (c->mask >> f) & 1u;
    }
    *out_written = head + body;
    return true;
}

/* Bytes of the same snapshot with the bit-packed body (the range-coded
 * format's fallback), from the exact costs select_entities() used. */
static size_t bitpacked_bytes(const netcore_snapshot_server *server, const write_plan *plan,
                              uint32_t now_tick)
{
    size_t bits = 16 + 16 + 1 + 1 + netcore_varint_bits(plan->removals_selected) +
                  netcore_varint_bits(plan->selected);
    if (plan->has_base) {
        int64_t tick_delta = (int64_t)now_tick - (int64_t)plan->base->tick;
        bits +=
            netcore_varint_bits(plan->age) + netcore_varint_bits(netcore_zigzag_encode(tick_delta));
    } else {
        bits += 32;
    }
    int64_t prev = -1;
    for (uint32_t r = 0; r < plan->removals_selected; r++) {
        uint32_t index = plan->base->index[server->removals[r]];
        bits += nci_gap_bits((uint32_t)(index - prev));
        prev = index;
    }
    prev = -1;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const nci_candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        bits += c->bits + nci_gap_bits((uint32_t)(c->index - prev));
        prev = c->index;
    }
    return (bits + 7) / 8;
}

static netcore_result write_snapshot(netcore_snapshot_server *server, nci_client_slot *cl,
                                     const write_plan *plan, uint16_t seq, uint32_t now_tick,
                                     void *buffer, size_t budget, size_t *out_written,
                                     bool *out_range_body)
{
    bool range = nci_range_coded(server->schema);
    *out_range_body = false;
    if (range) {
        /* Never larger than the bit-packed body (nor over the budget, which
         * the bit-packed body always fits). */
        if (write_range_coded(server, cl, plan, seq, now_tick, buffer, budget, out_written) &&
            *out_written <= bitpacked_bytes(server, plan, now_tick)) {
            *out_range_body = true;
            return NETCORE_OK;
        }
        cl->stats.range_fallbacks++;
    }
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, budget);
    write_header(server, plan, seq, now_tick, range ? 0 : -1, &w);
    write_entities(server, plan, &w);
    *out_written = netcore_bit_writer_flush(&w);
    return netcore_bit_writer_failed(&w) ? NETCORE_ERR_TOO_LARGE : NETCORE_OK;
}

netcore_result netcore_snapshot_server_write(netcore_snapshot_server *server, uint32_t client,
                                             uint32_t now_tick, void *buffer, size_t size_bytes,
                                             size_t *out_written)
{
    if (!server || !buffer || !out_written)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_client_slot *cl = nci_active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    size_t budget = size_bytes < cl->budget_bytes ? size_bytes : cl->budget_bytes;
    if (budget < server->min_budget_bytes)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_written = 0;

    write_plan plan;
    memset(&plan, 0, sizeof plan);
    pick_baseline(server, cl, &plan);
    classify(server, client, cl, &plan);
    int64_t tick_delta = (int64_t)now_tick - (int64_t)plan.base->tick;
    plan.header_bits = 16 + 16 + 1 + (nci_range_coded(server->schema) ? 1u : 0u) +
                       (plan.has_base ? netcore_varint_bits(plan.age) +
                                            netcore_varint_bits(netcore_zigzag_encode(tick_delta))
                                      : 32) +
                       netcore_varint_bits(plan.removal_count) +
                       netcore_varint_bits(plan.cand_count);
    select_entities(server, &plan, budget * 8);

    uint16_t seq = cl->next_seq;
    size_t written = 0;
    bool range_body = false;
    netcore_result wr =
        write_snapshot(server, cl, &plan, seq, now_tick, buffer, budget, &written, &range_body);
    if (wr != NETCORE_OK) {
        /* Unreachable if the cost model is right; never send a cut snapshot. */
        nci_logf(&server->log, NETCORE_LOG_ERROR, "snapshot for client %u overflowed its budget",
                 (unsigned)client);
        return wr;
    }

    nci_view *out = &cl->ring[seq % server->ring_length];
    build_view(server, &plan, out);
    out->valid = true;
    out->seq = seq;
    out->tick = now_tick;
    if (nci_range_coded(server->schema)) {
        const nci_view *base = plan.has_base ? plan.base : NULL;
        nci_view_derive_motion(server->schema, base, out, server->stride);
        nci_view_keep_models(out, base, range_body ? out->models : NULL);
    }
    cl->next_seq++;
    for (uint32_t k = 0; k < plan.cand_count; k++) {
        const nci_candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        cl->accum[c->index] = 0.0f;
        if (c->base_pos >= 0)
            cl->stats.entities_updated++;
        else
            cl->stats.entities_created++;
    }
    update_stats(cl, &plan, written);
    *out_written = written;
    return NETCORE_OK;
}
