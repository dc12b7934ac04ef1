#!/usr/bin/env python3
"""Generates the demo game's sprites with the Python standard library only.

Writes, next to this script:
  ship.bmp     64x64 24-bit BMP, the ship pointing right (+x), in greys so the
               game can tint it with each player's colour; magenta (255, 0, 255)
               is the transparent colour key.
  palette.bmp  16x1 24-bit BMP, one colour per player slot.

Run it again after changing it; the outputs are committed.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = (255, 0, 255)

PALETTE = [
    (80, 200, 255), (255, 100, 90), (120, 230, 110), (255, 200, 60),
    (200, 120, 255), (255, 150, 200), (70, 230, 210), (255, 140, 40),
    (170, 200, 90), (130, 150, 255), (240, 240, 240), (220, 90, 160),
    (100, 180, 140), (250, 230, 140), (160, 110, 80), (110, 210, 250),
]


def write_bmp(path, width, height, pixel):
    """pixel(x, y) -> (r, g, b), y = 0 at the top."""
    row_bytes = (width * 3 + 3) & ~3
    data = bytearray()
    for y in range(height - 1, -1, -1):  # BMP rows go bottom-up
        row = bytearray()
        for x in range(width):
            r, g, b = pixel(x, y)
            row += bytes((b, g, r))
        row += b"\0" * (row_bytes - len(row))
        data += row
    header = struct.pack("<2sIHHI", b"BM", 14 + 40 + len(data), 0, 0, 14 + 40)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(data), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + data)


def inside(poly, x, y):
    """Even-odd rule point-in-polygon test."""
    result = False
    j = len(poly) - 1
    for i in range(len(poly)):
        xi, yi = poly[i]
        xj, yj = poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            result = not result
        j = i
    return result


HULL = [(61, 32), (10, 6), (20, 32), (10, 58)]
COCKPIT = [(46, 32), (30, 25), (27, 32), (30, 39)]
ENGINE = [(20, 32), (13, 26), (9, 32), (13, 38)]


def ship_pixel(x, y):
    cx, cy = x + 0.5, y + 0.5
    if not inside(HULL, cx, cy):
        return KEY
    if inside(COCKPIT, cx, cy):
        return (70, 70, 80)
    if inside(ENGINE, cx, cy):
        return (255, 255, 255)
    # Lighter towards the nose and the centre line: a little relief.
    shade = 190 + int(65 * (cx - 10) / 51) - int(40 * abs(cy - 32) / 26)
    shade = max(150, min(255, shade))
    return (shade, shade, shade)


def main():
    write_bmp(os.path.join(HERE, "ship.bmp"), 64, 64, ship_pixel)
    write_bmp(os.path.join(HERE, "palette.bmp"), 16, 1, lambda x, y: PALETTE[x])


if __name__ == "__main__":
    main()
