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

A page whose typical stroke is thick (:func:`veerdesk.core.strokes.typical_stroke_width`, measured by the
scale probe) may be a scan at two or three times the resolution the generator draws at; there every
track gets a look at half scale (:func:`half_look_may_help`), kept by the same rule. On matplotlib pages
enlarged 2.5x this lifted the share of curves at R² ≥ 0.9 from 76 % to 91 %; on 56 generated pages no
track's half view was kept (README, "High-resolution scans").
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
# A page whose median stroke on the ink's ridge is at least this wide (px) gets a look at half scale: most
# strokes the generator draws are 1-2 px (the median is 1 on 36 of 56 generated pages, 3 or more on every
# matplotlib page enlarged 2.5x).
THICK_STROKE_WIDTH = 2.5
HALF_SCALE = 0.5
# Columns (and rows) of context around the strip, beyond the tile margin: the strip's own edges are page
# edges to the tiler, so the track itself should lie well inside.
STRIP_CONTEXT = 96


@dataclass
class TrackLook:
    """What the second look found for one track: per curve, coverage x mean confidence in each view."""

    track: int
    adopted: bool
    before: dict[str, float]
    after: dict[str, float]

    def as_dict(self) -> dict:
        return {"track": self.track, "adopted": self.adopted, "before": self.before, "after": self.after}


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
    """True when the scale probe found the page's typical stroke thick (:data:`THICK_STROKE_WIDTH`): a
    sheet scanned at a higher resolution than the generator draws at, which the model may read better
    shrunk. Only after an automatic scale, and not when the page already ran below 1x."""
    extra = segmentation.extra
    if extra.get("scale_mode") != "auto" or extra.get("scale", 1) < 1:
        return False
    width = (extra.get("scale_probe") or {}).get("stroke_width")
    return width is not None and width >= THICK_STROKE_WIDTH


def tracks_with_curves(layout: Layout) -> list[int]:
    """Indices of the layout's tracks that hold a curve."""
    return [i for i, track in enumerate(layout.tracks) if track.curves]


def found(track: Track, traces: dict[str, CurveTrace]) -> dict[str, float]:
    """Per curve of the track: the share of depths it was found at times its mean confidence there."""
    return {c.mnemonic: round(traces[c.mnemonic].coverage * traces[c.mnemonic].mean_confidence, 4)
            for c in track.curves}


def better_read(before: dict[str, float], after: dict[str, float]) -> bool:
    """Whether the other view reads the track clearly better (see :data:`ADOPT_MIN_GAIN`)."""
    gain = sum(after.values()) - sum(before.values())
    worst = min(after[name] - before[name] for name in before)
    return gain >= ADOPT_MIN_GAIN * len(before) and worst >= -ADOPT_MAX_LOSS


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
    """Look again at ``tracks`` (the starved ones, :func:`starved_tracks` of ``shares``) at ``scale`` (None:
    the other scale, 2x after 1x, else 1x); yields the strips' :class:`TileDone` events (strip
    coordinates), then a :class:`SecondLook`.

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
        old_classes = np.array(segmentation.class_map[r0:r1, c0:c1])
        old_confidence = np.array(segmentation.confidence[r0:r1, c0:c1])
        segmentation.class_map[r0:r1, c0:c1] = strip.class_map[:, c0 - s0:c1 - s0]
        segmentation.confidence[r0:r1, c0:c1] = strip.confidence[:, c0 - s0:c1 - s0]
        alone = dataclasses.replace(layout, tracks=(track,))
        new_traces = trace_curves(segmentation.class_map, segmentation.confidence, alone,
                                  classes=segmentation.classes)
        before, after = found(track, traces), found(track, new_traces)
        adopted = better_read(before, after)
        if adopted:
            traces.update(new_traces)
            shares.update(style_ink_shares(segmentation.class_map, alone, segmentation.classes))
        else:
            segmentation.class_map[r0:r1, c0:c1] = old_classes
            segmentation.confidence[r0:r1, c0:c1] = old_confidence
        result.looks.append(TrackLook(index, adopted, before, after))
    result.seconds = time.perf_counter() - start
    yield result


def planned_looks(segmentation: SegmentationResult, layout: Layout, shares: dict[str, float | None]
                  ) -> dict[str, tuple[list[int], float | None]]:
    """The looks digitize takes after its first tracing, in order, as ``name: (tracks, scale)``:
    ``second_look`` at the starved tracks (at the other scale, ``None``) where the probe leaves room for it
    and some track is starved, then ``half_look`` at every track of a thick-stroked page (at half scale).
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
