"""How wide a page's pen strokes are, measured on its ink (numpy / OpenCV only).

The generator draws pages at the resolution of a typical archive scan, where most strokes (pens, grid
lines, lettering) are one or two pixels wide. A sheet scanned at two or three times that resolution has
every stroke that much wider, and the model reads it worse than the same sheet shrunk back. The width
of a stroke is read on the ink's ridge (the pixels farthest from the paper across the stroke): twice the
distance to the nearest paper pixel, less one, so a 1-px line measures 1, a 3-px line 3 (even widths
round down to the odd width below).
"""

from __future__ import annotations

import cv2
import numpy as np

# Pixels darker than this are ink (the page is uint8 grey, 0 = black).
INK_LEVEL = 128
# Tiles spread over the page on a grid, so that a huge page costs no more than a small one and no one
# region (a header full of lettering, a filled track) decides.
SAMPLE_TILES = 48
SAMPLE_SIZE = 256


def ridge_widths(gray: np.ndarray) -> np.ndarray:
    """Stroke width (px) at every ridge pixel of the ink in ``gray`` (uint8 H×W)."""
    ink = np.ascontiguousarray(gray < INK_LEVEL, dtype=np.uint8)
    if not ink.any():
        return np.zeros(0, np.float32)
    distance = cv2.distanceTransform(ink, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ridge = (distance > 0) & (distance >= cv2.dilate(distance, np.ones((3, 3), np.uint8)))
    return 2.0 * distance[ridge] - 1.0


def sample_windows(height: int, width: int, tiles: int = SAMPLE_TILES, size: int = SAMPLE_SIZE
                   ) -> list[tuple[int, int, int, int]]:
    """(y0, x0, y1, x1) of about ``tiles`` windows of ``size`` px on an even grid over the page."""
    # At least three columns where the page is that wide, so that a tall page is not read down one margin.
    cols = min(max(1, width // size), max(3, round(np.sqrt(tiles * width / max(height, 1)))))
    rows = max(1, min(height // size, tiles // cols))
    ys = np.linspace(0, max(0, height - size), rows).round().astype(int)
    xs = np.linspace(0, max(0, width - size), cols).round().astype(int)
    return [(int(y), int(x), int(min(height, y + size)), int(min(width, x + size)))
            for y in np.unique(ys) for x in np.unique(xs)]


def typical_stroke_width(pixels: np.ndarray, tiles: int = SAMPLE_TILES, size: int = SAMPLE_SIZE) -> float | None:
    """Median stroke width (px) of the ink in tiles spread over ``pixels`` (uint8 H×W); None without ink."""
    widths = [ridge_widths(np.asarray(pixels[y0:y1, x0:x1]))
              for y0, x0, y1, x1 in sample_windows(*pixels.shape[:2], tiles, size)]
    pooled = np.concatenate(widths) if widths else np.zeros(0)
    return float(np.median(pooled)) if pooled.size else None
