/*
 * Helpers shared by the benchmark programs in tests/bench: command-line
 * options, monotonic time, medians and percentiles, a counting allocator and
 * a small JSON writer. Every benchmark prints exactly one JSON object on
 * stdout (keys in snake_case with units in the name) and accepts --quick,
 * which the "bench-smoke" CTest label runs.
 */
#ifndef NETCORE_BENCH_UTIL_H
#define NETCORE_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netcore/netcore.h"

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

typedef struct bench_options {
    bool quick;        /* --quick: tiny counts, for the smoke test */
    uint32_t runs;     /* --runs N: repetitions whose median is reported */
    uint32_t messages; /* --messages N: per measurement; meaning is the benchmark's */
} bench_options;

typedef enum bench_args_result {
    BENCH_ARGS_OK = 0,
    BENCH_ARGS_HELP, /* --help was given; usage was printed to stdout */
    BENCH_ARGS_ERROR /* unknown flag or bad number; a message and usage went to stderr */
} bench_args_result;

/*
 * Parses --quick, --runs N, --messages N and --help into *options, starting
 * from the defaults given there. With --quick, fields not set explicitly take
 * quick_runs / quick_messages. --runs takes 1..max_runs and --messages
 * 1..max_messages (decimal), as "--runs N" or "--runs=N" (netcore_cli_args).
 * usage, the benchmark's own text documenting these flags, is printed on
 * --help (stdout) and after an error naming the program and the flag
 * (stderr); not owned.
 */
bench_args_result bench_options_parse(int argc, char **argv, const char *usage, uint32_t quick_runs,
                                      uint32_t quick_messages, uint32_t max_runs,
                                      uint32_t max_messages, bench_options *options);

/* ------------------------------------------------------------------ */
/* Time and statistics                                                 */
/* ------------------------------------------------------------------ */

/* CLOCK_MONOTONIC in nanoseconds since an arbitrary start. */
uint64_t bench_now_ns(void);

/* CPU time used by the whole process (CLOCK_PROCESS_CPUTIME_ID), nanoseconds.
 * A busy-polling benchmark whose CPU time is well below its wall time was
 * preempted by other work on the machine. */
uint64_t bench_cpu_time_ns(void);

/* Sorts values ascending in place; NaN values are not allowed. */
void bench_sort_doubles(double *values, size_t count);

/* Nearest-rank percentile (pct in 0..100) of values already sorted ascending:
 * the smallest value with at least pct% of the values at or below it.
 * Returns NaN for count 0. */
double bench_percentile_sorted(const double *sorted, size_t count, double pct);

/* Median of the finite values among values[0..count) (NaN entries, e.g. failed
 * runs, are skipped); the mean of the two middle values for an even count.
 * values is not modified. Returns NaN if no value is finite or memory runs out. */
double bench_median(const double *values, size_t count);

/* ------------------------------------------------------------------ */
/* Counting allocator                                                  */
/* ------------------------------------------------------------------ */

/* Bytes requested and still live through bench_counting_alloc for one owner.
 * Only requested sizes are counted (not malloc's own per-block overhead). */
typedef struct bench_alloc_counter {
    size_t live_bytes;
    size_t peak_bytes;
    uint64_t allocations;
    uint64_t frees;
} bench_alloc_counter;

/* malloc() with a small hidden header that remembers size and counter, so the
 * free can be charged back to the counter that paid for the block. counter
 * (a bench_alloc_counter *) must outlive the block. NULL on failure. */
void *bench_counting_alloc(void *counter, size_t size_bytes);
/* Frees a block from bench_counting_alloc; ptr may be NULL; user is ignored
 * (the block's header names its counter). */
void bench_counting_free(void *user, void *ptr);
/* A netcore_allocator that charges counter; counter must outlive every block. */
netcore_allocator bench_counting_allocator(bench_alloc_counter *counter);

/* ------------------------------------------------------------------ */
/* JSON output                                                         */
/* ------------------------------------------------------------------ */

#define BENCH_JSON_MAX_DEPTH 16

/* Streaming JSON writer: objects one member a line with two-space indentation,
 * arrays on one line. key is the member name inside an object and must be
 * NULL at the top level and inside arrays.
 * Nesting deeper than BENCH_JSON_MAX_DEPTH is ignored (the output is then
 * invalid); callers keep their documents shallow. */
typedef struct bench_json {
    FILE *out;
    int depth;
    bool has_items[BENCH_JSON_MAX_DEPTH];
    bool is_array[BENCH_JSON_MAX_DEPTH];
} bench_json;

void bench_json_init(bench_json *json, FILE *out);
void bench_json_object_begin(bench_json *json, const char *key);
void bench_json_object_end(bench_json *json);
void bench_json_array_begin(bench_json *json, const char *key);
void bench_json_array_end(bench_json *json);
/* Non-finite numbers (NaN for a figure that could not be measured) print as null. */
void bench_json_number(bench_json *json, const char *key, double value);
void bench_json_uint(bench_json *json, const char *key, uint64_t value);
void bench_json_bool(bench_json *json, const char *key, bool value);
/* value NULL prints null; otherwise it is escaped as JSON requires. */
void bench_json_string(bench_json *json, const char *key, const char *value);
/* Writes key: the median of values[0..count) (see bench_median), then
 * key_runs: every value, in run order, for judging the spread. */
void bench_json_runs(bench_json *json, const char *key, const double *values, size_t count);
/* Ends the document with a newline and flushes the stream. */
void bench_json_finish(bench_json *json);

/* First field of /proc/loadavg (runnable tasks averaged over one minute), NaN
 * if unreadable: a run on a busy machine gives noisy figures. */
double bench_load_avg_1min(void);

/* Writes a "machine" object: nproc (online CPUs), cpu_model (from
 * /proc/cpuinfo), kernel (uname release and version) and load_avg_1min (from
 * /proc/loadavg, to judge how quiet the machine was). Unreadable fields are null. */
void bench_json_machine(bench_json *json);

#endif /* NETCORE_BENCH_UTIL_H */
