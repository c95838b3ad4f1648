"""Held-out evaluation on freshly generated pages (seeds < 1,000,000, never used for training).

Reports, per class: strict pixel F1 and IoU (comparable to the VeerNet paper), F1 with 1-px tolerance;
the same split by the curve styles each page contains; and, when the tracer
(``veerdesk.inference.trace_curves``) is passed in, the recovered curves' median R² and coverage
against the generator's truth, split by curve style and weight.
"""

from __future__ import annotations

import inspect
import math
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from veerdesk.core.classes import style_class, to_three_classes
from veerdesk.core.errors import ModelError
from veerdesk.ml.data import TRAIN_SEED_MIN
from veerdesk.ml.metrics import ClassCounts, SegmentationScores, curve_group_counts
from veerdesk.ml.model import CLASS_NAMES, model_classes

DEFAULT_PAGE_SIZE = (2000, 3000)  # width, height: the small end of the generator's page sizes
PageFactory = Callable[..., Any]  # (seed, width=, height=) -> page with image, mask, layout, truth


def _synth_page_factory() -> PageFactory:
    try:
        from veerdesk.synth import generate_page
    except ImportError as exc:
        raise ModelError("the synthetic generator (veerdesk.synth.generate_page) is not available") from exc
    return generate_page


def _simple_tiles(length: int, tile: int, margin: int) -> list[tuple[int, int, int, int]]:
    """(window start, window end, keep start, keep end) along one axis; windows overlap by 2·margin."""
    if length <= tile:
        return [(0, length, 0, length)]
    step = tile - 2 * margin
    out = []
    start = 0
    while True:
        end = min(start + tile, length)
        start = end - tile
        keep0 = 0 if start == 0 else start + margin
        keep1 = length if end == length else end - margin
        out.append((start, end, keep0, keep1))
        if end == length:
            return out
        start += step


@torch.no_grad()
def segment_simple(
    model: torch.nn.Module, pixels: np.ndarray, *, tile: int = 1024, margin: int = 32, bf16: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Plain overlapping-tile segmentation: class map and confidence (max probability × 255)."""
    h, w = pixels.shape
    classes = np.zeros((h, w), np.uint8)
    confidence = np.zeros((h, w), np.uint8)
    for y0, y1, ky0, ky1 in _simple_tiles(h, tile, margin):
        for x0, x1, kx0, kx1 in _simple_tiles(w, tile, margin):
            x = torch.from_numpy(np.ascontiguousarray(pixels[y0:y1, x0:x1])).float().div_(255.0)[None, None]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(x.contiguous(memory_format=torch.channels_last))
            prob, cls = logits.float().softmax(1).max(1)
            classes[ky0:ky1, kx0:kx1] = cls[0, ky0 - y0 : ky1 - y0, kx0 - x0 : kx1 - x0].numpy()
            conf = (prob[0, ky0 - y0 : ky1 - y0, kx0 - x0 : kx1 - x0] * 255).round()
            confidence[ky0:ky1, kx0:kx1] = conf.numpy().astype(np.uint8)
    return classes, confidence


Segmenter = Callable[[torch.nn.Module, np.ndarray], tuple[np.ndarray, np.ndarray]]
# (class_map, confidence, layout, classes=N) -> {mnemonic: trace with .value on layout.depth_grid()}
Tracer = Callable[..., dict[str, Any]]


def _curve_fit(truth: np.ndarray, traced: np.ndarray, log_scale: bool) -> tuple[float, float]:
    """(R², coverage) of a traced curve against truth on the same depth grid."""
    truth = np.asarray(truth, float)
    traced = np.asarray(traced, float)
    if log_scale:
        with np.errstate(divide="ignore", invalid="ignore"):
            truth, traced = np.log10(truth), np.log10(traced)
    present = np.isfinite(truth)
    both = present & np.isfinite(traced)
    coverage = float(both.sum() / present.sum()) if present.any() else float("nan")
    if both.sum() < 3:
        return float("nan"), coverage
    t, p = truth[both], traced[both]
    total = float(((t - t.mean()) ** 2).sum())
    r2 = 1.0 - float(((t - p) ** 2).sum()) / total if total > 0 else float("nan")
    return r2, coverage


# A curve that is not recovered at all (R² undefined) counts in the median as this, i.e. as a failure.
UNRECOVERED_R2 = -1e6


def _median_summary(values: dict[str, list[tuple[float, float]]]) -> dict[str, dict[str, float]]:
    """Per group: median R² over all its curves (unrecovered ones count as failures), median coverage,
    and the shares of curves recovered with R² ≥ 0.9 and ≥ 0.99."""
    out = {}
    for key, pairs in sorted(values.items()):
        r2 = np.array([r if math.isfinite(r) else UNRECOVERED_R2 for r, _ in pairs], dtype=float)
        cov = [c for _, c in pairs if math.isfinite(c)]
        out[key] = {
            "curves": len(pairs),
            "median_r2": float(np.median(r2)) if r2.size else float("nan"),
            "median_coverage": float(np.median(cov)) if cov else float("nan"),
            "share_r2_0.9": float(np.mean(r2 >= 0.9)) if r2.size else float("nan"),
            "share_r2_0.99": float(np.mean(r2 >= 0.99)) if r2.size else float("nan"),
        }
    return out


def _curve_groups(page: Any, curves: list) -> list[tuple[Any, list[str]]]:
    """Each curve with the groups it is reported in: all, its style, its pen width, its weight."""
    looks = page.style.get("curves", []) if isinstance(getattr(page, "style", None), dict) else []
    out = []
    for i, entry in enumerate(curves):
        curve = entry[2]
        names = ["all curves", f"style {curve.style}", f"weight {curve.weight or 'normal'}"]
        if i < len(looks) and "width" in looks[i]:
            width = int(looks[i]["width"])
            names.append(f"width {width} px" if width < 4 else "width 4+ px")
        out.append((entry, names))
    return out


def evaluate_pages(
    model: torch.nn.Module,
    *,
    pages: int = 8,
    seed: int = 0,
    width: int = DEFAULT_PAGE_SIZE[0],
    height: int = DEFAULT_PAGE_SIZE[1],
    page_factory: PageFactory | None = None,
    segmenter: Segmenter | None = None,
    tracer: Tracer | None = None,
    progress: Callable[[int, int], None] | None = None,
    per_page: bool = False,
) -> dict[str, Any]:
    """Run ``model`` (eval mode) over ``pages`` generated pages starting at ``seed``; returns the report.

    ``per_page`` adds ``r2_by_page``: each page's recovered-curve R² (None where a curve was not
    recovered), for a paired comparison of two weights over the same pages (``veerdesk.ml.selection``).

    ``segmenter`` and ``tracer`` are injected by the caller (the CLI passes the inference layer's
    ``segment_page``/``trace_curves``, which ml may not import); without a tracer the curve R² and
    coverage are skipped with a note, without a segmenter :func:`segment_simple` tiles the page.
    """
    if pages < 1:
        # Over no page every score would read as a perfect 1.0.
        raise ModelError(f"evaluation needs at least one page, got {pages}")
    if seed < 0 or seed + pages > TRAIN_SEED_MIN:
        raise ModelError(f"evaluation seeds must lie in 0…{TRAIN_SEED_MIN - 1}; higher seeds are training data")
    factory = page_factory or _synth_page_factory()
    segment = segmenter or segment_simple
    segmenter_name = getattr(segment, "__qualname__", type(segment).__name__)
    # A layout-aware segmenter (the product's, which looks again at tracks that lost their style) gets the
    # page's layout; a plain one just the pixels.
    wants_layout = "layout" in inspect.signature(segment).parameters
    overall = SegmentationScores(CLASS_NAMES)
    n_classes = model_classes(model)
    by_group: dict[str, ClassCounts] = defaultdict(ClassCounts)
    fits_by_group: dict[str, list[tuple[float, float]]] = defaultdict(list)
    r2_by_page: list[list[float | None]] = []
    notes: list[str] = []
    seconds = 0.0
    megapixels = 0.0
    for i in range(pages):
        page = factory(seed + i, width=width, height=height)
        layout_argument = {"layout": page.layout} if wants_layout else {}
        t0 = time.perf_counter()
        full_classes, confidence = segment(model, page.image, **layout_argument)
        seconds += time.perf_counter() - t0
        megapixels += page.image.size / 1e6
        # Pixel scores in the seed's three classes (the truth's scheme); the tracer reads the model's own.
        classes = to_three_classes(full_classes)
        page_scores = SegmentationScores(CLASS_NAMES)
        page_scores.update(classes, page.mask)
        overall.merge(page_scores)
        curves = list(page.layout.curves())
        groups = _curve_groups(page, curves)
        curve_ids = getattr(page, "curve_ids", None)
        if curve_ids is not None and groups:
            classes_and_groups = [(style_class(curve.style), names) for (_, _, curve), names in groups]
            for name, counts in curve_group_counts(classes, page.mask, curve_ids, classes_and_groups).items():
                by_group[name].add(counts)
        if tracer is not None and curves:
            traces = tracer(full_classes, confidence, page.layout, classes=n_classes)
            page_r2 = []
            for (_, track, curve), names in groups:
                truth = page.truth.get(curve.mnemonic)
                if truth is None:
                    continue
                trace = traces.get(curve.mnemonic)
                values = np.full_like(np.asarray(truth, float), np.nan) if trace is None else trace.value
                fit = _curve_fit(truth, values, track.scale == "log")
                page_r2.append(fit[0] if math.isfinite(fit[0]) else None)
                for name in names:
                    fits_by_group[name].append(fit)
            r2_by_page.append(page_r2)
        if progress is not None:
            progress(i + 1, pages)
    if tracer is None:
        notes.append("recovered-curve R²/coverage not computed: no tracer was given (run through `veerdesk eval`)")
    report: dict[str, Any] = {
        "pages": pages,
        "seeds": [seed, seed + pages - 1],
        "page_size": [width, height],
        "segmenter": segmenter_name,
        "segmentation_seconds": round(seconds, 2),
        "megapixels_per_s": round(megapixels / seconds, 2) if seconds else None,
        "pixel": overall.summary(),
        "pixel_by_curve_group": {name: counts.scores() for name, counts in sorted(by_group.items())},
    }
    if tracer is not None:
        report["curves_by_group"] = _median_summary(fits_by_group)
        if per_page:
            report["r2_by_page"] = r2_by_page
    report["notes"] = notes
    return report


def evaluate(
    weights: str | os.PathLike | None = None,
    *,
    pages: int = 8,
    seed: int = 0,
    width: int = DEFAULT_PAGE_SIZE[0],
    height: int = DEFAULT_PAGE_SIZE[1],
    page_factory: PageFactory | None = None,
    segmenter: Segmenter | None = None,
    tracer: Tracer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Load ``weights`` (checked) and evaluate them on held-out generated pages."""
    from veerdesk.ml.weights import default_weights_path, load_model

    path = weights if weights is not None else default_weights_path()
    model, _, card = load_model(path)
    report = evaluate_pages(
        model,
        pages=pages,
        seed=seed,
        width=width,
        height=height,
        page_factory=page_factory,
        segmenter=segmenter,
        tracer=tracer,
        progress=progress,
    )
    report["weights"] = str(path)
    return report


def format_report(report: dict[str, Any]) -> str:
    """A plain-text table of the report for the terminal."""
    lines = [
        f"{report['pages']} held-out pages (seeds {report['seeds'][0]}–{report['seeds'][1]}, "
        f"{report['page_size'][0]}×{report['page_size'][1]} px), {report['megapixels_per_s']} MP/s "
        f"via {report['segmenter']}",
        f"{'class':<34}{'F1':>7}{'IoU':>7}{'tol F1':>8}{'pixels':>10}",
    ]

    def rows(title_prefix: str, table: dict[str, dict[str, float]]) -> Iterator[str]:
        for name, s in table.items():
            yield f"{title_prefix + name:<34}{s['f1']:>7.3f}{s['iou']:>7.3f}{s['tolerant_f1']:>8.3f}{s['pixels']:>10}"

    # Classes in the scheme's order (the card's JSON file keeps its keys sorted).
    order = {name: i for i, name in enumerate(("background", "solid", "non-solid", "dashed", "dotted", "dashdot"))}
    pixel = dict(sorted(report["pixel"].items(), key=lambda item: order.get(item[0], len(order))))
    lines.extend(rows("", pixel))
    if report["pixel_by_curve_group"]:
        lines.append("per curve group (false positives counted only within 2 px of a true curve):")
        lines.extend(rows("  ", report["pixel_by_curve_group"]))
    for name, s in report.get("curves_by_group", {}).items():
        lines.append(
            f"recovered {name:<22} n={s['curves']:<4} median R² {s['median_r2']:.4f} "
            f"coverage {s['median_coverage']:.3f}"
            + (f"  R² ≥ 0.9: {s['share_r2_0.9']:.0%}, ≥ 0.99: {s['share_r2_0.99']:.0%}" if "share_r2_0.9" in s else "")
        )
    lines.extend(f"note: {note}" for note in report.get("notes", []))
    return "\n".join(lines)
