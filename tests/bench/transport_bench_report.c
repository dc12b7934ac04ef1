/* transport_bench's JSON report: every figure, the ratios and the goals
 * (docs/benchmarks.md). */
#include <enet/enet.h>
#include <math.h>
#include <stdio.h>

#include "netcore/netcore.h"
#include "transport_bench.h"

static const char *const delivery_names[DELIVERY_COUNT] = {"reliable", "unreliable"};
static const char *const backend_names[BACKEND_COUNT] = {"netcore", "raw_enet", "netcore_unsealed"};
static const uint32_t windows[WINDOW_COUNT] = {1, 10};
static const char *const memory_field_names[MEMORY_FIELD_COUNT] = {
    "bytes_per_peer",       "growth_per_peer_bytes",   "empty_host_bytes",
    "connected_host_bytes", "netcore_allocator_bytes", "enet_bytes"};

/* ------------------------------------------------------------------ */
/* Report                                                              */
/* ------------------------------------------------------------------ */

/* Median over runs of backend a / backend b within the same run. */
static double ratio_median_of(const series *s, uint32_t runs, int a, int b)
{
    double ratios[MAX_RUNS];
    for (uint32_t r = 0; r < runs; r++)
        ratios[r] = s->run[a][r] / s->run[b][r];
    return bench_median(ratios, runs);
}

/* Median over runs of netcore (sealed) / raw ENet within the same run. */
static double ratio_median(const series *s, uint32_t runs)
{
    return ratio_median_of(s, runs, BACKEND_NETCORE, BACKEND_RAW_ENET);
}

static void print_parameters(bench_json *json, const params *prm)
{
    bench_json_object_begin(json, "parameters");
    bench_json_uint(json, "runs", prm->runs);
    bench_json_uint(json, "messages", prm->messages);
    bench_json_uint(json, "warmup_messages", prm->warmup);
    bench_json_uint(json, "message_bytes", MESSAGE_BYTES);
    bench_json_array_begin(json, "windows");
    for (size_t w = 0; w < WINDOW_COUNT; w++)
        bench_json_uint(json, NULL, windows[w]);
    bench_json_array_end(json);
    bench_json_string(json, "address", "127.0.0.1");
    bench_json_uint(json, "poll_timeout_ms", 0);
    bench_json_uint(json, "stall_timeout_ms", STALL_TIMEOUT_MS);
    bench_json_uint(json, "chunks_per_figure", MEASURE_CHUNKS);
    bench_json_string(json, "process_model",
                      "one process, one thread; client and server hosts busy-polled in turn");
    bench_json_string(json, "netcore_channels",
                      "0 reliable_ordered, 1 unreliable_sequenced (plus netcore's control lane)");
    bench_json_string(json, "raw_enet_channels",
                      "0 ENET_PACKET_FLAG_RELIABLE, 1 unreliable (flags 0, sequenced)");
    bench_json_uint(json, "memory_peers", prm->memory_peers);
    bench_json_uint(json, "memory_idle_ms", prm->memory_idle_ms);
    bench_json_object_end(json);
}

static void print_rtt(bench_json *json, const results *res, uint32_t runs)
{
    bench_json_object_begin(json, "rtt");
    for (int d = 0; d < DELIVERY_COUNT; d++) {
        bench_json_object_begin(json, delivery_names[d]);
        for (int b = 0; b < BACKEND_COUNT; b++) {
            bench_json_object_begin(json, backend_names[b]);
            bench_json_runs(json, "rtt_p50_us", res->rtt_p50_us[d].run[b], runs);
            bench_json_runs(json, "rtt_p99_us", res->rtt_p99_us[d].run[b], runs);
            bench_json_uint(json, "lost", res->rtt_lost[d][b]);
            bench_json_object_end(json);
        }
        bench_json_number(json, "ratio_rtt_p50", ratio_median(&res->rtt_p50_us[d], runs));
        bench_json_number(json, "ratio_rtt_p99", ratio_median(&res->rtt_p99_us[d], runs));
        bench_json_object_end(json);
    }
    bench_json_object_end(json);
}

static void print_throughput(bench_json *json, const results *res, uint32_t runs)
{
    bench_json_object_begin(json, "throughput");
    for (int d = 0; d < DELIVERY_COUNT; d++) {
        for (size_t w = 0; w < WINDOW_COUNT; w++) {
            char key[64];
            snprintf(key, sizeof key, "%s_window_%u", delivery_names[d], (unsigned)windows[w]);
            bench_json_object_begin(json, key);
            for (int b = 0; b < BACKEND_COUNT; b++) {
                bench_json_object_begin(json, backend_names[b]);
                bench_json_runs(json, "msgs_per_s", res->msgs_per_s[d][w].run[b], runs);
                bench_json_uint(json, "lost", res->throughput_lost[d][w][b]);
                bench_json_object_end(json);
            }
            bench_json_number(json, "ratio_msgs_per_s", ratio_median(&res->msgs_per_s[d][w], runs));
            bench_json_object_end(json);
        }
    }
    bench_json_object_end(json);
}

static void print_memory(bench_json *json, const results *res, uint32_t runs)
{
    bench_json_object_begin(json, "memory");
    bench_json_string(json, "method",
                      "live bytes the server host requested through netcore's allocator and "
                      "ENet's callbacks, max_peers = peers, every peer connected and idle");
    for (int b = 0; b < BACKEND_COUNT; b++) {
        bench_json_object_begin(json, backend_names[b]);
        for (int f = 0; f < MEMORY_FIELD_COUNT; f++)
            if (b != BACKEND_RAW_ENET || f != MEMORY_NETCORE_ALLOCATOR)
                bench_json_runs(json, memory_field_names[f], res->memory[f].run[b], runs);
        bench_json_object_end(json);
    }
    bench_json_number(json, "ratio_bytes_per_peer",
                      ratio_median(&res->memory[MEMORY_BYTES_PER_PEER], runs));
    bench_json_object_end(json);
}

/* A goal is met when each of its ratios is finite and on the right side. */
static void print_goal(bench_json *json, const results *res, uint32_t runs)
{
    bool rtt_p50_ok = true, rtt_p99_ok = true, throughput_ok = true;
    for (int d = 0; d < DELIVERY_COUNT; d++) {
        rtt_p50_ok = rtt_p50_ok && ratio_median(&res->rtt_p50_us[d], runs) <= RTT_RATIO_GOAL;
        rtt_p99_ok = rtt_p99_ok && ratio_median(&res->rtt_p99_us[d], runs) <= RTT_RATIO_GOAL;
        for (size_t w = 0; w < WINDOW_COUNT; w++)
            throughput_ok = throughput_ok &&
                            ratio_median(&res->msgs_per_s[d][w], runs) >= THROUGHPUT_RATIO_GOAL;
    }
    bench_json_object_begin(json, "goal");
    bench_json_number(json, "rtt_ratio_max", RTT_RATIO_GOAL);
    bench_json_number(json, "throughput_ratio_min", THROUGHPUT_RATIO_GOAL);
    bench_json_bool(json, "rtt_p50_within_goal", rtt_p50_ok);
    bench_json_bool(json, "rtt_p99_within_goal", rtt_p99_ok);
    bench_json_bool(json, "throughput_within_goal", throughput_ok);
    bench_json_object_end(json);
}

/* Sealed netcore against raw ENet (and against unsealed netcore) in the same
 * runs; the overhead is measured from the sealed hosts' own counters. */
static void print_encryption(bench_json *json, const results *res, uint32_t runs)
{
    const size_t w10 = 1; /* windows[1] == 10 */
    double rtt_rel = ratio_median(&res->rtt_p50_us[DELIVERY_RELIABLE], runs);
    double rtt_unrel = ratio_median(&res->rtt_p50_us[DELIVERY_UNRELIABLE], runs);
    double overhead[DELIVERY_COUNT];
    uint64_t bytes = 0, messages = 0;
    for (int d = 0; d < DELIVERY_COUNT; d++) {
        overhead[d] = res->sealed_messages[d]
                          ? (double)res->seal_overhead_bytes[d] / (double)res->sealed_messages[d]
                          : NAN;
        bytes += res->seal_overhead_bytes[d];
        messages += res->sealed_messages[d];
    }
    double overhead_all = messages ? (double)bytes / (double)messages : NAN;
    bench_json_object_begin(json, "encryption");
    bench_json_string(json, "method",
                      "netcore sealed (ChaCha20-Poly1305-IETF, every message after admission) "
                      "against raw ENet and unsealed netcore, chunks alternating in the same run; "
                      "ratios are medians over runs of sealed / other");
    bench_json_number(json, "rtt_reliable_ratio_p50", rtt_rel);
    bench_json_number(json, "rtt_unreliable_ratio_p50", rtt_unrel);
    bench_json_number(json, "throughput_unreliable_window_10_ratio",
                      ratio_median(&res->msgs_per_s[DELIVERY_UNRELIABLE][w10], runs));
    bench_json_number(json, "overhead_bytes_per_message", overhead_all);
    bench_json_number(json, "overhead_bytes_reliable", overhead[DELIVERY_RELIABLE]);
    bench_json_number(json, "overhead_bytes_unreliable", overhead[DELIVERY_UNRELIABLE]);
    bench_json_object_begin(json, "vs_unsealed");
    bench_json_number(json, "rtt_reliable_ratio_p50",
                      ratio_median_of(&res->rtt_p50_us[DELIVERY_RELIABLE], runs, BACKEND_NETCORE,
                                      BACKEND_NETCORE_UNSEALED));
    bench_json_number(json, "rtt_unreliable_ratio_p50",
                      ratio_median_of(&res->rtt_p50_us[DELIVERY_UNRELIABLE], runs, BACKEND_NETCORE,
                                      BACKEND_NETCORE_UNSEALED));
    bench_json_number(json, "throughput_unreliable_window_10_ratio",
                      ratio_median_of(&res->msgs_per_s[DELIVERY_UNRELIABLE][w10], runs,
                                      BACKEND_NETCORE, BACKEND_NETCORE_UNSEALED));
    bench_json_object_end(json);
    bench_json_object_begin(json, "goal");
    bench_json_number(json, "rtt_ratio_max", SEALED_RTT_RATIO_GOAL);
    bench_json_number(json, "overhead_bytes_max", SEALED_OVERHEAD_GOAL_BYTES);
    bench_json_bool(json, "rtt_within_goal",
                    rtt_rel <= SEALED_RTT_RATIO_GOAL && rtt_unrel <= SEALED_RTT_RATIO_GOAL);
    bench_json_bool(json, "overhead_within_goal", overhead_all <= SEALED_OVERHEAD_GOAL_BYTES);
    bench_json_object_end(json);
    bench_json_object_end(json);
}

void tb_print_report(const results *res, const params *prm, double elapsed_s, double cpu_share,
                     double load_at_start, unsigned error_count, const char *first_error)
{
    bench_json json;
    bench_json_init(&json, stdout);
    bench_json_object_begin(&json, NULL);
    bench_json_string(&json, "benchmark", "transport");
    bench_json_string(&json, "netcore_version", netcore_version_string());
    ENetVersion enet_version = enet_linked_version();
    char enet_text[32];
    snprintf(enet_text, sizeof enet_text, "%u.%u.%u",
             (unsigned)ENET_VERSION_GET_MAJOR(enet_version),
             (unsigned)ENET_VERSION_GET_MINOR(enet_version),
             (unsigned)ENET_VERSION_GET_PATCH(enet_version));
    bench_json_string(&json, "enet_version", enet_text);
    bench_json_machine(&json);
    bench_json_number(&json, "load_avg_1min_at_start", load_at_start);
    print_parameters(&json, prm);
    print_rtt(&json, res, prm->runs);
    print_throughput(&json, res, prm->runs);
    print_memory(&json, res, prm->runs);
    print_goal(&json, res, prm->runs);
    print_encryption(&json, res, prm->runs);
    bench_json_uint(&json, "errors", error_count);
    bench_json_string(&json, "first_error", error_count ? first_error : NULL);
    bench_json_number(&json, "elapsed_s", elapsed_s);
    bench_json_number(&json, "cpu_share", cpu_share);
    bench_json_object_end(&json);
    bench_json_finish(&json);
}
