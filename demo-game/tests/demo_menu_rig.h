/*
 * Shared by the demo menu tests (test_demo_menu.c, test_demo_menu_tls.c):
 * SDL's dummy video driver, a software renderer drawing into a surface,
 * synthetic SDL events, and a real netcore_lobby_server on 127.0.0.1
 * (ephemeral ports) in the same process, plaintext or TLS. Every wait is a
 * bounded loop; nothing asserts on timing. Header-only, static inline.
 */
#ifndef DEMO_MENU_RIG_H
#define DEMO_MENU_RIG_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL.h>

#include "menu.h"
#include "netcore/lobby.h"
#include "png.h"
#include "render.h"

#define PUMP_MAX_ITERATIONS 4000
#define PUMP_MAX_MS 15000
#define GAME_PORT 40000

typedef struct seat {
    SDL_Surface *surface;
    SDL_Renderer *renderer;
    demo_text *text;
    demo_menu *menu;
} seat;

typedef struct rig {
    netcore_lobby_server *server;
    netcore_address lobby_address;
    netcore_address discovery_address;
    seat seats[2];
    netcore_lobby_client *held; /* a lobby client handed over by a menu */
    /* TLS rigs: the server's certificate (made in dir) and the menus' trust. */
    bool server_tls;
    char dir[64], cert[96], key[96];
    netcore_lobby_tls *trust;
    bool no_discovery;    /* the menus probe a port where nothing answers */
    char known_pins[128]; /* the menus' remembered pins (TLS rigs) */
} rig;

static inline uint64_t now_ms(void)
{
    return netcore_time_now_us() / 1000;
}

/* The lobby's API takes microseconds; the menu's clock is milliseconds. */
static inline uint64_t now_us(void)
{
    return netcore_time_now_us();
}

static inline void start_server(rig *r, uint32_t idle_timeout_ms)
{
    netcore_lobby_server_config cfg;
    netcore_lobby_server_config_default(&cfg);
    cfg.listen[0] = netcore_address_ipv4(127, 0, 0, 1, 0);
    cfg.listen_count = 1;
    for (size_t i = 0; i < sizeof cfg.key; i++) {
        cfg.key[i] = (uint8_t)(i * 7 + 3);
    }
    cfg.game_address = netcore_address_ipv4(127, 0, 0, 1, GAME_PORT);
    cfg.discovery_enabled = true;
    cfg.discovery_port = 0;
    snprintf(cfg.lobby_name, sizeof cfg.lobby_name, "%s", "test lobby");
    cfg.seed = 42;
    if (idle_timeout_ms) {
        cfg.idle_timeout_ms = idle_timeout_ms;
    }
    if (r->server_tls) {
        snprintf(r->dir, sizeof r->dir, "/tmp/netcore-menu-tls-XXXXXX");
        cr_assert_not_null(mkdtemp(r->dir));
        snprintf(r->cert, sizeof r->cert, "%s/cert.pem", r->dir);
        snprintf(r->key, sizeof r->key, "%s/key.pem", r->dir);
        cr_assert_eq(netcore_lobby_tls_make_self_signed(r->cert, r->key, "menu-host", 2),
                     NETCORE_OK);
        cfg.tls_cert_file = r->cert;
        cfg.tls_key_file = r->key;
        cr_assert_eq(netcore_lobby_tls_cert_pin(r->cert, cfg.discovery_tls_pin), NETCORE_OK);
    }
    cr_assert_eq(netcore_lobby_server_create(&cfg, &r->server), NETCORE_OK);
    cr_assert_eq(netcore_lobby_server_address(r->server, 0, &r->lobby_address), NETCORE_OK);
    cr_assert_eq(netcore_lobby_server_discovery_address(r->server, &r->discovery_address),
                 NETCORE_OK);
}

static inline void open_seat(rig *r, int i, const char *name)
{
    seat *s = &r->seats[i];
    s->surface = SDL_CreateRGBSurfaceWithFormat(0, DEMO_LOGICAL_W, DEMO_LOGICAL_H, 32,
                                                SDL_PIXELFORMAT_RGBA32);
    cr_assert_not_null(s->surface);
    s->renderer = SDL_CreateSoftwareRenderer(s->surface);
    cr_assert_not_null(s->renderer);
    s->text = demo_text_create(s->renderer, NULL);
    cr_assert_not_null(s->text);
    demo_menu_config cfg;
    demo_menu_config_default(&cfg);
    cfg.renderer = s->renderer;
    cfg.text = s->text;
    cfg.player_name = name;
    cfg.discovery_target = r->discovery_address;
    if (r->no_discovery) {
        cfg.discovery_target = netcore_address_ipv4(127, 0, 0, 1, 9);
    }
    cfg.tls = r->trust;
    cfg.known_pins_file = r->known_pins[0] ? r->known_pins : NULL;
    cfg.discovery_interval_ms = 200;
    cfg.room_list_interval_ms = 100;
    cfg.reconnect_attempts = 2;
    s->menu = demo_menu_create(&cfg);
    cr_assert_not_null(s->menu);
}

static inline void rig_open(rig *r, int seats, uint32_t idle_timeout_ms)
{
    memset(r, 0, sizeof *r);
    cr_assert_eq(SDL_setenv("SDL_VIDEODRIVER", "dummy", 1), 0);
    cr_assert_eq(SDL_Init(SDL_INIT_VIDEO), 0, "SDL_Init: %s", SDL_GetError());
    start_server(r, idle_timeout_ms);
    for (int i = 0; i < seats; i++) {
        open_seat(r, i, "");
    }
}

static inline void rig_close(rig *r)
{
    netcore_lobby_client_destroy(r->held);
    for (int i = 0; i < 2; i++) {
        seat *s = &r->seats[i];
        demo_menu_destroy(s->menu);
        demo_text_destroy(s->text);
        if (s->renderer) {
            SDL_DestroyRenderer(s->renderer);
        }
        if (s->surface) {
            SDL_FreeSurface(s->surface);
        }
    }
    netcore_lobby_server_destroy(r->server);
    netcore_lobby_tls_destroy(r->trust);
    if (r->known_pins[0]) {
        unlink(r->known_pins);
    }
    if (r->server_tls) {
        unlink(r->cert);
        unlink(r->key);
        rmdir(r->dir);
    }
    SDL_Quit();
}

/* One seat whose menu speaks TLS (system store, pins from discovery) to a
 * lobby with (server_tls) or without TLS. */
static inline void rig_open_tls(rig *r, bool server_tls, bool no_discovery)
{
    memset(r, 0, sizeof *r);
    cr_assert_eq(SDL_setenv("SDL_VIDEODRIVER", "dummy", 1), 0);
    cr_assert_eq(SDL_Init(SDL_INIT_VIDEO), 0, "SDL_Init: %s", SDL_GetError());
    r->server_tls = server_tls;
    r->no_discovery = no_discovery;
    start_server(r, 0);
    if (server_tls) {
        snprintf(r->known_pins, sizeof r->known_pins, "%s/known-lobbies", r->dir);
    }
    netcore_lobby_tls_config tc;
    netcore_lobby_tls_config_default(&tc);
    cr_assert_eq(netcore_lobby_tls_create(&tc, &r->trust), NETCORE_OK);
    open_seat(r, 0, "");
}

typedef bool (*rig_pred)(rig *r, const void *arg);

/* Runs the server and every menu (and a handed-over client) until pred holds
 * or the bounds run out; returns whether pred held. */
static inline bool pump_until(rig *r, rig_pred pred, const void *arg)
{
    uint64_t start = now_ms();
    for (int i = 0; i < PUMP_MAX_ITERATIONS && now_ms() - start < PUMP_MAX_MS; i++) {
        uint64_t now = now_ms();
        netcore_lobby_server_update(r->server, now * 1000u, 2);
        for (int s = 0; s < 2; s++) {
            if (r->seats[s].menu) {
                demo_menu_update(r->seats[s].menu, now);
            }
        }
        if (r->held) {
            netcore_lobby_client_update(r->held, now * 1000u);
        }
        if (pred(r, arg)) {
            return true;
        }
    }
    return false;
}

static inline bool has_message(rig *r, const void *arg)
{
    return demo_menu_message(r->seats[*(const int *)arg].menu)[0] != '\0';
}

typedef struct screen_wait {
    int seat;
    demo_menu_screen screen;
} screen_wait;

static inline bool on_screen(rig *r, const void *arg)
{
    const screen_wait *w = arg;
    return demo_menu_current_screen(r->seats[w->seat].menu) == w->screen;
}

static inline void wait_screen(rig *r, int seat_index, demo_menu_screen screen)
{
    screen_wait w = {seat_index, screen};
    cr_assert(pump_until(r, on_screen, &w),
              "seat %d never reached screen %d (on %d, message \"%s\")", seat_index, (int)screen,
              (int)demo_menu_current_screen(r->seats[seat_index].menu),
              demo_menu_message(r->seats[seat_index].menu));
}

typedef struct widget_wait {
    int seat;
    const char *label;
} widget_wait;

static inline bool widget_shown(rig *r, const void *arg)
{
    const widget_wait *w = arg;
    SDL_Rect rect;
    return demo_menu_find_widget(r->seats[w->seat].menu, w->label, &rect);
}

/* ------------------------------------------------------------------ */
/* Synthetic input                                                     */
/* ------------------------------------------------------------------ */

static inline void type_text(demo_menu *menu, const char *utf8)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_TEXTINPUT;
    cr_assert_lt((size_t)snprintf(e.text.text, sizeof e.text.text, "%s", utf8), sizeof e.text.text);
    cr_assert(demo_menu_handle_event(menu, &e));
}

static inline void press_key(demo_menu *menu, SDL_Keycode key)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = key;
    demo_menu_handle_event(menu, &e);
}

static inline void click(demo_menu *menu, const char *label)
{
    SDL_Rect rect;
    cr_assert(demo_menu_find_widget(menu, label, &rect), "no widget \"%s\" on screen %d", label,
              (int)demo_menu_current_screen(menu));
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.state = SDL_PRESSED;
    e.button.clicks = 1;
    e.button.x = rect.x + rect.w / 2;
    e.button.y = rect.y + rect.h / 2;
    cr_assert(demo_menu_handle_event(menu, &e));
}

static inline void clear_field(demo_menu *menu, const char *caption)
{
    click(menu, caption);
    for (int i = 0; i < 80; i++) {
        press_key(menu, SDLK_BACKSPACE);
    }
}

/* Name screen -> browser -> typed address -> rooms. */
static inline void connect_seat(rig *r, int i, const char *name)
{
    demo_menu *menu = r->seats[i].menu;
    type_text(menu, name);
    press_key(menu, SDLK_RETURN);
    cr_assert_eq(demo_menu_current_screen(menu), DEMO_MENU_SCREEN_BROWSER);
    char address[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&r->lobby_address, address, sizeof address);
    clear_field(menu, "Lobby address (host or host:port)");
    type_text(menu, address);
    press_key(menu, SDLK_RETURN);
    wait_screen(r, i, DEMO_MENU_SCREEN_ROOMS);
}

/* ------------------------------------------------------------------ */
/* Pixels                                                              */
/* ------------------------------------------------------------------ */

static inline void render(seat *s)
{
    demo_menu_draw(s->menu);
    SDL_RenderPresent(s->renderer);
}

/* Pixels bright enough to be text or highlights (the background is dark). */
static inline int bright_pixels(SDL_Surface *surface)
{
    int count = 0;
    cr_assert_eq(SDL_LockSurface(surface), 0);
    for (int y = 0; y < surface->h; y++) {
        const uint8_t *row = (const uint8_t *)surface->pixels + (size_t)y * (size_t)surface->pitch;
        for (int x = 0; x < surface->w; x++) {
            const uint8_t *px = row + x * 4; /* RGBA32: bytes R, G, B, A */
            if (px[0] + px[1] + px[2] > 450) {
                count++;
            }
        }
    }
    SDL_UnlockSurface(surface);
    return count;
}

static inline void save_png(SDL_Surface *surface, const char *path)
{
    SDL_Surface *rgb = SDL_ConvertSurfaceFormat(surface, SDL_PIXELFORMAT_RGB24, 0);
    cr_assert_not_null(rgb);
    cr_assert(demo_png_write(path, rgb->pixels, rgb->w, rgb->h, rgb->pitch));
    SDL_FreeSurface(rgb);
}

/* Draws the screen into a cleared surface and checks that text and frames
 * appeared. With DEMO_MENU_SHOTS set, also saves menu-<what>.png beside the
 * test program for a look at every screen. */
static inline void assert_drawn(seat *s, const char *what)
{
    SDL_FillRect(s->surface, NULL, 0);
    render(s);
    int bright = bright_pixels(s->surface);
    cr_assert_gt(bright, 200, "%s: only %d bright pixels", what, bright);
    if (SDL_getenv("DEMO_MENU_SHOTS")) {
        char path[512];
        snprintf(path, sizeof path, "%s/menu-%s.png", DEMO_MENU_SCREENSHOT_DIR, what);
        save_png(s->surface, path);
    }
}

#endif /* DEMO_MENU_RIG_H */
