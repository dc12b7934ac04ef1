#!/usr/bin/env python3
"""Plots a soak summary's time series as a PNG, with the standard library only.

    soak_plot.py SUMMARY.json OUT.png

Three stacked panels share the time axis: bot round-trip time (mean over the
connected bots, and the worst bot), server outgoing bandwidth, and server
resident memory. The PNG is written by hand (zlib + struct) with a tiny
built-in 3x5 pixel font for the labels, so nothing beyond Python is needed.
"""

import json
import struct
import sys
import zlib

# 3x5 glyphs, one string of 15 bits per character, rows top to bottom.
_FONT = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001001001001", "8": "111101111101111",
    "9": "111101111001111", "A": "010101111101101", "B": "110101110101110",
    "C": "011100100100011", "D": "110101101101110", "E": "111100110100111",
    "F": "111100110100100", "G": "011100101101011", "H": "101101111101101",
    "I": "111010010010111", "J": "001001001101010", "K": "101101110101101",
    "L": "100100100100111", "M": "101111111101101", "N": "110101101101101",
    "O": "010101101101010", "P": "110101110100100", "Q": "010101101110011",
    "R": "110101110101101", "S": "011100010001110", "T": "111010010010010",
    "U": "101101101101111", "V": "101101101101010", "W": "101101111111101",
    "X": "101101010101101", "Y": "101101010010010", "Z": "111001010100111",
    ".": "000000000000010", "-": "000000111000000", " ": "000000000000000",
    "(": "001010010010001", ")": "100010010010100", "%": "101001010100101",
    "/": "001001010100100", ",": "000000000010100", "=": "000111000111000",
    ":": "000010000010000",
}

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
GREY = (210, 210, 210)
BLUE = (31, 90, 180)
RED = (200, 50, 40)
GREEN = (30, 140, 60)


class Canvas:
    """An RGB image in a bytearray with the few drawing calls the plot needs."""

    def __init__(self, width, height):
        self.width = width
        self.height = height
        self.pixels = bytearray(WHITE * (width * height))

    def set(self, x, y, colour):
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.pixels[i:i + 3] = bytes(colour)

    def line(self, x0, y0, x1, y1, colour):
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        for _ in range(dx - dy + 1):  # bounded by the line's length
            self.set(x0, y0, colour)
            if x0 == x1 and y0 == y1:
                break
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy

    def text(self, x, y, message, colour=BLACK, scale=2):
        for ch in message.upper():
            glyph = _FONT.get(ch, _FONT[" "])
            for row in range(5):
                for col in range(3):
                    if glyph[row * 3 + col] == "1":
                        for a in range(scale):
                            for b in range(scale):
                                self.set(x + col * scale + a, y + row * scale + b, colour)
            x += 4 * scale

    def png(self):
        rows = b"".join(b"\x00" + bytes(self.pixels[y * self.width * 3:(y + 1) * self.width * 3])
                        for y in range(self.height))

        def chunk(kind, data):
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def _nice_max(value):
    """Rounds an axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    while step > value:
        step /= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def _label_number(value):
    return ("%.0f" % value) if value >= 10 or value == int(value) else ("%.1f" % value)


def _panel(canvas, top, height, title, t_max, lines):
    left, right = 80, canvas.width - 20
    bottom = top + height
    y_max = _nice_max(max([v for _, points in lines for _, v in points] + [0.0]))
    for i in range(5):  # horizontal grid lines and their labels
        y = bottom - (height * i) // 4
        canvas.line(left, y, right, y, GREY)
        canvas.text(4, y - 5, _label_number(y_max * i / 4))
    for i in range(5):  # time labels under the axis
        x = left + ((right - left) * i) // 4
        canvas.line(x, bottom, x, bottom + 3, BLACK)
        label = _label_number(t_max * i / 4)
        canvas.text(min(x - 4 * len(label), right - 8 * len(label)), bottom + 6, label)
    canvas.line(left, top, left, bottom, BLACK)
    canvas.line(left, bottom, right, bottom, BLACK)
    canvas.text(left + 6, top - 14, title)
    legend_x = right - 10
    for colour, points in reversed(lines):
        previous = None
        for t, v in points:
            x = left + int((right - left) * (t / t_max if t_max > 0 else 0))
            y = bottom - int(height * min(v, y_max) / y_max)
            if previous is not None:
                canvas.line(previous[0], previous[1], x, y, colour)
            previous = (x, y)
        legend_x -= 14
        canvas.line(legend_x, top - 9, legend_x + 10, top - 9, colour)


def plot(series, title, path):
    """Writes the PNG for a summary's "series" member (lists of [t_s, value])."""
    canvas = Canvas(960, 720)
    t_max = 0.0
    for points in series.values():
        for t, _ in points:
            t_max = max(t_max, t)
    canvas.text(80, 8, title)
    _panel(canvas, 50, 160, "bot rtt ms (blue mean, red worst bot)", t_max,
           [(BLUE, series.get("rtt_ms_mean", [])), (RED, series.get("rtt_ms_max", []))])
    _panel(canvas, 270, 160, "server out kbps (blue) and in kbps (green)", t_max,
           [(BLUE, series.get("out_kbps", [])), (GREEN, series.get("in_kbps", []))])
    _panel(canvas, 490, 160, "server rss mib", t_max, [(BLUE, series.get("rss_mib", []))])
    canvas.text(80, 700, "time since start, s")
    with open(path, "wb") as out:
        out.write(canvas.png())


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        summary = json.load(handle)
    plot(summary.get("series", {}), summary.get("title", "soak"), argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
