/* The monotonic clock: the one clock netcore reads itself (the ENet backend,
 * and tools that run in real time). Never steps back with the wall clock. */
#ifdef _WIN32
#include <windows.h>
#else
#define _POSIX_C_SOURCE 200809L
#include <time.h>
#endif

#include "netcore/netcore.h"

#ifdef _WIN32
uint64_t netcore_time_now_us(void)
{
    LARGE_INTEGER frequency, counter;
    QueryPerformanceFrequency(&frequency); /* fixed at boot; cheap to read */
    QueryPerformanceCounter(&counter);
    uint64_t ticks = (uint64_t)counter.QuadPart, hz = (uint64_t)frequency.QuadPart;
    return ticks / hz * 1000000u + ticks % hz * 1000000u / hz;
}
#else
uint64_t netcore_time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
#endif
