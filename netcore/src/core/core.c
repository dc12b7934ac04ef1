/* Version, result names, allocation, logging, random numbers, init/shutdown. */
#define _POSIX_C_SOURCE 200809L
#include <enet/enet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

static unsigned init_count;

uint32_t netcore_version(void)
{
    return NETCORE_VERSION;
}

const char *netcore_version_string(void)
{
    return NETCORE_VERSION_STRING;
}

const char *netcore_result_str(netcore_result result)
{
    switch (result) {
    case NETCORE_OK:
        return "ok";
    case NETCORE_ERR_INVALID_ARGUMENT:
        return "invalid argument";
    case NETCORE_ERR_OUT_OF_MEMORY:
        return "out of memory";
    case NETCORE_ERR_NOT_INITIALIZED:
        return "netcore_init() not called";
    case NETCORE_ERR_SOCKET:
        return "socket error";
    case NETCORE_ERR_ADDRESS:
        return "bad or unresolvable address";
    case NETCORE_ERR_FULL:
        return "no room left";
    case NETCORE_ERR_NOT_CONNECTED:
        return "not connected";
    case NETCORE_ERR_TOO_LARGE:
        return "too large";
    case NETCORE_ERR_MALFORMED:
        return "malformed data";
    case NETCORE_ERR_MISMATCH:
        return "version or schema mismatch";
    case NETCORE_ERR_UNSUPPORTED:
        return "unsupported";
    case NETCORE_ERR_BACKEND:
        return "backend failure";
    case NETCORE_ERR_TIMEOUT:
        return "timed out";
    case NETCORE_ERR_AUTH:
        return "authentication failed";
    case NETCORE_ERR_EXPIRED:
        return "expired";
    case NETCORE_ERR_REPLAYED:
        return "replayed";
    case NETCORE_ERR_NOT_FOUND:
        return "not found";
    case NETCORE_ERR_STATE:
        return "invalid in current state";
    case NETCORE_RESULT_COUNT:
        break;
    }
    return "unknown result";
}

void *nci_alloc(const netcore_allocator *allocator, size_t size_bytes)
{
    if (allocator && allocator->alloc)
        return allocator->alloc(allocator->user, size_bytes);
    return malloc(size_bytes);
}

void *nci_calloc(const netcore_allocator *allocator, size_t count, size_t size_bytes)
{
    if (size_bytes != 0 && count > SIZE_MAX / size_bytes)
        return NULL;
    void *ptr = nci_alloc(allocator, count * size_bytes);
    if (ptr)
        memset(ptr, 0, count * size_bytes);
    return ptr;
}

void nci_free(const netcore_allocator *allocator, void *ptr)
{
    if (!ptr)
        return;
    if (allocator && allocator->alloc) {
        if (allocator->free)
            allocator->free(allocator->user, ptr);
        return;
    }
    free(ptr);
}

void nci_logf(const netcore_log *log, netcore_log_level level, const char *format, ...)
{
    if (!log || !log->fn || level < log->min_level || level >= NETCORE_LOG_NONE)
        return;
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    log->fn(log->user, level, message);
}

bool nci_log_limit_allow(nci_log_limiter *limiter, uint64_t now_us, uint64_t interval_us)
{
    /* A clock that went backwards counts as "inside the interval": a noisy
     * source must never get through more often because of it. */
    if (limiter->armed && (now_us < limiter->last_us || now_us - limiter->last_us < interval_us)) {
        limiter->suppressed++;
        return false;
    }
    limiter->armed = true;
    limiter->last_us = now_us;
    return true;
}

void netcore_log_stderr(void *user, netcore_log_level level, const char *message)
{
    (void)user;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    const char *name = level < NETCORE_LOG_NONE ? names[level] : "?";
    fprintf(stderr, "[netcore %s] %s\n", name, message);
}

/* splitmix64 turns any seed (0 included) into a well-mixed non-zero state. */
void nci_rng_seed(nci_rng *rng, uint64_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    rng->state = z ? z : 0x2545f4914f6cdd1dull;
}

uint64_t nci_rng_next(nci_rng *rng)
{
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint32_t nci_rng_below(nci_rng *rng, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* Multiply-shift maps 32 random bits onto [0, bound) with negligible bias. */
    return (uint32_t)(((nci_rng_next(rng) >> 32) * (uint64_t)bound) >> 32);
}

double nci_rng_unit(nci_rng *rng)
{
    return (double)(nci_rng_next(rng) >> 11) * 0x1.0p-53;
}

bool nci_rng_chance_pct(nci_rng *rng, float pct)
{
    if (pct <= 0.0f)
        return false;
    if (pct >= 100.0f)
        return true;
    return nci_rng_unit(rng) * 100.0 < (double)pct;
}

netcore_result netcore_init(void)
{
    if (init_count == 0 && enet_initialize() != 0)
        return NETCORE_ERR_BACKEND;
    init_count++;
    return NETCORE_OK;
}

void netcore_shutdown(void)
{
    if (init_count == 0)
        return;
    if (--init_count == 0)
        enet_deinitialize();
}

bool nci_is_initialized(void)
{
    return init_count > 0;
}
