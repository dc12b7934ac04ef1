/* Range-coded snapshot bodies: the same removals, creations and updates as the
 * bit-packed format, coded with adaptive binary models (range_coder.h) that
 * start fresh in every snapshot, and component values predicted from the
 * motion the baseline itself carried. Wire format: docs/snapshot-format.md,
 * "Range-coded snapshots". */
#include <string.h>

#include "replication/range_coder.h"
#include "replication/snapshot_internal.h"

/* Magnitude models distinguish this many bit lengths (longer ones share). */
#define LEN_CTX 16u
/* Bits below a magnitude's leading one coded with models (a tree); a third gained nothing. */
#define MANT_BITS 2u
/* Prediction scales: SCALE_CHOICES fractions of the baseline's motion, in
 * SCALE_DEN-ths, one chosen per field class and snapshot. */
#define SCALE_DEN 8u
#define SCALE_CHOICE_BITS 3u
#define SCALE_CHOICES (1u << SCALE_CHOICE_BITS)
/* Mask models distinguish this many field positions (later ones share). */
#define MASK_CTX 16u
/* Components of at most this width are coded as values through a bit tree. */
#define SMALL_BITS 4u
/* Prediction needs tick spans both ends can scale by: 1 .. MAX_SPAN. */
#define MAX_SPAN_TICKS 65535u
/* Widest count or slot gap: 16 bits, so the bit length of value + 1 is <= 17. */
#define COUNT_MAX_NB 16u

/* Elias-gamma-like binarisation of m >= 1: the bit length nb of m (unary,
 * each position its own model), up to two bits below the leading one
 * through a tree of models keyed by nb, the remaining bits at probability 1/2. */
typedef struct mag_model {
    nci_bit_model len[LEN_CTX];
    nci_bit_model mant[LEN_CTX][(1u << MANT_BITS) - 1];
} mag_model;

/* Residuals of the components before this one in the same field: none
 * (first), zero, under 8 steps, larger. Components of one field move
 * together (x and y of a position, the three of a rotation). */
#define NEIGH_CTX 4u

/* A component residual: zero?, sign (keyed by the predicted motion's sign),
 * magnitude (bit lengths keyed by the neighbour context too). */
typedef struct comp_model {
    nci_bit_model zero[NEIGH_CTX];
    nci_bit_model sign[3];
    nci_bit_model len[NEIGH_CTX][LEN_CTX];
    nci_bit_model mant[LEN_CTX][(1u << MANT_BITS) - 1];
} comp_model;

/* A value of at most SMALL_BITS bits: "same as the reference" (multi-component
 * fields only), then the value through a binary tree. */
typedef struct small_model {
    nci_bit_model same;
    nci_bit_model tree[1u << SMALL_BITS];
} small_model;

enum { CLASS_INT, CLASS_FLOAT, CLASS_ANGLE, CLASS_VEC, CLASS_QUAT, CLASS_COUNT };
enum { SMALL_BOOL, SMALL_QUAT_INDEX, SMALL_OTHER, SMALL_COUNT };
/* Update contexts by what the baseline knew of the component: 0 nothing (new
 * in the baseline, or no usable tick span), 1 still, 2..6 moved by 1..3,
 * 4..15, 16..63, 64..255, 256 or more steps; 7 a quaternion whose largest
 * component changed (re-expressed reference). */
#define BUCKETS 8u

struct nci_range_models {
    mag_model removal_count, removal_gap, creation_count, creation_gap, type, tick;
    nci_bit_model tick_zero, tick_sign;
    /* [previous entity changed][baseline motion flag][the next baseline entity moved] */
    nci_bit_model changed[2][3][2];
    nci_bit_model scale[CLASS_COUNT][7]; /* prediction scale choice, a 3-level tree */
    /* [creation][field position][field moved in baseline][previous field changed] */
    nci_bit_model mask[2][MASK_CTX][3][2];
    comp_model update[CLASS_COUNT][BUCKETS];
    comp_model create[CLASS_COUNT];
    small_model small_update[SMALL_COUNT], small_create[SMALL_COUNT];
};

size_t nci_range_models_size(void) { return sizeof(nci_range_models); }

static void models_reset(nci_range_models *m) { memset(m, 0, sizeof *m); }

/* The models a snapshot starts from: its baseline's (both ends hold them: the
 * client made them decoding the baseline it acknowledged), fresh without one. */
static void models_start(nci_range_models *m, const nci_view *base, bool has_base)
{
    if (has_base && base->models)
        memcpy(m, base->models, sizeof *m);
    else
        models_reset(m);
}

void nci_view_keep_models(nci_view *out, const nci_view *base, const nci_range_models *coded)
{
    if (coded)
        memcpy(out->models, coded, sizeof *coded);
    else
        models_start(out->models, base, base != NULL);
}

/* ---- shared helpers ---- */

static uint32_t width_mask(unsigned bits) { return bits >= 32 ? 0xffffffffu : (1u << bits) - 1u; }

/* (a - b) mod 2^w as a signed w-bit number. */
static int64_t signed_diff(uint32_t a, uint32_t b, unsigned w)
{
    uint32_t d = (a - b) & width_mask(w);
    int64_t sd = (int64_t)d;
    if ((d >> (w - 1)) & 1u)
        sd -= (int64_t)1 << w;
    return sd;
}

static unsigned bit_length(uint32_t v)
{
    unsigned n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
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
static uint32_t quat_reexpressed(const uint32_t *ref, uint32_t new_largest, unsigned comp,
                                 unsigned w)
{
    int64_t steps = (int64_t)width_mask(w) - 1;
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

static unsigned field_class(netcore_field_kind kind)
{
    switch (kind) {
    case NETCORE_FIELD_INT: return CLASS_INT;
    case NETCORE_FIELD_FLOAT: return CLASS_FLOAT;
    case NETCORE_FIELD_ANGLE: return CLASS_ANGLE;
    case NETCORE_FIELD_QUAT: return CLASS_QUAT;
    default: return CLASS_VEC;
    }
}

static unsigned small_class(const nci_field *f, unsigned comp)
{
    if (f->desc.kind == NETCORE_FIELD_BOOL)
        return SMALL_BOOL;
    if (f->desc.kind == NETCORE_FIELD_QUAT && comp == 0)
        return SMALL_QUAT_INDEX;
    return SMALL_OTHER;
}

/* How one component is predicted and which models code it. */
typedef struct comp_plan {
    uint32_t pred;  /* predicted code */
    comp_model *cm; /* NULL: a small value (small_model) */
    unsigned sign_ctx;
} comp_plan;

/* The baseline motion of a component scaled to this snapshot: motion *
 * (eighths / SCALE_DEN) * (span_now / span_base), rounded half away from 0.
 * Pure integer arithmetic, so both ends agree; equal spans (the usual case:
 * a steady snapshot rate and ack delay) skip the division. */
static int64_t scale_motion(int32_t motion, unsigned eighths, uint32_t span_now,
                            uint32_t span_base)
{
    int64_t x = (int64_t)motion * eighths;
    if (span_now == span_base)
        return x >= 0 ? (x + SCALE_DEN / 2) / SCALE_DEN : -((-x + SCALE_DEN / 2) / SCALE_DEN);
    int64_t num = x * (int64_t)span_now * 2;
    int64_t den = (int64_t)span_base * SCALE_DEN * 2;
    int64_t half = (int64_t)span_base * SCALE_DEN;
    return num >= 0 ? (num + half) / den : -((-num + half) / den);
}

static unsigned motion_bucket(int64_t motion)
{
    uint64_t a = (uint64_t)(motion < 0 ? -motion : motion);
    if (a == 0)
        return 1;
    if (a < 4)
        return 2;
    if (a < 16)
        return 3;
    if (a < 64)
        return 4;
    return a < 256 ? 5 : 6;
}

/* Entity context for predicting its components: the baseline entity's
 * motion flag and motion, and the spans. */
typedef struct entity_ctx {
    bool creation;
    uint8_t base_flag; /* NCI_MOTION_* of the baseline entity (NEW for creations) */
    const int32_t *motion; /* the baseline entity's motion (valid when base_flag is MOVED) */
    bool spans_ok;
    uint32_t span_now, span_base;
    const uint8_t *eighths; /* [CLASS_COUNT] this snapshot's prediction scales, in eighths */
} entity_ctx;

static comp_plan plan_comp(nci_range_models *m, const entity_ctx *e, const nci_field *f,
                           unsigned comp, unsigned w, const uint32_t *ref, const uint32_t *cur)
{
    comp_plan p = {.pred = ref[f->first_comp + comp], .cm = NULL, .sign_ctx = 0};
    if (w <= SMALL_BITS)
        return p;
    unsigned cls = field_class(f->desc.kind);
    if (e->creation) {
        p.cm = &m->create[cls];
        return p;
    }
    unsigned bucket = 0;
    bool quat_turned = f->desc.kind == NETCORE_FIELD_QUAT &&
                       (cur[f->first_comp] != ref[f->first_comp] ||
                        (e->base_flag == NCI_MOTION_MOVED && e->motion[f->first_comp] != 0));
    if (f->desc.kind == NETCORE_FIELD_QUAT && cur[f->first_comp] != ref[f->first_comp]) {
        p.pred = quat_reexpressed(&ref[f->first_comp], cur[f->first_comp] & 3u, comp, w);
        p.cm = &m->update[cls][BUCKETS - 1];
        return p;
    }
    if (e->spans_ok && e->base_flag == NCI_MOTION_STILL) {
        bucket = 1;
    } else if (e->spans_ok && e->base_flag == NCI_MOTION_MOVED && !quat_turned) {
        int32_t mv = e->motion[f->first_comp + comp];
        bucket = motion_bucket(mv);
        if (f->desc.kind != NETCORE_FIELD_INT) {
            int64_t step = scale_motion(mv, e->eighths[cls], e->span_now, e->span_base);
            p.pred = (uint32_t)((int64_t)p.pred + step) & width_mask(w);
            p.sign_ctx = step > 0 ? 1u : (step < 0 ? 2u : 0u);
        }
    }
    p.cm = &m->update[cls][bucket];
    return p;
}

static small_model *small_for(nci_range_models *m, const entity_ctx *e, const nci_field *f,
                              unsigned comp)
{
    return e->creation ? &m->small_create[small_class(f, comp)]
                       : &m->small_update[small_class(f, comp)];
}

/* The mask context of a field: did the baseline entity move it? */
static unsigned field_moved(const entity_ctx *e, const nci_field *f)
{
    if (e->creation || e->base_flag == NCI_MOTION_NEW || !e->spans_ok)
        return 2;
    if (e->base_flag == NCI_MOTION_STILL)
        return 0;
    for (unsigned c = 0; c < f->comp_count; c++)
        if (e->motion[f->first_comp + c] != 0)
            return 1;
    return 0;
}

/* ---- encoding ---- */

static void put_mag_with(nci_range_encoder *enc, nci_bit_model *len, nci_bit_model (*mant)[(1u << MANT_BITS) - 1],
                         uint32_t m, unsigned max_nb)
{
    unsigned nb = bit_length(m) - 1;
    for (unsigned i = 0; i < nb; i++)
        nci_range_encode_bit(enc, &len[i < LEN_CTX ? i : LEN_CTX - 1], 1);
    if (nb < max_nb)
        nci_range_encode_bit(enc, &len[nb < LEN_CTX ? nb : LEN_CTX - 1], 0);
    unsigned c = nb < LEN_CTX ? nb : LEN_CTX - 1;
    /* Up to three bits below the leading one through a tree; the rest raw. */
    unsigned modeled = nb < MANT_BITS ? nb : MANT_BITS, node = 1;
    for (unsigned i = 1; i <= modeled; i++) {
        unsigned bit = (m >> (nb - i)) & 1u;
        nci_range_encode_bit(enc, &mant[c][node - 1], bit);
        node = node * 2 + bit;
    }
    if (nb > modeled)
        nci_range_encode_direct(enc, m, nb - modeled);
}

static void put_mag(nci_range_encoder *enc, mag_model *mm, uint32_t m, unsigned max_nb)
{
    put_mag_with(enc, mm->len, mm->mant, m, max_nb);
}

/* The neighbour context that a residual gives the next component. */
static unsigned neigh_after(uint64_t magnitude)
{
    return magnitude == 0 ? 1u : (magnitude < 8 ? 2u : 3u);
}

static void put_small(nci_range_encoder *enc, small_model *sm, uint32_t value, unsigned w)
{
    unsigned node = 1;
    for (unsigned i = w; i-- > 0;) {
        unsigned bit = (value >> i) & 1u;
        nci_range_encode_bit(enc, &sm->tree[node], bit);
        node = node * 2 + bit;
    }
}

/* Returns the neighbour context for the field's next component. */
static unsigned put_comp(nci_range_encoder *enc, nci_range_models *m, const entity_ctx *e,
                         const nci_field *f, unsigned comp, unsigned w, const uint32_t *ref,
                         const uint32_t *cur, unsigned neigh)
{
    uint32_t v = cur[f->first_comp + comp];
    comp_plan p = plan_comp(m, e, f, comp, w, ref, cur);
    if (!p.cm) {
        small_model *sm = small_for(m, e, f, comp);
        if (f->comp_count > 1) {
            nci_range_encode_bit(enc, &sm->same, v != p.pred);
            if (v == p.pred)
                return neigh;
        } else if (w == 1) {
            return neigh; /* a changed one-bit field can only be the other value */
        }
        put_small(enc, sm, v, w);
        return neigh;
    }
    int64_t r = signed_diff(v, p.pred, w);
    nci_range_encode_bit(enc, &p.cm->zero[neigh], r != 0);
    if (r == 0)
        return neigh_after(0);
    uint32_t mag = (uint32_t)(r < 0 ? -r : r);
    nci_range_encode_bit(enc, &p.cm->sign[p.sign_ctx], r < 0);
    put_mag_with(enc, p.cm->len[neigh], p.cm->mant, mag, w - 1);
    return neigh_after(mag);
}

static void put_fields(nci_range_encoder *enc, nci_range_models *m, const netcore_schema *schema,
                       const nci_type *t, const entity_ctx *e, const uint32_t *ref,
                       const uint32_t *cur)
{
    uint32_t field_count = t->field_count;
    bool any = false;
    unsigned prev = 0;
    for (uint32_t i = 0; i < field_count; i++) {
        const nci_field *f = &schema->fields[t->first_field + i];
        bool changed = memcmp(&ref[f->first_comp], &cur[f->first_comp],
                              f->comp_count * sizeof(uint32_t)) != 0;
        /* An update changes at least one field: the last is implied if no other did. */
        if (e->creation || any || i + 1 < field_count) {
            unsigned pos = i < MASK_CTX ? i : MASK_CTX - 1;
            nci_range_encode_bit(enc, &m->mask[e->creation][pos][field_moved(e, f)][prev], changed);
        }
        any |= changed;
        prev = changed;
        if (!changed)
            continue;
        const uint8_t *widths = &schema->comp_bits[t->first_comp + f->first_comp];
        unsigned neigh = 0;
        for (unsigned c = 0; c < f->comp_count; c++)
            neigh = put_comp(enc, m, e, f, c, widths[c], ref, cur, neigh);
    }
}

static entity_ctx update_ctx(const nci_view *base, uint32_t bp, uint32_t span_now,
                             uint32_t stride, const uint8_t *eighths)
{
    entity_ctx e = {.creation = false, .base_flag = base->motion_flag[bp], .eighths = eighths};
    e.motion = &base->motion[(size_t)bp * stride];
    e.span_now = span_now;
    e.span_base = base->span_ticks;
    e.spans_ok = span_now >= 1 && span_now <= MAX_SPAN_TICKS && e.span_base >= 1 &&
                 e.span_base <= MAX_SPAN_TICKS;
    return e;
}

/* Whether the baseline entity after position bp moved in the baseline (moving
 * entities come in groups; both ends hold the baseline's flags). */
static unsigned next_moved(const nci_view *b, uint32_t bp)
{
    return bp + 1 < b->count && b->motion_flag[bp + 1] == NCI_MOTION_MOVED;
}

static const entity_ctx creation_ctx = {.creation = true, .base_flag = NCI_MOTION_NEW};

/* Prediction scales a snapshot may choose per field class, in eighths of the
 * baseline's motion: motion that persists (walkers) wants 8/8, motion that
 * decays (shoved, rolling cubes) less. */
static const uint8_t scale_eighths[SCALE_CHOICES] = {8, 6, 5, 4, 3, 2, 1, 0};

/* Picks, per class, the scale whose residuals over this snapshot's updates
 * have the fewest significant bits (a stand-in for their coded size). */
static void choose_scales(netcore_snapshot_server *server, const nci_range_body_plan *plan,
                          uint8_t out_choice[CLASS_COUNT])
{
    const netcore_schema *schema = server->schema;
    const nci_view *b = plan->base;
    uint64_t cost[CLASS_COUNT][SCALE_CHOICES];
    memset(cost, 0, sizeof cost);
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const nci_candidate *c = &plan->cands[k];
        if (!c->selected || c->base_pos < 0)
            continue;
        uint32_t bp = (uint32_t)c->base_pos;
        entity_ctx e = update_ctx(b, bp, plan->span_ticks, server->stride, scale_eighths);
        if (!e.spans_ok || e.base_flag != NCI_MOTION_MOVED)
            continue;
        const nci_type *t = &schema->types[b->type[bp]];
        const uint32_t *ref = &b->state[(size_t)bp * server->stride];
        const uint32_t *cur = nci_world_state(server, c->index);
        for (uint32_t i = 0; i < t->field_count; i++) {
            const nci_field *f = &schema->fields[t->first_field + i];
            if (!((c->mask >> i) & 1u) || f->desc.kind == NETCORE_FIELD_INT ||
                (f->desc.kind == NETCORE_FIELD_QUAT &&
                 (cur[f->first_comp] != ref[f->first_comp] || e.motion[f->first_comp] != 0)))
                continue;
            unsigned cls = field_class(f->desc.kind);
            const uint8_t *widths = &schema->comp_bits[t->first_comp + f->first_comp];
            for (unsigned comp = 0; comp < f->comp_count; comp++) {
                unsigned w = widths[comp], at = f->first_comp + comp;
                if (w <= SMALL_BITS)
                    continue;
                for (unsigned q = 0; q < SCALE_CHOICES; q++) {
                    int64_t step =
                        scale_motion(e.motion[at], scale_eighths[q], e.span_now, e.span_base);
                    uint32_t pred = (uint32_t)((int64_t)ref[at] + step) & width_mask(w);
                    int64_t r = signed_diff(cur[at], pred, w);
                    cost[cls][q] += bit_length((uint32_t)(r < 0 ? -r : r));
                }
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

static void put_creation(nci_range_encoder *enc, netcore_snapshot_server *server, uint32_t index)
{
    const netcore_schema *schema = server->schema;
    const nci_world_slot *slot = &server->slots[index];
    const nci_type *t = &schema->types[slot->type];
    put_mag(enc, &server->range_models->type, (uint32_t)slot->type + 1, schema->type_bits);
    nci_range_encode_direct(enc, slot->gen, NCI_GENERATION_BITS);
    put_fields(enc, server->range_models, schema, t, &creation_ctx,
               &schema->comp_default[t->first_comp], nci_world_state(server, index));
}

bool nci_range_body_write(netcore_snapshot_server *server, const nci_range_body_plan *plan,
                          uint8_t *out, size_t capacity_bytes, size_t *out_size,
                          unsigned *out_dropped)
{
    nci_range_models *m = server->range_models;
    const nci_view *b = plan->base;
    const nci_candidate *cands = plan->cands;
    uint32_t stride = server->stride;
    models_start(m, b, plan->has_base);
    nci_range_encoder enc;
    nci_range_encoder_init(&enc, out, capacity_bytes);

    if (plan->has_base) { /* the tick delta, usually the same every time: almost free */
        int64_t d = plan->tick_delta;
        nci_range_encode_bit(&enc, &m->tick_zero, d != 0);
        if (d != 0) {
            nci_range_encode_bit(&enc, &m->tick_sign, d < 0);
            put_mag(&enc, &m->tick, (uint32_t)(d < 0 ? -d : d), 31);
        }
    }
    put_mag(&enc, &m->removal_count, plan->removal_count + 1, COUNT_MAX_NB);
    int64_t prev = -1;
    for (uint32_t r = 0; r < plan->removal_count; r++) {
        uint32_t index = b->index[plan->removals[r]];
        put_mag(&enc, &m->removal_gap, (uint32_t)(index - prev), COUNT_MAX_NB);
        prev = index;
    }
    uint32_t creations = 0;
    for (uint32_t k = 0; k < plan->cand_count; k++)
        creations += cands[k].selected && cands[k].base_pos < 0;
    put_mag(&enc, &m->creation_count, creations + 1, COUNT_MAX_NB);
    prev = -1;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        if (!cands[k].selected || cands[k].base_pos >= 0)
            continue;
        put_mag(&enc, &m->creation_gap, (uint32_t)(cands[k].index - prev), COUNT_MAX_NB);
        prev = cands[k].index;
    }

    uint8_t choice[CLASS_COUNT], eighths[CLASS_COUNT];
    choose_scales(server, plan, choice);
    for (unsigned cls = 0; cls < CLASS_COUNT; cls++) {
        unsigned node = 1;
        for (unsigned i = SCALE_CHOICE_BITS; i-- > 0;) {
            unsigned bit = (choice[cls] >> i) & 1u;
            nci_range_encode_bit(&enc, &m->scale[cls][node - 1], bit);
            node = node * 2 + bit;
        }
        eighths[cls] = scale_eighths[choice[cls]];
    }

    /* One walk in slot order over the baseline's survivors (a changed flag
     * each, then the update) and the creations. */
    uint32_t bp = 0, k = 0;
    unsigned prev_changed = 0;
    for (;;) {
        while (bp < b->count && plan->removed[bp])
            bp++;
        while (k < plan->cand_count && !cands[k].selected)
            k++;
        if (bp >= b->count && k >= plan->cand_count)
            break;
        if (k < plan->cand_count && cands[k].base_pos < 0 &&
            (bp >= b->count || cands[k].index < b->index[bp])) {
            put_creation(&enc, server, cands[k].index);
            k++;
            continue;
        }
        bool changed = k < plan->cand_count && cands[k].base_pos == (int32_t)bp;
        nci_range_encode_bit(&enc, &m->changed[prev_changed][b->motion_flag[bp]][next_moved(b, bp)],
                             changed);
        prev_changed = changed;
        if (changed) {
            const nci_type *t = &server->schema->types[b->type[bp]];
            entity_ctx e = update_ctx(b, bp, plan->span_ticks, stride, eighths);
            put_fields(&enc, m, server->schema, t, &e, &b->state[(size_t)bp * stride],
                       nci_world_state(server, cands[k].index));
            k++;
        }
        bp++;
    }
    *out_size = nci_range_encoder_finish(&enc);
    *out_dropped = enc.dropped;
    return !enc.failed;
}

/* ---- decoding ---- */

static uint32_t get_mag_with(nci_range_decoder *dec, nci_bit_model *len,
                             nci_bit_model (*mant)[(1u << MANT_BITS) - 1], unsigned max_nb)
{
    unsigned nb = 0;
    while (nb < max_nb && nci_range_decode_bit(dec, &len[nb < LEN_CTX ? nb : LEN_CTX - 1]))
        nb++;
    uint32_t m = 1;
    unsigned c = nb < LEN_CTX ? nb : LEN_CTX - 1;
    unsigned modeled = nb < MANT_BITS ? nb : MANT_BITS;
    for (unsigned i = 1; i <= modeled; i++)
        m = (m << 1) | nci_range_decode_bit(dec, &mant[c][m - 1]);
    if (nb > modeled)
        m = (m << (nb - modeled)) | nci_range_decode_direct(dec, nb - modeled);
    return m;
}

static uint32_t get_mag(nci_range_decoder *dec, mag_model *mm, unsigned max_nb)
{
    return get_mag_with(dec, mm->len, mm->mant, max_nb);
}

static uint32_t get_small(nci_range_decoder *dec, small_model *sm, unsigned w)
{
    unsigned node = 1;
    for (unsigned i = 0; i < w; i++)
        node = node * 2 + nci_range_decode_bit(dec, &sm->tree[node]);
    return node - (1u << w);
}

/* Decodes component `comp` of field f into out (the components before it are
 * already there: a quaternion's index decides its prediction). */
static unsigned get_comp(nci_range_decoder *dec, nci_range_models *m, const entity_ctx *e,
                         const nci_field *f, unsigned comp, unsigned w, const uint32_t *ref,
                         uint32_t *out, unsigned neigh)
{
    comp_plan p = plan_comp(m, e, f, comp, w, ref, out);
    uint32_t *v = &out[f->first_comp + comp];
    if (!p.cm) {
        small_model *sm = small_for(m, e, f, comp);
        if (f->comp_count > 1 && !nci_range_decode_bit(dec, &sm->same))
            *v = p.pred;
        else if (f->comp_count == 1 && w == 1)
            *v = p.pred ^ 1u;
        else
            *v = get_small(dec, sm, w);
        return neigh;
    }
    if (!nci_range_decode_bit(dec, &p.cm->zero[neigh])) {
        *v = p.pred;
        return neigh_after(0);
    }
    bool negative = nci_range_decode_bit(dec, &p.cm->sign[p.sign_ctx]);
    uint32_t mag = get_mag_with(dec, p.cm->len[neigh], p.cm->mant, w - 1);
    *v = (negative ? p.pred - mag : p.pred + mag) & width_mask(w);
    return neigh_after(mag);
}

static bool get_fields(nci_range_decoder *dec, nci_range_models *m, const netcore_schema *schema,
                       const nci_type *t, const entity_ctx *e, const uint32_t *ref, uint32_t *out)
{
    uint32_t field_count = t->field_count;
    bool any = false;
    unsigned prev = 0;
    for (uint32_t i = 0; i < field_count; i++) {
        const nci_field *f = &schema->fields[t->first_field + i];
        bool changed = true;
        if (e->creation || any || i + 1 < field_count) {
            unsigned pos = i < MASK_CTX ? i : MASK_CTX - 1;
            changed =
                nci_range_decode_bit(dec, &m->mask[e->creation][pos][field_moved(e, f)][prev]);
        }
        any |= changed;
        prev = changed;
        /* The components before this field's are in place: the quaternion
         * prediction reads the decoded index from out. */
        memcpy(&out[f->first_comp], &ref[f->first_comp], f->comp_count * sizeof(uint32_t));
        if (!changed)
            continue;
        const uint8_t *widths = &schema->comp_bits[t->first_comp + f->first_comp];
        unsigned neigh = 0;
        for (unsigned c = 0; c < f->comp_count; c++)
            neigh = get_comp(dec, m, e, f, c, widths[c], ref, out, neigh);
        if (!nci_field_codes_valid(f, out))
            return false;
        if (memcmp(&ref[f->first_comp], &out[f->first_comp], f->comp_count * sizeof(uint32_t)) ==
            0)
            return false; /* a changed field equal to its reference: not what an encoder writes */
    }
    return !dec->failed;
}

/* Reads the removal list into r->removed (baseline positions). */
static bool get_removals(nci_range_decoder *dec, nci_range_body_read *r)
{
    const nci_view *b = r->base;
    uint32_t count = get_mag(dec, &r->models->removal_count, COUNT_MAX_NB) - 1;
    if (count > b->count)
        return false;
    memset(r->removed, 0, b->count);
    int64_t prev = -1;
    uint32_t bp = 0;
    for (uint32_t n = 0; n < count && !dec->failed; n++) {
        int64_t index = prev + get_mag(dec, &r->models->removal_gap, COUNT_MAX_NB);
        while (bp < b->count && b->index[bp] < index)
            bp++;
        if (bp == b->count || b->index[bp] != index)
            return false; /* removing something the baseline does not hold */
        r->removed[bp] = 1;
        prev = index;
    }
    return !dec->failed;
}

/* Reads the creation slots into r->created; *out_count gets their number. */
static bool get_creation_slots(nci_range_decoder *dec, nci_range_body_read *r,
                               uint32_t *out_count)
{
    uint32_t count = get_mag(dec, &r->models->creation_count, COUNT_MAX_NB) - 1;
    if (count > r->max_entities)
        return false;
    int64_t prev = -1;
    for (uint32_t n = 0; n < count && !dec->failed; n++) {
        int64_t index = prev + get_mag(dec, &r->models->creation_gap, COUNT_MAX_NB);
        if (index >= r->max_entities)
            return false;
        int32_t bp = nci_view_find(r->base, (uint32_t)index);
        if (bp >= 0 && !r->removed[bp])
            return false; /* a creation over an entity the client keeps */
        r->created[n] = (uint16_t)index;
        prev = index;
    }
    *out_count = count;
    return !dec->failed;
}

static bool get_creation(nci_range_decoder *dec, nci_range_body_read *r, uint32_t index)
{
    const netcore_schema *schema = r->schema;
    nci_view *out = r->out;
    if (out->count >= r->max_entities)
        return false;
    uint32_t type = get_mag(dec, &r->models->type, schema->type_bits) - 1;
    uint32_t gen = nci_range_decode_direct(dec, NCI_GENERATION_BITS);
    if (dec->failed || type >= schema->type_count || gen == 0)
        return false;
    const nci_type *t = &schema->types[type];
    uint32_t at = out->count;
    uint32_t *state = &out->state[(size_t)at * r->stride];
    memset(state, 0, r->stride * sizeof *state);
    if (!get_fields(dec, r->models, schema, t, &creation_ctx,
                    &schema->comp_default[t->first_comp], state))
        return false;
    out->index[at] = (uint16_t)index;
    out->gen[at] = (uint16_t)gen;
    out->type[at] = (uint16_t)type;
    out->count++;
    return true;
}

static bool get_survivor(nci_range_decoder *dec, nci_range_body_read *r, uint32_t bp,
                         unsigned *prev_changed)
{
    const nci_view *b = r->base;
    nci_view *out = r->out;
    if (out->count >= r->max_entities)
        return false;
    unsigned changed =
        nci_range_decode_bit(dec, &r->models->changed[*prev_changed][b->motion_flag[bp]]
                                                     [next_moved(b, bp)]);
    *prev_changed = changed;
    if (!changed) {
        nci_view_append(out, b, bp, r->stride);
        return !dec->failed;
    }
    const nci_type *t = &r->schema->types[b->type[bp]];
    uint32_t at = out->count;
    uint32_t *state = &out->state[(size_t)at * r->stride];
    memset(state, 0, r->stride * sizeof *state);
    entity_ctx e = update_ctx(b, bp, r->span_ticks, r->stride, r->eighths);
    if (!get_fields(dec, r->models, r->schema, t, &e, &b->state[(size_t)bp * r->stride], state))
        return false;
    out->index[at] = b->index[bp];
    out->gen[at] = b->gen[bp];
    out->type[at] = b->type[bp];
    out->count++;
    return true;
}

bool nci_range_body_decode(nci_range_body_read *r, const uint8_t *bytes, size_t size_bytes)
{
    const nci_view *b = r->base;
    nci_range_decoder dec;
    nci_range_decoder_init(&dec, bytes, size_bytes);
    models_start(r->models, b, r->has_base);
    r->out->count = 0;
    r->span_ticks = 0;
    if (r->has_base) {
        int64_t d = 0;
        if (nci_range_decode_bit(&dec, &r->models->tick_zero)) {
            bool negative = nci_range_decode_bit(&dec, &r->models->tick_sign);
            d = get_mag(&dec, &r->models->tick, 31);
            d = negative ? -d : d;
        }
        r->tick = (uint32_t)((int64_t)b->tick + d);
        r->span_ticks = r->tick - b->tick;
    }
    uint32_t creations = 0;
    if (!get_removals(&dec, r) || !get_creation_slots(&dec, r, &creations))
        return false;
    uint8_t eighths[CLASS_COUNT];
    for (unsigned cls = 0; cls < CLASS_COUNT; cls++) {
        unsigned node = 1;
        for (unsigned i = 0; i < SCALE_CHOICE_BITS; i++)
            node = node * 2 + nci_range_decode_bit(&dec, &r->models->scale[cls][node - 1]);
        eighths[cls] = scale_eighths[node - SCALE_CHOICES];
    }
    r->eighths = eighths;
    /* Every step consumes a survivor or a creation: at most base count +
     * creations iterations. */
    uint32_t bp = 0, k = 0;
    unsigned prev_changed = 0;
    for (;;) {
        while (bp < b->count && r->removed[bp])
            bp++;
        if (bp >= b->count && k >= creations)
            break;
        bool ok;
        if (k < creations && (bp >= b->count || r->created[k] < b->index[bp]))
            ok = get_creation(&dec, r, r->created[k++]);
        else
            ok = get_survivor(&dec, r, bp++, &prev_changed);
        if (!ok || dec.failed)
            return false;
    }
    return nci_range_decoder_finish(&dec, r->dropped_bytes);
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
            motion[c] = (int32_t)signed_diff(now[c], was[c], widths[c]);
            moved |= motion[c] != 0;
        }
        out->motion_flag[i] = moved ? NCI_MOTION_MOVED : NCI_MOTION_STILL;
    }
}
