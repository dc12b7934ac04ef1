/* Bit writer and reader, raw values, integers and sequence numbers; the wire
 * format is described in bitpack.h. */
#include "replication/bitpack_internal.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Static helpers                                                      */
/* ------------------------------------------------------------------ */

static size_t clamp_size_bytes(size_t size_bytes)
{
    /* Positions are counted in bits in a size_t: keep 8 * size representable. */
    return size_bytes > SIZE_MAX / 8 ? SIZE_MAX / 8 : size_bytes;
}

/* ------------------------------------------------------------------ */
/* Writer and reader                                                   */
/* ------------------------------------------------------------------ */

void netcore_bit_writer_init(netcore_bit_writer *writer, void *buffer, size_t capacity_bytes)
{
    if (writer == NULL) {
        return;
    }
    memset(writer, 0, sizeof(*writer));
    writer->status = NETCORE_OK;
    if (buffer == NULL) {
        if (capacity_bytes != 0) {
            writer->status = NETCORE_ERR_INVALID_ARGUMENT;
        }
        return;
    }
    writer->data = buffer;
    writer->capacity_bits = clamp_size_bytes(capacity_bytes) * 8;
}

size_t netcore_bit_writer_flush(netcore_bit_writer *writer)
{
    size_t pending_bytes = (writer->scratch_bits + 7) / 8;
    for (size_t i = 0; i < pending_bytes; i++) {
        writer->data[writer->flushed_bytes + i] = (uint8_t)(writer->scratch >> (8 * i));
    }
    return writer->flushed_bytes + pending_bytes;
}

size_t netcore_bit_writer_bits_written(const netcore_bit_writer *writer)
{
    return writer->flushed_bytes * 8 + writer->scratch_bits;
}

size_t netcore_bit_writer_bytes_written(const netcore_bit_writer *writer)
{
    return writer->flushed_bytes + (writer->scratch_bits + 7) / 8;
}

size_t netcore_bit_writer_bits_remaining(const netcore_bit_writer *writer)
{
    return writer->capacity_bits - netcore_bit_writer_bits_written(writer);
}

void netcore_bit_writer_align(netcore_bit_writer *writer)
{
    unsigned padding = (8u - writer->scratch_bits % 8u) % 8u;
    if (padding != 0 && nci_bit_writer_reserve(writer, padding)) {
        nci_bit_writer_put(writer, 0, padding);
    }
}

netcore_result netcore_bit_writer_status(const netcore_bit_writer *writer)
{
    return writer->status;
}

bool netcore_bit_writer_failed(const netcore_bit_writer *writer)
{
    return writer->status != NETCORE_OK;
}

void netcore_bit_reader_init(netcore_bit_reader *reader, const void *data, size_t size_bytes)
{
    if (reader == NULL) {
        return;
    }
    memset(reader, 0, sizeof(*reader));
    reader->status = NETCORE_OK;
    if (data == NULL) {
        if (size_bytes != 0) {
            reader->status = NETCORE_ERR_INVALID_ARGUMENT;
        }
        return;
    }
    reader->data = data;
    reader->size_bytes = clamp_size_bytes(size_bytes);
    reader->size_bits = reader->size_bytes * 8;
}

size_t netcore_bit_reader_bits_read(const netcore_bit_reader *reader)
{
    return reader->bits_read;
}

size_t netcore_bit_reader_bits_remaining(const netcore_bit_reader *reader)
{
    return reader->size_bits - reader->bits_read;
}

size_t netcore_bit_reader_bytes_read(const netcore_bit_reader *reader)
{
    return (reader->bits_read + 7) / 8;
}

void netcore_bit_reader_align(netcore_bit_reader *reader)
{
    unsigned padding = (unsigned)((8u - reader->bits_read % 8u) % 8u);
    /* The data is a whole number of bytes, so the padding is always there. */
    if (padding != 0 && nci_bit_reader_require(reader, padding) &&
        nci_bit_reader_take(reader, padding) != 0) {
        nci_bit_reader_fail(reader, NETCORE_ERR_MALFORMED);
    }
}

netcore_result netcore_bit_reader_status(const netcore_bit_reader *reader)
{
    return reader->status;
}

bool netcore_bit_reader_failed(const netcore_bit_reader *reader)
{
    return reader->status != NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Raw bits, bools, bytes, floats                                      */
/* ------------------------------------------------------------------ */

void netcore_bit_write_bits(netcore_bit_writer *writer, uint32_t value, unsigned bits)
{
    if (bits > 32) {
        nci_bit_writer_fail(writer, NETCORE_ERR_INVALID_ARGUMENT);
        return;
    }
    if (bits != 0 && nci_bit_writer_reserve(writer, bits)) {
        nci_bit_writer_put(writer, value, bits);
    }
}

uint32_t netcore_bit_read_bits(netcore_bit_reader *reader, unsigned bits)
{
    if (bits > 32) {
        nci_bit_reader_fail(reader, NETCORE_ERR_INVALID_ARGUMENT);
        return 0;
    }
    if (bits == 0 || !nci_bit_reader_require(reader, bits)) {
        return 0;
    }
    return nci_bit_reader_take(reader, bits);
}

void netcore_bit_write_u64(netcore_bit_writer *writer, uint64_t value, unsigned bits)
{
    if (bits > 64) {
        nci_bit_writer_fail(writer, NETCORE_ERR_INVALID_ARGUMENT);
        return;
    }
    if (bits == 0 || !nci_bit_writer_reserve(writer, bits)) {
        return;
    }
    unsigned low_bits = bits < 32 ? bits : 32;
    nci_bit_writer_put(writer, (uint32_t)value, low_bits);
    if (bits > 32) {
        nci_bit_writer_put(writer, (uint32_t)(value >> 32), bits - 32);
    }
}

uint64_t netcore_bit_read_u64(netcore_bit_reader *reader, unsigned bits)
{
    if (bits > 64) {
        nci_bit_reader_fail(reader, NETCORE_ERR_INVALID_ARGUMENT);
        return 0;
    }
    if (bits == 0 || !nci_bit_reader_require(reader, bits)) {
        return 0;
    }
    unsigned low_bits = bits < 32 ? bits : 32;
    uint64_t value = nci_bit_reader_take(reader, low_bits);
    if (bits > 32) {
        value |= (uint64_t)nci_bit_reader_take(reader, bits - 32) << 32;
    }
    return value;
}

void netcore_bit_write_bool(netcore_bit_writer *writer, bool value)
{
    if (nci_bit_writer_reserve(writer, 1)) {
        nci_bit_writer_put(writer, value ? 1u : 0u, 1);
    }
}

bool netcore_bit_read_bool(netcore_bit_reader *reader)
{
    return nci_bit_reader_require(reader, 1) && nci_bit_reader_take(reader, 1) != 0;
}

void netcore_bit_write_bytes(netcore_bit_writer *writer, const void *bytes, size_t size_bytes)
{
    if (bytes == NULL && size_bytes != 0) {
        nci_bit_writer_fail(writer, NETCORE_ERR_INVALID_ARGUMENT);
        return;
    }
    if (size_bytes == 0 || writer->status != NETCORE_OK) {
        return;
    }
    /* Compare in bytes: size_bytes * 8 could overflow. */
    if (size_bytes > netcore_bit_writer_bits_remaining(writer) / 8) {
        nci_bit_writer_fail(writer, NETCORE_ERR_TOO_LARGE);
        return;
    }
    const uint8_t *src = bytes;
    if (writer->scratch_bits % 8 == 0) {
        /* Byte-aligned: store the pending whole bytes, then copy directly. */
        size_t pending_bytes = writer->scratch_bits / 8;
        for (size_t i = 0; i < pending_bytes; i++) {
            writer->data[writer->flushed_bytes + i] = (uint8_t)(writer->scratch >> (8 * i));
        }
        writer->flushed_bytes += pending_bytes;
        writer->scratch = 0;
        writer->scratch_bits = 0;
        memcpy(writer->data + writer->flushed_bytes, src, size_bytes);
        writer->flushed_bytes += size_bytes;
        return;
    }
    size_t i = 0;
    for (; i + 4 <= size_bytes; i += 4) {
        nci_bit_writer_put(writer, nci_bits_load_le32(src + i), 32);
    }
    for (; i < size_bytes; i++) {
        nci_bit_writer_put(writer, src[i], 8);
    }
}

void netcore_bit_read_bytes(netcore_bit_reader *reader, void *out, size_t size_bytes)
{
    if (out == NULL) {
        if (size_bytes != 0) {
            nci_bit_reader_fail(reader, NETCORE_ERR_INVALID_ARGUMENT);
        }
        return;
    }
    if (size_bytes == 0) {
        return;
    }
    uint8_t *dst = out;
    if (reader->status != NETCORE_OK ||
        size_bytes > netcore_bit_reader_bits_remaining(reader) / 8) {
        nci_bit_reader_fail(reader, NETCORE_ERR_MALFORMED);
        memset(dst, 0, size_bytes);
        return;
    }
    size_t i = 0;
    if (reader->bits_read % 8 == 0) {
        /* Byte-aligned: scratch then holds whole bytes; hand those out, then
         * copy the rest straight from the data. */
        for (; i < size_bytes && reader->scratch_bits > 0; i++) {
            dst[i] = (uint8_t)nci_bit_reader_take(reader, 8);
        }
        size_t direct = size_bytes - i;
        memcpy(dst + i, reader->data + reader->loaded_bytes, direct);
        reader->loaded_bytes += direct;
        reader->bits_read += direct * 8;
        return;
    }
    for (; i + 4 <= size_bytes; i += 4) {
        nci_bits_store_le32(dst + i, nci_bit_reader_take(reader, 32));
    }
    for (; i < size_bytes; i++) {
        dst[i] = (uint8_t)nci_bit_reader_take(reader, 8);
    }
}

void netcore_bit_write_float(netcore_bit_writer *writer, float value)
{
    uint32_t pattern;
    memcpy(&pattern, &value, sizeof(pattern));
    netcore_bit_write_bits(writer, pattern, 32);
}

float netcore_bit_read_float(netcore_bit_reader *reader)
{
    uint32_t pattern = netcore_bit_read_bits(reader, 32);
    float value;
    memcpy(&value, &pattern, sizeof(value));
    return value;
}

/* ------------------------------------------------------------------ */
/* Integers: ranges and varints                                        */
/* ------------------------------------------------------------------ */

unsigned netcore_bits_required(uint32_t max_value)
{
    if (max_value == 0) {
        return 0;
    }
#if defined(__GNUC__) || defined(__clang__)
    return 32u - (unsigned)__builtin_clz(max_value);
#else
    unsigned bits = 0;
    while (max_value != 0) {
        bits++;
        max_value >>= 1;
    }
    return bits;
#endif
}

unsigned netcore_int_range_bits(int32_t min, int32_t max)
{
    if (min > max) {
        return 0;
    }
    return netcore_bits_required((uint32_t)((int64_t)max - (int64_t)min));
}

void netcore_bit_write_int_range(netcore_bit_writer *writer, int32_t value, int32_t min,
                                 int32_t max)
{
    if (min > max) {
        nci_bit_writer_fail(writer, NETCORE_ERR_INVALID_ARGUMENT);
        return;
    }
    if (value < min) {
        value = min;
    } else if (value > max) {
        value = max;
    }
    netcore_bit_write_bits(writer, (uint32_t)((int64_t)value - (int64_t)min),
                           netcore_int_range_bits(min, max));
}

int32_t netcore_bit_read_int_range(netcore_bit_reader *reader, int32_t min, int32_t max)
{
    if (min > max) {
        nci_bit_reader_fail(reader, NETCORE_ERR_INVALID_ARGUMENT);
        return min;
    }
    uint32_t range = (uint32_t)((int64_t)max - (int64_t)min);
    uint32_t offset = netcore_bit_read_bits(reader, netcore_bits_required(range));
    if (reader->status != NETCORE_OK) {
        return min;
    }
    if (offset > range) {
        nci_bit_reader_fail(reader, NETCORE_ERR_MALFORMED);
        return min;
    }
    return (int32_t)((int64_t)min + (int64_t)offset);
}

unsigned netcore_varint_bits(uint64_t value)
{
    unsigned groups = 1;
    while (value > 0x7f) {
        value >>= 7;
        groups++;
    }
    return groups * 8;
}

void netcore_bit_write_varint(netcore_bit_writer *writer, uint64_t value)
{
    if (!nci_bit_writer_reserve(writer, netcore_varint_bits(value))) {
        return;
    }
    while (value > 0x7f) {
        nci_bit_writer_put(writer, (uint32_t)(value & 0x7f) | 0x80u, 8);
        value >>= 7;
    }
    nci_bit_writer_put(writer, (uint32_t)value, 8);
}

uint64_t netcore_bit_read_varint(netcore_bit_reader *reader)
{
    uint64_t value = 0;
    for (unsigned group = 0; group < NETCORE_VARINT_MAX_BYTES; group++) {
        if (!nci_bit_reader_require(reader, 8)) {
            return 0;
        }
        uint32_t byte = nci_bit_reader_take(reader, 8);
        uint64_t payload = byte & 0x7fu;
        /* The 10th group holds bit 63 only: anything else overflows 64 bits
         * or continues past the longest legal encoding. */
        if (group == NETCORE_VARINT_MAX_BYTES - 1 && byte > 1) {
            break;
        }
        value |= payload << (7 * group);
        if ((byte & 0x80u) == 0) {
            /* A zero final group after the first means a shorter encoding
             * existed; accept only the shortest so each value has one form. */
            if (group > 0 && payload == 0) {
                break;
            }
            return value;
        }
    }
    nci_bit_reader_fail(reader, NETCORE_ERR_MALFORMED);
    return 0;
}

uint64_t netcore_zigzag_encode(int64_t value)
{
    /* Written without shifting negative values (implementation-defined). */
    uint64_t doubled = (uint64_t)value << 1;
    return value < 0 ? ~doubled : doubled;
}

int64_t netcore_zigzag_decode(uint64_t value)
{
    int64_t magnitude = (int64_t)(value >> 1);
    return (value & 1u) ? -magnitude - 1 : magnitude;
}

void netcore_bit_write_varint_signed(netcore_bit_writer *writer, int64_t value)
{
    netcore_bit_write_varint(writer, netcore_zigzag_encode(value));
}

int64_t netcore_bit_read_varint_signed(netcore_bit_reader *reader)
{
    return netcore_zigzag_decode(netcore_bit_read_varint(reader));
}

/* ------------------------------------------------------------------ */
/* Sequence numbers                                                    */
/* ------------------------------------------------------------------ */

int32_t netcore_seq_diff(uint16_t a, uint16_t b)
{
    /* Unsigned subtraction wraps modulo 2^16; map [32768, 65535] to negatives
     * without a signed conversion of an out-of-range value. */
    int32_t forward = (int32_t)(uint16_t)(a - b);
    return forward >= 32768 ? forward - 65536 : forward;
}

bool netcore_seq_greater(uint16_t a, uint16_t b)
{
    return netcore_seq_diff(a, b) > 0;
}
