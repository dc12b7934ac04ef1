/* Unit tests of bit packing: wire layout, round trips over every width and
 * edge value, seeded mixed sequences, exact bounds and sticky failure, varint
 * rejection, quantization bounds, angles, unit vectors, quaternions and
 * sequence numbers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/core_internal.h"
#include "netcore/bitpack.h"

/* Asserts only on failure: cheap inside loops of millions of checks. */
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            cr_assert(cond, __VA_ARGS__);                                                          \
        }                                                                                          \
    } while (0)

static uint32_t mask32(unsigned bits)
{
    return bits == 0 ? 0 : (uint32_t)((UINT64_C(1) << bits) - 1);
}

static uint64_t mask64(unsigned bits)
{
    return bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static uint32_t float_bits(float value)
{
    uint32_t pattern;
    memcpy(&pattern, &value, sizeof(pattern));
    return pattern;
}

/* Edge values of a width: 0, 1, max, max - 1, the top bit, alternating bits. */
static size_t edge_values(unsigned bits, uint64_t out[8])
{
    uint64_t max = mask64(bits);
    uint64_t top = UINT64_C(1) << (bits - 1);
    uint64_t candidates[8] = {0,
                              1,
                              max,
                              max - 1,
                              top,
                              top - 1,
                              UINT64_C(0x5555555555555555) & max,
                              UINT64_C(0xaaaaaaaaaaaaaaaa) & max};
    memcpy(out, candidates, sizeof(candidates));
    return 8;
}

/* ------------------------------------------------------------------ */
/* Wire layout                                                         */
/* ------------------------------------------------------------------ */

Test(bitpack_layout, little_endian_bit_order)
{
    uint8_t buffer[8];
    memset(buffer, 0xee, sizeof(buffer));
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_bits(&w, 1, 1);
    netcore_bit_write_bits(&w, 2, 2);
    netcore_bit_write_bits(&w, 0xa, 5);         /* byte 0 = 0b01010101 */
    netcore_bit_write_bits(&w, 0x12345678, 32); /* bytes 1..4, lowest byte first */
    netcore_bit_write_bits(&w, 0x5, 4);
    cr_assert_eq(netcore_bit_writer_flush(&w), 6);
    const uint8_t expected[6] = {0x55, 0x78, 0x56, 0x34, 0x12, 0x05};
    cr_assert_arr_eq(buffer, expected, sizeof(expected));
    cr_assert_eq(buffer[6], 0xee, "flush wrote past the message");

    /* A 32-bit value across a byte boundary. */
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_bits(&w, 0xa, 4);
    netcore_bit_write_bits(&w, 0x12345678, 32);
    cr_assert_eq(netcore_bit_writer_flush(&w), 5);
    const uint8_t shifted[5] = {0x8a, 0x67, 0x45, 0x23, 0x01};
    cr_assert_arr_eq(buffer, shifted, sizeof(shifted));

    /* Floats travel as their IEEE-754 pattern. */
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_float(&w, 1.0f);
    cr_assert_eq(netcore_bit_writer_flush(&w), 4);
    const uint8_t one[4] = {0x00, 0x00, 0x80, 0x3f};
    cr_assert_arr_eq(buffer, one, sizeof(one));
}

Test(bitpack_layout, flush_is_repeatable_and_writing_continues)
{
    uint8_t buffer[16];
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_bits(&w, 0x3, 2);
    cr_assert_eq(netcore_bit_writer_flush(&w), 1);
    cr_assert_eq(netcore_bit_writer_flush(&w), 1);
    cr_assert_eq(buffer[0], 0x03);
    for (int i = 0; i < 20; i++) {
        netcore_bit_write_bits(&w, (uint32_t)i, 5);
    }
    size_t size = netcore_bit_writer_flush(&w);
    cr_assert_eq(size, (2 + 20 * 5 + 7) / 8);
    cr_assert_eq(netcore_bit_writer_bits_written(&w), 102);
    cr_assert_eq(netcore_bit_writer_bytes_written(&w), size);
    cr_assert_eq(netcore_bit_writer_bits_remaining(&w), 128 - 102);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buffer, size);
    cr_assert_eq(netcore_bit_read_bits(&r, 2), 0x3);
    for (uint32_t i = 0; i < 20; i++) {
        cr_assert_eq(netcore_bit_read_bits(&r, 5), i);
    }
    cr_assert_eq(netcore_bit_reader_bits_read(&r), 102);
    cr_assert_eq(netcore_bit_reader_bytes_read(&r), 13);
    cr_assert_not(netcore_bit_reader_failed(&r));
}

/* ------------------------------------------------------------------ */
/* Round trips: raw bits, u64, bool, bytes                             */
/* ------------------------------------------------------------------ */

Test(bitpack_bits, every_width_and_edge_value_at_every_offset)
{
    uint8_t buffer[8 * 8 + 1];
    for (unsigned offset = 0; offset < 8; offset++) {
        for (unsigned bits = 1; bits <= 64; bits++) {
            uint64_t values[8];
            size_t count = edge_values(bits, values);
            netcore_bit_writer w;
            netcore_bit_writer_init(&w, buffer, sizeof(buffer));
            netcore_bit_write_bits(&w, 0x7f, offset);
            for (size_t i = 0; i < count; i++) {
                if (bits <= 32) {
                    /* Bits above the width are ignored. */
                    netcore_bit_write_bits(&w, (uint32_t)values[i] | ~mask32(bits), bits);
                } else {
                    netcore_bit_write_u64(&w, values[i], bits);
                }
            }
            cr_assert_eq(netcore_bit_writer_bits_written(&w), offset + count * bits);
            size_t size = netcore_bit_writer_flush(&w);
            netcore_bit_reader r;
            netcore_bit_reader_init(&r, buffer, size);
            cr_assert_eq(netcore_bit_read_bits(&r, offset), 0x7f & mask32(offset));
            for (size_t i = 0; i < count; i++) {
                uint64_t got =
                    bits <= 32 ? netcore_bit_read_bits(&r, bits) : netcore_bit_read_u64(&r, bits);
                cr_assert_eq(got, values[i], "offset %u bits %u value %zu", offset, bits, i);
            }
            cr_assert_not(netcore_bit_reader_failed(&r));
            cr_assert_lt(netcore_bit_reader_bits_remaining(&r), 8);
        }
    }
}

Test(bitpack_bits, u64_widths_and_bools)
{
    uint8_t buffer[1024];
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    for (unsigned bits = 0; bits <= 64; bits++) {
        netcore_bit_write_u64(&w, UINT64_MAX, bits);
        netcore_bit_write_bool(&w, bits % 3 == 0);
    }
    size_t size = netcore_bit_writer_flush(&w);
    cr_assert_eq(size, (64 * 65 / 2 + 65 + 7) / 8);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buffer, size);
    for (unsigned bits = 0; bits <= 64; bits++) {
        cr_assert_eq(netcore_bit_read_u64(&r, bits), mask64(bits) * (bits > 0), "bits %u", bits);
        cr_assert_eq(netcore_bit_read_bool(&r), bits % 3 == 0);
    }
    cr_assert_not(netcore_bit_reader_failed(&r));
}

Test(bitpack_bits, bytes_aligned_and_unaligned)
{
    uint8_t source[64];
    for (size_t i = 0; i < sizeof(source); i++) {
        source[i] = (uint8_t)(i * 37 + 11);
    }
    for (unsigned offset = 0; offset < 8; offset++) {
        for (size_t length = 0; length <= 40; length++) {
            uint8_t buffer[128];
            netcore_bit_writer w;
            netcore_bit_writer_init(&w, buffer, sizeof(buffer));
            netcore_bit_write_bits(&w, 0x55, offset);
            netcore_bit_write_bytes(&w, source, length);
            netcore_bit_write_bits(&w, 0x2d, 7);
            netcore_bit_write_bytes(&w, source + 3, length / 2);
            size_t size = netcore_bit_writer_flush(&w);
            cr_assert_eq(size, (offset + 8 * length + 7 + 8 * (length / 2) + 7) / 8);
            netcore_bit_reader r;
            netcore_bit_reader_init(&r, buffer, size);
            uint8_t out[64];
            cr_assert_eq(netcore_bit_read_bits(&r, offset), 0x55 & mask32(offset));
            netcore_bit_read_bytes(&r, out, length);
            cr_assert(length == 0 || memcmp(out, source, length) == 0, "offset %u length %zu",
                      offset, length);
            cr_assert_eq(netcore_bit_read_bits(&r, 7), 0x2d);
            netcore_bit_read_bytes(&r, out, length / 2);
            cr_assert(length < 2 || memcmp(out, source + 3, length / 2) == 0);
            cr_assert_not(netcore_bit_reader_failed(&r));
        }
    }
}

Test(bitpack_bits, align_pads_with_zeros_and_reader_checks_them)
{
    uint8_t buffer[4];
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_writer_align(&w);
    cr_assert_eq(netcore_bit_writer_bits_written(&w), 0);
    netcore_bit_write_bits(&w, 0x7, 3);
    netcore_bit_writer_align(&w);
    cr_assert_eq(netcore_bit_writer_bits_written(&w), 8);
    netcore_bit_write_bits(&w, 0xab, 8);
    cr_assert_eq(netcore_bit_writer_flush(&w), 2);
    cr_assert_eq(buffer[0], 0x07);

    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buffer, 2);
    cr_assert_eq(netcore_bit_read_bits(&r, 3), 0x7);
    netcore_bit_reader_align(&r);
    cr_assert_eq(netcore_bit_reader_bits_read(&r), 8);
    cr_assert_eq(netcore_bit_read_bits(&r, 8), 0xab);
    cr_assert_not(netcore_bit_reader_failed(&r));

    const uint8_t dirty[1] = {0x17}; /* padding bit 4 set */
    netcore_bit_reader_init(&r, dirty, 1);
    cr_assert_eq(netcore_bit_read_bits(&r, 3), 0x7);
    netcore_bit_reader_align(&r);
    cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_MALFORMED);
}

/* ------------------------------------------------------------------ */
/* Bounds and sticky failure                                           */
/* ------------------------------------------------------------------ */

Test(bitpack_bounds, writer_exactly_full_then_one_bit_over)
{
    for (size_t capacity = 0; capacity <= 12; capacity++) {
        for (unsigned chunk = 1; chunk <= 32; chunk++) {
            uint8_t buffer[16 + 4];
            memset(buffer, 0xcc, sizeof(buffer));
            netcore_bit_writer w;
            netcore_bit_writer_init(&w, buffer, capacity);
            size_t total = capacity * 8;
            size_t written = 0;
            while (total - written >= chunk) {
                netcore_bit_write_bits(&w, UINT32_MAX, chunk);
                written += chunk;
            }
            netcore_bit_write_bits(&w, UINT32_MAX, (unsigned)(total - written));
            cr_assert_not(netcore_bit_writer_failed(&w), "capacity %zu chunk %u", capacity, chunk);
            cr_assert_eq(netcore_bit_writer_bits_remaining(&w), 0);
            cr_assert_eq(netcore_bit_writer_flush(&w), capacity);

            netcore_bit_write_bits(&w, 1, 1);
            cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_TOO_LARGE);
            cr_assert_eq(netcore_bit_writer_bits_written(&w), total);
            /* Sticky: every later write is a no-op. */
            netcore_bit_write_bits(&w, 1, 0);
            netcore_bit_write_bool(&w, true);
            netcore_bit_write_varint(&w, 1);
            netcore_bit_writer_align(&w);
            cr_assert_eq(netcore_bit_writer_bits_written(&w), total);
            cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_TOO_LARGE);
            cr_assert_eq(netcore_bit_writer_flush(&w), capacity);
            for (size_t i = capacity; i < sizeof(buffer); i++) {
                cr_assert_eq(buffer[i], 0xcc, "byte %zu past capacity %zu written", i, capacity);
            }
        }
    }
}

Test(bitpack_bounds, a_value_that_does_not_fit_is_not_written_at_all)
{
    uint8_t buffer[12];
    uint8_t payload[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    netcore_quant quant;
    cr_assert_eq(netcore_quant_init(&quant, 0.0f, 1.0f, 1e-6f), NETCORE_OK); /* 21 bits */
    netcore_vec3 up = {0.0f, 0.0f, 1.0f};
    netcore_quat identity = {0.0f, 0.0f, 0.0f, 1.0f};
    for (int kind = 0; kind < 8; kind++) {
        for (size_t room = 0; room < 80; room++) {
            netcore_bit_writer w;
            netcore_bit_writer_init(&w, buffer, sizeof(buffer));
            size_t used = 96 - room;
            for (size_t i = 0; i < used; i++) {
                netcore_bit_write_bool(&w, true);
            }
            size_t needed = 0;
            switch (kind) {
            case 0:
                netcore_bit_write_u64(&w, UINT64_MAX, 64);
                needed = 64;
                break;
            case 1:
                netcore_bit_write_bytes(&w, payload, 8);
                needed = 64;
                break;
            case 2:
                netcore_bit_write_varint(&w, UINT64_MAX);
                needed = 80;
                break;
            case 3:
                netcore_bit_write_quat(&w, &identity, 20);
                needed = 62;
                break;
            case 4:
                netcore_bit_write_unit_vec(&w, &up, 24);
                needed = 48;
                break;
            case 5:
                netcore_bit_write_quant(&w, &quant, 0.5f);
                needed = 21;
                break;
            case 6:
                netcore_bit_write_angle(&w, 1.0f, 32);
                needed = 32;
                break;
            default:
                netcore_bit_write_int_range(&w, 5, INT32_MIN, INT32_MAX);
                needed = 32;
                break;
            }
            bool fits = needed <= room;
            cr_assert_eq(netcore_bit_writer_failed(&w), !fits, "kind %d room %zu", kind, room);
            cr_assert_eq(netcore_bit_writer_bits_written(&w), used + (fits ? needed : 0));
        }
    }
}

Test(bitpack_bounds, reader_exactly_at_end_then_one_bit_over)
{
    for (size_t size = 0; size <= 12; size++) {
        for (unsigned chunk = 1; chunk <= 32; chunk++) {
            /* Exact-size heap block: a read past it is an AddressSanitizer report. */
            uint8_t *data = malloc(size > 0 ? size : 1);
            cr_assert_not_null(data);
            memset(data, 0xff, size);
            netcore_bit_reader r;
            netcore_bit_reader_init(&r, data, size);
            size_t total = size * 8;
            size_t read = 0;
            while (total - read >= chunk) {
                cr_assert_eq(netcore_bit_read_bits(&r, chunk), mask32(chunk));
                read += chunk;
            }
            cr_assert_eq(netcore_bit_read_bits(&r, (unsigned)(total - read)),
                         mask32((unsigned)(total - read)));
            cr_assert_not(netcore_bit_reader_failed(&r));
            cr_assert_eq(netcore_bit_reader_bits_remaining(&r), 0);
            netcore_bit_reader_align(&r);
            cr_assert_not(netcore_bit_reader_failed(&r));

            cr_assert_eq(netcore_bit_read_bits(&r, 1), 0);
            cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_MALFORMED);
            cr_assert_eq(netcore_bit_reader_bits_read(&r), total);
            cr_assert_eq(netcore_bit_read_bits(&r, 0), 0);
            cr_assert_not(netcore_bit_read_bool(&r));
            cr_assert_eq(netcore_bit_read_varint(&r), 0);
            cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_MALFORMED);
            free(data);
        }
    }
}

Test(bitpack_bounds, failed_reader_returns_zeros_and_type_defaults)
{
    const uint8_t data[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, data, sizeof(data));
    (void)netcore_bit_read_bits(&r, 33); /* invalid count fails the reader */
    cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_quant quant;
    cr_assert_eq(netcore_quant_init(&quant, -5.0f, 5.0f, 0.1f), NETCORE_OK);
    cr_assert_eq(netcore_bit_read_bits(&r, 8), 0);
    cr_assert_eq(netcore_bit_read_u64(&r, 64), 0);
    cr_assert_eq(float_bits(netcore_bit_read_float(&r)), 0);
    cr_assert_eq(netcore_bit_read_int_range(&r, -7, 9), -7);
    cr_assert_eq(netcore_bit_read_varint_signed(&r), 0);
    cr_assert_eq(netcore_bit_read_quant(&r, &quant), -5.0f);
    cr_assert_eq(netcore_bit_read_angle(&r, 10), 0.0f);
    netcore_vec3 v = netcore_bit_read_unit_vec(&r, 10);
    cr_assert(v.x == 0.0f && v.y == 0.0f && v.z == 1.0f);
    netcore_quat q = netcore_bit_read_quat(&r, 10);
    cr_assert(q.x == 0.0f && q.y == 0.0f && q.z == 0.0f && q.w == 1.0f);
    uint8_t out[4] = {9, 9, 9, 9};
    netcore_bit_read_bytes(&r, out, sizeof(out));
    cr_assert(out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == 0);
    cr_assert_eq(netcore_bit_reader_bits_read(&r), 0);
    cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_INVALID_ARGUMENT);
}

Test(bitpack_bounds, empty_and_null_buffers)
{
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, NULL, 0);
    cr_assert_not(netcore_bit_writer_failed(&w));
    cr_assert_eq(netcore_bit_writer_flush(&w), 0);
    netcore_bit_write_bool(&w, false);
    cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_TOO_LARGE);
    netcore_bit_writer_init(&w, NULL, 4);
    cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_bit_writer_bits_remaining(&w), 0);

    uint8_t buffer[4];
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_bits(&w, 1, 33);
    cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_bytes(&w, NULL, 1);
    cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_INVALID_ARGUMENT);

    netcore_bit_reader r;
    netcore_bit_reader_init(&r, NULL, 0);
    cr_assert_eq(netcore_bit_read_bits(&r, 0), 0);
    cr_assert_not(netcore_bit_reader_failed(&r));
    cr_assert_eq(netcore_bit_read_bits(&r, 1), 0);
    cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_MALFORMED);
    netcore_bit_reader_init(&r, NULL, 3);
    cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_bit_reader_bits_remaining(&r), 0);
}

/* ------------------------------------------------------------------ */
/* Integers: ranges, varints, zigzag                                   */
/* ------------------------------------------------------------------ */

Test(bitpack_int, bits_required)
{
    cr_assert_eq(netcore_bits_required(0), 0);
    cr_assert_eq(netcore_bits_required(1), 1);
    for (unsigned bits = 1; bits <= 32; bits++) {
        cr_assert_eq(netcore_bits_required(mask32(bits)), bits);
        cr_assert_eq(netcore_bits_required((uint32_t)(UINT64_C(1) << (bits - 1))), bits);
    }
    cr_assert_eq(netcore_int_range_bits(5, 5), 0);
    cr_assert_eq(netcore_int_range_bits(-1, 0), 1);
    cr_assert_eq(netcore_int_range_bits(-100, 100), 8);
    cr_assert_eq(netcore_int_range_bits(INT32_MIN, INT32_MAX), 32);
    cr_assert_eq(netcore_int_range_bits(1, 0), 0);
}

Test(bitpack_int, ranges_round_trip_edges_and_clamp)
{
    static const int32_t ranges[][2] = {
        {0, 0},
        {0, 1},
        {-1, 0},
        {-100, 100},
        {0, 4},
        {-3, 1000},
        {7, 7 + 255},
        {INT32_MIN, INT32_MAX},
        {INT32_MIN, INT32_MIN + 1},
        {INT32_MAX - 2, INT32_MAX},
        {-65536, 65535},
    };
    uint8_t buffer[256];
    for (size_t k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
        int32_t min = ranges[k][0], max = ranges[k][1];
        int64_t probes[] = {min,
                            max,
                            (int64_t)min + 1,
                            (int64_t)max - 1,
                            0,
                            (int64_t)min - 1,
                            (int64_t)max + 1,
                            INT32_MIN,
                            INT32_MAX};
        size_t count = sizeof(probes) / sizeof(probes[0]);
        netcore_bit_writer w;
        netcore_bit_writer_init(&w, buffer, sizeof(buffer));
        for (size_t i = 0; i < count; i++) {
            if (probes[i] < INT32_MIN || probes[i] > INT32_MAX) {
                probes[i] = probes[i] < INT32_MIN ? INT32_MIN : INT32_MAX;
            }
            netcore_bit_write_int_range(&w, (int32_t)probes[i], min, max);
        }
        cr_assert_eq(netcore_bit_writer_bits_written(&w), count * netcore_int_range_bits(min, max));
        size_t size = netcore_bit_writer_flush(&w);
        netcore_bit_reader r;
        netcore_bit_reader_init(&r, buffer, size);
        for (size_t i = 0; i < count; i++) {
            int64_t expected = probes[i] < min ? min : (probes[i] > max ? max : probes[i]);
            cr_assert_eq(netcore_bit_read_int_range(&r, min, max), expected, "range %zu probe %zu",
                         k, i);
        }
        cr_assert_not(netcore_bit_reader_failed(&r));
    }
}

Test(bitpack_int, range_reader_rejects_codes_above_max)
{
    for (uint32_t code = 0; code < 8; code++) {
        uint8_t data[1] = {(uint8_t)code};
        netcore_bit_reader r;
        netcore_bit_reader_init(&r, data, 1);
        int32_t v = netcore_bit_read_int_range(&r, -2, 2); /* 5 values in 3 bits */
        if (code <= 4) {
            cr_assert_eq(v, (int32_t)code - 2);
            cr_assert_not(netcore_bit_reader_failed(&r));
        } else {
            cr_assert_eq(v, -2);
            cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_MALFORMED);
        }
    }
}

Test(bitpack_varint, boundaries_round_trip_with_documented_sizes)
{
    uint8_t buffer[4096];
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_bits(&w, 1, 3); /* varints need not be aligned */
    uint64_t values[200];
    size_t count = 0;
    for (unsigned bits = 0; bits <= 64; bits++) {
        uint64_t edge = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits);
        values[count++] = edge;
        values[count++] = edge - 1;
        values[count++] = edge + (bits < 64);
    }
    for (size_t i = 0; i < count; i++) {
        size_t before = netcore_bit_writer_bits_written(&w);
        netcore_bit_write_varint(&w, values[i]);
        unsigned expected_bits = 8;
        for (uint64_t v = values[i]; v > 0x7f; v >>= 7) {
            expected_bits += 8;
        }
        cr_assert_eq(netcore_varint_bits(values[i]), expected_bits);
        cr_assert_eq(netcore_bit_writer_bits_written(&w) - before, expected_bits);
    }
    cr_assert_eq(netcore_varint_bits(0), 8);
    cr_assert_eq(netcore_varint_bits(127), 8);
    cr_assert_eq(netcore_varint_bits(128), 16);
    cr_assert_eq(netcore_varint_bits(UINT64_MAX), 8 * NETCORE_VARINT_MAX_BYTES);
    size_t size = netcore_bit_writer_flush(&w);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buffer, size);
    cr_assert_eq(netcore_bit_read_bits(&r, 3), 1);
    for (size_t i = 0; i < count; i++) {
        cr_assert_eq(netcore_bit_read_varint(&r), values[i], "value %zu", i);
    }
    cr_assert_not(netcore_bit_reader_failed(&r));
}

static bool decode_varint_bytes(const uint8_t *bytes, size_t size, uint64_t *out)
{
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, bytes, size);
    *out = netcore_bit_read_varint(&r);
    return !netcore_bit_reader_failed(&r);
}

Test(bitpack_varint, rejects_overlong_overflowing_and_truncated)
{
    uint64_t v;
    const uint8_t overlong_zero[2] = {0x80, 0x00};
    const uint8_t overlong_one[3] = {0x81, 0x80, 0x00};
    const uint8_t truncated[2] = {0x80, 0x80};
    const uint8_t too_big[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    const uint8_t max[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    const uint8_t eleven[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00};
    cr_assert_not(decode_varint_bytes(overlong_zero, sizeof(overlong_zero), &v));
    cr_assert_not(decode_varint_bytes(overlong_one, sizeof(overlong_one), &v));
    cr_assert_not(decode_varint_bytes(truncated, sizeof(truncated), &v));
    cr_assert_not(decode_varint_bytes(too_big, sizeof(too_big), &v));
    cr_assert_not(decode_varint_bytes(eleven, sizeof(eleven), &v));
    cr_assert(decode_varint_bytes(max, sizeof(max), &v));
    cr_assert_eq(v, UINT64_MAX);

    /* Every 1- and 2-byte input: accepted exactly when it is the canonical
     * encoding of its value. */
    for (uint32_t pair = 0; pair < 65536; pair++) {
        uint8_t bytes[2] = {(uint8_t)pair, (uint8_t)(pair >> 8)};
        bool ok = decode_varint_bytes(bytes, 2, &v);
        bool canonical = (bytes[0] & 0x80) == 0 || (bytes[1] != 0 && (bytes[1] & 0x80) == 0);
        cr_assert_eq(ok, canonical, "bytes %02x %02x", bytes[0], bytes[1]);
        if (ok) {
            uint8_t again[2];
            netcore_bit_writer w;
            netcore_bit_writer_init(&w, again, 2);
            netcore_bit_write_varint(&w, v);
            size_t size = netcore_bit_writer_flush(&w);
            cr_assert(memcmp(again, bytes, size) == 0 && size == ((bytes[0] & 0x80) ? 2u : 1u));
        }
    }
}

Test(bitpack_varint, zigzag_and_signed)
{
    cr_assert_eq(netcore_zigzag_encode(0), 0);
    cr_assert_eq(netcore_zigzag_encode(-1), 1);
    cr_assert_eq(netcore_zigzag_encode(1), 2);
    cr_assert_eq(netcore_zigzag_encode(-2), 3);
    cr_assert_eq(netcore_zigzag_encode(INT64_MAX), UINT64_MAX - 1);
    cr_assert_eq(netcore_zigzag_encode(INT64_MIN), UINT64_MAX);
    const int64_t values[] = {
        0,         1,         -1,        63,        -64,           64,           -65,
        INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1};
    uint8_t buffer[256];
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        cr_assert_eq(netcore_zigzag_decode(netcore_zigzag_encode(values[i])), values[i]);
        netcore_bit_write_varint_signed(&w, values[i]);
    }
    cr_assert_eq(netcore_varint_bits(netcore_zigzag_encode(-64)), 8);
    cr_assert_eq(netcore_varint_bits(netcore_zigzag_encode(64)), 16);
    size_t size = netcore_bit_writer_flush(&w);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buffer, size);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        cr_assert_eq(netcore_bit_read_varint_signed(&r), values[i]);
    }
    cr_assert_not(netcore_bit_reader_failed(&r));
}

/* ------------------------------------------------------------------ */
/* Seeded mixed sequences                                              */
/* ------------------------------------------------------------------ */

typedef struct mixed_op {
    int kind;
    unsigned bits;
    uint64_t u;
    int64_t i;
    float f;
    netcore_vec3 v;
    netcore_quat q;
    uint8_t bytes[12];
    size_t length;
} mixed_op;

static float random_float(nci_rng *rng, double lo, double hi)
{
    return (float)(lo + (hi - lo) * nci_rng_unit(rng));
}

/* Reads one op back; true if it matches what was written (bit for bit). */
static bool read_matches(netcore_bit_reader *r, const netcore_quant *quant, const mixed_op *op)
{
    uint8_t bytes[sizeof(op->bytes)];
    netcore_vec3 v;
    netcore_quat q;
    switch (op->kind) {
    case 0:
        return netcore_bit_read_bits(r, op->bits) == op->u;
    case 1:
        return netcore_bit_read_u64(r, op->bits) == op->u;
    case 2:
        return netcore_bit_read_varint(r) == op->u;
    case 3:
        return netcore_bit_read_varint_signed(r) == op->i;
    case 4:
        netcore_bit_read_bytes(r, bytes, op->length);
        return op->length == 0 || memcmp(bytes, op->bytes, op->length) == 0;
    case 5:
        return float_bits(netcore_bit_read_quant(r, quant)) == float_bits(op->f);
    case 6:
        return float_bits(netcore_bit_read_angle(r, op->bits)) == float_bits(op->f);
    case 7:
        v = netcore_bit_read_unit_vec(r, op->bits);
        return memcmp(&v, &op->v, sizeof(v)) == 0;
    case 8:
        q = netcore_bit_read_quat(r, op->bits);
        return memcmp(&q, &op->q, sizeof(q)) == 0;
    default:
        return netcore_bit_read_bool(r) == (op->u != 0);
    }
}

Test(bitpack_mixed, seeded_random_sequences_read_back_identically)
{
    enum { SEQUENCES = 300, OPS = 120 };
    static mixed_op ops[OPS];
    static uint8_t buffer[OPS * 16];
    netcore_quant quant;
    cr_assert_eq(netcore_quant_init(&quant, -256.0f, 256.0f, 0.002f), NETCORE_OK);
    nci_rng rng;
    nci_rng_seed(&rng, 20261124);
    for (int s = 0; s < SEQUENCES; s++) {
        netcore_bit_writer w;
        netcore_bit_writer_init(&w, buffer, sizeof(buffer));
        for (int k = 0; k < OPS; k++) {
            mixed_op *op = &ops[k];
            op->kind = (int)nci_rng_below(&rng, 10);
            uint64_t raw = nci_rng_next(&rng);
            switch (op->kind) {
            case 0:
                op->bits = nci_rng_below(&rng, 33);
                op->u = raw & mask32(op->bits);
                netcore_bit_write_bits(&w, (uint32_t)raw, op->bits);
                break;
            case 1:
                op->bits = nci_rng_below(&rng, 65);
                op->u = op->bits ? raw & mask64(op->bits) : 0;
                netcore_bit_write_u64(&w, raw, op->bits);
                break;
            case 2:
                op->u = raw >> nci_rng_below(&rng, 64);
                netcore_bit_write_varint(&w, op->u);
                break;
            case 3:
                op->i = (int64_t)(raw >> nci_rng_below(&rng, 64)) * ((raw & 1) ? -1 : 1);
                netcore_bit_write_varint_signed(&w, op->i);
                break;
            case 4:
                op->length = nci_rng_below(&rng, sizeof(op->bytes) + 1);
                for (size_t b = 0; b < op->length; b++) {
                    op->bytes[b] = (uint8_t)nci_rng_next(&rng);
                }
                netcore_bit_write_bytes(&w, op->bytes, op->length);
                break;
            case 5:
                op->f = random_float(&rng, -300.0, 300.0);
                netcore_bit_write_quant(&w, &quant, op->f);
                op->f = netcore_quant_value(&quant, op->f);
                break;
            case 6:
                op->bits = 1 + nci_rng_below(&rng, 32);
                op->f = random_float(&rng, -20.0, 20.0);
                netcore_bit_write_angle(&w, op->f, op->bits);
                op->f = netcore_angle_quantized(op->f, op->bits);
                break;
            case 7:
                op->bits = NETCORE_UNIT_VEC_BITS_MIN + nci_rng_below(&rng, 23);
                op->v.x = random_float(&rng, -1, 1);
                op->v.y = random_float(&rng, -1, 1);
                op->v.z = random_float(&rng, -1, 1);
                netcore_bit_write_unit_vec(&w, &op->v, op->bits);
                op->v = netcore_unit_vec_quantized(&op->v, op->bits);
                break;
            case 8:
                op->bits = NETCORE_QUAT_BITS_MIN + nci_rng_below(&rng, 16);
                op->q.x = random_float(&rng, -1, 1);
                op->q.y = random_float(&rng, -1, 1);
                op->q.z = random_float(&rng, -1, 1);
                op->q.w = random_float(&rng, -1, 1);
                netcore_bit_write_quat(&w, &op->q, op->bits);
                op->q = netcore_quat_quantized(&op->q, op->bits);
                break;
            default:
                op->u = raw & 1;
                netcore_bit_write_bool(&w, op->u != 0);
                break;
            }
        }
        cr_assert_not(netcore_bit_writer_failed(&w));
        size_t size = netcore_bit_writer_flush(&w);
        netcore_bit_reader r;
        netcore_bit_reader_init(&r, buffer, size);
        for (int k = 0; k < OPS; k++) {
            EXPECT(read_matches(&r, &quant, &ops[k]), "sequence %d op %d kind %d", s, k,
                   ops[k].kind);
        }
        cr_assert_not(netcore_bit_reader_failed(&r));
        cr_assert_lt(netcore_bit_reader_bits_remaining(&r), 8);
    }
}

/* ------------------------------------------------------------------ */
/* Sequence numbers                                                    */
/* ------------------------------------------------------------------ */

Test(bitpack_seq, wraparound_properties)
{
    cr_assert(netcore_seq_greater(0, 65535));
    cr_assert_not(netcore_seq_greater(65535, 0));
    cr_assert_eq(netcore_seq_diff(0, 65535), 1);
    cr_assert_eq(netcore_seq_diff(65535, 0), -1);
    cr_assert_eq(netcore_seq_diff(100, 50), 50);
    cr_assert_eq(netcore_seq_diff(32768, 0), -32768);
    cr_assert_eq(netcore_seq_diff(0, 32768), -32768);
    cr_assert_not(netcore_seq_greater(32768, 0));
    cr_assert_not(netcore_seq_greater(0, 32768));
    static const uint16_t steps[] = {0, 1, 2, 100, 32766, 32767, 32768, 32769, 65534, 65535};
    for (uint32_t a = 0; a < 65536; a++) {
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
            uint16_t b = (uint16_t)(a - steps[k]); /* a is steps[k] ahead of b */
            int32_t diff = netcore_seq_diff((uint16_t)a, b);
            int32_t expected = steps[k] < 32768 ? steps[k] : (int32_t)steps[k] - 65536;
            EXPECT(diff == expected, "a %u step %u", a, steps[k]);
            EXPECT((uint16_t)(b + diff) == (uint16_t)a, "a %u step %u", a, steps[k]);
            EXPECT(netcore_seq_greater((uint16_t)a, b) == (diff > 0), "a %u step %u", a, steps[k]);
            if (steps[k] != 0 && steps[k] != 32768) {
                /* Exactly one of the two is newer, except equal or half a cycle apart. */
                EXPECT(netcore_seq_greater((uint16_t)a, b) != netcore_seq_greater(b, (uint16_t)a),
                       "a %u step %u", a, steps[k]);
                EXPECT(netcore_seq_diff(b, (uint16_t)a) == -diff, "a %u step %u", a, steps[k]);
            } else {
                EXPECT(!netcore_seq_greater((uint16_t)a, b), "a %u step %u", a, steps[k]);
            }
        }
    }
}
