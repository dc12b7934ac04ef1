/*
 * demo-game's modes, chosen by main.c from the command line:
 *   practice (local.c): offline, one human and bots on the local simulation;
 *   play (play.c): the SDL2 client on a LAN game, joined with --connect or
 *     hosted in-process with --host (an embedded demo-server);
 *   swarm (swarm.c): --headless --connect: N bot clients, no window.
 */
#ifndef DEMO_MODES_H
#define DEMO_MODES_H

#include <stdbool.h>
#include <stdint.h>

#include "netcore/transport.h"
#include "platform/signals.h" /* the modes loop until nci_stop_requested() */
#include "trust.h"
#include "render.h"
#include "sim.h"

/* Practice mode with the whole command line (its own flags). Returns the
 * exit status. */
int demo_local_main(int argc, char **argv);

/* The human's command from the keyboard and mouse for the ship *me; keeps
 * the last aim in *aim (the aim is quantised here, once). */
demo_input demo_read_human_input(const demo_renderer *renderer, const demo_player *me,
                                 uint16_t *aim);

/* Options of the networked modes. */
typedef struct demo_net_options {
    const char *connect; /* lobby HOST[:PORT]; NULL with host */
    bool host;           /* start an embedded server and join it */
    bool menu;           /* the lobby menu (no arguments) */
    const char *name;    /* nickname */
    bool headless;
    int bots;                  /* swarm size */
    double duration_s;         /* 0: until quit */
    const char *stats;         /* JSON Lines file or "-" */
    netcore_link_profile link; /* --sim-*: each direction */
    uint16_t lobby_port;       /* host mode */
    uint16_t game_port;
    uint32_t server_bots; /* host mode: server bots filling the arena */
    bool software;
    bool netgraph;
    bool no_lag_compensation; /* start with lag compensation off */
    bool range_coded;         /* --range-coded: range-coded snapshots (host and client alike) */
    const char *screenshot;   /* save the view after 4 s of play, then exit */
    uint64_t seed;
    demo_trust_options trust; /* --insecure, --ca, --pin */
} demo_net_options;

int demo_play_run(const demo_net_options *options);
int demo_swarm_run(const demo_net_options *options);

#endif
