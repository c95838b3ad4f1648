"""A second look, at the other input scale, at tracks whose curves the first view starved of their style.

The automatic input scale (:func:`veerdesk.inference.segment.probe_scale`) is chosen for the whole page
from a few tiles, before anything is known about the layout. On some sheets the chosen view labels a
track's broken curves wholesale as one style: on matplotlib plots, whose dash patterns scale with the
pen and are tighter than anything the generator draws, a track's dashed, dotted and dash-dot curves all
came out "dashed" at 1x, so two of the three found no ink at all, while the page enlarged 2x read every
one of them. The layout says which styles each track holds, so after tracing the pipeline can tell:
a curve with (next to) none of its track's curve pixels in its own classes is *starved*.

For each track with a starved curve this runs the model once more over just that track's strip, at the
other scale, re-traces the track, and keeps the new view only when the track is clearly better read there:
its curves together are found at more depths with more confidence (the sum over its curves of coverage x
mean confidence rises by at least 0.1 per curve), and no curve loses much of its own (0.2). On our own
generated pages a starved curve is most often a pen the scan artefacts all but erased, and the other view
is no better (enlarged, those pages read far worse), so the bar is set where they do not lose (see README,
"A second look at starved tracks").

After an automatic scale every track also gets a look at half scale (:func:`half_look_may_help`): a sheet
scanned at two or three times the resolution the generator draws at has every pen, dash and grid line that
much wider, and the model reads it better shrunk. The half view of a track is kept when the model is
surer of what it found there (:func:`found`) or when its traces lie on more of their own ink
(:func:`on_own_ink`): on pages enlarged 2-3x the full view often traces a pen beside its ink, or along
another pen's, with no less confidence. On matplotlib and Pillow-drawn pages enlarged 2-3x this lifted the
share of curves at R² ≥ 0.9 by 7-26 points; on generated pages and pages at their own size it kept no
track that read worse (README, "High-resolution scans").
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from veerdesk.core.curves import CurveTrace
from veerdesk.core.layout import Layout, Track
from veerdesk.core.strokes import INK_LEVEL
from veerdesk.inference.segment import (
    DEFAULT_MARGIN,
    DEFAULT_TILE,
    PROBE_MIN_CURVE_RATIO,
    SegmentationResult,
    TileDone,
    segment_page,
)
from veerdesk.inference.trace import (
    curve_pixel_classes,
    style_ink_shares,
    trace_curves,
    trace_row_range,
    track_columns,
)

# A curve with less than this share of its track's curve pixels in the classes it reads is starved.
STARVED_SHARE = 0.05
# The other view is kept for a track when the sum over its curves of coverage x mean confidence (the depth
# share found, weighted by how sure the model was) rises by at least ADOPT_MIN_GAIN per curve, and no curve's
# own figure falls by more than ADOPT_MAX_LOSS. Set on matplotlib pages 0-29 (plus generated 500-531 and
# bench_foreign_style 0-29, which must not lose) and checked on matplotlib pages 30-59.
ADOPT_MIN_GAIN = 0.1
ADOPT_MAX_LOSS = 0.2
# The other view is also kept when its traces sit on the page's own ink more often: the sum over the track's
# curves of the share of depths at which the trace lies on a dark pixel labelled with the curve's own style
# rises by ON_INK_MIN_GAIN per curve (no curve losing ADOPT_MAX_LOSS). The model's confidence cannot tell
# these apart: on a page scanned at 3x a pen traced 2 px beside its ink, or one dash-dot pen traced along
# another's ink, is read as surely as the right one, and the half view's interpolated probabilities are
# lower everywhere. Set on pages enlarged 2-3x (bench_foreign_style 0-26, matplotlib 0-24) and generated
# pages 500-555, which must not lose; checked on foreign 30-41 at 2x, matplotlib 30-41 at 2.5x and on pages
# at their own size (README, "High-resolution scans"). For the half view only: applied to the starved
# look's 2x view too, it kept a worse view of generated card page 9 (one curve from R² 0.96 to -8).
ON_INK_MIN_GAIN = 0.05
ON_INK_REACH = 1  # px either side of the traced column
HALF_SCALE = 0.5
# Columns (and rows) of context around the strip, beyond the tile margin: the strip's own edges are page
# edges to the tiler, so the track itself should lie well inside.
STRIP_CONTEXT = 96


@dataclass
class TrackLook:
    """What the second look found for one track: per curve, coverage x mean confidence (:func:`found`) and
    the share of depths traced on the curve's own ink (:func:`on_own_ink`), in each view."""

    track: int
    adopted: bool
    before: dict[str, float]
    after: dict[str, float]
    on_ink_before: dict[str, float] = field(default_factory=dict)
    on_ink_after: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"track": self.track, "adopted": self.adopted, "before": self.before, "after": self.after,
                "on_ink_before": self.on_ink_before, "on_ink_after": self.on_ink_after}


@dataclass
class SecondLook:
    """The result: traces and style shares with the adopted tracks' new ones, and what was done."""

    traces: dict[str, CurveTrace]
    shares: dict[str, float | None]
    scale: float
    looks: list[TrackLook] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def adopted(self) -> list[int]:
        return [look.track for look in self.looks if look.adopted]

    def report(self) -> dict:
        return {"scale": self.scale, "tracks": [look.as_dict() for look in self.looks],
                "adopted": self.adopted, "seconds": round(self.seconds, 3)}


def starved_tracks(layout: Layout, shares: dict[str, float | None], classes: int = 3) -> list[int]:
    """Indices of the tracks holding a curve with less than :data:`STARVED_SHARE` of the track's curve
    pixels in its own classes. A track with no curve pixel at all has nothing to relabel, and a track whose
    curves all read one class group cannot be starved by a style mix-up: the tracer lets them take any curve
    pixel (on matplotlib page 39 a lone dotted curve labelled dashed traced at R² 0.99, and 0.51 after a
    second look)."""
    out = []
    for i, track in enumerate(layout.tracks):
        if len(set(curve_pixel_classes(track, classes).values())) == 1:
            continue
        values = [shares.get(c.mnemonic) for c in track.curves]
        if any(v is not None and v < STARVED_SHARE for v in values):
            out.append(i)
    return out


def other_scale_may_help(segmentation: SegmentationResult) -> bool:
    """False when the page ran at 1x because the scale probe saw the enlarged view lose more than a fifth of
    the curve pixels: no track of such a page reads better enlarged (on generated pages 500-531, 19 of the
    22 pages with a starved track; sparing them the look changed no curve). Also False after a scale the
    caller chose."""
    extra = segmentation.extra
    if extra.get("scale_mode") != "auto":
        return False
    ratio = (extra.get("scale_probe") or {}).get("curve_pixel_ratio")
    return not (extra.get("scale") == 1 and ratio is not None and ratio < PROBE_MIN_CURVE_RATIO)


def half_look_may_help(segmentation: SegmentationResult) -> bool:
    """True after an automatic scale of 1x or more: the sheet may be a scan at a higher resolution than the
    generator draws at. No page measure tells such a scan apart well enough: the typical stroke width
    (``scale_probe["stroke_width"]``) is 1 px on some pages enlarged 2-3x (pale or broken pens) and 3 px on
    generated pages with heavy pens, so every track is looked at and the keep rule decides."""
    extra = segmentation.extra
    return extra.get("scale_mode") == "auto" and extra.get("scale", 1) >= 1


def tracks_with_curves(layout: Layout) -> list[int]:
    """Indices of the layout's tracks that hold a curve."""
    return [i for i, track in enumerate(layout.tracks) if track.curves]


def found(track: Track, traces: dict[str, CurveTrace]) -> dict[str, float]:
    """Per curve of the track: the share of depths it was found at times its mean confidence there."""
    return {c.mnemonic: round(traces[c.mnemonic].coverage * traces[c.mnemonic].mean_confidence, 4)
            for c in track.curves}


def on_own_ink(pixels: np.ndarray, class_map: np.ndarray, layout: Layout, track: Track,
               traces: dict[str, CurveTrace], classes: int = 3) -> dict[str, float]:
    """Per curve of the track: the share of its depth samples at which the trace lies on ink (a page pixel
    darker than :data:`~veerdesk.core.strokes.INK_LEVEL`) that ``class_map`` labels with one of the curve's
    own classes, within :data:`ON_INK_REACH` px of the traced column. Unlike the model's confidence this
    means the same at any input scale: both views are traced on the same page."""
    height, width = class_map.shape
    own_classes = curve_pixel_classes(track, classes)
    out = {}
    for curve in track.curves:
        trace = traces[curve.mnemonic]
        present = trace.present
        if not present.any() or width < 2 * ON_INK_REACH + 1:
            out[curve.mnemonic] = 0.0
            continue
        rows = np.rint(layout.depth.row_at_depth(trace.depth[present]))
        cols = np.rint(track.display_columns(trace.value[present], curve))
        inside = np.isfinite(rows) & np.isfinite(cols) & (rows >= 0) & (rows < height)
        inside &= (cols >= ON_INK_REACH) & (cols < width - ON_INK_REACH)
        r, c = rows[inside].astype(np.intp), cols[inside].astype(np.intp)
        hit = np.zeros(r.size, dtype=bool)
        for dc in range(-ON_INK_REACH, ON_INK_REACH + 1):
            hit |= (np.asarray(pixels[r, c + dc]) < INK_LEVEL) & np.isin(np.asarray(class_map[r, c + dc]),
                                                                         own_classes[curve.mnemonic])
        out[curve.mnemonic] = round(float(hit.sum()) / trace.value.size, 4)
    return out


def better_read(before: dict[str, float], after: dict[str, float], min_gain: float = ADOPT_MIN_GAIN) -> bool:
    """Whether the other view reads the track clearly better by one per-curve figure: the sum rises by
    ``min_gain`` per curve and no curve loses more than :data:`ADOPT_MAX_LOSS`."""
    gain = sum(after.values()) - sum(before.values())
    worst = min(after[name] - before[name] for name in before)
    return gain >= min_gain * len(before) and worst >= -ADOPT_MAX_LOSS


def second_look(
    pixels: np.ndarray,
    model: torch.nn.Module,
    segmentation: SegmentationResult,
    layout: Layout,
    traces: dict[str, CurveTrace],
    shares: dict[str, float | None],
    tracks: list[int],
    *,
    tile: int,
    margin: int,
    device: str | torch.device = "auto",
    tta: str,
    cancel: Callable[[], bool] | None = None,
    scale: float | None = None,
) -> Iterator[TileDone | SecondLook]:
    """Look again at ``tracks`` (as :func:`planned_looks` chose them: the starved ones, or every track with a
    curve) at ``scale`` (None: the other scale, 2x after 1x, else 1x); yields the strips' :class:`TileDone`
    events (strip coordinates), then a :class:`SecondLook`. Both figures of each view are reported; the
    own-ink one decides only for a shrunk view (see :data:`ON_INK_MIN_GAIN`).

    ``segmentation``'s class map and confidence are updated in place where a track's new view is kept,
    so the masks the app shows and saves are the ones the curves were traced on.
    """
    start = time.perf_counter()
    if scale is None:
        scale = 2 if segmentation.extra.get("scale", 1) == 1 else 1
    traces, shares = dict(traces), dict(shares)
    result = SecondLook(traces, shares, scale)
    height, width = segmentation.class_map.shape
    rows = trace_row_range(layout, height)
    r0, r1 = max(0, rows[0] - STRIP_CONTEXT), min(height, rows[1] + STRIP_CONTEXT)
    for index in tracks:
        track = layout.tracks[index]
        c0, c1 = track_columns(track, width)
        if c1 <= c0 or r1 <= r0:
            continue
        s0, s1 = max(0, c0 - STRIP_CONTEXT), min(width, c1 + STRIP_CONTEXT)
        strip = None
        for event in segment_page(np.ascontiguousarray(pixels[r0:r1, s0:s1]), model, tile=tile, margin=margin,
                                  device=device, cancel=cancel, tta=tta, scale=f"{scale:g}"):
            if isinstance(event, SegmentationResult):
                strip = event
            else:
                yield event
        assert strip is not None
        # Swap the track's columns in, trace that track alone, and swap back unless the new view wins.
        ink_before = on_own_ink(pixels, segmentation.class_map, layout, track, traces, segmentation.classes)
        old_classes = np.array(segmentation.class_map[r0:r1, c0:c1])
        old_confidence = np.array(segmentation.confidence[r0:r1, c0:c1])
        segmentation.class_map[r0:r1, c0:c1] = strip.class_map[:, c0 - s0:c1 - s0]
        segmentation.confidence[r0:r1, c0:c1] = strip.confidence[:, c0 - s0:c1 - s0]
        alone = dataclasses.replace(layout, tracks=(track,))
        new_traces = trace_curves(segmentation.class_map, segmentation.confidence, alone,
                                  classes=segmentation.classes)
        before, after = found(track, traces), found(track, new_traces)
        ink_after = on_own_ink(pixels, segmentation.class_map, layout, track, new_traces, segmentation.classes)
        # Either sign is enough for a shrunk view: the model surer of what it found, or the traces on more of
        # their own ink. An enlarged view is kept on the first alone (see ON_INK_MIN_GAIN).
        adopted = better_read(before, after) or (scale < 1 and better_read(ink_before, ink_after, ON_INK_MIN_GAIN))
        if adopted:
            traces.update(new_traces)
            shares.update(style_ink_shares(segmentation.class_map, alone, segmentation.classes))
        else:
            segmentation.class_map[r0:r1, c0:c1] = old_classes
            segmentation.confidence[r0:r1, c0:c1] = old_confidence
        result.looks.append(TrackLook(index, adopted, before, after, ink_before, ink_after))
    result.seconds = time.perf_counter() - start
    yield result


def planned_looks(segmentation: SegmentationResult, layout: Layout, shares: dict[str, float | None]
                  ) -> dict[str, tuple[list[int], float | None]]:
    """The looks digitize takes after its first tracing, in order, as ``name: (tracks, scale)``:
    ``second_look`` at the starved tracks (at the other scale, ``None``) where the probe leaves room for it
    and some track is starved, then ``half_look`` at every track that holds a curve (at half scale).
    Empty after a scale the caller chose."""
    plan: dict[str, tuple[list[int], float | None]] = {}
    starved = starved_tracks(layout, shares, segmentation.classes) if other_scale_may_help(segmentation) else []
    if starved:
        plan["second_look"] = (starved, None)
    if half_look_may_help(segmentation):
        plan["half_look"] = (tracks_with_curves(layout), HALF_SCALE)
    return plan


def look_again(pixels: np.ndarray, model: torch.nn.Module, segmentation: SegmentationResult, layout: Layout,
               device: str | torch.device = "auto") -> list[SecondLook]:
    """Take the looks digitize takes (:func:`planned_looks`) all at once, tracing ``segmentation`` first
    when there is one to take (for evaluation, which wants digitize's masks without its progress events).
    Returns the looks taken."""
    shares = style_ink_shares(segmentation.class_map, layout, segmentation.classes)
    plan = planned_looks(segmentation, layout, shares)
    if not plan:
        return []
    traces = trace_curves(segmentation.class_map, segmentation.confidence, layout, classes=segmentation.classes)
    looks: list[SecondLook] = []
    for tracks, scale in plan.values():
        for event in second_look(pixels, model, segmentation, layout, traces, shares, tracks, tile=DEFAULT_TILE,
                                 margin=DEFAULT_MARGIN, device=device, tta=segmentation.extra.get("tta", "flip"),
                                 scale=scale):
            if isinstance(event, SecondLook):
                looks.append(event)
                traces, shares = event.traces, event.shares
    return looks
