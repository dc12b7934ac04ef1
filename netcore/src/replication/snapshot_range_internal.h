/* Internals of the range-coded snapshot body shared by its models and
 * predictions (snapshot_range_model.c) and its encoder and decoder
 * (snapshot_range.c). Wire format: docs/snapshot-format.md, "Range-coded
 * snapshots". */
#ifndef NETCORE_SNAPSHOT_RANGE_INTERNAL_H
#define NETCORE_SNAPSHOT_RANGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "replication/range_coder.h"
#include "replication/snapshot_internal.h"

/* Magnitude models distinguish this many bit lengths (longer ones share). */
#define LEN_CTX 12u
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

/* The mantissa models of one bit length: a tree over MANT_BITS bits. */
typedef nci_bit_model nci_rc_mant_tree[(1u << MANT_BITS) - 1];

/* Elias-gamma-like binarisation of m >= 1: the bit length nb of m (unary,
 * each position its own model), up to two bits below the leading one
 * through a tree of models keyed by nb, the remaining bits at probability 1/2. */
typedef struct nci_rc_mag_model {
    nci_bit_model len[LEN_CTX];
    nci_rc_mant_tree mant[LEN_CTX];
} nci_rc_mag_model;

/* Residuals of the components before this one in the same field: none
 * (first), zero, under 8 steps, larger. Components of one field move
 * together (x and y of a position, the three of a rotation). */
#define NEIGH_CTX 4u

/* A component residual: zero?, sign (keyed by the predicted motion's sign),
 * magnitude (bit lengths keyed by the neighbour context too). */
typedef struct nci_rc_comp_model {
    nci_bit_model zero[NEIGH_CTX];
    nci_bit_model sign[3];
    nci_bit_model len[NEIGH_CTX][LEN_CTX];
    nci_rc_mant_tree mant[LEN_CTX];
} nci_rc_comp_model;

/* A value of at most SMALL_BITS bits: "same as the reference" (multi-component
 * fields only), then the value through a binary tree. */
typedef struct nci_rc_small_model {
    nci_bit_model same;
    nci_bit_model tree[1u << SMALL_BITS];
} nci_rc_small_model;

enum { CLASS_INT, CLASS_FLOAT, CLASS_ANGLE, CLASS_VEC, CLASS_QUAT, CLASS_COUNT };
enum { SMALL_BOOL, SMALL_QUAT_INDEX, SMALL_OTHER, SMALL_COUNT };
/* Update contexts by what the baseline knew of the component: 0 nothing (new
 * in the baseline, or no usable tick span), 1 still, 2..6 moved by 1..3,
 * 4..15, 16..63, 64..255, 256 or more steps; 7 a quaternion whose largest
 * component changed (re-expressed reference). */
#define BUCKETS 8u

struct nci_range_models {
    nci_rc_mag_model removal_count, removal_gap, creation_count, creation_gap, type, tick;
    nci_bit_model tick_zero, tick_sign;
    /* [previous entity changed][baseline motion flag][the next baseline entity moved] */
    nci_bit_model changed[2][3][2];
    nci_bit_model scale[CLASS_COUNT][7]; /* prediction scale choice, a 3-level tree */
    /* [creation][field position][field moved in baseline][previous field changed] */
    nci_bit_model mask[2][MASK_CTX][3][2];
    nci_rc_comp_model update[CLASS_COUNT][BUCKETS];
    nci_rc_comp_model create[CLASS_COUNT];
    nci_rc_small_model small_update[SMALL_COUNT], small_create[SMALL_COUNT];
};

/* How one component is predicted and which models code it. */
typedef struct nci_rc_comp_plan {
    uint32_t pred;         /* predicted code */
    nci_rc_comp_model *cm; /* NULL: a small value (nci_rc_small_model) */
    unsigned sign_ctx;
} nci_rc_comp_plan;

/* Entity context for predicting its components: the baseline entity's
 * motion flag and motion, and the spans. */
typedef struct nci_rc_entity_ctx {
    bool creation;
    uint8_t base_flag;     /* NCI_MOTION_* of the baseline entity (NEW for creations) */
    const int32_t *motion; /* the baseline entity's motion (valid when base_flag is MOVED) */
    bool spans_ok;
    uint32_t span_now, span_base;
    const uint8_t *eighths; /* [CLASS_COUNT] this snapshot's prediction scales, in eighths */
} nci_rc_entity_ctx;

/* ---- small integer helpers ---- */

static inline uint32_t nci_rc_width_mask(unsigned bits)
{
    return bits >= 32 ? 0xffffffffu : (1u << bits) - 1u;
}

/* (a - b) mod 2^w as a signed w-bit number. */
static inline int64_t nci_rc_signed_diff(uint32_t a, uint32_t b, unsigned w)
{
    uint32_t d = (a - b) & nci_rc_width_mask(w);
    int64_t sd = (int64_t)d;
    if ((d >> (w - 1)) & 1u)
        sd -= (int64_t)1 << w;
    return sd;
}

static inline unsigned nci_rc_bit_length(uint32_t v)
{
#if defined(__GNUC__) || defined(__clang__)
    return v ? 32u - (unsigned)__builtin_clz(v) : 0u;
#else
    unsigned n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
#endif
}

/* ---- models and predictions (snapshot_range_model.c) ---- */

/* The models a snapshot starts from: its baseline's (the client made them
 * decoding the baseline it acknowledged), fresh without one. */
void nci_range_models_start(nci_range_models *m, const nci_view *base, bool has_base);
nci_rc_entity_ctx nci_range_update_ctx(const nci_view *base, uint32_t bp, uint32_t span_now,
                                       uint32_t stride, const uint8_t *eighths);
/* Whether the baseline entity after position bp moved in the baseline. */
unsigned nci_range_next_moved(const nci_view *b, uint32_t bp);
extern const nci_rc_entity_ctx nci_range_creation_ctx;
extern const uint8_t nci_range_scale_eighths[SCALE_CHOICES];
/* Picks the prediction scale (an index into nci_range_scale_eighths) per class. */
void nci_range_choose_scales(netcore_snapshot_server *server, const nci_range_body_plan *plan,
                             uint8_t out_choice[CLASS_COUNT]);

/* The reference rotation's smallest-three code `comp` (1..3) re-expressed
 * with new_largest as the largest component (snapshot_range_model.c). */
uint32_t nci_range_quat_reexpressed(const uint32_t *ref, uint32_t new_largest, unsigned comp,
                                    unsigned w);

/* ---- per-component planning, inline: run for every coded component ---- */

static inline unsigned nci_rc_field_class(netcore_field_kind kind)
{
    switch (kind) {
    case NETCORE_FIELD_INT:
        return CLASS_INT;
    case NETCORE_FIELD_FLOAT:
        return CLASS_FLOAT;
    case NETCORE_FIELD_ANGLE:
        return CLASS_ANGLE;
    case NETCORE_FIELD_QUAT:
        return CLASS_QUAT;
    default:
        return CLASS_VEC;
    }
}

static inline unsigned nci_rc_small_class(const nci_field *f, unsigned comp)
{
    if (f->desc.kind == NETCORE_FIELD_BOOL)
        return SMALL_BOOL;
    if (f->desc.kind == NETCORE_FIELD_QUAT && comp == 0)
        return SMALL_QUAT_INDEX;
    return SMALL_OTHER;
}

/* The baseline motion of a component scaled to this snapshot: motion *
 * (eighths / SCALE_DEN) * (span_now / span_base), rounded half away from 0.
 * Pure integer arithmetic, so both ends agree; equal spans (the usual case:
 * a steady snapshot rate and ack delay) skip the division. */
static inline int64_t nci_rc_scale_motion(int32_t motion, unsigned eighths, uint32_t span_now,
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

static inline unsigned nci_rc_motion_bucket(int64_t motion)
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

/* How component `comp` of field f is predicted and coded (cur: the entity's
 * components as far as known; the decoder's hold the components before it). */
static inline nci_rc_comp_plan nci_range_plan_comp(nci_range_models *m, const nci_rc_entity_ctx *e,
                                                   const nci_field *f, unsigned comp, unsigned w,
                                                   const uint32_t *ref, const uint32_t *cur)
{
    nci_rc_comp_plan p = {.pred = ref[f->first_comp + comp], .cm = NULL, .sign_ctx = 0};
    if (w <= SMALL_BITS)
        return p;
    unsigned cls = nci_rc_field_class(f->desc.kind);
    if (e->creation) {
        p.cm = &m->create[cls];
        return p;
    }
    unsigned bucket = 0;
    bool quat_turned = f->desc.kind == NETCORE_FIELD_QUAT &&
                       (cur[f->first_comp] != ref[f->first_comp] ||
                        (e->base_flag == NCI_MOTION_MOVED && e->motion[f->first_comp] != 0));
    if (f->desc.kind == NETCORE_FIELD_QUAT && cur[f->first_comp] != ref[f->first_comp]) {
        p.pred = nci_range_quat_reexpressed(&ref[f->first_comp], cur[f->first_comp] & 3u, comp, w);
        p.cm = &m->update[cls][BUCKETS - 1];
        return p;
    }
    if (e->spans_ok && e->base_flag == NCI_MOTION_STILL) {
        bucket = 1;
    } else if (e->spans_ok && e->base_flag == NCI_MOTION_MOVED && !quat_turned) {
        int32_t mv = e->motion[f->first_comp + comp];
        bucket = nci_rc_motion_bucket(mv);
        if (f->desc.kind != NETCORE_FIELD_INT) {
            int64_t step = nci_rc_scale_motion(mv, e->eighths[cls], e->span_now, e->span_base);
            p.pred = (uint32_t)((int64_t)p.pred + step) & nci_rc_width_mask(w);
            p.sign_ctx = step > 0 ? 1u : (step < 0 ? 2u : 0u);
        }
    }
    p.cm = &m->update[cls][bucket];
    return p;
}

static inline nci_rc_small_model *nci_range_small_for(nci_range_models *m,
                                                      const nci_rc_entity_ctx *e,
                                                      const nci_field *f, unsigned comp)
{
    return e->creation ? &m->small_create[nci_rc_small_class(f, comp)]
                       : &m->small_update[nci_rc_small_class(f, comp)];
}

/* The mask context of a field: did the baseline entity move it? */
static inline unsigned nci_range_field_moved(const nci_rc_entity_ctx *e, const nci_field *f)
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

#endif /* NETCORE_SNAPSHOT_RANGE_INTERNAL_H */
