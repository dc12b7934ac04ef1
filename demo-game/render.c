/* SDL2 renderer for the demo arena; see render.h. */
#include "render.h"

#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png.h"
#include "render_text.h"

#ifndef DEMO_ASSETS_DIR
#define DEMO_ASSETS_DIR "assets"
#endif

/* Logical pixels per arena unit: the 1600x900 arena fills 1280x720. */
#define ARENA_SCALE ((float)DEMO_LOGICAL_W / (float)DEMO_ARENA_W)
#define HUD_BAND_H 26
#define SHIP_SPRITE_PX 44 /* drawn size of the 64x64 sprite */
#define HIT_FLASH_TICKS 8
#define PALETTE_COLORS 16 /* colours in palette.bmp; 64 players share them */
#define SPARK_TICKS 12
#define DEATH_RING_TICKS 40
#define KILL_FEED_TICKS (5 * DEMO_TICK_RATE_HZ)
#define KILL_FEED_LINES 5
#define SPARK_SLOTS 48

typedef struct spark {
    uint32_t tick;
    float x, y; /* arena units */
    uint8_t owner;
    bool death; /* a ring where a ship died rather than a wall spark */
} spark;

typedef struct kill_line {
    uint32_t tick;
    uint8_t killer, victim;
} kill_line;

struct demo_renderer {
    SDL_Window *window;
    SDL_Renderer *sdl;
    demo_text *text;
    SDL_Texture *ship_sprite;            /* NULL: drawn as polygons */
    SDL_Color palette[PALETTE_COLORS];   /* player id i wears colour i % PALETTE_COLORS */
    uint32_t hit_tick[DEMO_MAX_PLAYERS]; /* tick of the last hit taken, +1 (0 = never) */
    spark sparks[SPARK_SLOTS];
    int spark_next;
    kill_line kills[KILL_FEED_LINES];
    int kill_next;
    demo_netgraph_figures graph_last;
    char graph_preset[32];
    float graph_rtt[DEMO_NETGRAPH_HISTORY];
    float graph_in[DEMO_NETGRAPH_HISTORY];
    float graph_out[DEMO_NETGRAPH_HISTORY];
    int graph_count; /* samples held, up to DEMO_NETGRAPH_HISTORY */
    int graph_next;  /* slot of the next sample */
};

/* Same colours as assets/generate.py writes to palette.bmp. */
static const SDL_Color default_palette[PALETTE_COLORS] = {
    {80, 200, 255, 255},  {255, 100, 90, 255},  {120, 230, 110, 255}, {255, 200, 60, 255},
    {200, 120, 255, 255}, {255, 150, 200, 255}, {70, 230, 210, 255},  {255, 140, 40, 255},
    {170, 200, 90, 255},  {130, 150, 255, 255}, {240, 240, 240, 255}, {220, 90, 160, 255},
    {100, 180, 140, 255}, {250, 230, 140, 255}, {160, 110, 80, 255},  {110, 210, 250, 255},
};

static const SDL_Color col_floor = {14, 17, 26, 255};
static const SDL_Color col_grid = {24, 29, 43, 255};
static const SDL_Color col_grid_major = {33, 40, 60, 255};
static const SDL_Color col_wall = {58, 66, 92, 255};
static const SDL_Color col_wall_edge = {104, 118, 160, 255};
static const SDL_Color col_hud = {20, 24, 36, 255};
static const SDL_Color col_text = {230, 234, 245, 255};
static const SDL_Color col_dim = {150, 158, 180, 255};
static const SDL_Color col_accent = {255, 210, 90, 255};
static const SDL_Color col_panel = {10, 12, 20, 215};
static const SDL_Color col_sealed = {120, 220, 140, 255};
static const SDL_Color col_warn = {255, 110, 90, 255};

/* Ship outline in sprite pixels (64x64, nose towards +x), as in generate.py. */
static const float hull_px[4][2] = {{61, 32}, {10, 6}, {20, 32}, {10, 58}};

/* ---- small drawing helpers ---- */

static void set_color(demo_renderer *r, SDL_Color c)
{
    SDL_SetRenderDrawColor(r->sdl, c.r, c.g, c.b, c.a);
}

static void fill_rect(demo_renderer *r, float x, float y, float w, float h, SDL_Color c)
{
    SDL_FRect rect = {x, y, w, h};
    set_color(r, c);
    SDL_RenderFillRectF(r->sdl, &rect);
}

static SDL_Color with_alpha(SDL_Color c, int alpha)
{
    c.a = (Uint8)(alpha < 0 ? 0 : (alpha > 255 ? 255 : alpha));
    return c;
}

static SDL_Color lighten(SDL_Color c, int amount)
{
    SDL_Color out = {(Uint8)(c.r + (255 - c.r) * amount / 255),
                     (Uint8)(c.g + (255 - c.g) * amount / 255),
                     (Uint8)(c.b + (255 - c.b) * amount / 255), c.a};
    return out;
}

static void fill_circle(demo_renderer *r, float cx, float cy, float radius, SDL_Color c)
{
    enum { SEGMENTS = 16 };
    SDL_Vertex v[SEGMENTS + 1];
    int idx[SEGMENTS * 3];
    v[0].position.x = cx;
    v[0].position.y = cy;
    for (int i = 0; i < SEGMENTS; i++) {
        float a = (float)i * 6.2831853f / SEGMENTS;
        v[i + 1].position.x = cx + SDL_cosf(a) * radius;
        v[i + 1].position.y = cy + SDL_sinf(a) * radius;
        idx[i * 3] = 0;
        idx[i * 3 + 1] = i + 1;
        idx[i * 3 + 2] = (i + 1) % SEGMENTS + 1;
    }
    for (int i = 0; i <= SEGMENTS; i++) {
        v[i].color = c;
        v[i].tex_coord.x = 0;
        v[i].tex_coord.y = 0;
    }
    SDL_RenderGeometry(r->sdl, NULL, v, SEGMENTS + 1, idx, SEGMENTS * 3);
}

static void draw_ring(demo_renderer *r, float cx, float cy, float radius, SDL_Color c)
{
    enum { SEGMENTS = 24 };
    SDL_FPoint p[SEGMENTS + 1];
    for (int i = 0; i <= SEGMENTS; i++) {
        float a = (float)i * 6.2831853f / SEGMENTS;
        p[i].x = cx + SDL_cosf(a) * radius;
        p[i].y = cy + SDL_sinf(a) * radius;
    }
    set_color(r, c);
    SDL_RenderDrawLinesF(r->sdl, p, SEGMENTS + 1);
}

static float to_px(demo_fx v)
{
    return (float)v / (float)DEMO_FX_ONE * ARENA_SCALE;
}

/* ---- creation ---- */

void demo_render_config_default(demo_render_config *config)
{
    memset(config, 0, sizeof *config);
    config->title = "netcore demo";
    config->window_w = DEMO_LOGICAL_W;
    config->window_h = DEMO_LOGICAL_H;
    config->vsync = true;
}

/* Loads sprites and the palette from the first assets directory holding
 * ship.bmp; anything missing keeps the built-in look. */
static void load_assets(demo_renderer *r, const char *dir_override)
{
    const char *dirs[] = {dir_override, SDL_getenv("DEMO_ASSETS"), DEMO_ASSETS_DIR, "assets"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i] || !dirs[i][0]) {
            continue;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/ship.bmp", dirs[i]);
        SDL_Surface *ship = SDL_LoadBMP(path);
        if (!ship) {
            continue;
        }
        SDL_SetColorKey(ship, SDL_TRUE, SDL_MapRGB(ship->format, 255, 0, 255));
        SDL_Surface *rgba_ship = SDL_ConvertSurfaceFormat(ship, SDL_PIXELFORMAT_RGBA32, 0);
        SDL_FreeSurface(ship);
        if (rgba_ship && SDL_LockSurface(rgba_ship) == 0) {
            /* The key became alpha 0, but its magenta would still bleed into
             * the edges under linear filtering: make hidden pixels light grey. */
            for (int y = 0; y < rgba_ship->h; y++) {
                Uint8 *row = (Uint8 *)rgba_ship->pixels + (size_t)y * (size_t)rgba_ship->pitch;
                for (int x = 0; x < rgba_ship->w; x++) {
                    if (row[x * 4 + 3] == 0) {
                        row[x * 4] = row[x * 4 + 1] = row[x * 4 + 2] = 200;
                    }
                }
            }
            SDL_UnlockSurface(rgba_ship);
            r->ship_sprite = SDL_CreateTextureFromSurface(r->sdl, rgba_ship);
        }
        SDL_FreeSurface(rgba_ship);

        snprintf(path, sizeof path, "%s/palette.bmp", dirs[i]);
        SDL_Surface *pal = SDL_LoadBMP(path);
        SDL_Surface *rgba = pal ? SDL_ConvertSurfaceFormat(pal, SDL_PIXELFORMAT_RGBA32, 0) : NULL;
        if (rgba && rgba->w >= PALETTE_COLORS && SDL_LockSurface(rgba) == 0) {
            const Uint8 *px = rgba->pixels;
            for (int k = 0; k < PALETTE_COLORS; k++) {
                SDL_Color c = {px[k * 4], px[k * 4 + 1], px[k * 4 + 2], 255};
                r->palette[k] = c;
            }
            SDL_UnlockSurface(rgba);
        }
        SDL_FreeSurface(rgba);
        SDL_FreeSurface(pal);
        return;
    }
}

demo_renderer *demo_render_create(const demo_render_config *config)
{
    demo_render_config defaults;
    if (!config) {
        demo_render_config_default(&defaults);
        config = &defaults;
    }
    demo_renderer *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "demo-game: out of memory\n");
        return NULL;
    }
    memcpy(r->palette, default_palette, sizeof r->palette);
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr, "demo-game: SDL video: %s\n", SDL_GetError());
        free(r);
        return NULL;
    }
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "1");
    r->window = SDL_CreateWindow(config->title ? config->title : "netcore demo",
                                 SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                                 config->window_w > 0 ? config->window_w : DEMO_LOGICAL_W,
                                 config->window_h > 0 ? config->window_h : DEMO_LOGICAL_H,
                                 SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!r->window) {
        fprintf(stderr, "demo-game: window: %s\n", SDL_GetError());
        demo_render_destroy(r);
        return NULL;
    }
    Uint32 flags = config->software ? SDL_RENDERER_SOFTWARE : SDL_RENDERER_ACCELERATED;
    if (config->vsync) {
        flags |= SDL_RENDERER_PRESENTVSYNC;
    }
    r->sdl = SDL_CreateRenderer(r->window, -1, flags);
    if (!r->sdl) {
        /* No GPU (or no vsync): SDL's software renderer always works. */
        r->sdl = SDL_CreateRenderer(r->window, -1, SDL_RENDERER_SOFTWARE);
    }
    if (!r->sdl) {
        fprintf(stderr, "demo-game: renderer: %s\n", SDL_GetError());
        demo_render_destroy(r);
        return NULL;
    }
    SDL_RenderSetLogicalSize(r->sdl, DEMO_LOGICAL_W, DEMO_LOGICAL_H);
    SDL_SetRenderDrawBlendMode(r->sdl, SDL_BLENDMODE_BLEND);
    r->text = demo_text_create(r->sdl, config->font_path);
    if (!r->text) {
        fprintf(stderr, "demo-game: out of memory\n");
        demo_render_destroy(r);
        return NULL;
    }
    load_assets(r, config->assets_dir);
    return r;
}

void demo_render_destroy(demo_renderer *r)
{
    if (!r) {
        return;
    }
    demo_text_destroy(r->text);
    if (r->ship_sprite) {
        SDL_DestroyTexture(r->ship_sprite);
    }
    if (r->sdl) {
        SDL_DestroyRenderer(r->sdl);
    }
    if (r->window) {
        SDL_DestroyWindow(r->window);
    }
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(r);
}

bool demo_render_has_vsync(const demo_renderer *r)
{
    SDL_RendererInfo info;
    return SDL_GetRendererInfo(r->sdl, &info) == 0 && (info.flags & SDL_RENDERER_PRESENTVSYNC) != 0;
}

const char *demo_render_font_path(const demo_renderer *r)
{
    return demo_text_font_path(r->text);
}

/* ---- effects and net graph input ---- */

void demo_render_note_events(demo_renderer *r, const demo_world *world)
{
    for (uint32_t i = 0; i < world->event_count; i++) {
        const demo_event *e = &world->events[i];
        if (e->kind == DEMO_EVENT_HIT && e->b < DEMO_MAX_PLAYERS) {
            r->hit_tick[e->b] = world->tick + 1;
        }
        if (e->kind == DEMO_EVENT_WALL || e->kind == DEMO_EVENT_KILL) {
            spark *s = &r->sparks[r->spark_next];
            r->spark_next = (r->spark_next + 1) % SPARK_SLOTS;
            s->tick = world->tick;
            s->x = (float)e->x / DEMO_FX_ONE;
            s->y = (float)e->y / DEMO_FX_ONE;
            s->owner = (uint8_t)(e->kind == DEMO_EVENT_KILL ? e->b : e->a) % DEMO_MAX_PLAYERS;
            s->death = e->kind == DEMO_EVENT_KILL;
        }
        if (e->kind == DEMO_EVENT_KILL) {
            kill_line *k = &r->kills[r->kill_next];
            r->kill_next = (r->kill_next + 1) % KILL_FEED_LINES;
            k->tick = world->tick + 1;
            k->killer = (uint8_t)(e->a % DEMO_MAX_PLAYERS);
            k->victim = (uint8_t)(e->b % DEMO_MAX_PLAYERS);
        }
    }
}

void demo_render_netgraph_push(demo_renderer *r, const demo_netgraph_figures *f)
{
    r->graph_last = *f;
    SDL_strlcpy(r->graph_preset, f->link_preset ? f->link_preset : "none", sizeof r->graph_preset);
    r->graph_last.link_preset = NULL; /* the copy above is what is shown */
    r->graph_rtt[r->graph_next] = f->rtt_ms;
    r->graph_in[r->graph_next] = f->in_kbps;
    r->graph_out[r->graph_next] = f->out_kbps;
    r->graph_next = (r->graph_next + 1) % DEMO_NETGRAPH_HISTORY;
    if (r->graph_count < DEMO_NETGRAPH_HISTORY) {
        r->graph_count++;
    }
}

/* ---- world ---- */

static void draw_arena(demo_renderer *r)
{
    set_color(r, col_floor);
    SDL_RenderClear(r->sdl);
    for (int u = 50; u < DEMO_ARENA_W; u += 50) {
        set_color(r, u % 200 == 0 ? col_grid_major : col_grid);
        SDL_RenderDrawLineF(r->sdl, (float)u * ARENA_SCALE, 0, (float)u * ARENA_SCALE,
                            (float)DEMO_LOGICAL_H);
    }
    for (int u = 50; u < DEMO_ARENA_H; u += 50) {
        set_color(r, u % 200 == 0 ? col_grid_major : col_grid);
        SDL_RenderDrawLineF(r->sdl, 0, (float)u * ARENA_SCALE, (float)DEMO_LOGICAL_W,
                            (float)u * ARENA_SCALE);
    }
    int count = 0;
    const demo_wall *walls = demo_arena_walls(&count);
    for (int i = 0; i < count; i++) {
        SDL_FRect rect = {(float)walls[i].x * ARENA_SCALE, (float)walls[i].y * ARENA_SCALE,
                          (float)walls[i].w * ARENA_SCALE, (float)walls[i].h * ARENA_SCALE};
        set_color(r, col_wall);
        SDL_RenderFillRectF(r->sdl, &rect);
        set_color(r, col_wall_edge);
        SDL_RenderDrawRectF(r->sdl, &rect);
    }
}

/* Position of player i at alpha between two worlds, in logical pixels. No
 * blending across a respawn (a jump), which would draw a streak. */
static void player_pos(const demo_world *prev, const demo_world *cur, int i, float alpha, float *x,
                       float *y)
{
    const demo_player *c = &cur->players[i];
    *x = to_px(c->x);
    *y = to_px(c->y);
    if (!prev || prev == cur || !prev->players[i].active || !prev->players[i].alive) {
        return;
    }
    float px = to_px(prev->players[i].x);
    float py = to_px(prev->players[i].y);
    if (SDL_fabsf(px - *x) > 50 || SDL_fabsf(py - *y) > 50) {
        return;
    }
    *x = px + (*x - px) * alpha;
    *y = py + (*y - py) * alpha;
}

static void draw_ship_shape(demo_renderer *r, float x, float y, uint16_t angle, SDL_Color c)
{
    float rad = (float)angle * 6.2831853f / 65536.0f;
    if (r->ship_sprite) {
        SDL_FRect dst = {x - SHIP_SPRITE_PX / 2.0f, y - SHIP_SPRITE_PX / 2.0f, SHIP_SPRITE_PX,
                         SHIP_SPRITE_PX};
        SDL_SetTextureColorMod(r->ship_sprite, c.r, c.g, c.b);
        SDL_RenderCopyExF(r->sdl, r->ship_sprite, NULL, &dst, (double)rad * 57.29578, NULL,
                          SDL_FLIP_NONE);
        return;
    }
    SDL_Vertex v[4];
    float k = (float)SHIP_SPRITE_PX / 64.0f;
    for (int i = 0; i < 4; i++) {
        float lx = (hull_px[i][0] - 32) * k;
        float ly = (hull_px[i][1] - 32) * k;
        v[i].position.x = x + lx * SDL_cosf(rad) - ly * SDL_sinf(rad);
        v[i].position.y = y + lx * SDL_sinf(rad) + ly * SDL_cosf(rad);
        v[i].color = i == 2 ? lighten(c, 120) : c;
        v[i].tex_coord.x = 0;
        v[i].tex_coord.y = 0;
    }
    const int idx[6] = {0, 1, 2, 0, 2, 3};
    SDL_RenderGeometry(r->sdl, NULL, v, 4, idx, 6);
}

static void draw_players(demo_renderer *r, const demo_world *prev, const demo_world *cur,
                         const demo_render_view *view)
{
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *p = &cur->players[i];
        if (!p->active || !p->alive) {
            continue;
        }
        float x, y;
        player_pos(prev, cur, i, view->alpha, &x, &y);
        SDL_Color c = r->palette[i % PALETTE_COLORS];
        if (r->hit_tick[i] && cur->tick + 1 - r->hit_tick[i] < HIT_FLASH_TICKS) {
            c = lighten(c, 200);
        }
        if (i == view->local_player) {
            draw_ring(r, x, y, DEMO_SHIP_RADIUS * ARENA_SCALE + 6,
                      with_alpha(r->palette[i % PALETTE_COLORS], 110));
        }
        draw_ship_shape(r, x, y, p->angle, c);

        /* Health bar above, name below. */
        float bar_w = 34;
        float frac = (float)p->health / DEMO_SHIP_MAX_HEALTH;
        SDL_Color hp = {(Uint8)(255 * (1 - frac)), (Uint8)(90 + 150 * frac), 70, 255};
        fill_rect(r, x - bar_w / 2 - 1, y - 27, bar_w + 2, 6, with_alpha(col_floor, 220));
        fill_rect(r, x - bar_w / 2, y - 26, bar_w * frac, 4, hp);
        demo_text_draw(r->text, (int)x, (int)y + 17, DEMO_TEXT_SMALL,
                       lighten(r->palette[i % PALETTE_COLORS], 90), DEMO_ALIGN_CENTER, p->name);
    }
}

static void draw_projectiles(demo_renderer *r, const demo_world *cur, float alpha)
{
    for (int i = 0; i < DEMO_MAX_PROJECTILES; i++) {
        const demo_projectile *pr = &cur->projectiles[i];
        if (!pr->active) {
            continue;
        }
        /* Extrapolate back from the current state: projectiles fly straight,
         * so prev + alpha * v is where it was between the two ticks. */
        float x = to_px(pr->x) - to_px(pr->vx) * (1 - alpha);
        float y = to_px(pr->y) - to_px(pr->vy) * (1 - alpha);
        SDL_Color c = lighten(r->palette[pr->owner % PALETTE_COLORS], 110);
        set_color(r, with_alpha(c, 110));
        SDL_RenderDrawLineF(r->sdl, x, y, x - to_px(pr->vx) * 2.5f, y - to_px(pr->vy) * 2.5f);
        fill_circle(r, x, y, DEMO_PROJECTILE_RADIUS * ARENA_SCALE + 1, c);
    }
}

static void draw_effects(demo_renderer *r, const demo_world *cur)
{
    for (int i = 0; i < SPARK_SLOTS; i++) {
        const spark *s = &r->sparks[i];
        uint32_t age = cur->tick - s->tick;
        uint32_t life = s->death ? DEATH_RING_TICKS : SPARK_TICKS;
        if (s->tick == 0 || age >= life) {
            continue;
        }
        float t = (float)age / (float)life;
        SDL_Color c =
            with_alpha(lighten(r->palette[s->owner % PALETTE_COLORS], 80), (int)(255 * (1 - t)));
        float x = s->x * ARENA_SCALE;
        float y = s->y * ARENA_SCALE;
        if (s->death) {
            draw_ring(r, x, y, 8 + 40 * t, c);
            draw_ring(r, x, y, 4 + 26 * t, c);
        } else {
            fill_circle(r, x, y, 2 + 5 * (1 - t), c);
        }
    }
}

/* ---- overlays ---- */

static void draw_hud(demo_renderer *r, const demo_world *w, const demo_render_view *view)
{
    char line[128];
    fill_rect(r, 0, 0, DEMO_LOGICAL_W, HUD_BAND_H, col_hud);
    fill_rect(r, 0, HUD_BAND_H, DEMO_LOGICAL_W, 1, col_wall_edge);
    if (view->local_player >= 0 && view->local_player < DEMO_MAX_PLAYERS &&
        w->players[view->local_player].active) {
        const demo_player *me = &w->players[view->local_player];
        fill_rect(r, 10, 7, 12, 12, r->palette[view->local_player % PALETTE_COLORS]);
        snprintf(line, sizeof line, "%s   score %d   deaths %d", me->name, me->score, me->deaths);
        demo_text_draw(r->text, 30, 4, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_LEFT, line);
    } else {
        demo_text_draw(r->text, 12, 4, DEMO_TEXT_NORMAL, col_dim, DEMO_ALIGN_LEFT, "spectating");
    }
    static const char *const state_names[] = {"WARMUP", "PLAYING", "ROUND OVER"};
    uint32_t secs = demo_world_seconds_left(w);
    snprintf(line, sizeof line, "ROUND %u   %s   %u:%02u", (unsigned)w->round_number,
             state_names[w->round_state % 3], (unsigned)(secs / 60), (unsigned)(secs % 60));
    demo_text_draw(r->text, DEMO_LOGICAL_W / 2, 4, DEMO_TEXT_NORMAL,
                   w->round_state == DEMO_ROUND_PLAYING ? col_accent : col_text, DEMO_ALIGN_CENTER,
                   line);
    snprintf(line, sizeof line, "%s%s%d players", view->status_text ? view->status_text : "",
             view->status_text ? "   " : "", demo_world_player_count(w));
    demo_text_draw(r->text, DEMO_LOGICAL_W - 12, 4, DEMO_TEXT_NORMAL, col_dim, DEMO_ALIGN_RIGHT,
                   line);

    /* Kill feed, newest first, under the band on the right. */
    int y = HUD_BAND_H + 8;
    for (int k = 0; k < KILL_FEED_LINES; k++) {
        const kill_line *kl =
            &r->kills[(r->kill_next - 1 - k + 2 * KILL_FEED_LINES) % KILL_FEED_LINES];
        if (kl->tick == 0 || w->tick + 1 - kl->tick > KILL_FEED_TICKS) {
            continue;
        }
        snprintf(line, sizeof line, "%s  >  %s", w->players[kl->killer].name,
                 w->players[kl->victim].name);
        int tw = 0;
        int th = 0;
        demo_text_measure(r->text, DEMO_TEXT_SMALL, line, &tw, &th);
        fill_rect(r, (float)(DEMO_LOGICAL_W - 40 - tw - 8), (float)y - 2, (float)tw + 16,
                  (float)th + 4, col_panel);
        demo_text_draw(r->text, DEMO_LOGICAL_W - 40, y, DEMO_TEXT_SMALL,
                       lighten(r->palette[kl->killer % PALETTE_COLORS], 60), DEMO_ALIGN_RIGHT,
                       line);
        y += th + 6;
    }

    /* Banners. */
    if (w->round_state == DEMO_ROUND_WARMUP) {
        snprintf(line, sizeof line, "WARMUP  -  weapons hot in %u", (unsigned)secs);
        demo_text_draw(r->text, DEMO_LOGICAL_W / 2, 80, DEMO_TEXT_LARGE, col_accent,
                       DEMO_ALIGN_CENTER, line);
    }
    if (view->local_player >= 0 && view->local_player < DEMO_MAX_PLAYERS) {
        const demo_player *me = &w->players[view->local_player];
        if (me->active && !me->alive && w->round_state != DEMO_ROUND_OVER) {
            snprintf(line, sizeof line, "destroyed by %s  -  respawn in %.1f s",
                     w->players[me->last_attacker].name,
                     (double)me->respawn_ticks / DEMO_TICK_RATE_HZ);
            demo_text_draw(r->text, DEMO_LOGICAL_W / 2, DEMO_LOGICAL_H / 2 + 70, DEMO_TEXT_LARGE,
                           col_text, DEMO_ALIGN_CENTER, line);
        }
    }
    demo_text_draw(
        r->text, DEMO_LOGICAL_W - 12, DEMO_LOGICAL_H - 18, DEMO_TEXT_SMALL,
        with_alpha(col_dim, 170), DEMO_ALIGN_RIGHT,
        "WASD move   mouse aim   click/space fire   Tab scores   F1 net graph   Esc quit");
}

static void draw_scoreboard(demo_renderer *r, const demo_world *w, int local_player)
{
    int order[DEMO_MAX_PLAYERS];
    int n = demo_world_scoreboard(w, order);
    const int row_h = 26;
    const int pw = 520;
    const int ph = 96 + n * row_h;
    const int px = (DEMO_LOGICAL_W - pw) / 2;
    const int py = (DEMO_LOGICAL_H - ph) / 2;
    fill_rect(r, (float)px, (float)py, (float)pw, (float)ph, col_panel);
    set_color(r, col_wall_edge);
    SDL_Rect border = {px, py, pw, ph};
    SDL_RenderDrawRect(r->sdl, &border);
    char line[96];
    if (w->round_state == DEMO_ROUND_OVER) {
        /* A winner needs a score and no one level with it. */
        bool winner = n > 0 && w->players[order[0]].score > 0 &&
                      (n == 1 || w->players[order[1]].score < w->players[order[0]].score);
        snprintf(line, sizeof line, "ROUND %u OVER  -  %s%s", (unsigned)w->round_number,
                 winner ? "winner: " : "no winner", winner ? w->players[order[0]].name : "");
    } else {
        snprintf(line, sizeof line, "ROUND %u", (unsigned)w->round_number);
    }
    demo_text_draw(r->text, DEMO_LOGICAL_W / 2, py + 12, DEMO_TEXT_LARGE, col_accent,
                   DEMO_ALIGN_CENTER, line);
    int y = py + 60;
    demo_text_draw(r->text, px + 60, y, DEMO_TEXT_SMALL, col_dim, DEMO_ALIGN_LEFT, "PLAYER");
    demo_text_draw(r->text, px + 380, y, DEMO_TEXT_SMALL, col_dim, DEMO_ALIGN_RIGHT, "SCORE");
    demo_text_draw(r->text, px + 470, y, DEMO_TEXT_SMALL, col_dim, DEMO_ALIGN_RIGHT, "DEATHS");
    y += 22;
    for (int k = 0; k < n; k++, y += row_h) {
        int id = order[k];
        const demo_player *p = &w->players[id];
        if (id == local_player) {
            fill_rect(r, (float)px + 8, (float)y - 3, (float)pw - 16, (float)row_h - 2,
                      with_alpha(r->palette[id % PALETTE_COLORS], 50));
        }
        fill_rect(r, (float)px + 30, (float)y + 4, 12, 12, r->palette[id % PALETTE_COLORS]);
        snprintf(line, sizeof line, "%d.  %s", k + 1, p->name);
        demo_text_draw(r->text, px + 60, y, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_LEFT, line);
        snprintf(line, sizeof line, "%d", p->score);
        demo_text_draw(r->text, px + 380, y, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_RIGHT, line);
        snprintf(line, sizeof line, "%d", p->deaths);
        demo_text_draw(r->text, px + 470, y, DEMO_TEXT_NORMAL, col_dim, DEMO_ALIGN_RIGHT, line);
    }
}

/* A line chart of up to two series from the net graph history, scaled to
 * their maximum (at least min_top). */
static void draw_graph(demo_renderer *r, int gx, int gy, int gw, int gh, const float *a,
                       const float *b, float min_top, const char *label)
{
    fill_rect(r, (float)gx, (float)gy, (float)gw, (float)gh, with_alpha(col_floor, 230));
    float top = min_top;
    for (int i = 0; i < r->graph_count; i++) {
        top = SDL_max(top, a[i]);
        top = b ? SDL_max(top, b[i]) : top;
    }
    const float *series[2] = {a, b};
    const SDL_Color colors[2] = {{120, 230, 140, 255}, {255, 170, 90, 255}};
    for (int s = 0; s < 2 && series[s]; s++) {
        SDL_FPoint pts[DEMO_NETGRAPH_HISTORY];
        for (int i = 0; i < r->graph_count; i++) {
            int slot = (r->graph_next - r->graph_count + i + DEMO_NETGRAPH_HISTORY) %
                       DEMO_NETGRAPH_HISTORY;
            pts[i].x = (float)gx + (float)gw * (float)(i + DEMO_NETGRAPH_HISTORY - r->graph_count) /
                                       (float)(DEMO_NETGRAPH_HISTORY - 1);
            pts[i].y = (float)(gy + gh - 1) - (float)(gh - 2) * series[s][slot] / top;
        }
        set_color(r, colors[s]);
        if (r->graph_count > 1) {
            SDL_RenderDrawLinesF(r->sdl, pts, r->graph_count);
        }
    }
    char line[48];
    snprintf(line, sizeof line, "%s  (max %.0f)", label, (double)top);
    demo_text_draw(r->text, gx + 4, gy + 2, DEMO_TEXT_SMALL, col_dim, DEMO_ALIGN_LEFT, line);
}

static void draw_netgraph(demo_renderer *r)
{
    const demo_netgraph_figures *f = &r->graph_last;
    const int pw = 400;
    const int ph = 196;
    const int px = 12;
    const int py = DEMO_LOGICAL_H - ph - 28;
    fill_rect(r, (float)px, (float)py, (float)pw, (float)ph, col_panel);
    char line[128];
    int y = py + 8;
    snprintf(line, sizeof line, "NET   link %s", r->graph_preset[0] ? r->graph_preset : "none");
    demo_text_draw(r->text, px + 10, y, DEMO_TEXT_NORMAL, col_accent, DEMO_ALIGN_LEFT, line);
    /* Whether the game traffic is sealed, and what sealing refused. */
    if (f->networked) {
        char seal[64];
        if (f->sealed)
            snprintf(seal, sizeof seal, "SEALED  %llu refused",
                     (unsigned long long)f->crypto_auth_rejected);
        else
            snprintf(seal, sizeof seal, "NOT SEALED");
        demo_text_draw(r->text, px + pw - 10, y, DEMO_TEXT_SMALL, f->sealed ? col_sealed : col_warn,
                       DEMO_ALIGN_RIGHT, seal);
    }
    y += 22;
    char buf[4][96];
    snprintf(buf[0], sizeof buf[0], "rtt %.0f ms    loss %.1f %%    in %.1f kbps    out %.1f kbps",
             (double)f->rtt_ms, (double)f->loss_pct, (double)f->in_kbps, (double)f->out_kbps);
    snprintf(buf[1], sizeof buf[1],
             "snapshots %.1f Hz    interp delay %.0f ms    extrapolated %.1f %%",
             (double)f->snapshot_rate_hz, (double)f->interp_delay_ms, (double)f->extrapolation_pct);
    snprintf(buf[2], sizeof buf[2], "prediction corrections %u    snapshot format %s",
             (unsigned)f->prediction_corrections, f->snapshot_format ? f->snapshot_format : "none");
    snprintf(buf[3], sizeof buf[3], "prediction %s    interpolation %s    lag comp %s",
             f->prediction_on ? "ON" : "off", f->interpolation_on ? "ON" : "off",
             f->lag_compensation_on ? "ON" : "off");
    for (int i = 0; i < 4; i++) {
        demo_text_draw(r->text, px + 10, y, DEMO_TEXT_SMALL, col_text, DEMO_ALIGN_LEFT, buf[i]);
        y += 17;
    }
    y += 6;
    draw_graph(r, px + 10, y, 185, 74, r->graph_rtt, NULL, 10.0f, "rtt ms");
    draw_graph(r, px + 205, y, 185, 74, r->graph_in, r->graph_out, 1.0f, "kbps in/out");
}

void demo_render_frame(demo_renderer *r, const demo_world *prev, const demo_world *cur,
                       const demo_render_view *view)
{
    float alpha = view->alpha < 0 ? 0 : (view->alpha > 1 ? 1 : view->alpha);
    demo_render_view v = *view;
    v.alpha = alpha;
    draw_arena(r);
    draw_projectiles(r, cur, prev ? alpha : 1);
    draw_players(r, prev, cur, &v);
    draw_effects(r, cur);
    draw_hud(r, cur, &v);
    if (v.show_scoreboard || cur->round_state == DEMO_ROUND_OVER) {
        draw_scoreboard(r, cur, v.local_player);
    }
    if (v.show_netgraph) {
        draw_netgraph(r);
    }
}

void demo_render_present(demo_renderer *r)
{
    SDL_RenderPresent(r->sdl);
    demo_text_end_frame(r->text);
}

bool demo_render_screenshot(demo_renderer *r, const char *path)
{
    int w = 0;
    int h = 0;
    if (SDL_GetRendererOutputSize(r->sdl, &w, &h) != 0 || w <= 0 || h <= 0) {
        fprintf(stderr, "demo-game: screenshot: %s\n", SDL_GetError());
        return false;
    }
    int pitch = w * 3;
    uint8_t *pixels = malloc((size_t)pitch * (size_t)h);
    if (!pixels) {
        fprintf(stderr, "demo-game: screenshot: out of memory\n");
        return false;
    }
    bool ok = SDL_RenderReadPixels(r->sdl, NULL, SDL_PIXELFORMAT_RGB24, pixels, pitch) == 0;
    if (!ok) {
        fprintf(stderr, "demo-game: screenshot: %s\n", SDL_GetError());
    }
    size_t len = strlen(path);
    if (ok && len > 4 && SDL_strcasecmp(path + len - 4, ".png") == 0) {
        ok = demo_png_write(path, pixels, w, h, pitch);
        if (!ok) {
            fprintf(stderr, "demo-game: cannot write %s\n", path);
        }
    } else if (ok) {
        SDL_Surface *s =
            SDL_CreateRGBSurfaceWithFormatFrom(pixels, w, h, 24, pitch, SDL_PIXELFORMAT_RGB24);
        ok = s && SDL_SaveBMP(s, path) == 0;
        if (!ok) {
            fprintf(stderr, "demo-game: cannot write %s: %s\n", path, SDL_GetError());
        }
        SDL_FreeSurface(s);
    }
    free(pixels);
    return ok;
}

void demo_render_window_to_arena(const demo_renderer *r, int wx, int wy, float *ax, float *ay)
{
    float lx = 0;
    float ly = 0;
    SDL_RenderWindowToLogical(r->sdl, wx, wy, &lx, &ly);
    *ax = lx / ARENA_SCALE;
    *ay = ly / ARENA_SCALE;
}

SDL_Renderer *demo_render_sdl(demo_renderer *renderer)
{
    return renderer->sdl;
}

demo_text *demo_render_text(demo_renderer *renderer)
{
    return renderer->text;
}
