/* transport_bench (internal to the benchmark): what the measuring part
 * (transport_bench.c) and the JSON report (transport_bench_report.c) share. */
#ifndef NETCORE_TRANSPORT_BENCH_H
#define NETCORE_TRANSPORT_BENCH_H

#include <stdint.h>

#include "bench_util.h"

#define MESSAGE_BYTES 32
#define DEFAULT_RUNS 5
#define DEFAULT_MESSAGES 20000
#define QUICK_RUNS 1
#define QUICK_MESSAGES 200
#define MAX_RUNS 64
#define MAX_MESSAGES 1000000
#define MEMORY_PEERS 256
#define QUICK_MEMORY_PEERS 8
#define MEMORY_IDLE_MS 300
#define QUICK_MEMORY_IDLE_MS 20
#define CONNECT_TIMEOUT_MS 10000
/* A message unanswered for this long on loopback is counted lost. */
#define STALL_TIMEOUT_MS 200
/* Bounds the events handled by one server service call. */
#define MAX_EVENTS_PER_SERVICE 4096
/* Each figure's round trips are split into this many chunks, alternating
 * between netcore and raw ENet. */
#define MEASURE_CHUNKS 20
#define RTT_RATIO_GOAL 1.05
#define THROUGHPUT_RATIO_GOAL 0.95
/* Sealing's goals (issue 12): sealed RTT within 1.10x raw ENet's, at most 24
 * bytes added per message. */
#define SEALED_RTT_RATIO_GOAL 1.10
#define SEALED_OVERHEAD_GOAL_BYTES 24.0

enum { CHANNEL_RELIABLE = 0, CHANNEL_UNRELIABLE = 1, CHANNEL_COUNT = 2 };
enum { DELIVERY_RELIABLE = 0, DELIVERY_UNRELIABLE = 1, DELIVERY_COUNT = 2 };
/* netcore runs sealed, as every admitted connection does; netcore_unsealed
 * (no admission, so no keys and nothing sealed) shows what sealing itself costs. */
enum { BACKEND_NETCORE = 0, BACKEND_RAW_ENET = 1, BACKEND_NETCORE_UNSEALED = 2, BACKEND_COUNT = 3 };

/* Windows (messages in flight) of the throughput figures: 1 and 10. */
#define WINDOW_COUNT 2u

enum memory_field {
    MEMORY_BYTES_PER_PEER = 0,
    MEMORY_GROWTH_PER_PEER,
    MEMORY_EMPTY_HOST,
    MEMORY_CONNECTED_HOST,
    MEMORY_NETCORE_ALLOCATOR,
    MEMORY_ENET,
    MEMORY_FIELD_COUNT
};

typedef struct params {
    uint32_t runs;
    uint32_t messages; /* timed round trips per measurement */
    uint32_t warmup;   /* untimed round trips before each measurement */
    uint32_t memory_peers;
    uint32_t memory_idle_ms;
} params;

/* One figure for both backends over every run; NaN where a run failed. */
typedef struct series {
    double run[BACKEND_COUNT][MAX_RUNS];
} series;

typedef struct results {
    series rtt_p50_us[DELIVERY_COUNT];
    series rtt_p99_us[DELIVERY_COUNT];
    uint64_t rtt_lost[DELIVERY_COUNT][BACKEND_COUNT];
    series msgs_per_s[DELIVERY_COUNT][WINDOW_COUNT];
    uint64_t throughput_lost[DELIVERY_COUNT][WINDOW_COUNT][BACKEND_COUNT];
    series memory[MEMORY_FIELD_COUNT];
    /* Sealed pairs: bytes sealing added and messages sent, both hosts. */
    uint64_t seal_overhead_bytes[DELIVERY_COUNT];
    uint64_t sealed_messages[DELIVERY_COUNT];
} results;

/* Prints the JSON report on stdout. */
void tb_print_report(const results *res, const params *prm, double elapsed_s, double cpu_share,
                     double load_at_start, unsigned error_count, const char *first_error);

#endif /* NETCORE_TRANSPORT_BENCH_H */
