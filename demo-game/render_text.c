/* TrueType text with a texture cache, and the bitmap fallback; see render_text.h. */
#include "render_text.h"

#include <SDL_ttf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 256
#define CACHE_KEY_MAX 96      /* longer strings are drawn without caching */
#define CACHE_IDLE_FRAMES 240 /* about four seconds at 60 frames per second */

static const int size_px[DEMO_TEXT_SIZE_COUNT] = {12, 16, 30};

static const char *const font_candidates[] = {
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", /* Debian, Ubuntu: fonts-dejavu-core */
    "/usr/share/fonts/TTF/DejaVuSans.ttf",             /* Arch */
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",          /* Fedora, Alpine */
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/local/share/fonts/dejavu/DejaVuSans.ttf", /* FreeBSD */
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf", /* macOS with a manual install */
};

/* 3x5 glyphs for ASCII 32..95, bit (row * 3 + column) set for a lit cell;
 * lower case is drawn as upper case, anything else as '?'. */
static const uint16_t bitmap_glyphs[64] = {
    0x0000, 0x2092, 0x002d, 0x5f7d, 0x3c9e, 0x52a5, 0x6aaa, 0x0012, 0x4494, 0x1491, 0x0aa8,
    0x05d0, 0x1400, 0x01c0, 0x2000, 0x12a4, 0x7b6f, 0x749a, 0x73e7, 0x79a7, 0x49ed, 0x79cf,
    0x7bcf, 0x24a7, 0x7bef, 0x79ef, 0x0410, 0x1410, 0x4454, 0x0e38, 0x1511, 0x20a7, 0x73ef,
    0x5bea, 0x3aeb, 0x624e, 0x3b6b, 0x72cf, 0x12cf, 0x6b4e, 0x5bed, 0x7497, 0x2b24, 0x5aed,
    0x7249, 0x5bfd, 0x5b6b, 0x2b6a, 0x12eb, 0x676a, 0x5aeb, 0x388e, 0x2497, 0x7b6d, 0x2b6d,
    0x5fed, 0x5aad, 0x24ad, 0x72a7, 0x6496, 0x4889, 0x3493, 0x002a, 0x7000,
};

typedef struct cache_entry {
    bool used;
    uint8_t size;
    uint32_t rgba;
    uint32_t last_frame;
    int w, h;
    SDL_Texture *texture;
    char key[CACHE_KEY_MAX];
} cache_entry;

struct demo_text {
    SDL_Renderer *renderer;
    TTF_Font *fonts[DEMO_TEXT_SIZE_COUNT];
    bool ttf_ready;
    char font_path[512];
    uint32_t frame;
    cache_entry cache[CACHE_SLOTS];
};

static TTF_Font *open_sizes(demo_text *text, const char *path)
{
    for (int s = 0; s < DEMO_TEXT_SIZE_COUNT; s++) {
        text->fonts[s] = TTF_OpenFont(path, size_px[s]);
        if (!text->fonts[s]) {
            for (int k = 0; k < s; k++) {
                TTF_CloseFont(text->fonts[k]);
                text->fonts[k] = NULL;
            }
            return NULL;
        }
    }
    return text->fonts[0];
}

demo_text *demo_text_create(SDL_Renderer *renderer, const char *font_path)
{
    demo_text *text = calloc(1, sizeof *text);
    if (!text) {
        return NULL;
    }
    text->renderer = renderer;
    text->ttf_ready = TTF_Init() == 0;
    if (!text->ttf_ready) {
        return text;
    }
    const char *env = SDL_getenv("DEMO_FONT");
    if (env && strcmp(env, "none") == 0) {
        return text; /* asked for the bitmap font */
    }
    const char *tried[2 + sizeof font_candidates / sizeof font_candidates[0]];
    size_t n = 0;
    if (font_path) {
        tried[n++] = font_path;
    }
    if (env && env[0]) {
        tried[n++] = env;
    }
    for (size_t i = 0; i < sizeof font_candidates / sizeof font_candidates[0]; i++) {
        tried[n++] = font_candidates[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (open_sizes(text, tried[i])) {
            SDL_strlcpy(text->font_path, tried[i], sizeof text->font_path);
            break;
        }
    }
    return text;
}

static void drop_entry(cache_entry *e)
{
    if (e->texture) {
        SDL_DestroyTexture(e->texture);
    }
    memset(e, 0, sizeof *e);
}

void demo_text_destroy(demo_text *text)
{
    if (!text) {
        return;
    }
    for (int i = 0; i < CACHE_SLOTS; i++) {
        drop_entry(&text->cache[i]);
    }
    for (int s = 0; s < DEMO_TEXT_SIZE_COUNT; s++) {
        if (text->fonts[s]) {
            TTF_CloseFont(text->fonts[s]);
        }
    }
    if (text->ttf_ready) {
        TTF_Quit();
    }
    free(text);
}

const char *demo_text_font_path(const demo_text *text)
{
    return text->font_path[0] ? text->font_path : NULL;
}

/* Bitmap font cell size in logical pixels for a text size. */
static int bitmap_scale(demo_text_size size)
{
    return size_px[size] / 6 > 1 ? size_px[size] / 6 : 1;
}

static void bitmap_measure(demo_text_size size, const char *s, int *w, int *h)
{
    int scale = bitmap_scale(size);
    size_t len = strlen(s);
    *w = len ? (int)len * 4 * scale - scale : 0;
    *h = 5 * scale;
}

static void bitmap_draw(demo_text *text, int x, int y, demo_text_size size, SDL_Color c,
                        const char *s)
{
    int scale = bitmap_scale(size);
    /* Centre the 5-row glyphs in the line height TrueType would use. */
    y += (size_px[size] - 5 * scale) / 2;
    SDL_SetRenderDrawColor(text->renderer, c.r, c.g, c.b, c.a);
    for (; *s; s++, x += 4 * scale) {
        int ch = (unsigned char)*s;
        if (ch >= 'a' && ch <= 'z') {
            ch -= 'a' - 'A';
        }
        uint16_t bits = (ch >= 32 && ch < 96) ? bitmap_glyphs[ch - 32] : bitmap_glyphs['?' - 32];
        for (int cell = 0; cell < 15; cell++) {
            if (bits & (1u << cell)) {
                SDL_Rect r = {x + (cell % 3) * scale, y + (cell / 3) * scale, scale, scale};
                SDL_RenderFillRect(text->renderer, &r);
            }
        }
    }
}

void demo_text_measure(demo_text *text, demo_text_size size, const char *utf8, int *w, int *h)
{
    *w = 0;
    *h = size_px[size];
    if (!utf8 || !utf8[0]) {
        return;
    }
    if (!text->fonts[size]) {
        bitmap_measure(size, utf8, w, h);
        return;
    }
    TTF_SizeUTF8(text->fonts[size], utf8, w, h);
}

static SDL_Texture *render_texture(demo_text *text, demo_text_size size, SDL_Color c, const char *s,
                                   int *w, int *h)
{
    SDL_Surface *surface = TTF_RenderUTF8_Blended(text->fonts[size], s, c);
    if (!surface) {
        return NULL;
    }
    SDL_Texture *tex = SDL_CreateTextureFromSurface(text->renderer, surface);
    *w = surface->w;
    *h = surface->h;
    SDL_FreeSurface(surface);
    return tex;
}

/* The cache slot holding (size, colour, string), creating it if needed;
 * NULL when the string is too long to cache or rendering failed. */
static cache_entry *cached(demo_text *text, demo_text_size size, SDL_Color c, const char *s)
{
    size_t len = strlen(s);
    if (len >= CACHE_KEY_MAX) {
        return NULL;
    }
    uint32_t rgba = (uint32_t)c.r << 24 | (uint32_t)c.g << 16 | (uint32_t)c.b << 8 | c.a;
    cache_entry *victim = &text->cache[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_entry *e = &text->cache[i];
        if (e->used && e->size == size && e->rgba == rgba && strcmp(e->key, s) == 0) {
            e->last_frame = text->frame;
            return e;
        }
        if (!e->used) {
            if (victim->used) {
                victim = e;
            }
        } else if (victim->used && e->last_frame < victim->last_frame) {
            victim = e;
        }
    }
    drop_entry(victim);
    victim->texture = render_texture(text, size, c, s, &victim->w, &victim->h);
    if (!victim->texture) {
        return NULL;
    }
    victim->used = true;
    victim->size = (uint8_t)size;
    victim->rgba = rgba;
    victim->last_frame = text->frame;
    memcpy(victim->key, s, len + 1);
    return victim;
}

int demo_text_draw(demo_text *text, int x, int y, demo_text_size size, SDL_Color color,
                   demo_text_align align, const char *utf8)
{
    if (!utf8 || !utf8[0]) {
        return 0;
    }
    int w = 0;
    int h = 0;
    demo_text_measure(text, size, utf8, &w, &h);
    if (align == DEMO_ALIGN_CENTER) {
        x -= w / 2;
    } else if (align == DEMO_ALIGN_RIGHT) {
        x -= w;
    }
    if (!text->fonts[size]) {
        bitmap_draw(text, x, y, size, color, utf8);
        return w;
    }
    cache_entry *e = cached(text, size, color, utf8);
    if (e) {
        SDL_Rect dst = {x, y, e->w, e->h};
        SDL_RenderCopy(text->renderer, e->texture, NULL, &dst);
        return w;
    }
    SDL_Texture *tex = render_texture(text, size, color, utf8, &w, &h);
    if (tex) {
        SDL_Rect dst = {x, y, w, h};
        SDL_RenderCopy(text->renderer, tex, NULL, &dst);
        SDL_DestroyTexture(tex);
    }
    return w;
}

void demo_text_end_frame(demo_text *text)
{
    text->frame++;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_entry *e = &text->cache[i];
        if (e->used && text->frame - e->last_frame > CACHE_IDLE_FRAMES) {
            drop_entry(e);
        }
    }
}
