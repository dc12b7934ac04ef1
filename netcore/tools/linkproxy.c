/* netcore-linkproxy: a UDP relay that impairs traffic between game clients
 * and a server (latency, jitter, loss, duplication, reordering, bandwidth
 * cap, byte corruption, per direction, seeded). Prints one JSON summary on stdout at exit. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/netcore.h"
#include "netcore/transport.h"
#include "transport/relay.h"
#include "platform/signals.h"
#include "cli_args.h"

#define EXIT_USAGE 2
#define MAX_DELAY_MS 3600000u
#define MAX_BANDWIDTH_KBPS 100000000u
#define POLL_SLICE_MS 250u

/* ------------------------------------------------------------------ */
/* Link parameters and their flags                                      */
/* ------------------------------------------------------------------ */

typedef enum param {
    PARAM_LATENCY,
    PARAM_JITTER,
    PARAM_LOSS,
    PARAM_DUP,
    PARAM_REORDER,
    PARAM_REORDER_DELAY,
    PARAM_BANDWIDTH,
    PARAM_CORRUPT,
    PARAM_COUNT
} param;

typedef enum scope { SCOPE_BOTH, SCOPE_UP, SCOPE_DOWN, SCOPE_COUNT } scope;

/* Flag names by parameter and scope: "--NAME", "--up-NAME", "--down-NAME". */
static const char *const param_flags[PARAM_COUNT][SCOPE_COUNT] = {
    {"latency", "up-latency", "down-latency"},
    {"jitter", "up-jitter", "down-jitter"},
    {"loss", "up-loss", "down-loss"},
    {"dup", "up-dup", "down-dup"},
    {"reorder", "up-reorder", "down-reorder"},
    {"reorder-delay", "up-reorder-delay", "down-reorder-delay"},
    {"bandwidth", "up-bandwidth", "down-bandwidth"},
    {"corrupt", "up-corrupt", "down-corrupt"},
};
/* Value label and help of the flags for both directions (the usage lists only those). */
static const char *const param_labels[PARAM_COUNT] = {"MS",  "MS", "PCT",  "PCT",
                                                      "PCT", "MS", "KBPS", "PCT"};
static const char *const param_help[PARAM_COUNT] = {
    "delay (0..3600000)",
    "uniform +/- around the latency (0..3600000)",
    "drop probability (0..100)",
    "duplication probability (0..100)",
    "hold-back probability, so later ones overtake\n(0..100)",
    "hold-back time (default max(10, 2 * jitter))",
    "rate cap in kilobits/s, 0 = none; a datagram that\nwould queue more than 1 s behind it is dropped",
    "probability of altering one random byte (0..100)",
};

typedef struct options {
    const char *listen_text;
    const char *forward_text;
    const char *bind_text;
    const char *preset_text;
    uint64_t seed;
    double seconds;
    uint32_t max_sessions;
    uint32_t session_timeout_ms;
    bool verbose;
    bool has[SCOPE_COUNT][PARAM_COUNT];
    double value[SCOPE_COUNT][PARAM_COUNT];
} options;

static const char usage_preamble[] =
    "\n"
    "Relays UDP datagrams from clients (sent to --listen) to --forward and the\n"
    "replies back, impairing both directions. Each client gets its own source\n"
    "address towards the target. On exit (time up, SIGINT, SIGTERM) prints one\n"
    "JSON object with what was forwarded, dropped, duplicated and reordered.\n"
    "Impairments apply to each direction (one-way figures); --preset is the\n"
    "starting point the other flags change.\n"
    "\n";
static const char usage_epilogue[] =
    "Per direction (override the above): --up-NAME and --down-NAME for every\n"
    "  impairment, e.g. --up-latency 40 --down-loss 5 --up-bandwidth 256.\n"
    "  up = client -> forward target, down = target -> client.\n";

/* Integer milliseconds and kbps (percentages are plain double flags). */
static bool parse_whole_param(const nci_cli_flag *flag, const char *text)
{
    uint64_t value;
    if (!nci_cli_parse_u64(text, 0, flag->max_u, &value))
        return false;
    *(double *)flag->target = (double)value;
    return true;
}

/* The flag of parameter p in scope s, writing opts->value[s][p] and has[s][p]. */
static nci_cli_flag param_flag(options *opts, param p, scope s)
{
    bool percent = p == PARAM_LOSS || p == PARAM_DUP || p == PARAM_REORDER || p == PARAM_CORRUPT;
    nci_cli_flag flag = {
        .name = param_flags[p][s],
        .kind = percent ? NCI_CLI_DOUBLE : NCI_CLI_CUSTOM,
        .target = &opts->value[s][p],
        .max_u = p == PARAM_BANDWIDTH ? MAX_BANDWIDTH_KBPS : MAX_DELAY_MS,
        .min_d = 0.0,
        .max_d = 100.0,
        .parse = parse_whole_param,
        .seen = &opts->has[s][p],
        .value_name = param_labels[p],
        .help = s == SCOPE_BOTH ? param_help[p] : NULL,
    };
    return flag;
}

enum { OTHER_FLAG_COUNT = 9, FLAG_COUNT = OTHER_FLAG_COUNT + PARAM_COUNT * SCOPE_COUNT };

/* Fills opts from argv. Returns 0 to run, 1 after --help (usage on stdout), 2
 * on a bad command line (reason and usage on stderr). spec and flags are the
 * caller's, so later checks can print the same usage. */
static int parse_args(int argc, char **argv, options *opts, nci_cli_spec *spec,
                      nci_cli_flag flags[FLAG_COUNT])
{
    memset(opts, 0, sizeof *opts);
    opts->seed = 1;
    opts->max_sessions = 256;
    opts->session_timeout_ms = 60000;
    const nci_cli_flag others[OTHER_FLAG_COUNT] = {
        NCI_CLI_TEXT_FLAG("listen", &opts->listen_text, "ADDR:PORT",
                          "where clients send (port 0: any)"),
        NCI_CLI_TEXT_FLAG("forward", &opts->forward_text, "ADDR:PORT",
                          "the target, e.g. a game server"),
        NCI_CLI_TEXT_FLAG("preset", &opts->preset_text, "NAME",
                          "perfect, lan, wifi, 4g or bad as a starting point"),
        NCI_CLI_U64_FLAG("seed", &opts->seed, 0, UINT64_MAX, "N",
                         "seed of every random decision (default 1)"),
        NCI_CLI_DOUBLE_FLAG("seconds", &opts->seconds, 0.0, 1e9, "S",
                            "run time, decimals allowed; 0 = until SIGINT/SIGTERM\n(default 0)"),
        NCI_CLI_U32_FLAG("max-sessions", &opts->max_sessions, 1, 1u << 20, "N",
                         "clients served at once (default 256)"),
        NCI_CLI_U32_FLAG("session-timeout", &opts->session_timeout_ms, 1, MAX_DELAY_MS, "MS",
                         "a silent client's session is closed (default 60000)"),
        NCI_CLI_TEXT_FLAG("bind", &opts->bind_text, "ADDR",
                          "local address of the sockets towards the target"),
        NCI_CLI_SWITCH_FLAG("verbose", &opts->verbose, "log sessions to stderr"),
    };
    size_t count = 0;
    for (size_t i = 0; i < OTHER_FLAG_COUNT; i++)
        flags[count++] = others[i];
    for (int s = 0; s < SCOPE_COUNT; s++)
        for (int p = 0; p < PARAM_COUNT; p++)
            flags[count++] = param_flag(opts, (param)p, (scope)s);
    *spec = (nci_cli_spec){
        .program = "netcore-linkproxy",
        .usage_line = "usage: netcore-linkproxy --listen ADDR:PORT --forward ADDR:PORT [options]",
        .preamble = usage_preamble,
        .epilogue = usage_epilogue,
        .flags = flags,
        .flag_count = count,
    };
    nci_cli_status status = nci_cli_parse(spec, argc, argv, stdout, stderr);
    if (status != NCI_CLI_OK)
        return status == NCI_CLI_HELP ? 1 : EXIT_USAGE;
    if (!opts->listen_text || !opts->forward_text) {
        fprintf(stderr, "netcore-linkproxy: --listen and --forward are required\n");
        nci_cli_print_usage(spec, stderr);
        return EXIT_USAGE;
    }
    return 0;
}

static bool find_preset(const char *name, netcore_link_preset *out_preset)
{
    for (int p = 0; p < NETCORE_LINK_PRESET_COUNT; p++) {
        if (strcmp(name, netcore_link_preset_name((netcore_link_preset)p)) == 0) {
            *out_preset = (netcore_link_preset)p;
            return true;
        }
    }
    return false;
}

static void apply_param(netcore_link_profile *profile, param p, double value)
{
    switch (p) {
    case PARAM_LATENCY:
        profile->latency_ms = (uint32_t)value;
        break;
    case PARAM_JITTER:
        profile->jitter_ms = (uint32_t)value;
        break;
    case PARAM_LOSS:
        profile->loss_pct = (float)value;
        break;
    case PARAM_DUP:
        profile->duplicate_pct = (float)value;
        break;
    case PARAM_REORDER:
        profile->reorder_pct = (float)value;
        break;
    case PARAM_REORDER_DELAY:
        profile->reorder_delay_ms = (uint32_t)value;
        break;
    case PARAM_BANDWIDTH:
        profile->bandwidth_kbps = (uint32_t)value;
        break;
    case PARAM_CORRUPT:
        profile->corrupt_pct = (float)value;
        break;
    case PARAM_COUNT:
        break;
    }
}

/* Preset, then flags for both directions, then per-direction flags, whatever
 * their order on the command line. */
static netcore_link_profile build_profile(const options *opts, netcore_link_preset preset,
                                          scope direction)
{
    netcore_link_profile profile = netcore_link_preset_profile(preset);
    for (int p = 0; p < PARAM_COUNT; p++) {
        if (opts->has[SCOPE_BOTH][p])
            apply_param(&profile, (param)p, opts->value[SCOPE_BOTH][p]);
        if (opts->has[direction][p])
            apply_param(&profile, (param)p, opts->value[direction][p]);
    }
    return profile;
}

/* ------------------------------------------------------------------ */
/* Summary                                                              */
/* ------------------------------------------------------------------ */

static void print_profile_json(const char *name, const netcore_link_profile *p)
{
    printf("\"%s\":{\"latency_ms\":%u,\"jitter_ms\":%u,\"loss_pct\":%g,\"duplicate_pct\":%g,"
           "\"reorder_pct\":%g,\"reorder_delay_ms\":%u,\"bandwidth_kbps\":%u,\"corrupt_pct\":%g}",
           name, (unsigned)p->latency_ms, (unsigned)p->jitter_ms, (double)p->loss_pct,
           (double)p->duplicate_pct, (double)p->reorder_pct, (unsigned)p->reorder_delay_ms,
           (unsigned)p->bandwidth_kbps, (double)p->corrupt_pct);
}

static void print_direction_json(const char *name, const netcore_conditioner_stats *s)
{
    printf("\"%s\":{\"forwarded\":%llu,\"bytes_forwarded\":%llu,\"loss_dropped\":%llu,"
           "\"bandwidth_dropped\":%llu,\"overflow_dropped\":%llu,\"duplicated\":%llu,"
           "\"reordered\":%llu,\"corrupted\":%llu}",
           name, (unsigned long long)s->forwarded, (unsigned long long)s->bytes_forwarded,
           (unsigned long long)s->dropped_loss, (unsigned long long)s->dropped_bandwidth,
           (unsigned long long)s->dropped_overflow, (unsigned long long)s->duplicated,
           (unsigned long long)s->reordered, (unsigned long long)s->corrupted);
}

static void print_summary(const options *opts, const nci_relay_config *cfg,
                          const netcore_address *listen_address, double elapsed_s,
                          const nci_relay_stats *stats)
{
    char listen_text[NETCORE_ADDRESS_STRLEN], forward_text[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(listen_address, listen_text, sizeof listen_text);
    netcore_address_format(&cfg->forward, forward_text, sizeof forward_text);
    printf("{\"elapsed_s\":%.3f,\"settings\":{\"listen\":\"%s\",\"forward\":\"%s\","
           "\"seed\":%llu,\"seconds\":%g,\"max_sessions\":%u,\"session_timeout_ms\":%u,",
           elapsed_s, listen_text, forward_text, (unsigned long long)cfg->seed, opts->seconds,
           (unsigned)cfg->max_sessions, (unsigned)cfg->session_idle_timeout_ms);
    print_profile_json("upstream", &cfg->upstream);
    printf(",");
    print_profile_json("downstream", &cfg->downstream);
    printf("},\"sessions\":{\"opened\":%llu,\"active\":%u,\"expired\":%llu,\"refused\":%llu},",
           (unsigned long long)stats->sessions_opened, (unsigned)stats->sessions_active,
           (unsigned long long)stats->sessions_expired,
           (unsigned long long)stats->sessions_refused);
    print_direction_json("upstream", &stats->upstream);
    printf(",");
    print_direction_json("downstream", &stats->downstream);
    printf("}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Main                                                                 */
/* ------------------------------------------------------------------ */

/* "netcore-linkproxy: <fmt with what>" and the usage on stderr; returns false. */
static bool usage_error(const nci_cli_spec *spec, const char *fmt, const char *what)
{
    fprintf(stderr, "netcore-linkproxy: ");
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    nci_cli_print_usage(spec, stderr);
    return false;
}

static bool parse_address_flag(const nci_cli_spec *spec, const char *flag, const char *text,
                               netcore_address *out)
{
    if (netcore_address_parse(text, 0, out) == NETCORE_OK)
        return true;
    fprintf(stderr, "netcore-linkproxy: bad address for --%s: '%s'\n", flag, text);
    nci_cli_print_usage(spec, stderr);
    return false;
}

/* Turns options into a relay config; false (usage printed) on a bad value. */
static bool make_config(const nci_cli_spec *spec, const options *opts, nci_relay_config *cfg)
{
    nci_relay_config_default(cfg);
    netcore_link_preset preset = NETCORE_LINK_PERFECT;
    if (opts->preset_text && !find_preset(opts->preset_text, &preset))
        return usage_error(spec, "unknown preset '%s'", opts->preset_text);
    if (!parse_address_flag(spec, "listen", opts->listen_text, &cfg->listen) ||
        !parse_address_flag(spec, "forward", opts->forward_text, &cfg->forward))
        return false;
    if (cfg->forward.port == 0)
        return usage_error(spec, "--forward needs a port: '%s'", opts->forward_text);
    if (opts->bind_text && !parse_address_flag(spec, "bind", opts->bind_text, &cfg->upstream_bind))
        return false;
    cfg->upstream = build_profile(opts, preset, SCOPE_UP);
    cfg->downstream = build_profile(opts, preset, SCOPE_DOWN);
    cfg->seed = opts->seed;
    cfg->max_sessions = opts->max_sessions;
    cfg->session_idle_timeout_ms = opts->session_timeout_ms;
    cfg->log.fn = netcore_log_stderr;
    cfg->log.min_level = opts->verbose ? NETCORE_LOG_DEBUG : NETCORE_LOG_WARN;
    return true;
}

int main(int argc, char **argv)
{
    options opts;
    nci_cli_spec spec;
    nci_cli_flag flags[FLAG_COUNT];
    int parsed = parse_args(argc, argv, &opts, &spec, flags);
    if (parsed != 0)
        return parsed == 1 ? 0 : EXIT_USAGE;
    nci_relay_config cfg;
    if (!make_config(&spec, &opts, &cfg))
        return EXIT_USAGE;

    nci_relay *relay = NULL;
    netcore_result result = nci_relay_create(&cfg, &relay);
    if (result != NETCORE_OK) {
        fprintf(stderr, "netcore-linkproxy: cannot start: %s\n", netcore_result_str(result));
        if (result != NETCORE_ERR_INVALID_ARGUMENT)
            return 1;
        /* Flags that parse but do not fit together, e.g. --bind of another family. */
        nci_cli_print_usage(&spec, stderr);
        return EXIT_USAGE;
    }
    netcore_address listen_address;
    if (nci_relay_listen_address(relay, &listen_address) != NETCORE_OK)
        listen_address = cfg.listen;
    char listen_text[NETCORE_ADDRESS_STRLEN], forward_text[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&listen_address, listen_text, sizeof listen_text);
    netcore_address_format(&cfg.forward, forward_text, sizeof forward_text);
    /* Scripts and tests read the actual port (--listen ...:0) from this line. */
    fprintf(stderr, "netcore-linkproxy: listening on %s, forwarding to %s\n", listen_text,
            forward_text);

    /* Ctrl-C and SIGTERM interrupt the wait, so the loop stops at once. */
    nci_stop_signals_install();

    uint64_t start_us = netcore_time_now_us();
    uint64_t deadline_us =
        opts.seconds > 0 ? start_us + (uint64_t)(opts.seconds * 1e6) : UINT64_MAX;
    uint64_t now_us = start_us;
    while (!nci_stop_requested()) {
        now_us = netcore_time_now_us();
        nci_relay_update(relay, now_us);
        if (now_us >= deadline_us)
            break;
        uint64_t remaining_ms =
            deadline_us == UINT64_MAX ? POLL_SLICE_MS : (deadline_us - now_us + 999) / 1000;
        nci_relay_wait(relay, now_us,
                       remaining_ms < POLL_SLICE_MS ? (uint32_t)remaining_ms : POLL_SLICE_MS);
    }

    nci_relay_stats stats;
    nci_relay_stats_get(relay, &stats);
    print_summary(&opts, &cfg, &listen_address, (double)(now_us - start_us) / 1e6, &stats);
    nci_relay_destroy(relay);
    return 0;
}
