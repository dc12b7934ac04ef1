/*
 * demo-game: the SDL2 client of the demo. Reads the command line and picks
 * a mode (see modes.h): without a network flag it is the offline practice
 * game (local.c, which parses its own flags); with --connect or --host it
 * plays over the network; --headless --connect runs a bot swarm.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "modes.h"

static bool is_network_flag(const char *a)
{
    static const char *const flags[] = {
        "--connect", "--host",       "--sim-latency", "--sim-jitter", "--sim-loss", "--sim-dup",
        "--stats",   "--lobby-port", "--game-port",   "--insecure",   "--pin",      "--ca"};
    /* "--connect HOST" and "--connect=HOST" alike. */
    size_t name_len = strcspn(a, "=");
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (strlen(flags[i]) == name_len && strncmp(a, flags[i], name_len) == 0) {
            return true;
        }
    }
    return false;
}

static bool parse_nonempty_flag(const nci_cli_flag *flag, const char *value)
{
    *(const char **)flag->target = value;
    return value[0] != '\0';
}

/* Reads the network flags into o. Returns 0 to run, 1 for a usage error
 * (reason on stderr), 2 after --help. */
static int parse_net_args(int argc, char **argv, demo_net_options *o)
{
    memset(o, 0, sizeof *o);
    o->name = "player";
    o->seed = 1;
    uint32_t bots = 0, duration_s = 0, lobby_port = 7777, game_port = 7778;
    double loss_pct = 0.0, duplicate_pct = 0.0;
    bool bots_given = false;
    nci_cli_flag flags[] = {
        NCI_CLI_CUSTOM_FLAG("connect", parse_nonempty_flag, &o->connect, "HOST[:PORT]",
                            "join the lobby at HOST (port 7777 by default)"),
        NCI_CLI_SWITCH_FLAG("host", &o->host,
                            "host: embedded lobby and game server (ports 7777 and\n7778)"),
        NCI_CLI_U32_FLAG("lobby-port", &lobby_port, 0, 65535, "P",
                         "with --host: lobby port (default 7777; 0: any)"),
        NCI_CLI_U32_FLAG("game-port", &game_port, 0, 65535, "P",
                         "with --host: game port (default 7778; 0: any)"),
        NCI_CLI_U32_FLAG("bots", &bots, 0, 64, "N",
                         "with --host: server bots in the arena (default 3);\n"
                         "with --headless: number of bot clients (default 4)"),
        NCI_CLI_CUSTOM_FLAG("name", parse_nonempty_flag, &o->name, "NAME",
                            "nickname (default \"player\", bots: NAME1, NAME2, ...)"),
        NCI_CLI_SWITCH_FLAG("headless", &o->headless, "no window: bot clients (needs --connect)"),
        NCI_CLI_U32_FLAG("duration", &duration_s, 0, 86400, "S", "stop after S seconds"),
        NCI_CLI_TEXT_FLAG("stats", &o->stats, "FILE",
                          "figures as JSON Lines, one a second ('-': stdout)"),
        NCI_CLI_U32_FLAG("sim-latency", &o->link.latency_ms, 0, 10000, "MS",
                         "link conditioner, each direction: added latency"),
        NCI_CLI_U32_FLAG("sim-jitter", &o->link.jitter_ms, 0, 10000, "MS", "... jitter"),
        NCI_CLI_DOUBLE_FLAG("sim-loss", &loss_pct, 0.0, 100.0, "PCT", "... loss"),
        NCI_CLI_DOUBLE_FLAG("sim-dup", &duplicate_pct, 0.0, 100.0, "PCT", "... duplication"),
        NCI_CLI_U64_FLAG("seed", &o->seed, 0, UINT64_MAX, "N",
                         "conditioner and bot seed (default 1)"),
        NCI_CLI_SWITCH_FLAG("no-lag-compensation", &o->no_lag_compensation,
                            "start with lag compensation off (F4 toggles)"),
        NCI_CLI_SWITCH_FLAG("range-coded", &o->range_coded,
                            "range-coded snapshots (the server, or --host, needs\nit too)"),
        NCI_CLI_SWITCH_FLAG("netgraph", &o->netgraph, "start with the net graph shown"),
        NCI_CLI_TEXT_FLAG(
            "screenshot", &o->screenshot, "F",
            "with --connect or --host: save the view after 4 s of\nplay (.png/.bmp), exit"),
        NCI_CLI_SWITCH_FLAG("software", &o->software, "use SDL's software renderer"),
        NCI_CLI_CUSTOM_FLAG("pin", parse_nonempty_flag, &o->trust.pin_text, "HEX",
                            "with --connect: trust the lobby whose certificate has\n"
                            "this SHA-256 pin (what the host prints; LAN games found\n"
                            "by the menu are pinned from their announcement, shown\n"
                            "on the lobby screen)"),
        NCI_CLI_CUSTOM_FLAG("ca", parse_nonempty_flag, &o->trust.ca_file, "FILE",
                            "with --connect: trust certificates from this CA (PEM)\n"
                            "instead of the system store; the name checked is HOST"),
        NCI_CLI_SWITCH_FLAG("insecure", &o->trust.insecure,
                            "plaintext lobby connections (and a plaintext lobby\nwith --host)"),
    };
    flags[4].seen = &bots_given;
    const nci_cli_spec spec = {
        .program = "demo-game",
        .usage_line =
            "usage: demo-game                        lobby menu: LAN games, connect by address, host\n"
            "       demo-game --connect HOST[:PORT]  join the lobby at HOST (port 7777 by default)\n"
            "       demo-game --practice [...]       offline practice (see demo-game --practice --help)",
        .preamble =
            "network options (the lobby speaks TLS; the host prints its certificate's pin):\n",
        .epilogue =
            "keys: WASD/arrows move, mouse aims, click or space fires, Tab scoreboard, F1 net graph,\n"
            "      F2 prediction, F3 interpolation, F4 lag compensation, F5 link preset, Esc quits\n",
        .flags = flags,
        .flag_count = sizeof flags / sizeof flags[0],
    };
    nci_cli_status status = nci_cli_parse(&spec, argc, argv, stdout, stderr);
    if (status != NCI_CLI_OK) {
        return status == NCI_CLI_HELP ? 2 : 1;
    }
    o->bots = (int)bots;
    o->duration_s = (double)duration_s;
    o->lobby_port = (uint16_t)lobby_port;
    o->game_port = (uint16_t)game_port;
    o->link.loss_pct = (float)loss_pct;
    o->link.duplicate_pct = (float)duplicate_pct;
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

int main(int argc, char **argv)
{
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
    nci_stop_signals_install();
    return o.headless ? demo_swarm_run(&o) : demo_play_run(&o);
}
