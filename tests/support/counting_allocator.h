/* An allocator for tests that counts what an object takes and gives back,
 * and can be told to fail. */
#ifndef NETCORE_TESTS_COUNTING_ALLOCATOR_H
#define NETCORE_TESTS_COUNTING_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/netcore.h"

typedef struct counting_allocator {
    uint64_t allocations;   /* calls to alloc, failed ones included */
    uint64_t frees;         /* calls to free, NULL included (the library should never make one) */
    size_t last_size_bytes; /* size asked for by the latest alloc */
    bool fail;              /* alloc returns NULL instead of allocating */
} counting_allocator;

/* An allocator whose calls are counted in *counter (borrowed). Blocks are
 * filled with 0xa5 so a missing memset after allocation shows. */
netcore_allocator counting_allocator_make(counting_allocator *counter);

#endif
