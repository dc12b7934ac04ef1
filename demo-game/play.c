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
#include "menu.h"
#include "modes.h"
#include "netcore/netcore.h"
#include "render.h"
#include "server.h"
#include "trust.h"

typedef struct play {
    const demo_net_options *options;
    demo_renderer *renderer;
    demo_client *client;
    demo_server *server;
    uint16_t aim;
    int preset; /* index into presets, -1: the command line's profile */
    bool prediction, interpolation, lag_compensation;
    char status[128];
    uint64_t shot_due_us; /* --screenshot: when to take it, 0 before playing */
    bool shot_taken;
    demo_world empty;            /* drawn while not in game */
    demo_trust trust;            /* the lobby connections' trust (TLS context, --pin) */
    demo_host_identity identity; /* hosting: the lobby's certificate */
    bool have_identity;
} play;

static const netcore_link_preset presets[] = {NETCORE_LINK_PERFECT, NETCORE_LINK_LAN,
                                              NETCORE_LINK_WIFI, NETCORE_LINK_4G, NETCORE_LINK_BAD};
#define PRESET_COUNT ((int)(sizeof presets / sizeof presets[0]))

static demo_input human_input(void *user, const demo_world *view, int slot, uint32_t tick)
{
    play *p = user;
    (void)tick;
    return demo_read_human_input(p->renderer, &view->players[slot], &p->aim);
}

static void on_key(play *p, SDL_Keycode key, demo_render_view *view, bool *running)
{
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

static const char *state_text(demo_client_state s)
{
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

static bool start_server(play *p, const demo_net_options *o, uint16_t *out_lobby_port, char *error,
                         size_t error_size)
{
    if (!p->server) {
        demo_server_config sc;
        demo_server_config_default(&sc);
        sc.lobby_port = o->lobby_port;
        sc.game_port = o->game_port;
        sc.bots = o->server_bots;
        sc.seed = o->seed;
        sc.snapshot_format = o->range_coded ? NETCORE_SNAPSHOT_FORMAT_RANGE_CODED
                                            : NETCORE_SNAPSHOT_FORMAT_BITPACKED;
        char name[NETCORE_LOBBY_NAME_MAX + 1];
        snprintf(name, sizeof name, "%.20s's game", o->name);
        sc.lobby_name = name;
        if (!o->trust.insecure && !p->have_identity) {
            p->have_identity = demo_host_identity_load(&p->identity);
            if (!p->have_identity) {
                snprintf(error, error_size, "cannot make the host certificate (see the terminal)");
                return false;
            }
        }
        sc.identity = p->have_identity ? &p->identity : NULL;
        p->server = demo_server_create(&sc);
        if (!p->server) {
            snprintf(error, error_size, "cannot open ports %u and %u (in use?)", o->lobby_port,
                     o->game_port);
            return false;
        }
    }
    uint16_t game_port = 0;
    demo_server_ports(p->server, out_lobby_port, &game_port);
    if (p->have_identity) {
        char pin[NETCORE_LOBBY_TLS_PIN_STRLEN];
        netcore_lobby_tls_pin_format(p->identity.pin, pin, sizeof pin);
        fprintf(
            stderr,
            "demo-game: hosting: lobby on TCP port %u (TLS), game on UDP port %u; others find "
            "it in their LAN list, or join with\n  demo-game --connect THIS_MACHINE_IP:%u --pin %s\n",
            *out_lobby_port, game_port, *out_lobby_port, pin);
    } else {
        fprintf(
            stderr,
            "demo-game: hosting: plaintext lobby on TCP port %u, game on UDP port %u; others join "
            "with demo-game --insecure --connect THIS_MACHINE_IP:%u\n",
            *out_lobby_port, game_port, *out_lobby_port);
    }
    return true;
}

/* The menu's "Host" button: the local player pins the host's own certificate. */
static bool host_from_menu(void *user, uint16_t *out_lobby_port, uint8_t *out_pin, bool *out_tls,
                           char *error, size_t error_size)
{
    play *p = user;
    if (!start_server(p, p->options, out_lobby_port, error, error_size)) {
        return false;
    }
    *out_tls = p->have_identity;
    memcpy(out_pin, p->identity.pin, NETCORE_LOBBY_TLS_PIN_BYTES);
    return true;
}

/* One frame of the game: network, drawing. Returns the client's state. */
static demo_client_state game_frame(play *p, demo_render_view *view)
{
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
        /* Short: it shares the HUD band with the round clock. The toggles
         * are listed in the net graph (F1). */
        snprintf(p->status, sizeof p->status, "%s", p->server ? "hosting" : "online");
        view->local_player = demo_client_slot(p->client);
    } else {
        snprintf(p->status, sizeof p->status, "%s", state_text(st));
        w = &p->empty;
        view->local_player = -1;
    }
    view->status_text = p->status;
    demo_render_frame(p->renderer, w, w, view);
    if (p->options->screenshot && view->local_player >= 0 && !p->shot_taken) {
        if (!p->shot_due_us) {
            p->shot_due_us = now + 4000000;
        } else if (now >= p->shot_due_us) {
            p->shot_taken = demo_render_screenshot(p->renderer, p->options->screenshot);
        }
    }
    demo_render_present(p->renderer);
    return st;
}

static void pace(const play *p)
{
    if (!demo_render_has_vsync(p->renderer)) {
        SDL_Delay(4);
    }
}

static void start_client(play *p, demo_client *client)
{
    p->client = client;
    if (client) {
        const netcore_link_profile *l = &p->options->link;
        bool custom = l->latency_ms || l->jitter_ms || l->loss_pct > 0 || l->duplicate_pct > 0;
        demo_client_set_link(client, l, custom ? "custom" : "none");
        demo_client_set_prediction(client, p->prediction);
        demo_client_set_interpolation(client, p->interpolation);
        demo_client_set_lag_compensation(client, p->lag_compensation);
    }
}

/* --connect or --host: straight into the game; the window closes with it. */
static int run_direct(play *p, demo_client_config *cc)
{
    const demo_net_options *o = p->options;
    if (o->host) {
        char error[128];
        if (!start_server(p, o, &cc->lobby.port, error, sizeof error)) {
            fprintf(stderr, "demo-game: %s\n", error);
            return 1;
        }
        cc->lobby = netcore_address_ipv4(127, 0, 0, 1, cc->lobby.port);
        /* Its own lobby: trusted by the pin of the certificate it serves. */
        p->trust.pin_set = p->have_identity;
        memcpy(p->trust.pin, p->identity.pin, sizeof p->trust.pin);
    }
    start_client(p, demo_client_create(cc));
    if (!p->client) {
        return 1;
    }
    demo_render_view view = {-1, 1.0f, false, o->netgraph, NULL};
    const uint64_t start = netcore_time_now_us();
    bool running = true;
    while (running && !nci_stop_requested()) {
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
        demo_client_state st = game_frame(p, &view);
        if (st == DEMO_CLIENT_FAILED || (st == DEMO_CLIENT_CLOSED && !p->server)) {
            SDL_Delay(1500); /* leave the message on screen a moment */
            return 1;
        }
        if ((o->duration_s > 0 && (double)(netcore_time_now_us() - start) / 1e6 >= o->duration_s) ||
            p->shot_taken) {
            running = false;
        }
        pace(p);
    }
    return o->screenshot && !p->shot_taken ? 1 : 0;
}

/* The game server of the match died (the game connection timed out) while
 * the lobby still counts the room as playing: its owner ends the match, so
 * that every member is back in the room and a new start goes to a game
 * server that runs. */
static void end_lost_match(play *p, const demo_menu *menu, netcore_lobby_client *lobby)
{
    demo_client_stats st;
    demo_client_get_stats(p->client, &st);
    const netcore_lobby_room_state *room = demo_menu_room(menu);
    if (st.game_lost > 0 && lobby && room && room->in_match && !demo_menu_match_ended(menu) &&
        room->owner_id == netcore_lobby_client_id(lobby)) {
        netcore_lobby_client_end_match(lobby);
    }
}

/* No arguments: the lobby menu; a started match is played, and Esc (or the
 * end of the connection) returns to the menu's room. */
static int run_menu(play *p, demo_client_config *cc)
{
    const demo_net_options *o = p->options;
    demo_menu_config mc;
    demo_menu_config_default(&mc);
    mc.renderer = demo_render_sdl(p->renderer);
    mc.text = demo_render_text(p->renderer);
    mc.player_name = o->name;
    mc.host = host_from_menu;
    mc.host_user = p;
    mc.tls = p->trust.tls;
    /* Pins of LAN lobbies joined before: a changed certificate is refused. */
    static char known_pins[DEMO_PATH_MAX];
    if (p->trust.tls && demo_config_file("known-lobbies", known_pins, sizeof known_pins)) {
        mc.known_pins_file = known_pins;
    }
    demo_menu *menu = demo_menu_create(&mc);
    if (!menu) {
        fprintf(stderr, "demo-game: cannot open the lobby menu\n");
        return 1;
    }
    netcore_lobby_client *lobby = NULL;
    demo_render_view view = {-1, 1.0f, false, o->netgraph, NULL};
    bool running = true;
    while (running && !nci_stop_requested()) {
        bool leave = false;
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) {
            if (p->client && ev.type == SDL_KEYDOWN && !ev.key.repeat) {
                bool stay = true;
                on_key(p, ev.key.keysym.sym, &view, &stay);
                leave = leave || !stay;
            } else if (p->client && ev.type == SDL_KEYUP && ev.key.keysym.sym == SDLK_TAB) {
                view.show_scoreboard = false;
            } else if (p->client && ev.type == SDL_QUIT) {
                running = false;
            } else if (!p->client) {
                demo_menu_handle_event(menu, &ev);
            }
        }
        if (p->server) {
            demo_server_update(p->server, 0);
        }
        uint64_t now_ms = netcore_time_now_us() / 1000;
        if (p->client) {
            netcore_lobby_client_update(lobby, now_ms * 1000u);
            demo_client_state st = game_frame(p, &view);
            if (leave || st == DEMO_CLIENT_FAILED || st == DEMO_CLIENT_CLOSED ||
                demo_menu_match_ended(menu)) {
                end_lost_match(p, menu, lobby);
                demo_client_destroy(p->client);
                p->client = NULL;
                demo_menu_resume(menu, lobby);
                lobby = NULL;
            }
        } else {
            demo_menu_update(menu, now_ms);
            demo_menu_outcome out;
            demo_menu_status status = demo_menu_result(menu, &out);
            if (status == DEMO_MENU_QUIT) {
                running = false;
            } else if (status == DEMO_MENU_MATCH_STARTED) {
                lobby = out.lobby;
                cc->lobby = out.lobby_address;
                cc->name = out.nickname;
                start_client(p, demo_client_create_for_match(cc, &out.match));
                if (!p->client) {
                    demo_menu_resume(menu, lobby);
                    lobby = NULL;
                }
            }
            demo_menu_draw(menu);
            SDL_RenderPresent(demo_render_sdl(p->renderer));
        }
        pace(p);
    }
    demo_client_destroy(p->client);
    p->client = NULL;
    if (lobby) {
        demo_menu_resume(menu, lobby);
    }
    demo_menu_destroy(menu);
    return 0;
}

int demo_play_run(const demo_net_options *o)
{
    static play p; /* holds a demo_world: too large for the stack */
    memset(&p, 0, sizeof p);
    p.options = o;
    p.preset = -1;
    p.prediction = p.interpolation = true;
    p.lag_compensation = !o->no_lag_compensation;
    demo_world_init(&p.empty, NULL);
    if (netcore_init() != NETCORE_OK) {
        fprintf(stderr, "demo-game: cannot initialise the network\n");
        return 1;
    }
    /* --connect names the lobby (checked against its certificate); the menu
     * and --host get the context only (pins come later). */
    demo_trust_options trust_options = o->trust;
    if (!o->connect) {
        trust_options.pin_text = NULL;
    }
    if (!demo_trust_make(&trust_options, o->connect, &p.trust)) {
        netcore_shutdown();
        return 1;
    }
    demo_client_config cc;
    memset(&cc, 0, sizeof cc);
    cc.trust = &p.trust;
    cc.name = o->name;
    cc.link = o->link;
    cc.seed = o->seed;
    cc.snapshot_format =
        o->range_coded ? NETCORE_SNAPSHOT_FORMAT_RANGE_CODED : NETCORE_SNAPSHOT_FORMAT_BITPACKED;
    if (o->connect && (netcore_address_parse(o->connect, 7777, &cc.lobby) != NETCORE_OK ||
                       cc.lobby.family != NETCORE_ADDRESS_IPV4)) {
        fprintf(stderr, "demo-game: cannot resolve the lobby address '%s' (IPv4)\n", o->connect);
        demo_trust_release(&p.trust);
        netcore_shutdown();
        return 1;
    }
    int rc = 1;
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetMainReady();
    if (SDL_Init(0) != 0) {
        fprintf(stderr, "demo-game: SDL: %s\n", SDL_GetError());
    } else {
        demo_render_config rcfg;
        demo_render_config_default(&rcfg);
        rcfg.title = "netcore demo";
        rcfg.software = o->software;
        p.renderer = demo_render_create(&rcfg);
        if (p.renderer) {
            SDL_StartTextInput();
            rc = o->menu ? run_menu(&p, &cc) : run_direct(&p, &cc);
        }
        demo_client_destroy(p.client);
        demo_render_destroy(p.renderer);
        SDL_Quit();
    }
    demo_server_destroy(p.server);
    demo_trust_release(&p.trust);
    netcore_shutdown();
    return rc;
}
