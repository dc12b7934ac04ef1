/* Per-entity delta codec shared by the snapshot server and client: slot-index
 * gaps, component deltas with short codes for small changes, changed-field
 * masks; plus the view storage both ends keep in their rings. */
#include <string.h>

#include "replication/bitpack_internal.h"
#include "core/core_internal.h"
#include "replication/snapshot_internal.h"

/* Writes the low `bits` (1..64) bits of code, first bit lowest, with one
 * capacity check: a code that does not fit fails the writer and leaves no
 * partial bits, as the bitpack.h writers do. */
static inline void put_code(netcore_bit_writer *writer, uint64_t code, unsigned bits)
{
    if (!nci_bit_writer_reserve(writer, bits))
        return;
    nci_bit_writer_put(writer, (uint32_t)code, bits < 32 ? bits : 32);
    if (bits > 32)
        nci_bit_writer_put(writer, (uint32_t)(code >> 32), bits - 32);
}

static inline size_t bits_written(const netcore_bit_writer *writer)
{
    return writer->flushed_bytes * 8 + writer->scratch_bits;
}

/* ---- slot-index gaps ----
 * "1" gap 1 | "01" + 4 bits: 2..17 | "001" + 8 bits: 18..273 | "000" + 16 bits.
 * Consecutive entities (the common case for dense worlds) cost one bit. */

unsigned nci_gap_bits(uint32_t gap)
{
    if (gap == 1)
        return 1;
    if (gap <= 17)
        return 6;
    if (gap <= 273)
        return 11;
    return NCI_GAP_MAX_BITS;
}

void nci_gap_write(netcore_bit_writer *writer, uint32_t gap)
{
    /* Prefix bits come first, so they are the low bits of the code. */
    if (gap == 1)
        put_code(writer, 1u, 1);
    else if (gap <= 17)
        put_code(writer, 2u | (uint64_t)(gap - 2) << 2, 6);
    else if (gap <= 273)
        put_code(writer, 4u | (uint64_t)(gap - 18) << 3, 11);
    else
        put_code(writer, (uint64_t)(gap & 0xffffu) << 3, NCI_GAP_MAX_BITS);
}

uint32_t nci_gap_read(netcore_bit_reader *reader)
{
    if (netcore_bit_read_bool(reader))
        return 1;
    if (netcore_bit_read_bool(reader))
        return netcore_bit_read_bits(reader, 4) + 2;
    if (netcore_bit_read_bool(reader))
        return netcore_bit_read_bits(reader, 8) + 18;
    return netcore_bit_read_bits(reader, 16); /* 0 here is invalid: callers reject it */
}

/* ---- components ----
 * A component of width w coded against a reference r (both w-bit codes):
 *   [multi-component fields only] 1 bit "differs from r"; stop if it does not;
 *   w >= 8: "1" + small delta in s1 bits | "01" + medium delta in s2 bits |
 *           "00" + the value in w bits;
 *   w < 8:  the value in w bits.
 * Deltas are the difference modulo 2^w read as a signed w-bit number, zigzag
 * mapped and minus one (0 is never coded as a delta), so angles wrap for free. */

static uint32_t width_mask(unsigned bits)
{
    return bits >= 32 ? 0xffffffffu : (1u << bits) - 1u;
}

static unsigned small_bits(unsigned w)
{
    return (w + 3) / 4;
}
static unsigned medium_bits(unsigned w)
{
    return (w + 1) / 2;
}

/* zigzag(delta) for the w-bit difference cur - ref; 0 when equal. */
static uint64_t comp_zigzag(uint32_t ref, uint32_t cur, unsigned w)
{
    uint32_t d = (cur - ref) & width_mask(w);
    int64_t sd = (int64_t)d;
    if ((d >> (w - 1)) & 1u) /* the top bit of w is the sign */
        sd -= (int64_t)1 << w;
    return netcore_zigzag_encode(sd);
}

unsigned nci_comp_max_bits(unsigned bits, bool single)
{
    return (single ? 0u : 1u) + (bits >= 8 ? 2u + bits : bits);
}

static unsigned comp_bits(uint32_t ref, uint32_t cur, unsigned w, bool single)
{
    unsigned prefix = single ? 0u : 1u;
    if (!single && ((cur ^ ref) & width_mask(w)) == 0)
        return 1;
    if (w < 8)
        return prefix + w;
    uint64_t zz = comp_zigzag(ref, cur, w);
    if (zz >= 1 && zz <= ((uint64_t)1 << small_bits(w)))
        return prefix + 1 + small_bits(w);
    if (zz >= 1 && zz <= ((uint64_t)1 << medium_bits(w)))
        return prefix + 2 + medium_bits(w);
    return prefix + 2 + w;
}

/* Builds the whole code of a component (at most 1 + 2 + 32 bits) and writes
 * it at once; the bits are those comp_bits() counts. */
static void comp_write(netcore_bit_writer *writer, uint32_t ref, uint32_t cur, unsigned w,
                       bool single)
{
    cur &= width_mask(w);
    uint64_t code = 0;
    unsigned at = 0;
    if (!single) {
        if (((cur ^ ref) & width_mask(w)) == 0) {
            put_code(writer, 0, 1);
            return;
        }
        code = 1; /* differs */
        at = 1;
    }
    if (w < 8) {
        put_code(writer, code | (uint64_t)cur << at, at + w);
        return;
    }
    uint64_t zz = comp_zigzag(ref, cur, w);
    if (zz >= 1 && zz <= ((uint64_t)1 << small_bits(w))) {
        put_code(writer, code | (uint64_t)1 << at | (zz - 1) << (at + 1), at + 1 + small_bits(w));
    } else if (zz >= 1 && zz <= ((uint64_t)1 << medium_bits(w))) {
        put_code(writer, code | (uint64_t)2 << at | (zz - 1) << (at + 2), at + 2 + medium_bits(w));
    } else {
        put_code(writer, code | (uint64_t)cur << (at + 2), at + 2 + w);
    }
}

static uint32_t comp_read(netcore_bit_reader *reader, uint32_t ref, unsigned w, bool single)
{
    if (!single && !netcore_bit_read_bool(reader))
        return ref & width_mask(w);
    if (w < 8)
        return netcore_bit_read_bits(reader, w);
    unsigned delta_bits;
    if (netcore_bit_read_bool(reader))
        delta_bits = small_bits(w);
    else if (netcore_bit_read_bool(reader))
        delta_bits = medium_bits(w);
    else
        return netcore_bit_read_bits(reader, w);
    uint64_t zz = (uint64_t)netcore_bit_read_bits(reader, delta_bits) + 1;
    int64_t sd = netcore_zigzag_decode(zz);
    return (uint32_t)((int64_t)ref + sd) & width_mask(w);
}

/* ---- entities ---- */

uint32_t nci_entity_delta_bits(const netcore_schema *schema, const nci_type *type,
                               const uint32_t *ref, const uint32_t *cur, uint64_t *out_mask)
{
    uint64_t mask = 0;
    uint32_t bits = type->field_count;
    for (uint32_t i = 0; i < type->field_count; i++) {
        const nci_field *f = &schema->fields[type->first_field + i];
        bool changed = false;
        for (unsigned c = 0; c < f->comp_count; c++)
            changed |= ref[f->first_comp + c] != cur[f->first_comp + c];
        if (!changed)
            continue;
        mask |= (uint64_t)1 << i;
        const uint8_t *widths = &schema->comp_bits[type->first_comp + f->first_comp];
        for (unsigned c = 0; c < f->comp_count; c++)
            bits += comp_bits(ref[f->first_comp + c], cur[f->first_comp + c], widths[c],
                              f->comp_count == 1);
    }
    *out_mask = mask;
    return bits;
}

void nci_entity_delta_write(netcore_bit_writer *writer, const netcore_schema *schema,
                            const nci_type *type, const uint32_t *ref, const uint32_t *cur,
                            uint64_t mask, uint64_t *field_bits)
{
    netcore_bit_write_u64(writer, mask, type->field_count);
    for (uint32_t i = 0; i < type->field_count; i++) {
        if (!((mask >> i) & 1u))
            continue;
        const nci_field *f = &schema->fields[type->first_field + i];
        const uint8_t *widths = &schema->comp_bits[type->first_comp + f->first_comp];
        size_t before = bits_written(writer);
        for (unsigned c = 0; c < f->comp_count; c++)
            comp_write(writer, ref[f->first_comp + c], cur[f->first_comp + c], widths[c],
                       f->comp_count == 1);
        if (field_bits)
            field_bits[i] += bits_written(writer) - before;
    }
}

bool nci_entity_delta_read(netcore_bit_reader *reader, const netcore_schema *schema,
                           const nci_type *type, const uint32_t *ref, uint32_t *out)
{
    uint64_t mask = netcore_bit_read_u64(reader, type->field_count);
    for (uint32_t i = 0; i < type->field_count; i++) {
        const nci_field *f = &schema->fields[type->first_field + i];
        const uint8_t *widths = &schema->comp_bits[type->first_comp + f->first_comp];
        bool changed = (mask >> i) & 1u;
        for (unsigned c = 0; c < f->comp_count; c++) {
            uint32_t r = ref[f->first_comp + c];
            out[f->first_comp + c] =
                changed ? comp_read(reader, r, widths[c], f->comp_count == 1) : r;
        }
        if (changed && !nci_field_codes_valid(f, out))
            return false;
    }
    return true;
}

/* ---- views ---- */

bool nci_views_alloc(const netcore_allocator *allocator, nci_view *views, uint32_t count,
                     uint32_t capacity, uint32_t stride, bool with_motion, void **out_block)
{
    /* Per view: three uint16 arrays (padded to a multiple of 4 bytes) then the
     * states; with motion, the motion flags (padded) and the motion deltas. */
    size_t ids_bytes = ((size_t)capacity * 3 * sizeof(uint16_t) + 3) & ~(size_t)3;
    if ((size_t)capacity > SIZE_MAX / 8 / (stride ? stride : 1))
        return false;
    size_t state_bytes = (size_t)capacity * stride * sizeof(uint32_t);
    size_t flag_bytes = with_motion ? ((size_t)capacity + 3) & ~(size_t)3 : 0;
    size_t motion_bytes = with_motion ? state_bytes : 0;
    size_t models_bytes = with_motion ? (nci_range_models_size() + 7) & ~(size_t)7 : 0;
    size_t per_view =
        ((ids_bytes + state_bytes + flag_bytes + motion_bytes + 7) & ~(size_t)7) + models_bytes;
    if (per_view == 0 || (size_t)count > SIZE_MAX / per_view)
        return false;
    uint8_t *block = nci_calloc(allocator, count, per_view);
    if (!block)
        return false;
    for (uint32_t v = 0; v < count; v++) {
        uint8_t *base = block + (size_t)v * per_view;
        memset(&views[v], 0, sizeof views[v]);
        views[v].index = (uint16_t *)(void *)base;
        views[v].gen = views[v].index + capacity;
        views[v].type = views[v].gen + capacity;
        views[v].state = (uint32_t *)(void *)(base + ids_bytes);
        if (with_motion) {
            views[v].motion_flag = base + ids_bytes + state_bytes;
            views[v].motion = (int32_t *)(void *)(base + ids_bytes + state_bytes + flag_bytes);
            views[v].models = (nci_range_models *)(void *)(base + per_view - models_bytes);
        }
    }
    *out_block = block;
    return true;
}

int32_t nci_view_find(const nci_view *view, uint32_t index)
{
    uint32_t lo = 0, hi = view->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (view->index[mid] < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < view->count && view->index[lo] == index ? (int32_t)lo : -1;
}

void nci_view_append(nci_view *to, const nci_view *from, uint32_t from_pos, uint32_t stride)
{
    uint32_t at = to->count++;
    to->index[at] = from->index[from_pos];
    to->gen[at] = from->gen[from_pos];
    to->type[at] = from->type[from_pos];
    memcpy(&to->state[(size_t)at * stride], &from->state[(size_t)from_pos * stride],
           stride * sizeof(uint32_t));
}
