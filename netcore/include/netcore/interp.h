/** @file
 * netcore interpolation: smooth display of remote entities from the decoded
 * snapshots of a netcore_snapshot_client.
 *
 * After each snapshot that becomes the client's current world, call
 * netcore_interp_push(): every entity's fields are copied into a short buffer
 * per entity, stamped with the snapshot's server tick. Each frame, call
 * netcore_interp_update() with the estimated server time (from
 * netcore_timesync_server_time_us()); it renders at
 *     render time = estimated server time - interpolation delay
 * and computes every entity's state there, field by field according to the
 * schema: FLOAT, VEC2, VEC3 linearly; ANGLE the shortest way round; QUAT by
 * normalised lerp on the shorter arc; INT and BOOL snap (the older value
 * holds until the newer snapshot's tick). A teleport snaps the whole entity:
 * a change of the type's teleport field (an INT or BOOL the game bumps when
 * it moves an entity discontinuously), or any FLOAT/VEC2/VEC3 field moving
 * farther than the type's snap distance between two snapshots.
 *
 * When the render time passes an entity's newest state (snapshots late or
 * lost), its FLOAT, VEC and ANGLE fields are extrapolated from the last two
 * states for at most max_extrapolation_ms, then held.
 *
 * The delay adapts. Estimated server time runs ahead of the newest snapshot
 * by the one-way delay, so the delay is the apparent arrival delay (a high
 * percentile of "estimated server time at arrival minus the snapshot's
 * time" over the last jitter_window snapshots: latency plus jitter, and any
 * constant bias of the clock estimate cancels out) plus a buffer. The buffer
 * starts at initial_delay_intervals snapshot intervals; its target is one
 * interval plus a starvation allowance that grows by half an interval
 * whenever the render time runs past the newest snapshot and shrinks by
 * shrink_ms_per_s. The delay follows its target at most max_rate times as
 * fast as time passes, so the render time never jumps and never goes
 * backwards, except to leave a hold after the clock estimate stepped back
 * (netcore_interp_update()).
 *
 * An entity appears with its first state (held until the render time reaches
 * it) and disappears once the render time reaches the tick of the first
 * snapshot without it. A re-created slot (new id) replaces the old entity.
 *
 * Snapshot ticks are absolute (no wraparound), as in timesync.h.
 *
 * Memory: max_entities * buffer_length * (4 + 4 * C) bytes plus outputs,
 * allocated at create (C: most 32-bit components of any type, as in
 * snapshot.h). Nothing is allocated per push or update. Single-threaded.
 */
#ifndef NETCORE_INTERP_H
#define NETCORE_INTERP_H

#include <stdbool.h>
#include <stdint.h>

#include "netcore/netcore.h"
#include "netcore/schema.h"
#include "netcore/snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

/** No field: netcore_interp_type_config.teleport_field when a type has no teleport field. */
#define NETCORE_INTERP_NO_FIELD 0xFFFFu

/** Opaque handle: made by netcore_interp_create(), freed by netcore_interp_destroy(). */
typedef struct netcore_interp netcore_interp;

/** Settings of a netcore_interp: fill with netcore_interp_config_default(), change
 * what you need, pass to netcore_interp_create() (which copies it). */
typedef struct netcore_interp_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
    const netcore_schema
        *schema;               /**< required, finalized; borrowed, must outlive the interpolator */
    uint32_t max_entities;     /**< entity slots (id & 0xFFFF) accepted, default 1024; 1..65536 */
    uint32_t buffer_length;    /**< states kept per entity, default 16; 3..256 */
    uint32_t tick_rate_hz;     /**< server ticks per second, default 60 */
    uint32_t snapshot_rate_hz; /**< snapshots per second the server sends, default 30 */
    float initial_delay_intervals; /**< starting delay in snapshot intervals, default 2 */
    float min_delay_ms;            /**< default: 0 (no lower bound beyond one interval) */
    float max_delay_ms;            /**< default 500 */
    float max_extrapolation_ms;    /**< default 100 */
    float shrink_ms_per_s;         /**< starvation allowance decay, default 5 ms per second */
    float max_rate;                /**< delay change per unit of time, default 0.1 */
    uint32_t jitter_window;        /**< snapshot arrivals measured, default 32; 4..1024 */
} netcore_interp_config;

/** How a type's teleports are detected (both off by default). */
typedef struct netcore_interp_type_config {
    uint16_t teleport_field; /**< INT or BOOL field; NETCORE_INTERP_NO_FIELD for none */
    float snap_distance;     /**< 0: never snap on distance */
} netcore_interp_type_config;

/** Counters of a netcore_interp since it was created (read with
 * netcore_interp_get_stats()). A plain value. */
typedef struct netcore_interp_stats {
    uint64_t snapshots_pushed;    /**< snapshots accepted by netcore_interp_push */
    uint64_t snapshots_ignored;   /**< not newer than the last pushed */
    uint64_t entities_dropped;    /**< slot index at or above max_entities, or unknown type */
    uint64_t frames;              /**< updates */
    uint64_t frames_extrapolated; /**< render time past the newest snapshot, within the limit */
    uint64_t frames_starved;      /**< past the extrapolation limit: states held */
    uint64_t starvation_events;   /**< times the render time ran past the newest snapshot */
    uint64_t teleports;           /**< pushed states that jump from the previous one */
    uint64_t clock_steps_back;    /**< render time moved back into the buffer after holding
                                       (see netcore_interp_update) */
    float delay_ms;               /**< current interpolation delay */
    float target_delay_ms;        /**< the delay delay_ms moves towards (from measured jitter) */
    float arrival_delay_ms;       /**< apparent arrival delay (high percentile) */
    float extrapolated_pct;       /**< frames_extrapolated / frames * 100 */
    float starved_pct;            /**< frames_starved / frames * 100 */
} netcore_interp_stats;

/** Fills *config with the defaults above (schema NULL: the caller must set it). */
void netcore_interp_config_default(netcore_interp_config *config);
/** Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, unfinalized schema, values out
 * of range), NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_interp_create(const netcore_interp_config *config,
                                     netcore_interp **out_interp);
/** NULL is ignored. */
void netcore_interp_destroy(netcore_interp *interp);
/** Forgets every entity and measurement (e.g. on reconnect); keeps stats. */
void netcore_interp_reset(netcore_interp *interp);

/** Sets how teleports of one type are detected. Errors:
 * NETCORE_ERR_INVALID_ARGUMENT (unknown type, teleport field not INT/BOOL,
 * negative or non-finite distance). */
netcore_result netcore_interp_set_type_config(netcore_interp *interp, uint16_t type,
                                              const netcore_interp_type_config *type_config);

/** What netcore_interp_push() did with the client's current world. */
typedef enum netcore_interp_push_outcome {
    NETCORE_INTERP_PUSHED = 0, /**< buffered for interpolation */
    NETCORE_INTERP_IGNORED_OLD /**< its tick is not newer than the last pushed (snapshots_ignored) */
} netcore_interp_push_outcome;

/**
 * Copies the client's current world, stamped with its snapshot's tick, into
 * the buffers; arrival_server_time_us is the estimated server time when the
 * snapshot arrived (netcore_timesync_server_time_us() at receive time), for
 * the delay measure. The client must use the interpolator's schema. Call it
 * after each netcore_snapshot_client_read() whose outcome is
 * NETCORE_SNAPSHOT_RECEIVED_NEWEST; a world not newer than the last pushed
 * one is ignored: NETCORE_OK with NETCORE_INTERP_IGNORED_OLD in *out_outcome
 * (may be NULL), counted. Entities whose slot is out of range or whose type
 * is unknown are skipped and counted. Errors: NETCORE_ERR_INVALID_ARGUMENT
 * (NULL, not finite), NETCORE_ERR_NOT_FOUND (nothing decoded yet).
 */
netcore_result netcore_interp_push(netcore_interp *interp, const netcore_snapshot_client *client,
                                   double arrival_server_time_us,
                                   netcore_interp_push_outcome *out_outcome);

/** Moves the render time to server_time_us minus the delay and computes every
 * entity's displayed state. The render time never goes back, with one
 * exception: when it has run past the newest state by more than
 * max_extrapolation_ms (states held) and server_time_us minus the delay is
 * back at or before the newest state, it moves back there (counted in
 * clock_steps_back). That is a clock estimate that stepped back, as after a
 * server that paused and resumed its ticks; holding would freeze every
 * entity until the old render time came round. Errors:
 * NETCORE_ERR_INVALID_ARGUMENT (NULL, not finite), NETCORE_ERR_STATE (nothing
 * pushed yet). */
netcore_result netcore_interp_update(netcore_interp *interp, double server_time_us);

/** Render time of the last update, in server microseconds and in fractional
 * server ticks (what to send for lag compensation). 0 before the first update. */
double netcore_interp_render_time_us(const netcore_interp *interp);
/** Render time of the last update in fractional server ticks (send it with
 * inputs for lag compensation); 0 before the first update or for NULL. */
double netcore_interp_render_tick(const netcore_interp *interp);

/** Entities displayed after the last update, in slot order. */
uint32_t netcore_interp_entity_count(const netcore_interp *interp);
/** The i-th displayed entity; outputs may be NULL. extrapolated tells whether
 * its state is extrapolated or held past its newest snapshot.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, index out of range). */
netcore_result netcore_interp_entity_at(const netcore_interp *interp, uint32_t index,
                                        netcore_entity_id *out_id, uint16_t *out_type,
                                        bool *out_extrapolated);

/** Displayed field values, as the snapshot client's getters (same kinds).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, bad field or kind),
 * NETCORE_ERR_NOT_FOUND (entity not displayed). */
netcore_result netcore_interp_get_int(const netcore_interp *interp, netcore_entity_id id,
                                      uint16_t field, int64_t *out_value);
/** Displayed FLOAT field, linearly interpolated between the two snapshots
 * around the render time. Errors as netcore_interp_get_int(). */
netcore_result netcore_interp_get_float(const netcore_interp *interp, netcore_entity_id id,
                                        uint16_t field, float *out_value);
/** Displayed BOOL field (the older snapshot's value until the newer one's tick).
 * Errors as netcore_interp_get_int(). */
netcore_result netcore_interp_get_bool(const netcore_interp *interp, netcore_entity_id id,
                                       uint16_t field, bool *out_value);
/** Displayed VEC3 field, interpolated component-wise. Errors as netcore_interp_get_int(). */
netcore_result netcore_interp_get_vec3(const netcore_interp *interp, netcore_entity_id id,
                                       uint16_t field, netcore_vec3 *out_value);
/** Displayed QUAT field, by normalised lerp on the shorter arc. Errors as netcore_interp_get_int(). */
netcore_result netcore_interp_get_quat(const netcore_interp *interp, netcore_entity_id id,
                                       uint16_t field, netcore_quat *out_value);

/** Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_interp_get_stats(const netcore_interp *interp,
                                        netcore_interp_stats *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_INTERP_H */
