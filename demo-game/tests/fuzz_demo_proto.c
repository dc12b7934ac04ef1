/* Fuzz target: the demo game's decoders of network bytes (net_proto.h):
 * NAME (server side), ROSTER and EVENTS (client side), carried on the
 * session's game channel, and the 4-byte game input that the session's
 * input buffer hands the server.
 *
 * Byte 0 chooses a case, the rest is the case's input:
 *   0-2  a message given to one reader (NAME, ROSTER, EVENTS). An accepted
 *        message must re-encode with the writer and decode again to the
 *        same values; NAME and EVENTS encode to the very same bytes (their
 *        codecs are canonical), a ROSTER to no more bytes than it came in.
 *        A refused message leaves the outputs as they were (EVENTS: at most
 *        empties the list).
 *   3    an input: the first 4 bytes decoded, encoded and decoded again.
 *   4-6  values made from the bytes, given to a writer (NAME, ROSTER,
 *        EVENTS): what a writer sends must always be read back, names with
 *        control bytes replaced and cut to DEMO_NAME_MAX-1 bytes.
 * Decoded names must be NUL-terminated text without control bytes. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
    CASE_NAME,
    CASE_ROSTER,
    CASE_EVENTS,
    CASE_INPUT,
    CASE_WRITE_NAME,
    CASE_WRITE_ROSTER,
    CASE_WRITE_EVENTS,
    CASE_COUNT
};

#define EVENT_INPUT_BYTES 11 /* an event as write_events takes it: kind, a, b, x, y */

static demo_world world_a, world_b; /* large: kept off the stack */
static uint8_t encoded[DEMO_NET_MAX_MESSAGE];

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_demo_proto: %s\n", what);
    abort();
}

/* A decoded name: terminated, no control bytes, zero after the terminator
 * (the readers clear names before copying, so names compare with memcmp). */
static void check_name(const char name[DEMO_NAME_MAX])
{
    size_t len = strnlen(name, DEMO_NAME_MAX);
    if (len >= DEMO_NAME_MAX) {
        fail("name not terminated");
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)name[i];
        if (c < 0x20 || c == 0x7f) {
            fail("control byte in a decoded name");
        }
    }
}

/* What a writer sends for name: at most DEMO_NAME_MAX-1 bytes, control
 * bytes as '?', zero padded. */
static void expected_name(const char *name, char out[DEMO_NAME_MAX])
{
    memset(out, 0, DEMO_NAME_MAX);
    size_t len = strnlen(name, DEMO_NAME_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)name[i];
        out[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
    }
}

/* A name (NUL-terminated, up to 2 * DEMO_NAME_MAX bytes: longer than the
 * limit on purpose) taken from the input; advances *d and *size. */
static void take_name(const uint8_t **d, size_t *size, char *out, size_t out_size)
{
    size_t len = 0;
    if (*size > 0) {
        len = (size_t)(**d % (2 * DEMO_NAME_MAX));
        (*d)++;
        (*size)--;
    }
    if (len > *size) {
        len = *size;
    }
    if (len >= out_size) {
        len = out_size - 1;
    }
    memcpy(out, *d, len);
    out[len] = '\0';
    *d += len;
    *size -= len;
}

static void fill_names(demo_world *w, char fill)
{
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        memset(w->players[i].name, fill, DEMO_NAME_MAX - 1);
        w->players[i].name[DEMO_NAME_MAX - 1] = '\0';
    }
}

static void name_message(const uint8_t *d, size_t size)
{
    char name[DEMO_NAME_MAX];
    memset(name, 'x', sizeof name);
    if (!demo_net_read_name(d, size, name)) {
        if (name[0] != 'x' || name[DEMO_NAME_MAX - 1] != 'x') {
            fail("a refused NAME wrote its output");
        }
        return;
    }
    check_name(name);
    size_t n = demo_net_write_name(name, encoded);
    if (n != size || memcmp(encoded, d, size) != 0) {
        fail("NAME does not re-encode to the same bytes");
    }
    char name2[DEMO_NAME_MAX];
    if (!demo_net_read_name(encoded, n, name2) || strcmp(name2, name) != 0) {
        fail("re-encoded NAME does not decode the same");
    }
}

static void roster(const uint8_t *d, size_t size)
{
    fill_names(&world_a, 'x');
    if (!demo_net_read_roster(d, size, &world_a)) {
        for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
            if (world_a.players[i].name[0] != 'x' ||
                world_a.players[i].name[DEMO_NAME_MAX - 2] != 'x') {
                fail("a refused ROSTER changed the names");
            }
        }
        return;
    }
    /* Only the names count: a slot with an empty name is as good as absent,
     * and a slot listed twice keeps its last name. */
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        check_name(world_a.players[i].name);
        world_a.players[i].active = world_a.players[i].name[0] != '\0';
    }
    size_t n = demo_net_write_roster(&world_a, encoded);
    if (n == 0 || n > size || n > DEMO_NET_MAX_MESSAGE) {
        fail("decoded ROSTER re-encodes larger");
    }
    fill_names(&world_b, 'y');
    if (!demo_net_read_roster(encoded, n, &world_b)) {
        fail("re-encoded ROSTER refused");
    }
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        if (memcmp(world_a.players[i].name, world_b.players[i].name, DEMO_NAME_MAX) != 0) {
            fail("re-encoded ROSTER decodes to other names");
        }
    }
}

static bool same_events(const demo_world *a, const demo_world *b)
{
    if (a->event_count != b->event_count) {
        return false;
    }
    for (uint32_t i = 0; i < a->event_count; i++) {
        const demo_event *x = &a->events[i];
        const demo_event *y = &b->events[i];
        if (x->kind != y->kind || x->a != y->a || x->b != y->b || x->x != y->x || x->y != y->y) {
            return false;
        }
    }
    return true;
}

static void events(const uint8_t *d, size_t size)
{
    world_a.event_count = 7;
    if (!demo_net_read_events(d, size, &world_a)) {
        if (world_a.event_count != 7 && world_a.event_count != 0) {
            fail("a refused EVENTS left events behind");
        }
        return;
    }
    if (world_a.event_count > DEMO_MAX_EVENTS || world_a.event_count != d[1]) {
        fail("EVENTS count wrong");
    }
    for (uint32_t i = 0; i < world_a.event_count; i++) {
        const demo_event *e = &world_a.events[i];
        if (e->kind < DEMO_EVENT_HIT || e->kind > DEMO_EVENT_ROUND || e->a >= DEMO_MAX_PLAYERS ||
            e->b >= DEMO_MAX_PLAYERS) {
            fail("EVENTS accepted an event out of range");
        }
    }
    size_t n = demo_net_write_events(&world_a, encoded);
    if (world_a.event_count == 0) {
        if (n != 0) {
            fail("no events written as a message");
        }
        return;
    }
    if (n != size || memcmp(encoded, d, size) != 0) {
        fail("EVENTS does not re-encode to the same bytes");
    }
    world_b.event_count = 0;
    if (!demo_net_read_events(encoded, n, &world_b) || !same_events(&world_a, &world_b)) {
        fail("re-encoded EVENTS does not decode the same");
    }
}

static void input(const uint8_t *d, size_t size)
{
    if (size < DEMO_NET_INPUT_BYTES) {
        return;
    }
    demo_net_input in, again;
    uint8_t bytes[DEMO_NET_INPUT_BYTES];
    demo_net_input_decode(d, &in);
    if (in.input.buttons & ~DEMO_BTN_ALL) {
        fail("input buttons outside DEMO_BTN_ALL");
    }
    demo_net_input_encode(&in, bytes);
    if (bytes[0] != (d[0] & DEMO_BTN_ALL) ||
        memcmp(bytes + 1, d + 1, DEMO_NET_INPUT_BYTES - 1) != 0) {
        fail("input does not re-encode to the same bytes");
    }
    demo_net_input_decode(bytes, &again);
    if (again.input.buttons != in.input.buttons || again.input.aim != in.input.aim ||
        again.flags != in.flags) {
        fail("re-encoded input does not decode the same");
    }
}

static void write_name(const uint8_t *d, size_t size)
{
    char name[2 * DEMO_NAME_MAX];
    take_name(&d, &size, name, sizeof name);
    size_t n = demo_net_write_name(name, encoded);
    char name2[DEMO_NAME_MAX], want[DEMO_NAME_MAX];
    expected_name(name, want);
    if (!demo_net_read_name(encoded, n, name2) || strcmp(name2, want) != 0) {
        fail("written NAME not read back");
    }
}

static void write_roster(const uint8_t *d, size_t size)
{
    memset(world_a.players, 0, sizeof world_a.players);
    /* One bit a player: (DEMO_MAX_PLAYERS + 7) / 8 bytes of mask. */
    enum { MASK_BYTES = (DEMO_MAX_PLAYERS + 7) / 8 };
    _Static_assert(DEMO_MAX_PLAYERS <= 64, "the roster mask is 64 bits");
    uint64_t active = 0;
    for (size_t i = 0; i < MASK_BYTES && i < size; i++) {
        active |= (uint64_t)d[i] << (8 * i);
    }
    size_t skip = size < MASK_BYTES ? size : MASK_BYTES;
    d += skip;
    size -= skip;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        char name[2 * DEMO_NAME_MAX];
        take_name(&d, &size, name, sizeof name);
        world_a.players[i].active = (active >> i) & 1u;
        /* The world's names are at most DEMO_NAME_MAX-1 bytes (sim.c). */
        memcpy(world_a.players[i].name, name, strnlen(name, DEMO_NAME_MAX - 1));
    }
    size_t n = demo_net_write_roster(&world_a, encoded);
    fill_names(&world_b, 'y');
    if (n == 0 || n > DEMO_NET_MAX_MESSAGE || !demo_net_read_roster(encoded, n, &world_b)) {
        fail("written ROSTER not read back");
    }
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        char want[DEMO_NAME_MAX];
        expected_name(world_a.players[i].active ? world_a.players[i].name : "", want);
        if (memcmp(world_b.players[i].name, want, DEMO_NAME_MAX) != 0) {
            fail("written ROSTER read back with other names");
        }
    }
}

static void write_events(const uint8_t *d, size_t size)
{
    /* Events as the simulation makes them: any kind, players in range. */
    world_a.event_count = 0;
    world_b.event_count = 0;
    demo_world *shown = &world_b; /* the ones that must arrive: not SHOT */
    while (size >= EVENT_INPUT_BYTES && world_a.event_count < DEMO_MAX_EVENTS) {
        demo_event *e = &world_a.events[world_a.event_count++];
        e->kind = (uint8_t)(d[0] % (DEMO_EVENT_ROUND + 1));
        e->a = d[1] % DEMO_MAX_PLAYERS;
        e->b = d[2] % DEMO_MAX_PLAYERS;
        e->x = (demo_fx)((uint32_t)d[3] | (uint32_t)d[4] << 8 | (uint32_t)d[5] << 16 |
                         (uint32_t)d[6] << 24);
        e->y = (demo_fx)((uint32_t)d[7] | (uint32_t)d[8] << 8 | (uint32_t)d[9] << 16 |
                         (uint32_t)d[10] << 24);
        if (e->kind != DEMO_EVENT_SHOT) {
            shown->events[shown->event_count++] = *e;
        }
        d += EVENT_INPUT_BYTES;
        size -= EVENT_INPUT_BYTES;
    }
    size_t n = demo_net_write_events(&world_a, encoded);
    if (shown->event_count == 0) {
        if (n != 0) {
            fail("EVENTS written without events to show");
        }
        return;
    }
    static demo_world back;
    back.event_count = 0;
    if (n == 0 || n > DEMO_NET_MAX_MESSAGE || !demo_net_read_events(encoded, n, &back) ||
        !same_events(&back, shown)) {
        fail("written EVENTS not read back");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % CASE_COUNT) {
    case CASE_NAME:
        name_message(d, n);
        break;
    case CASE_ROSTER:
        roster(d, n);
        break;
    case CASE_EVENTS:
        events(d, n);
        break;
    case CASE_INPUT:
        input(d, n);
        break;
    case CASE_WRITE_NAME:
        write_name(d, n);
        break;
    case CASE_WRITE_ROSTER:
        write_roster(d, n);
        break;
    default:
        write_events(d, n);
        break;
    }
    return 0;
}
