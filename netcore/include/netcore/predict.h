/** @file
 * netcore prediction and reconciliation for the entity a client controls.
 *
 * The game defines its state (state_size_bytes, a plain blob without
 * pointers) and its fixed-tick step (simulate: state after tick T from the
 * state after T - 1 and the input of T), identical on server and client. The
 * client runs it ahead of the server with its own inputs as it sends them
 * (netcore_predict_step), keeping a ring of predicted states and inputs by tick.
 *
 * When a snapshot reports the server's state of that entity after input tick
 * T (see input.h for how T travels), netcore_predict_reconcile compares it
 * with the prediction at T through the game's error callback. Within
 * tolerance nothing happens. Beyond it, the server state replaces the
 * prediction at T and the inputs after T are replayed to the present: a
 * correction. So that the player does not see the correction as a jump, the
 * visible position (position callback) gets an offset equal to the jump,
 * which decays exponentially (half-life smoothing_half_life_ms) as frames go
 * by; jumps longer than snap_distance are shown at once.
 *
 * Memory is allocated at create only; a replay runs the callback at most
 * ring_length times and allocates nothing. Single-threaded.
 */
#ifndef NETCORE_PREDICT_H
#define NETCORE_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/bitpack.h"
#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle: made by netcore_predict_create(), freed by netcore_predict_destroy(). */
typedef struct netcore_predict netcore_predict;

/** Advances *state (state_size_bytes) by one tick with input (input_size_bytes).
 * Must be deterministic: the same state and input give the same bytes. */
typedef void (*netcore_predict_simulate_fn)(void *user, void *state, const void *input,
                                            uint32_t tick);
/** Distance between a predicted and an authoritative state, in the game's
 * units (e.g. metres of position error); compared with the tolerance. */
typedef float (*netcore_predict_error_fn)(void *user, const void *predicted,
                                          const void *authoritative);
/** Where the entity is drawn for a state (used for the visual smoothing). */
typedef netcore_vec3 (*netcore_predict_position_fn)(void *user, const void *state);

/** Settings of a netcore_predict: fill with netcore_predict_config_default(), change
 * what you need, pass to netcore_predict_create() (which copies it). */
typedef struct netcore_predict_config {
    netcore_allocator allocator;          /**< memory for this object; zeroed: malloc and free */
    uint32_t state_size_bytes;            /**< required, 1..65536 */
    uint32_t input_size_bytes;            /**< required, 1..65536 */
    uint32_t ring_length;                 /**< ticks remembered, default 128; 2..4096 */
    uint32_t tick_rate_hz;                /**< for corrections per minute, default 60 */
    netcore_predict_simulate_fn simulate; /**< required */
    netcore_predict_error_fn error;       /**< required */
    netcore_predict_position_fn position; /**< NULL: no visual smoothing */
    void *user;                           /**< passed to the callbacks unchanged */
    float tolerance;                      /**< errors above this are corrected, default 0.01 */
    float smoothing_half_life_ms;         /**< visual offset half-life, default 50; 0: none */
    float snap_distance; /**< corrections longer than this are not smoothed, default 5 */
} netcore_predict_config;

/** Counters of a netcore_predict since it was created (read with
 * netcore_predict_get_stats()). A plain value. */
typedef struct netcore_predict_stats {
    uint64_t ticks_predicted; /**< ticks simulated ahead by netcore_predict_step */
    uint64_t reconciles;      /**< server states compared */
    uint64_t corrections;     /**< comparisons beyond tolerance (rewind and replay) */
    uint64_t ticks_replayed;  /**< ticks simulated again after corrections */
    uint64_t ignored_old;     /**< server states not newer than the last one compared */
    uint64_t
        ignored_unknown; /**< server states for ticks outside the ring (too old, or not predicted yet) */
    float max_error;  /**< largest error seen */
    float last_error; /**< error of the latest comparison */

    float corrections_per_minute; /**< over the ticks predicted so far */
} netcore_predict_stats;

/** Fills *config with the defaults above (sizes and callbacks to be set). */
void netcore_predict_config_default(netcore_predict_config *config);
/** Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, missing callback, sizes out of
 * range), NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_predict_create(const netcore_predict_config *config,
                                      netcore_predict **out_predict);
/** NULL is ignored. */
void netcore_predict_destroy(netcore_predict *predict);

/** Starts (or restarts) from `state` as the state after tick `tick` (copied),
 * e.g. the server's state of the entity from the first snapshot. Clears the
 * ring and the visual offset; keeps stats. Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_predict_reset(netcore_predict *predict, uint32_t tick, const void *state);

/** True once reset was called. */
bool netcore_predict_is_started(const netcore_predict *predict);

/** Simulates `tick` with `input` (copied) from the newest state. Ticks must
 * rise; skipped ticks (at most ring_length - 1) are simulated with this same
 * input first, as the server would repeat it. Errors:
 * NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_STATE (not started, tick not
 * newer, or too far ahead: reset first). */
netcore_result netcore_predict_step(netcore_predict *predict, uint32_t tick, const void *input);

/** What netcore_predict_reconcile() did with a server state. */
typedef enum netcore_predict_outcome {
    NETCORE_PREDICT_MATCHED = 0, /**< compared: the prediction was within tolerance */
    NETCORE_PREDICT_CORRECTED,   /**< compared: beyond tolerance, corrected and replayed */
    /** Ignored: not newer than the last state compared (a late or repeated
     *  snapshot; ignored_old). */
    NETCORE_PREDICT_IGNORED_OLD,
    /** Ignored: its tick is no longer (or not yet) in the ring (ignored_unknown). */
    NETCORE_PREDICT_IGNORED_UNKNOWN
} netcore_predict_outcome;

/** Compares the server's state after input tick `tick` (copied) with the
 * prediction, and corrects it if beyond tolerance (see the top of this file).
 * *out_outcome (may be NULL) says which; server states older than the last
 * compared, or for ticks no longer (or not yet) in the ring, are ignored
 * (NETCORE_OK, an IGNORED outcome, counted): late and lost snapshots are
 * normal. Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_STATE (not
 * started: reset first). */
netcore_result netcore_predict_reconcile(netcore_predict *predict, uint32_t tick,
                                         const void *server_state,
                                         netcore_predict_outcome *out_outcome);

/** The newest predicted state (state_size_bytes, owned by the predictor, valid
 * until the next call that changes it) and its tick (out_tick may be NULL).
 * NULL when not started. */
const void *netcore_predict_state(const netcore_predict *predict, uint32_t *out_tick);

/** Decays the visual offset by elapsed_us of frame time (call once a frame). */
void netcore_predict_update_visual(netcore_predict *predict, uint64_t elapsed_us);
/** The position to draw: position(newest state) + the visual offset; zero
 * vector without a position callback or before reset. */
netcore_vec3 netcore_predict_visual_position(const netcore_predict *predict);
/** The current visual offset alone. */
netcore_vec3 netcore_predict_visual_offset(const netcore_predict *predict);

/** Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_predict_get_stats(const netcore_predict *predict,
                                         netcore_predict_stats *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_PREDICT_H */
