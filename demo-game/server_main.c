/*
 * demo-server: the dedicated headless server of the demo game (lobby on TCP,
 * game on UDP, LAN discovery), with figures as JSON Lines. With --register,
 * a game server only, placed under a separate lobby (netcore-lobby).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "netcore/netcore.h"
#include "platform/signals.h"
#include "server.h"
#include "sim.h"
#include "trust.h"
#include "stats_file.h"

/* The key as netcore-lobby reads it: 64 hex digits, from a file or the
 * command line. */
static bool load_key(const char *file, const char *hex, uint8_t key[NETCORE_TOKEN_KEY_BYTES])
{
    char text[4097];
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "demo-server: cannot open %s: %s\n", file, strerror(errno));
            return false;
        }
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        hex = text;
    }
    bool ok = netcore_token_key_from_hex(hex, key) == NETCORE_OK;
    memset(text, 0, sizeof text);
    if (!ok) {
        fprintf(stderr, "demo-server: the key must be 64 hexadecimal digits\n");
    }
    return ok;
}

/* What the command line sets beside the server config. */
typedef struct server_args {
    const char *stats_path;
    const char *key_file;
    const char *key_hex;
    const char *register_text;
    const char *tls_cert;
    const char *tls_key;
    demo_trust_options trust;
    uint32_t duration_s;
    uint32_t lobby_port;
    uint32_t game_port;
    bool range_coded;
} server_args;

/* --bind and --game-address: an IPv4 address (port optional for --bind). */
static bool parse_ipv4_flag(const nci_cli_flag *flag, const char *value)
{
    netcore_address *out = flag->target;
    return netcore_address_parse(value, 0, out) == NETCORE_OK &&
           out->family == NETCORE_ADDRESS_IPV4;
}

static bool parse_nonempty_flag(const nci_cli_flag *flag, const char *value)
{
    *(const char **)flag->target = value;
    return value[0] != '\0';
}

/* Reads the flags into cfg and args. Returns 0 to run, 1 after --help, 2 on a
 * bad command line (reason and usage on stderr). */
static int parse_server_args(int argc, char **argv, demo_server_config *cfg, server_args *args)
{
    memset(args, 0, sizeof *args);
    args->lobby_port = cfg->lobby_port;
    args->game_port = cfg->game_port;
    const nci_cli_flag flags[] = {
        NCI_CLI_U32_FLAG("lobby-port", &args->lobby_port, 0, 65535, "P",
                         "TCP lobby and UDP discovery port (default 7777, 0: any)"),
        NCI_CLI_U32_FLAG("game-port", &args->game_port, 0, 65535, "P",
                         "UDP game port (default 7778, 0: any)"),
        NCI_CLI_CUSTOM_FLAG("bind", parse_ipv4_flag, &cfg->bind, "IP",
                            "listen on this IPv4 address only (default: every interface)"),
        NCI_CLI_U32_FLAG("tick-rate", &cfg->tick_rate_hz, 1, 1000, "HZ",
                         "simulation rate (default 60)"),
        NCI_CLI_U32_FLAG("max-players", &cfg->max_players, 1, DEMO_MAX_PLAYERS, "N",
                         "players at most, 1..64 (default 16)"),
        NCI_CLI_U32_FLAG("bots", &cfg->bots, 0, DEMO_MAX_PLAYERS, "N",
                         "server bots filling empty seats, 0..64 (default 0)"),
        NCI_CLI_U32_FLAG("round", &cfg->round_s, 1, 3600, "S",
                         "round length in seconds (default 120)"),
        NCI_CLI_U64_FLAG("seed", &cfg->seed, 0, UINT64_MAX, "N", "world seed (default 1)"),
        NCI_CLI_CUSTOM_FLAG("name", parse_nonempty_flag, &cfg->lobby_name, "NAME",
                            "lobby name shown by LAN discovery"),
        NCI_CLI_TEXT_FLAG("stats", &args->stats_path, "FILE",
                          "figures as JSON Lines, one a second ('-': stdout)"),
        NCI_CLI_U32_FLAG("duration", &args->duration_s, 0, 86400 * 365, "S",
                         "stop after S seconds (default: until Ctrl-C)"),
        NCI_CLI_SWITCH_FLAG("quiet", &cfg->quiet, "no log lines"),
        NCI_CLI_SWITCH_FLAG("range-coded", &args->range_coded,
                            "range-coded snapshots (clients need --range-coded too)"),
        NCI_CLI_TEXT_FLAG("tls-cert", &args->tls_cert, "FILE",
                          "the lobby's TLS certificate (PEM; default: a self-signed\n"
                          "one made on first run in $XDG_CONFIG_HOME/netcore-demo\n"
                          "or ~/.config/netcore-demo)"),
        NCI_CLI_TEXT_FLAG("tls-key", &args->tls_key, "FILE",
                          "its private key (PEM), with --tls-cert"),
        NCI_CLI_SWITCH_FLAG("insecure", &args->trust.insecure,
                            "plaintext lobby (players need --insecure too); with\n"
                            "--register: register in plaintext"),
        NCI_CLI_TEXT_FLAG("register", &args->register_text, "HOST:PORT",
                          "game server only, under a separate lobby\n"
                          "(netcore-lobby): register with that lobby instead of\n"
                          "running one"),
        NCI_CLI_TEXT_FLAG("key-file", &args->key_file, "FILE",
                          "with --register: the lobby's key as 64 hex digits\n"
                          "(netcore-lobby --generate-key)"),
        NCI_CLI_TEXT_FLAG("key-hex", &args->key_hex, "HEX", "with --register: the key itself"),
        NCI_CLI_CUSTOM_FLAG("game-address", parse_ipv4_flag, &cfg->game_address, "HOST:PORT",
                            "with --register: address players are sent to (default:\n"
                            "the --bind IP, or the lobby's host, with the game port)"),
        NCI_CLI_U32_FLAG(
            "capacity", &cfg->capacity, 1, DEMO_MAX_PLAYERS, "N",
            "with --register: players announced to the lobby\n(default --max-players)"),
        NCI_CLI_TEXT_FLAG("lobby-ca", &args->trust.ca_file, "FILE",
                          "with --register: trust the lobby's certificate by this\n"
                          "CA (PEM) instead of the system store; the name checked\n"
                          "is HOST of --register"),
        NCI_CLI_TEXT_FLAG("lobby-pin", &args->trust.pin_text, "HEX",
                          "with --register: trust the lobby's certificate by its\n"
                          "SHA-256 pin instead (netcore-lobby prints it)"),
    };
    const nci_cli_spec spec = {
        .program = "demo-server",
        .usage_line = "usage: demo-server [options]",
        .flags = flags,
        .flag_count = sizeof flags / sizeof flags[0],
    };
    nci_cli_status status = nci_cli_parse(&spec, argc, argv, stdout, stderr);
    if (status != NCI_CLI_OK) {
        return status == NCI_CLI_HELP ? 1 : 2;
    }
    cfg->lobby_port = (uint16_t)args->lobby_port;
    cfg->game_port = (uint16_t)args->game_port;
    if (args->range_coded) {
        cfg->snapshot_format = NETCORE_SNAPSHOT_FORMAT_RANGE_CODED;
    }
    if (args->register_text &&
        netcore_address_parse(args->register_text, 7777, &cfg->register_lobby) != NETCORE_OK) {
        fprintf(stderr, "demo-server: bad value for --register: '%s'\n", args->register_text);
        nci_cli_print_usage(&spec, stderr);
        return 2;
    }
    if (!args->register_text != (!args->key_file && !args->key_hex) ||
        (args->key_file && args->key_hex)) {
        fprintf(stderr,
                "demo-server: --register needs exactly one of --key-file and --key-hex, and they "
                "need --register\n");
        nci_cli_print_usage(&spec, stderr);
        return 2;
    }
    if (!args->register_text &&
        (cfg->game_address.family != NETCORE_ADDRESS_NONE || cfg->capacity)) {
        fprintf(stderr, "demo-server: --game-address and --capacity go with --register\n");
        nci_cli_print_usage(&spec, stderr);
        return 2;
    }
    if (!args->tls_cert != !args->tls_key || (args->register_text && args->tls_cert) ||
        (!args->register_text && (args->trust.ca_file || args->trust.pin_text))) {
        fprintf(stderr, "demo-server: --tls-cert and --tls-key go together, without --register; "
                        "--lobby-ca and --lobby-pin go with --register\n");
        nci_cli_print_usage(&spec, stderr);
        return 2;
    }
    if (args->tls_cert && args->trust.insecure) {
        fprintf(stderr, "demo-server: --insecure and --tls-cert exclude each other\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    demo_server_config cfg;
    demo_server_config_default(&cfg);
    server_args args;
    int parsed = parse_server_args(argc, argv, &cfg, &args);
    if (parsed != 0) {
        return parsed == 1 ? 0 : 2;
    }
    if (args.register_text && !load_key(args.key_file, args.key_hex, cfg.key)) {
        return 2;
    }
    const char *stats_path = args.stats_path;
    const char *register_text = args.register_text;
    const char *tls_cert = args.tls_cert;
    const char *tls_key = args.tls_key;
    demo_trust_options trust_options = args.trust;
    double duration_s = (double)args.duration_s;
    /* The lobby's certificate, or how the remote lobby is trusted. */
    demo_host_identity identity;
    demo_trust register_trust;
    memset(&register_trust, 0, sizeof register_trust);
    if (register_text) {
        if (!demo_trust_make(&trust_options, register_text, &register_trust)) {
            return 2;
        }
        cfg.register_trust = &register_trust;
    } else if (!trust_options.insecure) {
        if (!(tls_cert ? demo_host_identity_from_files(tls_cert, tls_key, &identity)
                       : demo_host_identity_load(&identity))) {
            return 1;
        }
        cfg.identity = &identity;
    }
    nci_stop_signals_install();

    FILE *stats = NULL;
    if (stats_path && !(stats = demo_stats_open(stats_path))) {
        return 1;
    }
    if (netcore_init() != NETCORE_OK) {
        fprintf(stderr, "demo-server: cannot initialise the network\n");
        demo_stats_close(stats);
        return 1;
    }
    demo_server *server = demo_server_create(&cfg);
    memset(cfg.key, 0, sizeof cfg.key);
    if (!server) {
        demo_trust_release(&register_trust);
        netcore_shutdown();
        demo_stats_close(stats);
        return 1;
    }
    uint16_t lobby_port = 0;
    uint16_t game_port = 0;
    demo_server_ports(server, &lobby_port, &game_port);
    if (!cfg.quiet && register_text) {
        /* Scripts and tests read the actual game port from this line. */
        fprintf(
            stderr,
            "demo-server: game on UDP port %u, registering with the lobby at %s; Ctrl-C stops\n",
            game_port, register_text);
    } else if (!cfg.quiet) {
        fprintf(stderr, "demo-server: lobby on TCP port %u, game on UDP port %u; Ctrl-C stops\n",
                lobby_port, game_port);
        if (cfg.identity) {
            /* Scripts and tests read the pin from this line. */
            char pin[NETCORE_LOBBY_TLS_PIN_STRLEN];
            netcore_lobby_tls_pin_format(cfg.identity->pin, pin, sizeof pin);
            fprintf(
                stderr,
                "demo-server: lobby TLS certificate SHA-256 %s\n"
                "demo-server: players join with demo-game --connect THIS_MACHINE_IP:%u --pin %s\n",
                pin, lobby_port, pin);
        } else {
            fprintf(stderr,
                    "demo-server: plaintext lobby (--insecure): players need --insecure too\n");
        }
    }
    uint64_t start = netcore_time_now_us();
    uint64_t next_stats = start + 1000000;
    while (!nci_stop_requested()) {
        demo_server_update(server, 5);
        uint64_t now = netcore_time_now_us();
        double t = (double)(now - start) / 1e6;
        if (stats && now >= next_stats) {
            char line[4096];
            if (demo_server_stats_json(server, t, line, sizeof line) > 0) {
                demo_stats_line(stats, line);
            }
            next_stats += 1000000;
        }
        if (duration_s > 0 && t >= duration_s) {
            break;
        }
    }
    demo_server_destroy(server);
    demo_trust_release(&register_trust);
    netcore_shutdown();
    demo_stats_close(stats);
    return 0;
}
