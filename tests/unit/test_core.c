/* Unit tests of the core module: result names, version, init/shutdown,
 * allocation, random numbers, logging, addresses and link presets. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counting_allocator.h"
#include "core/core_internal.h"
#include "netcore/transport.h"

/* ------------------------------------------------------------------ */
/* Result names and version                                            */
/* ------------------------------------------------------------------ */

Test(core_result, every_code_has_a_distinct_name)
{
    const char *unknown = netcore_result_str(NETCORE_RESULT_COUNT);
    cr_assert_not_null(unknown);
    for (int i = 0; i < NETCORE_RESULT_COUNT; i++) {
        const char *name = netcore_result_str((netcore_result)i);
        cr_assert_not_null(name, "code %d", i);
        cr_assert_gt(strlen(name), 0, "code %d", i);
        cr_assert_str_neq(name, unknown, "code %d has no name of its own", i);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(name, netcore_result_str((netcore_result)j), "codes %d and %d", i, j);
    }
    cr_assert_str_eq(netcore_result_str(NETCORE_OK), "ok");
}

Test(core_result, out_of_range_codes_are_named_not_null)
{
    const int codes[] = {NETCORE_RESULT_COUNT, NETCORE_RESULT_COUNT + 1, 1000, -1, INT32_MIN};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *name = netcore_result_str((netcore_result)codes[i]);
        cr_assert_not_null(name, "code %d", codes[i]);
        cr_assert_gt(strlen(name), 0);
    }
}

Test(core_version, macros_match_the_linked_library)
{
    cr_assert_eq(netcore_version(), NETCORE_VERSION);
    cr_assert_eq(NETCORE_VERSION, NETCORE_MAKE_VERSION(NETCORE_VERSION_MAJOR, NETCORE_VERSION_MINOR,
                                                       NETCORE_VERSION_PATCH));
    cr_assert_str_eq(netcore_version_string(), NETCORE_VERSION_STRING);

    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", NETCORE_VERSION_MAJOR, NETCORE_VERSION_MINOR,
             NETCORE_VERSION_PATCH);
    cr_assert_str_eq(netcore_version_string(), expected);
    cr_assert_eq(netcore_version() >> 16, (uint32_t)NETCORE_VERSION_MAJOR);
    cr_assert_eq((netcore_version() >> 8) & 0xffu, (uint32_t)NETCORE_VERSION_MINOR);
    cr_assert_eq(netcore_version() & 0xffu, (uint32_t)NETCORE_VERSION_PATCH);
    /* Packed versions order like version numbers. */
    cr_assert_lt(NETCORE_MAKE_VERSION(0, 9, 9), NETCORE_MAKE_VERSION(1, 0, 0));
    cr_assert_lt(NETCORE_MAKE_VERSION(1, 2, 255), NETCORE_MAKE_VERSION(1, 3, 0));
}

/* ------------------------------------------------------------------ */
/* init / shutdown                                                     */
/* ------------------------------------------------------------------ */

/* Criterion runs every test in a fresh process, so the count starts at zero. */
Test(core_init, is_reference_counted)
{
    cr_assert_not(nci_is_initialized());
    cr_assert_eq(netcore_init(), NETCORE_OK);
    cr_assert(nci_is_initialized());
    cr_assert_eq(netcore_init(), NETCORE_OK);
    netcore_shutdown();
    cr_assert(nci_is_initialized(), "one init is still outstanding");
    netcore_shutdown();
    cr_assert_not(nci_is_initialized());
}

Test(core_init, extra_shutdown_is_harmless_and_init_works_again)
{
    netcore_shutdown();
    cr_assert_not(nci_is_initialized());
    cr_assert_eq(netcore_init(), NETCORE_OK);
    netcore_shutdown();
    netcore_shutdown();
    cr_assert_not(nci_is_initialized());
    cr_assert_eq(netcore_init(), NETCORE_OK);
    cr_assert(nci_is_initialized());
    netcore_shutdown();
    cr_assert_not(nci_is_initialized());
}

Test(core_time, clock_is_monotonic)
{
    uint64_t previous = netcore_time_now_us();
    for (int i = 0; i < 1000; i++) {
        uint64_t now = netcore_time_now_us();
        cr_assert_geq(now, previous);
        previous = now;
    }
}

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

Test(core_alloc, goes_through_the_configured_allocator)
{
    counting_allocator counter = {0};
    netcore_allocator allocator = counting_allocator_make(&counter);

    unsigned char *a = nci_alloc(&allocator, 100);
    cr_assert_not_null(a);
    cr_assert_eq(counter.allocations, 1);
    cr_assert_eq(counter.last_size_bytes, 100);
    memset(a, 1, 100);

    unsigned char *b = nci_calloc(&allocator, 10, 24);
    cr_assert_not_null(b);
    cr_assert_eq(counter.allocations, 2);
    cr_assert_eq(counter.last_size_bytes, 240);
    for (size_t i = 0; i < 240; i++)
        cr_assert_eq(b[i], 0, "byte %zu not zeroed", i);

    nci_free(&allocator, a);
    nci_free(&allocator, b);
    cr_assert_eq(counter.frees, 2);
    nci_free(&allocator, NULL);
    cr_assert_eq(counter.frees, 2, "freeing NULL must not reach the allocator");
}

Test(core_alloc, calloc_overflow_fails_without_allocating)
{
    counting_allocator counter = {0};
    netcore_allocator allocator = counting_allocator_make(&counter);
    cr_assert_null(nci_calloc(&allocator, SIZE_MAX / 2 + 1, 2));
    cr_assert_null(nci_calloc(&allocator, 2, SIZE_MAX / 2 + 1));
    cr_assert_null(nci_calloc(&allocator, SIZE_MAX, SIZE_MAX));
    cr_assert_null(nci_calloc(NULL, SIZE_MAX / 16 + 1, 16));
    cr_assert_eq(counter.allocations, 0);
}

Test(core_alloc, failing_allocator_gives_null)
{
    counting_allocator counter = {.fail = true};
    netcore_allocator allocator = counting_allocator_make(&counter);
    cr_assert_null(nci_alloc(&allocator, 16));
    cr_assert_null(nci_calloc(&allocator, 4, 4), "no memset through a NULL pointer");
    cr_assert_eq(counter.allocations, 2);
    cr_assert_eq(counter.frees, 0);
}

Test(core_alloc, zeroed_allocator_means_malloc_and_free)
{
    netcore_allocator zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    unsigned char *a = nci_alloc(&zeroed, 64);
    unsigned char *b = nci_calloc(NULL, 8, 8);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    memset(a, 2, 64);
    for (int i = 0; i < 64; i++)
        cr_assert_eq(b[i], 0);
    /* Under AddressSanitizer a malloc/free mismatch or leak here fails the run. */
    nci_free(&zeroed, a);
    nci_free(NULL, b);
    nci_free(NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* Random numbers                                                      */
/* ------------------------------------------------------------------ */

Test(core_rng, same_seed_same_sequence)
{
    nci_rng a, b;
    nci_rng_seed(&a, 12345);
    nci_rng_seed(&b, 12345);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(nci_rng_next(&a), nci_rng_next(&b), "draw %d", i);
}

Test(core_rng, different_seeds_differ_and_zero_is_a_valid_seed)
{
    const uint64_t seeds[] = {0, 1, 2, UINT64_MAX, 0x9e3779b97f4a7c15ull};
    enum { SEEDS = sizeof seeds / sizeof seeds[0], DRAWS = 8 };
    uint64_t first[SEEDS][DRAWS];
    for (int s = 0; s < SEEDS; s++) {
        nci_rng rng;
        nci_rng_seed(&rng, seeds[s]);
        cr_assert_neq(rng.state, 0, "xorshift must never hold a zero state");
        for (int i = 0; i < DRAWS; i++)
            first[s][i] = nci_rng_next(&rng);
        /* Not stuck: the values change from draw to draw. */
        cr_assert_neq(first[s][0], first[s][1]);
    }
    for (int s = 0; s < SEEDS; s++)
        for (int t = 0; t < s; t++)
            cr_assert(memcmp(first[s], first[t], sizeof first[s]) != 0, "seeds %d and %d", s, t);
}

Test(core_rng, every_output_bit_is_balanced)
{
    enum { DRAWS = 20000 };
    int ones[64] = {0};
    nci_rng rng;
    nci_rng_seed(&rng, 7);
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = nci_rng_next(&rng);
        for (int bit = 0; bit < 64; bit++)
            ones[bit] += (int)((x >> bit) & 1u);
    }
    /* Expect 10000 +/- 71 (one sigma); 9000..11000 is a wide margin. */
    for (int bit = 0; bit < 64; bit++) {
        cr_assert_gt(ones[bit], DRAWS * 45 / 100, "bit %d", bit);
        cr_assert_lt(ones[bit], DRAWS * 55 / 100, "bit %d", bit);
    }
}

Test(core_rng, below_is_uniform_over_small_ranges)
{
    enum { BUCKETS = 10, DRAWS = 100000 };
    int counts[BUCKETS] = {0};
    nci_rng rng;
    nci_rng_seed(&rng, 99);
    for (int i = 0; i < DRAWS; i++) {
        uint32_t v = nci_rng_below(&rng, BUCKETS);
        cr_assert_lt(v, BUCKETS);
        counts[v]++;
    }
    /* Expect 10000 +/- 95 per bucket; allow +/- 10%. */
    for (int b = 0; b < BUCKETS; b++) {
        cr_assert_gt(counts[b], 9000, "bucket %d: %d", b, counts[b]);
        cr_assert_lt(counts[b], 11000, "bucket %d: %d", b, counts[b]);
    }
}

Test(core_rng, below_stays_within_bounds)
{
    nci_rng rng;
    nci_rng_seed(&rng, 3);
    cr_assert_eq(nci_rng_below(&rng, 0), 0);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(nci_rng_below(&rng, 1), 0);

    int seen[3] = {0};
    for (int i = 0; i < 1000; i++)
        seen[nci_rng_below(&rng, 3)]++;
    for (int v = 0; v < 3; v++)
        cr_assert_gt(seen[v], 0, "value %d never drawn", v);

    uint32_t largest = 0;
    for (int i = 0; i < 10000; i++) {
        uint32_t v = nci_rng_below(&rng, UINT32_MAX);
        cr_assert_lt(v, UINT32_MAX);
        if (v > largest)
            largest = v;
    }
    cr_assert_gt(largest, UINT32_MAX / 2, "the upper half of the range is reachable");

    for (int i = 0; i < 10000; i++) {
        uint32_t bound = (uint32_t)nci_rng_next(&rng) | 1u;
        cr_assert_lt(nci_rng_below(&rng, bound), bound);
    }
}

Test(core_rng, unit_and_chance)
{
    enum { DRAWS = 100000 };
    nci_rng rng;
    nci_rng_seed(&rng, 2024);
    double sum = 0.0;
    for (int i = 0; i < DRAWS; i++) {
        double u = nci_rng_unit(&rng);
        cr_assert(u >= 0.0 && u < 1.0, "unit draw %f out of [0, 1)", u);
        sum += u;
    }
    /* Mean 0.5, standard error about 0.0009. */
    cr_assert_float_eq(sum / DRAWS, 0.5, 0.01);

    int hits = 0;
    for (int i = 0; i < DRAWS; i++)
        hits += nci_rng_chance_pct(&rng, 25.0f);
    cr_assert(hits > DRAWS * 23 / 100 && hits < DRAWS * 27 / 100, "25%% chance hit %d times", hits);

    for (int i = 0; i < 1000; i++) {
        cr_assert_not(nci_rng_chance_pct(&rng, 0.0f));
        cr_assert_not(nci_rng_chance_pct(&rng, -5.0f));
        cr_assert(nci_rng_chance_pct(&rng, 100.0f));
        cr_assert(nci_rng_chance_pct(&rng, 250.0f));
    }
}

/* ------------------------------------------------------------------ */
/* Logging                                                             */
/* ------------------------------------------------------------------ */

typedef struct log_capture {
    int calls;
    int per_level[NETCORE_LOG_NONE];
    netcore_log_level last_level;
    char last[1024];
} log_capture;

static void capture_log(void *user, netcore_log_level level, const char *message)
{
    log_capture *capture = user;
    capture->calls++;
    if (level < NETCORE_LOG_NONE)
        capture->per_level[level]++;
    capture->last_level = level;
    snprintf(capture->last, sizeof capture->last, "%s", message);
}

Test(core_log, filters_by_minimum_level_and_formats)
{
    log_capture capture = {0};
    netcore_log log = {capture_log, &capture, NETCORE_LOG_WARN};

    nci_logf(&log, NETCORE_LOG_DEBUG, "debug %d", 1);
    nci_logf(&log, NETCORE_LOG_INFO, "info %d", 2);
    cr_assert_eq(capture.calls, 0);

    nci_logf(&log, NETCORE_LOG_WARN, "warn %d %s", 3, "x");
    cr_assert_eq(capture.calls, 1);
    cr_assert_eq(capture.last_level, NETCORE_LOG_WARN);
    cr_assert_str_eq(capture.last, "warn 3 x");

    nci_logf(&log, NETCORE_LOG_ERROR, "error %u", 4u);
    cr_assert_eq(capture.calls, 2);
    cr_assert_str_eq(capture.last, "error 4");

    /* NONE is a threshold, never a message level. */
    nci_logf(&log, NETCORE_LOG_NONE, "none");
    cr_assert_eq(capture.calls, 2);

    log.min_level = NETCORE_LOG_DEBUG;
    for (int level = NETCORE_LOG_DEBUG; level < NETCORE_LOG_NONE; level++)
        nci_logf(&log, (netcore_log_level)level, "level %d", level);
    for (int level = NETCORE_LOG_DEBUG; level < NETCORE_LOG_NONE; level++)
        cr_assert_eq(capture.per_level[level], level >= NETCORE_LOG_WARN ? 2 : 1, "level %d",
                     level);

    log.min_level = NETCORE_LOG_NONE;
    nci_logf(&log, NETCORE_LOG_ERROR, "silenced");
    cr_assert_eq(capture.calls, 6);
}

Test(core_log, missing_callback_logs_nothing)
{
    nci_logf(NULL, NETCORE_LOG_ERROR, "no log at all");
    netcore_log zeroed;
    memset(&zeroed, 0, sizeof zeroed);
    nci_logf(&zeroed, NETCORE_LOG_ERROR, "no callback");
    cr_assert(true, "reaching here without a crash is the test");
}

Test(core_log, long_messages_are_truncated_and_terminated)
{
    log_capture capture = {0};
    netcore_log log = {capture_log, &capture, NETCORE_LOG_DEBUG};
    char long_text[2000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    nci_logf(&log, NETCORE_LOG_INFO, "%s", long_text);
    cr_assert_eq(capture.calls, 1);
    size_t len = strlen(capture.last);
    cr_assert_gt(len, 100);
    cr_assert_lt(len, sizeof long_text - 1);
    cr_assert_eq(strspn(capture.last, "x"), len);
}

Test(core_log, limiter_allows_one_message_per_interval)
{
    nci_log_limiter limiter = {0};
    const uint64_t interval = 1000000;
    uint64_t t = 5000000;
    cr_assert(nci_log_limit_allow(&limiter, t, interval), "the first message passes");
    cr_assert_not(nci_log_limit_allow(&limiter, t, interval));
    cr_assert_not(nci_log_limit_allow(&limiter, t + interval - 1, interval));
    cr_assert_eq(limiter.suppressed, 2);
    cr_assert(nci_log_limit_allow(&limiter, t + interval, interval));
    cr_assert_not(nci_log_limit_allow(&limiter, t + interval + 10, interval));
    cr_assert_eq(limiter.suppressed, 3);

    /* A burst of 10000 messages over 10 s passes about once a second. */
    nci_log_limiter burst = {0};
    int allowed = 0;
    for (uint64_t i = 0; i < 10000; i++)
        allowed += nci_log_limit_allow(&burst, t + i * 1000, interval);
    cr_assert_eq(allowed, 10);
    cr_assert_eq(burst.suppressed, 9990);
}

Test(core_log, limiter_holds_at_time_zero_and_when_the_clock_goes_back)
{
    nci_log_limiter limiter = {0};
    const uint64_t interval = 1000000;
    cr_assert(nci_log_limit_allow(&limiter, 0, interval), "a clock starting at 0 logs once");
    cr_assert_not(nci_log_limit_allow(&limiter, 0, interval));
    cr_assert_not(nci_log_limit_allow(&limiter, interval - 1, interval));
    cr_assert(nci_log_limit_allow(&limiter, 5 * interval, interval));
    cr_assert_not(nci_log_limit_allow(&limiter, 2 * interval, interval), "backwards is suppressed");
    cr_assert_eq(limiter.suppressed, 3);
}

Test(core_log, limiter_zero_interval_allows_everything)
{
    nci_log_limiter limiter = {0};
    for (uint64_t t = 1; t <= 100; t++)
        cr_assert(nci_log_limit_allow(&limiter, t, 0));
    cr_assert_eq(limiter.suppressed, 0);
}

/* ------------------------------------------------------------------ */
/* Addresses                                                           */
/* ------------------------------------------------------------------ */

static netcore_address parse_ok(const char *text, uint16_t default_port)
{
    netcore_address address;
    netcore_result r = netcore_address_parse(text, default_port, &address);
    cr_assert_eq(r, NETCORE_OK, "parse \"%s\": %s", text, netcore_result_str(r));
    return address;
}

static void assert_formats_as(const netcore_address *address, const char *expected)
{
    char text[NETCORE_ADDRESS_STRLEN];
    cr_assert_eq(netcore_address_format(address, text, sizeof text), NETCORE_OK);
    cr_assert_str_eq(text, expected);
}

Test(core_address, ipv4_with_and_without_port)
{
    netcore_address a = parse_ok("127.0.0.1:7777", 1);
    cr_assert_eq(a.family, NETCORE_ADDRESS_IPV4);
    cr_assert_eq(a.port, 7777);
    const uint8_t loopback[4] = {127, 0, 0, 1};
    cr_assert_arr_eq(a.bytes, loopback, 4);
    netcore_address built = netcore_address_ipv4(127, 0, 0, 1, 7777);
    cr_assert(netcore_address_equal(&a, &built));
    assert_formats_as(&a, "127.0.0.1:7777");

    netcore_address b = parse_ok("10.1.2.3", 5000);
    cr_assert_eq(b.port, 5000, "default port applies");
    assert_formats_as(&b, "10.1.2.3:5000");

    netcore_address c = parse_ok("255.255.255.255:0", 9);
    cr_assert_eq(c.port, 0, "an explicit port 0 wins over the default");
    assert_formats_as(&c, "255.255.255.255:0");
    assert_formats_as(&(netcore_address){0}, "*:0");
}

Test(core_address, ipv6_with_brackets_and_default_port)
{
    netcore_address a = parse_ok("[::1]:7777", 1);
    cr_assert_eq(a.family, NETCORE_ADDRESS_IPV6);
    cr_assert_eq(a.port, 7777);
    cr_assert_eq(a.bytes[15], 1);
    for (int i = 0; i < 15; i++)
        cr_assert_eq(a.bytes[i], 0);
    assert_formats_as(&a, "[::1]:7777");

    netcore_address b = parse_ok("::1", 4000);
    cr_assert_eq(b.family, NETCORE_ADDRESS_IPV6);
    cr_assert_eq(b.port, 4000);
    netcore_address c = parse_ok("[::1]", 4000);
    cr_assert(netcore_address_equal(&b, &c));

    netcore_address d = parse_ok("[2001:db8:0:0:1:0:0:1]:65535", 0);
    cr_assert_eq(d.port, 65535);
    cr_assert_eq(d.bytes[0], 0x20);
    cr_assert_eq(d.bytes[1], 0x01);
    assert_formats_as(&d, "[2001:db8::1:0:0:1]:65535");
}

Test(core_address, round_trips_through_text)
{
    const char *texts[] = {"0.0.0.0:1",         "192.168.1.200:7778", "1.2.3.4:65535",
                           "[::]:80",           "[fe80::1:2]:7777",   "[2001:db8::ff00:42:8329]:1",
                           "[::ffff:1.2.3.4]:9"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        netcore_address a = parse_ok(texts[i], 0);
        char text[NETCORE_ADDRESS_STRLEN];
        cr_assert_eq(netcore_address_format(&a, text, sizeof text), NETCORE_OK);
        netcore_address b = parse_ok(text, 0);
        cr_assert(netcore_address_equal(&a, &b), "\"%s\" -> \"%s\"", texts[i], text);
        cr_assert_str_eq(text, texts[i]);
    }
}

Test(core_address, resolves_localhost)
{
    netcore_address a = parse_ok("localhost:7777", 1);
    cr_assert_eq(a.port, 7777);
    cr_assert(a.family == NETCORE_ADDRESS_IPV4 || a.family == NETCORE_ADDRESS_IPV6);
    if (a.family == NETCORE_ADDRESS_IPV4)
        cr_assert_eq(a.bytes[0], 127);
}

Test(core_address, rejects_bad_ports)
{
    /* Malformed before any name lookup, so no resolver is involved. */
    const char *texts[] = {"1.2.3.4:65536",
                           "1.2.3.4:",
                           "1.2.3.4:-1",
                           "1.2.3.4:12a",
                           "1.2.3.4: 80",
                           "1.2.3.4:+80",
                           "1.2.3.4:99999999999999999999",
                           "[::1]:",
                           "[::1]:70000",
                           "[::1]:x"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        netcore_address a;
        cr_assert_eq(netcore_address_parse(texts[i], 7, &a), NETCORE_ERR_ADDRESS, "\"%s\"",
                     texts[i]);
    }
}

Test(core_address, rejects_garbage)
{
    char too_long[300];
    memset(too_long, '1', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    const char *texts[] = {"",     ":80",    "[",         "[]",           "[]:80",
                           "[::1", "[::1]x", "[::1]:80x", "[1.2.3.4]:80", too_long};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        netcore_address a;
        cr_assert_eq(netcore_address_parse(texts[i], 7, &a), NETCORE_ERR_ADDRESS, "text %zu", i);
    }
    netcore_address a;
    cr_assert_eq(netcore_address_parse(NULL, 7, &a), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_address_parse("1.2.3.4", 7, NULL), NETCORE_ERR_INVALID_ARGUMENT);
}

Test(core_address, format_checks_its_buffer)
{
    netcore_address a = netcore_address_ipv4(192, 168, 100, 200, 65535);
    char small[8];
    cr_assert_eq(netcore_address_format(&a, small, sizeof small), NETCORE_ERR_TOO_LARGE);
    cr_assert_eq(strlen(small), sizeof small - 1, "truncated and terminated");
    cr_assert_eq(strncmp(small, "192.168", 7), 0);

    char text[NETCORE_ADDRESS_STRLEN];
    cr_assert_eq(netcore_address_format(NULL, text, sizeof text), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_address_format(&a, NULL, 10), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_address_format(&a, text, 0), NETCORE_ERR_INVALID_ARGUMENT);

    /* The longest IPv6 text fits in NETCORE_ADDRESS_STRLEN. */
    netcore_address widest = parse_ok("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", 0);
    cr_assert_eq(netcore_address_format(&widest, text, sizeof text), NETCORE_OK);
}

Test(core_address, equality_compares_family_bytes_and_port)
{
    netcore_address a = netcore_address_ipv4(1, 2, 3, 4, 80);
    netcore_address b = a;
    cr_assert(netcore_address_equal(&a, &b));
    b.port = 81;
    cr_assert_not(netcore_address_equal(&a, &b));
    b = a;
    b.bytes[3] = 5;
    cr_assert_not(netcore_address_equal(&a, &b));
    b = a;
    b.family = NETCORE_ADDRESS_IPV6;
    cr_assert_not(netcore_address_equal(&a, &b));
    /* Bytes past the family's length do not matter. */
    b = a;
    b.bytes[10] = 0xee;
    cr_assert(netcore_address_equal(&a, &b));
    cr_assert_not(netcore_address_equal(&a, NULL));
    cr_assert_not(netcore_address_equal(NULL, &a));
}

/* ------------------------------------------------------------------ */
/* Link presets                                                        */
/* ------------------------------------------------------------------ */

static void assert_profile(netcore_link_preset preset, uint32_t latency_ms, uint32_t jitter_ms,
                           float loss_pct, float duplicate_pct, float reorder_pct)
{
    netcore_link_profile p = netcore_link_preset_profile(preset);
    const char *name = netcore_link_preset_name(preset);
    cr_assert_eq(p.latency_ms, latency_ms, "%s latency", name);
    cr_assert_eq(p.jitter_ms, jitter_ms, "%s jitter", name);
    cr_assert_float_eq(p.loss_pct, loss_pct, 1e-6, "%s loss", name);
    cr_assert_float_eq(p.duplicate_pct, duplicate_pct, 1e-6, "%s duplication", name);
    cr_assert_float_eq(p.reorder_pct, reorder_pct, 1e-6, "%s reordering", name);
    cr_assert_eq(p.bandwidth_kbps, 0, "%s bandwidth", name);
}

Test(core_link_preset, profiles_match_the_documented_values)
{
    assert_profile(NETCORE_LINK_PERFECT, 0, 0, 0.0f, 0.0f, 0.0f);
    assert_profile(NETCORE_LINK_LAN, 1, 0, 0.0f, 0.0f, 0.0f);
    assert_profile(NETCORE_LINK_WIFI, 20, 5, 1.0f, 0.0f, 0.0f);
    assert_profile(NETCORE_LINK_4G, 60, 20, 3.0f, 0.0f, 0.0f);
    assert_profile(NETCORE_LINK_BAD, 150, 50, 10.0f, 2.0f, 2.0f);
    assert_profile(NETCORE_LINK_PRESET_COUNT, 0, 0, 0.0f, 0.0f, 0.0f);
    assert_profile((netcore_link_preset)1000, 0, 0, 0.0f, 0.0f, 0.0f);
}

Test(core_link_preset, names_are_distinct)
{
    const char *expected[NETCORE_LINK_PRESET_COUNT] = {"perfect", "lan", "wifi", "4g", "bad"};
    for (int i = 0; i < NETCORE_LINK_PRESET_COUNT; i++)
        cr_assert_str_eq(netcore_link_preset_name((netcore_link_preset)i), expected[i]);
    cr_assert_str_eq(netcore_link_preset_name(NETCORE_LINK_PRESET_COUNT), "unknown");
    cr_assert_str_eq(netcore_link_preset_name((netcore_link_preset)-1), "unknown");
}
