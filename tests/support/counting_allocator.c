#include "counting_allocator.h"

#include <stdlib.h>
#include <string.h>

static void *counting_alloc(void *user, size_t size_bytes)
{
    counting_allocator *counter = user;
    counter->allocations++;
    counter->last_size_bytes = size_bytes;
    if (counter->fail)
        return NULL;
    void *ptr = malloc(size_bytes ? size_bytes : 1);
    if (ptr)
        memset(ptr, 0xa5, size_bytes);
    return ptr;
}

static void counting_free(void *user, void *ptr)
{
    counting_allocator *counter = user;
    counter->frees++;
    free(ptr);
}

netcore_allocator counting_allocator_make(counting_allocator *counter)
{
    netcore_allocator allocator = {counting_alloc, counting_free, counter};
    return allocator;
}
