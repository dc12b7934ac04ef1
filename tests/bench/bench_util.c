/* Helpers shared by the benchmark programs: options, time, statistics, a
 * counting allocator and a JSON writer. */
#define _POSIX_C_SOURCE 200809L
#include "bench_util.h"

#include "cli_args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

bench_args_result bench_options_parse(int argc, char **argv, const char *usage, uint32_t quick_runs,
                                      uint32_t quick_messages, uint32_t max_runs,
                                      uint32_t max_messages, bench_options *options)
{
    bool runs_set = false, messages_set = false;
    /* Hidden flags (no help text): each benchmark's usage text documents them,
     * since what --messages counts is the benchmark's own. */
    nci_cli_flag flags[] = {
        NCI_CLI_SWITCH_FLAG("quick", &options->quick, NULL),
        NCI_CLI_U32_FLAG("runs", &options->runs, 1, max_runs, "N", NULL),
        NCI_CLI_U32_FLAG("messages", &options->messages, 1, max_messages, "N", NULL),
    };
    flags[1].seen = &runs_set;
    flags[2].seen = &messages_set;
    const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
    const nci_cli_spec spec = {
        .program = slash ? slash + 1 : (argc > 0 ? argv[0] : "bench"),
        .usage_line = usage,
        .flags = flags,
        .flag_count = sizeof flags / sizeof flags[0],
    };
    nci_cli_status status = nci_cli_parse(&spec, argc, argv, stdout, stderr);
    if (status != NCI_CLI_OK)
        return status == NCI_CLI_HELP ? BENCH_ARGS_HELP : BENCH_ARGS_ERROR;
    if (options->quick && !runs_set)
        options->runs = quick_runs;
    if (options->quick && !messages_set)
        options->messages = quick_messages;
    return BENCH_ARGS_OK;
}

/* ------------------------------------------------------------------ */
/* Time and statistics                                                 */
/* ------------------------------------------------------------------ */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_cpu_time_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_sort_doubles(double *values, size_t count)
{
    if (count > 1)
        qsort(values, count, sizeof *values, compare_doubles);
}

double bench_percentile_sorted(const double *sorted, size_t count, double pct)
{
    if (count == 0)
        return NAN;
    double rank = ceil(pct / 100.0 * (double)count);
    size_t index = rank < 1.0 ? 0 : (size_t)rank - 1;
    return sorted[index < count ? index : count - 1];
}

double bench_median(const double *values, size_t count)
{
    double *finite = count ? malloc(count * sizeof *finite) : NULL;
    if (!finite)
        return NAN;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (isfinite(values[i]))
            finite[n++] = values[i];
    double median = NAN;
    if (n > 0) {
        bench_sort_doubles(finite, n);
        median = n % 2 ? finite[n / 2] : (finite[n / 2 - 1] + finite[n / 2]) / 2.0;
    }
    free(finite);
    return median;
}

/* ------------------------------------------------------------------ */
/* Counting allocator                                                  */
/* ------------------------------------------------------------------ */

/* The header keeps the returned pointer aligned for any object type. */
typedef union alloc_header {
    max_align_t align;
    struct {
        bench_alloc_counter *counter;
        size_t size_bytes;
    } info;
} alloc_header;

void *bench_counting_alloc(void *counter, size_t size_bytes)
{
    if (size_bytes > SIZE_MAX - sizeof(alloc_header))
        return NULL;
    alloc_header *header = malloc(sizeof(alloc_header) + size_bytes);
    if (!header)
        return NULL;
    bench_alloc_counter *c = counter;
    header->info.counter = c;
    header->info.size_bytes = size_bytes;
    c->live_bytes += size_bytes;
    c->allocations++;
    if (c->live_bytes > c->peak_bytes)
        c->peak_bytes = c->live_bytes;
    return header + 1;
}

void bench_counting_free(void *user, void *ptr)
{
    (void)user;
    if (!ptr)
        return;
    alloc_header *header = (alloc_header *)ptr - 1;
    header->info.counter->live_bytes -= header->info.size_bytes;
    header->info.counter->frees++;
    free(header);
}

netcore_allocator bench_counting_allocator(bench_alloc_counter *counter)
{
    netcore_allocator allocator = {bench_counting_alloc, bench_counting_free, counter};
    return allocator;
}

/* ------------------------------------------------------------------ */
/* JSON output                                                         */
/* ------------------------------------------------------------------ */

static void json_escaped(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void json_newline(bench_json *json)
{
    fputc('\n', json->out);
    for (int i = 0; i < json->depth; i++)
        fputs("  ", json->out);
}

/* Separator (and in objects a new indented line) before an item, then its key. */
static void json_item(bench_json *json, const char *key)
{
    if (json->depth > 0) {
        int top = json->depth - 1;
        if (json->has_items[top])
            fputs(json->is_array[top] ? ", " : ",", json->out);
        if (!json->is_array[top])
            json_newline(json);
        json->has_items[top] = true;
    }
    if (key) {
        json_escaped(json->out, key);
        fputs(": ", json->out);
    }
}

static void json_open(bench_json *json, const char *key, char bracket)
{
    json_item(json, key);
    fputc(bracket, json->out);
    if (json->depth < BENCH_JSON_MAX_DEPTH) {
        json->has_items[json->depth] = false;
        json->is_array[json->depth] = bracket == '[';
        json->depth++;
    }
}

static void json_close(bench_json *json, char bracket)
{
    if (json->depth == 0)
        return;
    json->depth--;
    if (json->has_items[json->depth] && !json->is_array[json->depth])
        json_newline(json);
    fputc(bracket, json->out);
}

void bench_json_init(bench_json *json, FILE *out)
{
    memset(json, 0, sizeof *json);
    json->out = out;
}

void bench_json_object_begin(bench_json *json, const char *key)
{
    json_open(json, key, '{');
}
void bench_json_object_end(bench_json *json)
{
    json_close(json, '}');
}
void bench_json_array_begin(bench_json *json, const char *key)
{
    json_open(json, key, '[');
}
void bench_json_array_end(bench_json *json)
{
    json_close(json, ']');
}

void bench_json_number(bench_json *json, const char *key, double value)
{
    json_item(json, key);
    if (!isfinite(value))
        fputs("null", json->out);
    else if (value == floor(value) && fabs(value) < 1e15)
        fprintf(json->out, "%.0f", value);
    else
        fprintf(json->out, "%.7g", value);
}

void bench_json_uint(bench_json *json, const char *key, uint64_t value)
{
    json_item(json, key);
    fprintf(json->out, "%llu", (unsigned long long)value);
}

void bench_json_bool(bench_json *json, const char *key, bool value)
{
    json_item(json, key);
    fputs(value ? "true" : "false", json->out);
}

void bench_json_string(bench_json *json, const char *key, const char *value)
{
    json_item(json, key);
    if (value)
        json_escaped(json->out, value);
    else
        fputs("null", json->out);
}

void bench_json_runs(bench_json *json, const char *key, const double *values, size_t count)
{
    char runs_key[128];
    snprintf(runs_key, sizeof runs_key, "%s_runs", key);
    bench_json_number(json, key, bench_median(values, count));
    bench_json_array_begin(json, runs_key);
    for (size_t i = 0; i < count; i++)
        bench_json_number(json, NULL, values[i]);
    bench_json_array_end(json);
}

void bench_json_finish(bench_json *json)
{
    fputc('\n', json->out);
    fflush(json->out);
}

/* Copies the value of the first "model name" line of /proc/cpuinfo. */
static bool read_cpu_model(char *buffer, size_t buffer_size)
{
    FILE *file = fopen("/proc/cpuinfo", "r");
    if (!file)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, file)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *value = strchr(line, ':');
        if (!value)
            continue;
        value++;
        while (*value == ' ' || *value == '\t')
            value++;
        snprintf(buffer, buffer_size, "%s", value);
        buffer[strcspn(buffer, "\n")] = '\0';
        found = true;
    }
    fclose(file);
    return found;
}

double bench_load_avg_1min(void)
{
    FILE *file = fopen("/proc/loadavg", "r");
    if (!file)
        return NAN;
    double load = NAN;
    if (fscanf(file, "%lf", &load) != 1)
        load = NAN;
    fclose(file);
    return load;
}

void bench_json_machine(bench_json *json)
{
    bench_json_object_begin(json, "machine");
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    bench_json_number(json, "nproc", nproc > 0 ? (double)nproc : NAN);
    char cpu_model[256];
    bench_json_string(json, "cpu_model",
                      read_cpu_model(cpu_model, sizeof cpu_model) ? cpu_model : NULL);
    struct utsname names;
    char kernel[sizeof names.release + sizeof names.version + 1];
    bool have_kernel = uname(&names) == 0;
    if (have_kernel)
        snprintf(kernel, sizeof kernel, "%s %s", names.release, names.version);
    bench_json_string(json, "kernel", have_kernel ? kernel : NULL);
    bench_json_number(json, "load_avg_1min", bench_load_avg_1min());
    bench_json_object_end(json);
}
