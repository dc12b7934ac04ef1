/* Range-coded snapshot bodies: the same removals, creations and updates as the
 * bit-packed format, coded with adaptive binary models (range_coder.h) that
 * carry over from the acknowledged baseline, and component values predicted
 * from the motion the baseline itself carried (snapshot_range_model.c).
 * Wire format: docs/snapshot-format.md, "Range-coded snapshots". */
#include <string.h>

#include "replication/snapshot_range_internal.h"

/* ---- encoding ---- */

static void put_mag_with(nci_range_encoder *enc, nci_bit_model *len, nci_rc_mant_tree *mant,
                         uint32_t m, unsigned max_nb)
{
    unsigned nb = nci_rc_bit_length(m) - 1;
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

static void put_mag(nci_range_encoder *enc, nci_rc_mag_model *mm, uint32_t m, unsigned max_nb)
{
    put_mag_with(enc, mm->len, mm->mant, m, max_nb);
}

/* The neighbour context that a residual gives the next component. */
static unsigned neigh_after(uint64_t magnitude)
{
    return magnitude == 0 ? 1u : (magnitude < 8 ? 2u : 3u);
}

static void put_small(nci_range_encoder *enc, nci_rc_small_model *sm, uint32_t value, unsigned w)
{
    unsigned node = 1;
    for (unsigned i = w; i-- > 0;) {
        unsigned bit = (value >> i) & 1u;
        nci_range_encode_bit(enc, &sm->tree[node], bit);
        node = node * 2 + bit;
    }
}

/* Returns the neighbour context for the field's next component. */
static unsigned put_comp(nci_range_encoder *enc, nci_range_models *m, const nci_rc_entity_ctx *e,
                         const nci_field *f, unsigned comp, unsigned w, const uint32_t *ref,
                         const uint32_t *cur, unsigned neigh)
{
    uint32_t v = cur[f->first_comp + comp];
    nci_rc_comp_plan p = nci_range_plan_comp(m, e, f, comp, w, ref, cur);
    if (!p.cm) {
        nci_rc_small_model *sm = nci_range_small_for(m, e, f, comp);
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
    int64_t r = nci_rc_signed_diff(v, p.pred, w);
    nci_range_encode_bit(enc, &p.cm->zero[neigh], r != 0);
    if (r == 0)
        return neigh_after(0);
    uint32_t mag = (uint32_t)(r < 0 ? -r : r);
    nci_range_encode_bit(enc, &p.cm->sign[p.sign_ctx], r < 0);
    put_mag_with(enc, p.cm->len[neigh], p.cm->mant, mag, w - 1);
    return neigh_after(mag);
}

/* mask: the fields that differ from ref (the candidate's, from classify()). */
static void put_fields(nci_range_encoder *enc, nci_range_models *m, const netcore_schema *schema,
                       const nci_type *t, const nci_rc_entity_ctx *e, const uint32_t *ref,
                       const uint32_t *cur, uint64_t mask)
{
    uint32_t field_count = t->field_count;
    bool any = false;
    unsigned prev = 0;
    for (uint32_t i = 0; i < field_count; i++) {
        const nci_field *f = &schema->fields[t->first_field + i];
        bool changed = (mask >> i) & 1u;
        /* An update changes at least one field: the last is implied if no other did. */
        if (e->creation || any || i + 1 < field_count) {
            unsigned pos = i < MASK_CTX ? i : MASK_CTX - 1;
            nci_range_encode_bit(enc, &m->mask[e->creation][pos][nci_range_field_moved(e, f)][prev],
                                 changed);
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

static void put_creation(nci_range_encoder *enc, nci_range_models *m,
                         netcore_snapshot_server *server, const nci_candidate *c)
{
    uint32_t index = c->index;
    const netcore_schema *schema = server->schema;
    const nci_world_slot *slot = &server->slots[index];
    const nci_type *t = &schema->types[slot->type];
    put_mag(enc, &m->type, (uint32_t)slot->type + 1, schema->type_bits);
    nci_range_encode_direct(enc, slot->gen, NCI_GENERATION_BITS);
    put_fields(enc, m, schema, t, &nci_range_creation_ctx, &schema->comp_default[t->first_comp],
               nci_world_state(server, index), c->mask);
}

bool nci_range_body_write(netcore_snapshot_server *server, const nci_range_body_plan *plan,
                          uint8_t *out, size_t capacity_bytes, size_t *out_size,
                          unsigned *out_dropped)
{
    nci_range_models *m = plan->models;
    const nci_view *b = plan->base;
    const nci_candidate *cands = plan->cands;
    uint32_t stride = server->stride;
    nci_range_models_start(m, b, plan->has_base);
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
    nci_range_choose_scales(server, plan, choice);
    for (unsigned cls = 0; cls < CLASS_COUNT; cls++) {
        unsigned node = 1;
        for (unsigned i = SCALE_CHOICE_BITS; i-- > 0;) {
            unsigned bit = (choice[cls] >> i) & 1u;
            nci_range_encode_bit(&enc, &m->scale[cls][node - 1], bit);
            node = node * 2 + bit;
        }
        eighths[cls] = nci_range_scale_eighths[choice[cls]];
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
            put_creation(&enc, m, server, &cands[k]);
            k++;
            continue;
        }
        bool changed = k < plan->cand_count && cands[k].base_pos == (int32_t)bp;
        nci_range_encode_bit(
            &enc, &m->changed[prev_changed][b->motion_flag[bp]][nci_range_next_moved(b, bp)],
            changed);
        prev_changed = changed;
        if (changed) {
            const nci_type *t = &server->schema->types[b->type[bp]];
            nci_rc_entity_ctx e = nci_range_update_ctx(b, bp, plan->span_ticks, stride, eighths);
            put_fields(&enc, m, server->schema, t, &e, &b->state[(size_t)bp * stride],
                       nci_world_state(server, cands[k].index), cands[k].mask);
            k++;
        }
        bp++;
    }
    *out_size = nci_range_encoder_finish(&enc);
    *out_dropped = enc.dropped;
    return !enc.failed;
}

/* ---- decoding ---- */

static uint32_t get_mag_with(nci_range_decoder *dec, nci_bit_model *len, nci_rc_mant_tree *mant,
                             unsigned max_nb)
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

static uint32_t get_mag(nci_range_decoder *dec, nci_rc_mag_model *mm, unsigned max_nb)
{
    return get_mag_with(dec, mm->len, mm->mant, max_nb);
}

static uint32_t get_small(nci_range_decoder *dec, nci_rc_small_model *sm, unsigned w)
{
    unsigned node = 1;
    for (unsigned i = 0; i < w; i++)
        node = node * 2 + nci_range_decode_bit(dec, &sm->tree[node]);
    return node - (1u << w);
}

/* Decodes component `comp` of field f into out (the components before it are
 * already there: a quaternion's index decides its prediction). */
static unsigned get_comp(nci_range_decoder *dec, nci_range_models *m, const nci_rc_entity_ctx *e,
                         const nci_field *f, unsigned comp, unsigned w, const uint32_t *ref,
                         uint32_t *out, unsigned neigh)
{
    nci_rc_comp_plan p = nci_range_plan_comp(m, e, f, comp, w, ref, out);
    uint32_t *v = &out[f->first_comp + comp];
    if (!p.cm) {
        nci_rc_small_model *sm = nci_range_small_for(m, e, f, comp);
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
    *v = (negative ? p.pred - mag : p.pred + mag) & nci_rc_width_mask(w);
    return neigh_after(mag);
}

static bool get_fields(nci_range_decoder *dec, nci_range_models *m, const netcore_schema *schema,
                       const nci_type *t, const nci_rc_entity_ctx *e, const uint32_t *ref,
                       uint32_t *out)
{
    uint32_t field_count = t->field_count;
    bool any = false;
    unsigned prev = 0;
    for (uint32_t i = 0; i < field_count; i++) {
        const nci_field *f = &schema->fields[t->first_field + i];
        bool changed = true;
        if (e->creation || any || i + 1 < field_count) {
            unsigned pos = i < MASK_CTX ? i : MASK_CTX - 1;
            changed = nci_range_decode_bit(
                dec, &m->mask[e->creation][pos][nci_range_field_moved(e, f)][prev]);
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
        if (memcmp(&ref[f->first_comp], &out[f->first_comp], f->comp_count * sizeof(uint32_t)) == 0)
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
static bool get_creation_slots(nci_range_decoder *dec, nci_range_body_read *r, uint32_t *out_count)
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
    if (!get_fields(dec, r->models, schema, t, &nci_range_creation_ctx,
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
    unsigned changed = nci_range_decode_bit(
        dec, &r->models->changed[*prev_changed][b->motion_flag[bp]][nci_range_next_moved(b, bp)]);
    *prev_changed = changed;
    if (!changed) {
        nci_view_append(out, b, bp, r->stride);
        return !dec->failed;
    }
    const nci_type *t = &r->schema->types[b->type[bp]];
    uint32_t at = out->count;
    uint32_t *state = &out->state[(size_t)at * r->stride];
    memset(state, 0, r->stride * sizeof *state);
    nci_rc_entity_ctx e = nci_range_update_ctx(b, bp, r->span_ticks, r->stride, r->eighths);
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
    nci_range_models_start(r->models, b, r->has_base);
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
        eighths[cls] = nci_range_scale_eighths[node - SCALE_CHOICES];
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
