/* Message sealing (transport/seal.c): round trips on both lane kinds, every
 * altered byte refused, binding to lane, channel and mode, wrong key,
 * counter reconstruction, the replay window and the counter limit. */
#include <criterion/criterion.h>
#include <string.h>

#include "transport/seal.h"

static const uint8_t key_a[NETCORE_SESSION_KEY_BYTES] = {9,  8,  7,  6,  5,  4,  3,  2,  1,  0,  11,
                                                         12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                         23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t key_b[NETCORE_SESSION_KEY_BYTES] = {1};

static nci_seal_lane lane_of(uint8_t lane, uint8_t channel, uint8_t delivery, bool explicit_counter)
{
    nci_seal_lane l = {lane, channel, delivery, explicit_counter};
    return l;
}

#define MSG "move 12 -3 fire"

static size_t seal_msg(const nci_seal_lane *lane, uint64_t counter, uint8_t *out)
{
    return nci_seal(key_a, lane, counter, (const uint8_t *)MSG, sizeof MSG, out);
}

static nci_seal_verdict open_msg(const nci_seal_lane *lane, nci_seal_rx *rx, const uint8_t *sealed,
                                 size_t size, uint8_t *plain, size_t *plain_size)
{
    return nci_seal_open(key_a, lane, rx, sealed, size, plain, plain_size);
}

Test(seal, round_trip_with_implicit_and_explicit_counters)
{
    uint8_t sealed[64], plain[64];
    size_t n = 0;
    nci_seal_lane ordered = lane_of(1, 0, 0, false);
    nci_seal_rx rx;
    memset(&rx, 0, sizeof rx);
    for (uint64_t c = 0; c < 3; c++) {
        size_t size = seal_msg(&ordered, c, sealed);
        cr_assert_eq(size, sizeof MSG + 16, "16 bytes of tag, no counter on the wire");
        cr_assert_eq(open_msg(&ordered, &rx, sealed, size, plain, &n), NCI_SEAL_OPENED);
        cr_assert_eq(n, sizeof MSG);
        cr_assert_str_eq((const char *)plain, MSG);
    }
    nci_seal_lane unordered = lane_of(7, 3, 3, true);
    memset(&rx, 0, sizeof rx);
    size_t size = seal_msg(&unordered, 5, sealed);
    cr_assert_eq(size, sizeof MSG + 19, "tag and 3 counter bytes");
    cr_assert_eq(sealed[0], 5);
    cr_assert_eq(open_msg(&unordered, &rx, sealed, size, plain, &n), NCI_SEAL_OPENED);
    cr_assert_str_eq((const char *)plain, MSG);
    /* The payload never appears in clear. */
    for (size_t at = 0; at + 4 <= size; at++)
        cr_assert_neq(memcmp(sealed + at, "move", 4), 0);
}

Test(seal, every_altered_byte_is_refused_on_both_lane_kinds)
{
    const nci_seal_lane lanes[] = {lane_of(0, NCI_SEAL_CONTROL_CHANNEL, 0, false),
                                   lane_of(2, 1, 1, false), lane_of(6, 2, 2, true),
                                   lane_of(7, 3, 3, true)};
    uint8_t sealed[64], bad[64], plain[64];
    for (size_t l = 0; l < sizeof lanes / sizeof lanes[0]; l++) {
        size_t size = seal_msg(&lanes[l], 0, sealed);
        for (size_t at = 0; at < size; at++) {
            for (unsigned bit = 0; bit < 8; bit++) {
                memcpy(bad, sealed, size);
                bad[at] ^= (uint8_t)(1u << bit);
                nci_seal_rx rx;
                memset(&rx, 0, sizeof rx);
                size_t n = 0;
                nci_seal_verdict v = open_msg(&lanes[l], &rx, bad, size, plain, &n);
                /* A changed counter byte may name a counter outside the
                 * window: stale, also never opened. */
                cr_assert(v == NCI_SEAL_AUTH_FAILED || v == NCI_SEAL_STALE,
                          "lane %zu byte %zu bit %u: %d", l, at, bit, (int)v);
                cr_assert_eq(rx.next, 0, "a refused message leaves no trace");
            }
        }
        /* Truncated: every shorter prefix is refused. */
        for (size_t cut = 0; cut < size; cut++) {
            nci_seal_rx rx;
            memset(&rx, 0, sizeof rx);
            size_t n = 0;
            cr_assert_neq(open_msg(&lanes[l], &rx, sealed, cut, plain, &n), NCI_SEAL_OPENED);
        }
    }
}

Test(seal, a_message_cannot_move_to_another_lane_channel_or_mode)
{
    uint8_t sealed[64], plain[64];
    size_t n = 0;
    nci_seal_lane from = lane_of(6, 2, 2, true);
    size_t size = seal_msg(&from, 0, sealed);
    const nci_seal_lane others[] = {lane_of(7, 2, 2, true), lane_of(6, 3, 2, true),
                                    lane_of(6, 2, 3, true)};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        nci_seal_rx rx;
        memset(&rx, 0, sizeof rx);
        cr_assert_eq(open_msg(&others[i], &rx, sealed, size, plain, &n), NCI_SEAL_AUTH_FAILED,
                     "binding %zu", i);
    }
}

Test(seal, wrong_key_opens_nothing)
{
    uint8_t sealed[64], plain[64];
    size_t n = 0;
    nci_seal_lane lane = lane_of(7, 3, 3, true);
    size_t size = seal_msg(&lane, 0, sealed);
    nci_seal_rx rx;
    memset(&rx, 0, sizeof rx);
    cr_assert_eq(nci_seal_open(key_b, &lane, &rx, sealed, size, plain, &n), NCI_SEAL_AUTH_FAILED);
    /* Nor does the other direction's key: the same bytes sealed with key_b differ. */
    uint8_t other[64];
    nci_seal(key_b, &lane, 0, (const uint8_t *)MSG, sizeof MSG, other);
    cr_assert_neq(memcmp(sealed, other, size), 0);
}

Test(seal, duplicates_are_told_from_forgeries_reusing_a_counter)
{
    uint8_t sealed[64], plain[64], forged[64];
    size_t n = 0;
    nci_seal_lane lane = lane_of(6, 2, 2, true);
    nci_seal_rx rx;
    memset(&rx, 0, sizeof rx);
    size_t size = seal_msg(&lane, 3, sealed);
    cr_assert_eq(open_msg(&lane, &rx, sealed, size, plain, &n), NCI_SEAL_OPENED);
    cr_assert_eq(open_msg(&lane, &rx, sealed, size, plain, &n), NCI_SEAL_DUPLICATE);
    memcpy(forged, sealed, size);
    forged[5] ^= 0x40;
    cr_assert_eq(open_msg(&lane, &rx, forged, size, plain, &n), NCI_SEAL_AUTH_FAILED);
    /* Older unseen counters inside the window still open, once. */
    size = seal_msg(&lane, 1, sealed);
    cr_assert_eq(open_msg(&lane, &rx, sealed, size, plain, &n), NCI_SEAL_OPENED);
    cr_assert_eq(open_msg(&lane, &rx, sealed, size, plain, &n), NCI_SEAL_DUPLICATE);
}

Test(seal, window_keeps_256_counters_and_refuses_older_ones)
{
    uint8_t sealed[64], plain[64];
    size_t n = 0;
    nci_seal_lane lane = lane_of(7, 3, 3, true);
    nci_seal_rx rx;
    memset(&rx, 0, sizeof rx);
    /* Every other counter up to 1000, then the ones skipped. */
    for (uint64_t c = 0; c <= 1000; c += 2) {
        size_t size = seal_msg(&lane, c, sealed);
        cr_assert_eq(open_msg(&lane, &rx, sealed, size, plain, &n), NCI_SEAL_OPENED, "%llu",
                     (unsigned long long)c);
    }
    for (uint64_t c = 1; c < 1000; c += 2) {
        size_t size = seal_msg(&lane, c, sealed);
        nci_seal_verdict expect = 1000 - c < NCI_SEAL_WINDOW ? NCI_SEAL_OPENED : NCI_SEAL_STALE;
        cr_assert_eq(open_msg(&lane, &rx, sealed, size, plain, &n), expect, "%llu",
                     (unsigned long long)c);
    }
    /* Everything in the window is now marked. */
    for (uint64_t c = 1000 - NCI_SEAL_WINDOW + 1; c <= 1000; c++) {
        size_t size = seal_msg(&lane, c, sealed);
        cr_assert_eq(open_msg(&lane, &rx, sealed, size, plain, &n), NCI_SEAL_DUPLICATE);
    }
}

Test(seal, truncated_counter_is_rebuilt_across_its_wrap)
{
    uint8_t sealed[64], plain[64];
    size_t n = 0;
    nci_seal_lane lane = lane_of(7, 3, 3, true);
    nci_seal_rx rx;
    memset(&rx, 0, sizeof rx);
    /* Around 2^24 and beyond, with gaps of up to 2^23 - 2 lost messages
     * (anything under 2^23 rebuilds exactly), one of them late. */
    const uint64_t counters[] = {
        0,         1,         0x400000,  0xbfffff,  0xfffffe,
        0x1000003, 0x1000002, 0x10f0000, 0x17f0000, (UINT64_C(1) << 40) + 5};
    rx.next = 0;
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        if (i == 9)
            rx.next = UINT64_C(1) << 40; /* as after a long session */
        size_t size = seal_msg(&lane, counters[i], sealed);
        cr_assert_eq(open_msg(&lane, &rx, sealed, size, plain, &n), NCI_SEAL_OPENED, "i=%zu", i);
    }
    cr_assert_eq(rx.next, (UINT64_C(1) << 40) + 6);
    /* A counter that would rebuild below zero is stale, not opened. */
    memset(&rx, 0, sizeof rx);
    size_t size = seal_msg(&lane, 0xfffff0, sealed);
    cr_assert_eq(open_msg(&lane, &rx, sealed, size, plain, &n), NCI_SEAL_STALE);
}

Test(seal, counters_at_the_limit_are_never_used)
{
    uint8_t sealed[64], plain[64];
    size_t n = 0;
    nci_seal_lane ordered = lane_of(1, 0, 0, false);
    nci_seal_rx rx;
    memset(&rx, 0, sizeof rx);
    rx.next = NCI_SEAL_COUNTER_LIMIT;
    size_t size = seal_msg(&ordered, NCI_SEAL_COUNTER_LIMIT - 1, sealed);
    cr_assert_eq(open_msg(&ordered, &rx, sealed, size, plain, &n), NCI_SEAL_AUTH_FAILED);
    nci_seal_lane unordered = lane_of(7, 3, 3, true);
    memset(&rx, 0, sizeof rx);
    rx.next = NCI_SEAL_COUNTER_LIMIT - 1;
    size = seal_msg(&unordered, NCI_SEAL_COUNTER_LIMIT - 1, sealed);
    cr_assert_eq(open_msg(&unordered, &rx, sealed, size, plain, &n), NCI_SEAL_OPENED);
    size = seal_msg(&unordered, NCI_SEAL_COUNTER_LIMIT, sealed);
    cr_assert_eq(open_msg(&unordered, &rx, sealed, size, plain, &n), NCI_SEAL_STALE,
                 "beyond the limit: refused");
}

Test(seal, empty_message_round_trips)
{
    uint8_t sealed[32], plain[1];
    size_t n = 99;
    nci_seal_lane lane = lane_of(7, 3, 3, true);
    size_t size = nci_seal(key_a, &lane, 0, (const uint8_t *)"", 0, sealed);
    cr_assert_eq(size, 19);
    nci_seal_rx rx;
    memset(&rx, 0, sizeof rx);
    cr_assert_eq(nci_seal_open(key_a, &lane, &rx, sealed, size, plain, &n), NCI_SEAL_OPENED);
    cr_assert_eq(n, 0);
}
