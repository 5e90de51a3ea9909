"""Signature strokes to PNG, in pure Python: the image a customer's signature is stored as.

Rendering on the CPU (not from the GL framebuffer) makes the bytes depend on the strokes only, so
the content-addressed blob is the same on every tablet and in tests without a window.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

Point = tuple[float, float]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def strokes_to_png(strokes: Sequence[Sequence[Point]], width: int, height: int, pen: int = 3) -> bytes:
    """A black-on-white greyscale PNG of the strokes; points are in pixels with the origin bottom-left
    (Kivy's convention), lines ``pen`` pixels thick."""
    width, height = max(1, int(width)), max(1, int(height))
    pixels = bytearray(b"\xff" * (width * height))
    r = max(0, pen // 2)

    def dot(x: int, y: int) -> None:
        for dy in range(-r, r + 1):
            yy = height - 1 - (y + dy)
            if 0 <= yy < height:
                row = yy * width
                for dx in range(-r, r + 1):
                    xx = x + dx
                    if 0 <= xx < width:
                        pixels[row + xx] = 0

    for stroke in strokes:
        points = [(int(round(x)), int(round(y))) for x, y in stroke]
        if len(points) == 1:
            dot(*points[0])
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            steps = max(abs(x1 - x0), abs(y1 - y0), 1)
            for i in range(steps + 1):
                dot(x0 + (x1 - x0) * i // steps, y0 + (y1 - y0) * i // steps)
    raw = b"".join(b"\x00" + bytes(pixels[y * width:(y + 1) * width]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def ink_pixels(strokes: Sequence[Sequence[Point]]) -> int:
    """How many points the strokes hold: a pad with fewer than a few is not a signature."""
    return sum(len(s) for s in strokes)
