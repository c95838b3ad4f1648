"""Curve values and where they are drawn, both through the layout so that truth and ink agree exactly.

A curve's signal lives in *unwrapped track fractions* g: 0..1 is the main scale, 1..2 the backup scale
after a wrap past the right edge, -1..0 after a wrap past the left edge. Values come from
``Track.value_at_column`` and drawn columns from ``Track.column_at_value`` on the scale actually used;
rows come from ``DepthAxis.row_at_depth``.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from veerdesk.core.layout import Curve, Layout, Track
from veerdesk.synth.design import PageDesign
from veerdesk.synth.signals import curve_shape

# Finer than a pixel, so the drawn curve is smooth between depth-grid samples.
FINE_PX = 0.8


@dataclass
class CurveSignal:
    depths: np.ndarray  # fine depth samples
    values: np.ndarray  # real values (NaN = absent)
    side: np.ndarray  # 0 main scale, +1 / -1 wrapped to the backup scale
    recipe: str


def fine_factor(design: PageDesign) -> int:
    """Fine samples per depth-grid step."""
    return max(1, math.ceil(design.layout.depth.step * design.px_per_unit * 1.06 / FINE_PX))


def fine_depths(layout: Layout, factor: int, row_lo: float | None = None, row_hi: float | None = None) -> np.ndarray:
    """Depth-grid samples plus ``factor - 1`` equally spaced ones between each, limited to rows
    [row_lo, row_hi] when given. Every ``factor``-th sample is exactly a depth-grid value."""
    grid = layout.depth_grid()
    if grid.size == 0:
        return grid
    if row_lo is not None and row_hi is not None:
        rows = layout.depth.row_at_depth(grid)
        inside = np.nonzero((rows >= row_lo) & (rows <= row_hi))[0]
        if inside.size == 0:
            return grid[:0]
        grid = grid[max(0, inside[0] - 1) : inside[-1] + 2]
    if factor == 1 or grid.size == 1:
        return grid
    sub = np.arange(factor) / factor * layout.depth.step
    fine = (grid[:-1, None] + sub[None, :]).ravel()
    fine = fine.reshape(-1, factor)
    fine[:, 0] = grid[:-1]  # exact grid values, free of float error
    return np.concatenate([fine.ravel(), grid[-1:]])


def make_signals(design: PageDesign, rng: np.random.Generator, depths: np.ndarray, factor: int,
                 only: Collection[int] | None = None) -> list[CurveSignal]:
    """Curve signals on the fine ``depths`` (from :func:`fine_depths` with the same ``factor``).

    ``only``: indices of the curves to make (the others come back absent and draw nothing from ``rng``;
    a crop needs only the curves that can reach its window).

    Shapes are drawn at the LAS sampling (every ``factor``-th fine sample) and joined by a monotone
    cubic, as a plotter joins its samples: the drawn curve passes exactly through every truth value and
    holds no detail the truth LAS cannot express.
    """
    layout = design.layout
    d_top, d_bottom = layout.depth.depth_range()
    grid = depths[::factor]
    body_fraction = (grid - d_top) / max(d_bottom - d_top, 1e-9)
    n = grid.size
    px_per_sample = layout.depth.step * design.px_per_unit
    samples_per_px = 1.0 / max(px_per_sample, 1e-6)
    out = []
    # Curve families (training crops only, see CropStream's family_share): later curves of a track follow its
    # first one closely, as deep, medium and shallow resistivity do, so the pens lie on top of each other.
    families = bool(design.extras.get("curve_families"))
    leaders: dict[int, np.ndarray] = {}
    for k, ((track_index, track, curve), look) in enumerate(zip(layout.curves(), design.curves, strict=True)):
        plan = look["signal"]
        if n == 0 or (only is not None and k not in only):
            out.append(CurveSignal(depths, np.full(depths.size, np.nan), np.zeros(depths.size, np.int8), "none"))
            continue
        shape, recipe = curve_shape(rng, n, samples_per_px, plan["amplitude"] * (track.x1 - track.x0),
                                    plan.get("resolution", 0.0) * design.px_per_unit)
        g = plan["centre"] + plan["amplitude"] * shape
        wrap = plan["wrap"]
        # A pen without a backup scale may run over the track edge into the neighbour ("spill").
        spill_lo, spill_hi = plan.get("spill") or (0.0, 0.0)
        if families and track_index in leaders:
            g = family_member(leaders[track_index], shape, plan["amplitude"], rng)
            recipe = "family"
        elif not wrap:
            g = _fit_inside(g, plan.get("peg", 0.0), -spill_lo, 1.0 + spill_hi)
        if families and track_index not in leaders:
            leaders[track_index] = g.copy()  # as fitted, before clipping and absent stretches
        g = np.clip(g, 0.0, 2.0) if wrap > 0 else np.clip(g, -1.0, 1.0) if wrap < 0 else np.clip(g, -spill_lo, 1.0 + spill_hi)
        for a, b in plan["absent"]:
            g[(body_fraction >= a) & (body_fraction <= b)] = np.nan
        for _, above, below in design.extras.get("joins", ()):
            g[(grid > above) & (grid < below)] = np.nan  # the paper that held these depths is gone
        g_fine = monotone_upsample(g, factor)[: depths.size]
        values, side = values_from_fractions(track, curve, g_fine)
        out.append(CurveSignal(depths, values, side, recipe))
    return out


FAMILY_OFFSET = 0.04  # of the track width, at most: members sit on or just beside their leader
FAMILY_OWN_SHARE = (0.05, 0.3)  # how much of a member's own shape shows through its leader's


def family_member(leader: np.ndarray, own_shape: np.ndarray, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """A curve (track fractions) that follows ``leader`` closely: a constant offset plus a little of its own
    shape, where it parts from the leader (an invaded bed separating shallow from deep resistivity)."""
    own = float(rng.uniform(*FAMILY_OWN_SHARE))
    centred = own_shape - np.nanmean(own_shape) if np.isfinite(own_shape).any() else own_shape
    return leader + float(rng.uniform(-FAMILY_OFFSET, FAMILY_OFFSET)) + own * amplitude * centred


def monotone_upsample(g: np.ndarray, factor: int) -> np.ndarray:
    """``factor - 1`` points between samples on a monotone cubic (no overshoot, so clipped ranges
    hold); NaN between a sample and an absent neighbour. Output[::factor] == g exactly."""
    if factor == 1 or g.size < 2:
        return g.copy()
    d = np.diff(g)
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.concatenate([[np.nan], d])
        right = np.concatenate([d, [np.nan]])
        same_sign = (left * right) > 0
        harmonic = np.where(same_sign, 2.0 / (1.0 / np.where(same_sign, left, 1) + 1.0 / np.where(same_sign, right, 1)), 0.0)
    m = np.where(np.isfinite(harmonic), harmonic, 0.0)
    t = np.arange(factor) / factor
    h00 = 2 * t**3 - 3 * t**2 + 1
    h10 = t**3 - 2 * t**2 + t
    h01 = -2 * t**3 + 3 * t**2
    h11 = t**3 - t**2
    g0, g1 = g[:-1, None], g[1:, None]
    fine = h00 * g0 + h10 * m[:-1, None] + h01 * g1 + h11 * m[1:, None]
    fine[:, 0] = g[:-1]  # exact at the samples
    fine[~np.isfinite(g1[:, 0]), 1:] = np.nan
    return np.concatenate([fine.ravel(), g[-1:]])


def _fit_inside(g: np.ndarray, peg: float, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Shrink a trace that would run off a track without a backup scale, keeping only a little pegging
    at the edge (``peg`` = tolerated fraction of samples outside). ``low``/``high``: the fractions the
    pen can reach (beyond 0..1 when it may spill into the neighbouring track)."""
    finite = g[np.isfinite(g)]
    if finite.size == 0:
        return g
    a, b = low + 0.02, high - 0.02
    lo, hi = np.percentile(finite, [100 * peg / 2, 100 - 100 * peg / 2])
    if lo >= a and hi <= b:
        return g
    mid = float(np.median(finite))
    scale = min(1.0, (mid - a) / max(mid - lo, 1e-9) if lo < a else 1.0,
                (b - mid) / max(hi - mid, 1e-9) if hi > b else 1.0)
    out = mid + (g - mid) * max(scale, 0.0)
    return np.clip(out, a, b) if peg == 0.0 else out


def values_from_fractions(track: Track, curve: Curve, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real values of unwrapped fractions ``g`` and the side (0 main, ±1 backup) each is drawn on."""
    side = np.where(g > 1.0, 1, np.where(g < 0.0, -1, 0)).astype(np.int8)
    if curve.backup is None:
        side[:] = 0  # no backup scale: beyond an edge is a spill, drawn where the main scale puts it
    display = g - side
    x = track.x0 + display * (track.x1 - track.x0)
    values = track.value_at_column(x, curve.scale)
    if curve.backup is not None and np.any(side != 0):
        wrapped = side != 0
        values[wrapped] = track.value_at_column(x[wrapped], curve.backup)
    values[~np.isfinite(g)] = np.nan
    return values, side


def drawn_columns(track: Track, curve: Curve, values: np.ndarray) -> np.ndarray:
    """Column where each value is drawn: on the main scale when it fits, else on the backup scale."""
    values = np.asarray(values, dtype=np.float64)
    x = track.column_at_value(values, curve.scale)
    if curve.backup is not None:
        lo, hi = min(track.x0, track.x1), max(track.x0, track.x1)
        outside = np.isfinite(x) & ((x < lo - 1e-7) | (x > hi + 1e-7))
        if np.any(outside):
            x[outside] = track.column_at_value(values[outside], curve.backup)
    return x


def trace_runs(layout: Layout, track: Track, curve: Curve, signal: CurveSignal) -> list[np.ndarray]:
    """Polylines (page x, y) of one curve: broken where it is absent, split at wraps with the crossing
    point placed on both track edges."""
    if signal.values.size == 0:
        return []
    x = drawn_columns(track, curve, signal.values)
    y = layout.depth.row_at_depth(signal.depths)
    finite = np.isfinite(x) & np.isfinite(y)
    side = signal.side
    runs: list[np.ndarray] = []
    n = x.size
    # Breaks: wherever finiteness or side changes between neighbours.
    change = np.nonzero((finite[1:] != finite[:-1]) | (side[1:] != side[:-1]))[0]
    starts = np.concatenate([[0], change + 1])
    ends = np.concatenate([change + 1, [n]])
    pending_start: np.ndarray | None = None
    for a, b in zip(starts, ends, strict=True):
        if not finite[a]:
            pending_start = None
            continue
        pts = np.column_stack([x[a:b], y[a:b]])
        if pending_start is not None:
            pts = np.vstack([pending_start, pts])
            pending_start = None
        if b < n and finite[b] and side[b] != side[b - 1]:
            end_pt, start_pt = _edge_crossing(track, x, y, side, b - 1, b)
            pts = np.vstack([pts, end_pt])
            pending_start = start_pt
        runs.append(pts)
    return runs


def _edge_crossing(track: Track, x, y, side, i, j):
    """Where the trace between samples i and j leaves one edge and re-enters at the other."""
    width = track.x1 - track.x0
    gi = (x[i] - track.x0) / width + side[i]
    gj = (x[j] - track.x0) / width + side[j]
    boundary = 1.0 if max(side[i], side[j]) == 1 else 0.0
    t = 0.5 if gj == gi else float(np.clip((boundary - gi) / (gj - gi), 0.0, 1.0))
    yc = y[i] + t * (y[j] - y[i])
    x_end = track.x0 + (boundary - side[i]) * width
    x_start = track.x0 + (boundary - side[j]) * width
    return np.array([[x_end, yc]]), np.array([[x_start, yc]])
