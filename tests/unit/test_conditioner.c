/* Link conditioner: determinism, impairment rates, delay bounds, reordering,
 * bandwidth cap, queue limits, pop order and memory reuse. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "counting_allocator.h"
#include "transport/conditioner.h"
#include "core/core_internal.h"

#define MS 1000u

typedef struct payload {
    uint32_t index;
    uint64_t submitted_us;
} payload;

static nci_link *make_link(uint64_t seed, uint32_t max_queued, const netcore_link_profile *profile)
{
    nci_link *link = NULL;
    cr_assert_eq(nci_link_create(NULL, seed, 1500, max_queued, &link), NETCORE_OK);
    cr_assert_not_null(link);
    if (profile)
        nci_link_set_profile(link, profile);
    return link;
}

static uint32_t submit_index(nci_link *link, uint64_t now_us, uint32_t index)
{
    payload p;
    memset(&p, 0, sizeof p);
    p.index = index;
    p.submitted_us = now_us;
    return nci_link_submit(link, now_us, index, &p, sizeof p);
}

static payload read_payload(const nci_link_datagram *d)
{
    payload p;
    cr_assert_eq(d->size_bytes, sizeof p);
    memcpy(&p, d->data, sizeof p);
    return p;
}

static netcore_link_profile busy_profile(void)
{
    netcore_link_profile p;
    memset(&p, 0, sizeof p);
    p.latency_ms = 50;
    p.jitter_ms = 20;
    p.loss_pct = 10.0f;
    p.duplicate_pct = 10.0f;
    p.reorder_pct = 10.0f;
    p.bandwidth_kbps = 2000;
    return p;
}

/* Runs n datagrams (one every 100 us) through a link and writes a trace of
 * (index, deliver time) pairs in delivery order. Returns the trace length. */
static size_t run_trace(uint64_t seed, uint32_t n, uint64_t *trace, size_t trace_capacity)
{
    netcore_link_profile profile = busy_profile();
    nci_link *link = make_link(seed, 1u << 16, &profile);
    size_t length = 0;
    nci_link_datagram d;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t now = (uint64_t)i * 100;
        submit_index(link, now, i);
        while (nci_link_pop_due(link, now, &d) && length + 2 <= trace_capacity) {
            trace[length++] = read_payload(&d).index;
            trace[length++] = d.deliver_at_us;
        }
    }
    while (nci_link_pop_due(link, UINT64_MAX, &d) && length + 2 <= trace_capacity) {
        trace[length++] = read_payload(&d).index;
        trace[length++] = d.deliver_at_us;
    }
    nci_link_destroy(link);
    return length;
}

Test(conditioner, same_seed_same_output_different_seed_differs)
{
    enum { N = 10000, CAP = 4 * N };
    uint64_t *a = calloc(CAP, sizeof *a);
    uint64_t *b = calloc(CAP, sizeof *b);
    uint64_t *c = calloc(CAP, sizeof *c);
    cr_assert(a && b && c);
    size_t la = run_trace(42, N, a, CAP);
    size_t lb = run_trace(42, N, b, CAP);
    size_t lc = run_trace(43, N, c, CAP);
    cr_assert_gt(la, N); /* two entries per delivered datagram: most arrive */
    cr_assert_eq(la, lb);
    cr_assert_eq(memcmp(a, b, la * sizeof *a), 0, "same seed must give the same trace");
    cr_assert(la != lc || memcmp(a, c, la * sizeof *a) != 0, "different seeds must differ");
    free(a);
    free(b);
    free(c);
}

Test(conditioner, loss_rate_within_tolerance)
{
    enum { N = 100000 };
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.loss_pct = 20.0f;
    nci_link *link = make_link(7, 64, &profile);
    uint64_t delivered = 0;
    nci_link_datagram d;
    for (uint32_t i = 0; i < N; i++) {
        uint32_t copies = submit_index(link, i, i);
        cr_assert(copies <= 1);
        while (nci_link_pop_due(link, i, &d))
            delivered++;
    }
    netcore_conditioner_stats stats;
    nci_link_stats(link, &stats);
    /* Binomial sd at n = 100000, p = 0.2 is 0.13%; allow about 8 sd. */
    double loss = 100.0 * (double)stats.dropped_loss / N;
    cr_assert(loss > 19.0 && loss < 21.0, "loss %.3f%%", loss);
    cr_assert_eq(stats.forwarded, delivered);
    cr_assert_eq(stats.forwarded + stats.dropped_loss, N);
    cr_assert_eq(stats.bytes_forwarded, delivered * sizeof(payload));
    cr_assert_eq(stats.duplicated + stats.dropped_overflow + stats.dropped_bandwidth, 0);
    nci_link_destroy(link);
}

Test(conditioner, duplicate_rate_within_tolerance)
{
    enum { N = 100000 };
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.duplicate_pct = 10.0f;
    profile.latency_ms = 1;
    nci_link *link = make_link(9, 1024, &profile);
    uint32_t *seen = calloc(N, sizeof *seen);
    cr_assert_not_null(seen);
    nci_link_datagram d;
    for (uint32_t i = 0; i < N; i++) {
        uint64_t now = (uint64_t)i * 10;
        submit_index(link, now, i);
        while (nci_link_pop_due(link, now, &d))
            seen[read_payload(&d).index]++;
    }
    while (nci_link_pop_due(link, UINT64_MAX, &d))
        seen[read_payload(&d).index]++;
    uint64_t twice = 0;
    for (uint32_t i = 0; i < N; i++) {
        cr_assert(seen[i] == 1 || seen[i] == 2, "datagram %u seen %u times", i, seen[i]);
        twice += seen[i] == 2;
    }
    netcore_conditioner_stats stats;
    nci_link_stats(link, &stats);
    cr_assert_eq(stats.duplicated, twice);
    cr_assert_eq(stats.forwarded, N + twice);
    double rate = 100.0 * (double)twice / N;
    cr_assert(rate > 9.0 && rate < 11.0, "duplicate rate %.3f%%", rate);
    free(seen);
    nci_link_destroy(link);
}

Test(conditioner, delays_within_latency_plus_minus_jitter)
{
    enum { N = 20000 };
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.latency_ms = 40;
    profile.jitter_ms = 15;
    nci_link *link = make_link(11, 1u << 15, &profile);
    for (uint32_t i = 0; i < N; i++)
        submit_index(link, (uint64_t)i * 50, i);
    uint64_t min_delay = UINT64_MAX, max_delay = 0, count = 0;
    nci_link_datagram d;
    uint64_t last_deliver = 0;
    while (nci_link_pop_due(link, UINT64_MAX, &d)) {
        payload p = read_payload(&d);
        cr_assert_geq(d.deliver_at_us, last_deliver, "pop order must follow delivery time");
        last_deliver = d.deliver_at_us;
        uint64_t delay = d.deliver_at_us - p.submitted_us;
        min_delay = delay < min_delay ? delay : min_delay;
        max_delay = delay > max_delay ? delay : max_delay;
        count++;
    }
    cr_assert_eq(count, N);
    cr_assert_geq(min_delay, 25 * MS);
    cr_assert_leq(max_delay, 55 * MS);
    /* The whole jitter range is used, not a corner of it. */
    cr_assert_lt(min_delay, 26 * MS);
    cr_assert_gt(max_delay, 54 * MS);
    nci_link_destroy(link);
}

Test(conditioner, jitter_never_makes_delay_negative)
{
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.latency_ms = 5;
    profile.jitter_ms = 20;
    nci_link *link = make_link(12, 4096, &profile);
    uint64_t start = 1000 * MS;
    for (uint32_t i = 0; i < 2000; i++)
        submit_index(link, start, i);
    nci_link_datagram d;
    uint32_t immediate = 0;
    while (nci_link_pop_due(link, UINT64_MAX, &d)) {
        cr_assert_geq(d.deliver_at_us, start);
        cr_assert_leq(d.deliver_at_us, start + 25 * MS);
        immediate += d.deliver_at_us == start;
    }
    cr_assert_gt(immediate, 0, "delays below zero are clamped to zero");
    nci_link_destroy(link);
}

Test(conditioner, reorder_holds_back_and_later_ones_overtake)
{
    enum { N = 10000 };
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.latency_ms = 10;
    profile.reorder_pct = 10.0f;
    nci_link *link = make_link(13, 1u << 15, &profile);
    for (uint32_t i = 0; i < N; i++)
        submit_index(link, (uint64_t)i * 1000, i);
    nci_link_datagram d;
    uint32_t inversions = 0, prev = 0, held = 0, count = 0;
    while (nci_link_pop_due(link, UINT64_MAX, &d)) {
        payload p = read_payload(&d);
        uint64_t delay = d.deliver_at_us - p.submitted_us;
        /* Default reorder delay with no jitter is 10 ms. */
        cr_assert(delay == 10 * MS || delay == 20 * MS, "delay %llu", (unsigned long long)delay);
        held += delay == 20 * MS;
        if (count > 0 && p.index < prev)
            inversions++;
        prev = p.index;
        count++;
    }
    netcore_conditioner_stats stats;
    nci_link_stats(link, &stats);
    cr_assert_eq(count, N);
    cr_assert_eq(stats.reordered, held);
    cr_assert_gt(inversions, N / 20, "held-back datagrams must be overtaken");
    double rate = 100.0 * held / N;
    cr_assert(rate > 8.0 && rate < 12.0, "reorder rate %.2f%%", rate);
    nci_link_destroy(link);
}

Test(conditioner, no_reorder_without_jitter_keeps_order)
{
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.latency_ms = 30;
    nci_link *link = make_link(14, 4096, &profile);
    for (uint32_t i = 0; i < 3000; i++)
        submit_index(link, (uint64_t)(i / 3) * 100, i); /* triples share a time */
    nci_link_datagram d;
    uint32_t expected = 0;
    while (nci_link_pop_due(link, UINT64_MAX, &d))
        cr_assert_eq(read_payload(&d).index, expected++);
    cr_assert_eq(expected, 3000);
    nci_link_destroy(link);
}

Test(conditioner, bandwidth_cap_spaces_datagrams_and_drops_after_one_second)
{
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.bandwidth_kbps = 100; /* 125 bytes = 1000 bits = 10 ms */
    nci_link *link = make_link(15, 4096, &profile);
    uint8_t data[125];
    memset(data, 0xab, sizeof data);
    uint64_t start = 5000 * MS;
    uint32_t queued = 0;
    for (uint32_t i = 0; i < 150; i++)
        queued += nci_link_submit(link, start, i, data, sizeof data);
    /* Datagram k starts serialising at k * 10 ms; from k = 101 the wait exceeds 1 s. */
    cr_assert_eq(queued, 101);
    netcore_conditioner_stats stats;
    nci_link_stats(link, &stats);
    cr_assert_eq(stats.dropped_bandwidth, 49);
    nci_link_datagram d;
    for (uint32_t k = 0; k < 101; k++) {
        cr_assert(nci_link_pop_due(link, UINT64_MAX, &d));
        cr_assert_eq(d.tag, k);
        cr_assert_eq(d.deliver_at_us, start + (uint64_t)(k + 1) * 10 * MS);
    }
    cr_assert_not(nci_link_pop_due(link, UINT64_MAX, &d));
    /* Once the serialiser has drained, a new datagram goes straight through. */
    cr_assert_eq(nci_link_submit(link, start + 2000 * MS, 999, data, sizeof data), 1);
    cr_assert_eq(nci_link_next_due_us(link), start + 2010 * MS);
    nci_link_destroy(link);
}

Test(conditioner, datagrams_refused_by_a_full_queue_use_no_bandwidth)
{
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.latency_ms = 1000;
    profile.bandwidth_kbps = 100; /* 125 bytes = 10 ms */
    nci_link *link = make_link(19, 2, &profile);
    uint8_t data[125] = {0};
    cr_assert_eq(nci_link_submit(link, 0, 0, data, sizeof data), 1);
    cr_assert_eq(nci_link_submit(link, 0, 1, data, sizeof data), 1);
    cr_assert_eq(nci_link_submit(link, 0, 2, data, sizeof data), 0);
    nci_link_datagram d;
    cr_assert(nci_link_pop_due(link, UINT64_MAX, &d));
    cr_assert_eq(d.deliver_at_us, 1010 * MS);
    /* The serialiser is busy until 20 ms (two datagrams), not 30 ms. */
    cr_assert_eq(nci_link_submit(link, 0, 3, data, sizeof data), 1);
    cr_assert(nci_link_pop_due(link, UINT64_MAX, &d));
    cr_assert(nci_link_pop_due(link, UINT64_MAX, &d));
    cr_assert_eq(d.tag, 3);
    cr_assert_eq(d.deliver_at_us, 1030 * MS);
    nci_link_destroy(link);
}

Test(conditioner, queue_overflow_and_oversize_are_counted)
{
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.latency_ms = 100;
    nci_link *link = NULL;
    cr_assert_eq(nci_link_create(NULL, 1, 64, 16, &link), NETCORE_OK);
    nci_link_set_profile(link, &profile);
    uint8_t data[65] = {0};
    uint32_t queued = 0;
    for (uint32_t i = 0; i < 20; i++)
        queued += nci_link_submit(link, 0, i, data, 10);
    cr_assert_eq(queued, 16);
    cr_assert_eq(nci_link_queued(link), 16);
    cr_assert_eq(nci_link_submit(link, 0, 0, data, 65), 0);
    netcore_conditioner_stats stats;
    nci_link_stats(link, &stats);
    cr_assert_eq(stats.dropped_overflow, 5);
    /* Draining makes room again. */
    nci_link_datagram d;
    uint32_t popped = 0;
    while (nci_link_pop_due(link, 100 * MS, &d))
        popped++;
    cr_assert_eq(popped, 16);
    cr_assert_eq(nci_link_submit(link, 200 * MS, 1, data, 64), 1);
    nci_link_destroy(link);
}

Test(conditioner, zero_profile_is_passthrough_with_zero_delay)
{
    nci_link *link = make_link(16, 64, NULL);
    cr_assert(nci_link_is_perfect(link));
    cr_assert_eq(nci_link_next_due_us(link), UINT64_MAX);
    const char text[] = "hello";
    cr_assert_eq(nci_link_submit(link, 777, 5, text, sizeof text), 1);
    cr_assert_eq(nci_link_next_due_us(link), 777);
    nci_link_datagram d;
    cr_assert_not(nci_link_pop_due(link, 776, &d));
    cr_assert(nci_link_pop_due(link, 777, &d));
    cr_assert_eq(d.deliver_at_us, 777);
    cr_assert_eq(d.tag, 5);
    cr_assert_eq(d.size_bytes, sizeof text);
    cr_assert_str_eq((const char *)d.data, text);
    /* Empty datagrams are valid UDP payloads. */
    cr_assert_eq(nci_link_submit(link, 800, 6, NULL, 0), 1);
    cr_assert(nci_link_pop_due(link, 800, &d));
    cr_assert_eq(d.size_bytes, 0);

    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.loss_pct = 1.0f;
    nci_link_set_profile(link, &profile);
    cr_assert_not(nci_link_is_perfect(link));
    netcore_link_profile back;
    nci_link_get_profile(link, &back);
    cr_assert_float_eq(back.loss_pct, 1.0f, 1e-6);
    nci_link_destroy(link);
}

Test(conditioner, pop_order_is_time_then_submission)
{
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.latency_ms = 20;
    nci_link *link = make_link(17, 64, &profile);
    submit_index(link, 0, 0); /* due 20 ms */
    profile.latency_ms = 5;
    nci_link_set_profile(link, &profile); /* only affects later submissions */
    submit_index(link, 0, 1);             /* due 5 ms */
    submit_index(link, 15 * MS, 2);       /* due 20 ms, after 0 */
    submit_index(link, 0, 3);             /* due 5 ms, after 1 */
    cr_assert_eq(nci_link_next_due_us(link), 5 * MS);
    nci_link_datagram d;
    cr_assert_not(nci_link_pop_due(link, 5 * MS - 1, &d));
    uint32_t expected[] = {1, 3, 0, 2};
    for (size_t i = 0; i < 4; i++) {
        cr_assert(nci_link_pop_due(link, 20 * MS, &d));
        cr_assert_eq(read_payload(&d).index, expected[i]);
    }
    cr_assert_eq(nci_link_next_due_us(link), UINT64_MAX);
    nci_link_destroy(link);
}

Test(conditioner, discard_tag_removes_only_that_tag_uncounted)
{
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.latency_ms = 10;
    profile.jitter_ms = 5;
    nci_link *link = make_link(18, 1024, &profile);
    for (uint32_t i = 0; i < 300; i++) {
        payload p = {i, 0};
        nci_link_submit(link, (uint64_t)i * 100, i % 3, &p, sizeof p);
    }
    nci_link_discard_tag(link, 1);
    cr_assert_eq(nci_link_queued(link), 200);
    nci_link_datagram d;
    uint64_t last = 0;
    uint32_t count = 0;
    while (nci_link_pop_due(link, UINT64_MAX, &d)) {
        cr_assert_neq(d.tag, 1);
        cr_assert_eq(read_payload(&d).index % 3, d.tag);
        cr_assert_geq(d.deliver_at_us, last, "heap order survives discarding");
        last = d.deliver_at_us;
        count++;
    }
    cr_assert_eq(count, 200);
    netcore_conditioner_stats stats;
    nci_link_stats(link, &stats);
    cr_assert_eq(stats.forwarded, 200);
    cr_assert_eq(stats.dropped_loss + stats.dropped_overflow, 0);
    nci_link_destroy(link);
}

Test(conditioner, steady_state_does_not_allocate_and_frees_everything)
{
    counting_allocator counter = {0};
    netcore_allocator allocator = counting_allocator_make(&counter);
    nci_link *link = NULL;
    cr_assert_eq(nci_link_create(&allocator, 3, 1200, 4096, &link), NETCORE_OK);
    netcore_link_profile profile = busy_profile();
    profile.bandwidth_kbps = 0;
    nci_link_set_profile(link, &profile);
    uint8_t data[1200] = {0};
    nci_link_datagram d;
    uint64_t now = 0;
    uint64_t warm = 0;
    for (uint32_t round = 0; round < 2; round++) {
        for (uint32_t i = 0; i < 20000; i++, now += 500) {
            nci_link_submit(link, now, i, data, 100 + (i * 7) % 1100);
            while (nci_link_pop_due(link, now, &d))
                cr_assert_leq(d.size_bytes, 1200);
        }
        if (round == 0)
            warm = counter.allocations;
    }
    cr_assert_eq(counter.allocations, warm, "no allocation once the link is warm");
    cr_assert_lt(nci_link_queued(link), 4096);
    nci_link_destroy(link);
    cr_assert_eq(counter.allocations, counter.frees);
}

Test(conditioner, create_rejects_bad_arguments)
{
    nci_link *link = (nci_link *)&link;
    cr_assert_eq(nci_link_create(NULL, 1, 0, 10, &link), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_null(link);
    cr_assert_eq(nci_link_create(NULL, 1, 10, 0, &link), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(nci_link_create(NULL, 1, 10, 10, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    /* A queue of one still works. */
    cr_assert_eq(nci_link_create(NULL, 1, 10, 1, &link), NETCORE_OK);
    cr_assert_eq(nci_link_submit(link, 0, 0, "a", 1), 1);
    cr_assert_eq(nci_link_submit(link, 0, 0, "b", 1), 0);
    nci_link_destroy(link);
    nci_link_destroy(NULL);
}

/* Each delivered copy differs from what was sent in exactly one byte when
 * corrupted, and in none otherwise; the share follows corrupt_pct. */
static uint32_t differing_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint32_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += a[i] != b[i];
    return count;
}

Test(conditioner, corruption_alters_exactly_one_byte_at_the_configured_rate)
{
    netcore_link_profile profile;
    memset(&profile, 0, sizeof profile);
    profile.corrupt_pct = 20.0f;
    profile.duplicate_pct = 10.0f;
    nci_link *link = make_link(17, 100000, &profile);
    cr_assert_not(nci_link_is_perfect(link), "a corrupting link is not a passthrough");
    uint8_t sent[64];
    const uint32_t n = 20000;
    uint32_t altered = 0, delivered = 0;
    for (uint32_t i = 0; i < n; i++) {
        memset(sent, (int)(i & 0xff), sizeof sent);
        nci_link_submit(link, 0, i, sent, sizeof sent);
        nci_link_datagram d;
        while (nci_link_pop_due(link, 0, &d)) {
            cr_assert_eq(d.size_bytes, sizeof sent);
            uint32_t differ = differing_bytes(d.data, sent, sizeof sent);
            cr_assert_leq(differ, 1, "datagram %u: %u bytes altered", i, differ);
            altered += differ;
            delivered++;
        }
    }
    netcore_conditioner_stats st;
    nci_link_stats(link, &st);
    cr_assert_eq(st.corrupted, altered);
    cr_assert_gt(delivered, n);
    double share = (double)altered / (double)delivered;
    cr_assert(share > 0.18 && share < 0.22, "corrupted share %.3f", share);
    nci_link_destroy(link);

    /* Without corrupt_pct nothing changes and no decision is drawn for it. */
    profile.corrupt_pct = 0.0f;
    link = make_link(17, 100000, &profile);
    for (uint32_t i = 0; i < 1000; i++) {
        memset(sent, 0x5a, sizeof sent);
        nci_link_submit(link, 0, i, sent, sizeof sent);
        nci_link_datagram d;
        while (nci_link_pop_due(link, 0, &d))
            cr_assert_eq(differing_bytes(d.data, sent, sizeof sent), 0);
    }
    nci_link_stats(link, &st);
    cr_assert_eq(st.corrupted, 0);
    nci_link_destroy(link);
}
