/*
 * Text for the demo's renderer: SDL2_ttf with DejaVu Sans when it can be
 * found, otherwise a built-in 3x5 bitmap font drawn with rectangles (upper
 * case only), so the game always shows its HUD. Rendered strings are cached
 * as textures; nothing is allocated for a string drawn again next frame.
 */
#ifndef DEMO_RENDER_TEXT_H
#define DEMO_RENDER_TEXT_H

#include <stdbool.h>

#include <SDL.h>

typedef enum demo_text_size {
    DEMO_TEXT_SMALL = 0,  /* 12 px: names, net graph */
    DEMO_TEXT_NORMAL = 1, /* 16 px: HUD */
    DEMO_TEXT_LARGE = 2,  /* 30 px: banners */
    DEMO_TEXT_SIZE_COUNT = 3
} demo_text_size;

typedef enum demo_text_align {
    DEMO_ALIGN_LEFT = 0,
    DEMO_ALIGN_CENTER = 1,
    DEMO_ALIGN_RIGHT = 2
} demo_text_align;

typedef struct demo_text demo_text;

/* Opens the font for renderer (borrowed; must outlive the result). The font
 * file is, in order: font_path if not NULL, the DEMO_FONT environment
 * variable, then DejaVuSans.ttf in the usual system directories. When none
 * opens, or DEMO_FONT is "none", the bitmap font is used. Calls TTF_Init (TTF_Quit in destroy).
 * Returns NULL only when out of memory. */
demo_text *demo_text_create(SDL_Renderer *renderer, const char *font_path);

/* Frees the cache and fonts; NULL is ignored. */
void demo_text_destroy(demo_text *text);

/* The TrueType file in use, or NULL for the bitmap fallback. */
const char *demo_text_font_path(const demo_text *text);

/* Draws UTF-8 text with its top at y, aligned on x; returns the width in
 * logical pixels (0 for NULL or empty text). */
int demo_text_draw(demo_text *text, int x, int y, demo_text_size size, SDL_Color color,
                   demo_text_align align, const char *utf8);

/* Width and height the text would take, in logical pixels. */
void demo_text_measure(demo_text *text, demo_text_size size, const char *utf8, int *w, int *h);

/* Marks the end of a frame: cache entries unused for a few seconds are freed. */
void demo_text_end_frame(demo_text *text);

#endif
