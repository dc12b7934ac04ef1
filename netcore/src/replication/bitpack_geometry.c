/* Quantized floats, angles, unit vectors and quaternions; the wire format
 * and the error bounds are described in bitpack.h. Only IEEE-754 double
 * arithmetic is used, so every platform decodes the same floats. */
#include "replication/bitpack_internal.h"

#include <math.h>
#include <string.h>

#define BITPACK_TWO_PI 6.28318530717958647692
#define BITPACK_PI 3.14159265358979323846
#define BITPACK_SQRT1_2 0.70710678118654752440

/* ------------------------------------------------------------------ */
/* Quantized floats                                                    */
/* ------------------------------------------------------------------ */

/* Distance from x to the next float of larger magnitude (x finite, >= 0). */
static double float_ulp(double x)
{
    int exponent;
    (void)frexp(x, &exponent);
    /* A float has 24 significant bits; below FLT_MIN the spacing is fixed. */
    double ulp = ldexp(1.0, exponent - 24);
    double denormal_ulp = ldexp(1.0, -149);
    return ulp > denormal_ulp ? ulp : denormal_ulp;
}

netcore_result netcore_quant_init(netcore_quant *quant, float min, float max, float precision)
{
    if (quant == NULL) {
        return NETCORE_ERR_INVALID_ARGUMENT;
    }
    memset(quant, 0, sizeof(*quant));
    if (!isfinite(min) || !isfinite(max) || !isfinite(precision) || !(min < max) ||
        !(precision > 0.0f)) {
        return NETCORE_ERR_INVALID_ARGUMENT;
    }
    double range = (double)max - (double)min;
    double magnitude = fmax(fabs((double)min), fabs((double)max));
    /* The decoded double is rounded to float (up to half an ulp) and both ends
     * compute in double (relative error far below 1e-12): shrink the grid
     * spacing by that much so the total error stays within precision / 2. */
    double ulp = float_ulp(magnitude);
    double spacing_limit = (double)precision - ulp - range * 1e-12;
    /* With at least 2 ulps between grid points (spacing >= limit / 2 once
     * there are 2 steps or more), a decoded float rounds back to its own grid
     * point: quantizing a decoded value again gives it back unchanged. */
    if (spacing_limit < 4.0 * ulp) {
        return NETCORE_ERR_INVALID_ARGUMENT;
    }
    /* range <= 2 * magnitude and spacing_limit >= 4 ulps, with an ulp at
     * least 2^-24 * magnitude (or the fixed denormal spacing), so steps
     * stays at most 2^23 + 1: 24 bits. */
    double steps = ceil(range / spacing_limit); /* >= 1: both are positive */
    quant->min = min;
    quant->max = max;
    quant->precision = precision;
    quant->steps = (uint32_t)steps;
    quant->bits = netcore_bits_required(quant->steps);
    return NETCORE_OK;
}

uint32_t netcore_quant_index(const netcore_quant *quant, float value)
{
    if (quant == NULL || quant->bits == 0 || !(value > quant->min)) {
        return 0;
    }
    if (value >= quant->max) {
        return quant->steps;
    }
    double range = (double)quant->max - (double)quant->min;
    double scaled = ((double)value - (double)quant->min) / range * (double)quant->steps;
    double index = floor(scaled + 0.5);
    return index >= (double)quant->steps ? quant->steps : (uint32_t)index;
}

float netcore_quant_dequantize(const netcore_quant *quant, uint32_t index)
{
    if (quant == NULL || quant->bits == 0) {
        return 0.0f;
    }
    if (index == 0) {
        return quant->min;
    }
    if (index >= quant->steps) {
        return quant->max;
    }
    /* Indices 1..steps-1 lie at least one grid spacing (2 float ulps or
     * more) inside [min, max], far beyond any rounding: no clamp needed. */
    double range = (double)quant->max - (double)quant->min;
    return (float)((double)quant->min + range * (double)index / (double)quant->steps);
}

float netcore_quant_value(const netcore_quant *quant, float value)
{
    return netcore_quant_dequantize(quant, netcore_quant_index(quant, value));
}

void netcore_bit_write_quant(netcore_bit_writer *writer, const netcore_quant *quant, float value)
{
    if (quant == NULL || quant->bits == 0) {
        nci_bit_writer_fail(writer, NETCORE_ERR_INVALID_ARGUMENT);
        return;
    }
    netcore_bit_write_bits(writer, netcore_quant_index(quant, value), quant->bits);
}

float netcore_bit_read_quant(netcore_bit_reader *reader, const netcore_quant *quant)
{
    if (quant == NULL || quant->bits == 0) {
        nci_bit_reader_fail(reader, NETCORE_ERR_INVALID_ARGUMENT);
        return 0.0f;
    }
    uint32_t index = netcore_bit_read_bits(reader, quant->bits);
    if (reader->status != NETCORE_OK) {
        return quant->min;
    }
    if (index > quant->steps) {
        nci_bit_reader_fail(reader, NETCORE_ERR_MALFORMED);
        return quant->min;
    }
    return netcore_quant_dequantize(quant, index);
}

/* ------------------------------------------------------------------ */
/* Angles                                                              */
/* ------------------------------------------------------------------ */

static uint32_t angle_index(float radians, unsigned bits)
{
    if (!isfinite(radians)) {
        return 0;
    }
    /* fmod is exact, so wrapping adds no error beyond 2*pi's own rounding. */
    double wrapped = fmod((double)radians, BITPACK_TWO_PI);
    if (wrapped < 0.0) {
        wrapped += BITPACK_TWO_PI;
    }
    double scaled = wrapped / BITPACK_TWO_PI * ldexp(1.0, (int)bits);
    /* Rounding up to 2^bits is a full turn: the mask wraps it to 0. */
    uint64_t index = (uint64_t)floor(scaled + 0.5);
    return (uint32_t)(index & nci_bits_mask32(bits));
}

static float angle_from_index(uint32_t index, unsigned bits)
{
    double radians = (double)index * BITPACK_TWO_PI / ldexp(1.0, (int)bits);
    if (radians >= BITPACK_PI) {
        radians -= BITPACK_TWO_PI;
    }
    return (float)radians;
}

void netcore_bit_write_angle(netcore_bit_writer *writer, float radians, unsigned bits)
{
    if (bits == 0 || bits > 32) {
        nci_bit_writer_fail(writer, NETCORE_ERR_INVALID_ARGUMENT);
        return;
    }
    netcore_bit_write_bits(writer, angle_index(radians, bits), bits);
}

float netcore_bit_read_angle(netcore_bit_reader *reader, unsigned bits)
{
    if (bits == 0 || bits > 32) {
        nci_bit_reader_fail(reader, NETCORE_ERR_INVALID_ARGUMENT);
        return 0.0f;
    }
    uint32_t index = netcore_bit_read_bits(reader, bits);
    return reader->status == NETCORE_OK ? angle_from_index(index, bits) : 0.0f;
}

float netcore_angle_quantized(float radians, unsigned bits)
{
    if (bits == 0 || bits > 32) {
        return 0.0f;
    }
    return angle_from_index(angle_index(radians, bits), bits);
}

/* ------------------------------------------------------------------ */
/* Symmetric grids: unit vectors and quaternions                       */
/* ------------------------------------------------------------------ */

/* A grid over [-1, 1] with steps = 2^bits - 2 intervals: an even count, so 0
 * is a grid point, and the code 2^bits - 1 is never produced. */
static uint32_t symmetric_steps(unsigned bits)
{
    return nci_bits_mask32(bits) - 1u;
}

static uint32_t symmetric_index(double x, uint32_t steps)
{
    double scaled = floor((x + 1.0) * 0.5 * (double)steps + 0.5);
    if (!(scaled > 0.0)) {
        return 0;
    }
    return scaled >= (double)steps ? steps : (uint32_t)scaled;
}

static double symmetric_value(uint32_t index, uint32_t steps)
{
    /* Exact integer arithmetic before the division: the middle index is 0.0. */
    return (2.0 * (double)index - (double)steps) / (double)steps;
}

static double sign_of(double x)
{
    return x < 0.0 ? -1.0 : 1.0;
}

static bool unit_vec_bits_valid(unsigned bits)
{
    return bits >= NETCORE_UNIT_VEC_BITS_MIN && bits <= NETCORE_UNIT_VEC_BITS_MAX;
}

static void unit_vec_encode(const netcore_vec3 *direction, unsigned bits, uint32_t out_index[2])
{
    uint32_t steps = symmetric_steps(bits);
    double x = direction ? (double)direction->x : 0.0;
    double y = direction ? (double)direction->y : 0.0;
    double z = direction ? (double)direction->z : 0.0;
    double l1 = fabs(x) + fabs(y) + fabs(z);
    if (!isfinite(l1) || l1 == 0.0) {
        x = 0.0;
        y = 0.0;
        z = 1.0;
        l1 = 1.0;
    }
    double u = x / l1;
    double v = y / l1;
    if (z < 0.0) {
        /* Fold the lower half of the octahedron over the upper half's corners. */
        double folded_u = (1.0 - fabs(v)) * sign_of(u);
        v = (1.0 - fabs(u)) * sign_of(v);
        u = folded_u;
    }
    out_index[0] = symmetric_index(u, steps);
    out_index[1] = symmetric_index(v, steps);
}

static netcore_vec3 unit_vec_decode(const uint32_t index[2], unsigned bits)
{
    uint32_t steps = symmetric_steps(bits);
    double u = symmetric_value(index[0], steps);
    double v = symmetric_value(index[1], steps);
    double z = 1.0 - fabs(u) - fabs(v);
    double x = u;
    double y = v;
    if (z < 0.0) {
        x = (1.0 - fabs(v)) * sign_of(u);
        y = (1.0 - fabs(u)) * sign_of(v);
    }
    /* |x| + |y| + |z| == 1 on the octahedron, so the length is at least 1/sqrt3. */
    double length = sqrt(x * x + y * y + z * z);
    netcore_vec3 out = {(float)(x / length), (float)(y / length), (float)(z / length)};
    return out;
}

static netcore_vec3 unit_vec_default(void)
{
    netcore_vec3 up = {0.0f, 0.0f, 1.0f};
    return up;
}

void netcore_bit_write_unit_vec(netcore_bit_writer *writer, const netcore_vec3 *direction,
                                unsigned bits)
{
    if (!unit_vec_bits_valid(bits)) {
        nci_bit_writer_fail(writer, NETCORE_ERR_INVALID_ARGUMENT);
        return;
    }
    uint32_t index[2];
    unit_vec_encode(direction, bits, index);
    if (nci_bit_writer_reserve(writer, 2 * (size_t)bits)) {
        nci_bit_writer_put(writer, index[0], bits);
        nci_bit_writer_put(writer, index[1], bits);
    }
}

netcore_vec3 netcore_bit_read_unit_vec(netcore_bit_reader *reader, unsigned bits)
{
    if (!unit_vec_bits_valid(bits)) {
        nci_bit_reader_fail(reader, NETCORE_ERR_INVALID_ARGUMENT);
        return unit_vec_default();
    }
    if (!nci_bit_reader_require(reader, 2 * (size_t)bits)) {
        return unit_vec_default();
    }
    uint32_t index[2];
    index[0] = nci_bit_reader_take(reader, bits);
    index[1] = nci_bit_reader_take(reader, bits);
    uint32_t steps = symmetric_steps(bits);
    if (index[0] > steps || index[1] > steps) {
        nci_bit_reader_fail(reader, NETCORE_ERR_MALFORMED);
        return unit_vec_default();
    }
    return unit_vec_decode(index, bits);
}

netcore_vec3 netcore_unit_vec_quantized(const netcore_vec3 *direction, unsigned bits)
{
    if (!unit_vec_bits_valid(bits)) {
        return unit_vec_default();
    }
    uint32_t index[2];
    unit_vec_encode(direction, bits, index);
    return unit_vec_decode(index, bits);
}

static bool quat_bits_valid(unsigned bits)
{
    return bits >= NETCORE_QUAT_BITS_MIN && bits <= NETCORE_QUAT_BITS_MAX;
}

static netcore_quat quat_identity(void)
{
    netcore_quat identity = {0.0f, 0.0f, 0.0f, 1.0f};
    return identity;
}

/* Wire form of a rotation: index of the largest component, then the other
 * three in x, y, z, w order on the symmetric grid scaled to +-1/sqrt2. */
typedef struct quat_code {
    uint32_t largest;
    uint32_t index[3];
} quat_code;

static quat_code quat_encode(const netcore_quat *rotation, unsigned bits)
{
    double c[4] = {0.0, 0.0, 0.0, 1.0};
    if (rotation != NULL) {
        double in[4] = {rotation->x, rotation->y, rotation->z, rotation->w};
        double norm = sqrt(in[0] * in[0] + in[1] * in[1] + in[2] * in[2] + in[3] * in[3]);
        if (isfinite(norm) && norm > 0.0) {
            for (int i = 0; i < 4; i++) {
                c[i] = in[i] / norm;
            }
        }
    }
    /* q and -q give the same magnitudes, hence the same index, and the sign
     * flip below makes their components identical: one encoding per rotation. */
    uint32_t largest = 0;
    for (uint32_t i = 1; i < 4; i++) {
        if (fabs(c[i]) > fabs(c[largest])) {
            largest = i;
        }
    }
    double sign = c[largest] < 0.0 ? -1.0 : 1.0;
    uint32_t steps = symmetric_steps(bits);
    quat_code code = {largest, {0, 0, 0}};
    for (uint32_t i = 0, k = 0; i < 4; i++) {
        if (i != largest) {
            /* Non-largest components of a unit quaternion lie in [-1/sqrt2, 1/sqrt2]. */
            code.index[k++] = symmetric_index(sign * c[i] / BITPACK_SQRT1_2, steps);
        }
    }
    return code;
}

/* Rebuilds the rotation; false if the three components cannot belong to a
 * unit quaternion (only possible for bits that no writer produced). */
static bool quat_decode(const quat_code *code, unsigned bits, netcore_quat *out)
{
    uint32_t steps = symmetric_steps(bits);
    double c[4];
    double sum_squares = 0.0;
    for (uint32_t i = 0, k = 0; i < 4; i++) {
        if (i != code->largest) {
            c[i] = symmetric_value(code->index[k++], steps) * BITPACK_SQRT1_2;
            sum_squares += c[i] * c[i];
        }
    }
    if (sum_squares > 1.0) {
        return false;
    }
    c[code->largest] = sqrt(1.0 - sum_squares);
    out->x = (float)c[0];
    out->y = (float)c[1];
    out->z = (float)c[2];
    out->w = (float)c[3];
    return true;
}

void netcore_bit_write_quat(netcore_bit_writer *writer, const netcore_quat *rotation, unsigned bits)
{
    if (!quat_bits_valid(bits)) {
        nci_bit_writer_fail(writer, NETCORE_ERR_INVALID_ARGUMENT);
        return;
    }
    quat_code code = quat_encode(rotation, bits);
    if (nci_bit_writer_reserve(writer, 2 + 3 * (size_t)bits)) {
        nci_bit_writer_put(writer, code.largest, 2);
        for (int k = 0; k < 3; k++) {
            nci_bit_writer_put(writer, code.index[k], bits);
        }
    }
}

netcore_quat netcore_bit_read_quat(netcore_bit_reader *reader, unsigned bits)
{
    if (!quat_bits_valid(bits)) {
        nci_bit_reader_fail(reader, NETCORE_ERR_INVALID_ARGUMENT);
        return quat_identity();
    }
    if (!nci_bit_reader_require(reader, 2 + 3 * (size_t)bits)) {
        return quat_identity();
    }
    quat_code code;
    code.largest = nci_bit_reader_take(reader, 2);
    uint32_t steps = symmetric_steps(bits);
    bool valid = true;
    for (int k = 0; k < 3; k++) {
        code.index[k] = nci_bit_reader_take(reader, bits);
        valid = valid && code.index[k] <= steps;
    }
    netcore_quat out;
    if (!valid || !quat_decode(&code, bits, &out)) {
        nci_bit_reader_fail(reader, NETCORE_ERR_MALFORMED);
        return quat_identity();
    }
    return out;
}

netcore_quat netcore_quat_quantized(const netcore_quat *rotation, unsigned bits)
{
    if (!quat_bits_valid(bits)) {
        return quat_identity();
    }
    quat_code code = quat_encode(rotation, bits);
    netcore_quat out;
    /* A writer's own code always decodes: its components square-sum below 1. */
    return quat_decode(&code, bits, &out) ? out : quat_identity();
}
