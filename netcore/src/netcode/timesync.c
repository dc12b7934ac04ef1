/* Clock sync: server clock offset from snapshot ticks, and a dilated client
 * tick clock kept ahead of the server by RTT / 2 plus a margin. */
#include "netcore/timesync.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

#define MAX_TICKS_PER_ADVANCE 8u
#define RTT_WINDOW 16u
#define MAX_RTT_MS 10000.0f
#define STALE_SECONDS 10

struct netcore_timesync {
    netcore_timesync_config config;
    double tick_us;
    /* offset samples: server time of the snapshot's tick minus local receive time */
    double *samples;
    double *sorted; /* scratch for the median */
    uint32_t sample_count;
    uint32_t sample_next;
    bool synced;
    uint32_t newest_tick;
    float rtt_window[RTT_WINDOW];
    uint32_t rtt_count;
    uint32_t rtt_next;
    /* offset(now) = offset_base + slew toward offset_target since offset_base_us */
    double offset_base;
    double offset_target;
    uint64_t offset_base_us;
    /* client tick clock */
    bool clock_started;
    double client_ticks; /* continuous client tick; tick k is due once this reaches k */
    uint32_t next_tick;
    uint64_t last_advance_us;
    netcore_timesync_stats stats;
};

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Offset at local time now: the base moved toward the target by at most
 * offset_slew per microsecond elapsed. A pure function of now, so the
 * estimated server time (now + offset) never goes backwards between jumps. */
static double offset_at(const netcore_timesync *s, uint64_t now_us)
{
    double elapsed = now_us > s->offset_base_us ? (double)(now_us - s->offset_base_us) : 0.0;
    double room = elapsed * (double)s->config.offset_slew;
    double diff = s->offset_target - s->offset_base;
    if (diff > room)
        diff = room;
    else if (diff < -room)
        diff = -room;
    return s->offset_base + diff;
}

/* Whole tick at or below t, clamped to the 32-bit tick range (a cast of an
 * out-of-range double is undefined; hostile stamps must not reach one). */
static uint32_t floor_tick(double t)
{
    if (!(t > 0.0))
        return 0;
    if (t >= 4294967295.0)
        return UINT32_MAX;
    return (uint32_t)floor(t);
}

static float smallest_rtt(const netcore_timesync *s)
{
    if (s->rtt_count == 0)
        return 0.0f;
    float best = s->rtt_window[0];
    for (uint32_t i = 1; i < s->rtt_count; i++)
        if (s->rtt_window[i] < best)
            best = s->rtt_window[i];
    return best;
}

/* Recomputes the target offset and the jitter from the sample window. The
 * median sample is the offset minus the typical one-way delay, so adding the
 * typical one-way delay (half the smoothed RTT) gives the offset; spikes only
 * lower samples and barely move the median. Jitter is how far the least
 * delayed sample is above the median. */
static void refresh_target(netcore_timesync *s)
{
    uint32_t n = s->sample_count;
    memcpy(s->sorted, s->samples, n * sizeof *s->sorted);
    qsort(s->sorted, n, sizeof *s->sorted, compare_doubles);
    double median = n % 2 ? s->sorted[n / 2] : 0.5 * (s->sorted[n / 2 - 1] + s->sorted[n / 2]);
    double one_way_us = 500.0 * (double)s->stats.rtt_ms;
    s->offset_target = median + one_way_us;
    s->stats.jitter_ms = (float)((s->sorted[n - 1] - median) / 1000.0);
}

static double target_lead_ticks(netcore_timesync *s)
{
    float lead_ms = 0.5f * s->stats.rtt_ms + s->config.safety_margin_ms +
                    s->config.jitter_factor * s->stats.jitter_ms;
    s->stats.target_lead_ms = lead_ms;
    return (double)lead_ms * 1000.0 / s->tick_us;
}

void netcore_timesync_config_default(netcore_timesync_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->tick_rate_hz = 60;
    config->window = 64;
    config->safety_margin_ms = 8.0f;
    config->jitter_factor = 2.0f;
    config->max_dilation = 0.05f;
    config->catch_up_s = 0.5f;
    config->resync_ms = 250.0f;
    config->offset_slew = 0.02f;
}

static bool config_valid(const netcore_timesync_config *c)
{
    if (c->tick_rate_hz < 1 || c->tick_rate_hz > 1000 || c->window < 4 || c->window > 1024)
        return false;
    if (!(c->safety_margin_ms >= 0.0f && c->safety_margin_ms <= 1000.0f))
        return false;
    if (!(c->jitter_factor >= 0.0f && c->jitter_factor <= 10.0f))
        return false;
    if (!(c->max_dilation >= 0.0f && c->max_dilation <= 0.5f))
        return false;
    if (!(c->catch_up_s > 0.0f && c->catch_up_s <= 60.0f))
        return false;
    if (!(c->resync_ms > 0.0f && c->resync_ms <= 60000.0f))
        return false;
    return c->offset_slew > 0.0f && c->offset_slew <= 1.0f;
}

netcore_result netcore_timesync_create(const netcore_timesync_config *config,
                                       netcore_timesync **out_sync)
{
    if (!out_sync)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_sync = NULL;
    if (!config || !config_valid(config))
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_timesync *s = nci_calloc(&config->allocator, 1, sizeof *s);
    if (!s)
        return NETCORE_ERR_OUT_OF_MEMORY;
    s->config = *config;
    s->samples = nci_calloc(&config->allocator, config->window, sizeof *s->samples);
    s->sorted = nci_calloc(&config->allocator, config->window, sizeof *s->sorted);
    if (!s->samples || !s->sorted) {
        netcore_timesync_destroy(s);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    s->tick_us = 1e6 / (double)config->tick_rate_hz;
    *out_sync = s;
    return NETCORE_OK;
}

void netcore_timesync_destroy(netcore_timesync *sync)
{
    if (!sync)
        return;
    netcore_allocator allocator = sync->config.allocator;
    nci_free(&allocator, sync->samples);
    nci_free(&allocator, sync->sorted);
    nci_free(&allocator, sync);
}

void netcore_timesync_reset(netcore_timesync *sync)
{
    if (!sync)
        return;
    sync->sample_count = 0;
    sync->sample_next = 0;
    sync->synced = false;
    sync->clock_started = false;
    sync->rtt_count = 0;
    sync->rtt_next = 0;
    sync->stats.dilation = 0.0f;
}

netcore_result netcore_timesync_on_snapshot(netcore_timesync *sync, uint32_t server_tick,
                                            uint64_t local_us,
                                            netcore_timesync_sample_outcome *out_outcome)
{
    if (out_outcome)
        *out_outcome = NETCORE_TIMESYNC_SAMPLE_STALE;
    if (!sync)
        return NETCORE_ERR_INVALID_ARGUMENT;
    /* Ticks far behind the newest are a stale or hostile stamp, not a delay. */
    if (sync->synced &&
        (uint64_t)server_tick + (uint64_t)STALE_SECONDS * sync->config.tick_rate_hz <
            (uint64_t)sync->newest_tick) {
        sync->stats.samples_rejected++;
        return NETCORE_OK;
    }
    if (out_outcome)
        *out_outcome = NETCORE_TIMESYNC_SAMPLE_USED;
    if (!sync->synced || server_tick > sync->newest_tick)
        sync->newest_tick = server_tick;
    sync->stats.samples++;
    double sample = (double)server_tick * sync->tick_us - (double)local_us;
    sync->samples[sync->sample_next] = sample;
    sync->sample_next = (sync->sample_next + 1) % sync->config.window;
    if (sync->sample_count < sync->config.window)
        sync->sample_count++;

    double current = sync->synced ? offset_at(sync, local_us) : 0.0;
    refresh_target(sync);
    if (!sync->synced || fabs(sync->offset_target - current) > 1000.0 * sync->config.resync_ms) {
        if (sync->synced)
            sync->stats.offset_resyncs++;
        current = sync->offset_target;
    }
    sync->offset_base = current;
    sync->offset_base_us = local_us;
    sync->synced = true;
    return NETCORE_OK;
}

netcore_result netcore_timesync_set_rtt(netcore_timesync *sync, float rtt_ms)
{
    if (!sync || !(rtt_ms >= 0.0f && rtt_ms <= MAX_RTT_MS))
        return NETCORE_ERR_INVALID_ARGUMENT;
    sync->rtt_window[sync->rtt_next] = rtt_ms;
    sync->rtt_next = (sync->rtt_next + 1) % RTT_WINDOW;
    if (sync->rtt_count < RTT_WINDOW)
        sync->rtt_count++;
    /* The smoothed RTT of the transport still wobbles with jitter; the
     * smallest of the last few readings moves the estimates less. */
    sync->stats.rtt_ms = smallest_rtt(sync);
    return NETCORE_OK;
}

bool netcore_timesync_is_synced(const netcore_timesync *sync)
{
    return sync && sync->synced;
}

double netcore_timesync_server_time_us(const netcore_timesync *sync, uint64_t now_us)
{
    if (!sync || !sync->synced)
        return 0.0;
    return (double)now_us + offset_at(sync, now_us);
}

double netcore_timesync_server_tick(const netcore_timesync *sync, uint64_t now_us)
{
    if (!sync || !sync->synced)
        return 0.0;
    return netcore_timesync_server_time_us(sync, now_us) / sync->tick_us;
}

double netcore_timesync_client_tick(const netcore_timesync *sync)
{
    if (!sync || !sync->clock_started)
        return 0.0;
    return sync->client_ticks;
}

double netcore_timesync_tick_us(const netcore_timesync *sync)
{
    return sync ? sync->tick_us : 0.0;
}

netcore_result netcore_timesync_advance(netcore_timesync *sync, uint64_t now_us,
                                        uint32_t *out_first_tick, uint32_t *out_count)
{
    if (!sync || !out_first_tick || !out_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_first_tick = 0;
    *out_count = 0;
    if (!sync->synced)
        return NETCORE_ERR_STATE;
    double target = netcore_timesync_server_tick(sync, now_us) + target_lead_ticks(sync);
    if (!sync->clock_started) {
        sync->clock_started = true;
        sync->client_ticks = target;
        sync->next_tick = floor_tick(target);
    } else {
        double dt_us =
            now_us > sync->last_advance_us ? (double)(now_us - sync->last_advance_us) : 0.0;
        sync->client_ticks += dt_us / sync->tick_us * (1.0 + (double)sync->stats.dilation);
        double error_ticks = target - sync->client_ticks;
        double error_ms = error_ticks * sync->tick_us / 1000.0;
        sync->stats.lead_error_ms = (float)error_ms;
        if (fabs(error_ms) > (double)sync->config.resync_ms) {
            /* Far off (a stall, a route change): jump rather than crawl for
             * seconds. A backward jump replays nothing, it only waits. */
            sync->client_ticks = target;
            sync->stats.hard_resyncs++;
            sync->stats.dilation = 0.0f;
        } else {
            double d = error_ms / 1000.0 / (double)sync->config.catch_up_s;
            double max = (double)sync->config.max_dilation;
            sync->stats.dilation = (float)(d > max ? max : (d < -max ? -max : d));
        }
    }
    sync->last_advance_us = now_us;

    if (sync->client_ticks < (double)sync->next_tick)
        return NETCORE_OK;
    uint32_t last = floor_tick(sync->client_ticks);
    uint32_t count = last - sync->next_tick + 1;
    if (count > MAX_TICKS_PER_ADVANCE) {
        sync->next_tick = last - MAX_TICKS_PER_ADVANCE + 1;
        count = MAX_TICKS_PER_ADVANCE;
    }
    *out_first_tick = sync->next_tick;
    *out_count = count;
    sync->next_tick = last + 1;
    sync->stats.ticks_run += count;
    return NETCORE_OK;
}

netcore_result netcore_timesync_get_stats(const netcore_timesync *sync,
                                          netcore_timesync_stats *out_stats)
{
    if (!sync || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = sync->stats;
    return NETCORE_OK;
}
