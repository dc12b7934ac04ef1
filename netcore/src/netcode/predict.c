/* Client-side prediction of the controlled entity: a ring of predicted
 * states and inputs by tick, rewind and replay on a misprediction, and a
 * decaying visual offset that hides the correction. */
#include "netcore/predict.h"

#include <math.h>
#include <string.h>

#include "core/core_internal.h"

#define MAX_BLOB_BYTES 65536u

struct netcore_predict {
    netcore_predict_config config;
    uint8_t *states; /* ring_length states, by tick % ring_length */
    uint8_t *inputs; /* ring_length inputs, same indexing */
    bool started;
    uint32_t newest_tick;
    uint32_t held; /* consecutive ticks ending at newest_tick in the ring */
    bool has_reconciled;
    uint32_t last_reconciled;
    netcore_vec3 offset;
    netcore_predict_stats stats;
};

static uint8_t *state_at(const netcore_predict *p, uint32_t tick)
{
    return p->states + (size_t)(tick % p->config.ring_length) * p->config.state_size_bytes;
}

static uint8_t *input_at(const netcore_predict *p, uint32_t tick)
{
    return p->inputs + (size_t)(tick % p->config.ring_length) * p->config.input_size_bytes;
}

static netcore_vec3 position_of(const netcore_predict *p, const void *state)
{
    if (!p->config.position) {
        netcore_vec3 zero = {0.0f, 0.0f, 0.0f};
        return zero;
    }
    return p->config.position(p->config.user, state);
}

/* Runs tick from the state of tick - 1 (both in the ring). */
static void simulate_into(netcore_predict *p, uint32_t tick)
{
    memcpy(state_at(p, tick), state_at(p, tick - 1), p->config.state_size_bytes);
    p->config.simulate(p->config.user, state_at(p, tick), input_at(p, tick), tick);
}

static void update_rate(netcore_predict *p)
{
    double minutes = (double)p->stats.ticks_predicted / (double)p->config.tick_rate_hz / 60.0;
    p->stats.corrections_per_minute =
        minutes > 0.0 ? (float)((double)p->stats.corrections / minutes) : 0.0f;
}

void netcore_predict_config_default(netcore_predict_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->ring_length = 128;
    config->tick_rate_hz = 60;
    config->tolerance = 0.01f;
    config->smoothing_half_life_ms = 50.0f;
    config->snap_distance = 5.0f;
}

netcore_result netcore_predict_create(const netcore_predict_config *config,
                                      netcore_predict **out_predict)
{
    if (!out_predict)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_predict = NULL;
    if (!config || !config->simulate || !config->error || config->state_size_bytes < 1 ||
        config->state_size_bytes > MAX_BLOB_BYTES || config->input_size_bytes < 1 ||
        config->input_size_bytes > MAX_BLOB_BYTES || config->ring_length < 2 ||
        config->ring_length > 4096 || config->tick_rate_hz < 1 || !(config->tolerance >= 0.0f) ||
        !(config->smoothing_half_life_ms >= 0.0f) || !(config->snap_distance >= 0.0f))
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_predict *p = nci_calloc(&config->allocator, 1, sizeof *p);
    if (!p)
        return NETCORE_ERR_OUT_OF_MEMORY;
    p->config = *config;
    p->states = nci_calloc(&config->allocator, config->ring_length, config->state_size_bytes);
    p->inputs = nci_calloc(&config->allocator, config->ring_length, config->input_size_bytes);
    if (!p->states || !p->inputs) {
        netcore_predict_destroy(p);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    *out_predict = p;
    return NETCORE_OK;
}

void netcore_predict_destroy(netcore_predict *predict)
{
    if (!predict)
        return;
    netcore_allocator allocator = predict->config.allocator;
    nci_free(&allocator, predict->states);
    nci_free(&allocator, predict->inputs);
    nci_free(&allocator, predict);
}

netcore_result netcore_predict_reset(netcore_predict *predict, uint32_t tick, const void *state)
{
    if (!predict || !state)
        return NETCORE_ERR_INVALID_ARGUMENT;
    memcpy(state_at(predict, tick), state, predict->config.state_size_bytes);
    memset(input_at(predict, tick), 0, predict->config.input_size_bytes);
    predict->newest_tick = tick;
    predict->held = 1;
    predict->started = true;
    predict->has_reconciled = false;
    memset(&predict->offset, 0, sizeof predict->offset);
    return NETCORE_OK;
}

bool netcore_predict_is_started(const netcore_predict *predict)
{
    return predict && predict->started;
}

netcore_result netcore_predict_step(netcore_predict *predict, uint32_t tick, const void *input)
{
    if (!predict || !input)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!predict->started)
        return NETCORE_ERR_STATE;
    int32_t ahead = (int32_t)(tick - predict->newest_tick);
    if (ahead <= 0 || (uint32_t)ahead >= predict->config.ring_length)
        return NETCORE_ERR_STATE;
    for (uint32_t t = predict->newest_tick + 1;; t++) {
        memcpy(input_at(predict, t), input, predict->config.input_size_bytes);
        simulate_into(predict, t);
        predict->stats.ticks_predicted++;
        if (t == tick)
            break;
    }
    predict->newest_tick = tick;
    predict->held += (uint32_t)ahead;
    if (predict->held > predict->config.ring_length)
        predict->held = predict->config.ring_length;
    update_rate(predict);
    return NETCORE_OK;
}

netcore_result netcore_predict_reconcile(netcore_predict *predict, uint32_t tick,
                                         const void *server_state,
                                         netcore_predict_outcome *out_outcome)
{
    netcore_predict_outcome ignored;
    if (!out_outcome)
        out_outcome = &ignored;
    *out_outcome = NETCORE_PREDICT_IGNORED_OLD;
    if (!predict || !server_state)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!predict->started)
        return NETCORE_ERR_STATE;
    if (predict->has_reconciled && (int32_t)(tick - predict->last_reconciled) <= 0) {
        predict->stats.ignored_old++; /* a late or repeated snapshot: normal */
        return NETCORE_OK;
    }
    int32_t age = (int32_t)(predict->newest_tick - tick);
    if (age < 0 || (uint32_t)age >= predict->held) {
        predict->stats.ignored_unknown++;
        *out_outcome = NETCORE_PREDICT_IGNORED_UNKNOWN;
        return NETCORE_OK;
    }
    predict->has_reconciled = true;
    predict->last_reconciled = tick;
    predict->stats.reconciles++;
    float error =
        predict->config.error(predict->config.user, state_at(predict, tick), server_state);
    predict->stats.last_error = error;
    if (error > predict->stats.max_error)
        predict->stats.max_error = error;
    /* NaN compares false, so an undefined error is treated as a misprediction. */
    *out_outcome = NETCORE_PREDICT_MATCHED;
    if (error <= predict->config.tolerance)
        return NETCORE_OK;

    netcore_vec3 before = position_of(predict, state_at(predict, predict->newest_tick));
    memcpy(state_at(predict, tick), server_state, predict->config.state_size_bytes);
    for (uint32_t t = tick + 1; (int32_t)(predict->newest_tick - t) >= 0; t++) {
        simulate_into(predict, t);
        predict->stats.ticks_replayed++;
    }
    netcore_vec3 after = position_of(predict, state_at(predict, predict->newest_tick));
    /* Keep drawing where the entity was, then let the offset fade: the
     * correction shows as a short glide instead of a jump. */
    netcore_vec3 o = predict->offset;
    o.x += before.x - after.x;
    o.y += before.y - after.y;
    o.z += before.z - after.z;
    float length = sqrtf(o.x * o.x + o.y * o.y + o.z * o.z);
    if (predict->config.smoothing_half_life_ms <= 0.0f ||
        !(length <= predict->config.snap_distance))
        memset(&o, 0, sizeof o);
    predict->offset = o;
    predict->stats.corrections++;
    update_rate(predict);
    *out_outcome = NETCORE_PREDICT_CORRECTED;
    return NETCORE_OK;
}

const void *netcore_predict_state(const netcore_predict *predict, uint32_t *out_tick)
{
    if (!predict || !predict->started)
        return NULL;
    if (out_tick)
        *out_tick = predict->newest_tick;
    return state_at(predict, predict->newest_tick);
}

void netcore_predict_update_visual(netcore_predict *predict, uint64_t elapsed_us)
{
    if (!predict || predict->config.smoothing_half_life_ms <= 0.0f)
        return;
    double half_lives =
        (double)elapsed_us / 1000.0 / (double)predict->config.smoothing_half_life_ms;
    float factor = (float)pow(0.5, half_lives);
    predict->offset.x *= factor;
    predict->offset.y *= factor;
    predict->offset.z *= factor;
}

netcore_vec3 netcore_predict_visual_offset(const netcore_predict *predict)
{
    netcore_vec3 zero = {0.0f, 0.0f, 0.0f};
    return predict ? predict->offset : zero;
}

netcore_vec3 netcore_predict_visual_position(const netcore_predict *predict)
{
    netcore_vec3 zero = {0.0f, 0.0f, 0.0f};
    if (!predict || !predict->started)
        return zero;
    netcore_vec3 p = position_of(predict, state_at(predict, predict->newest_tick));
    p.x += predict->offset.x;
    p.y += predict->offset.y;
    p.z += predict->offset.z;
    return p;
}

netcore_result netcore_predict_get_stats(const netcore_predict *predict,
                                         netcore_predict_stats *out_stats)
{
    if (!predict || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = predict->stats;
    return NETCORE_OK;
}
