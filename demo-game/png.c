/* Stored-deflate PNG writer; see png.h. */
#include "png.h"

#include <stdio.h>

typedef struct png_out {
    FILE *file;
    bool failed;
    uint32_t crc;     /* running CRC-32 of the current chunk */
    uint32_t adler_a; /* running Adler-32 of the zlib payload */
    uint32_t adler_b;
} png_out;

static uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t len)
{
    /* Bitwise CRC-32 (polynomial 0xedb88320): slower than a table, but a
     * screenshot is written once. */
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
    }
    return crc;
}

static void put_bytes(png_out *out, const uint8_t *data, size_t len)
{
    if (!out->failed && fwrite(data, 1, len, out->file) != len) {
        out->failed = true;
    }
    out->crc = crc32_update(out->crc, data, len);
}

static void put_u32_be(png_out *out, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(out, b, 4);
}

static void chunk_begin(png_out *out, const char *type, uint32_t length)
{
    put_u32_be(out, length);
    out->crc = 0xffffffffu; /* the CRC covers the type and the data */
    put_bytes(out, (const uint8_t *)type, 4);
}

static void chunk_end(png_out *out)
{
    uint32_t crc = out->crc ^ 0xffffffffu;
    put_u32_be(out, crc);
}

/* Image data bytes: also fed to the Adler-32 of the zlib stream. */
static void put_payload(png_out *out, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        out->adler_a = (out->adler_a + data[i]) % 65521u;
        out->adler_b = (out->adler_b + out->adler_a) % 65521u;
    }
    put_bytes(out, data, len);
}

bool demo_png_write(const char *path, const uint8_t *rgb, int width, int height, int pitch_bytes)
{
    if (width <= 0 || height <= 0 || width > 16384 || height > 16384 || pitch_bytes < width * 3) {
        return false;
    }
    png_out out = {fopen(path, "wb"), false, 0, 1, 0};
    if (!out.file) {
        return false;
    }
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    put_bytes(&out, signature, sizeof signature);

    chunk_begin(&out, "IHDR", 13);
    put_u32_be(&out, (uint32_t)width);
    put_u32_be(&out, (uint32_t)height);
    const uint8_t ihdr_tail[5] = {8, 2, 0, 0,
                                  0}; /* 8-bit RGB, deflate, no filter choice, no interlace */
    put_bytes(&out, ihdr_tail, sizeof ihdr_tail);
    chunk_end(&out);

    /* The zlib stream: 2-byte header, stored blocks of at most 65535 bytes
     * (each with a 5-byte header), Adler-32. One IDAT per block keeps each
     * chunk's length known before it is written. */
    const size_t row_bytes = (size_t)width * 3 + 1; /* filter byte + pixels */
    const size_t raw_total = row_bytes * (size_t)height;
    size_t written = 0;
    size_t row = 0;
    size_t row_pos = 0;
    bool first = true;
    while (written < raw_total) {
        size_t block = raw_total - written;
        if (block > 65535) {
            block = 65535;
        }
        bool last = written + block == raw_total;
        chunk_begin(&out, "IDAT", (uint32_t)(block + 5 + (first ? 2 : 0) + (last ? 4 : 0)));
        if (first) {
            const uint8_t zlib_header[2] = {0x78, 0x01};
            put_bytes(&out, zlib_header, 2);
            first = false;
        }
        const uint8_t block_header[5] = {last ? 1 : 0, (uint8_t)block, (uint8_t)(block >> 8),
                                         (uint8_t)~block, (uint8_t)(~block >> 8)};
        put_bytes(&out, block_header, 5);
        size_t left = block;
        while (left > 0) {
            if (row_pos == 0) {
                const uint8_t filter_none = 0;
                put_payload(&out, &filter_none, 1);
                row_pos = 1;
                left--;
                continue;
            }
            size_t take = row_bytes - row_pos;
            if (take > left) {
                take = left;
            }
            put_payload(&out, rgb + row * (size_t)pitch_bytes + (row_pos - 1), take);
            row_pos += take;
            left -= take;
            if (row_pos == row_bytes) {
                row_pos = 0;
                row++;
            }
        }
        written += block;
        if (last) {
            put_u32_be(&out, (out.adler_b << 16) | out.adler_a);
        }
        chunk_end(&out);
    }

    chunk_begin(&out, "IEND", 0);
    chunk_end(&out);
    bool ok = !out.failed;
    if (fclose(out.file) != 0) {
        ok = false;
    }
    if (!ok) {
        remove(path);
    }
    return ok;
}
