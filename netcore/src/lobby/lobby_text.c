/* Lobby text rules: what UTF-8 the lobby accepts in any string, and the
 * stricter rules for the names players see (nicknames, room names), so that
 * one player cannot pass for another on screen. docs/lobby-protocol.md
 * lists the same rules for other implementations. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "lobby/lobby_internal.h"

/* Decodes the UTF-8 sequence starting at s (at most n bytes available):
 * its length, or 0 if it is not well-formed (overlong, surrogate, above
 * U+10FFFF, truncated); *out_cp receives the code point. */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *out_cp)
{
    uint8_t c = s[0];
    if (c < 0x80) {
        *out_cp = c;
        return 1;
    }
    size_t len;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *out_cp = cp;
    return len;
}

typedef struct cp_range {
    uint32_t first;
    uint32_t last;
} cp_range;

static bool in_ranges(uint32_t cp, const cp_range *ranges, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (cp >= ranges[i].first && cp <= ranges[i].last)
            return true;
    return false;
}

/* Refused in every string: C0 controls and DEL (no NULs inside C strings,
 * no terminal escapes or line breaks), C1 controls (U+0080..U+009F, NEL
 * U+0085 among them) and the 66 noncharacters (U+FDD0..U+FDEF and the
 * last two code points of every plane, U+FFFE, U+FFFF, ...). */
static bool cp_allowed_in_text(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
        return false;
    if (cp >= 0xfdd0 && cp <= 0xfdef)
        return false;
    return (cp & 0xfffe) != 0xfffe;
}

/* Unicode general category Cf (format characters, Unicode 15): bidi
 * embeddings, overrides and isolates, zero-width spaces and joiners, the
 * byte order mark, invisible operators, tags, ... */
static const cp_range format_chars[] = {
    {0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},   {0x06dd, 0x06dd},
    {0x070f, 0x070f},   {0x0890, 0x0891},   {0x08e2, 0x08e2},   {0x180e, 0x180e},
    {0x200b, 0x200f},   {0x202a, 0x202e},   {0x2060, 0x2064},   {0x2066, 0x206f},
    {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
    {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001},
    {0xe0020, 0xe007f},
};

/* Also refused in names: the line and paragraph separators (Zl, Zp). */
static const cp_range separators[] = {{0x2028, 0x2029}};

/* Allowed in a name but invisible on their own: spaces (Zs), fillers that
 * render as nothing, variation selectors and the common combining marks. A
 * name needs at least one code point outside this list. */
static const cp_range invisible[] = {
    {0x0020, 0x0020},   {0x00a0, 0x00a0}, {0x0300, 0x036f}, {0x115f, 0x1160}, {0x1680, 0x1680},
    {0x17b4, 0x17b5},   {0x180b, 0x180d}, {0x180f, 0x180f}, {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff},
    {0x2000, 0x200a},   {0x202f, 0x202f}, {0x205f, 0x205f}, {0x20d0, 0x20ff}, {0x2800, 0x2800},
    {0x3000, 0x3000},   {0x3164, 0x3164}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xffa0, 0xffa0},
    {0xe0100, 0xe01ef},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Walks n bytes of text; false at the first refused byte or code point.
 * With names set, the name rules apply as well. */
static bool walk(const uint8_t *s, size_t n, bool names, bool *out_visible)
{
    bool visible = false;
    size_t i = 0;
    while (i < n) {
        uint32_t cp = 0;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len == 0 || !cp_allowed_in_text(cp))
            return false;
        if (names && (in_ranges(cp, format_chars, COUNT(format_chars)) ||
                      in_ranges(cp, separators, COUNT(separators))))
            return false;
        if (!in_ranges(cp, invisible, COUNT(invisible)))
            visible = true;
        i += len;
    }
    if (out_visible)
        *out_visible = visible;
    return true;
}

bool nci_lobby_text_bytes_valid(const uint8_t *bytes, size_t size)
{
    return walk(bytes, size, false, NULL);
}

bool nci_lobby_text_valid(const char *text, size_t max_bytes, bool require_nonempty)
{
    if (!text)
        return false;
    size_t n = strnlen(text, max_bytes + 1);
    if (n > max_bytes || (require_nonempty && n == 0))
        return false;
    return walk((const uint8_t *)text, n, false, NULL);
}

bool nci_lobby_name_valid(const char *name, size_t max_bytes)
{
    if (!name)
        return false;
    size_t n = strnlen(name, max_bytes + 1);
    bool visible = false;
    return n >= 1 && n <= max_bytes && walk((const uint8_t *)name, n, true, &visible) && visible;
}
