"""Learning from corrections: reviewed project files become labelled real pages for a short fine-tune.

    veerdesk finetune --projects DIR --weights W.safetensors --out W2.safetensors [--steps 200]

Every ``*.vdproj`` under DIR whose traces a person has reviewed (at least one reviewed sample) is one
labelled real sheet. Its corrected traces are rasterized into a class mask through the layout
(``row_at_depth`` / ``column_at_value``, backup scales included): a band around each trace, as wide as
the stroke measured on the scan plus a small tolerance, intersected with the ink, so the label has the
drawn line's real width and dashes keep their gaps (as in the generator's masks). What the person did
not vouch for is left out of the loss (label :data:`IGNORE`): rows of a track where any of its curves is
unreviewed and below the review threshold, everything outside the tracks, and the rows outside the tied
depth range.

Fine-tuning mixes random crops around the reviewed traces with fresh generator crops (so the model does
not forget the wide range of styles it was trained on), keeps BatchNorm statistics frozen (a few dozen
small batches of one archive must not re-centre the network), and runs briefly with a small learning
rate. Projects are split by name into fine-tune and held-out sheets; metrics are reported on the
held-out sheets (and on held-out generator crops, the forgetting check) before and after. The new
weights get their own model card (parent weights and hash, projects used, metrics) and SHA-256.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from veerdesk.core.classes import style_class, to_three_classes
from veerdesk.core.errors import CancelledError, ModelError, ProjectError, VeerDeskError
from veerdesk.core.image import load_page
from veerdesk.core.layout import Layout
from veerdesk.core.project import PROJECT_SUFFIX, RECOVERY_PREFIX, load_project
from veerdesk.ml.data import TRAIN_SEED_MIN, StreamFactory, fixed_crops, synth_crop_stream, to_batch
from veerdesk.ml.evaluate import segment_simple
from veerdesk.ml.losses import LossConfig, soft_tversky_loss
from veerdesk.ml.metrics import SegmentationScores
from veerdesk.ml.model import CLASS_NAMES, VeerNet
from veerdesk.ml.train import TrainConfig, hardware_description, use_bf16, validate
from veerdesk.ml.weights import load_model, save_weights, sha256_of
from veerdesk.synth.traces import drawn_columns

IGNORE = 255  # label of pixels kept out of the loss and the metrics
LOW_CONFIDENCE = 0.5  # same threshold as the review queue: below it, an unreviewed sample is not trusted
BAND_TOLERANCE_PX = 2  # a hand-drawn correction may sit this far beside the stroke
DEFAULT_STROKE_PX = 2.0
LINE_REMOVAL_PX = 31  # straight ink runs this long outside a trace are grid lines, not curve
PAPER_WINDOW_PX = 15  # the paper level around a pixel is the brightest value in this window
MIN_INK_CONTRAST = 20  # grey levels darker than the paper; less is paper texture
# A scan blurs a pen stroke; the generator's masks hold the pen's footprint, i.e. the pixels near the
# darkest of their neighbourhood, not the blurred halo.
RIDGE_FRACTION = 0.6
CROWDED_BAND = 0.6  # share of ink in a trace's band above which the band is not trusted
MAX_ANCHORS = 20_000
# Held-out generator crops for the forgetting check: below the training seeds, apart from train's val_seed.
SYNTH_CHECK_SEED = 910_000


# --------------------------------------------------------------------------- labelled sheets
@dataclass(frozen=True)
class CorrectedSheet:
    """One reviewed sheet as training data: its pixels and labels (0/1/2, :data:`IGNORE`)."""

    name: str
    source: Path
    pixels: np.ndarray  # uint8 H×W, 0 = ink
    labels: np.ndarray  # uint8 H×W
    anchors: np.ndarray  # int (K, 2) rows/cols of reviewed samples: crops are centred near them
    samples: np.ndarray  # int (M, 3) row, col, class of every trusted trace sample (for the hit rate)
    stroke_widths: dict[str, float]
    reviewed_samples: int
    sha256: str = ""

    def summary(self) -> dict[str, Any]:
        valid = self.labels != IGNORE
        return {
            "name": self.name,
            "sha256": self.sha256,
            "size": [int(self.pixels.shape[1]), int(self.pixels.shape[0])],
            "reviewed_samples": self.reviewed_samples,
            "trusted_samples": int(len(self.samples)),
            "labelled_fraction": round(float(valid.mean()), 4),
            "curve_pixels": int(np.count_nonzero(valid & (self.labels > 0))),
            "stroke_widths_px": {k: round(v, 2) for k, v in self.stroke_widths.items()},
        }


def ink_contrast(pixels: np.ndarray, size: int = PAPER_WINDOW_PX) -> np.ndarray:
    """How much darker each pixel is than the paper around it (uint8): faded and 1-bit scans alike."""
    paper = cv2.dilate(pixels, np.ones((size, size), np.uint8))
    return cv2.subtract(paper, pixels)


def _polylines(x: np.ndarray, y: np.ndarray, track_width: float) -> list[np.ndarray]:
    """Runs of finite points, broken at gaps and at wraps onto a backup scale (a jump across the track)."""
    idx = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if idx.size == 0:
        return []
    jump = np.abs(np.diff(x[idx])) > 0.5 * abs(track_width)
    splits = np.flatnonzero((np.diff(idx) > 1) | jump) + 1
    return [np.stack([x[part], y[part]], 1) for part in np.split(idx, splits)]


def _draw(target: np.ndarray, runs: list[np.ndarray], thickness: int, value: int = 1) -> None:
    for run in runs:
        # Pixel-corner coordinates -> pixel centres, with 4 fractional bits for sub-pixel placement.
        pts = np.round((run - 0.5) * 16).astype(np.int32).reshape(-1, 1, 2)
        if len(pts) == 1:
            pts = np.concatenate([pts, pts])
        cv2.polylines(target, [pts], False, value, max(1, int(thickness)), lineType=cv2.LINE_8, shift=4)


def _at_points(array: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    h, w = array.shape
    ok = np.isfinite(x) & np.isfinite(y)
    cols = np.clip(np.floor(x[ok]).astype(int), 0, w - 1)
    rows = np.clip(np.floor(y[ok]).astype(int), 0, h - 1)
    return array[rows, cols]


def stroke_width(distance: np.ndarray, x: np.ndarray, y: np.ndarray) -> float | None:
    """Median stroke width (px) under the trace points from the ink's distance transform (already
    max-filtered over the tolerance window); None when too few points lie on ink."""
    peak = _at_points(distance, x, y)
    if peak.size == 0:
        return None
    on_ink = peak[peak > 0]
    if on_ink.size < max(3, 0.2 * peak.size):
        return None
    # Distance to paper at a stroke's centre line is about half its width (1 for a 1-px line).
    return float(np.clip(2.0 * np.median(on_ink) - 1.0, 1.0, 15.0))


def rasterize_corrections(
    pixels: np.ndarray,
    layout: Layout,
    traces: dict[str, Any],
    reviewed: dict[str, np.ndarray],
    *,
    tolerance: int = BAND_TOLERANCE_PX,
    low_confidence: float = LOW_CONFIDENCE,
    classes: int = 3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, float]]:
    """Labels for one sheet from its corrected traces: ``(labels, anchors, samples, stroke widths)``.

    ``traces``: mnemonic -> CurveTrace (depth ascending, value NaN where absent); ``reviewed``: per curve,
    the per-sample reviewed flags. See the module docstring for what is labelled and what is ignored.
    Labels follow the ``classes``-class scheme of the model to be tuned (``veerdesk.core.classes``).
    """
    h, w = pixels.shape
    window = np.ones((2 * tolerance + 1,) * 2, np.uint8)
    contrast = ink_contrast(pixels)
    # Max within the tolerance window: a hand-drawn correction need not hit the stroke's centre.
    contrast_near = cv2.dilate(contrast, window)
    ridge = contrast >= RIDGE_FRACTION * cv2.dilate(contrast, np.ones((3, 3), np.uint8)).astype(np.float32)
    labels = np.full((h, w), IGNORE, np.uint8)
    row_depth = layout.depth.depth_at_row(np.arange(h) + 0.5)
    anchors: list[np.ndarray] = []
    samples: list[np.ndarray] = []
    widths: dict[str, float] = {}
    track_rows_ignored: list[tuple[int, int, np.ndarray]] = []
    for track in layout.tracks:
        c0 = max(0, int(math.floor(min(track.x0, track.x1))) - tolerance)
        c1 = min(w, int(math.ceil(max(track.x0, track.x1))) + tolerance)
        if c1 <= c0:
            continue
        uncertain_rows = ~np.isfinite(row_depth)
        strip = labels[:, c0:c1]
        strip[strip == IGNORE] = 0  # tracks may touch: keep what a neighbour already painted
        for curve in track.curves:
            trace = traces.get(curve.mnemonic)
            if trace is None:
                uncertain_rows |= True  # a layout curve that was never traced: nothing here is known
                continue
            depth = np.asarray(trace.depth, np.float64)
            value = np.asarray(trace.value, np.float64)
            confidence = np.nan_to_num(np.asarray(trace.confidence, np.float64))
            flags = np.asarray(reviewed.get(curve.mnemonic, np.zeros(depth.shape, bool)), bool)
            if flags.shape != depth.shape:
                flags = np.zeros(depth.shape, bool)
            if depth.size == 0:
                uncertain_rows |= True
                continue
            trusted = flags | (confidence >= low_confidence)
            found = np.flatnonzero(np.isfinite(value))
            if found.size:
                # As in the review queue: a curve starting or ending on the sheet is not a doubt.
                trusted[: found[0]] = True
                trusted[found[-1] + 1 :] = True
            position = np.interp(np.nan_to_num(row_depth, nan=-np.inf), depth, np.arange(depth.size), left=-1, right=-1)
            index = np.rint(position).astype(int)
            inside = np.isfinite(row_depth) & (index >= 0)
            sample_trusted = np.zeros(h, bool)
            sample_trusted[inside] = trusted[index[inside]]
            uncertain_rows |= ~sample_trusted

            x = drawn_columns(track, curve, value)
            y = layout.depth.row_at_depth(depth)
            # This curve's ink: darker than the paper by at least half the contrast found under its trace
            # (a faded pencil curve and a black 1-bit one each get their own threshold).
            stroke_contrast = _at_points(contrast_near, x, y)
            stroke_contrast = stroke_contrast[stroke_contrast >= MIN_INK_CONTRAST]
            ink = (
                (contrast[:, c0:c1] >= max(MIN_INK_CONTRAST, 0.5 * float(np.median(stroke_contrast)))) & ridge[:, c0:c1]
                if stroke_contrast.size
                else np.zeros((h, c1 - c0), bool)
            )
            ink_u8 = ink.astype(np.uint8)
            distance = cv2.dilate(cv2.distanceTransform(ink_u8, cv2.DIST_L2, 3), window)
            width = stroke_width(distance, x - c0, y) or DEFAULT_STROKE_PX
            widths[curve.mnemonic] = width
            # Long straight ink runs outside the trace's own core are grid lines crossing the band.
            lines = cv2.morphologyEx(
                ink_u8, cv2.MORPH_OPEN, np.ones((1, LINE_REMOVAL_PX), np.uint8)
            ) | cv2.morphologyEx(ink_u8, cv2.MORPH_OPEN, np.ones((LINE_REMOVAL_PX, 1), np.uint8))
            # Drawn in the track's strip only: pages can be huge, strips are narrow.
            runs = [run - np.array([c0, 0.0]) for run in _polylines(x, y, track.width)]
            band = np.zeros((h, c1 - c0), np.uint8)
            core = np.zeros((h, c1 - c0), np.uint8)
            _draw(band, runs, int(round(width)) + 2 * tolerance)
            _draw(core, runs, int(round(width)) + 2)
            cls = style_class(curve.style, classes)
            if np.count_nonzero(band & ink_u8) > CROWDED_BAND * max(1, np.count_nonzero(band)):
                # Ink everywhere around the trace (fills, dense grids, black bilevel scans): the stroke
                # cannot be told from its surroundings, so only a thin line under the trace is labelled.
                band = np.zeros_like(band)
                _draw(band, runs, 2)
                width = min(width, 2.0)
                widths[curve.mnemonic] = width
            strip[(band > 0) & ink & ~((lines > 0) & (core == 0))] = cls

            present = np.isfinite(x) & np.isfinite(y) & trusted
            rows_px = np.floor(y[present]).astype(int)
            cols_px = np.floor(x[present]).astype(int)
            on_page = (rows_px >= 0) & (rows_px < h) & (cols_px >= 0) & (cols_px < w)
            rows_px, cols_px = rows_px[on_page], cols_px[on_page]
            samples.append(np.stack([rows_px, cols_px, np.full(rows_px.size, cls)], 1))
            chosen = flags[present][on_page]
            anchors.append(np.stack([rows_px[chosen], cols_px[chosen]], 1))
        track_rows_ignored.append((c0, c1, uncertain_rows))
    # Ignore last, so a doubtful row hides every curve of its track, even ones painted after it.
    for c0, c1, rows in track_rows_ignored:
        labels[rows, c0:c1] = IGNORE
    sample_array = np.concatenate(samples) if samples else np.zeros((0, 3), int)
    if len(sample_array):
        keep = labels[sample_array[:, 0], sample_array[:, 1]] != IGNORE
        sample_array = sample_array[keep]
    anchor_array = np.concatenate(anchors) if anchors else np.zeros((0, 2), int)
    if len(anchor_array):
        anchor_array = anchor_array[labels[anchor_array[:, 0], anchor_array[:, 1]] != IGNORE]
    if len(anchor_array) == 0:
        anchor_array = sample_array[:, :2]
    if len(anchor_array) > MAX_ANCHORS:
        anchor_array = anchor_array[np.linspace(0, len(anchor_array) - 1, MAX_ANCHORS).astype(int)]
    return labels, anchor_array.astype(np.int64), sample_array.astype(np.int64), widths


def find_projects(folder: str | os.PathLike) -> list[Path]:
    """Every project file under ``folder`` (recursively, sorted), crash-recovery files left out."""
    root = Path(folder)
    if not root.is_dir():
        raise ProjectError(f"projects folder not found: {root}")
    return sorted(p for p in root.rglob(f"*{PROJECT_SUFFIX}") if p.is_file() and not p.name.startswith(RECOVERY_PREFIX))


def load_corrected_sheet(path: str | os.PathLike, classes: int = 3) -> CorrectedSheet | None:
    """The sheet of one project as training data, or None when nobody has reviewed any of it."""
    path = Path(path)
    data = load_project(path)
    doc = data.document
    if doc.layout is None or not doc.traces:
        raise ProjectError(f"{path.name} has no layout or no traced curves to learn from")
    reviewed = {name: doc.reviewed_mask(name) for name in doc.traces}
    count = int(sum(int(m.sum()) for m in reviewed.values()))
    if count == 0:
        return None
    if not doc.image_path or not Path(doc.image_path).is_file():
        raise ProjectError(f"{path.name}: its scan {doc.image_path} is missing; move it back or re-save the project")
    pixels = load_page(doc.image_path).pixels
    threshold = data.settings.get("review_threshold", LOW_CONFIDENCE)
    threshold = float(threshold) if isinstance(threshold, (int, float)) else LOW_CONFIDENCE
    labels, anchors, samples, widths = rasterize_corrections(
        pixels, doc.layout, doc.traces, reviewed, low_confidence=threshold, classes=classes
    )
    if len(samples) == 0:
        return None
    return CorrectedSheet(path.stem, path, pixels, labels, anchors, samples, widths, count, sha256_of(path))


def split_projects(paths: list[Path], holdout: float) -> tuple[list[Path], list[Path]]:
    """Deterministic split by name (the same project is always on the same side); ≥1 of each when ≥2."""
    if len(paths) < 2 or holdout <= 0:
        return list(paths), []
    ranked = sorted(paths, key=lambda p: (zlib.crc32(p.name.encode("utf-8")), p.name))
    n_held = min(len(paths) - 1, max(1, int(round(holdout * len(paths)))))
    held = set(ranked[:n_held])
    return [p for p in paths if p not in held], [p for p in paths if p in held]


# --------------------------------------------------------------------------- crops
def real_crop(sheet: CorrectedSheet, crop: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A crop×crop window near a reviewed sample (paper / IGNORE where it runs off the page)."""
    h, w = sheet.pixels.shape
    if len(sheet.anchors):
        cy, cx = sheet.anchors[int(rng.integers(len(sheet.anchors)))]
    else:  # pragma: no cover - sheets without samples are not loaded
        cy, cx = h // 2, w // 2
    jitter = rng.uniform(-0.25, 0.25, size=2) * crop
    y0 = int(round(cy + jitter[0] - crop / 2))
    x0 = int(round(cx + jitter[1] - crop / 2))
    image = np.full((crop, crop), 255, np.uint8)
    labels = np.full((crop, crop), IGNORE, np.uint8)
    sy0, sx0 = max(0, y0), max(0, x0)
    sy1, sx1 = min(h, y0 + crop), min(w, x0 + crop)
    if sy1 > sy0 and sx1 > sx0:
        image[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = sheet.pixels[sy0:sy1, sx0:sx1]
        labels[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = sheet.labels[sy0:sy1, sx0:sx1]
    return image, labels


class MixedCrops:
    """Batches mixing real crops (share ``real_fraction``) with generator crops, both randomly flipped."""

    def __init__(
        self,
        sheets: list[CorrectedSheet],
        factory: StreamFactory,
        *,
        crop: int,
        batch_size: int,
        real_fraction: float,
        seed: int,
    ) -> None:
        if not sheets:
            raise ModelError("no reviewed sheets to fine-tune on")
        self.sheets = sheets
        self.crop = crop
        self.batch_size = batch_size
        self.n_real = min(batch_size, max(1, int(round(batch_size * real_fraction))))
        self.rng = np.random.default_rng(seed)
        self.synth = factory(seed, crop) if self.n_real < batch_size else None
        # Bigger sheets (more reviewed samples) are picked more often, but no sheet is drowned out.
        weights = np.sqrt(np.array([max(1, len(s.anchors)) for s in sheets], float))
        self.sheet_p = weights / weights.sum()

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = [], []
        for i in range(self.batch_size):
            if i < self.n_real:
                sheet = self.sheets[int(self.rng.choice(len(self.sheets), p=self.sheet_p))]
                image, label = real_crop(sheet, self.crop, self.rng)
            else:
                image, label = next(self.synth)
            if self.rng.random() < 0.5:
                image, label = image[:, ::-1], label[:, ::-1]
            if self.rng.random() < 0.5:
                image, label = image[::-1], label[::-1]
            images.append(np.ascontiguousarray(image))
            labels.append(np.ascontiguousarray(label))
        return to_batch(images, labels)


# --------------------------------------------------------------------------- loss and metrics
def masked_loss(logits: torch.Tensor, target: torch.Tensor, config: LossConfig) -> torch.Tensor:
    """The training loss (weighted CE + soft Tversky on the curve classes) over non-IGNORE pixels only."""
    logits = logits.float()
    valid = target != IGNORE
    if not bool(valid.any()):
        return logits.sum() * 0.0
    weights = torch.tensor(config.class_weights, dtype=torch.float32, device=logits.device)
    total = config.ce_weight * F.cross_entropy(logits, target, weight=weights, ignore_index=IGNORE)
    if config.tversky_weight:
        v = valid.unsqueeze(1).to(logits.dtype)
        probs = logits.softmax(1) * v
        onehot = F.one_hot(torch.where(valid, target, 0), logits.shape[1]).permute(0, 3, 1, 2).to(logits.dtype) * v
        total = total + config.tversky_weight * soft_tversky_loss(
            probs, onehot, config.tversky_classes, config.tversky_alpha, config.tversky_beta
        )
    return total


def sheet_metrics(model: VeerNet, sheets: list[CorrectedSheet], *, bf16: bool, tile: int = 768) -> dict[str, Any]:
    """Pixel scores on the labelled pixels and the trace hit rate: share of trusted samples with a
    predicted pixel of the right class within 2 px of the corrected trace on their row."""
    scores = SegmentationScores(CLASS_NAMES)
    hits = total = 0
    seconds = 0.0
    was_training = model.training
    model.eval()
    try:
        for sheet in sheets:
            t0 = time.perf_counter()
            classes, _ = segment_simple(model, sheet.pixels, tile=tile, bf16=bf16)
            seconds += time.perf_counter() - t0
            # Scored in the seed's three classes, whatever scheme the model labels in.
            classes, labels = to_three_classes(classes), to_three_classes(sheet.labels)
            valid = labels != IGNORE
            scores.update(np.where(valid, classes, 0).astype(np.uint8), np.where(valid, labels, 0).astype(np.uint8))
            rows, cols = sheet.samples[:, 0], sheet.samples[:, 1]
            cls = to_three_classes(sheet.samples[:, 2])
            for c in (1, 2):
                near = cv2.dilate((classes == c).astype(np.uint8), np.ones((1, 5), np.uint8)) > 0
                pick = cls == c
                hits += int(near[rows[pick], cols[pick]].sum())
                total += int(pick.sum())
    finally:
        model.train(was_training)
    summary = scores.summary()
    return {
        "sheets": len(sheets),
        "curve_f1": round(scores.curve_f1(), 4),
        "tolerant_curve_f1": round(float(np.mean([summary[n]["tolerant_f1"] for n in CLASS_NAMES[1:]])), 4),
        "trace_hit_rate": round(hits / total, 4) if total else None,
        "classes": {n: {k: round(v, 4) for k, v in s.items()} for n, s in summary.items()},
        "seconds": round(seconds, 2),
    }


# --------------------------------------------------------------------------- the fine-tune
@dataclass(frozen=True)
class FinetuneSettings:
    steps: int = 200
    minutes: float | None = None  # optional wall-clock cap on the steps
    batch_size: int = 6
    crop: int = 256
    # Measured on archive-style sheets: a third real crops at 1.5e-4 kept generator F1 within 0.02 while
    # half real at 3e-4 lost 0.06 for a similar held-out gain.
    real_fraction: float = 0.34
    lr: float = 1.5e-4
    warmup_steps: int = 10
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    holdout: float = 0.25
    seed: int = TRAIN_SEED_MIN + 7_000_000  # a training seed range far from the base run's start
    synth_check_crops: int = 8
    threads: int = 2
    bf16: bool | None = None  # None: when the CPU has native bf16

    def __post_init__(self) -> None:
        problems = []
        if self.steps < 1:
            problems.append("steps must be at least 1")
        if not 0.0 < self.real_fraction <= 1.0:
            problems.append("real fraction must be in (0, 1]")
        if not 0.0 <= self.holdout < 1.0:
            problems.append("hold-out share must be in [0, 1)")
        if self.crop < 32 or self.batch_size < 1:
            problems.append("crop must be ≥ 32 px and batch size ≥ 1")
        if self.seed < TRAIN_SEED_MIN:
            problems.append(f"seed must be ≥ {TRAIN_SEED_MIN} (lower generator seeds are held out)")
        if problems:
            raise ModelError("invalid fine-tune settings: " + "; ".join(problems))


@dataclass(frozen=True)
class FinetuneEvent:
    """``kind``: start, before, step, after, done."""

    kind: str
    step: int
    values: dict[str, Any] = field(default_factory=dict)
    message: str = ""


def _freeze_batchnorm(model: torch.nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()


def _learning_rate(settings: FinetuneSettings, step: int) -> float:
    warm = min(1.0, (step + 1) / max(1, settings.warmup_steps))
    progress = min(1.0, step / max(1, settings.steps))
    return settings.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def _evaluate(model, held: list[CorrectedSheet], synth_check, bf16: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"heldout": sheet_metrics(model, held, bf16=bf16) if held else None}
    if synth_check is not None:
        out["synthetic_curve_f1"] = round(validate(model, *synth_check, bf16=bf16)["curve_f1"], 4)
    return out


def finetune(
    projects: str | os.PathLike | list[str | os.PathLike],
    weights: str | os.PathLike,
    out: str | os.PathLike,
    settings: FinetuneSettings | None = None,
    *,
    stream_factory: StreamFactory | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[FinetuneEvent]:
    """Fine-tune ``weights`` on the reviewed projects; writes ``out`` (+ card); yields progress events."""
    settings = settings or FinetuneSettings()
    weights, out = Path(weights), Path(out)
    if out.resolve() == weights.resolve():
        raise ModelError("write the fine-tuned weights to a new file (--out), not over the weights they start from")
    torch.set_num_threads(max(1, settings.threads))
    torch.manual_seed(settings.seed)
    started = time.perf_counter()
    model, config, parent_card = load_model(weights, inference=False)
    factory = stream_factory or functools.partial(synth_crop_stream, classes=config.classes)

    paths = [Path(p) for p in projects] if isinstance(projects, list) else find_projects(projects)
    sheets, skipped = [], []
    for path in paths:
        try:
            sheet = load_corrected_sheet(path, config.classes)
        except VeerDeskError as exc:
            skipped.append(f"{path.name}: {exc}")
            continue
        if sheet is None:
            skipped.append(f"{path.name}: not reviewed")
            continue
        sheets.append(sheet)
    if not sheets:
        raise ProjectError(
            f"no reviewed projects found ({len(paths)} project files looked at); review sheets in the app first"
        )
    train_paths, held_paths = split_projects([s.source for s in sheets], settings.holdout)
    train_sheets = [s for s in sheets if s.source in train_paths]
    held_sheets = [s for s in sheets if s.source in held_paths]

    bf16 = settings.bf16 if settings.bf16 is not None else use_bf16_default()
    loss_config = _parent_loss_config(parent_card)
    synth_check = (
        fixed_crops(factory, SYNTH_CHECK_SEED, settings.crop, settings.synth_check_crops)
        if settings.synth_check_crops > 0
        else None
    )
    yield FinetuneEvent(
        "start",
        0,
        {
            "train_sheets": [s.name for s in train_sheets],
            "heldout_sheets": [s.name for s in held_sheets],
            "skipped": skipped,
            "bf16": bf16,
        },
        f"{len(train_sheets)} sheets to fine-tune on, {len(held_sheets)} held out"
        + (f", {len(skipped)} skipped" if skipped else ""),
    )

    before = _evaluate(model, held_sheets, synth_check, bf16)
    yield FinetuneEvent("before", 0, before, "metrics before fine-tuning")

    model.train()
    _freeze_batchnorm(model)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=settings.lr, weight_decay=settings.weight_decay
    )
    batches = MixedCrops(
        train_sheets,
        factory,
        crop=settings.crop,
        batch_size=settings.batch_size,
        real_fraction=settings.real_fraction,
        seed=settings.seed,
    )
    budget_s = settings.minutes * 60.0 if settings.minutes is not None else None
    step, loss_sum, loss_n = 0, 0.0, 0
    t_train = time.perf_counter()
    while step < settings.steps:
        if budget_s is not None and time.perf_counter() - t_train >= budget_s:
            break
        if cancel is not None and cancel():
            raise CancelledError("fine-tuning was cancelled; no weights were written")
        x, y = batches.next_batch()
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(settings, step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        loss = masked_loss(logits, y, loss_config)
        if not torch.isfinite(loss):
            raise ModelError(f"fine-tuning diverged at step {step}; try a smaller --lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if settings.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
        optimizer.step()
        step += 1
        loss_sum += float(loss.detach())
        loss_n += 1
        if step % 10 == 0 or step == settings.steps:
            yield FinetuneEvent(
                "step", step, {"loss": round(loss_sum / loss_n, 5), "lr": optimizer.param_groups[0]["lr"]}
            )
            loss_sum, loss_n = 0.0, 0
    train_s = time.perf_counter() - t_train

    after = _evaluate(model, held_sheets, synth_check, bf16)
    yield FinetuneEvent("after", step, after, "metrics after fine-tuning")

    card = {
        "kind": "fine-tuned on reviewed real sheets",
        "parent_weights": weights.name,
        "parent_sha256": sha256_of(weights),
        "parent_card": parent_card,
        "finetune": {
            "steps": step,
            "batch_size": settings.batch_size,
            "crop": settings.crop,
            "real_fraction": settings.real_fraction,
            "lr": settings.lr,
            "batchnorm": "frozen (statistics of the parent kept)",
            "generator_mix": f"CropStream seeds from {settings.seed} (training range)",
            "train_sheets": [s.summary() for s in train_sheets],
            "heldout_sheets": [s.summary() for s in held_sheets],
            "skipped_projects": skipped,
            "train_seconds": round(train_s, 1),
            "precision": "bf16 autocast" if bf16 else "fp32",
            "hardware": hardware_description(),
        },
        "metrics_before": before,
        "metrics_after": after,
        "heldout_note": None if held_sheets else "fewer than two reviewed projects: no held-out sheets to report on",
    }
    document = save_weights(model, out, card=card, markdown=card_markdown(card, out.name))
    yield FinetuneEvent(
        "done",
        step,
        {"out": str(out), "sha256": document["sha256"], "seconds": round(time.perf_counter() - started, 1)},
        f"wrote {out} (SHA-256 {document['sha256'][:12]}…)",
    )


def use_bf16_default() -> bool:
    return use_bf16(TrainConfig())


def _parent_loss_config(card: dict[str, Any]) -> LossConfig:
    raw = (card.get("train_config") or {}).get("loss") if isinstance(card, dict) else None
    if isinstance(raw, dict):
        try:
            return LossConfig.from_dict(raw)
        except ModelError:
            pass
    return LossConfig()


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def comparison_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Before/after table rows for the terminal and the markdown card."""
    rows = []
    if before.get("heldout") is not None:
        for key, label in (
            ("curve_f1", "held-out curve F1"),
            ("tolerant_curve_f1", "held-out tolerant curve F1"),
            ("trace_hit_rate", "held-out trace hit rate (±2 px)"),
        ):
            rows.append(f"{label:<34}{_fmt(before['heldout'][key]):>8} → {_fmt(after['heldout'][key])}")
    if "synthetic_curve_f1" in before:
        rows.append(
            f"{'generator crops curve F1':<34}{_fmt(before['synthetic_curve_f1']):>8} → "
            f"{_fmt(after['synthetic_curve_f1'])}"
        )
    return rows


def card_markdown(card: dict[str, Any], name: str) -> str:
    ft = card["finetune"]
    lines = [
        f"# {name}",
        "",
        f"Fine-tuned from `{card['parent_weights']}` (SHA-256 `{card['parent_sha256'][:16]}…`) on "
        f"{len(ft['train_sheets'])} reviewed sheets for {ft['steps']} steps "
        f"(batch {ft['batch_size']}, {ft['crop']} px crops, {int(ft['real_fraction'] * 100)} % real), "
        f"BatchNorm frozen.",
        "",
        "Fine-tune sheets: " + (", ".join(s["name"] for s in ft["train_sheets"]) or "none"),
        "",
        "Held-out sheets: " + (", ".join(s["name"] for s in ft["heldout_sheets"]) or "none"),
        "",
        "```",
        *comparison_lines(card["metrics_before"], card["metrics_after"]),
        "```",
        "",
    ]
    if card.get("heldout_note"):
        lines += [f"Note: {card['heldout_note']}", ""]
    return "\n".join(lines)


def format_event(event: FinetuneEvent) -> str:
    v = event.values
    if event.kind == "step":
        return f"step {event.step:5d} loss {v['loss']:.4f} lr {v['lr']:.2e}"
    if event.kind in ("before", "after"):
        parts = []
        if v.get("heldout"):
            h = v["heldout"]
            parts.append(
                f"held-out curve F1 {_fmt(h['curve_f1'])}, tolerant {_fmt(h['tolerant_curve_f1'])}, "
                f"trace hit rate {_fmt(h['trace_hit_rate'])}"
            )
        if "synthetic_curve_f1" in v:
            parts.append(f"generator crops curve F1 {_fmt(v['synthetic_curve_f1'])}")
        return f"{event.kind}: " + ("; ".join(parts) or "no held-out sheets")
    if event.kind == "start":
        lines = [event.message] + [f"  skipped {s}" for s in v.get("skipped", [])]
        return "\n".join(lines)
    return event.message


def run_finetune(args: Any) -> int:
    """``veerdesk finetune``: args.projects, args.weights, args.out and optional tuning knobs."""
    defaults = FinetuneSettings()
    settings = FinetuneSettings(
        steps=int(getattr(args, "steps", None) or defaults.steps),
        minutes=getattr(args, "minutes", None),
        batch_size=int(getattr(args, "batch_size", None) or defaults.batch_size),
        crop=int(getattr(args, "crop", None) or defaults.crop),
        real_fraction=float(getattr(args, "real_fraction", None) or defaults.real_fraction),
        lr=float(getattr(args, "lr", None) or defaults.lr),
        holdout=float(defaults.holdout if getattr(args, "holdout", None) is None else args.holdout),
    )
    before = None
    for event in finetune(args.projects, args.weights, args.out, settings):
        if event.kind == "before":
            before = event.values
        print(format_event(event), file=sys.stderr, flush=True)
        if event.kind == "after" and before is not None:
            print("\n".join(comparison_lines(before, event.values)), flush=True)
    gap_pages = getattr(args, "gap_pages", None)
    from veerdesk.ml import gap

    if gap_pages:
        # The encoder changed, so the parent's reality-gap reference no longer applies.
        from veerdesk.ml.weights import read_card

        tuned, _, _ = load_model(args.out)
        reference = gap.build_reference(
            tuned,
            pages=int(gap_pages),
            weights_sha256=read_card(args.out)["sha256"],
            progress=lambda i, n: print(f"reality-gap reference: page {i}/{n}", file=sys.stderr, flush=True),
        )
        _, json_path = gap.save_reference(reference, args.out)
        print(f"wrote {json_path}", file=sys.stderr)
    elif gap.reference_paths(args.weights)[1].is_file():
        print(
            f"note: {Path(args.weights).name} has a reality-gap reference; build one for the new weights with "
            f"'python -m veerdesk.ml.gap build --weights {args.out}'",
            file=sys.stderr,
        )
    return 0


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 over the state dict's bytes (tests: did the weights change?)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
