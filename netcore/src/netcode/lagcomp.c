/* Lag compensation: a ring of per-tick entity states and interpolated
 * queries into the recent past, bounded by a maximum rewind. */
#include "netcore/lagcomp.h"

#include <math.h>
#include <string.h>

#include "core/core_internal.h"

typedef struct tick_frame {
    uint32_t tick;
    bool valid;
    uint32_t *ids; /* max_entities; NETCORE_ENTITY_NONE (0) when not recorded */
    float *values; /* max_entities * components */
} tick_frame;

struct netcore_lagcomp {
    netcore_lagcomp_config config;
    tick_frame *frames; /* history_ticks, by tick % history_ticks */
    uint32_t *id_storage;
    float *value_storage;
    bool has_tick;
    uint32_t newest_tick;
    netcore_lagcomp_stats stats;
};

static tick_frame *frame_for(const netcore_lagcomp *lc, uint32_t tick)
{
    tick_frame *f = &lc->frames[tick % lc->config.history_ticks];
    return f->valid && f->tick == tick ? f : NULL;
}

/* The entity's state in a frame, or NULL when it was not recorded there. */
static const float *state_in(const netcore_lagcomp *lc, const tick_frame *f, uint32_t entity)
{
    if (!f)
        return NULL;
    uint32_t slot = entity & 0xFFFFu;
    if (f->ids[slot] != entity)
        return NULL;
    return f->values + (size_t)slot * lc->config.components;
}

void netcore_lagcomp_config_default(netcore_lagcomp_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->max_entities = 256;
    config->components = 3;
    config->history_ticks = 72;
}

netcore_result netcore_lagcomp_create(const netcore_lagcomp_config *config,
                                      netcore_lagcomp **out_lagcomp)
{
    if (!out_lagcomp)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_lagcomp = NULL;
    if (!config || config->max_entities < 1 || config->max_entities > 65536 ||
        config->components < 1 || config->components > NETCORE_LAGCOMP_MAX_COMPONENTS ||
        config->history_ticks < 2 || config->history_ticks > 4096 ||
        config->max_rewind_ticks >= config->history_ticks)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const netcore_allocator *a = &config->allocator;
    netcore_lagcomp *lc = nci_calloc(a, 1, sizeof *lc);
    if (!lc)
        return NETCORE_ERR_OUT_OF_MEMORY;
    lc->config = *config;
    if (lc->config.max_rewind_ticks == 0)
        lc->config.max_rewind_ticks = config->history_ticks - 1;
    size_t slots = (size_t)config->history_ticks * config->max_entities;
    lc->frames = nci_calloc(a, config->history_ticks, sizeof *lc->frames);
    lc->id_storage = nci_calloc(a, slots, sizeof *lc->id_storage);
    lc->value_storage = nci_calloc(a, slots * config->components, sizeof *lc->value_storage);
    if (!lc->frames || !lc->id_storage || !lc->value_storage) {
        netcore_lagcomp_destroy(lc);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < config->history_ticks; i++) {
        lc->frames[i].ids = lc->id_storage + (size_t)i * config->max_entities;
        lc->frames[i].values =
            lc->value_storage + (size_t)i * config->max_entities * config->components;
    }
    *out_lagcomp = lc;
    return NETCORE_OK;
}

void netcore_lagcomp_destroy(netcore_lagcomp *lagcomp)
{
    if (!lagcomp)
        return;
    netcore_allocator allocator = lagcomp->config.allocator;
    nci_free(&allocator, lagcomp->frames);
    nci_free(&allocator, lagcomp->id_storage);
    nci_free(&allocator, lagcomp->value_storage);
    nci_free(&allocator, lagcomp);
}

netcore_result netcore_lagcomp_begin_tick(netcore_lagcomp *lagcomp, uint32_t tick)
{
    if (!lagcomp)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (lagcomp->has_tick && (int32_t)(tick - lagcomp->newest_tick) <= 0)
        return NETCORE_ERR_STATE;
    tick_frame *f = &lagcomp->frames[tick % lagcomp->config.history_ticks];
    memset(f->ids, 0, lagcomp->config.max_entities * sizeof *f->ids);
    f->tick = tick;
    f->valid = true;
    lagcomp->newest_tick = tick;
    lagcomp->has_tick = true;
    lagcomp->stats.ticks_recorded++;
    return NETCORE_OK;
}

netcore_result netcore_lagcomp_record(netcore_lagcomp *lagcomp, uint32_t entity,
                                      const float *values)
{
    if (!lagcomp)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!values || entity == 0 || (entity & 0xFFFFu) >= lagcomp->config.max_entities) {
        lagcomp->stats.records_rejected++;
        return NETCORE_ERR_INVALID_ARGUMENT;
    }
    if (!lagcomp->has_tick) {
        lagcomp->stats.records_rejected++;
        return NETCORE_ERR_STATE;
    }
    tick_frame *f = &lagcomp->frames[lagcomp->newest_tick % lagcomp->config.history_ticks];
    uint32_t slot = entity & 0xFFFFu;
    f->ids[slot] = entity;
    memcpy(f->values + (size_t)slot * lagcomp->config.components, values,
           lagcomp->config.components * sizeof *values);
    return NETCORE_OK;
}

netcore_result netcore_lagcomp_newest_tick(const netcore_lagcomp *lagcomp, uint32_t *out_tick)
{
    if (!lagcomp || !out_tick)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!lagcomp->has_tick)
        return NETCORE_ERR_NOT_FOUND;
    *out_tick = lagcomp->newest_tick;
    return NETCORE_OK;
}

netcore_result netcore_lagcomp_query(netcore_lagcomp *lagcomp, uint32_t entity, double tick,
                                     float *out_values, netcore_lagcomp_result *out_result)
{
    if (!lagcomp || !out_values || !isfinite(tick))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!lagcomp->has_tick)
        return NETCORE_ERR_NOT_FOUND;
    lagcomp->stats.queries++;
    /* Work relative to the newest tick so that 32-bit wraparound and doubles
     * far from zero do not matter. */
    double rel = tick - (double)lagcomp->newest_tick;
    double min_rel = -(double)lagcomp->config.max_rewind_ticks;
    bool clamped = false;
    if (rel > 0.0) {
        rel = 0.0;
        clamped = true;
    } else if (rel < min_rel) {
        rel = min_rel;
        clamped = true;
    }
    if (clamped)
        lagcomp->stats.queries_clamped++;
    double floor_rel = floor(rel);
    float t = (float)(rel - floor_rel);
    uint32_t before_tick = lagcomp->newest_tick + (uint32_t)(int32_t)floor_rel;
    const float *a = state_in(lagcomp, frame_for(lagcomp, before_tick), entity);
    const float *b =
        t > 0.0f ? state_in(lagcomp, frame_for(lagcomp, before_tick + 1), entity) : NULL;
    uint32_t n = lagcomp->config.components;
    bool interpolated = false;
    if (a && b) {
        for (uint32_t i = 0; i < n; i++)
            out_values[i] = a[i] + (b[i] - a[i]) * t;
        interpolated = true;
    } else if (a || b) {
        memcpy(out_values, a ? a : b, n * sizeof *out_values);
    } else {
        lagcomp->stats.queries_missing++;
        return NETCORE_ERR_NOT_FOUND;
    }
    if (out_result) {
        out_result->tick = (double)lagcomp->newest_tick + rel;
        out_result->clamped = clamped;
        out_result->interpolated = interpolated;
    }
    return NETCORE_OK;
}

netcore_result netcore_lagcomp_get_stats(const netcore_lagcomp *lagcomp,
                                         netcore_lagcomp_stats *out_stats)
{
    if (!lagcomp || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = lagcomp->stats;
    return NETCORE_OK;
}
