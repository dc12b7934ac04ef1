/** @file
 * netcore bit packing: a bit writer over a caller-owned buffer and a bit
 * reader over caller-owned bytes, plus the value codecs snapshot replication
 * is built from (ranged ints, varints, quantized floats, angles, unit vectors,
 * "smallest three" quaternions) and wraparound sequence numbers.
 *
 * Wire format: bits are packed little-endian, independent of the host. The
 * first value written occupies the lowest bits of byte 0; a value's bit k
 * (k = 0 is its least significant bit) goes to stream bit (position + k), and
 * stream bit p lives in byte p / 8 at bit p % 8. Unused bits of the last byte
 * are zero. Floats travel as their IEEE-754 bit pattern (memcpy, never casts of
 * packed structs).
 *
 * Errors are sticky. Each writer and reader carries a status that starts as
 * NETCORE_OK; the first failure sets it and it never goes back. Once failed,
 * every later write is a no-op and every later read is a no-op returning zero
 * (or, for decoders of structured values, the documented "zero" of the type,
 * which is always finite and in range). So a caller writes or reads a whole
 * message and checks the status once at the end:
 *   - writer: NETCORE_ERR_TOO_LARGE when a write does not fit in the buffer
 *     (the writer never writes past capacity_bytes; a value that does not fit
 *     is not written at all, not even partly), NETCORE_ERR_INVALID_ARGUMENT for
 *     a bad bit count or NULL pointer from the caller;
 *   - reader: NETCORE_ERR_MALFORMED when a read runs past the end (the reader
 *     never reads past size_bytes) or the bits decode to an invalid value (a
 *     ranged int above its range, an overlong varint, non-zero alignment
 *     padding, ...), NETCORE_ERR_INVALID_ARGUMENT for a bad bit count.
 * Bounds are exact: a buffer of n bytes holds exactly 8n bits, and a reader
 * over n bytes yields exactly 8n bits.
 *
 * No function here allocates. Writers and readers are plain structs the caller
 * places anywhere (usually the stack); their fields are private. One writer or
 * reader per thread at a time. Quantization uses IEEE-754 double arithmetic
 * only (no -ffast-math, no x87 extended precision), so the value a reader
 * decodes is bit-identical on every conforming platform, and the *_quantized()
 * functions return exactly what a reader will decode.
 */
#ifndef NETCORE_BITPACK_H
#define NETCORE_BITPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Writer and reader                                                   */
/* ------------------------------------------------------------------ */

/** Bit writer. Fields are private: use the functions below. */
typedef struct netcore_bit_writer {
    uint8_t *data;         /**< caller's buffer, not owned */
    size_t capacity_bits;  /**< 8 * capacity_bytes */
    size_t flushed_bytes;  /**< bytes already stored in data */
    uint64_t scratch;      /**< pending bits, lowest first */
    unsigned scratch_bits; /**< number of pending bits (< 32 between calls) */
    netcore_result status; /**< sticky: NETCORE_OK until the first failure */
} netcore_bit_writer;

/** Bit reader. Fields are private: use the functions below. */
typedef struct netcore_bit_reader {
    const uint8_t *data;   /**< caller's bytes, not owned */
    size_t size_bytes;     /**< bytes in data */
    size_t size_bits;      /**< 8 * size_bytes */
    size_t bits_read;      /**< bits consumed by the caller */
    size_t loaded_bytes;   /**< bytes already moved into scratch */
    uint64_t scratch;      /**< loaded, unconsumed bits, lowest first */
    unsigned scratch_bits; /**< number of loaded, unconsumed bits */
    netcore_result status; /**< sticky: NETCORE_OK until the first failure */
} netcore_bit_reader;

/**
 * Starts writing at the beginning of buffer, which the caller owns and must
 * keep alive while writing. capacity_bytes may be 0 (every write then fails);
 * capacities above SIZE_MAX / 8 are treated as SIZE_MAX / 8. The buffer's
 * contents are only meaningful after netcore_bit_writer_flush(). A NULL buffer
 * with a non-zero capacity leaves the writer failed with
 * NETCORE_ERR_INVALID_ARGUMENT.
 */
void netcore_bit_writer_init(netcore_bit_writer *writer, void *buffer, size_t capacity_bytes);

/**
 * Stores every pending bit into the buffer (the last byte zero-padded) and
 * returns the number of bytes used, ceil(bits written / 8). Call before
 * sending the buffer. Writing may continue afterwards (a later flush rewrites
 * the partial last byte). A failed writer still reports the bytes written
 * before the failure.
 */
size_t netcore_bit_writer_flush(netcore_bit_writer *writer);

/** Bits written so far (values that failed to fit are not counted). */
size_t netcore_bit_writer_bits_written(const netcore_bit_writer *writer);
/** Bytes the message occupies so far: ceil(bits written / 8). */
size_t netcore_bit_writer_bytes_written(const netcore_bit_writer *writer);
/** Bits that still fit: 8 * capacity_bytes - bits written. */
size_t netcore_bit_writer_bits_remaining(const netcore_bit_writer *writer);

/** Writes zero bits up to the next byte boundary (none if already aligned).
 * Fails like a write if the padding does not fit. */
void netcore_bit_writer_align(netcore_bit_writer *writer);

/** NETCORE_OK, or the first failure (NETCORE_ERR_TOO_LARGE, NETCORE_ERR_INVALID_ARGUMENT). */
netcore_result netcore_bit_writer_status(const netcore_bit_writer *writer);
/** Same as netcore_bit_writer_status(writer) != NETCORE_OK. */
bool netcore_bit_writer_failed(const netcore_bit_writer *writer);

/**
 * Starts reading at the beginning of data (size_bytes bytes, owned by the
 * caller, kept alive while reading). size_bytes may be 0; sizes above
 * SIZE_MAX / 8 are treated as SIZE_MAX / 8. NULL data with a non-zero size
 * leaves the reader failed with NETCORE_ERR_INVALID_ARGUMENT.
 */
void netcore_bit_reader_init(netcore_bit_reader *reader, const void *data, size_t size_bytes);

/** Bits consumed so far; never more than 8 * size_bytes. */
size_t netcore_bit_reader_bits_read(const netcore_bit_reader *reader);
/** Bits left: 8 * size_bytes - bits read. */
size_t netcore_bit_reader_bits_remaining(const netcore_bit_reader *reader);
/** Bytes touched so far: ceil(bits read / 8). */
size_t netcore_bit_reader_bytes_read(const netcore_bit_reader *reader);

/** Skips to the next byte boundary. The skipped padding bits must be zero (a
 * writer's align writes zeros); otherwise the reader fails with
 * NETCORE_ERR_MALFORMED. */
void netcore_bit_reader_align(netcore_bit_reader *reader);

/** NETCORE_OK, or the first failure (NETCORE_ERR_MALFORMED, NETCORE_ERR_INVALID_ARGUMENT). */
netcore_result netcore_bit_reader_status(const netcore_bit_reader *reader);
/** Same as netcore_bit_reader_status(reader) != NETCORE_OK. */
bool netcore_bit_reader_failed(const netcore_bit_reader *reader);

/* ------------------------------------------------------------------ */
/* Raw bits, bools, bytes, floats                                      */
/* ------------------------------------------------------------------ */

/** Writes the low `bits` bits of value; higher bits of value are ignored.
 * bits 0 writes nothing; bits > 32 fails with NETCORE_ERR_INVALID_ARGUMENT. */
void netcore_bit_write_bits(netcore_bit_writer *writer, uint32_t value, unsigned bits);
/** Reads `bits` bits (0..32; 0 returns 0 and consumes nothing). */
uint32_t netcore_bit_read_bits(netcore_bit_reader *reader, unsigned bits);

/** Same for 0..64 bits (written as a low half then a high half). */
void netcore_bit_write_u64(netcore_bit_writer *writer, uint64_t value, unsigned bits);
/** Reads 0..64 bits written by netcore_bit_write_u64(); 0 after a failure
 * (bits > 64: NETCORE_ERR_INVALID_ARGUMENT; past the end: NETCORE_ERR_MALFORMED). */
uint64_t netcore_bit_read_u64(netcore_bit_reader *reader, unsigned bits);

/** One bit. */
void netcore_bit_write_bool(netcore_bit_writer *writer, bool value);
/** Reads one bit; false after a failure. */
bool netcore_bit_read_bool(netcore_bit_reader *reader);

/**
 * size_bytes bytes, at any bit position (a fast copy when byte-aligned).
 * All-or-nothing: if they do not all fit, nothing is written/read and the
 * writer/reader fails. On a failed read, out is zero-filled. NULL with a
 * non-zero size fails with NETCORE_ERR_INVALID_ARGUMENT.
 */
void netcore_bit_write_bytes(netcore_bit_writer *writer, const void *bytes, size_t size_bytes);
/** Reads size_bytes bytes into out (caller's buffer of at least size_bytes);
 * all-or-nothing as above, out zero-filled on failure. */
void netcore_bit_read_bytes(netcore_bit_reader *reader, void *out, size_t size_bytes);

/** A float's 32-bit IEEE-754 pattern, unchanged. The value read may be any
 * pattern, including NaN or infinity: validate it before use. */
void netcore_bit_write_float(netcore_bit_writer *writer, float value);
/** Reads a float's 32-bit pattern; 0.0f after a failure. May be NaN or infinite. */
float netcore_bit_read_float(netcore_bit_reader *reader);

/* ------------------------------------------------------------------ */
/* Integers: ranges and varints                                        */
/* ------------------------------------------------------------------ */

/** Bits needed to hold every integer 0..max_value: 0 for 0, 1 for 1, 2 for
 * 2..3, ..., 32 for values above 2^31 - 1. */
unsigned netcore_bits_required(uint32_t max_value);

/** Bits a value in [min, max] takes on the wire: netcore_bits_required(max - min)
 * (0 when min == max: the value is implied and nothing is written).
 * Returns 0 if min > max. */
unsigned netcore_int_range_bits(int32_t min, int32_t max);

/**
 * A signed integer in [min, max], sent as (value - min) in
 * netcore_int_range_bits(min, max) bits. The writer clamps values outside the
 * range; min > max fails with NETCORE_ERR_INVALID_ARGUMENT. The reader fails
 * with NETCORE_ERR_MALFORMED if the bits decode above max (possible when the
 * range is not a power of two). After a failure the reader returns min.
 */
void netcore_bit_write_int_range(netcore_bit_writer *writer, int32_t value, int32_t min,
                                 int32_t max);
/** Reads a value written by netcore_bit_write_int_range() with the same
 * bounds; min after a failure (see above). */
int32_t netcore_bit_read_int_range(netcore_bit_reader *reader, int32_t min, int32_t max);

/** Longest varint on the wire, in bytes (64 bits in 7-bit groups). */
#define NETCORE_VARINT_MAX_BYTES 10

/**
 * Unsigned varint, LEB128-style: 7-bit groups, least significant group
 * first, each group in 8 stream bits with bit 7 set when another group
 * follows. Need not be byte-aligned. 0..127 take 8 bits, up to 70 bits for
 * the largest values. The reader accepts only the shortest encoding: it fails
 * with NETCORE_ERR_MALFORMED on an overlong encoding (a final group of zero
 * after the first), a value above UINT64_MAX (10th group > 1), or more than
 * NETCORE_VARINT_MAX_BYTES groups. So every value has exactly one encoding.
 */
void netcore_bit_write_varint(netcore_bit_writer *writer, uint64_t value);
/** Reads an unsigned varint; 0 after a failure (NETCORE_ERR_MALFORMED for any
 * non-shortest or too long encoding, as above). */
uint64_t netcore_bit_read_varint(netcore_bit_reader *reader);
/** Bits netcore_bit_write_varint(value) takes: 8 * number of groups (8..80). */
unsigned netcore_varint_bits(uint64_t value);

/** Zigzag mapping of signed to unsigned (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...),
 * so small magnitudes make short varints. Exact for every int64_t. */
uint64_t netcore_zigzag_encode(int64_t value);
/** Inverse of netcore_zigzag_encode(); exact for every uint64_t. */
int64_t netcore_zigzag_decode(uint64_t value);

/** Signed varint: zigzag then varint. Same rejection rules as the unsigned form. */
void netcore_bit_write_varint_signed(netcore_bit_writer *writer, int64_t value);
/** Reads a signed varint; 0 after a failure. */
int64_t netcore_bit_read_varint_signed(netcore_bit_reader *reader);

/* ------------------------------------------------------------------ */
/* Quantized floats                                                    */
/* ------------------------------------------------------------------ */

/**
 * A quantizer for floats in [min, max] with a given precision (the largest
 * allowed error, times two: every value in range decodes within precision / 2
 * of itself, float rounding included). Make one with netcore_quant_init() and
 * keep it (e.g. in a schema); fields are read-only for callers.
 */
typedef struct netcore_quant {
    float min;       /**< lowest value; exact on the wire */
    float max;       /**< highest value; exact on the wire */
    float precision; /**< twice the largest error, in the values' unit */
    uint32_t steps;  /**< wire values are integers 0..steps; steps >= 1 */
    unsigned bits;   /**< bits on the wire: netcore_bits_required(steps), 1..24 */
} netcore_quant;

/**
 * Fills *quant for [min, max] at `precision` (same unit as the values, e.g.
 * metres). The grid has `steps` equal intervals with steps chosen as the
 * smallest count whose spacing, plus float rounding, keeps the error within
 * precision / 2; min and max themselves are exact. Quantizing is idempotent:
 * netcore_quant_value() of a decoded value returns that value, so a stored
 * value re-sent decodes identically.
 * Example: [-256, 256] at 0.002 (error at most 1 mm) -> 259,967 steps,
 * 18 bits. Both ends are grid points, so a power-of-two range at a
 * power-of-two precision needs one bit more than range / precision suggests.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT if quant is NULL, a bound or the
 * precision is not finite, min >= max, precision <= 0, precision is finer
 * than floats can carry (below 5 float ulps of max(|min|, |max|), about
 * 6e-7 * max(|min|, |max|)). That rule also keeps bits at 24 or below.
 * On error *quant is left with bits = 0 (unusable).
 */
netcore_result netcore_quant_init(netcore_quant *quant, float min, float max, float precision);

/** The integer sent for value: clamps to [min, max] first (NaN counts as min). */
uint32_t netcore_quant_index(const netcore_quant *quant, float value);
/** The float a reader decodes from index (index clamped to steps); in [min, max]. */
float netcore_quant_dequantize(const netcore_quant *quant, uint32_t index);
/** Exactly what a reader will decode after the writer sends value:
 * netcore_quant_dequantize(quant, netcore_quant_index(quant, value)).
 * A server stores this so its state matches every client bit for bit. */
float netcore_quant_value(const netcore_quant *quant, float value);

/** Writes netcore_quant_index(quant, value) in quant->bits bits. An unusable
 * quant (bits 0) fails with NETCORE_ERR_INVALID_ARGUMENT. */
void netcore_bit_write_quant(netcore_bit_writer *writer, const netcore_quant *quant, float value);
/** Reads quant->bits bits; fails with NETCORE_ERR_MALFORMED on an index above
 * quant->steps. After a failure returns quant->min (0 for an unusable quant). */
float netcore_bit_read_quant(netcore_bit_reader *reader, const netcore_quant *quant);

/* ------------------------------------------------------------------ */
/* Angles, unit vectors, quaternions                                   */
/* ------------------------------------------------------------------ */

/** A 3D vector (position, velocity, direction). A plain value: copy freely. */
typedef struct netcore_vec3 {
    float x; /**< first component */
    float y; /**< second component */
    float z; /**< third component */
} netcore_vec3;

/** A rotation as a quaternion, normally of unit length. A plain value: copy
 * freely. Identity is (0, 0, 0, 1). */
typedef struct netcore_quat {
    float x; /**< vector part, x */
    float y; /**< vector part, y */
    float z; /**< vector part, z */
    float w; /**< scalar part */
} netcore_quat;

/**
 * An angle in radians, any value (wrapped modulo 2*pi), in `bits` bits
 * (1..32): 2^bits equal steps around the circle. Decodes into [-pi, pi)
 * (as a float, a half turn reads as -pi and values just below pi may round
 * to float(pi)). Error (the shortest angular distance to the input) is at
 * most pi / 2^bits + 2^-22 radians (the last term is float rounding) for
 * |radians| < 1e6; beyond, the rounding of 2*pi adds about 4e-17 * |radians|.
 * Non-finite input is sent as 0. A bad bit count fails with
 * NETCORE_ERR_INVALID_ARGUMENT; a failed read returns 0.
 */
void netcore_bit_write_angle(netcore_bit_writer *writer, float radians, unsigned bits);
/** Reads an angle written with the same `bits`; radians in [-pi, pi], 0 after a failure. */
float netcore_bit_read_angle(netcore_bit_reader *reader, unsigned bits);
/** Exactly what a reader decodes; 0 for a bad bit count. */
float netcore_angle_quantized(float radians, unsigned bits);

/** Fewest bits per coordinate for a unit vector. */
#define NETCORE_UNIT_VEC_BITS_MIN 2
/** Most bits per coordinate for a unit vector. */
#define NETCORE_UNIT_VEC_BITS_MAX 24

/**
 * A direction, octahedral encoding: the vector is projected onto the
 * octahedron |x| + |y| + |z| = 1, the lower half folded over, and the two
 * resulting coordinates in [-1, 1] sent with `bits` bits each (2 * bits in
 * all), on a grid of 2^bits - 1 points that includes 0, so the six axis
 * directions are exact. The input need not be normalised (it is normalised
 * first); zero or non-finite input is sent as +Z. The decoded vector has unit
 * length (to float rounding). Maximum angle between input and decoded
 * direction: see NETCORE_UNIT_VEC_MAX_ERROR_RAD(bits).
 * The reader fails with NETCORE_ERR_MALFORMED on the unused code 2^bits - 1;
 * a failed read returns +Z (0, 0, 1). bits outside
 * [NETCORE_UNIT_VEC_BITS_MIN, NETCORE_UNIT_VEC_BITS_MAX] fail with
 * NETCORE_ERR_INVALID_ARGUMENT.
 */
void netcore_bit_write_unit_vec(netcore_bit_writer *writer, const netcore_vec3 *direction,
                                unsigned bits);
/** Reads a direction written with the same `bits`; unit length, +Z after a failure. */
netcore_vec3 netcore_bit_read_unit_vec(netcore_bit_reader *reader, unsigned bits);
/** Exactly what a reader decodes; +Z for a bad bit count. */
netcore_vec3 netcore_unit_vec_quantized(const netcore_vec3 *direction, unsigned bits);
/** Upper bound on the angle in radians between a direction and its decoded
 * form, for `bits` bits per coordinate: 2.2 grid spacings of 2 / (2^bits - 2)
 * (the octahedron's stretch gives 2.12 to first order; 2.11 was the largest
 * seen over 400,000 random directions per bit count) plus float rounding.
 * About 0.0043 rad (0.25 degrees) for 10 bits. Checked by the tests. */
#define NETCORE_UNIT_VEC_MAX_ERROR_RAD(bits) (4.4 / (double)((1u << (bits)) - 2u) + 2.4e-7)

/** Fewest bits per sent quaternion component. */
#define NETCORE_QUAT_BITS_MIN 9
/** Most bits per sent quaternion component. */
#define NETCORE_QUAT_BITS_MAX 24

/**
 * A rotation, "smallest three": 2 bits give the index of the component with
 * the largest magnitude, then the other three (each in [-1/sqrt2, 1/sqrt2])
 * follow in order x, y, z, w (skipping the largest) with `bits` bits each, on
 * a grid of 2^bits - 1 points that includes 0. Total 2 + 3 * bits bits
 * (29 for bits = 9). The largest component is rebuilt from the unit-length
 * constraint. q and -q are the same rotation and encode to the same bits: the
 * sign is chosen so the largest component is positive (ties go to the first
 * such component in x, y, z, w order, identically for q and -q).
 * The input need not be normalised (it is normalised first); zero or
 * non-finite input is sent as identity. The decoded quaternion has unit
 * length (to float rounding) and a non-negative component at the sent index.
 * Error: each sent component is within 1/(sqrt2 * (2^bits - 2)) of the
 * normalised input (plus float rounding); the rotation angle between input
 * and decoded is below NETCORE_QUAT_MAX_ERROR_RAD(bits).
 * The reader fails with NETCORE_ERR_MALFORMED on the unused code 2^bits - 1
 * or on components whose squares sum above 1; a failed read returns
 * identity. bits outside [NETCORE_QUAT_BITS_MIN, NETCORE_QUAT_BITS_MAX] fail
 * with NETCORE_ERR_INVALID_ARGUMENT.
 */
void netcore_bit_write_quat(netcore_bit_writer *writer, const netcore_quat *rotation,
                            unsigned bits);
/** Reads a rotation written with the same `bits`; unit length, identity after a failure. */
netcore_quat netcore_bit_read_quat(netcore_bit_reader *reader, unsigned bits);

/** Exactly what a reader decodes (largest component positive); identity for a
 * bad bit count. */
netcore_quat netcore_quat_quantized(const netcore_quat *rotation, unsigned bits);
/** Upper bound on the rotation angle in radians between a quaternion and its
 * decoded form, for `bits` bits per component: 5 / (2^bits - 2) plus float
 * rounding (the sent components' error, and its effect on the rebuilt largest
 * one, give 4.9 / (2^bits - 2) to first order; 4.5 was the largest seen over
 * 400,000 random rotations per bit count). About 0.0098 rad (0.56 degrees)
 * for 9 bits. Checked by the tests. */
#define NETCORE_QUAT_MAX_ERROR_RAD(bits) (5.0 / (double)((1u << (bits)) - 2u) + 2.4e-7)

/* ------------------------------------------------------------------ */
/* Sequence numbers                                                    */
/* ------------------------------------------------------------------ */

/**
 * 16-bit sequence numbers that wrap around. a is "greater" (newer) than b
 * when it is ahead of b by 1..32767 steps modulo 65536; so 0 is greater than
 * 65535. Exactly half a cycle apart (32768), neither is greater.
 * netcore_seq_greater(a, b) == (netcore_seq_diff(a, b) > 0).
 */
bool netcore_seq_greater(uint16_t a, uint16_t b);
/** Signed distance from b to a, the shortest way round, in [-32768, 32767]:
 * (uint16_t)(b + diff) == a. Exactly half a cycle apart gives -32768. */
int32_t netcore_seq_diff(uint16_t a, uint16_t b);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_BITPACK_H */
