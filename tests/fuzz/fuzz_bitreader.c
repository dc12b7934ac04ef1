/*
 * Fuzz target: the bit reader and every decoder built on it must never crash,
 * never read outside the input, and keep their documented invariants; the
 * writer must never write outside its buffer, and what it writes must read
 * back exactly as the *_quantized() predictions say.
 *
 * Input layout:
 *   byte 0      script length L
 *   byte 1      writer capacity in bytes (phase 2)
 *   L bytes     script: opcodes, each followed by the parameter bytes it uses
 *   the rest    payload
 * Phase 1 runs the script as reads over the payload (any bytes at all).
 * Phase 2 runs the same script as writes into a buffer of exactly the given
 * capacity, with values taken from the payload, then reads everything back.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/bitpack.h"
#include "../support/geometry_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_bitreader: invariant failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define FUZZ_MAX_OPS 256
#define FUZZ_PI 3.14159265358979323846
#define FUZZ_MAX_BYTES 48

enum {
    OP_BITS,
    OP_U64,
    OP_BOOL,
    OP_BYTES,
    OP_FLOAT,
    OP_INT_RANGE,
    OP_VARINT,
    OP_VARINT_SIGNED,
    OP_QUANT,
    OP_ANGLE,
    OP_UNIT_VEC,
    OP_QUAT,
    OP_ALIGN,
    OP_COUNT
};

typedef struct script {
    const uint8_t *bytes;
    size_t size;
    size_t pos;
} script;

static uint8_t script_u8(script *s)
{
    return s->pos < s->size ? s->bytes[s->pos++] : 0;
}

static uint32_t script_u32(script *s)
{
    uint32_t value = 0;
    for (int i = 0; i < 4; i++) {
        value |= (uint32_t)script_u8(s) << (8 * i);
    }
    return value;
}

/* Quantizers the script picks from; the last slot is built from script bytes. */
static const float fixed_quants[][3] = {
    {-512.0f, 512.0f, 1.0f / 512.0f}, {0.0f, 1.0f, 0.01f}, {-1.0f, 1.0f, 1e-4f},
    {0.0f, 100000.0f, 1.0f},          {-3.0f, 5.0f, 8.0f}, {1000.0f, 1000.5f, 1e-3f},
    {-1e30f, 1e30f, 1e25f},           {0.0f, 1.0f, 1e-6f},
};
#define FIXED_QUANT_COUNT (sizeof(fixed_quants) / sizeof(fixed_quants[0]))

/* Parameters of one operation, decoded from the script identically in both phases. */
typedef struct op_params {
    unsigned op;
    unsigned bits;
    size_t length;
    int32_t min;
    int32_t max;
    netcore_quant quant;
    bool quant_valid;
    unsigned shift;
} op_params;

static float float_from_bits(uint32_t pattern)
{
    float value;
    memcpy(&value, &pattern, sizeof(value));
    return value;
}

static uint32_t bits_of_float(float value)
{
    uint32_t pattern;
    memcpy(&pattern, &value, sizeof(pattern));
    return pattern;
}

static op_params parse_op(script *s)
{
    op_params p;
    memset(&p, 0, sizeof(p));
    p.op = script_u8(s) % OP_COUNT;
    uint8_t param = script_u8(s);
    switch (p.op) {
    case OP_BITS:
        p.bits = param % 40; /* 33..39 are invalid counts */
        break;
    case OP_U64:
        p.bits = param % 72;
        break;
    case OP_BYTES:
        p.length = param % FUZZ_MAX_BYTES;
        break;
    case OP_INT_RANGE: {
        p.min = (int32_t)script_u32(s);
        int64_t max = (int64_t)p.min + (int64_t)(script_u32(s) >> (param % 32));
        p.max = max > INT32_MAX ? INT32_MAX : (int32_t)max;
        if (param & 0x80) { /* sometimes an invalid range */
            int32_t swap = p.min;
            p.min = p.max;
            p.max = swap;
        }
        break;
    }
    case OP_VARINT:
    case OP_VARINT_SIGNED:
        p.shift = param % 64;
        break;
    case OP_QUANT:
        if (param % (FIXED_QUANT_COUNT + 1) < FIXED_QUANT_COUNT) {
            const float *q = fixed_quants[param % (FIXED_QUANT_COUNT + 1)];
            p.quant_valid = netcore_quant_init(&p.quant, q[0], q[1], q[2]) == NETCORE_OK;
            FUZZ_CHECK(p.quant_valid);
        } else {
            float min = float_from_bits(script_u32(s));
            float max = float_from_bits(script_u32(s));
            float precision = float_from_bits(script_u32(s));
            p.quant_valid = netcore_quant_init(&p.quant, min, max, precision) == NETCORE_OK;
            FUZZ_CHECK(p.quant_valid == (p.quant.bits != 0));
        }
        if (p.quant_valid) {
            FUZZ_CHECK(p.quant.bits >= 1 && p.quant.bits <= 32);
            FUZZ_CHECK(p.quant.bits == netcore_bits_required(p.quant.steps));
        }
        break;
    case OP_ANGLE:
        p.bits = param % 34; /* 0 and 33 are invalid */
        break;
    case OP_UNIT_VEC:
        p.bits = param % 27; /* 0, 1, 25, 26 are invalid */
        break;
    case OP_QUAT:
        p.bits = 7 + param % 20; /* 7, 8, 25, 26 are invalid */
        break;
    default:
        break;
    }
    return p;
}

static bool quat_bits_ok(unsigned bits)
{
    return bits >= NETCORE_QUAT_BITS_MIN && bits <= NETCORE_QUAT_BITS_MAX;
}

static bool unit_vec_bits_ok(unsigned bits)
{
    return bits >= NETCORE_UNIT_VEC_BITS_MIN && bits <= NETCORE_UNIT_VEC_BITS_MAX;
}

static bool vec_equal(netcore_vec3 a, netcore_vec3 b)
{
    return a.x == b.x && a.y == b.y && a.z == b.z;
}

static bool quat_same_bits(netcore_quat a, netcore_quat b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static void check_reader_position(const netcore_bit_reader *reader, size_t size_bytes)
{
    size_t read = netcore_bit_reader_bits_read(reader);
    FUZZ_CHECK(read <= size_bytes * 8);
    FUZZ_CHECK(read + netcore_bit_reader_bits_remaining(reader) == size_bytes * 8);
    FUZZ_CHECK(netcore_bit_reader_bytes_read(reader) <= size_bytes);
}

/* Phase 1: one read operation over arbitrary bytes. */
static void read_op(netcore_bit_reader *reader, const op_params *p, size_t payload_size)
{
    bool failed_before = netcore_bit_reader_failed(reader);
    size_t read_before = netcore_bit_reader_bits_read(reader);
    uint8_t bytes[FUZZ_MAX_BYTES];
    bool zero_result = true;

    switch (p->op) {
    case OP_BITS: {
        uint32_t value = netcore_bit_read_bits(reader, p->bits);
        zero_result = value == 0;
        if (p->bits < 32) {
            FUZZ_CHECK(value >> p->bits == 0);
        }
        break;
    }
    case OP_U64:
        zero_result = netcore_bit_read_u64(reader, p->bits) == 0;
        break;
    case OP_BOOL:
        zero_result = !netcore_bit_read_bool(reader);
        break;
    case OP_BYTES:
        memset(bytes, 0xa5, sizeof(bytes));
        netcore_bit_read_bytes(reader, bytes, p->length);
        zero_result = true;
        for (size_t i = 0; i < p->length; i++) {
            zero_result = zero_result && bytes[i] == 0;
        }
        break;
    case OP_FLOAT:
        zero_result = bits_of_float(netcore_bit_read_float(reader)) == 0;
        break;
    case OP_INT_RANGE: {
        int32_t value = netcore_bit_read_int_range(reader, p->min, p->max);
        zero_result = value == p->min;
        if (!netcore_bit_reader_failed(reader)) {
            FUZZ_CHECK(value >= p->min && value <= p->max);
        }
        break;
    }
    case OP_VARINT: {
        uint64_t value = netcore_bit_read_varint(reader);
        zero_result = value == 0;
        if (!netcore_bit_reader_failed(reader)) {
            /* Only the shortest encoding is accepted. */
            FUZZ_CHECK(netcore_bit_reader_bits_read(reader) - read_before ==
                       netcore_varint_bits(value));
        }
        break;
    }
    case OP_VARINT_SIGNED: {
        int64_t value = netcore_bit_read_varint_signed(reader);
        zero_result = value == 0;
        if (!netcore_bit_reader_failed(reader)) {
            FUZZ_CHECK(netcore_zigzag_decode(netcore_zigzag_encode(value)) == value);
            FUZZ_CHECK(netcore_bit_reader_bits_read(reader) - read_before ==
                       netcore_varint_bits(netcore_zigzag_encode(value)));
        }
        break;
    }
    case OP_QUANT: {
        const netcore_quant *quant = p->quant_valid ? &p->quant : NULL;
        float value = netcore_bit_read_quant(reader, quant);
        if (quant == NULL) {
            FUZZ_CHECK(netcore_bit_reader_failed(reader));
            break;
        }
        zero_result = value == quant->min;
        FUZZ_CHECK(value >= quant->min && value <= quant->max);
        if (!netcore_bit_reader_failed(reader)) {
            /* A decoded value is a grid point: quantizing it again changes nothing. */
            FUZZ_CHECK(netcore_quant_value(quant, value) == value);
        }
        break;
    }
    case OP_ANGLE: {
        float value = netcore_bit_read_angle(reader, p->bits);
        zero_result = value == 0.0f;
        FUZZ_CHECK(value >= -(float)FUZZ_PI && value <= (float)FUZZ_PI);
        if (!netcore_bit_reader_failed(reader) && p->bits <= 20) {
            FUZZ_CHECK(netcore_angle_quantized(value, p->bits) == value);
        }
        break;
    }
    case OP_UNIT_VEC: {
        netcore_vec3 v = netcore_bit_read_unit_vec(reader, p->bits);
        netcore_vec3 up = {0.0f, 0.0f, 1.0f};
        zero_result = vec_equal(v, up);
        double length2 = (double)v.x * v.x + (double)v.y * v.y + (double)v.z * v.z;
        FUZZ_CHECK(fabs(length2 - 1.0) < 1e-6);
        if (!netcore_bit_reader_failed(reader) && p->bits <= 16) {
            netcore_vec3 again = netcore_unit_vec_quantized(&v, p->bits);
            FUZZ_CHECK(vec_equal(again, v));
        }
        break;
    }
    case OP_QUAT: {
        netcore_quat q = netcore_bit_read_quat(reader, p->bits);
        netcore_quat identity = {0.0f, 0.0f, 0.0f, 1.0f};
        zero_result = quat_same_bits(q, identity);
        double length2 =
            (double)q.x * q.x + (double)q.y * q.y + (double)q.z * q.z + (double)q.w * q.w;
        FUZZ_CHECK(fabs(length2 - 1.0) < 1e-6);
        break;
    }
    case OP_ALIGN:
        netcore_bit_reader_align(reader);
        if (!netcore_bit_reader_failed(reader)) {
            FUZZ_CHECK(netcore_bit_reader_bits_read(reader) % 8 == 0);
        }
        break;
    default:
        break;
    }

    check_reader_position(reader, payload_size);
    if (failed_before) {
        /* Sticky: nothing moves, and reads give the "zero" of their type. */
        FUZZ_CHECK(netcore_bit_reader_failed(reader));
        FUZZ_CHECK(netcore_bit_reader_bits_read(reader) == read_before);
        FUZZ_CHECK(zero_result);
    }
}

/* Phase 2: what one successful write recorded, to compare on read-back. */
typedef struct logged_write {
    op_params p;
    size_t bits_after;
    uint64_t u;
    int64_t i;
    float f;
    netcore_vec3 v;
    netcore_quat q;
    uint8_t bytes[FUZZ_MAX_BYTES];
} logged_write;

/* A float from the payload: either any bit pattern (NaN, infinities, huge) or
 * one spread over [lo, hi] with a margin on both sides, to reach clamping. */
static float source_float(netcore_bit_reader *source, double lo, double hi)
{
    bool raw = netcore_bit_read_bool(source);
    uint32_t bits = netcore_bit_read_bits(source, 32);
    if (raw) {
        return float_from_bits(bits);
    }
    double t = (double)bits / 4294967296.0 * 1.2 - 0.1;
    return (float)(lo + (hi - lo) * t);
}

/* Writes one operation with payload values; returns the bits it needs, or
 * SIZE_MAX for parameters that are invalid (checked on a throwaway writer). */
static size_t write_op(netcore_bit_writer *writer, const op_params *p, netcore_bit_reader *source,
                       logged_write *entry)
{
    entry->p = *p;
    switch (p->op) {
    case OP_BITS:
        if (p->bits > 32) {
            return SIZE_MAX;
        }
        entry->u = netcore_bit_read_bits(source, 32);
        netcore_bit_write_bits(writer, (uint32_t)entry->u, p->bits);
        entry->u &= p->bits == 0 ? 0 : (UINT64_C(1) << p->bits) - 1;
        return p->bits;
    case OP_U64:
        if (p->bits > 64) {
            return SIZE_MAX;
        }
        entry->u = netcore_bit_read_u64(source, 64);
        netcore_bit_write_u64(writer, entry->u, p->bits);
        entry->u &= p->bits == 0 ? 0 : (p->bits == 64 ? UINT64_MAX : (UINT64_C(1) << p->bits) - 1);
        return p->bits;
    case OP_BOOL:
        entry->u = netcore_bit_read_bool(source);
        netcore_bit_write_bool(writer, entry->u != 0);
        return 1;
    case OP_BYTES:
        netcore_bit_read_bytes(source, entry->bytes, p->length);
        netcore_bit_write_bytes(writer, entry->bytes, p->length);
        return 8 * p->length;
    case OP_FLOAT:
        entry->u = netcore_bit_read_bits(source, 32);
        netcore_bit_write_float(writer, float_from_bits((uint32_t)entry->u));
        return 32;
    case OP_INT_RANGE: {
        if (p->min > p->max) {
            return SIZE_MAX;
        }
        int64_t value;
        if (netcore_bit_read_bool(source)) {
            value = (int32_t)netcore_bit_read_bits(source, 32);
        } else {
            uint64_t span = (uint64_t)((int64_t)p->max - p->min) + 3;
            value = (int64_t)p->min - 1 + (int64_t)(netcore_bit_read_bits(source, 32) % span);
            value = value < INT32_MIN ? INT32_MIN : (value > INT32_MAX ? INT32_MAX : value);
        }
        netcore_bit_write_int_range(writer, (int32_t)value, p->min, p->max);
        entry->i = value < p->min ? p->min : (value > p->max ? p->max : value);
        return netcore_int_range_bits(p->min, p->max);
    }
    case OP_VARINT:
        entry->u = netcore_bit_read_u64(source, 64) >> p->shift;
        netcore_bit_write_varint(writer, entry->u);
        return netcore_varint_bits(entry->u);
    case OP_VARINT_SIGNED:
        entry->i = netcore_zigzag_decode(netcore_bit_read_u64(source, 64) >> p->shift);
        netcore_bit_write_varint_signed(writer, entry->i);
        return netcore_varint_bits(netcore_zigzag_encode(entry->i));
    case OP_QUANT: {
        if (!p->quant_valid) {
            return SIZE_MAX;
        }
        float value = source_float(source, p->quant.min, p->quant.max);
        netcore_bit_write_quant(writer, &p->quant, value);
        entry->f = netcore_quant_value(&p->quant, value);
        if (value >= p->quant.min && value <= p->quant.max) {
            FUZZ_CHECK(fabs((double)entry->f - (double)value) <= (double)p->quant.precision / 2);
        }
        return p->quant.bits;
    }
    case OP_ANGLE: {
        if (p->bits == 0 || p->bits > 32) {
            return SIZE_MAX;
        }
        float value = source_float(source, -4.0 * FUZZ_PI, 4.0 * FUZZ_PI);
        netcore_bit_write_angle(writer, value, p->bits);
        entry->f = netcore_angle_quantized(value, p->bits);
        if (isfinite(value) && fabs(value) < 1e6) {
            double error = fabs(remainder((double)entry->f - (double)value, 2.0 * FUZZ_PI));
            FUZZ_CHECK(error <= FUZZ_PI / ldexp(1.0, (int)p->bits) + ldexp(1.0, -22));
        }
        return p->bits;
    }
    case OP_UNIT_VEC: {
        if (!unit_vec_bits_ok(p->bits)) {
            return SIZE_MAX;
        }
        netcore_vec3 v;
        v.x = source_float(source, -1.0, 1.0);
        v.y = source_float(source, -1.0, 1.0);
        v.z = source_float(source, -1.0, 1.0);
        netcore_bit_write_unit_vec(writer, &v, p->bits);
        entry->v = netcore_unit_vec_quantized(&v, p->bits);
        double length = sqrt((double)v.x * v.x + (double)v.y * v.y + (double)v.z * v.z);
        if (isfinite(length) && length > 1e-30) {
            FUZZ_CHECK(vec_angle(&v, &entry->v) <= NETCORE_UNIT_VEC_MAX_ERROR_RAD(p->bits));
        }
        return 2 * (size_t)p->bits;
    }
    case OP_QUAT: {
        if (!quat_bits_ok(p->bits)) {
            return SIZE_MAX;
        }
        netcore_quat q;
        q.x = source_float(source, -1.0, 1.0);
        q.y = source_float(source, -1.0, 1.0);
        q.z = source_float(source, -1.0, 1.0);
        q.w = source_float(source, -1.0, 1.0);
        netcore_bit_write_quat(writer, &q, p->bits);
        entry->q = netcore_quat_quantized(&q, p->bits);
        netcore_quat negated = {-q.x, -q.y, -q.z, -q.w};
        FUZZ_CHECK(quat_same_bits(netcore_quat_quantized(&negated, p->bits), entry->q));
        double norm2 =
            (double)q.x * q.x + (double)q.y * q.y + (double)q.z * q.z + (double)q.w * q.w;
        if (isfinite(norm2) && norm2 > 1e-60) {
            FUZZ_CHECK(quat_angle(&q, &entry->q) <= NETCORE_QUAT_MAX_ERROR_RAD(p->bits));
        }
        return 2 + 3 * (size_t)p->bits;
    }
    case OP_ALIGN: {
        size_t written = netcore_bit_writer_bits_written(writer);
        netcore_bit_writer_align(writer);
        return (8 - written % 8) % 8;
    }
    default:
        return 0;
    }
}

/* Invalid parameters must fail a writer with NETCORE_ERR_INVALID_ARGUMENT and
 * write nothing. */
static void check_invalid_write(const op_params *p)
{
    uint8_t buffer[16];
    netcore_bit_writer writer;
    netcore_bit_writer_init(&writer, buffer, sizeof(buffer));
    netcore_vec3 v = {1.0f, 0.0f, 0.0f};
    netcore_quat q = {0.0f, 0.0f, 0.0f, 1.0f};
    switch (p->op) {
    case OP_BITS:
        netcore_bit_write_bits(&writer, 1, p->bits);
        break;
    case OP_U64:
        netcore_bit_write_u64(&writer, 1, p->bits);
        break;
    case OP_INT_RANGE:
        netcore_bit_write_int_range(&writer, 0, p->min, p->max);
        break;
    case OP_QUANT:
        netcore_bit_write_quant(&writer, NULL, 0.0f);
        break;
    case OP_ANGLE:
        netcore_bit_write_angle(&writer, 1.0f, p->bits);
        break;
    case OP_UNIT_VEC:
        netcore_bit_write_unit_vec(&writer, &v, p->bits);
        break;
    case OP_QUAT:
        netcore_bit_write_quat(&writer, &q, p->bits);
        break;
    default:
        FUZZ_CHECK(false);
    }
    FUZZ_CHECK(netcore_bit_writer_status(&writer) == NETCORE_ERR_INVALID_ARGUMENT);
    FUZZ_CHECK(netcore_bit_writer_bits_written(&writer) == 0);
}

/* Reads one logged value back and compares it bit for bit. */
static void read_back(netcore_bit_reader *reader, const logged_write *entry)
{
    const op_params *p = &entry->p;
    uint8_t bytes[FUZZ_MAX_BYTES];
    switch (p->op) {
    case OP_BITS:
        FUZZ_CHECK(netcore_bit_read_bits(reader, p->bits) == entry->u);
        break;
    case OP_U64:
        FUZZ_CHECK(netcore_bit_read_u64(reader, p->bits) == entry->u);
        break;
    case OP_BOOL:
        FUZZ_CHECK(netcore_bit_read_bool(reader) == (entry->u != 0));
        break;
    case OP_BYTES:
        netcore_bit_read_bytes(reader, bytes, p->length);
        FUZZ_CHECK(p->length == 0 || memcmp(bytes, entry->bytes, p->length) == 0);
        break;
    case OP_FLOAT:
        FUZZ_CHECK(bits_of_float(netcore_bit_read_float(reader)) == entry->u);
        break;
    case OP_INT_RANGE:
        FUZZ_CHECK(netcore_bit_read_int_range(reader, p->min, p->max) == entry->i);
        break;
    case OP_VARINT:
        FUZZ_CHECK(netcore_bit_read_varint(reader) == entry->u);
        break;
    case OP_VARINT_SIGNED:
        FUZZ_CHECK(netcore_bit_read_varint_signed(reader) == entry->i);
        break;
    case OP_QUANT:
        FUZZ_CHECK(bits_of_float(netcore_bit_read_quant(reader, &p->quant)) ==
                   bits_of_float(entry->f));
        break;
    case OP_ANGLE:
        FUZZ_CHECK(bits_of_float(netcore_bit_read_angle(reader, p->bits)) ==
                   bits_of_float(entry->f));
        break;
    case OP_UNIT_VEC: {
        netcore_vec3 v = netcore_bit_read_unit_vec(reader, p->bits);
        FUZZ_CHECK(memcmp(&v, &entry->v, sizeof(v)) == 0);
        break;
    }
    case OP_QUAT:
        FUZZ_CHECK(quat_same_bits(netcore_bit_read_quat(reader, p->bits), entry->q));
        break;
    case OP_ALIGN:
        netcore_bit_reader_align(reader);
        break;
    default:
        break;
    }
    FUZZ_CHECK(!netcore_bit_reader_failed(reader));
    FUZZ_CHECK(netcore_bit_reader_bits_read(reader) == entry->bits_after);
}

static void run_writer_phase(const uint8_t *script_bytes, size_t script_size, size_t capacity,
                             const uint8_t *payload, size_t payload_size)
{
    /* Exactly capacity bytes on the heap: a write past it is an ASan report. */
    uint8_t *buffer = malloc(capacity > 0 ? capacity : 1);
    logged_write *log = malloc(FUZZ_MAX_OPS * sizeof(*log));
    FUZZ_CHECK(buffer != NULL && log != NULL);
    netcore_bit_writer writer;
    netcore_bit_writer_init(&writer, buffer, capacity);
    netcore_bit_reader source;
    netcore_bit_reader_init(&source, payload, payload_size);

    script s = {script_bytes, script_size, 0};
    size_t logged = 0;
    for (int n = 0; n < FUZZ_MAX_OPS && s.pos < s.size; n++) {
        op_params p = parse_op(&s);
        bool failed_before = netcore_bit_writer_failed(&writer);
        size_t before = netcore_bit_writer_bits_written(&writer);
        size_t remaining = netcore_bit_writer_bits_remaining(&writer);
        size_t needed = write_op(&writer, &p, &source, &log[logged]);
        if (needed == SIZE_MAX) {
            check_invalid_write(&p);
            continue;
        }
        size_t after = netcore_bit_writer_bits_written(&writer);
        FUZZ_CHECK(after <= capacity * 8);
        FUZZ_CHECK(after + netcore_bit_writer_bits_remaining(&writer) == capacity * 8);
        if (failed_before || needed > remaining) {
            /* Exact bounds: too big fails, and nothing of it is written. */
            FUZZ_CHECK(netcore_bit_writer_status(&writer) == NETCORE_ERR_TOO_LARGE);
            FUZZ_CHECK(after == before);
            continue;
        }
        FUZZ_CHECK(!netcore_bit_writer_failed(&writer));
        FUZZ_CHECK(after - before == needed);
        log[logged].bits_after = after;
        logged++;
    }

    size_t bits = netcore_bit_writer_bits_written(&writer);
    size_t size = netcore_bit_writer_flush(&writer);
    FUZZ_CHECK(size == (bits + 7) / 8 && size <= capacity);
    FUZZ_CHECK(size == netcore_bit_writer_bytes_written(&writer));

    /* Read back from an exact-size copy of what was written. */
    uint8_t *message = malloc(size > 0 ? size : 1);
    FUZZ_CHECK(message != NULL);
    if (size > 0) {
        memcpy(message, buffer, size);
    }
    netcore_bit_reader reader;
    netcore_bit_reader_init(&reader, message, size);
    for (size_t i = 0; i < logged; i++) {
        read_back(&reader, &log[i]);
    }
    FUZZ_CHECK(netcore_bit_reader_bits_remaining(&reader) < 8);
    netcore_bit_reader_align(&reader); /* the flush padding is zero */
    FUZZ_CHECK(!netcore_bit_reader_failed(&reader));
    FUZZ_CHECK(netcore_bit_reader_bits_remaining(&reader) == 0);
    FUZZ_CHECK(netcore_bit_read_bits(&reader, 1) == 0 && netcore_bit_reader_failed(&reader));

    free(message);
    free(log);
    free(buffer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    size_t script_size = data[0];
    size_t capacity = data[1];
    if (script_size > size - 2) {
        script_size = size - 2;
    }
    const uint8_t *script_bytes = data + 2;
    const uint8_t *payload = script_bytes + script_size;
    size_t payload_size = size - 2 - script_size;

    /* Phase 1: the script as reads over arbitrary bytes. */
    netcore_bit_reader reader;
    netcore_bit_reader_init(&reader, payload, payload_size);
    script s = {script_bytes, script_size, 0};
    for (int n = 0; n < FUZZ_MAX_OPS && s.pos < s.size; n++) {
        op_params p = parse_op(&s);
        read_op(&reader, &p, payload_size);
    }

    run_writer_phase(script_bytes, script_size, capacity, payload, payload_size);
    return 0;
}
