"""Hand-made test pages: draw known curves into a class mask through a layout (no generator needed)."""

from __future__ import annotations

import cv2
import numpy as np

from veerdesk.core.layout import Layout

SHIFT = 4  # cv2 sub-pixel bits


def make_layout(tracks: list[dict], *, height: int = 400, top: float = 1000.0, step: float = 0.5,
                rows_per_unit: float = 4.0) -> Layout:
    bottom_row = height - 10.0
    top_row = 10.0
    span = (bottom_row - top_row) / rows_per_unit
    return Layout.from_dict({
        "version": 1,
        "well": {"name": "TEST 1", "uwi": "00-000-00000", "company": "ACME", "field": "WILDCAT"},
        "depth": {"unit": "FT", "ties": [[top_row, top], [bottom_row, top + span]], "step": step},
        "tracks": tracks,
    })


def columns_for(layout: Layout, mnemonic: str, values: np.ndarray, *, wrap: bool = False) -> np.ndarray:
    """Columns where ``values`` sit; with ``wrap`` values beyond the right edge go on the backup scale."""
    _, track, curve = layout.curve(mnemonic)
    x = track.column_at_value(values, curve.scale)
    if wrap and curve.backup is not None:
        over = x > track.x1
        x = np.where(over, track.column_at_value(values, curve.backup), x)
    return x


def draw_curve(mask: np.ndarray, layout: Layout, mnemonic: str, values: np.ndarray, *, cls: int, thickness: int = 2,
               dash: tuple[int, int] | None = None, wrap: bool = False) -> None:
    """Draw ``values`` (on the depth grid, NaN = absent) as a polyline; ``dash`` = (on, off) in rows."""
    depth = layout.depth_grid()
    y = layout.depth.row_at_depth(depth)
    x = columns_for(layout, mnemonic, values, wrap=wrap)
    _, track, _ = layout.curve(mnemonic)
    ok = np.isfinite(x) & np.isfinite(y)
    # Pixel-corner coordinates → cv2 pixel-centre coordinates.
    pts = np.stack([(x - 0.5) * (1 << SHIFT), (y - 0.5) * (1 << SHIFT)], axis=1)
    for i in range(len(pts) - 1):
        if not (ok[i] and ok[i + 1]):
            continue
        if wrap and abs(x[i + 1] - x[i]) > track.width / 2:
            continue  # the wrap jump itself is not drawn
        if dash is not None:
            on, off = dash
            if (y[i] % (on + off)) >= on:
                continue
        p0 = tuple(int(round(v)) for v in pts[i])
        p1 = tuple(int(round(v)) for v in pts[i + 1])
        cv2.line(mask, p0, p1, cls, thickness, lineType=cv2.LINE_8, shift=SHIFT)


def draw_pattern(mask: np.ndarray, layout: Layout, mnemonic: str, values: np.ndarray, *, cls: int,
                 pattern: tuple[float, ...], thickness: int = 2) -> None:
    """Draw ``values`` with an on/off ``pattern`` measured along the curve (as a plotter pen does)."""
    depth = layout.depth_grid()
    y = layout.depth.row_at_depth(depth)
    x = columns_for(layout, mnemonic, values)
    # Densify so the pattern can switch inside a segment.
    t = np.linspace(0, len(x) - 1, (len(x) - 1) * 8 + 1)
    xs, ys = np.interp(t, np.arange(len(x)), x), np.interp(t, np.arange(len(y)), y)
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(xs), np.diff(ys)))])
    period = float(sum(pattern))
    bounds = np.cumsum(pattern)
    phase = np.searchsorted(bounds, arc % period, side="right")
    on = phase % 2 == 0
    for i in range(len(xs) - 1):
        if on[i] and np.isfinite(xs[i]) and np.isfinite(xs[i + 1]):
            p0 = (int(round((xs[i] - 0.5) * (1 << SHIFT))), int(round((ys[i] - 0.5) * (1 << SHIFT))))
            p1 = (int(round((xs[i + 1] - 0.5) * (1 << SHIFT))), int(round((ys[i + 1] - 0.5) * (1 << SHIFT))))
            cv2.line(mask, p0, p1, cls, thickness, lineType=cv2.LINE_8, shift=SHIFT)
