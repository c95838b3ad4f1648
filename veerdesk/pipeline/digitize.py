"""Scan + layout → segmentation → traces → report: the one path behind the CLI, the batch runner and the app.

:func:`digitize` is a generator. It yields :class:`Progress` events (with the finished tile, so the app can
paint results as they come) and, last, a :class:`DigitizeResult`. ``cancel`` is polled between tiles and
stages (so no event follows a cancel); cancelling raises :class:`CancelledError` and produces nothing. Once
the 'done' event is out, only the result follows: a cancel then is too late. Writing files is the caller's job
(see ``cli_entry``), so a cancelled or failed run never leaves partial outputs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from veerdesk.core.curves import CurveTrace, low_confidence_ranges
from veerdesk.core.errors import CancelledError, LayoutError, ModelError
from veerdesk.core.image import Page, load_page, to_gray_u8
from veerdesk.core.layout import Layout
from veerdesk.export.las import unit_warnings

LOW_CONFIDENCE = 0.5
# A curve found at under STARVED_COVERAGE of the depths whose style holds under STARVED_STYLE_SHARE of its
# track's curve pixels gets a warning (style_warnings). On bench_plot_library_style.py pages 0-29 the seven
# curves at coverage <= 0.01 held 0-0.3 % of their track's curve pixels.
STARVED_COVERAGE = 0.1
STARVED_STYLE_SHARE = 0.02


@dataclass(frozen=True)
class Progress:
    """``stage`` is 'load', 'model', 'segment', 'trace' or 'done'; ``fraction`` of the whole run in [0, 1]."""

    stage: str
    done: int
    total: int
    fraction: float
    message: str
    tile: Any = None  # veerdesk.inference.segment.TileDone during 'segment'


@dataclass
class DigitizeResult:
    traces: dict[str, CurveTrace]
    segmentation: Any  # SegmentationResult
    layout: Layout
    timings: dict[str, float]
    report: dict[str, Any]
    page_shape: tuple[int, int] = (0, 0)
    extra: dict[str, Any] = field(default_factory=dict)


def load_inference_model(weights: str | os.PathLike | None = None, device: str = "cpu"):
    """(model ready for inference, description) from ``weights`` or the default weights; clear ModelError."""
    from veerdesk.ml.weights import default_weights_path, load_model

    path = Path(weights) if weights is not None else default_weights_path()
    if not path.is_file():
        if weights is None:
            raise ModelError(
                f"no trained model weights found at {path}; train them with 'veerdesk train' "
                "or pass --weights FILE"
            )
        raise ModelError(f"model weights {path} not found")
    model, config, card = load_model(path, device="cpu")
    return model, {"weights": str(path), "architecture": config.architecture, "card": card}


# A depth grid beyond this many samples is a typo in depth.step, not a log: 10 million samples is 10,000 ft
# at 0.001 ft, and already a LAS file of about a gigabyte with ten curves (a step of 0.0001 ft on the bundled
# sample wrote 1.7 GB after two minutes of resampling).
MAX_DEPTH_SAMPLES = 10_000_000
# More LAS samples than this per image row hold nothing the scan resolves: warned, not refused.
MAX_SAMPLES_PER_ROW = 4.0


def check_layout_fits(layout: Layout, height: int, width: int) -> list[str]:
    """Problems that make the layout useless for this page (raised) and warnings (returned)."""
    samples = layout.depth_sample_count()
    if samples > MAX_DEPTH_SAMPLES:
        raise LayoutError(
            f"layout key 'depth.step' ({layout.depth.step:g} {layout.depth.unit}) makes {samples:,} depth samples, "
            f"over {MAX_DEPTH_SAMPLES:,}; is the step a typo? (0.5 FT or 0.1524 M are usual)"
        )
    y_top, y_bottom = layout.depth.row_range()
    if y_top >= height or y_bottom <= 0:
        raise LayoutError(
            f"the layout's depth ties (rows {y_top:g} to {y_bottom:g}) lie outside this {height}-row image; "
            "is it the layout for another sheet?"
        )
    if not layout.tracks or not layout.curves():
        raise LayoutError("the layout has no curves to digitize (add at least one track with a curve)")
    warnings = []
    per_row = samples / max(1.0, y_bottom - y_top)
    if per_row > MAX_SAMPLES_PER_ROW:
        warnings.append(f"depth.step gives {per_row:.0f} LAS samples per image row: far finer than the scan "
                        "resolves (the values between rows are interpolated)")
    if y_top < 0 or y_bottom > height:
        warnings.append(f"depth ties run past the image (rows {y_top:g} to {y_bottom:g}, image has {height})")
    for i, track in enumerate(layout.tracks):
        if track.x0 >= width or track.x1 <= 0:
            raise LayoutError(
                f"layout key 'tracks[{i}]' (columns {track.x0:g} to {track.x1:g}) lies outside this "
                f"{width}-column image"
            )
        if track.x1 > width or track.x0 < 0:
            warnings.append(f"track {i} runs past the image edge")
    return warnings + unit_warnings(layout)


def style_warnings(traces: dict[str, CurveTrace], layout: Layout, shares: dict[str, float | None]) -> list[str]:
    """Curves left (nearly) absent while their track holds curve ink of other styles: most likely the model
    called their style something else (on matplotlib plots it labelled a track's dashed, dotted and dash-dot
    curves all one class), so the geologist should look rather than trust the gap."""
    out = []
    for _, _, curve in layout.curves():
        share = shares.get(curve.mnemonic)
        if share is not None and share < STARVED_STYLE_SHARE and traces[curve.mnemonic].coverage < STARVED_COVERAGE:
            out.append(f"{curve.mnemonic} ({curve.style}): {share:.1%} of its track's curve pixels carry its style and "
                       f"it was found at {traces[curve.mnemonic].coverage:.0%} of the depths; the model may have "
                       "labelled it as another style (check the layout's style, or the masks)")
    return out


def build_report(traces: dict[str, CurveTrace], layout: Layout, *, timings: dict[str, float], device: str,
                 image: str | None, shape: tuple[int, int], model_info: dict[str, Any] | None,
                 warnings: list[str], segmentation: Any, style_shares: dict[str, float | None] | None = None,
                 looks: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    depth = layout.depth_grid()
    style_shares = style_shares or {}
    warnings = warnings + style_warnings(traces, layout, style_shares)
    curves = {}
    for name, trace in traces.items():
        share = style_shares.get(name)
        curves[name] = {
            "style_ink_share": None if share is None else round(share, 4),
            "coverage": round(trace.coverage, 4),
            "mean_confidence": round(trace.mean_confidence, 4),
            "samples": int(trace.value.size),
            "present": int(trace.present.sum()),
            "low_confidence": low_confidence_ranges(trace.depth, trace.confidence, trace.present,
                                                    threshold=LOW_CONFIDENCE),
        }
    megapixels = shape[0] * shape[1] / 1e6
    return {
        "image": image,
        "size": {"width": shape[1], "height": shape[0], "megapixels": round(megapixels, 3)},
        "depth": {
            "unit": layout.depth.unit,
            "top": float(depth[0]) if depth.size else None,
            "bottom": float(depth[-1]) if depth.size else None,
            "step": layout.depth.step,
            "samples": int(depth.size),
        },
        "device": device,
        "test_time_augmentation": segmentation.extra.get("tta"),
        "input_scale": {"mode": segmentation.extra.get("scale_mode"), "used": segmentation.extra.get("scale"),
                        "probe": segmentation.extra.get("scale_probe"),
                        "second_look": (looks or {}).get("second_look"), "half_look": (looks or {}).get("half_look")},
        "model": {k: v for k, v in (model_info or {}).items() if k != "card"},
        "tiles": {"total": segmentation.tiles, "skipped_blank": segmentation.skipped_tiles},
        "timings": {**{k: round(v, 3) for k, v in timings.items()},
                    "megapixels_per_s": round(megapixels / max(timings.get("total_s", 0.0), 1e-9), 3)},
        "low_confidence_threshold": LOW_CONFIDENCE,
        "curves": curves,
        "warnings": warnings,
    }


def digitize(
    image: str | os.PathLike | Page | np.ndarray,
    layout: Layout,
    weights: str | os.PathLike | None = None,
    device: str = "auto",
    cancel: Callable[[], bool] | None = None,
    *,
    model: Any = None,
    page: int = 0,
    tile: int | None = None,
    margin: int | None = None,
    tta: str | None = None,
    scale: str | None = None,
) -> Iterator[Progress | DigitizeResult]:
    """Digitize one sheet; yields :class:`Progress` events, then one :class:`DigitizeResult`.

    ``model`` (already prepared for inference) skips loading weights — the batch runner and the app load
    once and reuse it. ``tta`` picks the test-time augmentation (``veerdesk.inference.segment.TTA_MODES``;
    None = the default, mirrored views averaged) and ``scale`` the input scale
    (``veerdesk.inference.segment.SCALE_MODES``; None = the default, "auto").
    """
    from veerdesk.inference.second_look import SecondLook, planned_looks, second_look
    from veerdesk.inference.segment import (
        DEFAULT_MARGIN,
        DEFAULT_SCALE,
        DEFAULT_TILE,
        DEFAULT_TTA,
        SegmentationResult,
        segment_page,
    )
    from veerdesk.inference.trace import style_ink_shares, trace_curves

    def check_cancel() -> None:
        if cancel is not None and cancel():
            raise CancelledError("digitizing was cancelled; nothing was written")

    timings: dict[str, float] = {}
    start = time.perf_counter()
    image_name: str | None = None
    yield Progress("load", 0, 1, 0.0, "reading the image")
    if isinstance(image, Page):
        pixels, image_name = image.pixels, image.info.path
    elif isinstance(image, np.ndarray):
        pixels = image if image.dtype == np.uint8 and image.ndim == 2 else to_gray_u8(image)
    else:
        image_name = str(image)
        pixels = load_page(image, page=page).pixels
    height, width = pixels.shape
    warnings = check_layout_fits(layout, height, width)
    timings["load_s"] = time.perf_counter() - start
    check_cancel()

    t = time.perf_counter()
    model_info: dict[str, Any] | None = None
    if model is None:
        yield Progress("model", 0, 1, 0.02, "loading the model")
        model, model_info = load_inference_model(weights, device)
    timings["model_s"] = time.perf_counter() - t
    check_cancel()

    t = time.perf_counter()
    segmentation: SegmentationResult | None = None
    for event in segment_page(pixels, model, tile=tile or DEFAULT_TILE, margin=margin or DEFAULT_MARGIN,
                              device=device, cancel=cancel, tta=tta or DEFAULT_TTA,
                              scale=scale or DEFAULT_SCALE):
        if isinstance(event, SegmentationResult):
            segmentation = event
        else:
            yield Progress("segment", event.done, event.total, 0.03 + 0.87 * event.done / event.total,
                           f"segmenting tile {event.done}/{event.total}", tile=event)
    assert segmentation is not None
    timings["segment_s"] = time.perf_counter() - t
    check_cancel()

    t = time.perf_counter()
    yield Progress("trace", 0, 1, 0.9, "tracing curves")
    traces = trace_curves(segmentation.class_map, segmentation.confidence, layout, classes=segmentation.classes)
    shares = style_ink_shares(segmentation.class_map, layout, segmentation.classes)
    timings["trace_s"] = time.perf_counter() - t
    check_cancel()  # a cancel while tracing must not turn into a finished run

    # The page's scale was a guess made before the layout was read: a track whose curves lost their style
    # gets one more look at the other scale, and every track one at half scale, in case the sheet is a scan at
    # a higher resolution than the generator draws at (veerdesk.inference.second_look).
    looks: dict[str, SecondLook] = {}
    for name, (tracks, look_scale) in planned_looks(segmentation, layout, shares).items():
        t = time.perf_counter()
        stage, band, describe = LOOK_PROGRESS[name]
        looks[name] = yield from _take_look(
            second_look(pixels, model, segmentation, layout, traces, shares, tracks, tile=tile or DEFAULT_TILE,
                        margin=margin or DEFAULT_MARGIN, device=device, tta=tta or DEFAULT_TTA, cancel=cancel,
                        scale=look_scale),
            tracks, stage, band, describe)
        traces, shares = looks[name].traces, looks[name].shares
        timings[f"{name}_s"] = time.perf_counter() - t
        check_cancel()
    timings["total_s"] = time.perf_counter() - start
    report = build_report(traces, layout, timings=timings, device=segmentation.device, image=image_name,
                          shape=(height, width), model_info=model_info, warnings=warnings,
                          segmentation=segmentation, style_shares=shares,
                          looks={name: look.report() for name, look in looks.items()})
    yield Progress("done", 1, 1, 1.0, "done")
    yield DigitizeResult(traces, segmentation, layout, timings, report, (height, width))


# Per look digitize may take (veerdesk.inference.second_look.planned_looks): progress stage, the band of the
# run's progress it rises through, and how it names the track it reads.
LOOK_PROGRESS = {
    "second_look": ("second look", (0.9, 0.94), "second look at track {}, whose curves lost their style"),
    "half_look": ("half-scale look", (0.94, 0.98), "look at track {} at half scale"),
}


def _take_look(events: Iterator[Any], tracks: list[int], stage: str, band: tuple[float, float],
               describe: str) -> Generator[Progress, None, Any]:
    """Pass a :func:`~veerdesk.inference.second_look.second_look` run's tile events on as progress rising
    through ``band`` over all of ``tracks`` (``describe`` names the track being read, 1-based), and return
    its result."""
    from veerdesk.inference.second_look import SecondLook

    strip, look = 0, None
    for event in events:
        if isinstance(event, SecondLook):
            look = event
            continue
        strip += event.done == 1  # each track's strip counts its tiles from 1
        done = min(1.0, (strip - 1 + event.done / event.total) / len(tracks))
        track = tracks[min(strip, len(tracks)) - 1] + 1
        yield Progress(stage, event.done, event.total, band[0] + (band[1] - band[0]) * done,
                       f"{describe.format(track)}: tile {event.done}/{event.total}")
    assert look is not None
    return look


def run_to_result(events: Iterator[Progress | DigitizeResult],
                  on_progress: Callable[[Progress], None] | None = None) -> DigitizeResult:
    """Drain a :func:`digitize` generator, passing progress events to ``on_progress``."""
    result = None
    for event in events:
        if isinstance(event, DigitizeResult):
            result = event
        elif on_progress is not None:
            on_progress(event)
    assert result is not None
    return result
