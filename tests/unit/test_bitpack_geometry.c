/* Unit tests of the bit packing value codecs: quantized floats (error bound,
 * clamping, idempotence, writer/reader agreement), angles (wrap, error),
 * octahedral unit vectors and "smallest three" quaternions (error bounds,
 * q / -q equivalence, rejection of codes no writer makes). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/core_internal.h"
#include "netcore/bitpack.h"
#include "geometry_error.h"

/* Asserts only on failure: cheap inside loops of millions of checks. */
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            cr_assert(cond, __VA_ARGS__);                                                          \
        }                                                                                          \
    } while (0)

#define TEST_PI 3.14159265358979323846

static uint32_t float_bits(float value)
{
    uint32_t pattern;
    memcpy(&pattern, &value, sizeof(pattern));
    return pattern;
}

static float random_float(nci_rng *rng, double lo, double hi)
{
    return (float)(lo + (hi - lo) * nci_rng_unit(rng));
}

/* ------------------------------------------------------------------ */
/* Invalid arguments                                                   */
/* ------------------------------------------------------------------ */

Test(bitpack_args, invalid_arguments_fail_writers_and_readers)
{
    uint8_t buffer[16] = {0};
    netcore_quant unusable;
    memset(&unusable, 0, sizeof(unusable));
    const netcore_vec3 v = {1, 0, 0};
    const netcore_quat q = {0, 0, 0, 1};
    for (int kind = 0; kind < 8; kind++) {
        netcore_bit_writer w;
        netcore_bit_writer_init(&w, buffer, sizeof(buffer));
        netcore_bit_reader r;
        netcore_bit_reader_init(&r, buffer, sizeof(buffer));
        uint8_t out[2];
        switch (kind) {
        case 0:
            netcore_bit_write_u64(&w, 1, 65);
            (void)netcore_bit_read_u64(&r, 65);
            break;
        case 1:
            netcore_bit_write_int_range(&w, 0, 1, 0);
            cr_assert_eq(netcore_bit_read_int_range(&r, 1, 0), 1);
            break;
        case 2:
            netcore_bit_write_quant(&w, NULL, 1.0f);
            cr_assert_eq(netcore_bit_read_quant(&r, &unusable), 0.0f);
            break;
        case 3:
            netcore_bit_write_angle(&w, 1.0f, 33);
            cr_assert_eq(netcore_bit_read_angle(&r, 0), 0.0f);
            break;
        case 4:
            netcore_bit_write_unit_vec(&w, &v, NETCORE_UNIT_VEC_BITS_MIN - 1);
            cr_assert_eq(netcore_bit_read_unit_vec(&r, NETCORE_UNIT_VEC_BITS_MAX + 1).z, 1.0f);
            break;
        case 5:
            netcore_bit_write_quat(&w, &q, NETCORE_QUAT_BITS_MIN - 1);
            cr_assert_eq(netcore_bit_read_quat(&r, NETCORE_QUAT_BITS_MAX + 1).w, 1.0f);
            break;
        case 6:
            netcore_bit_write_bytes(&w, NULL, 2);
            netcore_bit_read_bytes(&r, NULL, 2);
            break;
        default:
            netcore_bit_write_bits(&w, 1, 33);
            (void)netcore_bit_read_bits(&r, 40);
            netcore_bit_read_bytes(&r, out, sizeof(out)); /* sticky: zero-filled */
            cr_assert(out[0] == 0 && out[1] == 0);
            break;
        }
        cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_INVALID_ARGUMENT, "kind %d", kind);
        cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_INVALID_ARGUMENT, "kind %d", kind);
        cr_assert_eq(netcore_bit_writer_bits_written(&w), 0, "kind %d", kind);
        cr_assert_eq(netcore_bit_reader_bits_read(&r), 0, "kind %d", kind);
    }
    /* Zero or NULL quantizers: nothing to decode. */
    cr_assert_eq(netcore_quant_index(NULL, 1.0f), 0);
    cr_assert_eq(netcore_quant_dequantize(&unusable, 3), 0.0f);
    cr_assert_eq(netcore_quant_value(NULL, 1.0f), 0.0f);
}

/* ------------------------------------------------------------------ */
/* Quantized floats                                                    */
/* ------------------------------------------------------------------ */

Test(bitpack_quant, init_sizes_and_errors)
{
    netcore_quant q;
    cr_assert_eq(netcore_quant_init(&q, -256.0f, 256.0f, 0.002f), NETCORE_OK);
    cr_assert_eq(q.steps, 259967);
    cr_assert_eq(q.bits, 18);
    cr_assert_eq(netcore_quant_init(&q, 0.0f, 1.0f, 2.0f), NETCORE_OK);
    cr_assert_eq(q.steps, 1);
    cr_assert_eq(q.bits, 1);

    cr_assert_eq(netcore_quant_init(NULL, 0.0f, 1.0f, 0.1f), NETCORE_ERR_INVALID_ARGUMENT);
    const float bad[][3] = {
        {1.0f, 1.0f, 0.1f},        {2.0f, 1.0f, 0.1f},
        {0.0f, 1.0f, 0.0f},        {0.0f, 1.0f, -0.1f},
        {NAN, 1.0f, 0.1f},         {0.0f, INFINITY, 0.1f},
        {0.0f, 1.0f, NAN},         {0.0f, 1.0f, INFINITY},
        {0.0f, 1.0f, 1e-8f},       /* finer than floats */
        {1e6f, 1e6f + 1.0f, 0.1f}, /* 5 ulps at 1e6 is 0.3 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        q.bits = 99;
        cr_assert_eq(netcore_quant_init(&q, bad[i][0], bad[i][1], bad[i][2]),
                     NETCORE_ERR_INVALID_ARGUMENT, "case %zu", i);
        cr_assert_eq(q.bits, 0, "case %zu leaves the quantizer unusable", i);
    }
    uint8_t buffer[8];
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_quant(&w, &q, 1.0f);
    cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_INVALID_ARGUMENT);
}

static void check_value(const netcore_quant *q, float value)
{
    uint32_t index = netcore_quant_index(q, value);
    float decoded = netcore_quant_dequantize(q, index);
    EXPECT(index <= q->steps, "index %u above steps", index);
    EXPECT(decoded >= q->min && decoded <= q->max, "decoded %.9g outside", (double)decoded);
    EXPECT(netcore_quant_value(q, value) == decoded, "quant_value differs");
    if (value >= q->min && value <= q->max) {
        double error = fabs((double)decoded - (double)value);
        EXPECT(error <= (double)q->precision / 2, "value %.9g decoded %.9g error %.3g > %.3g",
               (double)value, (double)decoded, error, (double)q->precision / 2);
    }
}

Test(bitpack_quant, every_float_in_small_ranges_within_half_precision)
{
    const float configs[][3] = {
        {1000.0f, 1000.5f, 1e-3f}, {256.0f, 260.0f, 0.01f}, {-1.0f, -0.99f, 1e-6f}};
    for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
        netcore_quant q;
        cr_assert_eq(netcore_quant_init(&q, configs[c][0], configs[c][1], configs[c][2]),
                     NETCORE_OK);
        size_t count = 0;
        for (float v = q.min; v <= q.max; v = nextafterf(v, INFINITY)) {
            check_value(&q, v);
            count++;
        }
        cr_assert_gt(count, 8000);
    }
}

Test(bitpack_quant, grid_points_midpoints_and_random_values)
{
    const float configs[][3] = {{-256.0f, 256.0f, 0.002f},  {0.0f, 1.0f, 0.01f},
                                {-1.0f, 1.0f, 1.0f / 1024}, {0.0f, 100000.0f, 1.0f},
                                {-1e30f, 1e30f, 1e25f},     {-3.0f, 5.0f, 8.0f},
                                {0.0f, 1.0f, 1e-6f},        {-0.001f, 0.001f, 1e-9f}};
    nci_rng rng;
    nci_rng_seed(&rng, 7);
    for (size_t c = 0; c < sizeof(configs) / sizeof(configs[0]); c++) {
        netcore_quant q;
        cr_assert_eq(netcore_quant_init(&q, configs[c][0], configs[c][1], configs[c][2]),
                     NETCORE_OK, "config %zu", c);
        cr_assert_eq(q.bits, netcore_bits_required(q.steps));
        /* Grid points decode to themselves and quantize back to their index;
         * floats next to the midpoint between two grid points are the worst case. */
        uint32_t stride = q.steps > 300000 ? q.steps / 300000 : 1;
        for (uint32_t i = 0; i < q.steps; i += stride) {
            float g0 = netcore_quant_dequantize(&q, i);
            float g1 = netcore_quant_dequantize(&q, i + 1);
            EXPECT(netcore_quant_index(&q, g0) == i, "config %zu index %u", c, i);
            EXPECT(netcore_quant_value(&q, g0) == g0, "config %zu index %u", c, i);
            EXPECT(g0 < g1, "config %zu index %u not increasing", c, i);
            float mid = (float)(((double)g0 + (double)g1) / 2);
            check_value(&q, mid);
            check_value(&q, nextafterf(mid, -INFINITY));
            check_value(&q, nextafterf(mid, INFINITY));
        }
        cr_assert_eq(netcore_quant_dequantize(&q, 0), q.min);
        cr_assert_eq(netcore_quant_dequantize(&q, q.steps), q.max);
        for (int k = 0; k < 100000; k++) {
            check_value(&q, random_float(&rng, q.min, q.max));
        }
        /* Clamping. */
        cr_assert_eq(netcore_quant_value(&q, q.min - 1.0f - fabsf(q.min)), q.min);
        cr_assert_eq(netcore_quant_value(&q, q.max + 1.0f + fabsf(q.max)), q.max);
        cr_assert_eq(netcore_quant_value(&q, -INFINITY), q.min);
        cr_assert_eq(netcore_quant_value(&q, INFINITY), q.max);
        cr_assert_eq(netcore_quant_value(&q, NAN), q.min);
        cr_assert_eq(netcore_quant_value(&q, -FLT_MAX), q.min);
        cr_assert_eq(netcore_quant_value(&q, FLT_MAX), q.max);
    }
}

Test(bitpack_quant, writer_and_reader_agree_bit_for_bit)
{
    netcore_quant q;
    cr_assert_eq(netcore_quant_init(&q, -50.0f, 70.0f, 0.01f), NETCORE_OK);
    enum { COUNT = 2000 };
    static float expected[COUNT];
    static uint8_t buffer[COUNT * 4];
    nci_rng rng;
    nci_rng_seed(&rng, 11);
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_bits(&w, 0, 5);
    for (int i = 0; i < COUNT; i++) {
        float v = random_float(&rng, -60.0, 80.0);
        netcore_bit_write_quant(&w, &q, v);
        expected[i] = netcore_quant_value(&q, v);
    }
    cr_assert_eq(netcore_bit_writer_bits_written(&w), 5 + (size_t)COUNT * q.bits);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buffer, netcore_bit_writer_flush(&w));
    cr_assert_eq(netcore_bit_read_bits(&r, 5), 0);
    for (int i = 0; i < COUNT; i++) {
        float got = netcore_bit_read_quant(&r, &q);
        EXPECT(float_bits(got) == float_bits(expected[i]), "value %d", i);
    }
    cr_assert_not(netcore_bit_reader_failed(&r));
}

Test(bitpack_quant, reader_rejects_index_above_steps)
{
    netcore_quant q;
    cr_assert_eq(netcore_quant_init(&q, 0.0f, 1.0f, 0.01f), NETCORE_OK);
    cr_assert_eq(q.bits, 7);
    for (uint32_t code = 0; code < 128; code++) {
        uint8_t data[1] = {(uint8_t)code};
        netcore_bit_reader r;
        netcore_bit_reader_init(&r, data, 1);
        float v = netcore_bit_read_quant(&r, &q);
        cr_assert_eq(netcore_bit_reader_failed(&r), code > q.steps, "code %u", code);
        if (code > q.steps) {
            cr_assert_eq(v, q.min);
            cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_MALFORMED);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Angles                                                              */
/* ------------------------------------------------------------------ */

static double circular_distance(double a, double b)
{
    return fabs(remainder(a - b, 2.0 * TEST_PI));
}

Test(bitpack_angle, error_bound_range_and_agreement_for_every_width)
{
    nci_rng rng;
    nci_rng_seed(&rng, 3);
    const float specials[] = {0.0f,
                              -0.0f,
                              (float)TEST_PI,
                              (float)-TEST_PI,
                              (float)(2 * TEST_PI),
                              (float)(-2 * TEST_PI),
                              1e-30f,
                              -1e-30f,
                              12345.678f,
                              -99999.0f,
                              (float)(TEST_PI / 2),
                              (float)(3 * TEST_PI / 2)};
    static uint8_t buffer[4096];
    for (unsigned bits = 1; bits <= 32; bits++) {
        double bound = TEST_PI / ldexp(1.0, (int)bits) + ldexp(1.0, -22);
        enum { COUNT = 800 };
        float inputs[COUNT];
        for (int i = 0; i < COUNT; i++) {
            inputs[i] = i < (int)(sizeof(specials) / sizeof(specials[0]))
                            ? specials[i]
                            : random_float(&rng, -100.0, 100.0);
        }
        netcore_bit_writer w;
        netcore_bit_writer_init(&w, buffer, sizeof(buffer));
        for (int i = 0; i < COUNT; i++) {
            float a = netcore_angle_quantized(inputs[i], bits);
            EXPECT(circular_distance(a, inputs[i]) <= bound, "bits %u input %.9g got %.9g", bits,
                   (double)inputs[i], (double)a);
            EXPECT(a >= (float)-TEST_PI && a <= (float)TEST_PI, "bits %u out of range", bits);
            netcore_bit_write_angle(&w, inputs[i], bits);
        }
        cr_assert_eq(netcore_bit_writer_bits_written(&w), (size_t)COUNT * bits);
        netcore_bit_reader r;
        netcore_bit_reader_init(&r, buffer, netcore_bit_writer_flush(&w));
        for (int i = 0; i < COUNT; i++) {
            float a = netcore_bit_read_angle(&r, bits);
            EXPECT(float_bits(a) == float_bits(netcore_angle_quantized(inputs[i], bits)),
                   "bits %u input %d", bits, i);
        }
        cr_assert_not(netcore_bit_reader_failed(&r));
    }
}

Test(bitpack_angle, wraps_and_every_code_is_a_fixed_point)
{
    /* A half turn decodes as -pi; 3pi/2 wraps to -pi/2; whole turns vanish. */
    cr_assert_eq(netcore_angle_quantized((float)TEST_PI, 8), (float)-TEST_PI);
    cr_assert_float_eq(netcore_angle_quantized((float)(3 * TEST_PI / 2), 8), (float)(-TEST_PI / 2),
                       1e-6);
    cr_assert_eq(netcore_angle_quantized((float)(2 * TEST_PI), 16), 0.0f);
    cr_assert_eq(netcore_angle_quantized((float)(-4 * TEST_PI), 16), 0.0f);
    cr_assert_eq(netcore_angle_quantized(NAN, 16), 0.0f);
    cr_assert_eq(netcore_angle_quantized(INFINITY, 16), 0.0f);
    cr_assert_eq(netcore_angle_quantized(1.0f, 0), 0.0f);
    cr_assert_eq(netcore_angle_quantized(1.0f, 33), 0.0f);
    /* 1 bit: two directions, 0 and -pi. */
    cr_assert_eq(netcore_angle_quantized(0.4f, 1), 0.0f);
    cr_assert_eq(netcore_angle_quantized(2.0f, 1), (float)-TEST_PI);

    for (unsigned bits = 1; bits <= 14; bits++) {
        double step = 2.0 * TEST_PI / ldexp(1.0, (int)bits);
        for (uint32_t code = 0; code < (1u << bits); code++) {
            uint8_t data[2] = {(uint8_t)code, (uint8_t)(code >> 8)};
            netcore_bit_reader r;
            netcore_bit_reader_init(&r, data, 2);
            float a = netcore_bit_read_angle(&r, bits);
            EXPECT(netcore_angle_quantized(a, bits) == a, "bits %u code %u", bits, code);
            /* Adding whole turns lands on the same code. */
            float turned = (float)((double)a + 2.0 * TEST_PI);
            EXPECT(circular_distance(netcore_angle_quantized(turned, bits), a) < step / 2,
                   "bits %u code %u", bits, code);
        }
    }

    uint8_t buffer[8];
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_angle(&w, 1.0f, 0);
    cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------ */
/* Unit vectors                                                        */
/* ------------------------------------------------------------------ */

static double vec_length(const netcore_vec3 *v)
{
    return sqrt((double)v->x * v->x + (double)v->y * v->y + (double)v->z * v->z);
}

static netcore_vec3 random_direction(nci_rng *rng)
{
    netcore_vec3 v;
    do {
        v.x = random_float(rng, -1, 1);
        v.y = random_float(rng, -1, 1);
        v.z = random_float(rng, -1, 1);
    } while (vec_length(&v) > 1.0 || vec_length(&v) < 1e-3);
    return v;
}

Test(bitpack_unit_vec, axes_are_exact_and_defaults)
{
    const netcore_vec3 axes[6] = {{1, 0, 0},  {-1, 0, 0}, {0, 1, 0},
                                  {0, -1, 0}, {0, 0, 1},  {0, 0, -1}};
    for (unsigned bits = NETCORE_UNIT_VEC_BITS_MIN; bits <= NETCORE_UNIT_VEC_BITS_MAX; bits++) {
        for (int i = 0; i < 6; i++) {
            netcore_vec3 q = netcore_unit_vec_quantized(&axes[i], bits);
            cr_assert(q.x == axes[i].x && q.y == axes[i].y && q.z == axes[i].z, "bits %u axis %d",
                      bits, i);
        }
        const netcore_vec3 zero = {0, 0, 0}, nan = {NAN, 0, 1}, inf = {INFINITY, 0, 0};
        const netcore_vec3 *defaults[3] = {&zero, &nan, &inf};
        for (int i = 0; i < 3; i++) {
            netcore_vec3 q = netcore_unit_vec_quantized(defaults[i], bits);
            cr_assert(q.x == 0.0f && q.y == 0.0f && q.z == 1.0f);
        }
    }
    netcore_vec3 q = netcore_unit_vec_quantized(&axes[0], 1);
    cr_assert(q.x == 0.0f && q.y == 0.0f && q.z == 1.0f, "bad bit count gives +Z");
}

Test(bitpack_unit_vec, error_bound_length_and_agreement)
{
    nci_rng rng;
    nci_rng_seed(&rng, 5);
    enum { COUNT = 6000 };
    static netcore_vec3 expected[COUNT];
    static uint8_t buffer[COUNT * 6 + 8];
    for (unsigned bits = NETCORE_UNIT_VEC_BITS_MIN; bits <= NETCORE_UNIT_VEC_BITS_MAX; bits++) {
        double bound = NETCORE_UNIT_VEC_MAX_ERROR_RAD(bits);
        double worst = 0.0;
        netcore_bit_writer w;
        netcore_bit_writer_init(&w, buffer, sizeof(buffer));
        for (int i = 0; i < COUNT; i++) {
            netcore_vec3 v = random_direction(&rng);
            /* Scaling by a power of two changes nothing: the input need not be unit. */
            netcore_vec3 scaled = {v.x * 1024.0f, v.y * 1024.0f, v.z * 1024.0f};
            expected[i] = netcore_unit_vec_quantized(&v, bits);
            netcore_vec3 again = netcore_unit_vec_quantized(&scaled, bits);
            EXPECT(memcmp(&again, &expected[i], sizeof(again)) == 0, "bits %u scaled", bits);
            double angle = vec_angle(&v, &expected[i]);
            worst = angle > worst ? angle : worst;
            EXPECT(fabs(vec_length(&expected[i]) - 1.0) < 1e-6, "bits %u length", bits);
            netcore_bit_write_unit_vec(&w, &v, bits);
        }
        cr_assert_leq(worst, bound, "bits %u worst %.3g rad, bound %.3g", bits, worst, bound);
        cr_assert_eq(netcore_bit_writer_bits_written(&w), (size_t)COUNT * 2 * bits);
        netcore_bit_reader r;
        netcore_bit_reader_init(&r, buffer, netcore_bit_writer_flush(&w));
        for (int i = 0; i < COUNT; i++) {
            netcore_vec3 got = netcore_bit_read_unit_vec(&r, bits);
            EXPECT(memcmp(&got, &expected[i], sizeof(got)) == 0, "bits %u vector %d", bits, i);
        }
        cr_assert_not(netcore_bit_reader_failed(&r));
    }
}

Test(bitpack_unit_vec, every_code_decodes_to_a_fixed_point_and_the_unused_code_is_rejected)
{
    for (unsigned bits = NETCORE_UNIT_VEC_BITS_MIN; bits <= 8; bits++) {
        uint32_t codes = 1u << bits;
        for (uint32_t u = 0; u < codes; u++) {
            for (uint32_t v = 0; v < codes; v++) {
                uint8_t data[2] = {(uint8_t)(u | (v << bits)), (uint8_t)((u | (v << bits)) >> 8)};
                netcore_bit_reader r;
                netcore_bit_reader_init(&r, data, 2);
                netcore_vec3 d = netcore_bit_read_unit_vec(&r, bits);
                bool unused = u == codes - 1 || v == codes - 1;
                EXPECT(netcore_bit_reader_failed(&r) == unused, "bits %u code %u,%u", bits, u, v);
                EXPECT(fabs(vec_length(&d) - 1.0) < 1e-6, "bits %u code %u,%u", bits, u, v);
                netcore_vec3 again = netcore_unit_vec_quantized(&d, bits);
                EXPECT(again.x == d.x && again.y == d.y && again.z == d.z, "bits %u code %u,%u",
                       bits, u, v);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Quaternions                                                         */
/* ------------------------------------------------------------------ */

static netcore_quat random_rotation(nci_rng *rng)
{
    netcore_quat q;
    double n;
    do {
        q.x = random_float(rng, -1, 1);
        q.y = random_float(rng, -1, 1);
        q.z = random_float(rng, -1, 1);
        q.w = random_float(rng, -1, 1);
        n = (double)q.x * q.x + (double)q.y * q.y + (double)q.z * q.z + (double)q.w * q.w;
    } while (n > 1.0 || n < 1e-4);
    return q;
}

static size_t write_quat_bytes(const netcore_quat *q, unsigned bits, uint8_t out[16])
{
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, out, 16);
    netcore_bit_write_quat(&w, q, bits);
    cr_assert_not(netcore_bit_writer_failed(&w));
    cr_assert_eq(netcore_bit_writer_bits_written(&w), 2 + 3 * (size_t)bits);
    return netcore_bit_writer_flush(&w);
}

Test(bitpack_quat, identity_ties_and_defaults)
{
    const netcore_quat identity = {0, 0, 0, 1}, negated = {-0.0f, -0.0f, -0.0f, -1};
    const netcore_quat zero = {0, 0, 0, 0}, nan = {NAN, 0, 0, 1};
    for (unsigned bits = NETCORE_QUAT_BITS_MIN; bits <= NETCORE_QUAT_BITS_MAX; bits++) {
        const netcore_quat *cases[4] = {&identity, &negated, &zero, &nan};
        for (int i = 0; i < 4; i++) {
            netcore_quat q = netcore_quat_quantized(cases[i], bits);
            cr_assert(q.x == 0.0f && q.y == 0.0f && q.z == 0.0f && q.w == 1.0f, "bits %u case %d",
                      bits, i);
        }
        /* 90 degrees about z: z and w tie; both signs encode identically. */
        const float h = (float)(1.0 / sqrt(2.0));
        netcore_quat quarter = {0, 0, h, h}, minus_quarter = {0, 0, -h, -h};
        uint8_t a[16], b[16];
        size_t size = write_quat_bytes(&quarter, bits, a);
        cr_assert_eq(write_quat_bytes(&minus_quarter, bits, b), size);
        cr_assert_arr_eq(a, b, size);
        netcore_quat q = netcore_quat_quantized(&quarter, bits);
        cr_assert_leq(quat_angle(&quarter, &q), NETCORE_QUAT_MAX_ERROR_RAD(bits));
    }
    netcore_quat q = netcore_quat_quantized(&identity, 8);
    cr_assert(q.w == 1.0f, "bad bit count gives identity");
    uint8_t buffer[16];
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, sizeof(buffer));
    netcore_bit_write_quat(&w, &identity, NETCORE_QUAT_BITS_MAX + 1);
    cr_assert_eq(netcore_bit_writer_status(&w), NETCORE_ERR_INVALID_ARGUMENT);
}

Test(bitpack_quat, error_bound_sign_equivalence_and_agreement)
{
    nci_rng rng;
    nci_rng_seed(&rng, 9);
    enum { COUNT = 5000 };
    for (unsigned bits = NETCORE_QUAT_BITS_MIN; bits <= NETCORE_QUAT_BITS_MAX; bits++) {
        double bound = NETCORE_QUAT_MAX_ERROR_RAD(bits);
        double worst = 0.0;
        for (int i = 0; i < COUNT; i++) {
            netcore_quat q = random_rotation(&rng);
            netcore_quat minus = {-q.x, -q.y, -q.z, -q.w};
            uint8_t a[16], b[16];
            size_t size = write_quat_bytes(&q, bits, a);
            (void)write_quat_bytes(&minus, bits, b);
            EXPECT(memcmp(a, b, size) == 0, "bits %u: q and -q encode differently", bits);

            netcore_bit_reader r;
            netcore_bit_reader_init(&r, a, size);
            netcore_quat got = netcore_bit_read_quat(&r, bits);
            netcore_quat predicted = netcore_quat_quantized(&q, bits);
            EXPECT(!netcore_bit_reader_failed(&r), "bits %u", bits);
            EXPECT(memcmp(&got, &predicted, sizeof(got)) == 0, "bits %u: reader disagrees", bits);
            double length2 = (double)got.x * got.x + (double)got.y * got.y + (double)got.z * got.z +
                             (double)got.w * got.w;
            EXPECT(fabs(length2 - 1.0) < 1e-6, "bits %u length", bits);
            float components[4] = {got.x, got.y, got.z, got.w};
            EXPECT(components[a[0] & 3] >= 0.0f, "bits %u: largest component negative", bits);
            double angle = quat_angle(&q, &got);
            worst = angle > worst ? angle : worst;
        }
        cr_assert_leq(worst, bound, "bits %u worst %.3g rad, bound %.3g", bits, worst, bound);
    }
}

Test(bitpack_quat, reader_rejects_codes_no_writer_makes)
{
    const unsigned bits = 9;
    const uint32_t steps = (1u << bits) - 2, unused = (1u << bits) - 1;
    const uint32_t middle = steps / 2;
    struct {
        uint32_t largest, c[3];
        bool valid;
    } cases[] = {
        {3, {middle, middle, middle}, true},  /* identity */
        {0, {steps, middle, middle}, true},   /* 90 degrees: x and y tie */
        {3, {unused, middle, middle}, false}, /* the unused code */
        {1, {middle, middle, unused}, false},
        {2, {steps, steps, steps}, false}, /* squares sum to 1.5 */
        {0, {steps, steps, 0}, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buffer[8];
        netcore_bit_writer w;
        netcore_bit_writer_init(&w, buffer, sizeof(buffer));
        netcore_bit_write_bits(&w, cases[i].largest, 2);
        for (int k = 0; k < 3; k++) {
            netcore_bit_write_bits(&w, cases[i].c[k], bits);
        }
        netcore_bit_reader r;
        netcore_bit_reader_init(&r, buffer, netcore_bit_writer_flush(&w));
        netcore_quat q = netcore_bit_read_quat(&r, bits);
        cr_assert_eq(!netcore_bit_reader_failed(&r), cases[i].valid, "case %zu", i);
        if (!cases[i].valid) {
            cr_assert(q.x == 0.0f && q.y == 0.0f && q.z == 0.0f && q.w == 1.0f, "case %zu", i);
            cr_assert_eq(netcore_bit_reader_status(&r), NETCORE_ERR_MALFORMED);
        }
    }
}
