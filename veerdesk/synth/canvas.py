"""A window onto a virtual page, with drawing helpers in page coordinates.

Page coordinates follow the layout schema: x = column, y = row, origin at the top-left pixel's corner, so
pixel (r, c) covers [c, c+1) × [r, r+1) and its centre is (c + 0.5, r + 0.5). OpenCV puts pixel centres
on integers, hence the half-pixel shift in :meth:`Canvas.fixed`. Lines are drawn with 4 fractional bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

SHIFT = 4
ONE = 1 << SHIFT
# OpenCV's thick lines come in odd pixel widths only; cv2 thickness for each odd width (measured).
_CV_THICKNESS = {1: 1, 3: 2, 5: 3, 7: 5, 9: 7}
# Even widths: the odd width below, drawn four times offset by half a pixel.
_HALF_OFFSETS = ((-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5))

FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL,
)
HAND_FONTS = (cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)


@dataclass
class Canvas:
    """``image`` (grey, 255 paper) and ``ids`` (curve owner per pixel) of the window at (ox, oy)."""

    ox: int
    oy: int
    image: np.ndarray
    ids: np.ndarray

    @classmethod
    def blank(cls, ox: int, oy: int, width: int, height: int, paper: int) -> Canvas:
        return cls(ox, oy, np.full((height, width), paper, np.uint8), np.zeros((height, width), np.uint8))

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]

    def rows(self) -> tuple[float, float]:
        return float(self.oy), float(self.oy + self.height)

    def cols(self) -> tuple[float, float]:
        return float(self.ox), float(self.ox + self.width)

    def overlaps(self, x0: float, y0: float, x1: float, y1: float, pad: float = 0.0) -> bool:
        return not (x1 + pad < self.ox or x0 - pad > self.ox + self.width or y1 + pad < self.oy
                    or y0 - pad > self.oy + self.height)

    def fixed(self, xy: np.ndarray, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
        """Page coordinates (N×2) → OpenCV fixed-point window coordinates."""
        offset = np.array([self.ox + 0.5 - dx, self.oy + 0.5 - dy])
        return np.round((np.asarray(xy, dtype=np.float64) - offset) * ONE).astype(np.int32)

    # ------------------------------------------------------------------ lines
    def polylines(self, pieces: list[np.ndarray], grey: int, width: int, *, antialias: bool = False,
                  curve_id: int = 0) -> None:
        """Draw open polylines (page coordinates) of ``width`` px; when ``curve_id`` is set, claim the
        pixels in ``ids`` with the same geometry drawn without anti-aliasing."""
        if not pieces:
            return
        width = int(np.clip(width, 1, 10))
        odd = width if width % 2 else width - 1
        thickness = _CV_THICKNESS.get(odd, odd - 2)
        offsets = ((0.0, 0.0),) if width % 2 else _HALF_OFFSETS
        line_type = cv2.LINE_AA if antialias else cv2.LINE_8
        # One conversion for all pieces: dashed curves have thousands of them.
        ends = np.cumsum([len(p) for p in pieces]).tolist()
        starts = [0] + ends[:-1]
        flat = np.concatenate(pieces) if len(pieces) > 1 else np.asarray(pieces[0])
        for dx, dy in offsets:
            converted = self.fixed(flat, dx, dy)
            fixed = [converted[a:b] for a, b in zip(starts, ends, strict=True)]
            cv2.polylines(self.image, fixed, False, int(grey), thickness, line_type, SHIFT)
            if curve_id:
                cv2.polylines(self.ids, fixed, False, int(curve_id), thickness, cv2.LINE_8, SHIFT)

    def hline(self, y: float, x0: float, x1: float, grey: int, width: int, antialias: bool = False,
              pattern: list[float] | None = None) -> None:
        """Horizontal line at page row ``y`` from x0 to x1 (dash ``pattern`` anchored at x0)."""
        self._axis_line(False, y, x0, x1, grey, width, antialias, pattern)

    def vline(self, x: float, y0: float, y1: float, grey: int, width: int, antialias: bool = False,
              pattern: list[float] | None = None) -> None:
        """Vertical line at page column ``x`` from y0 to y1 (dash ``pattern`` anchored at y0)."""
        self._axis_line(True, x, y0, y1, grey, width, antialias, pattern)

    def hlines(self, ys: np.ndarray, x0: float, x1: float, grey: int, width: int, antialias: bool = False,
               pattern: list[float] | None = None) -> None:
        """Many horizontal lines of one look at page rows ``ys`` (vectorised :meth:`hline`)."""
        ys = np.asarray(ys, dtype=np.float64)
        ys = ys[np.isfinite(ys)]
        if ys.size == 0:
            return
        width = max(1, int(width))
        lo_edge = ys - width / 2 - self.oy
        if antialias:
            first = np.floor(lo_edge).astype(np.int64)
            n = int(np.max(np.ceil(lo_edge + width) - first))
        else:
            first = np.floor(lo_edge + 0.5).astype(np.int64)
            n = width
        rows = (first[:, None] + np.arange(n)[None, :]).ravel()
        if antialias:
            edges = np.repeat(lo_edge, n)
            coverage = np.minimum(rows + 1, edges + width) - np.maximum(rows, edges)
        else:
            coverage = np.ones(rows.size)
        keep = (rows >= 0) & (rows < self.height) & (coverage > 0.02)
        rows, coverage = rows[keep], coverage[keep]
        c0 = max(0, int(math.floor(x0 - self.ox)))
        c1 = min(self.width, int(math.ceil(x1 - self.ox)))
        if rows.size == 0 or c1 <= c0:
            return
        cols = np.arange(c0, c1)
        if pattern:
            cols = cols[_pattern_mask(cols + self.ox + 0.5 - x0, pattern)]
            if cols.size == 0:
                return
        block = self.image[np.ix_(rows, cols)]
        if antialias:
            cov = np.clip(coverage, 0, 1).astype(np.float32)[:, None]
            blend = (block.astype(np.float32) * (1 - cov) + grey * cov).astype(np.uint8)
            self.image[np.ix_(rows, cols)] = np.minimum(block, blend)
        else:
            self.image[np.ix_(rows, cols)] = np.minimum(block, np.uint8(grey))

    def _axis_line(self, vertical: bool, pos: float, a0: float, a1: float, grey: int, width: int,
                   antialias: bool, pattern: list[float] | None) -> None:
        """Grid-like straight lines painted with numpy (a page has thousands; OpenCV's per-call cost
        dominated crop rendering). Only the visible part is touched. Same pixel convention as
        :meth:`polylines`: a w-px line centred on ``pos`` covers the w pixels whose centres lie within
        w/2 of it; anti-aliased lines spread their ink over the partly covered pixels."""
        if not (math.isfinite(pos) and math.isfinite(a0) and math.isfinite(a1)):
            return
        across0, along0 = (self.ox, self.oy) if vertical else (self.oy, self.ox)
        n_across, n_along = (self.width, self.height) if vertical else (self.height, self.width)
        width = max(1, int(width))
        lo_edge = pos - width / 2 - across0  # window coordinate of the line's low edge
        if antialias:
            first = math.floor(lo_edge)
            last = math.ceil(lo_edge + width) - 1
        else:
            first = int(math.floor(lo_edge + 0.5))
            last = first + width - 1
        if last < 0 or first >= n_across:
            return
        c0 = max(0, int(math.floor(a0 - along0)))
        c1 = min(n_along, int(math.ceil(a1 - along0)))
        if c1 <= c0:
            return
        on = None
        if pattern:
            on = _pattern_mask(np.arange(c0, c1) + along0 + 0.5 - a0, pattern)
            if not on.any():
                return
        for r in range(max(0, first), min(n_across, last + 1)):
            coverage = 1.0
            if antialias:
                coverage = min(r + 1, lo_edge + width) - max(r, lo_edge)
                if coverage <= 0.02:
                    continue
            view = self.image[c0:c1, r] if vertical else self.image[r, c0:c1]
            if coverage >= 0.98:
                target = np.minimum(view, np.uint8(grey))
            else:
                blend = view.astype(np.float32) * (1 - coverage) + grey * coverage
                target = np.minimum(view, blend.astype(np.uint8))
            if on is None:
                view[...] = target
            else:
                view[on] = target[on]

    # ------------------------------------------------------------------ text
    def text(self, text: str, x: float, y: float, height: float, grey: int, *, font: int = 0, thickness: int = 1,
             rotation: int = 0, anchor: str = "left", italic: bool = False) -> tuple[float, float, float, float]:
        """Print ``text`` with cap height ``height`` px, vertically centred on y and anchored at x (left,
        centre or right); rotated text (90 = reads bottom to top, 270) is centred on (x, y). Returns the
        page bbox."""
        face = font | (cv2.FONT_ITALIC if italic else 0)
        (w1, h1), base1 = cv2.getTextSize(text, face, 1.0, thickness)
        scale = max(0.1, height / max(h1, 1))
        # Hershey glyphs scale linearly; one measurement is enough.
        w, h, base = int(w1 * scale) + thickness, int(h1 * scale) + 1, int(base1 * scale) + 1
        pad = thickness + 2
        pw, ph = w + 2 * pad, h + base + 2 * pad
        dx = {"left": 0.0, "centre": -pw / 2, "right": -pw}[anchor]
        if rotation in (90, 270):
            # Rotated text (depth numbers) is centred on (x, y).
            bbox = (x - ph / 2, y - pw / 2, x + ph / 2, y + pw / 2)
        else:
            bbox = (x + dx, y - ph / 2, x + dx + pw, y + ph / 2)
        if not self.overlaps(*bbox):
            return bbox
        patch = np.full((ph, pw), 255, np.uint8)
        cv2.putText(patch, text, (pad, pad + h), face, scale, int(grey), thickness, cv2.LINE_AA)
        if rotation == 90:
            patch = np.rot90(patch, 1)
        elif rotation == 270:
            patch = np.rot90(patch, 3)
        self.paste_min(patch, bbox[0], bbox[1])
        return bbox

    def paste_min(self, patch: np.ndarray, x: float, y: float, *, clear_ids: bool = False,
                  threshold: int = 250) -> None:
        """Darken the window with ``patch`` whose top-left corner is at page (x, y)."""
        c0, r0 = int(round(x)) - self.ox, int(round(y)) - self.oy
        ph, pw = patch.shape
        a0, b0 = max(0, r0), max(0, c0)
        a1, b1 = min(self.height, r0 + ph), min(self.width, c0 + pw)
        if a1 <= a0 or b1 <= b0:
            return
        part = patch[a0 - r0 : a1 - r0, b0 - c0 : b1 - c0]
        np.minimum(self.image[a0:a1, b0:b1], part, out=self.image[a0:a1, b0:b1])
        if clear_ids:
            self.ids[a0:a1, b0:b1][part < threshold] = 0


def dash_pieces(points: np.ndarray, pattern: list[float] | None, phase: float) -> list[np.ndarray]:
    """Cut a polyline into the "on" parts of a repeating on/off ``pattern`` measured along its length."""
    if not pattern or len(points) < 2:
        return [points]
    seg = np.hypot(*np.diff(points, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = s[-1]
    pattern_arr = np.asarray(pattern, dtype=np.float64)
    period = float(pattern_arr.sum())
    if total <= 0 or period <= 0:
        return [points]
    bounds = np.concatenate([[0.0], np.cumsum(pattern_arr)])
    on_starts = bounds[0:-1:2]
    on_ends = bounds[1::2]
    first = np.floor((0.0 + phase) / period) - 1
    n_periods = int(np.ceil((total + phase) / period)) + 2
    base = (first + np.arange(n_periods))[:, None] * period - phase
    starts = (base + on_starts[None, :]).ravel()
    ends = (base + on_ends[None, :]).ravel()
    keep = (ends > 0) & (starts < total)
    return cut_intervals(points, s, np.clip(starts[keep], 0, total), np.clip(ends[keep], 0, total))


def cut_intervals(points: np.ndarray, s: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list[np.ndarray]:
    """Sub-polylines of ``points`` between arc lengths ``starts[i]`` and ``ends[i]`` (``s`` = arc length
    at each vertex). A zero-length interval gives a dot."""
    if len(starts) == 0:
        return []
    n = len(starts)
    i0 = np.searchsorted(s, starts, side="right")
    i1 = np.searchsorted(s, ends, side="left")
    inner = np.maximum(i1 - i0, 0)
    offsets = np.concatenate([[0], np.cumsum(inner + 2)])
    out = np.empty((int(offsets[-1]), 2))
    out[offsets[:-1], 0] = np.interp(starts, s, points[:, 0])
    out[offsets[:-1], 1] = np.interp(starts, s, points[:, 1])
    out[offsets[1:] - 1, 0] = np.interp(ends, s, points[:, 0])
    out[offsets[1:] - 1, 1] = np.interp(ends, s, points[:, 1])
    total_inner = int(inner.sum())
    if total_inner:
        owner = np.repeat(np.arange(n), inner)
        within = np.arange(total_inner) - np.repeat(np.cumsum(inner) - inner, inner)
        out[offsets[owner] + 1 + within] = points[i0[owner] + within]
    bounds = offsets.tolist()
    return [out[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _pattern_mask(s: np.ndarray, pattern: list[float]) -> np.ndarray:
    """Which pixel centres at arc lengths ``s`` fall on an "on" part of the on/off ``pattern`` (a dash
    of length L covers centres within [start − ½, start + L + ½), so a zero-length dash is one dot)."""
    arr = np.asarray(pattern, dtype=np.float64)
    period = float(arr.sum())
    if period <= 0:
        return np.ones(s.shape, bool)
    bounds = np.concatenate([[0.0], np.cumsum(arr)])
    m = np.mod(s, period)
    on = np.zeros(s.shape, bool)
    for start, end in zip(bounds[0:-1:2], bounds[1::2], strict=True):
        for shift in (-period, 0.0, period):
            on |= (m >= start - 0.5 + shift) & (m < end + 0.5 + shift)
    return on
