/*
 * world: a game server and N clients on the session layer, in one process
 * over real UDP on loopback. The server moves orbs around the arena and
 * steps every player with its inputs; each client predicts its own player
 * and interpolates everything else. Client 0 is yours when a window can
 * open (WASD or arrows move, Esc quits); the others are scripted bots.
 *
 *   world [--clients N] [--seconds S] [--preset perfect|lan|wifi|4g|bad] [--headless]
 *
 * Headless (the flag, or no display, or no SDL2 at build time) it plays for
 * --seconds, lets everyone rest for the last 1.5 s, then checks that every
 * client's predicted own player and its view of the others equal the
 * server's state, prints one line per client and exits 0 when they do.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"

#ifdef WORLD_HAVE_SDL2
#include <SDL.h>
#endif

#define MAX_CLIENTS 8
#define ORBS 6
#define REST_US 1500000u

typedef struct world world;

typedef struct player {
    world *w;
    int k;
    netcore_game_client *client;
} player;

struct world {
    arena game;
    netcore_game_server *server;
    player players[MAX_CLIENTS];
    int count;
    netcore_entity_id orbs[ORBS];
    const uint8_t *keys; /* SDL keyboard state for player 0, NULL headless */
    bool resting;
};

/* ---- server: the rest of the world ---- */

static void on_join(void *user, netcore_game_server *server, uint32_t client,
                    netcore_entity_id entity)
{
    (void)user;
    (void)entity;
    arena_state *st = netcore_game_server_client_state(server, client);
    st->x_milli = (int32_t)client * 5000 - 10000;
    st->y_milli = 0;
}

static void on_tick(void *user, netcore_game_server *server, uint32_t tick)
{
    world *w = user;
    netcore_snapshot_server *snap = netcore_game_server_snapshot(server);
    for (int i = 0; i < ORBS; i++) {
        if (w->orbs[i] == NETCORE_ENTITY_NONE &&
            netcore_snapshot_server_entity_create(snap, w->game.type_orb, &w->orbs[i]) !=
                NETCORE_OK)
            continue;
        double angle = (double)tick * 0.02 + i * 6.283185307179586 / ORBS;
        netcore_vec3 pos = {(float)(25.0 * cos(angle)), (float)(25.0 * sin(angle)), 0.0f};
        netcore_snapshot_server_set_vec3(snap, w->orbs[i], w->game.orb_pos, pos);
        netcore_game_server_record(server, w->orbs[i], pos); /* for lag-compensated questions */
    }
}

/* ---- clients: inputs ---- */

static int8_t bot_axis(int k, uint32_t tick, int axis)
{
    uint32_t h = (uint32_t)k * 2654435761u ^ (tick / 40) * 40503u ^ (uint32_t)axis * 97u;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    return (int8_t)((int)((h >> 15) % 3) - 1);
}

static void sample_input(void *user, netcore_game_client *client, uint32_t tick, void *out)
{
    player *p = user;
    arena_input *in = out;
    (void)client;
    if (p->w->resting)
        return; /* zeroed by the session: stand still */
#ifdef WORLD_HAVE_SDL2
    if (p->k == 0 && p->w->keys) {
        const uint8_t *k = p->w->keys;
        in->move_x = (int8_t)((k[SDL_SCANCODE_D] || k[SDL_SCANCODE_RIGHT]) -
                              (k[SDL_SCANCODE_A] || k[SDL_SCANCODE_LEFT]));
        in->move_y = (int8_t)((k[SDL_SCANCODE_S] || k[SDL_SCANCODE_DOWN]) -
                              (k[SDL_SCANCODE_W] || k[SDL_SCANCODE_UP]));
        return;
    }
#endif
    in->move_x = bot_axis(p->k, tick, 0);
    in->move_y = bot_axis(p->k, tick, 1);
}

/* ---- drawing (SDL2 builds only) ---- */

#ifdef WORLD_HAVE_SDL2
typedef struct view {
    SDL_Window *window;
    SDL_Renderer *renderer;
} view;

static bool view_open(view *v)
{
    if (SDL_Init(SDL_INIT_VIDEO) != 0)
        return false;
    v->window = SDL_CreateWindow("netcore world", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                                 640, 640, 0);
    v->renderer = v->window ? SDL_CreateRenderer(v->window, -1, SDL_RENDERER_PRESENTVSYNC) : NULL;
    if (!v->renderer) {
        if (v->window)
            SDL_DestroyWindow(v->window);
        SDL_Quit();
        return false;
    }
    return true;
}

static void view_close(view *v)
{
    SDL_DestroyRenderer(v->renderer);
    SDL_DestroyWindow(v->window);
    SDL_Quit();
}

static void dot(view *v, netcore_vec3 p, int size, uint8_t r, uint8_t g, uint8_t b)
{
    SDL_Rect rect = {(int)(320.0f + p.x * 7.5f) - size / 2, (int)(320.0f + p.y * 7.5f) - size / 2,
                     size, size};
    SDL_SetRenderDrawColor(v->renderer, r, g, b, 255);
    SDL_RenderFillRect(v->renderer, &rect);
}

/* What player 0 sees: everything interpolated, its own player predicted. */
static void view_draw(view *v, world *w)
{
    netcore_game_client *c = w->players[0].client;
    netcore_interp *interp = netcore_game_client_interp(c);
    SDL_SetRenderDrawColor(v->renderer, 16, 18, 28, 255);
    SDL_RenderClear(v->renderer);
    for (uint32_t i = 0; i < netcore_interp_entity_count(interp); i++) {
        netcore_entity_id id;
        uint16_t type;
        netcore_vec3 pos;
        netcore_interp_entity_at(interp, i, &id, &type, NULL);
        bool orb = type == w->game.type_orb;
        if (id == netcore_game_client_entity(c) ||
            netcore_interp_get_vec3(interp, id, orb ? w->game.orb_pos : w->game.player_pos, &pos) !=
                NETCORE_OK)
            continue;
        dot(v, pos, orb ? 10 : 16, orb ? 240 : 80, orb ? 200 : 140, orb ? 60 : 240);
    }
    if (netcore_game_client_predicted_state(c, NULL))
        dot(v, netcore_game_client_predicted_position(c), 16, 90, 230, 120);
    SDL_RenderPresent(v->renderer);
}

static bool view_poll(void)
{
    SDL_Event e;
    while (SDL_PollEvent(&e))
        if (e.type == SDL_QUIT || (e.type == SDL_KEYDOWN && e.key.keysym.sym == SDLK_ESCAPE))
            return false;
    return true;
}
#endif

/* ---- set-up, loop, check ---- */

static bool start(world *w, int clients, netcore_link_preset preset)
{
    netcore_game_server_config sc;
    netcore_game_server_config_default(&sc);
    arena_describe(&w->game, &sc.game);
    sc.bind_address = netcore_address_ipv4(127, 0, 0, 1, 0);
    sc.max_clients = MAX_CLIENTS;
    sc.max_entities = 64;
    sc.on_tick = on_tick;
    sc.on_join = on_join;
    sc.user = w;
    netcore_address at;
    if (netcore_game_server_create(&sc, &w->server) != NETCORE_OK ||
        netcore_game_server_address(w->server, &at) != NETCORE_OK)
        return false;
    for (int k = 0; k < clients; k++) {
        netcore_game_client_config cc;
        netcore_game_client_config_default(&cc);
        arena_describe(&w->game, &cc.game);
        cc.max_entities = 64;
        cc.sample_input = sample_input;
        cc.user = &w->players[k];
        cc.conditioner.enabled = true;
        cc.conditioner.seed = (uint64_t)k + 1;
        cc.conditioner.inbound = netcore_link_preset_profile(preset);
        cc.conditioner.outbound = cc.conditioner.inbound;
        w->players[k] = (player){w, k, NULL};
        if (netcore_game_client_create(&cc, &w->players[k].client) != NETCORE_OK ||
            netcore_game_client_connect(w->players[k].client, &at, NULL) != NETCORE_OK)
            return false;
        w->count++;
    }
    return true;
}

static void step(world *w)
{
    uint64_t now = netcore_time_now_us();
    netcore_game_server_update(w->server, now);
    for (int k = 0; k < w->count; k++)
        netcore_game_client_update(w->players[k].client, now);
}

/* True when client k predicts its own player exactly and sees every other
 * player where the server has it (to the display field's 1/256 unit). */
static bool converged(world *w, int k)
{
    netcore_game_client *c = w->players[k].client;
    uint32_t me = netcore_game_client_index(c);
    const arena_state *mine = netcore_game_client_predicted_state(c, NULL);
    const arena_state *truth = netcore_game_server_client_state(w->server, me);
    if (!mine || !truth || mine->x_milli != truth->x_milli || mine->y_milli != truth->y_milli)
        return false;
    for (uint32_t other = 0; other < MAX_CLIENTS; other++) {
        const arena_state *st = netcore_game_server_client_state(w->server, other);
        netcore_vec3 seen;
        if (!st || other == me)
            continue;
        netcore_entity_id e = netcore_game_server_client_entity(w->server, other);
        netcore_vec3 real = arena_position(NULL, st);
        if (netcore_interp_get_vec3(netcore_game_client_interp(c), e, w->game.player_pos, &seen) !=
                NETCORE_OK ||
            fabsf(seen.x - real.x) > 1.0f / 256.0f || fabsf(seen.y - real.y) > 1.0f / 256.0f)
            return false;
    }
    return true;
}

static int report(world *w)
{
    int failures = 0;
    for (int k = 0; k < w->count; k++) {
        netcore_game_client_stats st;
        netcore_game_client_get_stats(w->players[k].client, &st);
        bool ok = st.state == NETCORE_GAME_CLIENT_PLAYING && converged(w, k);
        failures += !ok;
        printf("{\"client\":%d,\"state\":\"%s\",\"rtt_ms\":%.1f,\"snapshots\":%llu,"
               "\"corrections\":%llu,\"interp_delay_ms\":%.1f,\"converged\":%s}\n",
               k, netcore_game_client_state_str(st.state), (double)st.rtt_ms,
               (unsigned long long)st.snapshots_decoded, (unsigned long long)st.corrections,
               (double)st.interp_delay_ms, ok ? "true" : "false");
    }
    return failures == 0 ? 0 : 1;
}

static bool parse_preset(const char *text, netcore_link_preset *out)
{
    for (int p = 0; p < NETCORE_LINK_PRESET_COUNT; p++) {
        if (strcmp(text, netcore_link_preset_name((netcore_link_preset)p)) == 0) {
            *out = (netcore_link_preset)p;
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    int clients = 3;
    double seconds = 0.0;
    bool headless = !getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY");
    netcore_link_preset preset = NETCORE_LINK_LAN;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--headless") == 0) {
            headless = true;
        } else if (strcmp(argv[i], "--clients") == 0 && value) {
            clients = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--seconds") == 0 && value) {
            seconds = atof(argv[++i]);
        } else if (!(strcmp(argv[i], "--preset") == 0 && value &&
                     parse_preset(argv[++i], &preset))) {
            fprintf(
                stderr,
                "usage: world [--clients 1..%d] [--seconds S] [--preset perfect|lan|wifi|4g|bad] "
                "[--headless]\n",
                MAX_CLIENTS);
            return 2;
        }
    }
    if (clients < 1 || clients > MAX_CLIENTS)
        clients = 3;
    if (headless && seconds <= 0.0)
        seconds = 5.0;
    world w;
    memset(&w, 0, sizeof w);
    if (netcore_init() != NETCORE_OK || !arena_create(&w.game) || !start(&w, clients, preset)) {
        fprintf(stderr, "world: cannot start\n");
        return 1;
    }
#ifdef WORLD_HAVE_SDL2
    view v = {0};
    if (!headless && !view_open(&v)) {
        fprintf(stderr, "world: no window (%s): running headless\n", SDL_GetError());
        headless = true;
        seconds = seconds > 0.0 ? seconds : 5.0;
    }
    if (!headless)
        w.keys = SDL_GetKeyboardState(NULL);
#else
    headless = true;
    seconds = seconds > 0.0 ? seconds : 5.0;
#endif
    uint64_t start_us = netcore_time_now_us();
    uint64_t end_us = seconds > 0.0 ? start_us + (uint64_t)(seconds * 1e6) : UINT64_MAX;
    for (uint64_t now = start_us; now < end_us; now = netcore_time_now_us()) {
        w.resting = end_us != UINT64_MAX && end_us - now < REST_US;
        step(&w);
#ifdef WORLD_HAVE_SDL2
        if (!headless) {
            if (!view_poll())
                break;
            view_draw(&v, &w);
            continue;
        }
#endif
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    /* A windowed run ends when the player closes it: the check is for headless runs. */
    int status = report(&w) == 0 || !headless ? 0 : 1;
#ifdef WORLD_HAVE_SDL2
    if (!headless)
        view_close(&v);
#endif
    for (int k = 0; k < w.count; k++)
        netcore_game_client_destroy(w.players[k].client);
    netcore_game_server_destroy(w.server);
    arena_destroy(&w.game);
    netcore_shutdown();
    return status;
}
