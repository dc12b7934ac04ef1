/* Internal helpers shared by the bit packing sources (bitpack.c,
 * bitpack_geometry.c): the hot paths of the writer and reader, inlined. */
#ifndef NETCORE_BITPACK_INTERNAL_H
#define NETCORE_BITPACK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/bitpack.h"

static inline uint32_t nci_bits_mask32(unsigned bits)
{
    /* bits is 1..32 here; the 64-bit shift keeps bits == 32 defined. */
    return (uint32_t)((UINT64_C(1) << bits) - 1u);
}

static inline void nci_bits_store_le32(uint8_t *dst, uint32_t word)
{
    /* Byte stores fix the order regardless of host endianness; compilers
     * merge them into one store on little-endian targets. */
    dst[0] = (uint8_t)word;
    dst[1] = (uint8_t)(word >> 8);
    dst[2] = (uint8_t)(word >> 16);
    dst[3] = (uint8_t)(word >> 24);
}

static inline uint32_t nci_bits_load_le32(const uint8_t *src)
{
    return (uint32_t)src[0] | ((uint32_t)src[1] << 8) | ((uint32_t)src[2] << 16) |
           ((uint32_t)src[3] << 24);
}

static inline void nci_bit_writer_fail(netcore_bit_writer *writer, netcore_result result)
{
    if (writer->status == NETCORE_OK) {
        writer->status = result;
    }
}

static inline void nci_bit_reader_fail(netcore_bit_reader *reader, netcore_result result)
{
    if (reader->status == NETCORE_OK) {
        reader->status = result;
    }
}

/* Checks that total_bits fit before any part of a value is written, so a value
 * that does not fit leaves no partial bits behind. Fails the writer if not. */
static inline bool nci_bit_writer_reserve(netcore_bit_writer *writer, size_t total_bits)
{
    if (writer->status != NETCORE_OK) {
        return false;
    }
    if (total_bits > writer->capacity_bits - (writer->flushed_bytes * 8 + writer->scratch_bits)) {
        nci_bit_writer_fail(writer, NETCORE_ERR_TOO_LARGE);
        return false;
    }
    return true;
}

/* Appends 1..32 bits that nci_bit_writer_reserve() already accounted for. */
static inline void nci_bit_writer_put(netcore_bit_writer *writer, uint32_t value, unsigned bits)
{
    /* scratch_bits < 32 on entry, so the shift and the sum stay below 64. */
    writer->scratch |= (uint64_t)(value & nci_bits_mask32(bits)) << writer->scratch_bits;
    writer->scratch_bits += bits;
    if (writer->scratch_bits >= 32) {
        /* These 32 bits were counted against capacity_bits, so the 4 bytes fit. */
        nci_bits_store_le32(writer->data + writer->flushed_bytes, (uint32_t)writer->scratch);
        writer->flushed_bytes += 4;
        writer->scratch >>= 32;
        writer->scratch_bits -= 32;
    }
}

/* Loads bytes into scratch until it holds at least 57 bits or the data ends.
 * Never touches a byte at or beyond size_bytes. */
static inline void nci_bit_reader_refill(netcore_bit_reader *reader)
{
    if (reader->scratch_bits <= 32 && reader->size_bytes - reader->loaded_bytes >= 4) {
        reader->scratch |= (uint64_t)nci_bits_load_le32(reader->data + reader->loaded_bytes)
                           << reader->scratch_bits;
        reader->scratch_bits += 32;
        reader->loaded_bytes += 4;
    }
    while (reader->scratch_bits <= 56 && reader->loaded_bytes < reader->size_bytes) {
        reader->scratch |= (uint64_t)reader->data[reader->loaded_bytes] << reader->scratch_bits;
        reader->scratch_bits += 8;
        reader->loaded_bytes++;
    }
}

/* Takes 1..32 bits that the caller checked are within the data. */
static inline uint32_t nci_bit_reader_take(netcore_bit_reader *reader, unsigned bits)
{
    if (reader->scratch_bits < bits) {
        nci_bit_reader_refill(reader);
    }
    uint32_t value = (uint32_t)reader->scratch & nci_bits_mask32(bits);
    reader->scratch >>= bits;
    reader->scratch_bits -= bits;
    reader->bits_read += bits;
    return value;
}

/* Checks that total_bits can be read; fails the reader if not. */
static inline bool nci_bit_reader_require(netcore_bit_reader *reader, size_t total_bits)
{
    if (reader->status != NETCORE_OK) {
        return false;
    }
    if (total_bits > reader->size_bits - reader->bits_read) {
        nci_bit_reader_fail(reader, NETCORE_ERR_MALFORMED);
        return false;
    }
    return true;
}

#endif /* NETCORE_BITPACK_INTERNAL_H */
