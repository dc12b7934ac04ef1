/* Internal helpers shared by every module: allocation, logging, random numbers.
 * Internal symbols use the nci_ prefix and are not exported from the shared library. */
#ifndef NETCORE_CORE_INTERNAL_H
#define NETCORE_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/netcore.h"

/* mingw-w64 builds with its C99 printf (__USE_MINGW_ANSI_STDIO, set by the
 * build), whose checks are gnu_printf's, not the Microsoft runtime's. */
#if defined(__MINGW32__)
#define NCI_PRINTF(fmt_index, args_index) __attribute__((format(gnu_printf, fmt_index, args_index)))
#elif defined(__GNUC__) || defined(__clang__)
#define NCI_PRINTF(fmt_index, args_index) __attribute__((format(printf, fmt_index, args_index)))
#else
#define NCI_PRINTF(fmt_index, args_index)
#endif

/* Allocate through a config's allocator; a zeroed allocator means malloc/free.
 * nci_calloc zeroes the memory and fails (NULL) on count * size overflow. */
void *nci_alloc(const netcore_allocator *allocator, size_t size_bytes);
void *nci_calloc(const netcore_allocator *allocator, size_t count, size_t size_bytes);
void nci_free(const netcore_allocator *allocator, void *ptr);

/* printf-style logging through a config's log; cheap when the level is filtered out. */
void nci_logf(const netcore_log *log, netcore_log_level level, const char *format, ...)
    NCI_PRINTF(3, 4);

/* Logs at most one message per interval for a noisy source (e.g. bad network
 * input). Zero-initialise; last_us is the time of the last message let
 * through, suppressed counts the ones held back. */
typedef struct nci_log_limiter {
    uint64_t last_us;
    uint64_t suppressed;
    bool armed; /* false until the first message went through */
} nci_log_limiter;
bool nci_log_limit_allow(nci_log_limiter *limiter, uint64_t now_us, uint64_t interval_us);

/* Seeded pseudo-random generator (xorshift64*, seeded through splitmix64).
 * One per instance; never rand(). */
typedef struct nci_rng {
    uint64_t state;
} nci_rng;
void nci_rng_seed(nci_rng *rng, uint64_t seed);
uint64_t nci_rng_next(nci_rng *rng);
/* Uniform in [0, bound); bound 0 gives 0. */
uint32_t nci_rng_below(nci_rng *rng, uint32_t bound);
/* Uniform in [0, 1). */
double nci_rng_unit(nci_rng *rng);
/* True with probability pct / 100. */
bool nci_rng_chance_pct(nci_rng *rng, float pct);

/* True between netcore_init() and the matching netcore_shutdown(). */
bool nci_is_initialized(void);

#endif /* NETCORE_CORE_INTERNAL_H */
