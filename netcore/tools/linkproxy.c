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
#include "tool_args.h"

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

static const char *const param_names[PARAM_COUNT] = {
    "latency", "jitter", "loss", "dup", "reorder", "reorder-delay", "bandwidth", "corrupt"};
static const char *const scope_prefixes[SCOPE_COUNT] = {"", "up-", "down-"};

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

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: netcore-linkproxy --listen ADDR:PORT --forward ADDR:PORT [options]\n"
            "\n"
            "Relays UDP datagrams from clients (sent to --listen) to --forward and the\n"
            "replies back, impairing both directions. Each client gets its own source\n"
            "address towards the target. On exit (time up, SIGINT, SIGTERM) prints one\n"
            "JSON object with what was forwarded, dropped, duplicated and reordered.\n"
            "\n"
            "Impairments (applied to each direction; one-way figures):\n"
            "  --latency MS          delay                                  (0..%u)\n"
            "  --jitter MS           uniform +/- around the latency         (0..%u)\n"
            "  --loss PCT            drop probability                       (0..100)\n"
            "  --dup PCT             duplication probability                (0..100)\n"
            "  --reorder PCT         hold-back probability, so later ones overtake (0..100)\n"
            "  --reorder-delay MS    hold-back time (default max(10, 2 * jitter))\n"
            "  --bandwidth KBPS      rate cap in kilobits/s, 0 = none; a datagram that\n"
            "                        would queue more than 1 s behind it is dropped\n"
            "  --corrupt PCT         probability of altering one random byte (0..100)\n"
            "  --preset NAME         perfect, lan, wifi, 4g or bad as a starting point\n"
            "Per direction (override the above): --up-NAME and --down-NAME for every\n"
            "  impairment, e.g. --up-latency 40 --down-loss 5 --up-bandwidth 256.\n"
            "  up = client -> forward target, down = target -> client.\n"
            "\n"
            "Other options:\n"
            "  --seed N              seed of every random decision (default 1)\n"
            "  --seconds S           run time, decimals allowed; 0 = until SIGINT/SIGTERM (default 0)\n"
            "  --max-sessions N      clients served at once (default 256)\n"
            "  --session-timeout MS  a silent client's session is closed (default 60000)\n"
            "  --bind ADDR           local address of the sockets towards the target\n"
            "  --verbose             log sessions to stderr\n"
            "  --help                this text\n"
            "Flags take their value as the next argument or after '='.\n",
            MAX_DELAY_MS, MAX_DELAY_MS);
}

/* Integer milliseconds and kbps; percentages may have decimals. */
static bool parse_param(param p, const char *text, double *out)
{
    if (p == PARAM_LOSS || p == PARAM_DUP || p == PARAM_REORDER || p == PARAM_CORRUPT)
        return tool_parse_double(text, 0.0, 100.0, out);
    uint32_t value;
    if (!tool_parse_u32(text, p == PARAM_BANDWIDTH ? MAX_BANDWIDTH_KBPS : MAX_DELAY_MS, &value))
        return false;
    *out = value;
    return true;
}

/* Matches "--NAME" against the impairment flags; false if it is none of them. */
static bool find_param_flag(const char *name, scope *out_scope, param *out_param)
{
    for (int s = SCOPE_COUNT - 1; s >= 0; s--) {
        size_t prefix_len = strlen(scope_prefixes[s]);
        if (strncmp(name, scope_prefixes[s], prefix_len) != 0)
            continue;
        for (int p = 0; p < PARAM_COUNT; p++) {
            if (strcmp(name + prefix_len, param_names[p]) == 0) {
                *out_scope = (scope)s;
                *out_param = (param)p;
                return true;
            }
        }
    }
    return false;
}

static bool usage_error(const char *fmt, const char *what)
{
    return tool_usage_error("netcore-linkproxy", print_usage, fmt, what);
}

/* Fills opts from argv. Returns false on a bad command line (after printing
 * the reason and the usage on stderr); *out_help is set by --help. */
static bool parse_args(int argc, char **argv, options *opts, bool *out_help)
{
    memset(opts, 0, sizeof *opts);
    opts->seed = 1;
    opts->max_sessions = 256;
    opts->session_timeout_ms = 60000;
    *out_help = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        char name[64];
        const char *eq;
        if (!tool_split_flag(arg, name, sizeof name, &eq))
            return usage_error(strncmp(arg, "--", 2) == 0 ? "unknown flag '%s'" : "unexpected argument '%s'",
                               arg);
        if (strcmp(name, "help") == 0) {
            *out_help = true;
            return true;
        }
        if (strcmp(name, "verbose") == 0) {
            if (eq)
                return usage_error("--verbose takes no value: '%s'", arg);
            opts->verbose = true;
            continue;
        }
        const char *value = tool_flag_value(argc, argv, &i, eq);
        if (!value)
            return usage_error("missing value for '%s'", arg);

        scope s;
        param p;
        bool ok = true;
        if (find_param_flag(name, &s, &p)) {
            ok = parse_param(p, value, &opts->value[s][p]);
            opts->has[s][p] = ok;
        } else if (strcmp(name, "listen") == 0) {
            opts->listen_text = value;
        } else if (strcmp(name, "forward") == 0) {
            opts->forward_text = value;
        } else if (strcmp(name, "bind") == 0) {
            opts->bind_text = value;
        } else if (strcmp(name, "preset") == 0) {
            opts->preset_text = value;
        } else if (strcmp(name, "seed") == 0) {
            ok = tool_parse_u64(value, UINT64_MAX, &opts->seed);
        } else if (strcmp(name, "seconds") == 0) {
            ok = tool_parse_double(value, 0.0, 1e9, &opts->seconds);
        } else if (strcmp(name, "max-sessions") == 0) {
            ok = tool_parse_u32(value, 1u << 20, &opts->max_sessions) && opts->max_sessions > 0;
        } else if (strcmp(name, "session-timeout") == 0) {
            ok = tool_parse_u32(value, MAX_DELAY_MS, &opts->session_timeout_ms) &&
                 opts->session_timeout_ms > 0;
        } else {
            return usage_error("unknown flag '%s'", arg);
        }
        if (!ok)
            return usage_error("bad value for '%s'", arg);
    }
    if (!opts->listen_text || !opts->forward_text)
        return usage_error("%s", "--listen and --forward are required");
    return true;
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
    case PARAM_LATENCY: profile->latency_ms = (uint32_t)value; break;
    case PARAM_JITTER: profile->jitter_ms = (uint32_t)value; break;
    case PARAM_LOSS: profile->loss_pct = (float)value; break;
    case PARAM_DUP: profile->duplicate_pct = (float)value; break;
    case PARAM_REORDER: profile->reorder_pct = (float)value; break;
    case PARAM_REORDER_DELAY: profile->reorder_delay_ms = (uint32_t)value; break;
    case PARAM_BANDWIDTH: profile->bandwidth_kbps = (uint32_t)value; break;
    case PARAM_CORRUPT: profile->corrupt_pct = (float)value; break;
    case PARAM_COUNT: break;
    }
}

/* Preset, then flags for both directions, then per-direction flags, whatever
 * their order on the command line. */
static netcore_link_profile build_profile(const options *opts, netcore_link_preset preset, scope direction)
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
           (unsigned long long)stats->sessions_expired, (unsigned long long)stats->sessions_refused);
    print_direction_json("upstream", &stats->upstream);
    printf(",");
    print_direction_json("downstream", &stats->downstream);
    printf("}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Main                                                                 */
/* ------------------------------------------------------------------ */

static bool parse_address_flag(const char *flag, const char *text, netcore_address *out)
{
    if (netcore_address_parse(text, 0, out) == NETCORE_OK)
        return true;
    fprintf(stderr, "netcore-linkproxy: bad address for --%s: '%s'\n", flag, text);
    print_usage(stderr);
    return false;
}

/* Turns options into a relay config; false (usage printed) on a bad value. */
static bool make_config(const options *opts, nci_relay_config *cfg)
{
    nci_relay_config_default(cfg);
    netcore_link_preset preset = NETCORE_LINK_PERFECT;
    if (opts->preset_text && !find_preset(opts->preset_text, &preset))
        return usage_error("unknown preset '%s'", opts->preset_text);
    if (!parse_address_flag("listen", opts->listen_text, &cfg->listen) ||
        !parse_address_flag("forward", opts->forward_text, &cfg->forward))
        return false;
    if (cfg->forward.port == 0)
        return usage_error("--forward needs a port: '%s'", opts->forward_text);
    if (opts->bind_text && !parse_address_flag("bind", opts->bind_text, &cfg->upstream_bind))
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
    bool help = false;
    if (!parse_args(argc, argv, &opts, &help))
        return EXIT_USAGE;
    if (help) {
        print_usage(stdout);
        return 0;
    }
    nci_relay_config cfg;
    if (!make_config(&opts, &cfg))
        return EXIT_USAGE;

    nci_relay *relay = NULL;
    netcore_result result = nci_relay_create(&cfg, &relay);
    if (result != NETCORE_OK) {
        fprintf(stderr, "netcore-linkproxy: cannot start: %s\n", netcore_result_str(result));
        if (result != NETCORE_ERR_INVALID_ARGUMENT)
            return 1;
        /* Flags that parse but do not fit together, e.g. --bind of another family. */
        print_usage(stderr);
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
    uint64_t deadline_us = opts.seconds > 0 ? start_us + (uint64_t)(opts.seconds * 1e6) : UINT64_MAX;
    uint64_t now_us = start_us;
    while (!nci_stop_requested()) {
        now_us = netcore_time_now_us();
        nci_relay_update(relay, now_us);
        if (now_us >= deadline_us)
            break;
        uint64_t remaining_ms = deadline_us == UINT64_MAX ? POLL_SLICE_MS
                                                          : (deadline_us - now_us + 999) / 1000;
        nci_relay_wait(relay, now_us, remaining_ms < POLL_SLICE_MS ? (uint32_t)remaining_ms
                                                                   : POLL_SLICE_MS);
    }

    nci_relay_stats stats;
    nci_relay_stats_get(relay, &stats);
    print_summary(&opts, &cfg, &listen_address, (double)(now_us - start_us) / 1e6, &stats);
    nci_relay_destroy(relay);
    return 0;
}
