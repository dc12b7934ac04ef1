/* Models and predictions of the range-coded snapshot body: the model block
 * (fresh, or the baseline's), the context each symbol is coded in, the
 * prediction of each component from the motion the baseline carried, and
 * that motion itself. Wire format: docs/snapshot-format.md, "Range-coded
 * snapshots". */
#include <string.h>

#include "replication/snapshot_range_internal.h"

size_t nci_range_models_size(void)
{
    return sizeof(nci_range_models);
}

static void models_reset(nci_range_models *m)
{
    memset(m, 0, sizeof *m);
}

/* The models a snapshot starts from: its baseline's (both ends hold them: the
 * client made them decoding the baseline it acknowledged), fresh without one. */
void nci_range_models_start(nci_range_models *m, const nci_view *base, bool has_base)
{
    if (has_base && base->models)
        memcpy(m, base->models, sizeof *m);
    else
        models_reset(m);
}

void nci_view_keep_models(nci_view *out, const nci_view *base, const nci_range_models *coded)
{
    if (coded == out->models)
        return; /* coded in place */
    if (coded)
        memcpy(out->models, coded, sizeof *coded);
    else
        nci_range_models_start(out->models, base, base != NULL);
}

/* Smallest-three components after the largest component changed: the
 * reference rotation re-expressed with the new largest index, so the
 * residual is the rotation's change, not the change of parameterisation.
 * Codes c of w bits stand for a = 2c - S in units of 1/(S sqrt 2), S = 2^w - 2
 * (bitpack_geometry.c), so the dropped component is sqrt(2 S^2 - sum a^2) in
 * the same units: integer square root, both ends compute the same codes. */
static uint64_t isqrt64(uint64_t n)
{
    uint64_t root = 0, bit = (uint64_t)1 << 62;
    while (bit > n)
        bit >>= 2;
    while (bit != 0) {
        if (n >= root + bit) {
            n -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return root;
}

/* ref: the field's four components (largest index, then three codes). */
uint32_t nci_range_quat_reexpressed(const uint32_t *ref, uint32_t new_largest, unsigned comp,
                                    unsigned w)
{
    int64_t steps = (int64_t)nci_rc_width_mask(w) - 1;
    int64_t a[4] = {0, 0, 0, 0};
    uint32_t old_largest = ref[0] & 3u;
    int64_t sum = 0;
    for (uint32_t i = 0, k = 1; i < 4; i++) {
        if (i == old_largest)
            continue;
        a[i] = 2 * (int64_t)ref[k++] - steps;
        sum += a[i] * a[i];
    }
    int64_t rest = 2 * steps * steps - sum;
    a[old_largest] = rest > 0 ? (int64_t)isqrt64((uint64_t)rest) : 0;
    if (a[new_largest] < 0) /* q and -q: the largest component is kept positive */
        for (int i = 0; i < 4; i++)
            a[i] = -a[i];
    uint32_t at = 0;
    for (uint32_t i = 0, k = 1; i < 4; i++) {
        if (i == new_largest)
            continue;
        if (k++ == comp)
            at = i;
    }
    int64_t code = (a[at] + steps + 1) / 2;
    return (uint32_t)(code < 0 ? 0 : (code > steps ? steps : code));
}

nci_rc_entity_ctx nci_range_update_ctx(const nci_view *base, uint32_t bp, uint32_t span_now,
                                       uint32_t stride, const uint8_t *eighths)
{
    nci_rc_entity_ctx e = {
        .creation = false, .base_flag = base->motion_flag[bp], .eighths = eighths};
    e.motion = &base->motion[(size_t)bp * stride];
    e.span_now = span_now;
    e.span_base = base->span_ticks;
    e.spans_ok = span_now >= 1 && span_now <= MAX_SPAN_TICKS && e.span_base >= 1 &&
                 e.span_base <= MAX_SPAN_TICKS;
    return e;
}

/* Whether the baseline entity after position bp moved in the baseline (moving
 * entities come in groups; both ends hold the baseline's flags). */
unsigned nci_range_next_moved(const nci_view *b, uint32_t bp)
{
    return bp + 1 < b->count && b->motion_flag[bp + 1] == NCI_MOTION_MOVED;
}

const nci_rc_entity_ctx nci_range_creation_ctx = {.creation = true, .base_flag = NCI_MOTION_NEW};

/* Prediction scales a snapshot may choose per field class, in eighths of the
 * baseline's motion: motion that persists (walkers) wants 8/8, motion that
 * decays (shoved, rolling cubes) less. */
const uint8_t nci_range_scale_eighths[SCALE_CHOICES] = {8, 6, 5, 4, 3, 2, 1, 0};

/* Adds, for every scale, the significant bits of the residual a component
 * with actual change `delta` would have. An estimate for the encoder's
 * choice only (the decoder is told the choice), so the unequal-span case may
 * round through a double. */
static void add_scale_costs(uint64_t cost[SCALE_CHOICES], int64_t delta, int32_t motion,
                            uint32_t span_now, uint32_t span_base)
{
    double per_eighth = (double)motion * span_now / ((double)span_base * SCALE_DEN);
    for (unsigned q = 0; q < SCALE_CHOICES; q++) {
        int64_t step;
        if (span_now == span_base) {
            step = nci_rc_scale_motion(motion, nci_range_scale_eighths[q], span_now, span_base);
        } else {
            double v = per_eighth * nci_range_scale_eighths[q];
            step = (int64_t)(v >= 0.0 ? v + 0.5 : v - 0.5);
        }
        int64_t r = delta - step;
        cost[q] += nci_rc_bit_length((uint32_t)(r < 0 ? -r : r));
    }
}

/* Updates the scale choice looks at: enough to see how motion behaves in
 * this snapshot, few enough to keep its cost bounded with many entities. */
#define SCALE_SAMPLE_ENTITIES 64u

/* Picks, per class, the scale whose residuals over this snapshot's updates
 * (the first SCALE_SAMPLE_ENTITIES that moved in the baseline) have the
 * fewest significant bits (a stand-in for their coded size). Only the
 * encoder runs this: the choice is sent. */
void nci_range_choose_scales(netcore_snapshot_server *server, const nci_range_body_plan *plan,
                             uint8_t out_choice[CLASS_COUNT])
{
    const netcore_schema *schema = server->schema;
    const nci_view *b = plan->base;
    uint64_t cost[CLASS_COUNT][SCALE_CHOICES];
    memset(cost, 0, sizeof cost);
    uint32_t sampled = 0;
    for (uint32_t k = 0; k < plan->cand_count && sampled < SCALE_SAMPLE_ENTITIES; k++) {
        const nci_candidate *c = &plan->cands[k];
        if (!c->selected || c->base_pos < 0)
            continue;
        uint32_t bp = (uint32_t)c->base_pos;
        nci_rc_entity_ctx e =
            nci_range_update_ctx(b, bp, plan->span_ticks, server->stride, nci_range_scale_eighths);
        if (!e.spans_ok || e.base_flag != NCI_MOTION_MOVED)
            continue;
        sampled++;
        const nci_type *t = &schema->types[b->type[bp]];
        const uint32_t *ref = &b->state[(size_t)bp * server->stride];
        const uint32_t *cur = nci_world_state(server, c->index);
        for (uint32_t i = 0; i < t->field_count; i++) {
            const nci_field *f = &schema->fields[t->first_field + i];
            if (!((c->mask >> i) & 1u) || f->desc.kind == NETCORE_FIELD_INT ||
                (f->desc.kind == NETCORE_FIELD_QUAT &&
                 (cur[f->first_comp] != ref[f->first_comp] || e.motion[f->first_comp] != 0)))
                continue;
            unsigned cls = nci_rc_field_class(f->desc.kind);
            const uint8_t *widths = &schema->comp_bits[t->first_comp + f->first_comp];
            for (unsigned comp = 0; comp < f->comp_count; comp++) {
                unsigned w = widths[comp], at = f->first_comp + comp;
                if (w <= SMALL_BITS || e.motion[at] == 0)
                    continue; /* no motion: every scale predicts the same */
                add_scale_costs(cost[cls], nci_rc_signed_diff(cur[at], ref[at], w), e.motion[at],
                                e.span_now, e.span_base);
            }
        }
    }
    for (unsigned cls = 0; cls < CLASS_COUNT; cls++) {
        unsigned best = 0;
        for (unsigned q = 1; q < SCALE_CHOICES; q++)
            if (cost[cls][q] < cost[cls][best])
                best = q;
        out_choice[cls] = (uint8_t)best;
    }
}

/* ---- motion ---- */

void nci_view_derive_motion(const netcore_schema *schema, const nci_view *base, nci_view *out,
                            uint32_t stride)
{
    out->span_ticks = base ? out->tick - base->tick : 0;
    uint32_t bp = 0;
    for (uint32_t i = 0; i < out->count; i++) {
        uint16_t index = out->index[i];
        while (base && bp < base->count && base->index[bp] < index)
            bp++;
        bool kept = base && bp < base->count && base->index[bp] == index &&
                    base->gen[bp] == out->gen[i] && base->type[bp] == out->type[i];
        if (!kept) {
            out->motion_flag[i] = NCI_MOTION_NEW;
            continue;
        }
        const nci_type *t = &schema->types[out->type[i]];
        const uint32_t *was = &base->state[(size_t)bp * stride];
        const uint32_t *now = &out->state[(size_t)i * stride];
        int32_t *motion = &out->motion[(size_t)i * stride];
        const uint8_t *widths = &schema->comp_bits[t->first_comp];
        if (memcmp(was, now, t->comp_count * sizeof *now) == 0) {
            out->motion_flag[i] = NCI_MOTION_STILL; /* motion is only read when moved */
            continue;
        }
        bool moved = false;
        for (uint32_t c = 0; c < t->comp_count; c++) {
            motion[c] = (int32_t)nci_rc_signed_diff(now[c], was[c], widths[c]);
            moved |= motion[c] != 0;
        }
        out->motion_flag[i] = moved ? NCI_MOTION_MOVED : NCI_MOTION_STILL;
    }
}
