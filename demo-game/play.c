/*
 * demo-game networked play: the SDL2 window on a LAN game, joined through a
 * lobby (--connect) or hosted in this process (--host: a demo_server, lobby
 * and game, serving other machines too, and this client joined to it).
 * F2..F5 switch the netcode features and the link conditioner live so that
 * their effect can be seen.
 */
#define SDL_MAIN_HANDLED
#include <SDL.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "modes.h"
#include "netcore/netcore.h"
#include "render.h"
#include "server.h"

typedef struct play {
    demo_renderer *renderer;
    demo_client *client;
    demo_server *server;
    uint16_t aim;
    int preset;          /* index into presets, -1: the command line's profile */
    bool prediction, interpolation, lag_compensation;
} play;

static const netcore_link_preset presets[] = {NETCORE_LINK_PERFECT, NETCORE_LINK_LAN, NETCORE_LINK_WIFI,
                                              NETCORE_LINK_4G, NETCORE_LINK_BAD};
#define PRESET_COUNT ((int)(sizeof presets / sizeof presets[0]))

static demo_input human_input(void *user, const demo_world *view, int slot, uint32_t tick) {
    play *p = user;
    (void)tick;
    return demo_read_human_input(p->renderer, &view->players[slot], &p->aim);
}

static void on_key(play *p, SDL_Keycode key, demo_render_view *view, bool *running) {
    switch (key) {
    case SDLK_ESCAPE:
        *running = false;
        break;
    case SDLK_F1:
        view->show_netgraph = !view->show_netgraph;
        break;
    case SDLK_F2:
        p->prediction = !p->prediction;
        demo_client_set_prediction(p->client, p->prediction);
        break;
    case SDLK_F3:
        p->interpolation = !p->interpolation;
        demo_client_set_interpolation(p->client, p->interpolation);
        break;
    case SDLK_F4:
        p->lag_compensation = !p->lag_compensation;
        demo_client_set_lag_compensation(p->client, p->lag_compensation);
        break;
    case SDLK_F5: {
        p->preset = (p->preset + 1) % PRESET_COUNT;
        netcore_link_profile prof = netcore_link_preset_profile(presets[p->preset]);
        demo_client_set_link(p->client, &prof, netcore_link_preset_name(presets[p->preset]));
        view->show_netgraph = true;
        break;
    }
    case SDLK_TAB:
        view->show_scoreboard = true;
        break;
    default:
        break;
    }
}

static const char *state_text(demo_client_state s) {
    switch (s) {
    case DEMO_CLIENT_LOBBY:
        return "in the lobby, starting a match...";
    case DEMO_CLIENT_JOINING:
        return "joining the game server...";
    case DEMO_CLIENT_PLAYING:
        return "waiting for the first snapshot...";
    case DEMO_CLIENT_CLOSED:
        return "disconnected";
    default:
        return "could not join (see the terminal)";
    }
}

static bool start_host(play *p, const demo_net_options *o, netcore_address *lobby) {
    demo_server_config sc;
    demo_server_config_default(&sc);
    sc.lobby_port = o->lobby_port;
    sc.game_port = o->game_port;
    sc.bots = o->server_bots;
    sc.seed = o->seed;
    char name[NETCORE_LOBBY_NAME_MAX + 1];
    snprintf(name, sizeof name, "%.20s's game", o->name);
    sc.lobby_name = name;
    p->server = demo_server_create(&sc);
    if (!p->server) {
        return false;
    }
    uint16_t lobby_port = 0;
    uint16_t game_port = 0;
    demo_server_ports(p->server, &lobby_port, &game_port);
    fprintf(stderr, "demo-game: hosting: lobby on TCP port %u, game on UDP port %u; others join with "
                    "demo-game --connect THIS_MACHINE_IP:%u\n",
            lobby_port, game_port, lobby_port);
    *lobby = netcore_address_ipv4(127, 0, 0, 1, lobby_port);
    return true;
}

static int run(play *p, const demo_net_options *o) {
    demo_render_view view = {-1, 1.0f, false, o->netgraph, NULL};
    demo_world empty;
    demo_world_init(&empty, NULL);
    char status[128];
    const uint64_t start = netcore_time_now_us();
    bool running = true;
    int rc = 0;
    while (running && !demo_quit_requested()) {
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) {
            if (ev.type == SDL_QUIT) {
                running = false;
            } else if (ev.type == SDL_KEYDOWN && !ev.key.repeat) {
                on_key(p, ev.key.keysym.sym, &view, &running);
            } else if (ev.type == SDL_KEYUP && ev.key.keysym.sym == SDLK_TAB) {
                view.show_scoreboard = false;
            }
        }
        if (p->server) {
            demo_server_update(p->server, 0);
        }
        uint64_t now = netcore_time_now_us();
        demo_client_update(p->client, now, human_input, p);
        demo_client_state st = demo_client_get_state(p->client);
        const demo_world *w = demo_client_view(p->client);
        demo_netgraph_figures fig;
        demo_client_figures(p->client, &fig);
        demo_render_netgraph_push(p->renderer, &fig);
        if (w && st == DEMO_CLIENT_PLAYING) {
            demo_render_note_events(p->renderer, w);
            demo_client_clear_events(p->client);
            snprintf(status, sizeof status, "%s  F2 prediction %s  F3 interpolation %s  F4 lag comp %s",
                     p->server ? "hosting" : "online", p->prediction ? "on" : "off",
                     p->interpolation ? "on" : "off", p->lag_compensation ? "on" : "off");
            view.local_player = demo_client_slot(p->client);
        } else {
            snprintf(status, sizeof status, "%s", state_text(st));
            w = &empty;
            view.local_player = -1;
        }
        view.status_text = status;
        demo_render_frame(p->renderer, w, w, &view);
        demo_render_present(p->renderer);
        if (st == DEMO_CLIENT_FAILED || (st == DEMO_CLIENT_CLOSED && !p->server)) {
            rc = 1;
            SDL_Delay(1500); /* leave the message on screen a moment */
            running = false;
        }
        if (o->duration_s > 0 && (double)(now - start) / 1e6 >= o->duration_s) {
            running = false;
        }
        if (!demo_render_has_vsync(p->renderer)) {
            SDL_Delay(4);
        }
    }
    return rc;
}

int demo_play_run(const demo_net_options *o) {
    play p;
    memset(&p, 0, sizeof p);
    p.preset = -1;
    p.prediction = p.interpolation = p.lag_compensation = true;
    if (netcore_init() != NETCORE_OK) {
        fprintf(stderr, "demo-game: cannot initialise the network\n");
        return 1;
    }
    demo_client_config cc;
    memset(&cc, 0, sizeof cc);
    cc.name = o->name;
    cc.link = o->link;
    cc.seed = o->seed;
    int rc = 1;
    if (o->host) {
        if (!start_host(&p, o, &cc.lobby)) {
            netcore_shutdown();
            return 1;
        }
    } else if (netcore_address_parse(o->connect, 7777, &cc.lobby) != NETCORE_OK ||
               cc.lobby.family != NETCORE_ADDRESS_IPV4) {
        fprintf(stderr, "demo-game: cannot resolve the lobby address '%s' (IPv4)\n", o->connect);
        netcore_shutdown();
        return 1;
    }
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetMainReady();
    if (SDL_Init(0) != 0) {
        fprintf(stderr, "demo-game: SDL: %s\n", SDL_GetError());
    } else {
        demo_render_config rcfg;
        demo_render_config_default(&rcfg);
        rcfg.title = o->host ? "netcore demo - hosting" : "netcore demo - online";
        rcfg.software = o->software;
        p.renderer = demo_render_create(&rcfg);
        p.client = p.renderer ? demo_client_create(&cc) : NULL;
        if (p.client) {
            bool custom = o->link.latency_ms || o->link.jitter_ms || o->link.loss_pct > 0 || o->link.duplicate_pct > 0;
            demo_client_set_link(p.client, &o->link, custom ? "custom" : "none");
            rc = run(&p, o);
        }
        demo_client_destroy(p.client);
        demo_render_destroy(p.renderer);
        SDL_Quit();
    }
    demo_server_destroy(p.server);
    netcore_shutdown();
    return rc;
}
