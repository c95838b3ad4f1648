"""Tiling plans for running a model over pages far larger than memory allows at once.

Pure functions, no torch. A plan is a list of :class:`Tile`: the *window* is what the model sees (always
the same size when the page is large enough, which keeps oneDNN's kernel caches warm), the *kept* region
is the part of the model output written to the page. Kept regions partition the page exactly, and every
kept edge that is not a page edge lies at least ``margin`` pixels inside its window, so the model never
writes a pixel whose context was cut off by the tile border (the seams are invisible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """One axis of a tile: window [w0, w1) and kept [k0, k1), page coordinates."""

    w0: int
    w1: int
    k0: int
    k1: int


@dataclass(frozen=True)
class Tile:
    index: int
    row: Span
    col: Span

    @property
    def window(self) -> tuple[int, int, int, int]:
        """(y0, x0, y1, x1) of the model input."""
        return self.row.w0, self.col.w0, self.row.w1, self.col.w1

    @property
    def kept(self) -> tuple[int, int, int, int]:
        """(y0, x0, y1, x1) of the region this tile writes."""
        return self.row.k0, self.col.k0, self.row.k1, self.col.k1

    @property
    def kept_in_window(self) -> tuple[slice, slice]:
        """Slices of the kept region inside the window's output."""
        return (
            slice(self.row.k0 - self.row.w0, self.row.k1 - self.row.w0),
            slice(self.col.k0 - self.col.w0, self.col.k1 - self.col.w0),
        )


def plan_axis(length: int, tile: int, margin: int) -> list[Span]:
    """Split ``[0, length)`` into kept pieces of at most ``tile - 2*margin`` with windows of size ``tile``.

    Pieces are balanced (sizes differ by at most one) so the last tile is never a sliver. When the
    page is shorter than a tile there is one window covering the whole axis.
    """
    if length <= 0:
        return []
    if tile <= 2 * margin:
        raise ValueError(f"tile {tile} must be larger than twice the margin {margin}")
    if length <= tile:
        return [Span(0, length, 0, length)]
    core = tile - 2 * margin
    # Split the inner part [margin, length - margin) into balanced pieces of at most ``core`` and give the
    # outer margins to the first and last piece: those touch the page edge and need context on one side only.
    inner = length - 2 * margin
    count = math.ceil(inner / core)
    bounds = [margin + round(i * inner / count) for i in range(count + 1)]
    bounds[0], bounds[-1] = 0, length
    spans = []
    for k0, k1 in zip(bounds[:-1], bounds[1:], strict=True):
        centre = (k0 + k1) // 2
        w0 = min(max(0, centre - tile // 2), length - tile)
        spans.append(Span(w0, w0 + tile, k0, k1))
    return spans


def plan_tiles(height: int, width: int, tile: int = 768, margin: int = 48) -> list[Tile]:
    """Row-major tiles covering a ``height × width`` page (rows first, so results stream down the page)."""
    rows = plan_axis(height, tile, margin)
    cols = plan_axis(width, tile, margin)
    return [Tile(i * len(cols) + j, r, c) for i, r in enumerate(rows) for j, c in enumerate(cols)]


def min_context(span: Span, length: int) -> int:
    """Smallest distance from a kept edge to its window edge, ignoring edges on the page border."""
    left = span.k0 - span.w0 if span.k0 > 0 else math.inf
    right = span.w1 - span.k1 if span.k1 < length else math.inf
    return min(left, right)
