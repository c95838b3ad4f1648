"""Image pyramids for the tiled viewer: level k is the page reduced 2^k times.

Plain numpy / OpenCV (no Qt) so the level maths is testable without a display. The viewer asks for
tiles at the level that matches its zoom; levels are built coarse-on-demand at first (a tile of an
unbuilt level is reduced directly from the finest built level) and then all at once in a background
thread, so the first view appears before the whole pyramid exists.

Two reducers: ``area`` (mean, for the scan: thin lines turn grey rather than vanish) and ``max`` (for
class masks: a one-pixel curve stays visible at any zoom).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import cv2
import numpy as np

TILE = 512
# Stop reducing once the whole level fits in one tile.
SMALLEST = TILE


def level_count(height: int, width: int, smallest: int = SMALLEST) -> int:
    """Number of levels, including level 0, until the page fits in ``smallest`` px."""
    n, h, w = 1, height, width
    while max(h, w) > smallest:
        h, w = (h + 1) // 2, (w + 1) // 2
        n += 1
    return n


def level_for_scale(scale: float, levels: int) -> int:
    """The level to draw at ``scale`` screen px per image px: the coarsest still at least as sharp."""
    if scale <= 0 or not math.isfinite(scale):
        return levels - 1
    level = int(math.floor(math.log2(1.0 / scale) + 1e-9)) if scale < 1 else 0
    return max(0, min(level, levels - 1))


def reduce_area(block: np.ndarray, factor: int) -> np.ndarray:
    h, w = block.shape
    out_h, out_w = max(1, -(-h // factor)), max(1, -(-w // factor))
    if factor == 1:
        return block
    return cv2.resize(block, (out_w, out_h), interpolation=cv2.INTER_AREA)


def reduce_max(block: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return block
    h, w = block.shape
    out_h, out_w = -(-h // factor), -(-w // factor)
    pad = np.zeros((out_h * factor, out_w * factor), dtype=block.dtype)
    pad[:h, :w] = block
    return pad.reshape(out_h, factor, out_w, factor).max(axis=(1, 3))


REDUCERS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {"area": reduce_area, "max": reduce_max}


class ImagePyramid:
    """Levels of one 2-D uint8 array. ``tile(level, row, col)`` is safe to call while building."""

    def __init__(self, base: np.ndarray, reducer: str = "area", tile: int = TILE) -> None:
        if base.ndim != 2:
            raise ValueError("pyramid base must be a 2-D array")
        self.reducer = reducer
        self._reduce = REDUCERS[reducer]
        self.tile_size = tile
        self.height, self.width = base.shape
        self.levels = level_count(self.height, self.width, tile)
        # Slots filled as levels are built; level 0 is the page itself (no copy).
        self._built: list[np.ndarray | None] = [base] + [None] * (self.levels - 1)
        self._lock = threading.Lock()

    @classmethod
    def zeros(cls, shape: tuple[int, int], reducer: str = "max", tile: int = TILE) -> ImagePyramid:
        """A pyramid of an all-zero page with every level already built (cheap: nothing to reduce)."""
        pyramid = cls(np.zeros(shape, np.uint8), reducer, tile)
        for level in range(1, pyramid.levels):
            pyramid._built[level] = np.zeros(pyramid.level_shape(level), np.uint8)
        return pyramid

    def rebase(self, base: np.ndarray) -> None:
        """Swap level 0 for another array with the same content (keeps the reduced levels)."""
        if base.shape != (self.height, self.width):
            raise ValueError("rebase needs an array of the same shape")
        self._built[0] = base

    @property
    def base(self) -> np.ndarray:
        return self._built[0]  # type: ignore[return-value]

    def is_built(self, level: int) -> bool:
        return self._built[level] is not None

    def built_levels(self) -> int:
        return sum(b is not None for b in self._built)

    def level_shape(self, level: int) -> tuple[int, int]:
        f = 1 << level
        return -(-self.height // f), -(-self.width // f)

    def tile_grid(self, level: int) -> tuple[int, int]:
        h, w = self.level_shape(level)
        return -(-h // self.tile_size), -(-w // self.tile_size)

    def build(self, cancel: Callable[[], bool] = lambda: False, on_level: Callable[[int], None] | None = None) -> None:
        """Build every level from the one before it (each halving is cheap next to the last)."""
        for level in range(1, self.levels):
            if cancel():
                return
            if self._built[level] is None:
                prev = self._built[level - 1]
                reduced = np.ascontiguousarray(self._reduce(prev, 2))
                with self._lock:
                    self._built[level] = reduced
            if on_level is not None:
                on_level(level)

    def tile(self, level: int, row: int, col: int) -> np.ndarray:
        """The (≤ tile × tile) block of ``level`` at tile ``row``, ``col``."""
        t = self.tile_size
        data = self._built[level]
        if data is not None:
            return data[row * t : (row + 1) * t, col * t : (col + 1) * t]
        # Reduce straight from the finest built level below (each built level is complete).
        src = max(k for k in range(level) if self._built[k] is not None)
        f = 1 << (level - src)
        block = self._built[src][row * t * f : (row + 1) * t * f, col * t * f : (col + 1) * t * f]
        return self._reduce(block, f)

    def update_region(self, y0: int, x0: int, y1: int, x1: int) -> None:
        """Level 0 changed inside the rectangle: refresh the built levels above it."""
        for level in range(1, self.levels):
            data = self._built[level]
            if data is None:
                continue
            f = 1 << level
            # Whole reduced pixels covering the change, in level and base coordinates.
            ly0, lx0 = y0 // f, x0 // f
            ly1, lx1 = min(-(-y1 // f), data.shape[0]), min(-(-x1 // f), data.shape[1])
            block = self._built[0][ly0 * f : ly1 * f, lx0 * f : lx1 * f]
            data[ly0:ly1, lx0:lx1] = self._reduce(block, f)[: ly1 - ly0, : lx1 - lx0]
