/*
 * server_load: how many players one netcore game server holds, and what each
 * costs (see server_load.h for the processes and docs/benchmarks.md for how
 * to read the figures).
 *
 * For each client count N (--clients, default 16,64,128,256,512,1024) it
 * runs, one after the other:
 *   1. the netcore server and N bots in several processes: all N connect
 *      within one second (the join storm), then after a second of settling
 *      the server is measured for --duration seconds;
 *   2. a raw ENet server and N raw ENet clients exchanging unreliable packets
 *      of the payload sizes measured in 1, at the same rates, measured over
 *      the same window length (raw_enet_cpu_pct).
 * and prints one JSON object: clients_<N> holds tick_ms_p50, tick_ms_p99,
 * cpu_pct, cpu_us_per_client_tick, rss_bytes_per_client, out_kbps_per_client,
 * snapshot_loss_pct, connected, join_storm_s, refused and raw_enet_cpu_pct
 * (and the details behind them). Every phase is bounded in time; nothing is
 * asserted. --quick: N = 16 for one second (the smoke test).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "cli_args.h"
#include "server_load.h"

#define MAX_COUNTS 16
#define SETTLE_US 1000000u
#define CHILD_EXIT_GRACE_US 15000000u

typedef struct load_options {
    uint32_t counts[MAX_COUNTS];
    uint32_t count_total;
    uint32_t duration_s;
    uint32_t join_timeout_s;
    uint32_t bots_per_proc;
    uint32_t bot_poll_ms;
    uint32_t source_addresses;
    uint32_t runs;
    bool raw;
} load_options;

typedef struct phase_result {
    bool ran;
    uint32_t procs;      /* bot processes */
    double join_storm_s; /* NaN: not everyone was admitted in time */
    uint32_t admitted_in_storm;
    sl_server_result server;
    sl_bot_result bots; /* summed over processes */
    double window_s;
    double elapsed_s; /* the whole phase, from the server's start */
} phase_result;

/* ------------------------------------------------------------------ */
/* Helpers shared by every process                                     */
/* ------------------------------------------------------------------ */

uint64_t sl_now_us(void)
{
    return bench_now_ns() / 1000u;
}

void sl_sleep_until_us(uint64_t deadline_us)
{
    uint64_t now = sl_now_us();
    if (deadline_us <= now) {
        return;
    }
    uint64_t wait_us = deadline_us - now;
    struct timespec ts = {(time_t)(wait_us / 1000000u), (long)(wait_us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

uint64_t sl_rss_bytes(void)
{
    FILE *file = fopen("/proc/self/status", "r");
    if (file == NULL) {
        return 0;
    }
    char line[256];
    uint64_t kib = 0;
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtoull(line + 6, NULL, 10);
            break;
        }
    }
    fclose(file);
    return kib * 1024u;
}

uint64_t sl_process_cpu_us(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        return 0;
    }
    return (uint64_t)usage.ru_utime.tv_sec * 1000000u + (uint64_t)usage.ru_utime.tv_usec +
           (uint64_t)usage.ru_stime.tv_sec * 1000000u + (uint64_t)usage.ru_stime.tv_usec;
}

float sl_arena_m(uint32_t clients)
{
    return sqrtf((float)clients * SL_AREA_PER_PLAYER_M2);
}

static netcore_result add_field(netcore_schema *schema, const netcore_field_desc *desc)
{
    return netcore_schema_add_field(schema, 0, desc, NULL);
}

netcore_result sl_schema_create(float arena_m, netcore_schema **out_schema)
{
    netcore_schema_config config;
    netcore_schema_config_default(&config);
    netcore_schema *schema = NULL;
    netcore_result result = netcore_schema_create(&config, &schema);
    uint16_t type = 0;
    if (result == NETCORE_OK) {
        result = netcore_schema_add_type(schema, "player", &type);
    }
    /* Field order must match SL_FIELD_*: position at 1 cm, yaw in 8 bits,
     * health, owner (client index) and the low 16 bits of the last input
     * tick the server applied (the owner's input acknowledgement). */
    const netcore_field_desc fields[] = {
        {"x", NETCORE_FIELD_FLOAT, 0, false, 0.0f, arena_m, 0.01f},
        {"y", NETCORE_FIELD_FLOAT, 0, false, 0.0f, arena_m, 0.01f},
        {"yaw", NETCORE_FIELD_ANGLE, 8, false, 0.0f, 0.0f, 0.0f},
        {"health", NETCORE_FIELD_INT, 7, false, 0.0f, 0.0f, 0.0f},
        {"owner", NETCORE_FIELD_INT, 16, false, 0.0f, 0.0f, 0.0f},
        {"last_input", NETCORE_FIELD_INT, 16, false, 0.0f, 0.0f, 0.0f},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && result == NETCORE_OK; i++) {
        result = add_field(schema, &fields[i]);
    }
    if (result == NETCORE_OK) {
        result = netcore_schema_finalize(schema);
    }
    if (result != NETCORE_OK) {
        netcore_schema_destroy(schema);
        return result;
    }
    *out_schema = schema;
    return NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/* --clients N[,N...]: up to MAX_COUNTS counts of 1..SL_MAX_CLIENTS. */
static bool parse_counts(const nci_cli_flag *flag, const char *text)
{
    load_options *options = flag->target;
    char buffer[256];
    if (strlen(text) >= sizeof buffer) {
        return false;
    }
    strcpy(buffer, text);
    options->count_total = 0;
    for (char *save = NULL, *item = strtok_r(buffer, ",", &save); item != NULL;
         item = strtok_r(NULL, ",", &save)) {
        uint64_t count = 0;
        if (options->count_total == MAX_COUNTS ||
            !nci_cli_parse_u64(item, 1, SL_MAX_CLIENTS, &count)) {
            return false;
        }
        options->counts[options->count_total++] = (uint32_t)count;
    }
    return options->count_total > 0;
}

/* Returns 0 to run, 1 after --help, 2 on a bad command line. */
static int parse_options(int argc, char **argv, load_options *options)
{
    static const uint32_t defaults[] = {16, 64, 128, 256, 512, 1024};
    memset(options, 0, sizeof *options);
    memcpy(options->counts, defaults, sizeof defaults);
    options->count_total = sizeof defaults / sizeof defaults[0];
    options->duration_s = 10;
    options->join_timeout_s = 30;
    options->bots_per_proc = 128;
    options->bot_poll_ms = 4;
    options->source_addresses = SL_SOURCE_ADDRESSES;
    options->runs = 1;
    bool quick = false, no_raw = false;
    bool clients_set = false, duration_set = false, join_timeout_set = false;
    nci_cli_flag flags[] = {
        NCI_CLI_CUSTOM_FLAG(
            "clients", parse_counts, options, "N[,N...]",
            "client counts to run (default 16,64,128,256,512,1024;\nat most 1024 each)"),
        /* Snapshot sequences are 16 bits: 30 Hz for 1,800 s stays below a wrap. */
        NCI_CLI_U32_FLAG(
            "duration", &options->duration_s, 1, 1800, "S",
            "seconds measured per count once everyone joined\n(default 10, at most 1800)"),
        NCI_CLI_U32_FLAG("join-timeout", &options->join_timeout_s, 1, 600, "S",
                         "seconds the join storm may take before measuring\nanyway (default 30)"),
        NCI_CLI_U32_FLAG("bots-per-proc", &options->bots_per_proc, 1, SL_MAX_CLIENTS, "N",
                         "bots per bot process (default 128)"),
        NCI_CLI_U32_FLAG("runs", &options->runs, 1, 32, "N",
                         "repetitions per count; medians are printed, each run\nunder *_runs"),
        NCI_CLI_U32_FLAG("source-addresses", &options->source_addresses, 1, SL_MAX_SOURCE_ADDRESSES,
                         "N",
                         "bots send from 127.0.0.2 .. 127.0.0.(1 + N) (default\n64, at most 250)"),
        NCI_CLI_U32_FLAG("bot-poll-ms", &options->bot_poll_ms, 1, 100, "MS",
                         "how often each bot services its host (default 4)"),
        NCI_CLI_SWITCH_FLAG("no-raw", &no_raw, "skip the raw ENet baseline"),
        NCI_CLI_SWITCH_FLAG(
            "quick", &quick,
            "16 clients, 1 s (the smoke test); flags given\nexplicitly still apply"),
    };
    flags[0].seen = &clients_set;
    flags[1].seen = &duration_set;
    flags[2].seen = &join_timeout_set;
    const nci_cli_spec spec = {
        .program = "server_load",
        .usage_line = "usage: server_load [options]",
        .preamble = "One game server and N real clients in several processes over loopback;\n"
                    "prints one JSON object (see docs/benchmarks.md).\n",
        .flags = flags,
        .flag_count = sizeof flags / sizeof flags[0],
    };
    nci_cli_status status = nci_cli_parse(&spec, argc, argv, stdout, stderr);
    if (status != NCI_CLI_OK) {
        return status == NCI_CLI_HELP ? 1 : 2;
    }
    options->raw = !no_raw;
    if (quick) {
        if (!clients_set) {
            options->counts[0] = 16;
            options->count_total = 1;
        }
        if (!duration_set) {
            options->duration_s = 1;
        }
        if (!join_timeout_set) {
            options->join_timeout_s = 15;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* One phase: a server and its bot processes                           */
/* ------------------------------------------------------------------ */

static pid_t spawn(sl_shared *shared, int proc)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int status = proc < 0 ? sl_server_main(shared) : sl_bots_main(shared, (uint32_t)proc);
        _exit(status);
    }
    return pid;
}

/* Waits for every child until deadline_us, then kills what is left. */
static void reap(pid_t *pids, uint32_t count, uint64_t deadline_us)
{
    for (uint32_t i = 0; i < count; i++) {
        while (pids[i] > 0) {
            int status = 0;
            pid_t done = waitpid(pids[i], &status, WNOHANG);
            if (done == pids[i] || done < 0) {
                if (done == pids[i] && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
                    fprintf(stderr, "server_load: child %d ended with status %d\n", (int)pids[i],
                            status);
                }
                pids[i] = 0;
            } else if (sl_now_us() >= deadline_us) {
                fprintf(stderr, "server_load: child %d did not stop; killing it\n", (int)pids[i]);
                kill(pids[i], SIGKILL);
                (void)waitpid(pids[i], &status, 0);
                pids[i] = 0;
            } else {
                sl_sleep_until_us(sl_now_us() + 10000u);
            }
        }
    }
}

static void sum_bots(const sl_shared *shared, sl_bot_result *out)
{
    memset(out, 0, sizeof *out);
    out->ok = true;
    for (uint32_t p = 0; p < shared->procs; p++) {
        const sl_bot_result *bots = &shared->bots[p];
        out->ok = out->ok && bots->ok;
        out->bots += bots->bots;
        out->connected_at_end += bots->connected_at_end;
        out->connect_attempts += bots->connect_attempts;
        out->refused += bots->refused;
        out->decode_errors += bots->decode_errors;
        out->snapshots_expected += bots->snapshots_expected;
        out->snapshots_arrived += bots->snapshots_arrived;
        out->cpu_s += bots->cpu_s;
    }
}

static void run_phase(sl_shared *shared, const load_options *options, sl_kind kind,
                      uint32_t clients, phase_result *out)
{
    memset(out, 0, sizeof *out);
    uint32_t raw_snapshot_bytes = shared->raw_snapshot_bytes;
    uint32_t raw_input_bytes = shared->raw_input_bytes;
    memset(shared, 0, sizeof *shared);
    shared->kind = kind;
    shared->clients = clients;
    shared->procs = (clients + options->bots_per_proc - 1) / options->bots_per_proc;
    shared->procs = shared->procs < 2 && clients > 1 ? 2 : shared->procs;
    shared->procs = shared->procs > SL_MAX_PROCS ? SL_MAX_PROCS : shared->procs;
    shared->raw_snapshot_bytes = raw_snapshot_bytes;
    shared->raw_input_bytes = raw_input_bytes;
    shared->bot_poll_us = (uint64_t)options->bot_poll_ms * 1000u;
    shared->source_addresses = options->source_addresses;
    if (getrandom(shared->key, sizeof shared->key, 0) != (ssize_t)sizeof shared->key) {
        fprintf(stderr, "server_load: no random key\n");
        return;
    }

    pid_t pids[SL_MAX_PROCS + 1] = {0};
    uint64_t phase_start = sl_now_us();
    pids[0] = spawn(shared, -1);
    uint64_t deadline = sl_now_us() + 10000000u;
    while (atomic_load(&shared->server_port) == 0 && sl_now_us() < deadline && pids[0] > 0 &&
           waitpid(pids[0], NULL, WNOHANG) == 0) {
        sl_sleep_until_us(sl_now_us() + 2000u);
    }
    if (atomic_load(&shared->server_port) == 0) {
        fprintf(stderr, "server_load: the server did not start\n");
        atomic_store(&shared->stop, 1);
        reap(pids, 1, sl_now_us() + CHILD_EXIT_GRACE_US);
        return;
    }
    uint64_t storm_start = sl_now_us() + 300000u;
    atomic_store(&shared->storm_start_us, storm_start);
    for (uint32_t p = 0; p < shared->procs; p++) {
        pids[1 + p] = spawn(shared, (int)p);
    }
    /* The join storm: bounded by --join-timeout, measured from its start. */
    uint64_t join_deadline = storm_start + (uint64_t)options->join_timeout_s * 1000000u;
    while (atomic_load(&shared->admitted) < clients && sl_now_us() < join_deadline) {
        sl_sleep_until_us(sl_now_us() + 5000u);
    }
    out->admitted_in_storm = atomic_load(&shared->admitted);
    out->join_storm_s = out->admitted_in_storm >= clients
                            ? (double)(atomic_load(&shared->last_admit_us) - storm_start) / 1e6
                            : NAN;
    uint64_t measure_start = sl_now_us() + SETTLE_US;
    uint64_t measure_end = measure_start + (uint64_t)options->duration_s * 1000000u;
    atomic_store(&shared->measure_end_us, measure_end);
    atomic_store(&shared->measure_start_us, measure_start);
    sl_sleep_until_us(measure_end + 300000u);
    atomic_store(&shared->stop, 1);
    reap(pids, shared->procs + 1, sl_now_us() + CHILD_EXIT_GRACE_US);
    out->ran = true;
    out->procs = shared->procs;
    out->window_s = (double)options->duration_s;
    out->elapsed_s = (double)(sl_now_us() - phase_start) / 1e6;
    out->server = shared->server;
    sum_bots(shared, &out->bots);
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static double per(double value, double count)
{
    return count > 0 ? value / count : NAN;
}

/* Every figure printed per client count, in output order; the first eleven
 * are the ones the issue names, the rest explain them. */
enum {
    F_TICK_P50,
    F_TICK_P99,
    F_CPU,
    F_CPU_PER_CLIENT_TICK,
    F_RSS_PER_CLIENT,
    F_OUT_PER_CLIENT,
    F_SNAPSHOT_LOSS,
    F_CONNECTED,
    F_JOIN_STORM,
    F_REFUSED,
    F_RAW_CPU,
    F_RATIO_TO_RAW,
    F_SNAPSHOT_HZ,
    F_TICK_MAX,
    F_STEP_P99,
    F_TICKS,
    F_TICKS_LATE,
    F_RSS,
    F_OUT_KBPS,
    F_IN_KBPS,
    F_SNAPSHOT_BYTES,
    F_INPUT_BYTES,
    F_ADMITTED_IN_STORM,
    F_CONNECT_ATTEMPTS,
    F_ADMISSION_REJECTED,
    F_ADMISSION_TIMED_OUT,
    F_GUARD_DROPPED,
    F_GUARD_PER_IP_DROPPED,
    F_GUARD_UNKNOWN_DROPPED,
    F_DECODE_ERRORS,
    F_ENTITIES_DEFERRED,
    F_LAGCOMP_QUERIES,
    F_BOTS_CPU,
    F_RAW_CONNECTED,
    F_RAW_OUT_KBPS,
    F_COUNT
};
static const char *const figure_names[] = {
    "tick_ms_p50",
    "tick_ms_p99",
    "cpu_pct",
    "cpu_us_per_client_tick",
    "rss_bytes_per_client",
    "out_kbps_per_client",
    "snapshot_loss_pct",
    "connected",
    "join_storm_s",
    "refused",
    "raw_enet_cpu_pct",
    "cpu_ratio_to_raw_enet",
    "snapshot_hz_per_client",
    "tick_ms_max",
    "step_ms_p99",
    "ticks",
    "ticks_late",
    "rss_bytes",
    "out_kbps",
    "in_kbps",
    "snapshot_payload_bytes_mean",
    "input_payload_bytes_mean",
    "admitted_in_storm",
    "connect_attempts",
    "admission_rejected",
    "admission_timed_out",
    "guard_dropped",
    "guard_per_ip_dropped",
    "guard_unknown_dropped",
    "decode_errors",
    "entities_deferred",
    "lagcomp_queries",
    "bots_cpu_pct",
    "raw_enet_connected",
    "raw_enet_out_kbps",
};
_Static_assert(sizeof figure_names / sizeof figure_names[0] == F_COUNT, "one name per figure");

static void figures_of(uint32_t clients, const phase_result *load, const phase_result *raw,
                       double *f)
{
    const sl_server_result *s = &load->server;
    bool ok = load->ran && s->ok;
    bool raw_ok = raw != NULL && raw->ran && raw->server.ok;
    double window_us = load->window_s * 1e6;
    f[F_TICK_P50] = ok ? s->tick_ms_p50 : NAN;
    f[F_TICK_P99] = ok ? s->tick_ms_p99 : NAN;
    f[F_CPU] = ok ? s->cpu_pct : NAN;
    f[F_CPU_PER_CLIENT_TICK] =
        ok ? per(s->cpu_pct / 100.0 * window_us, (double)s->ticks * clients) : NAN;
    f[F_RSS_PER_CLIENT] = ok ? per(s->rss_bytes - s->rss_base_bytes, clients) : NAN;
    f[F_OUT_PER_CLIENT] = ok ? per(s->out_kbps, clients) : NAN;
    f[F_SNAPSHOT_LOSS] = load->bots.snapshots_expected > 0
                             ? 100.0 * (1.0 - (double)load->bots.snapshots_arrived /
                                                  (double)load->bots.snapshots_expected)
                             : NAN;
    f[F_CONNECTED] = load->ran ? s->connected_at_end : NAN;
    f[F_JOIN_STORM] = load->join_storm_s;
    f[F_REFUSED] = load->ran ? (double)load->bots.refused : NAN;
    f[F_RAW_CPU] = raw_ok ? raw->server.cpu_pct : NAN;
    f[F_RATIO_TO_RAW] = ok && raw_ok ? per(s->cpu_pct, raw->server.cpu_pct) : NAN;
    /* Snapshots the server sent per client per second (30 when every tick ran). */
    f[F_SNAPSHOT_HZ] = ok ? per((double)s->snapshots, clients * load->window_s) : NAN;
    f[F_TICK_MAX] = ok ? s->tick_ms_max : NAN;
    f[F_STEP_P99] = ok ? s->step_ms_p99 : NAN;
    f[F_TICKS] = (double)s->ticks;
    f[F_TICKS_LATE] = (double)s->ticks_late;
    f[F_RSS] = s->rss_bytes;
    f[F_OUT_KBPS] = s->out_kbps;
    f[F_IN_KBPS] = s->in_kbps;
    f[F_SNAPSHOT_BYTES] = per((double)s->snapshot_payload_bytes, (double)s->snapshots);
    f[F_INPUT_BYTES] = per((double)s->input_payload_bytes, (double)s->inputs);
    f[F_ADMITTED_IN_STORM] = load->admitted_in_storm;
    f[F_CONNECT_ATTEMPTS] = (double)load->bots.connect_attempts;
    f[F_ADMISSION_REJECTED] = (double)s->admission_rejected;
    f[F_ADMISSION_TIMED_OUT] = (double)s->admission_timed_out;
    f[F_GUARD_DROPPED] = (double)s->guard_dropped;
    f[F_GUARD_PER_IP_DROPPED] = (double)s->guard_per_ip_dropped;
    f[F_GUARD_UNKNOWN_DROPPED] = (double)s->guard_unknown_dropped;
    f[F_DECODE_ERRORS] = (double)load->bots.decode_errors;
    f[F_ENTITIES_DEFERRED] = (double)s->entities_deferred;
    f[F_LAGCOMP_QUERIES] = (double)s->lagcomp_queries;
    /* Bot CPU over the whole phase (join and settling included), % of one core. */
    f[F_BOTS_CPU] = per(load->bots.cpu_s * 100.0, load->elapsed_s);
    f[F_RAW_CONNECTED] = raw_ok ? raw->server.connected_at_end : NAN;
    f[F_RAW_OUT_KBPS] = raw_ok ? raw->server.out_kbps : NAN;
}

/* Medians over the runs, each with its runs beside it (key_runs). */
static void write_count(bench_json *json, uint32_t clients, uint32_t procs, double *values,
                        uint32_t runs)
{
    char key[32];
    snprintf(key, sizeof key, "clients_%u", clients);
    bench_json_object_begin(json, key);
    for (uint32_t f = 0; f < F_COUNT; f++) {
        bench_json_runs(json, figure_names[f], &values[(size_t)f * runs], runs);
    }
    bench_json_uint(json, "bot_processes", procs);
    bench_json_object_end(json);
}

int main(int argc, char **argv)
{
    load_options options;
    int parsed = parse_options(argc, argv, &options);
    if (parsed != 0) {
        return parsed == 1 ? 0 : 2;
    }
    if (netcore_init() != NETCORE_OK) {
        return 1;
    }
    /* Bots need one descriptor each; lift the soft limit to the hard one. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &files);
    }
    sl_shared *shared =
        mmap(NULL, sizeof(sl_shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        netcore_shutdown();
        return 1;
    }
    bench_json json;
    bench_json_init(&json, stdout);
    bench_json_object_begin(&json, NULL);
    bench_json_machine(&json);
    bench_json_object_begin(&json, "config");
    bench_json_uint(&json, "tick_hz", SL_TICK_HZ);
    bench_json_uint(&json, "snapshot_hz", SL_TICK_HZ / SL_SNAPSHOT_EVERY_TICKS);
    bench_json_uint(&json, "duration_s", options.duration_s);
    bench_json_uint(&json, "runs", options.runs);
    bench_json_uint(&json, "join_timeout_s", options.join_timeout_s);
    bench_json_uint(&json, "bots_per_proc", options.bots_per_proc);
    bench_json_uint(&json, "bot_poll_ms", options.bot_poll_ms);
    bench_json_uint(&json, "source_addresses", options.source_addresses);
    bench_json_number(&json, "view_radius_m", SL_VIEW_RADIUS_M);
    bench_json_number(&json, "area_per_player_m2", SL_AREA_PER_PLAYER_M2);
    bench_json_object_end(&json);
    double *values = calloc((size_t)F_COUNT * options.runs, sizeof *values);
    double *figures = calloc(F_COUNT, sizeof *figures);
    for (uint32_t i = 0; values != NULL && figures != NULL && i < options.count_total; i++) {
        uint32_t clients = options.counts[i];
        uint32_t procs = 0;
        for (uint32_t run = 0; run < options.runs; run++) {
            phase_result load;
            phase_result raw;
            fprintf(stderr, "server_load: %u clients, run %u, netcore\n", clients, run + 1);
            run_phase(shared, &options, SL_KIND_NETCORE, clients, &load);
            procs = load.procs;
            double snapshot_mean =
                per((double)load.server.snapshot_payload_bytes, (double)load.server.snapshots);
            double input_mean =
                per((double)load.server.input_payload_bytes, (double)load.server.inputs);
            bool raw_ran = false;
            if (options.raw && isfinite(snapshot_mean) && isfinite(input_mean)) {
                fprintf(stderr, "server_load: %u clients, run %u, raw ENet\n", clients, run + 1);
                shared->raw_snapshot_bytes = (uint32_t)lround(snapshot_mean);
                shared->raw_input_bytes = (uint32_t)lround(input_mean);
                run_phase(shared, &options, SL_KIND_RAW_ENET, clients, &raw);
                raw_ran = true;
            }
            figures_of(clients, &load, raw_ran ? &raw : NULL, figures);
            for (uint32_t f = 0; f < F_COUNT; f++) {
                values[(size_t)f * options.runs + run] = figures[f];
            }
        }
        write_count(&json, clients, procs, values, options.runs);
        fflush(stdout);
    }
    free(values);
    free(figures);
    bench_json_object_end(&json);
    bench_json_finish(&json);
    munmap(shared, sizeof(sl_shared));
    netcore_shutdown();
    return 0;
}
