"""Draw the Teams app icons without an imaging library: `python deploy/teams/make_icons.py`.

color.png: 192x192, a white speech bubble on KI's plum. outline.png: 32x32, the bubble's white outline on
a transparent background (Teams' rule for outline icons). Shapes are signed-distance functions sampled 4x4
per pixel for smooth edges.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_DIR = HERE.parent.parent / "connectors" / "teams_app"  # packaged with ribot, for `ribot teams-package`
PLUM = (0x87, 0x00, 0x52)
WHITE = (0xFF, 0xFF, 0xFF)
SAMPLES = 4

Shape = Callable[[float, float], float]  # negative inside, positive outside, in units of the icon size


def rounded_box(cx: float, cy: float, hw: float, hh: float, r: float) -> Shape:
    def sdf(x: float, y: float) -> float:
        qx, qy = abs(x - cx) - hw + r, abs(y - cy) - hh + r
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        return outside + min(max(qx, qy), 0.0) - r

    return sdf


def triangle(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> Shape:
    def edge(p: tuple[float, float], q: tuple[float, float], x: float, y: float) -> float:
        ex, ey = q[0] - p[0], q[1] - p[1]
        return (ex * (y - p[1]) - ey * (x - p[0])) / math.hypot(ex, ey)

    winding = 1.0 if edge(a, b, *c) < 0 else -1.0  # so that the inside is negative either way round

    def sdf(x: float, y: float) -> float:
        return max(winding * edge(a, b, x, y), winding * edge(b, c, x, y), winding * edge(c, a, x, y))

    return sdf


def circle(cx: float, cy: float, r: float) -> Shape:
    return lambda x, y: math.hypot(x - cx, y - cy) - r


def union(*shapes: Shape) -> Shape:
    return lambda x, y: min(s(x, y) for s in shapes)


def subtract(shape: Shape, hole: Shape) -> Shape:
    return lambda x, y: max(shape(x, y), -hole(x, y))


def outline(shape: Shape, width: float) -> Shape:
    return lambda x, y: abs(shape(x, y)) - width / 2


BUBBLE = union(
    rounded_box(0.5, 0.44, 0.33, 0.24, 0.09),
    triangle((0.30, 0.60), (0.46, 0.60), (0.27, 0.82)),
)
DOTS = union(circle(0.36, 0.44, 0.045), circle(0.5, 0.44, 0.045), circle(0.64, 0.44, 0.045))


def coverage(shape: Shape, size: int, px: int, py: int) -> float:
    inside = 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            x = (px + (sx + 0.5) / SAMPLES) / size
            y = (py + (sy + 0.5) / SAMPLES) / size
            inside += shape(x, y) <= 0
    return inside / (SAMPLES * SAMPLES)


def png(size: int, pixel: Callable[[int, int], tuple[int, int, int, int]]) -> bytes:
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def color_icon(size: int = 192) -> bytes:
    glyph = subtract(BUBBLE, DOTS)

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        a = coverage(glyph, size, x, y)
        r, g, b = (round(w * a + p * (1 - a)) for w, p in zip(WHITE, PLUM, strict=True))
        return r, g, b, 255

    return png(size, pixel)


def outline_icon(size: int = 32) -> bytes:
    glyph = union(outline(BUBBLE, 0.075), DOTS)

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        return (*WHITE, round(255 * coverage(glyph, size, x, y)))

    return png(size, pixel)


def main() -> None:
    (APP_DIR / "color.png").write_bytes(color_icon())
    (APP_DIR / "outline.png").write_bytes(outline_icon())


if __name__ == "__main__":
    main()
