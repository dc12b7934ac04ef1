/*
 * demo-game: the SDL2 client of the demo. Reads the command line and picks
 * a mode (see modes.h): without a network flag it is the offline practice
 * game (local.c, which parses its own flags); with --connect or --host it
 * plays over the network; --headless --connect runs a bot swarm.
 */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modes.h"

/* Set by SIGINT/SIGTERM; the only global, as a signal handler needs one. */
static volatile sig_atomic_t quit_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    quit_requested = 1;
}

bool demo_quit_requested(void) {
    return quit_requested != 0;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: demo-game                        lobby menu: LAN games, connect by address, host\n"
            "       demo-game --connect HOST[:PORT]  join the lobby at HOST (port 7777 by default)\n"
            "       demo-game --practice [...]       offline practice (see demo-game --practice --help)\n"
            "network options:\n"
            "  --host            host: embedded lobby and game server (ports 7777 and 7778)\n"
            "  --lobby-port P    with --host: lobby port (default 7777; 0: any)\n"
            "  --game-port P     with --host: game port (default 7778; 0: any)\n"
            "  --bots N          with --host: server bots in the arena (default 3);\n"
            "                    with --headless: number of bot clients (default 4)\n"
            "  --name NAME       nickname (default \"player\", bots: NAME1, NAME2, ...)\n"
            "  --headless        no window: bot clients (needs --connect)\n"
            "  --duration S      stop after S seconds\n"
            "  --stats FILE      figures as JSON Lines, one a second ('-': stdout)\n"
            "  --sim-latency MS  link conditioner, each direction: added latency\n"
            "  --sim-jitter MS   ... jitter\n"
            "  --sim-loss PCT    ... loss\n"
            "  --sim-dup PCT     ... duplication\n"
            "  --seed N          conditioner and bot seed (default 1)\n"
            "  --no-lag-compensation  start with lag compensation off (F4 toggles)\n"
            "  --netgraph        start with the net graph shown\n"
            "  --screenshot F    with --connect or --host: save the view after 4 s of play (.png/.bmp), exit\n"
            "  --software        use SDL's software renderer\n"
            "lobby security (the lobby speaks TLS; the host prints its certificate's pin):\n"
            "  --pin HEX         with --connect: trust the lobby whose certificate has this SHA-256\n"
            "                    pin (what the host prints; LAN games found by the menu are pinned\n"
            "                    from their announcement, shown on the lobby screen)\n"
            "  --ca FILE         with --connect: trust certificates from this CA (PEM) instead of\n"
            "                    the system store; the name checked is HOST\n"
            "  --insecure        plaintext lobby connections (and a plaintext lobby with --host)\n"
            "keys: WASD/arrows move, mouse aims, click or space fires, Tab scoreboard, F1 net graph,\n"
            "      F2 prediction, F3 interpolation, F4 lag compensation, F5 link preset, Esc quits\n");
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

static bool parse_pct(const char *s, float *out) {
    char *end = NULL;
    if (!s || !s[0]) {
        return false;
    }
    double v = strtod(s, &end);
    if (*end != '\0' || !(v >= 0.0 && v <= 100.0)) {
        return false;
    }
    *out = (float)v;
    return true;
}

static bool is_network_flag(const char *a) {
    static const char *const flags[] = {"--connect", "--host",       "--sim-latency", "--sim-jitter", "--sim-loss",
                                        "--sim-dup", "--stats",      "--lobby-port",  "--game-port",  "--insecure",
                                        "--pin",     "--ca"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (strcmp(a, flags[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Returns 0 to run, 1 for a usage error, 2 after --help. */
static int parse_net_args(int argc, char **argv, demo_net_options *o) {
    memset(o, 0, sizeof *o);
    o->name = "player";
    o->lobby_port = 7777;
    o->game_port = 7778;
    o->seed = 1;
    bool bots_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long v = 0;
        bool takes = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 2;
        } else if (strcmp(a, "--host") == 0 || strcmp(a, "--headless") == 0 || strcmp(a, "--software") == 0 ||
                   strcmp(a, "--netgraph") == 0) {
            o->host |= a[2] == 'h' && a[3] == 'o';
            o->headless |= a[2] == 'h' && a[3] == 'e';
            o->software |= a[2] == 's';
            o->netgraph |= a[2] == 'n';
            takes = false;
        } else if (strcmp(a, "--connect") == 0 && val && val[0]) {
            o->connect = val;
        } else if (strcmp(a, "--name") == 0 && val && val[0]) {
            o->name = val;
        } else if (strcmp(a, "--bots") == 0 && parse_uint(val, 64, &v)) {
            o->bots = (int)v;
            bots_given = true;
        } else if (strcmp(a, "--duration") == 0 && parse_uint(val, 86400, &v)) {
            o->duration_s = (double)v;
        } else if (strcmp(a, "--stats") == 0 && val) {
            o->stats = val;
        } else if (strcmp(a, "--no-lag-compensation") == 0) {
            o->no_lag_compensation = true;
            takes = false;
        } else if (strcmp(a, "--screenshot") == 0 && val) {
            o->screenshot = val;
        } else if (strcmp(a, "--sim-latency") == 0 && parse_uint(val, 10000, &v)) {
            o->link.latency_ms = (uint32_t)v;
        } else if (strcmp(a, "--sim-jitter") == 0 && parse_uint(val, 10000, &v)) {
            o->link.jitter_ms = (uint32_t)v;
        } else if (strcmp(a, "--sim-loss") == 0 && parse_pct(val, &o->link.loss_pct)) {
        } else if (strcmp(a, "--sim-dup") == 0 && parse_pct(val, &o->link.duplicate_pct)) {
        } else if (strcmp(a, "--lobby-port") == 0 && parse_uint(val, 65535, &v)) {
            o->lobby_port = (uint16_t)v;
        } else if (strcmp(a, "--game-port") == 0 && parse_uint(val, 65535, &v)) {
            o->game_port = (uint16_t)v;
        } else if (strcmp(a, "--seed") == 0 && parse_uint(val, UINT64_MAX, &v)) {
            o->seed = v;
        } else if (strcmp(a, "--insecure") == 0) {
            o->trust.insecure = true;
            takes = false;
        } else if (strcmp(a, "--pin") == 0 && val && val[0]) {
            o->trust.pin_text = val;
        } else if (strcmp(a, "--ca") == 0 && val && val[0]) {
            o->trust.ca_file = val;
        } else {
            fprintf(stderr, "demo-game: bad or incomplete argument '%s'\n", a);
            usage(stderr);
            return 1;
        }
        i += takes;
    }
    if (!o->connect && !o->headless) {
        o->host = true;
    }
    if (o->connect && o->host) {
        fprintf(stderr, "demo-game: --connect and --host exclude each other\n");
        return 1;
    }
    if (o->headless && !o->connect) {
        fprintf(stderr, "demo-game: a networked --headless run needs --connect HOST\n");
        return 1;
    }
    if (o->headless) {
        o->bots = bots_given ? o->bots : 4;
        if (o->bots < 1) {
            fprintf(stderr, "demo-game: --headless needs at least one bot\n");
            return 1;
        }
    } else {
        o->server_bots = bots_given ? (uint32_t)o->bots : 3;
        if (o->server_bots >= DEMO_MAX_PLAYERS) {
            fprintf(stderr, "demo-game: at most %d server bots\n", DEMO_MAX_PLAYERS - 1);
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    bool network = argc == 1;
    for (int i = 1; i < argc; i++) {
        network = network || is_network_flag(argv[i]);
    }
    if (!network) {
        return demo_local_main(argc, argv);
    }
    demo_net_options o;
    int parsed = parse_net_args(argc, argv, &o);
    if (parsed != 0) {
        return parsed == 2 ? 0 : 2;
    }
    if (argc == 1) {
        o.menu = true;
        o.host = false; /* the menu has its own "Host" choice */
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A parent may start us with these blocked (the tests do, so that an
     * early Ctrl-C waits for the handler); from here on they are handled. */
    sigset_t quit_signals;
    sigemptyset(&quit_signals);
    sigaddset(&quit_signals, SIGINT);
    sigaddset(&quit_signals, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &quit_signals, NULL);
    return o.headless ? demo_swarm_run(&o) : demo_play_run(&o);
}
