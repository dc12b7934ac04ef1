/* Input commands: packet round trips, redundancy bounds, hostile packets,
 * and the server buffer's handling of loss, lateness and duplication. */
#include <criterion/criterion.h>
#include <string.h>

#include "netcore/input.h"

#define SIZE 6

static netcore_input_client *make_client(uint32_t redundancy, uint32_t mtu)
{
    netcore_input_client_config c;
    netcore_input_client_config_default(&c);
    c.input_size_bytes = SIZE;
    c.max_redundancy = redundancy;
    c.mtu_bytes = mtu;
    netcore_input_client *client = NULL;
    cr_assert_eq(netcore_input_client_create(&c, &client), NETCORE_OK);
    return client;
}

static netcore_input_server *make_server(void)
{
    netcore_input_server_config c;
    netcore_input_server_config_default(&c);
    c.input_size_bytes = SIZE;
    c.max_clients = 2;
    c.buffer_ticks = 16;
    netcore_input_server *server = NULL;
    cr_assert_eq(netcore_input_server_create(&c, &server), NETCORE_OK);
    return server;
}

static void make_input(uint32_t tick, uint8_t *out)
{
    for (int i = 0; i < SIZE; i++)
        out[i] = (uint8_t)(tick * 7u + (uint32_t)i);
}

static size_t write_packet(netcore_input_client *c, uint8_t *buf, size_t cap)
{
    static const uint8_t ack[3] = {0xA1, 0xB2, 0xC3};
    size_t n = 0;
    cr_assert_eq(netcore_input_client_write(c, ack, sizeof ack, buf, cap, &n), NETCORE_OK);
    return n;
}

Test(input, packet_round_trip)
{
    netcore_input_client *c = make_client(32, 1200);
    uint8_t in[SIZE];
    for (uint32_t t = 100; t < 110; t++) {
        make_input(t, in);
        cr_assert_eq(netcore_input_client_add(c, t, in), NETCORE_OK);
    }
    uint8_t buf[1200];
    size_t n = write_packet(c, buf, sizeof buf);
    cr_assert_eq(n, netcore_input_packet_size(SIZE, 10, 3));
    uint8_t out[NETCORE_INPUT_MAX_REDUNDANCY * SIZE];
    netcore_input_packet p;
    cr_assert_eq(netcore_input_decode(buf, n, SIZE, out, sizeof out, &p), NETCORE_OK);
    cr_assert_eq(p.newest_tick, 109u);
    cr_assert_eq(p.count, 10u);
    cr_assert_eq(p.ack_size_bytes, 3u);
    cr_assert_eq(p.ack[2], 0xC3);
    for (uint32_t i = 0; i < 10; i++) {
        make_input(100 + i, in);
        cr_assert_arr_eq(out + i * SIZE, in, SIZE);
    }
    netcore_input_client_destroy(c);
}

Test(input, repeated_inputs_cost_one_bit)
{
    netcore_input_client *c = make_client(32, 1200);
    uint8_t in[SIZE] = {1, 2, 3, 4, 5, 6};
    for (uint32_t t = 1; t <= 20; t++)
        netcore_input_client_add(c, t, in);
    uint8_t buf[1200];
    size_t n = write_packet(c, buf, sizeof buf);
    cr_assert_eq(n, netcore_input_packet_size(SIZE, 1, 3) + 2u); /* one input, 3 mask bytes */
    uint8_t out[NETCORE_INPUT_MAX_REDUNDANCY * SIZE];
    netcore_input_packet p;
    cr_assert_eq(netcore_input_decode(buf, n, SIZE, out, sizeof out, &p), NETCORE_OK);
    cr_assert_eq(p.count, 20u);
    cr_assert_arr_eq(out + 19 * SIZE, in, SIZE);
    netcore_input_client_destroy(c);
}

Test(input, acks_and_limits_bound_the_redundancy)
{
    netcore_input_client *c = make_client(8, 1200);
    uint8_t in[SIZE], buf[1200], out[NETCORE_INPUT_MAX_REDUNDANCY * SIZE];
    netcore_input_packet p;
    for (uint32_t t = 1; t <= 30; t++) {
        make_input(t, in);
        netcore_input_client_add(c, t, in);
    }
    size_t n = write_packet(c, buf, sizeof buf);
    cr_assert_eq(netcore_input_decode(buf, n, SIZE, out, sizeof out, &p), NETCORE_OK);
    cr_assert_eq(p.count, 8u); /* max_redundancy */
    cr_assert_eq(netcore_input_client_ack(c, 27), NETCORE_OK);
    cr_assert_eq(netcore_input_client_ack(c, 20), NETCORE_OK); /* older: ignored */
    n = write_packet(c, buf, sizeof buf);
    cr_assert_eq(netcore_input_decode(buf, n, SIZE, out, sizeof out, &p), NETCORE_OK);
    cr_assert_eq(p.count, 3u);
    netcore_input_client_ack(c, 30);
    n = write_packet(c, buf, sizeof buf);
    cr_assert_eq(netcore_input_decode(buf, n, SIZE, out, sizeof out, &p), NETCORE_OK);
    cr_assert_eq(p.count, 1u, "the newest input always travels");
    /* A small buffer: the oldest inputs are left out. */
    netcore_input_client *d = make_client(32, 1200);
    for (uint32_t t = 1; t <= 30; t++) {
        make_input(t, in);
        netcore_input_client_add(d, t, in);
    }
    n = write_packet(d, buf, 40);
    cr_assert_leq(n, 40u);
    cr_assert_eq(netcore_input_decode(buf, n, SIZE, out, sizeof out, &p), NETCORE_OK);
    cr_assert_eq(p.newest_tick, 30u);
    cr_assert_gt(p.count, 1u);
    size_t tiny = 0;
    cr_assert_eq(netcore_input_client_write(d, NULL, 0, buf, 8, &tiny), NETCORE_ERR_TOO_LARGE);
    netcore_input_client_destroy(c);
    netcore_input_client_destroy(d);
}

Test(input, client_ticks_must_rise_and_gaps_are_filled)
{
    netcore_input_client *c = make_client(32, 1200);
    uint8_t in[SIZE] = {9, 9, 9, 9, 9, 9}, buf[1200], out[NETCORE_INPUT_MAX_REDUNDANCY * SIZE];
    size_t n = 0;
    cr_assert_eq(netcore_input_client_write(c, NULL, 0, buf, sizeof buf, &n), NETCORE_ERR_STATE);
    netcore_input_client_add(c, 10, in);
    cr_assert_eq(netcore_input_client_add(c, 10, in), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_input_client_add(c, 9, in), NETCORE_ERR_STATE);
    in[0] = 1;
    cr_assert_eq(netcore_input_client_add(c, 14, in), NETCORE_OK);
    netcore_input_client_stats st;
    cr_assert_eq(netcore_input_client_get_stats(c, &st), NETCORE_OK);
    cr_assert_eq(st.ticks_filled, 3u);
    n = write_packet(c, buf, sizeof buf);
    netcore_input_packet p;
    cr_assert_eq(netcore_input_decode(buf, n, SIZE, out, sizeof out, &p), NETCORE_OK);
    cr_assert_eq(p.count, 5u);
    cr_assert_eq(out[3 * SIZE], 9); /* tick 13 repeats tick 10 */
    cr_assert_eq(out[4 * SIZE], 1);
    netcore_input_client_destroy(c);
}

Test(input, hostile_packets_are_rejected)
{
    netcore_input_client *c = make_client(32, 1200);
    uint8_t in[SIZE], buf[1200], out[NETCORE_INPUT_MAX_REDUNDANCY * SIZE];
    netcore_input_packet p;
    for (uint32_t t = 1; t <= 12; t++) {
        make_input(t / 3, in);
        netcore_input_client_add(c, t, in);
    }
    size_t n = write_packet(c, buf, sizeof buf);
    for (size_t len = 0; len < n; len++)
        cr_assert_eq(netcore_input_decode(buf, len, SIZE, out, sizeof out, &p),
                     NETCORE_ERR_MALFORMED, "truncated to %zu", len);
    buf[n] = 0;
    cr_assert_eq(netcore_input_decode(buf, n + 1, SIZE, out, sizeof out, &p),
                 NETCORE_ERR_MALFORMED);
    uint8_t bad[1200];
    memcpy(bad, buf, n);
    bad[0] = 2; /* version */
    cr_assert_eq(netcore_input_decode(bad, n, SIZE, out, sizeof out, &p), NETCORE_ERR_MALFORMED);
    memcpy(bad, buf, n);
    bad[1] = NETCORE_INPUT_MAX_ACK_BYTES + 1;
    cr_assert_eq(netcore_input_decode(bad, n, SIZE, out, sizeof out, &p), NETCORE_ERR_MALFORMED);
    size_t count_at = 2 + 3 + 4;
    memcpy(bad, buf, n);
    bad[count_at] = 0;
    cr_assert_eq(netcore_input_decode(bad, n, SIZE, out, sizeof out, &p), NETCORE_ERR_MALFORMED);
    bad[count_at] = NETCORE_INPUT_MAX_REDUNDANCY + 1;
    cr_assert_eq(netcore_input_decode(bad, n, SIZE, out, sizeof out, &p), NETCORE_ERR_MALFORMED);
    memcpy(bad, buf, n);
    bad[count_at + 1] |= 1; /* the first input cannot be a repeat */
    cr_assert_eq(netcore_input_decode(bad, n, SIZE, out, sizeof out, &p), NETCORE_ERR_MALFORMED);
    memcpy(bad, buf, n);
    bad[count_at + 2] |= 0x80; /* mask bit beyond the count (12 inputs) */
    cr_assert_eq(netcore_input_decode(bad, n, SIZE, out, sizeof out, &p), NETCORE_ERR_MALFORMED);
    cr_assert_eq(netcore_input_decode(buf, n, SIZE, out, 5 * SIZE, &p), NETCORE_ERR_TOO_LARGE);
    cr_assert_eq(netcore_input_decode(buf, n, 0, out, sizeof out, &p),
                 NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_input_decode(NULL, 3, SIZE, out, sizeof out, &p),
                 NETCORE_ERR_INVALID_ARGUMENT);

    netcore_input_server *s = make_server();
    cr_assert_eq(netcore_input_server_read(s, 0, bad, n, NULL, NULL), NETCORE_ERR_MALFORMED);
    cr_assert_eq(netcore_input_server_read(s, 2, buf, n, NULL, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_input_server_stats st;
    cr_assert_eq(netcore_input_server_get_client_stats(s, 0, &st), NETCORE_OK);
    cr_assert_eq(st.packets_rejected, 1u);
    cr_assert_eq(st.inputs_received, 0u);
    netcore_input_server_destroy(s);
    netcore_input_client_destroy(c);
}

Test(input, server_tolerates_loss_lateness_and_duplicates)
{
    netcore_input_client *c = make_client(4, 1200);
    netcore_input_server *s = make_server();
    uint8_t in[SIZE], got[SIZE];
    uint32_t tick;
    cr_assert_eq(netcore_input_server_last_tick(s, 0, &tick), NETCORE_ERR_NOT_FOUND);
    netcore_input_source src;
    cr_assert_eq(netcore_input_server_take(s, 0, 1, got, &src), NETCORE_OK);
    cr_assert_eq(src, NETCORE_INPUT_EMPTY);
    cr_assert_eq(got[0], 0);

    size_t packets[12];
    uint8_t store[12][1200];
    for (uint32_t t = 2; t <= 13; t++) {
        make_input(t, in);
        netcore_input_client_add(c, t, in);
        packets[t - 2] = write_packet(c, store[t - 2], sizeof store[t - 2]);
    }
    /* Packets for ticks 2..5 are lost; the one for 6 carries 3..6 (redundancy 4). */
    const uint8_t *ack = NULL;
    size_t ack_size = 0;
    cr_assert_eq(netcore_input_server_read(s, 0, store[4], packets[4], &ack, &ack_size),
                 NETCORE_OK);
    cr_assert_eq(ack_size, 3u);
    cr_assert_eq(ack[0], 0xA1);
    cr_assert_eq(netcore_input_server_take(s, 0, 2, got, &src), NETCORE_OK);
    cr_assert_eq(src, NETCORE_INPUT_EMPTY, "tick 2 was lost for good");
    for (uint32_t t = 3; t <= 6; t++) {
        cr_assert_eq(netcore_input_server_take(s, 0, t, got, &src), NETCORE_OK);
        cr_assert_eq(src, NETCORE_INPUT_RECEIVED);
        make_input(t, in);
        cr_assert_arr_eq(got, in, SIZE);
    }
    /* Tick 7 is missing: the previous input repeats. */
    cr_assert_eq(netcore_input_server_take(s, 0, 7, got, &src), NETCORE_OK);
    cr_assert_eq(src, NETCORE_INPUT_REPEATED);
    make_input(6, in);
    cr_assert_arr_eq(got, in, SIZE);
    /* Then it arrives (late), twice (duplicated), with 8 and 9. */
    cr_assert_eq(netcore_input_server_read(s, 0, store[7], packets[7], NULL, NULL), NETCORE_OK);
    cr_assert_eq(netcore_input_server_read(s, 0, store[7], packets[7], NULL, NULL), NETCORE_OK);
    netcore_input_server_stats st;
    netcore_input_server_get_client_stats(s, 0, &st);
    cr_assert_eq(st.inputs_late, 1u);
    cr_assert_eq(st.inputs_received, 4u + 2u);
    cr_assert_geq(st.inputs_redundant, 4u);
    cr_assert_eq(st.ticks_repeated, 1u);
    cr_assert_eq(st.ticks_empty, 2u);
    cr_assert_eq(netcore_input_server_take(s, 0, 8, got, &src), NETCORE_OK);
    cr_assert_eq(src, NETCORE_INPUT_RECEIVED);
    cr_assert_eq(netcore_input_server_take(s, 0, 8, got, &src), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_input_server_last_tick(s, 0, &tick), NETCORE_OK);
    cr_assert_eq(tick, 8u);
    netcore_input_server_destroy(s);
    netcore_input_client_destroy(c);
}

Test(input, inputs_too_far_ahead_are_dropped)
{
    netcore_input_client *c = make_client(4, 1200);
    netcore_input_server *s = make_server();
    uint8_t in[SIZE], got[SIZE], buf[1200];
    cr_assert_eq(netcore_input_server_take(s, 1, 10, got, NULL), NETCORE_OK);
    make_input(100, in);
    netcore_input_client_add(c, 100, in); /* buffer_ticks is 16 */
    size_t n = write_packet(c, buf, sizeof buf);
    cr_assert_eq(netcore_input_server_read(s, 1, buf, n, NULL, NULL), NETCORE_OK);
    netcore_input_server_stats st;
    netcore_input_server_get_client_stats(s, 1, &st);
    cr_assert_eq(st.inputs_too_far, 1u);
    cr_assert_eq(st.inputs_received, 0u);
    cr_assert_eq(netcore_input_server_client_reset(s, 1), NETCORE_OK);
    netcore_input_server_get_client_stats(s, 1, &st);
    cr_assert_eq(st.inputs_too_far, 0u);
    cr_assert_eq(netcore_input_server_client_reset(s, 5), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_input_server_destroy(s);
    netcore_input_client_destroy(c);
}

Test(input, config_is_checked)
{
    netcore_input_client_config cc;
    netcore_input_client_config_default(&cc);
    netcore_input_client *c = NULL;
    cc.input_size_bytes = 0;
    cr_assert_eq(netcore_input_client_create(&cc, &c), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_input_client_config_default(&cc);
    cc.max_redundancy = NETCORE_INPUT_MAX_REDUNDANCY + 1;
    cr_assert_eq(netcore_input_client_create(&cc, &c), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_input_client_config_default(&cc);
    cc.mtu_bytes = 4;
    cr_assert_eq(netcore_input_client_create(&cc, &c), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_input_server_config sc;
    netcore_input_server_config_default(&sc);
    netcore_input_server *s = NULL;
    sc.buffer_ticks = 1;
    cr_assert_eq(netcore_input_server_create(&sc, &s), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_input_server_config_default(&sc);
    sc.max_clients = 0;
    cr_assert_eq(netcore_input_server_create(&sc, &s), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_input_client_destroy(NULL);
    netcore_input_server_destroy(NULL);
}
