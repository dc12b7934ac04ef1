/*
 * Minimal PNG writer for screenshots: 8-bit RGB, no filtering, zlib stream
 * made of stored (uncompressed) deflate blocks, so it needs no zlib. Files are
 * about as large as the raw pixels (2.7 MB for 1280x720), fine for tests and
 * documentation.
 */
#ifndef DEMO_PNG_H
#define DEMO_PNG_H

#include <stdbool.h>
#include <stdint.h>

/* Writes a PNG of width x height pixels to path. rgb holds height rows of
 * width*3 bytes (R, G, B), each row starting pitch_bytes after the previous
 * one; it is only read. Returns false when the size is zero or too large
 * (over 16384 in either direction) or the file cannot be written; a partly
 * written file is removed. */
bool demo_png_write(const char *path, const uint8_t *rgb, int width, int height, int pitch_bytes);

#endif
