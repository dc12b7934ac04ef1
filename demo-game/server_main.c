/*
 * demo-server: the dedicated headless server of the demo game (lobby on TCP,
 * game on UDP, LAN discovery), with figures as JSON Lines. With --register,
 * a game server only, placed under a separate lobby (netcore-lobby).
 */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/netcore.h"
#include "server.h"
#include "trust.h"
#include "stats_file.h"

/* Set by SIGINT/SIGTERM; the only global, as a signal handler needs one. */
static volatile sig_atomic_t quit_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    quit_requested = 1;
}

static void usage(FILE *out) {
    fprintf(out, "usage: demo-server [options]\n"
                 "  --lobby-port P    TCP lobby and UDP discovery port (default 7777, 0: any)\n"
                 "  --game-port P     UDP game port (default 7778, 0: any)\n"
                 "  --bind IP         listen on this IPv4 address only (default: every interface)\n"
                 "  --tick-rate HZ    simulation rate (default 60)\n"
                 "  --max-players N   players at most (default 16)\n"
                 "  --bots N          server bots filling empty seats (default 0)\n"
                 "  --round S         round length in seconds (default 120)\n"
                 "  --seed N          world seed (default 1)\n"
                 "  --name NAME       lobby name shown by LAN discovery\n"
                 "  --stats FILE      figures as JSON Lines, one a second ('-': stdout)\n"
                 "  --duration S      stop after S seconds (default: until Ctrl-C)\n"
                 "  --quiet           no log lines\n"
                 "  --tls-cert FILE   the lobby's TLS certificate (PEM; default: a self-signed one made\n"
                 "                    on first run in $XDG_CONFIG_HOME/netcore-demo or ~/.config/netcore-demo)\n"
                 "  --tls-key FILE    its private key (PEM), with --tls-cert\n"
                 "  --insecure        plaintext lobby (players need --insecure too); with --register:\n"
                 "                    register in plaintext\n"
                 "game server only, under a separate lobby (netcore-lobby):\n"
                 "  --register HOST:PORT     register with that lobby instead of running one\n"
                 "  --key-file FILE          the lobby's key as 64 hex digits (netcore-lobby --generate-key)\n"
                 "  --key-hex HEX            the key itself\n"
                 "  --game-address HOST:PORT address players are sent to (default: the --bind IP, or\n"
                 "                           the lobby's host, with the game port)\n"
                 "  --capacity N             players announced to the lobby (default --max-players)\n"
                 "  --lobby-ca FILE          trust the lobby's certificate by this CA (PEM) instead of\n"
                 "                           the system store; the name checked is HOST of --register\n"
                 "  --lobby-pin HEX          trust the lobby's certificate by its SHA-256 pin instead\n"
                 "                           (netcore-lobby prints it)\n");
}

/* The key as netcore-lobby reads it: 64 hex digits, from a file or the
 * command line. */
static bool load_key(const char *file, const char *hex, uint8_t key[NETCORE_TOKEN_KEY_BYTES]) {
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

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out) {
    char *end = NULL;
    if (!s || !s[0] || s[0] == '-') {
        return false;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

int main(int argc, char **argv) {
    demo_server_config cfg;
    demo_server_config_default(&cfg);
    const char *stats_path = NULL;
    const char *key_file = NULL;
    const char *key_hex = NULL;
    const char *register_text = NULL;
    const char *tls_cert = NULL;
    const char *tls_key = NULL;
    demo_trust_options trust_options;
    memset(&trust_options, 0, sizeof trust_options);
    double duration_s = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long v = 0;
        bool takes = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--quiet") == 0) {
            cfg.quiet = true;
            takes = false;
        } else if (strcmp(a, "--insecure") == 0) {
            trust_options.insecure = true;
            takes = false;
        } else if (strcmp(a, "--tls-cert") == 0 && val) {
            tls_cert = val;
        } else if (strcmp(a, "--tls-key") == 0 && val) {
            tls_key = val;
        } else if (strcmp(a, "--lobby-ca") == 0 && val) {
            trust_options.ca_file = val;
        } else if (strcmp(a, "--lobby-pin") == 0 && val) {
            trust_options.pin_text = val;
        } else if (strcmp(a, "--lobby-port") == 0 && parse_uint(val, 65535, &v)) {
            cfg.lobby_port = (uint16_t)v;
        } else if (strcmp(a, "--game-port") == 0 && parse_uint(val, 65535, &v)) {
            cfg.game_port = (uint16_t)v;
        } else if (strcmp(a, "--bind") == 0 && val && netcore_address_parse(val, 0, &cfg.bind) == NETCORE_OK &&
                   cfg.bind.family == NETCORE_ADDRESS_IPV4) {
        } else if (strcmp(a, "--tick-rate") == 0 && parse_uint(val, 1000, &v) && v > 0) {
            cfg.tick_rate_hz = (uint32_t)v;
        } else if (strcmp(a, "--max-players") == 0 && parse_uint(val, 16, &v) && v > 0) {
            cfg.max_players = (uint32_t)v;
        } else if (strcmp(a, "--bots") == 0 && parse_uint(val, 16, &v)) {
            cfg.bots = (uint32_t)v;
        } else if (strcmp(a, "--round") == 0 && parse_uint(val, 3600, &v) && v > 0) {
            cfg.round_s = (uint32_t)v;
        } else if (strcmp(a, "--seed") == 0 && parse_uint(val, UINT64_MAX, &v)) {
            cfg.seed = v;
        } else if (strcmp(a, "--name") == 0 && val && val[0]) {
            cfg.lobby_name = val;
        } else if (strcmp(a, "--stats") == 0 && val) {
            stats_path = val;
        } else if (strcmp(a, "--duration") == 0 && parse_uint(val, 86400 * 365, &v)) {
            duration_s = (double)v;
        } else if (strcmp(a, "--register") == 0 && val &&
                   netcore_address_parse(val, 7777, &cfg.register_lobby) == NETCORE_OK) {
            register_text = val;
        } else if (strcmp(a, "--key-file") == 0 && val) {
            key_file = val;
        } else if (strcmp(a, "--key-hex") == 0 && val) {
            key_hex = val;
        } else if (strcmp(a, "--game-address") == 0 && val &&
                   netcore_address_parse(val, 0, &cfg.game_address) == NETCORE_OK &&
                   cfg.game_address.family == NETCORE_ADDRESS_IPV4) {
        } else if (strcmp(a, "--capacity") == 0 && parse_uint(val, 16, &v) && v > 0) {
            cfg.capacity = (uint32_t)v;
        } else {
            fprintf(stderr, "demo-server: bad or incomplete argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
        i += takes;
    }
    if (!register_text != (!key_file && !key_hex) || (key_file && key_hex)) {
        fprintf(stderr, "demo-server: --register needs exactly one of --key-file and --key-hex, and they "
                        "need --register\n");
        usage(stderr);
        return 2;
    }
    if (!register_text && (cfg.game_address.family != NETCORE_ADDRESS_NONE || cfg.capacity)) {
        fprintf(stderr, "demo-server: --game-address and --capacity go with --register\n");
        usage(stderr);
        return 2;
    }
    if (register_text && !load_key(key_file, key_hex, cfg.key)) {
        return 2;
    }
    if (!tls_cert != !tls_key || (register_text && tls_cert) ||
        (!register_text && (trust_options.ca_file || trust_options.pin_text))) {
        fprintf(stderr, "demo-server: --tls-cert and --tls-key go together, without --register; "
                        "--lobby-ca and --lobby-pin go with --register\n");
        usage(stderr);
        return 2;
    }
    if (tls_cert && trust_options.insecure) {
        fprintf(stderr, "demo-server: --insecure and --tls-cert exclude each other\n");
        return 2;
    }
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
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

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
        fprintf(stderr, "demo-server: game on UDP port %u, registering with the lobby at %s; Ctrl-C stops\n",
                game_port, register_text);
    } else if (!cfg.quiet) {
        fprintf(stderr, "demo-server: lobby on TCP port %u, game on UDP port %u; Ctrl-C stops\n", lobby_port,
                game_port);
        if (cfg.identity) {
            /* Scripts and tests read the pin from this line. */
            char pin[NETCORE_LOBBY_TLS_PIN_STRLEN];
            netcore_lobby_tls_pin_format(cfg.identity->pin, pin, sizeof pin);
            fprintf(stderr, "demo-server: lobby TLS certificate SHA-256 %s\n"
                            "demo-server: players join with demo-game --connect THIS_MACHINE_IP:%u --pin %s\n",
                    pin, lobby_port, pin);
        } else {
            fprintf(stderr, "demo-server: plaintext lobby (--insecure): players need --insecure too\n");
        }
    }
    uint64_t start = netcore_time_now_us();
    uint64_t next_stats = start + 1000000;
    while (!quit_requested) {
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
