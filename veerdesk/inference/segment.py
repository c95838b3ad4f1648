"""Tiled segmentation of a whole page: uint8 class map + uint8 confidence, in bounded memory.

The page is never converted to one float tensor: each tile window is converted on its own, the model's
logits for the tile are reduced to (class, confidence) at once, and only the tile's kept centre is
written to the page-sized uint8 outputs (memory-mapped temp files when the page is large). Tiles whose
kept region is blank paper are filled without running the model.

``segment_page`` is a generator: it yields a :class:`TileDone` per tile (so the app can paint results as
they arrive and the CLI can draw a progress bar) and finally a :class:`SegmentationResult`.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from veerdesk.core.errors import CancelledError, ModelError
from veerdesk.core.strokes import typical_stroke_width
from veerdesk.inference.tiling import plan_tiles
from veerdesk.ml.device import cpu_supports_bf16, resolve_device
from veerdesk.ml.model import model_classes

# A kept region whose every pixel is brighter than this is blank paper: no ink, nothing to segment.
PAPER_LEVEL = 250
# Above this many pixels the outputs live in memory-mapped temp files instead of RAM.
MEMMAP_PIXELS = 64_000_000
DEFAULT_TILE = 768
DEFAULT_MARGIN = 48
# Test-time augmentation. "flip" also runs every tile mirrored left-right and averages the two softmax
# maps: the model's misses on thin, faint strokes are partly independent between the two views, so the
# average recovers curve pixels either view alone calls paper. Measured on 32 held-out pages (seeds
# 500-531) with the stage-5 weights: recovered-curve median R² 0.44 -> 0.54, at twice the model time
# (still about 4.5 MP/s on the 2-core CPU). "none" is the single pass.
TTA_MODES = ("flip", "none")
DEFAULT_TTA = "flip"
# Input scale. The model misses pens 1 px wide with broken, jaggy edges (low-resolution scans) and pale pens
# on tinted paper: run on the page enlarged 2x (probabilities average-pooled back) it finds them, but where
# the pens, dots and dashes are already as large as training saw, the enlarged view loses them (fewer curve
# pixels) or doubts them (dithered 1-bit strokes break into blobs). "auto" probes a few inked tiles at both
# scales, single pass. A page the model already reads surely at 1x (mean top probability on its curve pixels
# 0.95 or more) stays; otherwise it is enlarged unless the enlarged view clearly loses: fewer than 80 % of
# the curve pixels, or a mean top probability more than 0.03 lower. Set with stage 9 on 62 pages (generated
# 500-531, bench/bench_foreign_style.py 0-29) and checked on 54 others (foreign 30-59, the card's 0-23).
# "0.5" shrinks the page by half: for scans at a resolution well above what the generator draws, where even
# the grid lines are 3 px wide or more. "auto" never shrinks a whole page (that lost on the generated pages
# whose strokes are that thick); it reads each track again at half scale and keeps the better view
# (veerdesk.inference.second_look; README, "High-resolution scans").
SCALE_MODES = ("auto", "0.5", "1", "2")
DEFAULT_SCALE = "auto"
PROBE_TILES = 6
PROBE_SIZE = 384
PROBE_MIN_CURVE_RATIO = 0.8  # curve pixels at 2x / at 1x
PROBE_MAX_CONFIDENCE_LOSS = 0.03  # mean top probability on curve pixels, 1x minus 2x
PROBE_SURE_CONFIDENCE = 0.95  # mean top probability on curve pixels at 1x that needs no second look


@dataclass(frozen=True)
class TileDone:
    """Progress event: one tile finished. ``rect`` is (y0, x0, y1, x1) of the kept region."""

    done: int
    total: int
    rect: tuple[int, int, int, int]
    class_tile: np.ndarray
    confidence_tile: np.ndarray
    skipped: bool
    elapsed_s: float


@dataclass
class SegmentationResult:
    """Per-pixel classes (0 background, 1 solid curve, 2 non-solid curve; 3 dotted and 4 dash-dot curve
    from a four- or five-class model, see ``classes``) and confidence (max prob × 255)."""

    class_map: np.ndarray
    confidence: np.ndarray
    device: str
    precision: str
    seconds: float
    tiles: int
    skipped_tiles: int
    extra: dict = field(default_factory=dict)
    classes: int = 3  # the model's class scheme (veerdesk.core.classes): 4 sets dotted curves apart, 5 dash-dot too

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.class_map.shape)  # type: ignore[return-value]


@dataclass(frozen=True)
class RunSettings:
    """How the model runs: device, autocast dtype (None = fp32) and memory format."""

    device: torch.device
    autocast_dtype: torch.dtype | None
    channels_last: bool

    @property
    def precision(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.autocast_dtype]

    def describe(self) -> str:
        fmt = ", channels_last" if self.channels_last else ""
        return f"{self.device.type} {self.precision}{fmt}"


def choose_settings(device: str | torch.device = "auto", precision: str = "auto") -> RunSettings:
    """The fastest measured path for the device (see bench/bench_inference.py).

    CPU with native bf16: bf16 autocast, contiguous (NCHW) input — on the 2-core AMX machine this was the
    fastest at 768-px tiles. CPU without: fp32 channels_last. CUDA: fp32 (cuDNN's TF32 convolutions),
    channels_last: on an H200 (bench/bench_cuda.py) it ran at 129 MP/s against 100 for fp16 and bf16
    autocast, labelling curve pixels like the CPU fp32 path as closely as fp16 did (99.99 %).
    """
    dev = resolve_device(device)
    if precision not in ("auto", "fp32", "bf16", "fp16"):
        raise ModelError(f"unknown precision '{precision}'")
    if dev.type == "cuda":
        dtype = {"auto": None, "fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        return RunSettings(dev, dtype, True)
    if precision == "auto":
        precision = "bf16" if cpu_supports_bf16() else "fp32"
    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return RunSettings(dev, dtype, dtype is None)


def default_threads() -> int:
    """Intra-op threads: every core this process may use (the CLI is the only heavy job while it runs)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def allocate_page_array(shape: tuple[int, int], fill: int = 0) -> np.ndarray:
    """A uint8 page-sized array: in RAM for ordinary pages, a memory-mapped temp file for huge ones."""
    if shape[0] * shape[1] <= MEMMAP_PIXELS:
        return np.full(shape, fill, dtype=np.uint8)
    # The temp file is unlinked at once; the mapping keeps its pages alive until the array is dropped.
    with tempfile.TemporaryFile(prefix="veerdesk-seg-") as fh:
        array = np.memmap(fh, dtype=np.uint8, mode="w+", shape=shape)
    if fill:
        for y in range(0, shape[0], 4096):
            array[y : y + 4096] = fill
    return array


def _autocast(settings: RunSettings):
    return torch.autocast(settings.device.type, dtype=settings.autocast_dtype or torch.float32,
                          enabled=settings.autocast_dtype is not None)


def _window_input(pixels: np.ndarray, window: tuple[int, int, int, int], settings: RunSettings) -> torch.Tensor:
    y0, x0, y1, x1 = window
    block = np.ascontiguousarray(pixels[y0:y1, x0:x1])
    if not block.flags.writeable:  # a read-only page (memory-mapped, or a caller's): torch warns on those
        block = block.copy()
    window = torch.from_numpy(block)
    x = window.to(settings.device, non_blocking=True).float().mul_(1.0 / 255.0)[None, None]
    if settings.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _tile_probabilities(model: torch.nn.Module, x: torch.Tensor, tta: str, settings: RunSettings) -> torch.Tensor:
    """Softmax probabilities (1, C, h, w) for one tile window, averaged over the views ``tta`` asks for."""
    probs = torch.softmax(model(x).float(), dim=1)
    if tta == "flip":
        mirrored = x.flip(3)
        if settings.channels_last:
            mirrored = mirrored.contiguous(memory_format=torch.channels_last)
        probs.add_(torch.softmax(model(mirrored).float(), dim=1).flip(3)).mul_(0.5)
    return probs


def _scaled_probabilities(
    model: torch.nn.Module, x: torch.Tensor, tta: str, settings: RunSettings, scale: float
) -> torch.Tensor:
    """:func:`_tile_probabilities` of the window resized ``scale`` times, brought back to its own size
    (enlarged: probabilities average-pooled; shrunk: the window area-averaged, probabilities interpolated)."""
    if scale == 1:
        return _tile_probabilities(model, x, tta, settings)
    if scale < 1:
        size = x.shape[-2:]
        small = torch.nn.functional.interpolate(x, scale_factor=scale, mode="area")
        if settings.channels_last:
            small = small.contiguous(memory_format=torch.channels_last)
        probs = _tile_probabilities(model, small, tta, settings)
        return torch.nn.functional.interpolate(probs, size=size, mode="bilinear", align_corners=False)
    big = torch.nn.functional.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    if settings.channels_last:
        big = big.contiguous(memory_format=torch.channels_last)
    return torch.nn.functional.avg_pool2d(_tile_probabilities(model, big, tta, settings), int(scale))


def probe_scale(pixels: np.ndarray, model: torch.nn.Module, settings: RunSettings) -> tuple[int, dict]:
    """(scale to run the page at, the probe's figures): see :data:`SCALE_MODES`."""
    from veerdesk.ml.gap import choose_tiles

    counts, confidences = {1: 0, 2: 0}, {1: 0.0, 2: 0.0}
    corners = choose_tiles(pixels, PROBE_SIZE, PROBE_TILES)
    for y, x in corners:
        window = (y, x, y + PROBE_SIZE, x + PROBE_SIZE)  # slicing stops at the page edge
        for scale in (1, 2):
            with torch.inference_mode(), _autocast(settings):
                probs = _scaled_probabilities(model, _window_input(pixels, window, settings), "none", settings, scale)
            top, classes = probs[0].float().max(dim=0)
            curve = classes > 0
            counts[scale] += int(curve.sum())
            confidences[scale] += float(top[curve].sum())
    mean = {s: confidences[s] / counts[s] if counts[s] else 0.0 for s in (1, 2)}
    ratio = counts[2] / counts[1] if counts[1] else (float("inf") if counts[2] else 1.0)
    # A page with no curve pixel in either view, or one read surely at 1x, has little to gain from four
    # times the work.
    enlarge = (counts[2] > 0 and mean[1] < PROBE_SURE_CONFIDENCE and ratio >= PROBE_MIN_CURVE_RATIO
               and mean[2] >= mean[1] - PROBE_MAX_CONFIDENCE_LOSS)
    # JSON has no infinity: the report says null where the 1x view found no curve pixel at all.
    # The typical stroke width decides nothing; the report gives it as a hint that the sheet may be a scan at
    # a higher resolution than the generator draws at (wider than 2-3 px).
    stroke = typical_stroke_width(pixels)
    figures = {"tiles": len(corners), "curve_pixel_ratio": round(ratio, 3) if math.isfinite(ratio) else None,
               "confidence_1x": round(mean[1], 4), "confidence_2x": round(mean[2], 4),
               "stroke_width": None if stroke is None else round(stroke, 2)}
    return (2 if enlarge else 1), figures


def _classify(probs: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(class uint8, confidence uint8) from (1, C, h, w) probabilities; confidence = top probability × 255."""
    top, classes = probs[0].max(dim=0)
    confidence = torch.round(top * 255.0).clamp_(0, 255).to(torch.uint8)
    return classes.to(torch.uint8).cpu().numpy(), confidence.cpu().numpy()


def segment_page(
    pixels: np.ndarray,
    model: torch.nn.Module,
    *,
    tile: int = DEFAULT_TILE,
    margin: int = DEFAULT_MARGIN,
    device: str | torch.device = "auto",
    precision: str = "auto",
    threads: int | None = None,
    cancel: Callable[[], bool] | None = None,
    skip_paper: bool = True,
    tta: str = DEFAULT_TTA,
    scale: str = DEFAULT_SCALE,
) -> Iterator[TileDone | SegmentationResult]:
    """Segment ``pixels`` (uint8 H×W, 0 = ink) tile by tile; yields :class:`TileDone` then the result.

    The model must already be in eval mode (see ``veerdesk.ml.model.prepare_for_inference``); it is moved
    to the chosen device. ``cancel`` is polled before every tile; when it returns True a
    :class:`CancelledError` is raised and nothing is returned. ``tta`` is one of :data:`TTA_MODES`,
    ``scale`` one of :data:`SCALE_MODES`.
    """
    if tta not in TTA_MODES:
        raise ValueError(f"unknown test-time augmentation '{tta}' (choose from {', '.join(TTA_MODES)})")
    if scale not in SCALE_MODES:
        raise ValueError(f"unknown input scale '{scale}' (choose from {', '.join(SCALE_MODES)})")
    if pixels.ndim != 2 or pixels.dtype != np.uint8:
        raise ValueError(f"segment_page expects a uint8 H×W page, got {pixels.dtype} {pixels.shape}")
    settings = choose_settings(device, precision)
    if settings.device.type == "cpu":
        torch.set_num_threads(threads or default_threads())
    model = model.to(settings.device)
    if settings.channels_last:
        model = model.to(memory_format=torch.channels_last)
    height, width = pixels.shape
    class_map = allocate_page_array((height, width), 0)
    confidence = allocate_page_array((height, width), 255)
    tiles = plan_tiles(height, width, tile, margin)
    skipped = 0
    start = time.perf_counter()
    if scale == "auto":
        if cancel is not None and cancel():
            raise CancelledError("segmentation was cancelled; nothing was written")
        factor, probe = probe_scale(pixels, model, settings)
    else:
        factor, probe = (0.5 if scale == "0.5" else int(scale)), None
    autocast = _autocast(settings)
    for n, t in enumerate(tiles, start=1):
        if cancel is not None and cancel():
            raise CancelledError("segmentation was cancelled; nothing was written")
        ky0, kx0, ky1, kx1 = t.kept
        if skip_paper and pixels[ky0:ky1, kx0:kx1].min() > PAPER_LEVEL:
            # class_map is already 0 and confidence 255 there.
            skipped += 1
            is_skipped = True
        else:
            with torch.inference_mode(), autocast:
                probs = _scaled_probabilities(model, _window_input(pixels, t.window, settings), tta, settings, factor)
            classes, conf = _classify(probs)
            rows, cols = t.kept_in_window
            class_map[ky0:ky1, kx0:kx1] = classes[rows, cols]
            confidence[ky0:ky1, kx0:kx1] = conf[rows, cols]
            is_skipped = False
        yield TileDone(
            n, len(tiles), t.kept, class_map[ky0:ky1, kx0:kx1], confidence[ky0:ky1, kx0:kx1], is_skipped,
            time.perf_counter() - start,
        )
    yield SegmentationResult(
        class_map, confidence, settings.describe(), settings.precision, time.perf_counter() - start,
        len(tiles), skipped, extra={"tta": tta, "scale": factor, "scale_mode": scale, "scale_probe": probe},
        classes=model_classes(model),
    )


def run_segmentation(pixels: np.ndarray, model: torch.nn.Module, **kwargs) -> SegmentationResult:
    """Drain :func:`segment_page` and return its result (for scripts and tests)."""
    result = None
    for event in segment_page(pixels, model, **kwargs):
        result = event
    assert isinstance(result, SegmentationResult)
    return result


def segment_for_eval(model: torch.nn.Module, pixels: np.ndarray, layout=None) -> tuple[np.ndarray, np.ndarray]:
    """(class map, confidence) through the same tiled path (device, precision) ``veerdesk digitize`` takes.

    Evaluation and the model card plug this in so that their recovered-curve figures describe the
    product: the tracer's identity decisions are sensitive enough that a different tiling moves them.
    With the page's ``layout`` it also takes digitize's second look at tracks whose curves lost their
    style (:mod:`veerdesk.inference.second_look`), so tracing the returned maps gives digitize's curves.
    """
    result = run_segmentation(pixels, model)
    if layout is not None:
        from veerdesk.inference.second_look import look_again

        look_again(pixels, model, result, layout)
    return np.asarray(result.class_map), np.asarray(result.confidence)
