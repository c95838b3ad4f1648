"""Curve tracing: class map + confidence + layout → one :class:`CurveTrace` per layout curve.

numpy / OpenCV only (no torch, no Qt), so it runs on a truth mask as well as on a model's output.

For every track and every mask class used by its curves (1 = solid, 2 = dashed/dotted/dashdot; a four-
or five-class model adds 3 = dotted and 4 = dash-dot, read apart where the track holds more than one
broken style, see :func:`curve_pixel_classes`):

1. **Runs.** Each row of the track's column range is split into runs of that class, with the stroke
   thickness (distance transform) and the size of the blob each run belongs to. A run across nearly the
   whole track, and every run of a row that the class covers in many short runs, are a ruled line (solid,
   or dashed / dotted) the model took for a curve, and are dropped. A track's lone curve reads every
   curve class (a stretch the model calls by another class is not lost), but in rows where its own class
   has ink, another class's run away from that ink (a reference line, a fill's edge) is dropped.
2. **Which curve.** When a track has several curves of one class, runs are split among them by a feature
   when it separates them clearly and consistently (the pieces the tracker follows keep one label; a
   piece that mostly agrees then gives all its runs to that curve): blob size for different dash styles
   (a dot is a small blob, a dash a long one) and for dotted pens of different weight (a heavy pen's dots
   are bigger), stroke thickness (log) for other heavy / light pairs. Dash-dot beside dashed (or dotted) is located by its dots (or dashes) first and takes
   the runs on that path. Otherwise the curves are followed together (step 4) so identity survives
   crossings — where two curves meet in one cluster every piece coasts through on its own slope — and
   whole pieces are given to curves by depth overlap, continuity and feature. Curves drawn alike (same
   style, same stroke) can only be told apart by continuity; which is which is then a guess, and the
   samples of guessed pieces get a low confidence so that the review queue shows them.
3. **Rows → clusters.** Runs of one curve in one row close to each other are one cluster (a near-horizontal
   dotted stretch puts several dots in a row).
4. **Tracking.** Clusters are linked row to row by a constant-velocity tracker: each live piece predicts
   its position and takes the cluster closest to the prediction (distance to the cluster's interval, so a
   wide cluster from a near-horizontal stretch still matches). With a backup scale the tracker works in
   an *unwrapped* column ``u`` (``x ± track width``), so a trace leaving one edge and re-entering at the
   other stays one piece. The longest pieces win where two overlap (noise and short fragments lose).
   Whether each piece lies on the main or the backup scale is then decided for all pieces of the curve at
   once (:func:`place_wraps`): every sample must lie where a scale exists, each piece should continue
   the piece with the latest row above it, and the main scale wins ties. A piece whose centre jumps
   between rows is placed stretch by stretch: the tracker unwraps only next to an edge, so a curve that
   swings fast across the wrap is followed to the other edge on the old scale. Where curves of one class group
   come close (crossings), the samples get a low confidence: there a wrong call swaps the curves, and
   the review queue should show the place (:func:`flag_crossings`); so should a trace riding the track's
   border, more likely on the ruled line than on its curve (:func:`flag_border_riding`).
5. **Sub-row geometry.** A stroke crosses the boundary between rows r-1 and r where their clusters overlap
   (or, for a near-horizontal stretch, in the gap between them): the middle of that overlap is a sample at
   y = r. The cluster centre is a sample at y = r + 0.5, unless the cluster sticks out past both crossings
   (a spike narrower than a row): then its tip is. Two samples per row keep steep, fast-changing curves.
6. **Mis-links.** The stitched curve is cut into chains where it jumps (clusters further apart than a dash
   gap plus one pixel per row of gap). A chain shorter than both neighbours, far off the straight path
   between them, whose neighbours agree with each other and neither of which, carried on along its own
   slope, meets it, is an excursion to something else (a neighbouring curve, text, noise) and is dropped;
   its rows are then bridged like any gap, or left absent when too long. On a log track one such sample
   ruins R² in value space, so an honest gap beats a guess.
7. **Gaps and resampling.** Gaps shorter than a per-style limit are bridged along a cubic that leaves
   each end in the direction of the trace there (a dash shows where the curve was heading,
   :func:`~veerdesk.core.curves.bridge_gaps_along_ends`); longer ones stay absent. ``u`` maps to values
   with :meth:`Track.value_at_column` (backup scale beyond an edge it continues) and rows to the layout's
   depth grid; confidence is the mean model confidence of the pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from veerdesk.core.classes import BROKEN_CLASSES, DASHDOT, DOTTED, NON_SOLID, SOLID, style_class
from veerdesk.core.curves import CurveTrace, bridge_gaps_along_ends, interpolate_series
from veerdesk.core.layout import Curve, Layout, Track

# Longest gap (rows) bridged by interpolation, per style: dashed/dotted curves have gaps by design; a solid
# curve's gaps are the model's dropouts (crossings, lettering, grid), bridged at a lower confidence
# (BRIDGED_CONFIDENCE). 30 rows for solid raised median coverage on 32 held-out pages from 0.84 to 0.89
# with R² unchanged; 60 rows began to cost R².
MAX_GAP_ROWS = {"solid": 30, "dashed": 60, "dotted": 40, "dashdot": 60}
# A piece that has seen nothing for this many rows is closed (the curve stopped or left the page).
LOST_AFTER_ROWS = {"solid": 20, "dashed": 70, "dotted": 50, "dashdot": 70}
# Runs of one curve in one row this close (px) are one cluster: dots and dashes of a flat stretch.
JOIN_GAP_PX = {"solid": 3, "dashed": 24, "dotted": 16, "dashdot": 24}
# Bridged samples of a solid curve are less certain than the evidence around them.
BRIDGED_CONFIDENCE = {"solid": 0.6, "dashed": 1.0, "dotted": 1.0, "dashdot": 1.0}
# Dash order used to tell non-solid curves of one track apart by blob size.
DASH_RANK = {"dotted": 0, "dashdot": 1, "dashed": 2, "solid": 3}
WEIGHT_RANK = {"light": 0, None: 1, "heavy": 2}
MIN_PIECE_ROWS = 3
# A followed piece whose runs agree at least this much on a curve gives all its runs to that curve.
PIECE_MAJORITY = 0.8
# A piece given to a curve by continuity alone, when another curve continues it within this margin (px),
# is an identity guess; its samples get at most this confidence so that the review queue shows them.
IDENTITY_MARGIN_PX = 6.0
IDENTITY_GUESS_CONFIDENCE = 0.35
# Curves followed together that come within this many px (plus two stroke widths) of each other are at a
# crossing; samples within CROSSING_ROWS rows of it get the identity-guess confidence.
CROSSING_PX = 3.0
CROSSING_ROWS = 12
# Two curves of different classes traced along the same ink for this many rows: one of them (in 46 such
# pairs on 32 generated pages, never both) is following the other's pen.
SHARED_INK_ROWS = 40
# A trace riding the track's border this long is more likely on the ruled border than on its curve (the
# model labels borders as curve now and then); a curve really pegged at the scale's end deserves a look too.
BORDER_PX = 3.0
BORDER_RIDE_ROWS = 30
# Pieces this close (rows) are placed relative to each other across a wrap; further apart, independently.
ALIGN_REACH_ROWS = 150
FULL_WIDTH_RUN = 0.9
# A row where one class covers this share of the track in at least RULED_ROW_RUNS runs is a dashed or dotted
# ruled line (a grid line the model took for a broken curve), not a curve: its runs are dropped. On generated
# pages (0-23, 500-531) two more curves reached R² >= 0.9 and three more 0.99 (a dashed curve the grid's
# dashes led astray went from -3.9 to 0.79); foreign pages did not move. Lower shares (0.15-0.2) cut real
# near-horizontal strokes.
RULED_ROW_SHARE = 0.3
RULED_ROW_RUNS = 3
# Where pieces overlap, each claims its rows with its rows' confidence above this. Measured on 56 pages with
# four sets of weights (stage 5, three stage-6 checkpoints): median recovered R² rose in all eight
# comparisons over the plain confidence sum (e.g. stage 6 on 32 selection pages 0.754 -> 0.799, stage 5
# on the 24 card pages 0.836 -> 0.900); 0.5 and 0.8 gained less or less evenly.
CLAIM_CONFIDENCE = 0.7
CHUNK_ROWS = 2048  # bounds the per-chunk run shapes and labels on very wide tracks
CLOSE_KERNEL = np.ones((3, 3), np.uint8)
THICKNESS_REACH_PX = 24  # strokes are never thicker; longer runs are along the stroke, not across it


def class_of(curve: Curve, classes: int = 3) -> int:
    """The class id of the curve's pixels under the ``classes``-class scheme."""
    return style_class(curve.style, classes)


def curve_pixel_classes(track: Track, classes: int = 3) -> dict[str, tuple[int, ...]]:
    """For each curve of ``track`` (by mnemonic), the class ids of the pixels that may be its ink.

    Each broken-line style present in the track reads its own class; a broken-line class no present style
    owns goes to the present style the model most likely confused it with (dash-dot pixels to a dashed
    curve, dotted ones to a dash-dot curve, ...), so a stretch the model calls by another broken style is
    not lost. Under the four-class scheme that means: a dotted curve reads only dotted pixels when the
    track also holds a dashed or dash-dot curve, and dotted and non-solid pixels are one class otherwise.
    """
    owned = {class_of(curve, classes) for curve in track.curves if curve.style != "solid"}
    reads: dict[int, list[int]] = {cls: [cls] for cls in owned}
    for cls in BROKEN_CLASSES[classes]:
        if cls in owned:
            continue
        heir = next((c for c in CONFUSED_WITH[cls] if c in owned), None)
        if heir is not None:
            reads[heir].append(cls)
    out = {}
    for curve in track.curves:
        if curve.style == "solid":
            out[curve.mnemonic] = (SOLID,)
        else:
            out[curve.mnemonic] = tuple(sorted(reads[class_of(curve, classes)]))
    return out


# For a broken-line class no curve of the track owns: the classes whose curves most likely drew its
# pixels, nearest first (a dash-dot curve's dots look like dots, its dashes like dashes).
CONFUSED_WITH: dict[int, tuple[int, ...]] = {
    NON_SOLID: (DASHDOT, DOTTED),
    DOTTED: (DASHDOT, NON_SOLID),
    DASHDOT: (NON_SOLID, DOTTED),
}


@dataclass
class Runs:
    """Runs of one class in one track's strip, sorted by (row, start); columns are page columns."""

    row: np.ndarray  # int64, page row
    start: np.ndarray  # float64, first column (pixel corner)
    end: np.ndarray  # float64, one past the last column
    confidence: np.ndarray  # float64 in [0, 1], mean over the run's pixels
    thickness: np.ndarray  # float64, stroke thickness (px, see _run_shape)
    blob: np.ndarray  # float64, diagonal of the connected component the run belongs to

    def subset(self, keep: np.ndarray) -> Runs:
        return Runs(self.row[keep], self.start[keep], self.end[keep], self.confidence[keep], self.thickness[keep],
                    self.blob[keep])

    @property
    def centre(self) -> np.ndarray:
        return 0.5 * (self.start + self.end)


def _empty_runs() -> Runs:
    empty = np.zeros(0)
    return Runs(np.zeros(0, np.int64), empty, empty, empty, empty, empty)


def find_runs(class_map: np.ndarray, confidence: np.ndarray | None, cls: int | tuple[int, ...] | None,
              rows: tuple[int, int], cols: tuple[int, int], chunk_rows: int | None = None, *,
              shapes: bool = True) -> Runs:
    """Runs of ``cls`` pixels (a class id, a tuple of them, or any curve class when None) per row in
    ``class_map[rows, cols]``, in row chunks so memory stays bounded. ``shapes=False`` leaves thickness and
    blob at 0 (their measure is most of the cost) for callers that need only where the runs are."""
    r0, r1 = rows
    c0, c1 = cols
    chunk_rows = chunk_rows or CHUNK_ROWS
    parts: list[tuple[np.ndarray, ...]] = []
    for y in range(r0, r1, chunk_rows):
        y1 = min(r1, y + chunk_rows)
        block = np.asarray(class_map[y:y1, c0:c1])
        if cls is None:
            hit = block != 0
        elif isinstance(cls, tuple):
            hit = block == cls[0] if len(cls) == 1 else np.isin(block, cls)
        else:
            hit = block == cls
        if not hit.any():
            continue
        padded = np.zeros((hit.shape[0], hit.shape[1] + 2), dtype=np.int8)
        padded[:, 1:-1] = hit
        edges = np.diff(padded, axis=1)
        sr, sc = np.nonzero(edges == 1)
        _, ec = np.nonzero(edges == -1)
        if confidence is not None:
            conf = np.where(hit, np.asarray(confidence[y:y1, c0:c1]), 0).astype(np.int32)
            cums = np.zeros((hit.shape[0], hit.shape[1] + 1), dtype=np.int32)
            np.cumsum(conf, axis=1, out=cums[:, 1:])
            mean_conf = (cums[sr, ec] - cums[sr, sc]) / (255.0 * (ec - sc))
        else:
            mean_conf = np.ones(sr.size)
        if shapes:
            thickness, blob = _run_shape(hit, sr, sc, ec)
        else:
            thickness = blob = np.zeros(sr.size)
        parts.append((sr + y, sc + c0, ec + c0, mean_conf, thickness, blob))
    if not parts:
        return _empty_runs()
    row, start, end, conf, thick, blob = (np.concatenate(p) for p in zip(*parts, strict=True))
    return Runs(row.astype(np.int64), start.astype(np.float64), end.astype(np.float64), conf.astype(np.float64),
                thick.astype(np.float64), blob.astype(np.float64))


def _run_shape(hit: np.ndarray, sr: np.ndarray, sc: np.ndarray, ec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per run: stroke thickness and the diagonal of its blob.

    Thickness is the shortest of the run itself and the ink runs through its middle pixel horizontally,
    vertically and along both diagonals: across the stroke that is its width w whatever the stroke's
    slope (within 8 %), and unlike a distance transform it tells 1-px from 2-px pens apart. The ink runs
    are measured with small holes closed: a colour pen scanned to 1 bit is often dithered into a
    checkerboard whose rows fall apart into single pixels (8-connected, so its blob is still whole).
    """
    ink = hit.view(np.uint8)
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, CLOSE_KERNEL).astype(bool)
    row, col = sr, (sc + ec - 1) // 2
    thickness = (ec - sc).astype(np.float64)
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        extent = _ink_extent(closed, row, col, dr, dc) + _ink_extent(closed, row, col, -dr, -dc) - 1.0
        thickness = np.minimum(thickness, extent * (math.sqrt(2.0) if dr and dc else 1.0))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    diag = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float64)
    return thickness, diag[labels[sr, sc]]


def _ink_extent(ink: np.ndarray, row: np.ndarray, col: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """Ink pixels from (row, col) on, stepping (dr, dc), counting the start (which must be ink)."""
    h, w = ink.shape
    count = np.zeros(row.size)
    alive = ink[row, col].copy()
    for k in range(THICKNESS_REACH_PX):
        r, c = row + k * dr, col + k * dc
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        alive &= inside
        alive[alive] &= ink[r[alive], c[alive]]
        if not alive.any():
            break
        count += alive
    return count


def drop_ruled_lines(runs: Runs, rows: tuple[int, int], width: float) -> Runs:
    """``runs`` without what looks like a ruled line across the track: a run over nearly all of it
    (FULL_WIDTH_RUN), and every run of a row the class covers in many short runs (RULED_ROW_SHARE)."""
    runs = runs.subset(runs.end - runs.start < FULL_WIDTH_RUN * width)
    if runs.row.size == 0:
        return runs
    at = runs.row - rows[0]
    covered = np.bincount(at, weights=runs.end - runs.start, minlength=rows[1] - rows[0])
    count = np.bincount(at, minlength=rows[1] - rows[0])
    ruled = (covered >= RULED_ROW_SHARE * width) & (count >= RULED_ROW_RUNS)
    return runs.subset(~ruled[at])


def _runs_holding(runs: Runs, inner: Runs) -> np.ndarray:
    """Per run of ``runs``: does it hold a run of ``inner`` (found in the same class map, a subset of its classes)?"""
    holding = np.zeros(runs.row.size, dtype=bool)
    if inner.row.size == 0 or runs.row.size == 0:
        return holding
    span = float(max(runs.end.max(), inner.end.max())) + 2.0
    at = np.searchsorted(runs.row * span + runs.start, inner.row * span + inner.start, side="right") - 1
    holding[at[at >= 0]] = True
    return holding


# A track whose one curve reads every curve class (see trace_curves) also reads ink of other classes that is
# not its curve: a dashed reference line beside a solid curve, a dotted fill edge. Where the curve's own class
# has ink in a row, another class's run counts only within this reach of own-class ink (the model calling
# part of the same stroke by another class); elsewhere in such rows it is dropped. Generated pages 0-23 and
# 500-531: six curves up (a solid curve that had followed a dashed reference line for 90 rows: R² 0.47 ->
# 0.995), none down; foreign pages one up. 1-8 rows and 2-16 px gave the same. Applied to tracks with
# several curves of one class it cost as much as it gained (a stretch of one solid pen labelled dashed lies
# beside the other pen's own-class ink).
OWN_CLASS_REACH_ROWS = 3
OWN_CLASS_REACH_PX = 6.0


def prefer_own_class(runs: Runs, own: Runs, rows: tuple[int, int]) -> Runs:
    """``runs`` (any curve class) without the runs holding no ``own``-class pixel that lie further than
    OWN_CLASS_REACH_* from any run that holds some, in rows where such runs exist."""
    holds = _runs_holding(runs, own)
    foreign = np.flatnonzero(~holds)
    if foreign.size == 0 or not holds.any():
        return runs
    n = rows[1] - rows[0]
    own_row = np.zeros(n, dtype=bool)
    own_row[runs.row[holds] - rows[0]] = True
    fr = runs.row[foreign]
    suspect = own_row[fr - rows[0]]
    near = np.zeros(foreign.size, dtype=bool)
    o_row, o_start, o_end = runs.row[holds], runs.start[holds], runs.end[holds]
    span = float(runs.end.max()) + 2.0
    key = o_row * span + o_start
    for dk in range(-OWN_CLASS_REACH_ROWS, OWN_CLASS_REACH_ROWS + 1):
        target = (fr + dk) * span + runs.start[foreign]
        after = np.searchsorted(key, target)
        for cand in (after - 1, after):
            ok = (cand >= 0) & (cand < key.size)
            c = np.clip(cand, 0, key.size - 1)
            same = ok & (o_row[c] == fr + dk)
            gap = np.maximum(o_start[c] - runs.end[foreign], runs.start[foreign] - o_end[c])
            near |= same & (gap <= OWN_CLASS_REACH_PX)
    drop = np.zeros(runs.row.size, dtype=bool)
    drop[foreign[suspect & ~near]] = True
    return runs.subset(~drop)


def join_runs(runs: Runs, gap: float) -> Runs:
    """Merge runs of the same row separated by at most ``gap`` px into one cluster."""
    if runs.row.size < 2:
        return runs
    same_row = runs.row[1:] == runs.row[:-1]
    close = (runs.start[1:] - runs.end[:-1]) <= gap
    first = np.concatenate([[True], ~(same_row & close)])
    heads = np.flatnonzero(first)
    tails = np.concatenate([heads[1:], [runs.row.size]]) - 1
    widths = runs.end - runs.start
    conf = np.add.reduceat(runs.confidence * widths, heads) / np.add.reduceat(widths, heads)
    return Runs(runs.row[heads], runs.start[heads], runs.end[tails], conf,
                np.maximum.reduceat(runs.thickness, heads), np.maximum.reduceat(runs.blob, heads))


# --------------------------------------------------------------------------- tracking
@dataclass
class Piece:
    """One stretch followed by the tracker without losing it: per observed row, the cluster [lo, hi)."""

    rows: list[int] = field(default_factory=list)
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    feature: list[float] = field(default_factory=list)  # what tells curves apart (NaN at crossings)
    runs: list[int] = field(default_factory=list)  # index of the observed run (-1 where coasting)
    pos: float = 0.0
    vel: float = 0.0
    last_row: int = 0

    def __len__(self) -> int:
        return len(self.rows)

    def predict(self, row: int) -> float:
        return self.pos + self.vel * (row - self.last_row)

    def coast(self, row: int, lo: float, hi: float, conf: float) -> None:
        """At a crossing: move on the predicted path (clipped into the shared cluster for the record)."""
        predicted = self.predict(row)
        point = min(max(predicted, lo), hi)
        self.pos, self.last_row = predicted, row
        self.rows.append(row)
        self.lo.append(point)
        self.hi.append(point)
        self.confidence.append(conf)
        self.feature.append(math.nan)
        self.runs.append(-1)

    def observe(self, row: int, lo: float, hi: float, conf: float, feature: float = math.nan, run: int = -1) -> None:
        u = 0.5 * (lo + hi)
        dt = row - self.last_row
        if self.rows and dt > 0:
            self.vel = 0.5 * self.vel + 0.5 * (u - self.pos) / dt
        self.pos, self.last_row = u, row
        self.rows.append(row)
        self.lo.append(lo)
        self.hi.append(hi)
        self.confidence.append(conf)
        self.feature.append(feature)
        self.runs.append(run)


@dataclass(frozen=True)
class WrapRule:
    """Which unwrapped shifts a cluster may take: 0 always, ±width where the backup continues that edge."""

    width: float
    right: bool
    left: bool
    x0: float = 0.0

    @property
    def shifts(self) -> tuple[float, ...]:
        out = [0.0]
        if self.right:
            out.append(self.width)
        if self.left:
            out.append(-self.width)
        return tuple(out)


def wrap_rule(track: Track, curve: Curve) -> WrapRule:
    """Where the backup scale continues the main one (right edge, left edge, or both when unclear)."""
    if curve.backup is None:
        return WrapRule(track.width, False, False, track.x0)
    main, backup = curve.scale, curve.backup
    if track.scale == "log":
        def position(v: float) -> float:
            return math.log10(v)
    else:
        def position(v: float) -> float:
            return v
    span = abs(position(main.right) - position(main.left))
    right = abs(position(backup.left) - position(main.right)) <= 0.02 * span
    left = abs(position(backup.right) - position(main.left)) <= 0.02 * span
    if not (right or left):
        right = left = True
    return WrapRule(track.width, right, left, track.x0)


def track_runs(runs: Runs, rows: tuple[int, int], *, max_tracks: int, lost_after: int, wrap: WrapRule,
               share: bool = False, feature: np.ndarray | None = None) -> list[Piece]:
    """Link clusters row to row into pieces (see the module docstring)."""
    r0, r1 = rows
    row_starts = np.searchsorted(runs.row, np.arange(r0, r1 + 1))
    starts, ends = runs.start.tolist(), runs.end.tolist()
    confs = runs.confidence.tolist()
    features = (np.full(runs.row.size, math.nan) if feature is None else feature).tolist()
    shifts = wrap.shifts
    x_left, width = wrap.x0, wrap.width
    edge_band = 0.15 * width
    live: list[Piece] = []
    done: list[Piece] = []
    for r in range(r0, r1):
        a, b = int(row_starts[r - r0]), int(row_starts[r - r0 + 1])
        if live:
            keep = []
            for p in live:
                (keep if r - p.last_row <= lost_after else done).append(p)
            live = keep
        if a == b:
            continue
        pairs = []  # (cost, piece index, run index, shift)
        for k, p in enumerate(live):
            dt = r - p.last_row
            gate = 3.0 + 0.5 * dt + 0.25 * abs(p.vel) * dt
            pk = p.predict(r)
            # A wrap is only possible next to an edge: the piece must have been close to one.
            offset = math.floor((p.pos - x_left) / width) * width
            display = p.pos - offset
            piece_shifts = (offset,)
            if len(shifts) > 1 and min(display - x_left, x_left + width - display) < edge_band:
                piece_shifts = tuple(offset + s for s in shifts)
            last_lo, last_hi = p.lo[-1], p.hi[-1]
            for j in range(a, b):
                for s in piece_shifts:
                    lo, hi = starts[j] + s, ends[j] + s
                    cost = lo - pk if pk < lo else (pk - hi if pk > hi else 0.0)
                    if dt == 1:
                        # Touching the last cluster (8-connected) is continuity whatever the slope says.
                        touch = max(0.0, lo - last_hi, last_lo - hi)
                        cost = min(cost, touch)
                    if cost <= gate:
                        pairs.append((cost, k, j, s))
        pairs.sort()
        taken: dict[int, tuple[int, float]] = {}
        owner: dict[int, int] = {}
        for _cost, k, j, s in pairs:
            if k in taken or j in owner:
                continue
            taken[k] = (j, s)
            owner[j] = k
        # A piece left without a cluster whose prediction lies in a taken one: with several curves in the
        # group the pieces meet at a crossing and all of them coast through it on their own slope; with
        # one curve it duplicates another piece and is closed.
        shared: dict[int, tuple[int, float]] = {}
        close = set()
        for cost, k, j, s in pairs:
            if k in taken or k in shared or k in close or cost > 1.5:
                continue
            if share:
                shared[k] = (j, s)
                shared[owner[j]] = taken[owner[j]]
            else:
                close.add(k)
        for k, (j, s) in taken.items():
            if k not in shared:
                live[k].observe(r, starts[j] + s, ends[j] + s, confs[j], features[j], j)
        for k, (j, s) in shared.items():
            live[k].coast(r, starts[j] + s, ends[j] + s, confs[j])
        if close:
            done.extend(live[k] for k in close)
            live = [p for k, p in enumerate(live) if k not in close]
        # Unclaimed clusters start new pieces (noise pieces die young and lose at stitching); when too many
        # pieces are live, the one unseen longest makes room.
        for j in range(a, b):
            if j in owner:
                continue
            if len(live) >= max_tracks:
                stale = min(range(len(live)), key=lambda i: live[i].last_row)
                if live[stale].last_row >= r:
                    continue
                done.append(live.pop(stale))
            piece = Piece(pos=0.5 * (starts[j] + ends[j]), last_row=r)
            piece.observe(r, starts[j], ends[j], confs[j], features[j], j)
            live.append(piece)
    done.extend(live)
    return [p for p in done if len(p) >= MIN_PIECE_ROWS]


# --------------------------------------------------------------------------- telling curves apart
def _kmeans_1d(values: np.ndarray, k: int) -> np.ndarray:
    """Labels 0..k-1 ordered by cluster centre (Lloyd iterations from quantile seeds)."""
    centres = np.quantile(values, (np.arange(k) + 0.5) / k)
    labels = np.zeros(values.size, dtype=np.int64)
    for _ in range(30):
        labels = np.argmin(np.abs(values[:, None] - centres[None, :]), axis=1)
        new = np.array([values[labels == i].mean() if np.any(labels == i) else centres[i] for i in range(k)])
        if np.allclose(new, centres):
            break
        centres = new
    order = np.argsort(centres)
    return np.argsort(order)[labels]


# A feature group must hold at least this share of the runs to be a pen of its own. Two pens of one width
# still give a group of fat runs (crossings, blobs where the mask swells, near-horizontal stretches): on the
# bundled sample, 11 % of the runs of its two 6-px solid curves measured about 11 px, and splitting them off
# as the "heavy" curve lost it. Raising the share from 2 % to 15 % changed no curve on 116 generated and
# foreign pages (stage 9).
MIN_SPLIT_SHARE = 0.15


# How far apart (in pooled within-group standard deviations) the feature groups' centres must lie. Per-run
# stroke thickness is noisy (a 3-px and a 5-px pen measure 2-4 and 4-6 px along a wiggly stroke), so pens of
# different weight overlap; the real test of a split is whether the tracked pieces keep their labels
# (smooth_split). At 2.5 many genuine heavy/normal pairs were refused and followed together by continuity,
# which loses them far more often: on 40 foreign pages with one same-style pair per track
# (bench_foreign_style.py --same-style) 1.5 lifted the paired curves' share >= 0.9 from 58 % to 66 %; on 80
# generated and 60 default foreign pages one curve crossed 0.9 (upwards) and none went down. (Measured on
# plain thickness, on which the split is still judged; see split_by_feature.)
MIN_SPLIT_SEPARATION = 1.5


def _feature_groups(feature: np.ndarray, k: int, min_separation: float) -> np.ndarray | None:
    """1-D k-means labels of ``feature`` (0 = lowest group) when its groups are big enough and their centres
    lie far enough apart, else None."""
    labels = _kmeans_1d(feature, k)
    groups = [feature[labels == i] for i in range(k)]
    if any(g.size < MIN_SPLIT_SHARE * feature.size for g in groups):
        return None
    centres = np.array([g.mean() for g in groups])
    spread = float(np.sqrt(np.mean([g.var() for g in groups])))
    if np.min(np.diff(centres)) < min_separation * max(spread, 1e-6):
        return None
    return labels


def split_by_feature(runs: Runs, curves: list[Curve],
                     min_separation: float = MIN_SPLIT_SEPARATION) -> list[np.ndarray] | None:
    """Run masks per curve when the feature separates the runs into clearly distinct groups, else None."""
    if runs.row.size < 4 * len(curves):
        return None
    feature, rank = split_feature(runs, curves)
    k = len(curves)
    # Whether pens of different weight are there to split is judged on plain thickness, as
    # MIN_SPLIT_SEPARATION was tuned: judged on log thickness it also split one pen into its thin and thick
    # runs where its partner is hardly labelled (the bundled sample's CGR, R² 0.66 -> -2.4). Which run goes
    # to which pen is then decided on the log scale (split_feature).
    if not split_by_blob(curves) and _feature_groups(runs.thickness, k, min_separation) is None:
        return None
    labels = _feature_groups(feature, k, min_separation)
    if labels is None:
        return None
    by_rank = np.argsort(rank)  # by_rank[i]: the curve for cluster i (i-th smallest feature)
    return [labels == int(np.flatnonzero(by_rank == c)[0]) for c in range(k)]


def split_dashdot(runs: Runs, curves: list[Curve], rows: tuple[int, int], track: Track) -> list[np.ndarray] | None:
    """Dash-dot beside one dashed or one dotted curve: no blob size separates them (dash-dot has both).

    The dots (beside a dashed curve) or the dashes (beside a dotted one) belong to the dash-dot curve
    alone; traced with their gaps bridged they mark its path, and the other runs on that path join it.
    """
    styles = sorted(c.style for c in curves)
    if styles not in (["dashdot", "dashed"], ["dashdot", "dotted"]) or runs.row.size == 0:
        return None
    dots = runs.blob <= 2.0 * runs.thickness + 3.0
    anchor = dots if "dashed" in styles else ~dots
    if anchor.sum() < MIN_PIECE_ROWS or (~anchor).sum() < MIN_PIECE_ROWS:
        return None
    dashdot = next(c for c in curves if c.style == "dashdot")
    rule = wrap_rule(track, dashdot)
    anchor_runs = join_runs(runs.subset(anchor), JOIN_GAP_PX["dotted"])
    pieces = track_runs(anchor_runs, rows, max_tracks=3, lost_after=LOST_AFTER_ROWS["dashdot"], wrap=rule)
    clusters = stitch(pieces, rows, rule, track)
    path, _ = bridge_gaps_along_ends(0.5 * (clusters.lo + clusters.hi), MAX_GAP_ROWS["dashdot"])
    # Distance of every run to the path at its row (in display columns, the path may be unwrapped).
    along = path[runs.row - rows[0]]
    display = track.x0 + np.mod(along - track.x0, track.width) if len(rule.shifts) > 1 else along
    centre = runs.centre
    tolerance = np.maximum(4.0, 1.5 * runs.thickness) + 0.5 * (runs.end - runs.start)
    on_path = np.isfinite(along) & (np.abs(centre - display) <= tolerance)
    mine = anchor | on_path
    return [mine if c.style == "dashdot" else ~mine for c in curves]


def smooth_split(runs: Runs, split: list[np.ndarray], rows: tuple[int, int], wrap: WrapRule, lost: int,
                 min_purity: float = 0.6) -> list[np.ndarray] | None:
    """Check a feature split against continuity and clean it up, or None when it is not real.

    The pieces the tracker follows through the runs of all curves should each keep one label; a split of
    look-alike curves (e.g. by stroke orientation) gives pieces that flip between labels (low purity).
    When the split is real, every run of a piece takes the piece's majority label, which repairs runs
    whose own feature was misleading (a dash cut short by a crossing, a thin spot in a heavy stroke).
    """
    labels = np.zeros(runs.row.size, dtype=np.int64)
    for i, own in enumerate(split):
        labels[own] = i
    pieces = track_runs(runs, rows, max_tracks=len(split) + 2, lost_after=lost, wrap=wrap, share=True,
                        feature=labels.astype(np.float64))
    kept = total = 0
    smoothed = labels.copy()
    for p in pieces:
        index = np.asarray(p.runs)
        index = index[index >= 0]
        if index.size == 0:
            continue
        counts = np.bincount(labels[index], minlength=len(split))
        kept += int(counts.max())
        total += index.size
        if counts.max() >= PIECE_MAJORITY * index.size:
            # A piece that switches labels half way may have swapped curves: leave its runs as they are.
            smoothed[index] = int(np.argmax(counts))
    if total == 0 or kept / total < min_purity:
        return None
    return [smoothed == i for i in range(len(split))]


def split_by_blob(curves: list[Curve]) -> bool:
    """Whether blob size (rather than stroke thickness) tells ``curves`` apart.

    Different dash styles: a dot is a small blob, a dash a long one. Dotted pens of different weight too: a
    dot's rows measure anything from 1 px to its diameter across, but the whole dot is one blob, as large as
    the pen is heavy. On 40 foreign pages with same-style pairs (bench_foreign_style.py --same-style) this
    lifted the dotted pairs' share of curves >= 0.9 from 59 % to 85 %; on the generated selection pages
    500-531 two of 20 dotted-pair curves fell below 0.9 (mostly pairs whose light pen the model misses).
    """
    return len({c.style for c in curves}) == len(curves) or all(c.style == "dotted" for c in curves)


def split_feature(runs: Runs, curves: list[Curve]) -> tuple[np.ndarray, list[int]]:
    """Per-run feature that tells the curves of one class apart, and each curve's expected rank on it.

    Both on a log scale: pen weights differ by factors (a heavy pen about twice a normal one), and a wide
    pen's measures scatter more than a thin one's. Split by plain thickness, the heavy pen's spread set
    the boundary, and the near-horizontal strokes of a heavy jagged pen (4-5 px where its other runs
    measure 6-18) went to the normal pen with it. Log thickness: same-style foreign pages 0-39 (128 paired
    curves) 71.9 % -> 78.9 % at R² >= 0.9; generated pages 0-23 and 500-531 +5 curves; the default and
    wrap foreign pages and the bundled sample did not move. (Whether to split at all is still judged on
    plain thickness: see split_by_feature.)"""
    if split_by_blob(curves):
        return np.log(np.maximum(runs.blob, 1.0)), curve_ranks(curves)
    return np.log(np.maximum(runs.thickness, 1.0)), curve_ranks(curves)


def assign_pieces(pieces: list[Piece], curves: list[Curve], rows: tuple[int, int],
                  wrap_width: list[float | None] | None = None) -> list[list[Piece]]:
    """Give each piece to one curve: pieces overlapping in depth belong to different curves; a piece
    continues the curve whose trace ends (or resumes) nearest to it; the feature (blob size or stroke
    thickness) decides when it separates the curves clearly, and breaks ties otherwise.

    ``wrap_width[c]`` is the track width when curve ``c`` has a backup scale: its pieces may lie a track
    width apart in unwrapped columns and still continue each other (the tracker unwraps each piece on
    its own), so nearness is measured modulo that width."""
    k = len(curves)
    out: list[list[Piece]] = [[] for _ in curves]
    if k == 1 or not pieces:
        out[0] = list(pieces)
        return out
    r0, r1 = rows
    n = r1 - r0
    feats = np.array([np.nanmedian(p.feature) if np.isfinite(p.feature).any() else np.nan for p in pieces])
    rank = curve_ranks(curves)
    order_of_curve = np.argsort(np.argsort(rank))  # 0 = curve expected to have the smallest feature
    valid = np.isfinite(feats)
    separable = False
    centres = np.zeros(k)
    if valid.sum() >= k:
        labels = _kmeans_1d(feats[valid], k)
        centres = np.array([feats[valid][labels == i].mean() if np.any(labels == i) else np.nan for i in range(k)])
        spread = np.sqrt(np.mean([np.var(feats[valid][labels == i]) for i in range(k) if np.any(labels == i)]))
        gaps = np.diff(np.sort(centres))
        # The gap must also be real in absolute terms: with one piece per curve the spread is zero. Pens
        # of different weight differ by a pixel or more; dash styles by half a log unit of blob size.
        least = 0.4 if split_by_blob(curves) else 1.0
        separable = bool(np.all(np.isfinite(gaps)) and np.min(gaps) > max(3.0 * spread, least))
    u_curve = [np.full(n, np.nan) for _ in curves]
    guessed = [np.zeros(n, dtype=bool) for _ in curves]
    for i in sorted(range(len(pieces)), key=lambda i: len(pieces[i]), reverse=True):
        p = pieces[i]
        idx = np.asarray(p.rows) - r0
        centre = 0.5 * (np.asarray(p.lo) + np.asarray(p.hi))
        free = [c for c in range(k) if np.isfinite(u_curve[c][idx]).mean() <= 0.2]
        if not free:
            continue
        by_feature = None
        if np.isfinite(feats[i]) and np.all(np.isfinite(centres)):
            cluster = int(np.argmin(np.abs(centres - feats[i])))
            by_feature = int(np.flatnonzero(order_of_curve == cluster)[0])
        guess = False
        if separable and by_feature in free:
            choice = by_feature
        else:
            scores = {c: _continuity(u_curve[c], idx, centre, period=wrap_width[c] if wrap_width else None)
                      for c in free}
            known = {c: v for c, v in scores.items() if v is not None}
            if known:
                choice = min(known, key=known.get)
                # Another free curve that continues about as well (or is not placed yet) could be it too;
                # and continuing a guessed stretch inherits its doubt.
                rivals = [v for c, v in scores.items() if c != choice]
                guess = any(v is None or v - known[choice] < IDENTITY_MARGIN_PX for v in rivals) or \
                    _near_guess(guessed[choice], idx)
            elif by_feature in free:
                choice = by_feature
                guess = len(free) > 1
            else:
                choice = free[0]
                guess = len(free) > 1
            # The only curve left because the others were taken by guessed pieces is a guess as well.
            guess = guess or any(guessed[c][idx].any() for c in range(k) if c not in free)
        if guess:
            # Which curve this piece is was a guess: say so, so that the review queue shows it.
            p.confidence = [min(c, IDENTITY_GUESS_CONFIDENCE) for c in p.confidence]
            guessed[choice][idx] = True
        u_curve[choice][idx] = centre
        out[choice].append(p)
    return out


def _close_pairs(traces: list[CurveTrace], curves: list[Curve], track: Track, thickness: float):
    """(i, j, close) for every pair of traces, ``close`` True at the depth samples where the two lie
    within a crossing's width of each other (False where either is absent)."""
    columns = [track.display_columns(trace.value, curve) for trace, curve in zip(traces, curves, strict=True)]
    near_px = CROSSING_PX + 2.0 * thickness
    for i in range(len(traces)):
        for j in range(i + 1, len(traces)):
            yield i, j, np.abs(columns[i] - columns[j]) <= near_px


def _samples_for_rows(grid_rows: np.ndarray, rows: float) -> int:
    """How many depth samples span ``rows`` pixel rows (at least 1). Rows fall along the grid where a sheet's
    depth decreases down the page (the schema allows either direction)."""
    step = float(np.median(np.abs(np.diff(grid_rows)))) if grid_rows.size > 1 else 1.0
    return max(1, int(math.ceil(rows / max(step, 1e-9))))


def _send_to_review(trace: CurveTrace, where: np.ndarray) -> None:
    """Lower the confidence to an identity guess's where ``where`` holds and the curve is present."""
    lower = where & trace.present
    trace.confidence[lower] = np.minimum(trace.confidence[lower], IDENTITY_GUESS_CONFIDENCE)


def flag_crossings(traces: list[CurveTrace], curves: list[Curve], track: Track, grid_rows: np.ndarray,
                   thickness: float) -> None:
    """Lower the confidence where curves of one class group come close (crossings, near approaches).

    There the tracer decides which stroke continues which curve (by continuity, or by a stroke feature
    that a crossing blurs), and a wrong call swaps the curves from that point on; the review queue should
    lead a person to every such place (the app's swap tool then fixes it). In place, on the traces'
    confidence.
    """
    kernel = np.ones(2 * _samples_for_rows(grid_rows, CROSSING_ROWS) + 1)
    for i, j, close in _close_pairs(traces, curves, track, thickness):
        if close.any():
            around = np.convolve(close.astype(np.float64), kernel, mode="same") > 0
            _send_to_review(traces[i], around)
            _send_to_review(traces[j], around)


def flag_shared_ink(traces: list[CurveTrace], curves: list[Curve], track: Track, grid_rows: np.ndarray,
                    thickness: float, groups: list) -> None:
    """Lower the confidence where curves of *different* class groups follow the same ink for a long stretch.

    The model labels one pen with another curve's class often enough (a faint dashed hairline is missed
    and a light dash-dot pen next to it reads "dashed"), and each class group is traced apart, so two
    curves can end up on one stroke. Which of them is right cannot be told from the traces' confidence
    (it picked the right one in half of the cases measured), so both go to the review queue; values are
    left as traced. ``groups``: each curve's class group (any comparable key). In place, on the traces'
    confidence.
    """
    min_samples = max(2, _samples_for_rows(grid_rows, SHARED_INK_ROWS))
    for i, j, close in _close_pairs(traces, curves, track, thickness):
        if groups[i] == groups[j] or int(close.sum()) < min_samples:
            continue  # flag_crossings covers curves of one group
        shared = _long_stretches(close, min_samples)
        _send_to_review(traces[i], shared)
        _send_to_review(traces[j], shared)


def flag_border_riding(trace: CurveTrace, track: Track, curve: Curve, grid_rows: np.ndarray) -> None:
    """Lower the confidence where the trace runs along the track's left or right border for
    ``BORDER_RIDE_ROWS`` rows or more (see there). In place, on the trace's confidence."""
    columns = track.display_columns(trace.value, curve)
    with np.errstate(invalid="ignore"):
        on_border = (np.abs(columns - track.x0) < BORDER_PX) | (np.abs(columns - track.x1) < BORDER_PX)
    riding = _long_stretches(on_border & trace.present, _samples_for_rows(grid_rows, BORDER_RIDE_ROWS))
    _send_to_review(trace, riding)


def _long_stretches(mask: np.ndarray, min_samples: int) -> np.ndarray:
    """``mask`` keeping only its runs of ``min_samples`` consecutive samples or more."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    out = np.zeros(mask.shape, dtype=bool)
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - start >= min_samples:
            out[start:stop] = True
    return out


def _near_guess(guessed: np.ndarray, idx: np.ndarray, reach: int = 300) -> bool:
    """Whether the nearest placed rows just before or after a piece were an identity guess."""
    lo, hi = max(0, int(idx[0]) - reach), min(guessed.size, int(idx[-1]) + reach + 1)
    return bool(guessed[lo:int(idx[0])].any() or guessed[int(idx[-1]) + 1:hi].any())


def curve_ranks(curves: list[Curve]) -> list[int]:
    """Expected order of the curves on the split feature: dash size when styles differ, else weight."""
    if len({c.style for c in curves}) == len(curves):
        return [DASH_RANK[c.style] * 10 + WEIGHT_RANK[c.weight] for c in curves]
    return [WEIGHT_RANK[c.weight] * 10 + DASH_RANK[c.style] for c in curves]


def _continuity(u_curve: np.ndarray, idx: np.ndarray, centre: np.ndarray, reach: int = 300,
                period: float | None = None) -> float | None:
    """How far (px) the piece's ends lie from the curve's known trace just before and after it (modulo
    ``period`` for a curve that wraps)."""

    def miss(a: float, b: float) -> float:
        d = abs(a - b)
        return min(d % period, period - d % period) if period else d

    known = np.flatnonzero(np.isfinite(u_curve))
    if known.size == 0:
        return None
    costs = []
    before = known[known < idx[0]]
    if before.size and idx[0] - before[-1] <= reach:
        costs.append(miss(u_curve[before[-1]], centre[0]) + 0.05 * (idx[0] - before[-1]))
    after = known[known > idx[-1]]
    if after.size and after[0] - idx[-1] <= reach:
        costs.append(miss(u_curve[after[0]], centre[-1]) + 0.05 * (after[0] - idx[-1]))
    return min(costs) if costs else None


# --------------------------------------------------------------------------- stitching and geometry
@dataclass
class RowClusters:
    """Per row of the traced range: the accepted cluster [lo, hi) in unwrapped columns (NaN = none)."""

    lo: np.ndarray
    hi: np.ndarray
    confidence: np.ndarray


def stitch(pieces: list[Piece], rows: tuple[int, int], wrap: WrapRule, track: Track) -> RowClusters:
    """Longest pieces first; each placed on the main or the backup scale by :func:`place_wraps`."""
    r0, r1 = rows
    n = r1 - r0
    out = RowClusters(np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan))
    claimed = np.zeros(n, dtype=bool)

    def score(p: Piece) -> float:
        # A long, perfectly straight vertical line is a reference line or grid, not a log curve.
        centre = 0.5 * (np.asarray(p.lo) + np.asarray(p.hi))
        straight = len(p) > 200 and float(np.std(centre)) < 0.75
        # Rows weighted by how far the model's confidence exceeds CLAIM_CONFIDENCE: a long stretch of doubtful
        # pixels (the model torn between two curve classes, e.g. another curve's stroke half labelled with
        # this class) loses to a sure one, however long it is.
        claim = np.maximum(np.asarray(p.confidence, dtype=np.float64) - CLAIM_CONFIDENCE, 0.0)
        return float(np.sum(claim)) * (0.3 if straight else 1.0)

    # Biggest pieces first claim their rows; a piece mostly on claimed rows is a duplicate.
    accepted = []
    for p in sorted(pieces, key=score, reverse=True):
        idx = np.asarray(p.rows) - r0
        overlap = claimed[idx]
        if overlap.mean() > 0.5:
            continue
        claimed[idx[~overlap]] = True
        accepted.append((p, ~overlap))
    # Then, down the page, each piece is placed on the main or the backup scale (see place_wraps) and
    # written in. A short piece sitting in another piece's gap far off that piece's path is a fragment of
    # something else.
    # Each accepted piece's own rows (indices into the traced range) and cluster bounds.
    parts = [(np.asarray(p.rows)[take] - r0, np.asarray(p.lo)[take], np.asarray(p.hi)[take],
              np.asarray(p.confidence)[take]) for p, take in accepted]
    # With a backup scale, a piece is placed as a whole only between jumps (see split_at_jumps); a piece
    # that stays whole is still judged as a possible fragment below. Stretches go in depth order.
    jump = SCALE_SPLIT_JUMP * track.width if len(wrap.shifts) > 1 else math.inf
    parts = sorted(((idx[a:b], lo[a:b], hi[a:b], conf[a:b], b - a == idx.size) for idx, lo, hi, conf in parts
                    for a, b in split_at_jumps(0.5 * (lo + hi), jump)), key=lambda part: int(part[0][0]))
    shifts = place_wraps([(idx, 0.5 * (lo + hi)) for idx, lo, hi, _, _ in parts], wrap, track)
    placed = np.zeros(n, dtype=bool)
    centre = np.full(n, np.nan)
    for (idx, lo, hi, conf, whole), shift in zip(parts, shifts, strict=True):
        mid = 0.5 * (lo + hi)
        known = np.flatnonzero(placed)
        before, after = known[known < idx[0]], known[known > idx[-1]]
        near_before = int(before[-1]) if before.size and idx[0] - before[-1] <= ALIGN_REACH_ROWS else None
        near_after = int(after[0]) if after.size and after[0] - idx[-1] <= ALIGN_REACH_ROWS else None
        inside_gap = (near_before is not None and near_after is not None
                      and idx[0] - near_before <= MAX_GAP_ROWS["dashed"]
                      and near_after - idx[-1] <= MAX_GAP_ROWS["dashed"])
        if whole and inside_gap and len(idx) < 0.5 * (near_after - near_before) and \
                _placement_miss(mid, shift, centre, near_before, near_after) > 0.15 * track.width:
            continue
        placed[idx] = True
        out.lo[idx], out.hi[idx] = lo + shift, hi + shift
        out.confidence[idx] = conf
        centre[idx] = mid + shift
    return out


# A tracked piece is cut where its centre jumps by more than this share of the track width from one observed
# row to the next, and each stretch is placed on a scale of its own (place_wraps). The tracker unwraps only
# next to an edge; a curve that swings fast across the wrap (a thin bed, a gap in a broken pen) reappears at
# the other edge in a row or a few, and the tracker follows it there on the old scale. Placed whole, such a
# piece put one of its two stretches on the wrong scale, and its wrong end then dragged the pieces linked to
# it along. Cut, the links on either side of the jump decide. On the --wrap pages of
# bench_foreign_style.py (0-39) wrapped curves went from 61 % to 85 % at R² >= 0.9 (0.02-0.1 gave 84-87 %);
# on generated pages (0-23, 500-531: 76 wrapped curves) no share moved.
SCALE_SPLIT_JUMP = 0.05


def split_at_jumps(centre: np.ndarray, jump: float) -> list[tuple[int, int]]:
    """[start, stop) index ranges of ``centre`` between steps larger than ``jump`` (px)."""
    cuts = np.flatnonzero(np.abs(np.diff(centre)) > jump) + 1
    bounds = [0, *cuts.tolist(), int(centre.size)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _placement_miss(mid: np.ndarray, shift: float, centre: np.ndarray, before: int | None,
                    after: int | None) -> float:
    """How far a piece (shifted) starts from the stitched row before it, or ends from the one after."""
    misses = []
    if before is not None:
        misses.append(abs(mid[0] + shift - centre[before]))
    if after is not None:
        misses.append(abs(mid[-1] + shift - centre[after]))
    return min(misses) if misses else 0.0


# Placing pieces on the main or the backup scale (place_wraps): a sample outside every scale costs this
# much (px) per row, so validity beats continuity; the backup scale costs this much per row, so of two
# equally continuous placements the main scale wins.
OFF_SCALE_COST_PX = 50.0
BACKUP_COST_PX = 0.02


def place_wraps(pieces: list[tuple[np.ndarray, np.ndarray]], wrap: WrapRule, track: Track) -> list[float]:
    """Shift (0 or ± track width) of each piece, given in depth order as (rows, unwrapped centre columns).

    Whether a piece lies on the main or the backup scale is decided for all pieces at once: each piece
    must lie where a scale exists (inside the track, or beyond an edge the backup continues), each piece
    should continue the one it follows (the miss between that one's last row above it and its own first
    row, when they are close enough in depth to be related), and the main scale wins ties. Deciding piece
    by piece against the one before let a single wrong call (a curve hovering at the wrap edge, a stroke
    on the track border) shift everything after it by a track width.

    A piece follows the earlier piece with the latest row above its start, not simply the previous piece
    in start order: short pieces that fill another piece's gaps would otherwise sit between that piece and
    its true continuation and cut the link. So the links form a tree, solved exactly by min-sum.
    """
    if not pieces:
        return []
    # Every piece may move by a track width either way, whatever the curve's own rule: when several curves
    # are followed together, the tracker unwraps with the rule of the group, so a piece of a curve without
    # a backup scale may come unwrapped too. Validity (the curve's own rule) decides.
    shifts = np.array([-track.width, 0.0, track.width])
    # A pen pegged at an edge draws its stroke a pixel or two past it: that is still the main scale.
    slack = max(3.0, 0.01 * track.width)
    lowest = track.x0 - (track.width if wrap.left else slack)
    highest = track.x1 + (track.width if wrap.right else slack)
    subtree = np.array([[OFF_SCALE_COST_PX * np.count_nonzero((mid + s < lowest) | (mid + s > highest))
                         + (BACKUP_COST_PX * mid.size if s else 0.0) for s in shifts] for _, mid in pieces])
    parents = _follows(pieces)
    best_child = np.zeros((len(pieces), shifts.size), dtype=np.int64)
    # Children come after their parent in depth order, so one backward pass collects every subtree.
    for i in range(len(pieces) - 1, -1, -1):
        if parents[i] is None:
            continue
        parent, at = parents[i]
        # Miss (px) between the parent's row above this piece and this piece's start, capped at half a track
        # width (beyond that the pieces are unrelated whichever way they are placed).
        miss = np.abs((pieces[parent][1][at] + shifts)[:, None] - (pieces[i][1][0] + shifts)[None, :])
        total = np.minimum(miss, 0.5 * track.width) + subtree[i][None, :]
        best_child[i] = np.argmin(total, axis=1)
        subtree[parent] += total.min(axis=1)
    state = np.zeros(len(pieces), dtype=np.int64)
    for i in range(len(pieces)):
        state[i] = int(np.argmin(subtree[i])) if parents[i] is None else best_child[i][state[parents[i][0]]]
    return [float(shifts[k]) for k in state]


def _follows(pieces: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[int, int] | None]:
    """For each piece, (earlier piece, index of its row) with the latest row above this piece's first row,
    within ALIGN_REACH_ROWS; None when no piece comes that close above it."""
    out: list[tuple[int, int] | None] = []
    active: list[int] = []  # earlier pieces whose last row is still within reach (starts only grow)
    for i, (rows, _) in enumerate(pieces):
        start = int(rows[0])
        active = [j for j in active if int(pieces[j][0][-1]) >= start - ALIGN_REACH_ROWS]
        best: tuple[int, int] | None = None
        best_row = start - ALIGN_REACH_ROWS - 1
        for j in active:
            before = pieces[j][0]
            k = int(np.searchsorted(before, start)) - 1
            if k >= 0 and int(before[k]) > best_row:
                best, best_row = (j, k), int(before[k])
        out.append(best)
        active.append(i)
    return out


# Rows a stretch may span and still be taken for a mis-link (an excursion to something else and back).
SPIKE_MAX_ROWS = 60
# How far (px) off the path between its neighbours a stretch must lie to be a mis-link, at the least.
SPIKE_MIN_PX = 8.0
# Rows whose clusters are this many pen widths wide were drawn by a stroke running several pixels per row:
# the tip of a sharp excursion (a thin bed on a real log), whose steep flanks the model often misses, so it
# looks cut off from the curve. Mis-links follow strokes of ordinary width. Of the stretches despike removed
# on the foreign pages (bench_foreign_style.py), 84-91 % of those this wide lay on the curve's truth.
SPIKE_KEEP_WIDTH = 6.0


def _chains(clusters: RowClusters, thickness: float, max_gap: int, join: float) -> list[np.ndarray]:
    """Row indices of the stitched curve cut where it jumps: consecutive present rows belong to one chain
    when their clusters lie within ``join`` px (the gap between dashes of a flat stretch), allowing a
    slope of one pixel per row across a gap of up to ``max_gap`` rows."""
    lo, hi = clusters.lo, clusters.hi
    present = np.flatnonzero(np.isfinite(lo))
    if present.size == 0:
        return []
    gap = np.diff(present)
    distance = np.maximum(0.0, np.maximum(lo[present[1:]] - hi[present[:-1]], lo[present[:-1]] - hi[present[1:]]))
    tolerance = 1.5 + max(2.0, thickness) + join + 1.0 * (gap - 1)
    cut = (gap > max_gap) | (distance > tolerance)
    return np.split(present, np.flatnonzero(cut) + 1)


def _extrapolate(centre: np.ndarray, chain: np.ndarray, row: int, reach: int = 12) -> float:
    """Where the chain's end nearest to ``row`` points at ``row`` (line fit over its last rows there)."""
    end = chain[-reach:] if row > chain[-1] else chain[:reach]
    if end.size < 3 or end[-1] == end[0]:
        return float(centre[end[-1] if row > chain[-1] else end[0]])
    slope, intercept = np.polyfit(end.astype(np.float64), centre[end], 1)
    return float(slope * row + intercept)


def despike(clusters: RowClusters, thickness: float, max_gap: int, join: float = 0.0) -> int:
    """Drop short stretches that jump away from the curve and back (the tracker followed something else
    for a while: a neighbouring curve, text, noise); in place, returns the number of rows dropped.

    A chain is a spike when it is shorter than both neighbouring chains, lies far off the straight path
    between them, and those neighbours agree with each other more closely than with it. Genuine sharp
    excursions of a log are drawn as one connected stroke and stay inside one chain, so they survive; and
    where the model lost the steep flanks of one, its tip is a chain of wide clusters, which is kept
    (:data:`SPIKE_KEEP_WIDTH`).
    """
    dropped = 0
    limit = max(SPIKE_MIN_PX, 3.0 * thickness, join)
    for _ in range(8):
        chains = _chains(clusters, thickness, max_gap, join)
        if len(chains) < 3:
            break
        centre = 0.5 * (clusters.lo + clusters.hi)
        spans = [int(c[-1] - c[0] + 1) for c in chains]
        remove = []
        for i in range(1, len(chains) - 1):
            before, chain, after = chains[i - 1], chains[i], chains[i + 1]
            if spans[i] > SPIKE_MAX_ROWS or spans[i] >= min(spans[i - 1], spans[i + 1]):
                continue
            if np.median(clusters.hi[chain] - clusters.lo[chain]) >= SPIKE_KEEP_WIDTH * max(thickness, 1.0):
                continue  # drawn by a steep stroke: the tip of a sharp excursion whose flanks were lost
            if chain[0] - before[-1] > SPIKE_MAX_ROWS or after[0] - chain[-1] > SPIKE_MAX_ROWS:
                continue
            a, b = before[-1], after[0]
            expected = centre[a] + (chain - a) / (b - a) * (centre[b] - centre[a])
            deviation = float(np.median(np.abs(centre[chain] - expected)))
            # The neighbours must fit together: the jump between them is small for the rows it spans.
            direct = abs(centre[b] - centre[a]) - 1.0 * (b - a)
            if deviation <= limit or direct >= deviation:
                continue
            # A steep stretch the tracker lost for a few rows also jumps: if either neighbour, carried on
            # along its own slope, meets the chain, the chain continues the curve.
            joins = (abs(_extrapolate(centre, before, chain[0]) - centre[chain[0]]) <= limit
                     or abs(_extrapolate(centre, after, chain[-1]) - centre[chain[-1]]) <= limit)
            if not joins:
                remove.append((a, chain, b))
        if not remove:
            break
        for _, chain, _ in remove:
            clusters.lo[chain] = np.nan
            clusters.hi[chain] = np.nan
            clusters.confidence[chain] = np.nan
            dropped += chain.size
    return dropped


def half_row_samples(clusters: RowClusters, thickness: float) -> tuple[np.ndarray, np.ndarray]:
    """Unwrapped column and confidence at y = r0 + i/2 (i even: row boundaries, i odd: row centres)."""
    lo, hi, conf = clusters.lo, clusters.hi, clusters.confidence
    n = lo.size
    u = np.full(2 * n + 1, np.nan)
    c = np.full(2 * n + 1, np.nan)
    centre = 0.5 * (lo + hi)
    # Boundary between rows r-1 and r: middle of the overlap of their clusters (or of the gap between).
    crossing = np.full(n + 1, np.nan)
    crossing[1:n] = 0.5 * (np.maximum(lo[:-1], lo[1:]) + np.minimum(hi[:-1], hi[1:]))
    cross_conf = np.full(n + 1, np.nan)
    cross_conf[1:n] = np.minimum(conf[:-1], conf[1:])
    # A cluster that sticks out past both of its crossings holds a spike: its tip is the sample.
    top, bottom = crossing[:-1], crossing[1:]
    half = max(0.0, thickness - 1.0) / 2.0
    margin = half + 1.0
    with np.errstate(invalid="ignore"):
        tip_right = hi - half
        tip_left = lo + half
        right = tip_right > np.fmax(top, bottom) + margin
        left = tip_left < np.fmin(top, bottom) - margin
        both_known = np.isfinite(top) & np.isfinite(bottom)
    middle = centre.copy()
    middle = np.where(both_known & right & ~left, tip_right, middle)
    middle = np.where(both_known & left & ~right, tip_left, middle)
    u[1::2] = middle
    c[1::2] = conf
    u[0::2] = crossing
    c[0::2] = cross_conf
    return u, c


def values_from_columns(u: np.ndarray, track: Track, curve: Curve, wrap: WrapRule) -> np.ndarray:
    """Unwrapped columns → values: main scale inside the track, backup scale beyond an edge it continues."""
    values = track.value_at_column(u, curve.scale)
    if curve.backup is not None:
        if wrap.right:
            values = np.where(u > track.x1, track.value_at_column(u - track.width, curve.backup), values)
        if wrap.left:
            values = np.where(u < track.x0, track.value_at_column(u + track.width, curve.backup), values)
    return values


def _bridged_confidence(conf: np.ndarray, bridged: np.ndarray, factor: float) -> np.ndarray:
    out = conf.copy()
    if not bridged.any():
        return out
    idx = np.flatnonzero(np.isfinite(conf))
    positions = np.flatnonzero(bridged)
    after = np.searchsorted(idx, positions)
    before_conf = conf[idx[np.maximum(after - 1, 0)]]
    after_conf = conf[idx[np.minimum(after, idx.size - 1)]]
    out[positions] = factor * np.minimum(before_conf, after_conf)
    return out


def track_columns(track: Track, width: int) -> tuple[int, int]:
    """The page columns [c0, c1) a track covers, clipped to the page (c1 <= c0 when it lies off the page)."""
    return max(0, int(math.floor(track.x0))), min(width, int(math.ceil(track.x1)))


def trace_row_range(layout: Layout, height: int) -> tuple[int, int]:
    """Rows that can hold depth samples: the tied range, clipped to the page."""
    y_top, y_bottom = layout.depth.row_range()
    return max(0, int(math.floor(y_top)) - 1), min(height, int(math.ceil(y_bottom)) + 1)


def trace_one(runs: Runs, track: Track, curve: Curve, rows: tuple[int, int], grid_rows: np.ndarray,
              depth: np.ndarray) -> CurveTrace:
    """Runs that all belong to ``curve`` (the only one of its class in the track) → its trace."""
    if runs.row.size == 0:
        return CurveTrace.absent(curve.mnemonic, depth)
    thickness = float(np.median(runs.thickness))
    clusters = join_runs(runs, JOIN_GAP_PX[curve.style])
    pieces = track_runs(clusters, rows, max_tracks=3, lost_after=LOST_AFTER_ROWS[curve.style],
                        wrap=wrap_rule(track, curve))
    return trace_pieces(pieces, track, curve, rows, grid_rows, depth, thickness)


def trace_pieces(pieces: list[Piece], track: Track, curve: Curve, rows: tuple[int, int], grid_rows: np.ndarray,
                 depth: np.ndarray, thickness: float) -> CurveTrace:
    """Pieces of one curve → stitched, sub-row samples, bridged, mapped to values on the depth grid."""
    if not pieces:
        return CurveTrace.absent(curve.mnemonic, depth)
    rule = wrap_rule(track, curve)
    clusters = stitch(pieces, rows, rule, track)
    despike(clusters, thickness, MAX_GAP_ROWS[curve.style], JOIN_GAP_PX[curve.style])
    u_half, conf_half = half_row_samples(clusters, thickness)
    u_filled, bridged = bridge_gaps_along_ends(u_half, 2 * MAX_GAP_ROWS[curve.style])
    conf_filled = _bridged_confidence(conf_half, bridged, BRIDGED_CONFIDENCE[curve.style])
    positions = 2.0 * (grid_rows - rows[0])
    u_grid = interpolate_series(u_filled, positions)
    conf_grid = interpolate_series(conf_filled, positions)
    values = values_from_columns(u_grid, track, curve, rule)
    return CurveTrace(curve.mnemonic, depth, values, np.where(np.isfinite(values), np.nan_to_num(conf_grid), 0.0))


def trace_curves(class_map: np.ndarray, confidence: np.ndarray | None, layout: Layout, *,
                 classes: int = 3) -> dict[str, CurveTrace]:
    """Trace every layout curve through the class map (in the ``classes``-class scheme of the model that
    made it); see the module docstring."""
    height, width = class_map.shape
    depth = layout.depth_grid()
    grid_rows = layout.depth.row_at_depth(depth)
    rows = trace_row_range(layout, height)
    out: dict[str, CurveTrace] = {}
    for track in layout.tracks:
        c0, c1 = track_columns(track, width)
        pixel_classes = curve_pixel_classes(track, classes)
        groups: dict[tuple[int, ...], list[Curve]] = {}
        for curve in track.curves:
            groups.setdefault(pixel_classes[curve.mnemonic], []).append(curve)
        track_thickness = []
        for cls, curves in groups.items():
            # A track whose curves are all of one class takes any curve pixel as evidence: a model that
            # calls a stretch of a solid curve "dashed" should not cost that stretch.
            wanted = None if len(groups) == 1 else cls
            if c1 <= c0 or rows[1] <= rows[0]:
                runs = _empty_runs()
            else:
                runs = find_runs(class_map, confidence, wanted, rows, (c0, c1))
                # Ruled lines the model mistook for a curve.
                runs = drop_ruled_lines(runs, rows, c1 - c0)
                if wanted is None and len(curves) == 1:
                    own = find_runs(class_map, None, cls, rows, (c0, c1), shapes=False)
                    runs = prefer_own_class(runs, own, rows)
            thickness = float(np.median(runs.thickness)) if runs.row.size else 1.0
            track_thickness.append(thickness)
            if len(curves) == 1:
                out[curves[0].mnemonic] = trace_one(runs, track, curves[0], rows, grid_rows, depth)
                continue
            rules = [wrap_rule(track, c) for c in curves]
            group_wrap = WrapRule(track.width, any(w.right for w in rules), any(w.left for w in rules), track.x0)
            lost = max(LOST_AFTER_ROWS[c.style] for c in curves)
            split = split_dashdot(runs, curves, rows, track)
            if split is None:
                split = split_by_feature(runs, curves)
                if split is not None:
                    split = smooth_split(runs, split, rows, group_wrap, lost)
            if split is not None:
                for curve, own in zip(curves, split, strict=True):
                    out[curve.mnemonic] = trace_one(runs.subset(own), track, curve, rows, grid_rows, depth)
            else:
                # Several curves of one class: follow them together so identity survives crossings.
                feature, _ = split_feature(runs, curves)
                pieces = track_runs(runs, rows, max_tracks=len(curves) + 2, lost_after=lost, wrap=group_wrap,
                                    share=True, feature=feature)
                periods = [track.width if len(rule.shifts) > 1 else None for rule in rules]
                for curve, own in zip(curves, assign_pieces(pieces, curves, rows, periods), strict=True):
                    out[curve.mnemonic] = trace_pieces(own, track, curve, rows, grid_rows, depth, thickness)
            flag_crossings([out[c.mnemonic] for c in curves], curves, track, grid_rows, thickness)
        for curve in track.curves:
            flag_border_riding(out[curve.mnemonic], track, curve, grid_rows)
        if len(groups) > 1:
            flag_shared_ink([out[c.mnemonic] for c in track.curves], list(track.curves), track, grid_rows,
                            max(track_thickness, default=1.0), [pixel_classes[c.mnemonic] for c in track.curves])
    return {c.mnemonic: out[c.mnemonic] for _, _, c in layout.curves()}


def style_ink_shares(class_map: np.ndarray, layout: Layout, classes: int = 3) -> dict[str, float | None]:
    """Per curve: the share of its track's curve pixels (within the tied rows) that carry a class the curve
    reads, or None where the track holds no curve pixel. A drawn curve near 0 while its track has ink means
    the model called its style something else (the digitize report warns of it)."""
    height, width = class_map.shape
    r0, r1 = trace_row_range(layout, height)
    out: dict[str, float | None] = {}
    for track in layout.tracks:
        c0, c1 = track_columns(track, width)
        counts = np.zeros(max(classes, 2), dtype=np.int64)
        for y in range(r0, r1, CHUNK_ROWS) if c1 > c0 else ():
            block = np.asarray(class_map[y:min(r1, y + CHUNK_ROWS), c0:c1])
            counts += np.bincount(block.ravel(), minlength=counts.size)[:counts.size]
        ink = int(counts[1:].sum())
        reads = curve_pixel_classes(track, classes)
        for curve in track.curves:
            own = int(sum(counts[k] for k in reads[curve.mnemonic] if k < counts.size))
            out[curve.mnemonic] = own / ink if ink else None
    return out


__all__ = ["CurveTrace", "find_runs", "style_ink_shares", "trace_curves", "track_runs"]
