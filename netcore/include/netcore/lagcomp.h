/** @file
 * netcore lag compensation: the server's recent history of entity states, so
 * a hit test can be made against the world as a client saw it.
 *
 * A client draws remote entities at its render time, about RTT / 2 plus its
 * interpolation delay behind the server (see interp.h). When it fires, it
 * sends the (fractional) server tick it was displaying, e.g. from
 * netcore_interp_render_tick(), inside its input. The server, processing that
 * input, asks this module where each target was at that tick: the states
 * recorded at the two bracketing ticks, interpolated linearly, exactly as the
 * client's interpolation computed them (record the quantized values the
 * snapshots carry for an exact match). The rewind is bounded by
 * max_rewind_ticks so that a client cannot claim to have seen the distant past.
 *
 * Each entity's state is `components` floats chosen by the game (a position,
 * perhaps a radius or a crouch height); angles are not treated specially.
 * Entity ids are those of snapshot.h: the low 16 bits (the slot) must be
 * below max_entities; the full id is checked, so a re-created entity is a
 * different entity.
 *
 * Memory is allocated at create only. Single-threaded.
 */
#ifndef NETCORE_LAGCOMP_H
#define NETCORE_LAGCOMP_H

#include <stdbool.h>
#include <stdint.h>

#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most floats in one entity's recorded state (netcore_lagcomp_config.components). */
#define NETCORE_LAGCOMP_MAX_COMPONENTS 16

/** Opaque handle: made by netcore_lagcomp_create(), freed by netcore_lagcomp_destroy(). */
typedef struct netcore_lagcomp netcore_lagcomp;

/** Settings of a netcore_lagcomp: fill with netcore_lagcomp_config_default(), change
 * what you need, pass to netcore_lagcomp_create() (which copies it). */
typedef struct netcore_lagcomp_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
    uint32_t max_entities;       /**< slots, default 256; 1..65536 */
    uint32_t
        components; /**< floats per entity state, default 3; 1..NETCORE_LAGCOMP_MAX_COMPONENTS */
    uint32_t history_ticks;    /**< ticks kept, default 72 (1.2 s at 60 Hz); 2..4096 */
    uint32_t max_rewind_ticks; /**< how far back a query may go, default 0: history_ticks - 1 */
} netcore_lagcomp_config;

/** How a rewind query was answered. A plain value. */
typedef struct netcore_lagcomp_result {
    double tick;       /**< the tick actually used (after clamping) */
    bool clamped;      /**< the asked tick was beyond the rewind limit or in the future */
    bool interpolated; /**< false: one recorded state was used as is */
} netcore_lagcomp_result;

/** Counters of a netcore_lagcomp since it was created (read with
 * netcore_lagcomp_get_stats()). A plain value. */
typedef struct netcore_lagcomp_stats {
    uint64_t ticks_recorded;  /**< ticks begun with netcore_lagcomp_begin_tick */
    uint64_t queries;         /**< rewind queries answered or refused */
    uint64_t queries_clamped; /**< queries whose tick was moved into the allowed range */

    uint64_t queries_missing;  /**< entity not recorded near that tick */
    uint64_t records_rejected; /**< bad id, or no tick begun */
} netcore_lagcomp_stats;

/** Fills *config with the defaults given on each field. NULL is ignored. */
void netcore_lagcomp_config_default(netcore_lagcomp_config *config);
/** Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_lagcomp_create(const netcore_lagcomp_config *config,
                                      netcore_lagcomp **out_lagcomp);
/** NULL is ignored. */
void netcore_lagcomp_destroy(netcore_lagcomp *lagcomp);

/** Starts recording tick `tick` (after the simulation of that tick), replacing
 * the oldest one. Ticks must rise (gaps are allowed). Errors:
 * NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_STATE (tick not newer). */
netcore_result netcore_lagcomp_begin_tick(netcore_lagcomp *lagcomp, uint32_t tick);

/** Records an entity's state (components floats, copied) at the current tick.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, slot out of range; counted),
 * NETCORE_ERR_STATE (no tick begun). */
netcore_result netcore_lagcomp_record(netcore_lagcomp *lagcomp, uint32_t entity,
                                      const float *values);

/** Newest recorded tick. Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND. */
netcore_result netcore_lagcomp_newest_tick(const netcore_lagcomp *lagcomp, uint32_t *out_tick);

/**
 * Where `entity` was at fractional server tick `tick`: clamped to
 * [newest - max_rewind_ticks, newest], then the states at floor(tick) and
 * floor(tick) + 1 interpolated (or the one of them recorded). out_values gets
 * `components` floats; out_result may be NULL. The server's own present is
 * tick = newest. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, not finite),
 * NETCORE_ERR_NOT_FOUND (nothing recorded, or the entity was not recorded at
 * either bracketing tick).
 */
netcore_result netcore_lagcomp_query(netcore_lagcomp *lagcomp, uint32_t entity, double tick,
                                     float *out_values, netcore_lagcomp_result *out_result);

/** Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_lagcomp_get_stats(const netcore_lagcomp *lagcomp,
                                         netcore_lagcomp_stats *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_LAGCOMP_H */
