/** @file
 * netcore clock sync: the client's estimate of the server's clock, and the
 * tick the client simulates so that its inputs reach the server just in time.
 *
 * Time model: the server simulates tick T at server time T * tick_us (tick_us =
 * 1e6 / tick_rate_hz) and stamps each snapshot with the tick it was written
 * at. The client feeds every new snapshot's tick with its local receive time
 * (netcore_timesync_on_snapshot) and the round-trip time measured by the
 * transport (netcore_timesync_set_rtt). From them it keeps:
 *   - the clock offset: server time minus local time. Each snapshot gives a
 *     sample that is too small by its one-way delay; the estimate is the
 *     median sample of a window plus the typical one-way delay (half the
 *     smallest of the last few RTT readings). Delay spikes only lower single
 *     samples and barely move the median. The estimate slews toward its
 *     target (at most offset_slew) and jumps only when more than resync_ms off.
 *   - jitter: how far the window's largest (least delayed) sample is above
 *     its median.
 *   - the client tick: the client runs its own fixed-step tick clock, meant to
 *     be ahead of the server by the target lead = RTT / 2 + safety_margin_ms +
 *     jitter_factor * jitter (an input stamped with tick T then arrives before
 *     the server simulates T). It closes the error by running slightly faster
 *     or slower (time dilation, at most max_dilation) and jumps (a hard resync,
 *     counted) only when it is more than resync_ms off.
 *
 * Ticks are absolute here (no wraparound): at 60 Hz the 32-bit tick lasts
 * over two years. Memory is allocated at create only. Single-threaded.
 */
#ifndef NETCORE_TIMESYNC_H
#define NETCORE_TIMESYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque handle: made by netcore_timesync_create(), freed by netcore_timesync_destroy(). */
typedef struct netcore_timesync netcore_timesync;

/** Settings of a netcore_timesync: fill with netcore_timesync_config_default(), change
 * what you need, pass to netcore_timesync_create() (which copies it). */
typedef struct netcore_timesync_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
    uint32_t tick_rate_hz;       /**< server simulation rate, default 60; 1..1000 */
    uint32_t window;             /**< offset samples kept, default 64; 4..1024 */
    float safety_margin_ms;      /**< extra lead beyond RTT / 2, default 8 */
    float jitter_factor;         /**< lead per ms of measured jitter, default 2 */
    float max_dilation;          /**< largest tick rate change, default 0.05 (+/- 5%); 0..0.5 */
    float catch_up_s;            /**< a lead error is closed over about this long, default 0.5 */
    float resync_ms;             /**< errors above this jump instead of slewing, default 250 */
    float offset_slew;           /**< largest offset change per second of local time while
                                   slewing, as a fraction, default 0.02 (20 ms/s) */
} netcore_timesync_config;

/** Counters of a netcore_timesync since it was created (read with
 * netcore_timesync_get_stats()). A plain value. */
typedef struct netcore_timesync_stats {
    uint64_t samples;          /**< snapshots fed */
    uint64_t samples_rejected; /**< ticks going backwards or absurd times */
    uint64_t hard_resyncs;     /**< client tick jumps (the first sync is not counted) */
    uint64_t offset_resyncs;   /**< offset jumps after the first sample */
    uint64_t ticks_run;        /**< client ticks handed out by netcore_timesync_advance */
    float rtt_ms;              /**< last RTT given */
    float jitter_ms;           /**< measured one-way jitter */
    float target_lead_ms;      /**< how far ahead of the server the client aims to be */
    float lead_error_ms;       /**< target lead minus actual lead at the last advance */
    float dilation;            /**< current tick rate change: 0.02 = running 2% fast */
} netcore_timesync_stats;

/** Fills *config with the defaults above. */
void netcore_timesync_config_default(netcore_timesync_config *config);

/** Makes an unsynchronised clock; the config is copied.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, values out of range),
 * NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_timesync_create(const netcore_timesync_config *config,
                                       netcore_timesync **out_sync);
/** NULL is ignored. */
void netcore_timesync_destroy(netcore_timesync *sync);
/** Forgets every sample (e.g. after a reconnect); keeps stats. NULL is ignored. */
void netcore_timesync_reset(netcore_timesync *sync);

/** What netcore_timesync_on_snapshot() did with a sample. */
typedef enum netcore_timesync_sample_outcome {
    NETCORE_TIMESYNC_SAMPLE_USED = 0, /**< taken into the clock estimate */
    /** Ignored: its tick is more than 10 seconds behind the newest, a stale
     *  (or forged) stamp rather than a delay (samples_rejected). */
    NETCORE_TIMESYNC_SAMPLE_STALE
} netcore_timesync_sample_outcome;

/** Records a snapshot stamped with server_tick, received at local time
 * local_us (microseconds, any monotonic origin). Feed each snapshot once, in
 * any order; ticks more than 10 seconds behind the newest are ignored:
 * NETCORE_OK with NETCORE_TIMESYNC_SAMPLE_STALE in *out_outcome (may be
 * NULL), counted. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL). */
netcore_result netcore_timesync_on_snapshot(netcore_timesync *sync, uint32_t server_tick,
                                            uint64_t local_us,
                                            netcore_timesync_sample_outcome *out_outcome);

/** Sets the round-trip time in milliseconds (e.g. from netcore_host_get_peer_stats).
 * Values that are negative, not finite or above 10 s are ignored.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL or bad value). */
netcore_result netcore_timesync_set_rtt(netcore_timesync *sync, float rtt_ms);

/** True once at least one snapshot was fed. */
bool netcore_timesync_is_synced(const netcore_timesync *sync);

/**
 * Advances the client tick clock to local time now_us and tells which client
 * ticks to simulate now: ticks *out_first_tick .. *out_first_tick + *out_count - 1,
 * in order (count 0 when none is due; after a hard resync the first tick may
 * jump forward, never backward). The first call after the first snapshot
 * places the clock at the target lead; *out_count is capped at 8 per call,
 * the surplus is dropped (a stalled client does not replay seconds of ticks).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL), NETCORE_ERR_STATE (no snapshot
 * fed yet; outputs set to 0).
 */
netcore_result netcore_timesync_advance(netcore_timesync *sync, uint64_t now_us,
                                        uint32_t *out_first_tick, uint32_t *out_count);

/** Estimated server time in microseconds (server tick T starts at T * tick_us)
 * at local time now_us; smooth and non-decreasing between resyncs.
 * 0 before the first snapshot. */
double netcore_timesync_server_time_us(const netcore_timesync *sync, uint64_t now_us);
/** Same in (fractional) server ticks. */
double netcore_timesync_server_tick(const netcore_timesync *sync, uint64_t now_us);
/** The continuous client tick clock as of the last advance: the newest tick
 * handed out plus the fraction of the way to the next one (for drawing
 * between two predicted states). 0 before the first advance. */
double netcore_timesync_client_tick(const netcore_timesync *sync);
/** Duration of one server tick in microseconds. */
double netcore_timesync_tick_us(const netcore_timesync *sync);

/** Copies the counters and current figures. Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_timesync_get_stats(const netcore_timesync *sync,
                                          netcore_timesync_stats *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_TIMESYNC_H */
