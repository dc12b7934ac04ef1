/*
 * demo-game renderer: draws a demo_world with SDL2's 2D renderer into a
 * resizable window with a fixed 1280x720 logical size (letterboxed), the arena
 * filling it. Draws the grid, walls, ships (tinted sprite from assets/ or
 * polygons), projectiles, health bars, names, the HUD (score, round and
 * clock, kill feed), the scoreboard overlay and the net graph overlay.
 *
 * It knows nothing about the network: the net graph takes a plain struct of
 * figures that the networked client fills from netcore's statistics.
 * Single-threaded: use a renderer from the thread that created it.
 */
#ifndef DEMO_RENDER_H
#define DEMO_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

#define DEMO_LOGICAL_W 1280
#define DEMO_LOGICAL_H 720
#define DEMO_NETGRAPH_HISTORY 120 /* samples kept for the graphs */

typedef struct demo_render_config {
    const char *title; /* window title; copied by SDL */
    int window_w;      /* initial size in screen pixels; default 1280x720 */
    int window_h;
    bool vsync;             /* default true */
    bool software;          /* force SDL's software renderer; default false */
    const char *font_path;  /* NULL: DEMO_FONT, then system DejaVuSans (see render_text.h) */
    const char *assets_dir; /* NULL: DEMO_ASSETS, then the source tree's assets/, then "assets" */
} demo_render_config;

/* Figures shown by the net graph. Plain values; units in the names. */
typedef struct demo_netgraph_figures {
    float rtt_ms;
    float loss_pct;
    float in_kbps;
    float out_kbps;
    float snapshot_rate_hz;          /* snapshots received per second */
    float interp_delay_ms;           /* how far behind the newest snapshot the view is */
    float extrapolation_pct;         /* share of frames drawn past the newest snapshot */
    uint32_t prediction_corrections; /* reconciliations that moved the local ship, in total */
    bool prediction_on;
    bool interpolation_on;
    bool lag_compensation_on;
    const char *link_preset;       /* conditioner preset name; NULL shows "none"; copied */
    bool networked;                /* playing over a game connection (false: local game) */
    bool sealed;                   /* that connection's traffic is sealed */
    uint64_t crypto_auth_rejected; /* sealed messages refused (altered or forged) */
    const char *snapshot_format; /* static string ("bitpacked", "range_coded"); NULL shows "none" */
} demo_netgraph_figures;

/* What to draw besides the world. */
typedef struct demo_render_view {
    int local_player;     /* id of the player at this screen, -1 to spectate */
    float alpha;          /* 0..1: position between prev and cur worlds */
    bool show_scoreboard; /* forced on while the round is over */
    bool show_netgraph;
    const char *status_text; /* optional line under the HUD, e.g. "local game" */
} demo_render_view;

typedef struct demo_renderer demo_renderer;
struct SDL_Renderer;
struct demo_text;

/* Fills *config with the defaults listed above. */
void demo_render_config_default(demo_render_config *config);

/* Initialises SDL's video subsystem, opens the window, renderer, font and
 * sprites. Missing assets fall back to drawn shapes and the bitmap font.
 * Returns NULL (with a message on stderr) when SDL cannot make a window or
 * renderer. Free with demo_render_destroy. */
demo_renderer *demo_render_create(const demo_render_config *config);

/* Closes the window and quits the video subsystem; NULL is ignored. */
void demo_render_destroy(demo_renderer *renderer);

/* True when presenting waits for the display's vertical sync; when false
 * the caller should pace its loop itself. */
bool demo_render_has_vsync(const demo_renderer *renderer);

/* Which font is in use: the TrueType path or NULL for the bitmap font. */
const char *demo_render_font_path(const demo_renderer *renderer);

/* Feeds the events of a world that was just stepped (world->events) into the
 * effects: hit flashes, impact sparks, kill feed. Call once per step. */
void demo_render_note_events(demo_renderer *renderer, const demo_world *world);

/* Records one net graph sample (copied); call at a steady rate, e.g. every
 * frame or ten times a second: the graphs show the last DEMO_NETGRAPH_HISTORY. */
void demo_render_netgraph_push(demo_renderer *renderer, const demo_netgraph_figures *figures);

/* Draws one frame: entities at view->alpha between prev and cur (prev may be
 * NULL, or the same as cur), then the overlays. Does not present, so that a
 * screenshot can be taken first. */
void demo_render_frame(demo_renderer *renderer, const demo_world *prev, const demo_world *cur,
                       const demo_render_view *view);

/* Shows the frame drawn by demo_render_frame (waits for vsync when enabled). */
void demo_render_present(demo_renderer *renderer);

/* Saves the frame drawn last (before presenting) to path: PNG when the name
 * ends in ".png", BMP otherwise. Returns false with a message on stderr on
 * failure. */
bool demo_render_screenshot(demo_renderer *renderer, const char *path);

/* The SDL renderer (logical size DEMO_LOGICAL_W x DEMO_LOGICAL_H) and the
 * text context, owned by *renderer, for other screens such as the lobby menu
 * to draw with. Valid until demo_render_destroy. */
struct SDL_Renderer *demo_render_sdl(demo_renderer *renderer);
struct demo_text *demo_render_text(demo_renderer *renderer);

/* Converts a point in window coordinates (SDL_GetMouseState) to arena
 * units, through the letterboxed logical scaling. */
void demo_render_window_to_arena(const demo_renderer *renderer, int wx, int wy, float *ax,
                                 float *ay);

#endif
