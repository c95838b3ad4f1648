"""The model run the app does in its worker thread, as a generator of small events.

The same inference code as the CLI (``veerdesk.inference`` / ``veerdesk.pipeline``) does the work; this
module only adapts its events to what the window shows: progress, the device in use, each finished
tile's classes (painted as they arrive) and finally the traces and masks. torch is imported inside the
generator, so opening the app never loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from veerdesk.core.curves import CurveTrace
from veerdesk.core.document import SegmentationMasks
from veerdesk.core.layout import Layout

# Rows of context added above and below a re-run region so curves at its edges are traced well.
RERUN_MARGIN = 96


@dataclass(frozen=True)
class JobProgress:
    done: int
    total: int
    text: str


@dataclass(frozen=True)
class JobDevice:
    text: str


@dataclass(frozen=True)
class JobTile:
    rect: tuple[int, int, int, int]  # (y0, x0, y1, x1) in page pixels
    classes: np.ndarray


@dataclass(frozen=True)
class JobResult:
    traces: dict[str, CurveTrace]
    masks: SegmentationMasks | None
    device: str
    seconds: float
    rows: tuple[int, int] | None = None  # set for a re-run of a region
    gap: dict | None = None  # reality-gap figures of the sheet (veerdesk.ml.gap), full runs only
    warnings: tuple[str, ...] = ()  # the digitize report's warnings (e.g. a curve whose style the model never saw)
    scale: str = ""  # the input scale the run used, e.g. "1x", "0.5x", "1x, 2 tracks read at 2x"


JobEvent = JobProgress | JobDevice | JobTile | JobResult
JobFactory = Callable[[Callable[[], bool]], Iterator[JobEvent]]


def describe_scale(input_scale: dict) -> str:
    """The digitize report's ``input_scale`` in a few words for the status line."""
    used = input_scale.get("used")
    if used is None:
        return ""
    text = f"{used:g}x"
    for key in ("second_look", "half_look"):
        look = input_scale.get(key) or {}
        if look.get("adopted"):
            count = len(look["adopted"])
            text += f", {count} track{'s' if count > 1 else ''} read at {look['scale']:g}x"
    return text


def shifted_layout(layout: Layout, dy: float) -> Layout:
    """The same layout for a crop that starts ``dy`` rows down the page."""
    data = layout.to_dict()
    data["depth"]["ties"] = [[y - dy, d] for y, d in data["depth"]["ties"]]
    return Layout.from_dict(data)


_MODEL_CACHE: dict[tuple[str | None, str], object] = {}


def _model(weights: str | None, device: str):
    """Load the weights once per session (the first run pays for it, re-runs of regions do not)."""
    from veerdesk.pipeline.digitize import load_inference_model

    key = (weights, device)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE.clear()
        _MODEL_CACHE[key] = load_inference_model(weights, "cpu")[0]
    return _MODEL_CACHE[key]


def model_run(pixels: np.ndarray, layout: Layout, *, weights: str | None = None, device: str = "auto",
              rows: tuple[int, int] | None = None, scale: str = "auto") -> JobFactory:
    """A job factory running the digitize pipeline on ``pixels`` (or just ``rows`` of it) at the input
    ``scale`` (digitize's --scale)."""

    def job(cancel: Callable[[], bool]) -> Iterator[JobEvent]:
        import torch

        from veerdesk.inference.segment import choose_settings
        from veerdesk.pipeline.digitize import DigitizeResult, Progress, digitize

        torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
        yield JobProgress(0, 1, "loading the model…")
        model = _model(weights, device)
        yield JobDevice(choose_settings(device).describe())
        y0, y1 = 0, pixels.shape[0]
        if rows is not None:
            y0 = max(0, int(min(rows)) - RERUN_MARGIN)
            y1 = min(pixels.shape[0], int(max(rows)) + RERUN_MARGIN)
        crop = np.ascontiguousarray(pixels[y0:y1])
        crop_layout = shifted_layout(layout, y0) if y0 else layout
        result = None
        for event in digitize(crop, crop_layout, weights, device, cancel, model=model, scale=scale):
            if isinstance(event, Progress):
                if event.tile is not None:
                    ty0, tx0, ty1, tx1 = event.tile.rect
                    yield JobTile((ty0 + y0, tx0, ty1 + y0, tx1), np.array(event.tile.class_tile, copy=True))
                yield JobProgress(round(event.fraction * 1000), 1000, event.message)
            elif isinstance(event, DigitizeResult):
                result = event
        if result is None or cancel():
            from veerdesk.core.errors import CancelledError

            raise CancelledError("the model run was cancelled; nothing was changed")
        seg = result.segmentation
        masks = None if rows is not None else SegmentationMasks(np.asarray(seg.class_map), np.asarray(seg.confidence))
        gap = None
        if rows is None:
            from veerdesk.ml.gap import gap_report
            from veerdesk.ml.weights import default_weights_path

            try:
                gap = gap_report(pixels, model, weights or default_weights_path())
            except Exception:  # noqa: BLE001 - a diagnostic must never cost the user the run's result
                import traceback

                traceback.print_exc()
                gap = None
        yield JobResult(result.traces, masks, seg.device, seg.seconds, None if rows is None else (y0, y1), gap,
                        tuple(result.report.get("warnings", ())), describe_scale(result.report.get("input_scale", {})))

    return job
