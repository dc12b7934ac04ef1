/* Snapshot interpolation: per-entity state buffers, an adaptive render
 * delay, per-kind field interpolation, bounded extrapolation. */
#include "netcore/interp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "replication/snapshot_internal.h"

#define PI_F 3.14159265358979f
#define TWO_PI_F 6.28318530717959f

/* A type's field layout is the schema's own (replication's nci_type and
 * nci_field): the interpolator keeps its states in the same component order,
 * so it never re-derives offsets or sizes. Only the teleport rule is its own. */
typedef struct type_info {
    const nci_type *layout; /* fields, component counts and offsets, in the schema */
    netcore_interp_type_config teleport;
} type_info;

typedef struct entity_slot {
    netcore_entity_id id; /* NETCORE_ENTITY_NONE: free */
    uint16_t type;
    bool removed;
    bool held; /* listed in netcore_interp.held */
    bool extrapolated;
    uint32_t removed_tick;
    uint32_t head;  /* ring index of the oldest state */
    uint32_t count; /* states held */
    uint64_t stamp; /* push number that last saw it */
} entity_slot;

struct netcore_interp {
    netcore_interp_config config;
    double tick_us;
    double interval_us;
    uint32_t components; /* most components of any type (the schema's max_comps) */
    uint32_t type_count;
    type_info *types;
    entity_slot *slots;
    uint32_t *ticks;   /* max_entities * buffer_length */
    uint32_t *states;  /* max_entities * buffer_length * components */
    uint32_t *outputs; /* max_entities * components */
    uint32_t *visible; /* slot indexes of displayed entities */
    uint32_t visible_count;
    /* Slot indexes of every slot in use (and of some freed since), ascending:
     * push and update walk these, not all max_entities slots, so a client
     * that sees a few entities of a large world pays for those few. */
    uint32_t *held;
    uint32_t held_count;
    double *arrivals; /* apparent arrival delays, us */
    double *sorted;
    double arrival_delay_us; /* high percentile of arrivals, refreshed on push */
    uint32_t arrival_count;
    uint32_t arrival_next;
    bool has_push;
    uint32_t newest_tick;
    uint64_t push_stamp;
    bool has_render;
    double render_us;
    double last_server_us;
    double delay_us;
    double allowance_us;
    bool was_past_newest;
    netcore_interp_stats stats;
};

/* ---- helpers ---- */

/* Field i of type t, as the schema lays it out. */
static const nci_field *field_at(const netcore_interp *ip, const type_info *t, uint32_t i)
{
    return &ip->config.schema->fields[t->layout->first_field + i];
}

static float as_float(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static uint32_t from_float(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static float wrap_angle(float a)
{
    a = fmodf(a + PI_F, TWO_PI_F);
    if (a < 0.0f)
        a += TWO_PI_F;
    return a - PI_F;
}

static uint32_t *state_of(const netcore_interp *ip, uint32_t slot, uint32_t n)
{
    const entity_slot *e = &ip->slots[slot];
    size_t ring = (e->head + n) % ip->config.buffer_length;
    return ip->states + ((size_t)slot * ip->config.buffer_length + ring) * ip->components;
}

static uint32_t tick_of(const netcore_interp *ip, uint32_t slot, uint32_t n)
{
    const entity_slot *e = &ip->slots[slot];
    return ip
        ->ticks[(size_t)slot * ip->config.buffer_length + (e->head + n) % ip->config.buffer_length];
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* High percentile (about the 94th) of the apparent arrival delays: the
 * buffer must cover late snapshots, not only typical ones. */
static void refresh_arrival_delay(netcore_interp *ip)
{
    uint32_t n = ip->arrival_count;
    memcpy(ip->sorted, ip->arrivals, n * sizeof *ip->sorted);
    qsort(ip->sorted, n, sizeof *ip->sorted, compare_doubles);
    double d = ip->sorted[n - 1 - n / 16];
    ip->arrival_delay_us = d > 0.0 ? d : 0.0;
}

/* Whether an entity jumped between two states (teleport field changed, or a
 * positional field moved farther than the snap distance). */
static bool is_teleport(const netcore_interp *ip, const type_info *t, const uint32_t *a,
                        const uint32_t *b)
{
    uint16_t tf = t->teleport.teleport_field;
    if (tf != NETCORE_INTERP_NO_FIELD) {
        const nci_field *f = field_at(ip, t, tf);
        if (a[f->first_comp] != b[f->first_comp])
            return true;
    }
    float snap = t->teleport.snap_distance;
    if (snap <= 0.0f)
        return false;
    for (uint32_t i = 0; i < t->layout->field_count; i++) {
        const nci_field *f = field_at(ip, t, i);
        if (f->desc.kind != NETCORE_FIELD_FLOAT && f->desc.kind != NETCORE_FIELD_VEC2 &&
            f->desc.kind != NETCORE_FIELD_VEC3)
            continue;
        float sum = 0.0f;
        for (uint32_t c = 0; c < f->comp_count; c++) {
            float d = as_float(b[f->first_comp + c]) - as_float(a[f->first_comp + c]);
            sum += d * d;
        }
        if (sum > snap * snap)
            return true;
    }
    return false;
}

/* out = a blended toward b by s. When extrapolating (s beyond 1), FLOAT, VEC
 * and ANGLE fields continue the motion and QUAT, INT and BOOL fields hold b,
 * the newest state. */
static void blend(const netcore_interp *ip, const type_info *t, const uint32_t *a,
                  const uint32_t *b, float s, bool extrapolating, uint32_t *out)
{
    for (uint32_t i = 0; i < t->layout->field_count; i++) {
        const nci_field *f = field_at(ip, t, i);
        uint32_t o = f->first_comp;
        switch ((netcore_field_kind)f->desc.kind) {
        case NETCORE_FIELD_FLOAT:
        case NETCORE_FIELD_VEC2:
        case NETCORE_FIELD_VEC3:
            for (uint32_t c = 0; c < f->comp_count; c++) {
                float x = as_float(a[o + c]), y = as_float(b[o + c]);
                out[o + c] = from_float(x + (y - x) * s);
            }
            break;
        case NETCORE_FIELD_ANGLE: {
            float x = as_float(a[o]);
            float d = wrap_angle(as_float(b[o]) - x);
            out[o] = from_float(wrap_angle(x + d * s));
            break;
        }
        case NETCORE_FIELD_QUAT: {
            if (extrapolating) {
                memcpy(out + o, b + o, 4 * sizeof *out);
                break;
            }
            float q[4], r[4], dot = 0.0f;
            for (uint32_t c = 0; c < 4; c++) {
                q[c] = as_float(a[o + c]);
                r[c] = as_float(b[o + c]);
                dot += q[c] * r[c];
            }
            /* q and -q are the same rotation: blend along the shorter arc. */
            float sign = dot < 0.0f ? -1.0f : 1.0f, len = 0.0f;
            for (uint32_t c = 0; c < 4; c++) {
                q[c] = q[c] + (sign * r[c] - q[c]) * s;
                len += q[c] * q[c];
            }
            len = len > 0.0f ? 1.0f / sqrtf(len) : 0.0f;
            for (uint32_t c = 0; c < 4; c++)
                out[o + c] = from_float(len > 0.0f ? q[c] * len : as_float(a[o + c]));
            break;
        }
        default: /* INT, BOOL: the older value holds until the newer tick */
            out[o] = extrapolating ? b[o] : a[o];
            break;
        }
    }
}

/* Computes one entity's displayed state at render tick rt. */
static void render_entity(netcore_interp *ip, uint32_t slot, double rt, double max_extra_ticks)
{
    entity_slot *e = &ip->slots[slot];
    const type_info *t = &ip->types[e->type];
    uint32_t *out = ip->outputs + (size_t)slot * ip->components;
    size_t bytes = t->layout->comp_count * sizeof *out;
    uint32_t n = e->count;
    e->extrapolated = rt > (double)tick_of(ip, slot, n - 1);
    if (rt <= (double)tick_of(ip, slot, 0)) {
        memcpy(out, state_of(ip, slot, 0), bytes); /* new entity: hold its first state */
        return;
    }
    if (n == 1) {
        memcpy(out, state_of(ip, slot, 0), bytes);
        return;
    }
    for (uint32_t i = 0; i + 1 < n; i++) {
        uint32_t ta = tick_of(ip, slot, i), tb = tick_of(ip, slot, i + 1);
        if (rt > (double)tb)
            continue;
        const uint32_t *a = state_of(ip, slot, i), *b = state_of(ip, slot, i + 1);
        if (is_teleport(ip, t, a, b))
            memcpy(out, rt >= (double)tb ? b : a, bytes);
        else
            blend(ip, t, a, b, (float)((rt - (double)ta) / (double)(tb - ta)), false, out);
        return;
    }
    /* Past the newest state: extrapolate from the last two, within the limit. */
    uint32_t ta = tick_of(ip, slot, n - 2), tb = tick_of(ip, slot, n - 1);
    const uint32_t *a = state_of(ip, slot, n - 2), *b = state_of(ip, slot, n - 1);
    double ahead = rt - (double)tb;
    if (ahead > max_extra_ticks)
        ahead = max_extra_ticks;
    if (e->removed || is_teleport(ip, t, a, b)) {
        memcpy(out, b, bytes);
        return;
    }
    blend(ip, t, a, b, (float)(1.0 + ahead / (double)(tb - ta)), true, out);
}

/* ---- public ---- */

void netcore_interp_config_default(netcore_interp_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->max_entities = 1024;
    config->buffer_length = 16;
    config->tick_rate_hz = 60;
    config->snapshot_rate_hz = 30;
    config->initial_delay_intervals = 2.0f;
    config->max_delay_ms = 500.0f;
    config->max_extrapolation_ms = 100.0f;
    config->shrink_ms_per_s = 5.0f;
    config->max_rate = 0.1f;
    config->jitter_window = 32;
}

static bool config_valid(const netcore_interp_config *c)
{
    return c->schema && netcore_schema_is_finalized(c->schema) && c->max_entities >= 1 &&
           c->max_entities <= 65536 && c->buffer_length >= 3 && c->buffer_length <= 256 &&
           c->tick_rate_hz >= 1 && c->tick_rate_hz <= 1000 && c->snapshot_rate_hz >= 1 &&
           c->snapshot_rate_hz <= c->tick_rate_hz && c->initial_delay_intervals >= 1.0f &&
           c->initial_delay_intervals <= 16.0f && c->min_delay_ms >= 0.0f &&
           c->max_delay_ms >= c->min_delay_ms && c->max_delay_ms <= 10000.0f &&
           c->max_extrapolation_ms >= 0.0f && c->max_extrapolation_ms <= 10000.0f &&
           c->shrink_ms_per_s >= 0.0f && c->shrink_ms_per_s <= 1000.0f && c->max_rate > 0.0f &&
           c->max_rate <= 1.0f && c->jitter_window >= 4 && c->jitter_window <= 1024;
}

static netcore_result build_layout(netcore_interp *ip)
{
    const netcore_schema *schema = ip->config.schema;
    ip->type_count = schema->type_count;
    ip->types =
        nci_calloc(&ip->config.allocator, ip->type_count ? ip->type_count : 1, sizeof *ip->types);
    if (!ip->types)
        return NETCORE_ERR_OUT_OF_MEMORY;
    for (uint32_t t = 0; t < ip->type_count; t++) {
        ip->types[t].layout = nci_schema_type(schema, (uint16_t)t);
        ip->types[t].teleport.teleport_field = NETCORE_INTERP_NO_FIELD;
    }
    ip->components = schema->max_comps;
    return NETCORE_OK;
}

netcore_result netcore_interp_create(const netcore_interp_config *config,
                                     netcore_interp **out_interp)
{
    if (!out_interp)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_interp = NULL;
    if (!config || !config_valid(config))
        return NETCORE_ERR_INVALID_ARGUMENT;
    const netcore_allocator *a = &config->allocator;
    netcore_interp *ip = nci_calloc(a, 1, sizeof *ip);
    if (!ip)
        return NETCORE_ERR_OUT_OF_MEMORY;
    ip->config = *config;
    ip->tick_us = 1e6 / (double)config->tick_rate_hz;
    ip->interval_us = 1e6 / (double)config->snapshot_rate_hz;
    netcore_result r = build_layout(ip);
    if (r != NETCORE_OK) {
        netcore_interp_destroy(ip);
        return r;
    }
    size_t slots = config->max_entities, ring = (size_t)slots * config->buffer_length;
    ip->slots = nci_calloc(a, slots, sizeof *ip->slots);
    ip->ticks = nci_calloc(a, ring, sizeof *ip->ticks);
    ip->states = nci_calloc(a, ring * ip->components, sizeof *ip->states);
    ip->outputs = nci_calloc(a, slots * ip->components, sizeof *ip->outputs);
    ip->visible = nci_calloc(a, slots, sizeof *ip->visible);
    ip->held = nci_calloc(a, slots, sizeof *ip->held);
    ip->arrivals = nci_calloc(a, config->jitter_window, sizeof *ip->arrivals);
    ip->sorted = nci_calloc(a, config->jitter_window, sizeof *ip->sorted);
    if (!ip->slots || !ip->ticks || !ip->states || !ip->outputs || !ip->visible || !ip->held ||
        !ip->arrivals || !ip->sorted) {
        netcore_interp_destroy(ip);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    netcore_interp_reset(ip);
    *out_interp = ip;
    return NETCORE_OK;
}

void netcore_interp_destroy(netcore_interp *interp)
{
    if (!interp)
        return;
    netcore_allocator allocator = interp->config.allocator;
    nci_free(&allocator, interp->types);
    nci_free(&allocator, interp->slots);
    nci_free(&allocator, interp->ticks);
    nci_free(&allocator, interp->states);
    nci_free(&allocator, interp->outputs);
    nci_free(&allocator, interp->visible);
    nci_free(&allocator, interp->held);
    nci_free(&allocator, interp->arrivals);
    nci_free(&allocator, interp->sorted);
    nci_free(&allocator, interp);
}

void netcore_interp_reset(netcore_interp *interp)
{
    if (!interp)
        return;
    memset(interp->slots, 0, interp->config.max_entities * sizeof *interp->slots);
    interp->visible_count = 0;
    interp->held_count = 0;
    interp->arrival_count = 0;
    interp->arrival_next = 0;
    interp->arrival_delay_us = 0.0;
    interp->has_push = false;
    interp->has_render = false;
    interp->was_past_newest = false;
    interp->allowance_us =
        ((double)interp->config.initial_delay_intervals - 1.0) * interp->interval_us;
    interp->delay_us = interp->config.initial_delay_intervals * interp->interval_us;
}

netcore_result netcore_interp_set_type_config(netcore_interp *interp, uint16_t type,
                                              const netcore_interp_type_config *type_config)
{
    if (!interp || !type_config || type >= interp->type_count ||
        !(type_config->snap_distance >= 0.0f) || !isfinite(type_config->snap_distance))
        return NETCORE_ERR_INVALID_ARGUMENT;
    type_info *t = &interp->types[type];
    uint16_t tf = type_config->teleport_field;
    if (tf != NETCORE_INTERP_NO_FIELD) {
        if (tf >= t->layout->field_count)
            return NETCORE_ERR_INVALID_ARGUMENT;
        netcore_field_kind kind = field_at(interp, t, tf)->desc.kind;
        if (kind != NETCORE_FIELD_INT && kind != NETCORE_FIELD_BOOL)
            return NETCORE_ERR_INVALID_ARGUMENT;
    }
    t->teleport = *type_config;
    return NETCORE_OK;
}

/* Reads one entity's fields from the client's world into dst. */
static bool read_entity(const netcore_interp *ip, const netcore_snapshot_client *client,
                        netcore_entity_id id, const type_info *t, uint32_t *dst)
{
    for (uint32_t i = 0; i < t->layout->field_count; i++) {
        const nci_field *f = field_at(ip, t, i);
        uint16_t field = (uint16_t)i;
        uint32_t *o = dst + f->first_comp;
        netcore_result r;
        switch ((netcore_field_kind)f->desc.kind) {
        case NETCORE_FIELD_INT: {
            int64_t v = 0;
            r = netcore_snapshot_client_get_int(client, id, field, &v);
            o[0] = (uint32_t)v; /* at most 32 bits: the low word keeps it exactly */
            break;
        }
        case NETCORE_FIELD_BOOL: {
            bool v = false;
            r = netcore_snapshot_client_get_bool(client, id, field, &v);
            o[0] = v ? 1u : 0u;
            break;
        }
        case NETCORE_FIELD_FLOAT:
        case NETCORE_FIELD_ANGLE: {
            float v = 0.0f;
            r = netcore_snapshot_client_get_float(client, id, field, &v);
            o[0] = from_float(v);
            break;
        }
        case NETCORE_FIELD_QUAT: {
            netcore_quat q = {0.0f, 0.0f, 0.0f, 1.0f};
            r = netcore_snapshot_client_get_quat(client, id, field, &q);
            o[0] = from_float(q.x);
            o[1] = from_float(q.y);
            o[2] = from_float(q.z);
            o[3] = from_float(q.w);
            break;
        }
        default: {
            netcore_vec3 v = {0.0f, 0.0f, 0.0f};
            r = netcore_snapshot_client_get_vec3(client, id, field, &v);
            o[0] = from_float(v.x);
            o[1] = from_float(v.y);
            if (f->desc.kind == NETCORE_FIELD_VEC3)
                o[2] = from_float(v.z);
            break;
        }
        }
        if (r != NETCORE_OK)
            return false;
    }
    return true;
}

/* Puts the slots listed since first_new among the ascending ones before
 * them (insertion: few new entities per push, and the list stays in slot
 * order so entities are displayed, and entity_at counts, in slot order). */
static void sort_new_held(netcore_interp *ip, uint32_t first_new)
{
    for (uint32_t k = first_new; k < ip->held_count; k++) {
        uint32_t s = ip->held[k], j = k;
        for (; j > 0 && ip->held[j - 1] > s; j--)
            ip->held[j] = ip->held[j - 1];
        ip->held[j] = s;
    }
}

netcore_result netcore_interp_push(netcore_interp *interp, const netcore_snapshot_client *client,
                                   double arrival_server_time_us,
                                   netcore_interp_push_outcome *out_outcome)
{
    if (out_outcome)
        *out_outcome = NETCORE_INTERP_IGNORED_OLD;
    if (!interp || !client || !isfinite(arrival_server_time_us))
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint32_t tick = 0;
    if (netcore_snapshot_client_sequence(client, NULL, &tick) != NETCORE_OK)
        return NETCORE_ERR_NOT_FOUND;
    if (interp->has_push && tick <= interp->newest_tick) {
        /* Late or repeated: normal on a lossy link, the buffer has it or newer. */
        interp->stats.snapshots_ignored++;
        return NETCORE_OK;
    }
    if (out_outcome)
        *out_outcome = NETCORE_INTERP_PUSHED;
    interp->has_push = true;
    interp->newest_tick = tick;
    interp->push_stamp++;
    interp->stats.snapshots_pushed++;
    interp->arrivals[interp->arrival_next] =
        arrival_server_time_us - (double)tick * interp->tick_us;
    interp->arrival_next = (interp->arrival_next + 1) % interp->config.jitter_window;
    if (interp->arrival_count < interp->config.jitter_window)
        interp->arrival_count++;
    refresh_arrival_delay(interp);

    uint32_t count = netcore_snapshot_client_entity_count(client);
    uint32_t length = interp->config.buffer_length;
    uint32_t first_new = interp->held_count;
    for (uint32_t i = 0; i < count; i++) {
        netcore_entity_id id;
        uint16_t type;
        if (netcore_snapshot_client_entity_at(client, i, &id, &type) != NETCORE_OK)
            continue;
        uint32_t slot = id & 0xFFFFu;
        if (slot >= interp->config.max_entities || type >= interp->type_count) {
            interp->stats.entities_dropped++;
            continue;
        }
        entity_slot *e = &interp->slots[slot];
        if (e->id != id || e->type != type) {
            bool held = e->held;
            memset(e, 0, sizeof *e);
            e->id = id;
            e->type = type;
            e->held = true;
            if (!held)
                interp->held[interp->held_count++] = slot;
        }
        if (e->count == length) {
            e->head = (e->head + 1) % length;
            e->count--;
        }
        uint32_t n = e->count;
        uint32_t ring = (e->head + n) % length;
        interp->ticks[(size_t)slot * length + ring] = tick;
        if (!read_entity(interp, client, id, &interp->types[type], state_of(interp, slot, n))) {
            interp->stats.entities_dropped++;
            if (n == 0)
                e->id = NETCORE_ENTITY_NONE;
            continue;
        }
        e->count++;
        if (n > 0 && is_teleport(interp, &interp->types[type], state_of(interp, slot, n - 1),
                                 state_of(interp, slot, n)))
            interp->stats.teleports++;
        e->removed = false;
        e->stamp = interp->push_stamp;
    }
    sort_new_held(interp, first_new);
    /* Entities missing from this world disappear once the render time gets here. */
    for (uint32_t k = 0; k < interp->held_count; k++) {
        entity_slot *e = &interp->slots[interp->held[k]];
        if (e->id != NETCORE_ENTITY_NONE && e->stamp != interp->push_stamp && !e->removed) {
            e->removed = true;
            e->removed_tick = tick;
        }
    }
    return NETCORE_OK;
}

/* Moves the delay toward its target, no faster than max_rate of elapsed time. */
static void adapt_delay(netcore_interp *ip, double elapsed_us)
{
    ip->allowance_us -= elapsed_us * (double)ip->config.shrink_ms_per_s / 1e6 * 1000.0;
    if (ip->allowance_us < 0.0)
        ip->allowance_us = 0.0;
    double target = ip->arrival_delay_us + ip->interval_us + ip->allowance_us;
    double lo = 1000.0 * (double)ip->config.min_delay_ms,
           hi = 1000.0 * (double)ip->config.max_delay_ms;
    target = target < lo ? lo : (target > hi ? hi : target);
    ip->stats.target_delay_ms = (float)(target / 1000.0);
    double step = elapsed_us * (double)ip->config.max_rate;
    double diff = target - ip->delay_us;
    ip->delay_us += diff > step ? step : (diff < -step ? -step : diff);
}

netcore_result netcore_interp_update(netcore_interp *interp, double server_time_us)
{
    if (!interp || !isfinite(server_time_us))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!interp->has_push)
        return NETCORE_ERR_STATE;
    if (!interp->has_render) {
        /* First frame: start at the measured delay rather than gliding to it. */
        interp->delay_us =
            interp->arrival_delay_us + interp->config.initial_delay_intervals * interp->interval_us;
        interp->last_server_us = server_time_us;
        interp->render_us = server_time_us - interp->delay_us;
        interp->has_render = true;
    }
    double elapsed = server_time_us - interp->last_server_us;
    if (elapsed < 0.0)
        elapsed = 0.0;
    interp->last_server_us =
        server_time_us > interp->last_server_us ? server_time_us : interp->last_server_us;
    adapt_delay(interp, elapsed);
    double render = server_time_us - interp->delay_us;
    double max_extra_ticks = 1000.0 * (double)interp->config.max_extrapolation_ms / interp->tick_us;
    double newest_us = (double)interp->newest_tick * interp->tick_us;
    if (render > interp->render_us) {
        interp->render_us = render;
    } else if (interp->render_us > newest_us + max_extra_ticks * interp->tick_us &&
               render <= newest_us) {
        /* Held past the newest state while the clock's render time is back
         * inside the buffer: the clock estimate stepped back (the server
         * paused and resumed its ticks, and the clock sync followed).
         * Render from the buffer again instead of holding until the old
         * render time comes round. */
        interp->render_us = render;
        interp->stats.clock_steps_back++;
    }

    double rt = interp->render_us / interp->tick_us;
    double past = rt - (double)interp->newest_tick;
    interp->stats.frames++;
    if (past > 0.0) {
        if (past > max_extra_ticks)
            interp->stats.frames_starved++;
        else
            interp->stats.frames_extrapolated++;
        if (!interp->was_past_newest) {
            /* The buffer ran dry: keep more of it from now on. */
            interp->stats.starvation_events++;
            interp->allowance_us += 0.5 * interp->interval_us;
        }
    }
    interp->was_past_newest = past > 0.0;

    interp->visible_count = 0;
    uint32_t kept = 0;
    for (uint32_t k = 0; k < interp->held_count; k++) {
        uint32_t s = interp->held[k];
        entity_slot *e = &interp->slots[s];
        if (e->id == NETCORE_ENTITY_NONE) {
            e->held = false;
            continue;
        }
        if (e->removed && rt >= (double)e->removed_tick) {
            memset(e, 0, sizeof *e);
            continue;
        }
        interp->held[kept++] = s;
        render_entity(interp, s, rt, max_extra_ticks);
        interp->visible[interp->visible_count++] = s;
    }
    interp->held_count = kept;
    interp->stats.delay_ms = (float)(interp->delay_us / 1000.0);
    interp->stats.arrival_delay_ms = (float)(interp->arrival_delay_us / 1000.0);
    interp->stats.extrapolated_pct =
        (float)(100.0 * (double)interp->stats.frames_extrapolated / (double)interp->stats.frames);
    interp->stats.starved_pct =
        (float)(100.0 * (double)interp->stats.frames_starved / (double)interp->stats.frames);
    return NETCORE_OK;
}

double netcore_interp_render_time_us(const netcore_interp *interp)
{
    return interp && interp->has_render ? interp->render_us : 0.0;
}

double netcore_interp_render_tick(const netcore_interp *interp)
{
    return interp && interp->has_render ? interp->render_us / interp->tick_us : 0.0;
}

uint32_t netcore_interp_entity_count(const netcore_interp *interp)
{
    return interp ? interp->visible_count : 0;
}

netcore_result netcore_interp_entity_at(const netcore_interp *interp, uint32_t index,
                                        netcore_entity_id *out_id, uint16_t *out_type,
                                        bool *out_extrapolated)
{
    if (!interp || index >= interp->visible_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const entity_slot *e = &interp->slots[interp->visible[index]];
    if (out_id)
        *out_id = e->id;
    if (out_type)
        *out_type = e->type;
    if (out_extrapolated)
        *out_extrapolated = e->extrapolated;
    return NETCORE_OK;
}

/* The displayed components of a field, after checking the entity and kind. */
static netcore_result output_of(const netcore_interp *ip, netcore_entity_id id, uint16_t field,
                                const nci_field **out_field, const uint32_t **out_values)
{
    if (!ip)
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint32_t slot = id & 0xFFFFu;
    if (id == NETCORE_ENTITY_NONE || slot >= ip->config.max_entities)
        return NETCORE_ERR_NOT_FOUND;
    const entity_slot *e = &ip->slots[slot];
    if (e->id != id || !ip->has_render || e->count == 0)
        return NETCORE_ERR_NOT_FOUND;
    const type_info *t = &ip->types[e->type];
    if (field >= t->layout->field_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_field = field_at(ip, t, field);
    *out_values = ip->outputs + (size_t)slot * ip->components + (*out_field)->first_comp;
    return NETCORE_OK;
}

netcore_result netcore_interp_get_int(const netcore_interp *interp, netcore_entity_id id,
                                      uint16_t field, int64_t *out_value)
{
    const nci_field *f;
    const uint32_t *v;
    netcore_result r = output_of(interp, id, field, &f, &v);
    if (r != NETCORE_OK)
        return r;
    if (!out_value || f->desc.kind != NETCORE_FIELD_INT)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_value = f->desc.is_signed ? (int64_t)(int32_t)v[0] : (int64_t)v[0];
    return NETCORE_OK;
}

netcore_result netcore_interp_get_float(const netcore_interp *interp, netcore_entity_id id,
                                        uint16_t field, float *out_value)
{
    const nci_field *f;
    const uint32_t *v;
    netcore_result r = output_of(interp, id, field, &f, &v);
    if (r != NETCORE_OK)
        return r;
    if (!out_value || (f->desc.kind != NETCORE_FIELD_FLOAT && f->desc.kind != NETCORE_FIELD_ANGLE))
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_value = as_float(v[0]);
    return NETCORE_OK;
}

netcore_result netcore_interp_get_bool(const netcore_interp *interp, netcore_entity_id id,
                                       uint16_t field, bool *out_value)
{
    const nci_field *f;
    const uint32_t *v;
    netcore_result r = output_of(interp, id, field, &f, &v);
    if (r != NETCORE_OK)
        return r;
    if (!out_value || f->desc.kind != NETCORE_FIELD_BOOL)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_value = v[0] != 0;
    return NETCORE_OK;
}

netcore_result netcore_interp_get_vec3(const netcore_interp *interp, netcore_entity_id id,
                                       uint16_t field, netcore_vec3 *out_value)
{
    const nci_field *f;
    const uint32_t *v;
    netcore_result r = output_of(interp, id, field, &f, &v);
    if (r != NETCORE_OK)
        return r;
    if (!out_value || (f->desc.kind != NETCORE_FIELD_VEC2 && f->desc.kind != NETCORE_FIELD_VEC3))
        return NETCORE_ERR_INVALID_ARGUMENT;
    out_value->x = as_float(v[0]);
    out_value->y = as_float(v[1]);
    out_value->z = f->desc.kind == NETCORE_FIELD_VEC3 ? as_float(v[2]) : 0.0f;
    return NETCORE_OK;
}

netcore_result netcore_interp_get_quat(const netcore_interp *interp, netcore_entity_id id,
                                       uint16_t field, netcore_quat *out_value)
{
    const nci_field *f;
    const uint32_t *v;
    netcore_result r = output_of(interp, id, field, &f, &v);
    if (r != NETCORE_OK)
        return r;
    if (!out_value || f->desc.kind != NETCORE_FIELD_QUAT)
        return NETCORE_ERR_INVALID_ARGUMENT;
    out_value->x = as_float(v[0]);
    out_value->y = as_float(v[1]);
    out_value->z = as_float(v[2]);
    out_value->w = as_float(v[3]);
    return NETCORE_OK;
}

netcore_result netcore_interp_get_stats(const netcore_interp *interp,
                                        netcore_interp_stats *out_stats)
{
    if (!interp || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = interp->stats;
    return NETCORE_OK;
}
