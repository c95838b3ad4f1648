"""Tracer-only accuracy on held-out generated pages, with the model's class maps cached.

The model runs ONCE per page (cached as .npz under --cache); later runs only trace, so a change to the
tracer is measured in seconds. Per curve: R² (log tracks in log10), coverage, and the fraction of samples
more than 4 px off (measured in main-scale track columns, so it overstates curves with a backup scale). Also traces the truth mask for the tracer's own ceiling.

    python bench/bench_trace_masks.py [--seeds 500:504] [--size 2000x3000] [--cache /tmp/veerdesk-trace-cache]
        [--weights W] [--truth] [--verbose] [--without-despike]

The cache is keyed by seed only: use a fresh --cache folder for other weights or page sizes.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import veerdesk.inference.trace as trace_module  # noqa: E402
from veerdesk.core.curves import coverage_of, r_squared  # noqa: E402
from veerdesk.inference.trace import class_of, trace_curves  # noqa: E402
from veerdesk.synth import generate_page  # noqa: E402

_MODELS: dict = {}


def model_masks(page, seed: int, cache: Path, weights: str | None) -> tuple[np.ndarray, np.ndarray, int]:
    """(class map, confidence, the model's class count), cached by seed."""
    path = cache / f"page{seed}.npz"
    if path.is_file():
        data = np.load(path)
        scheme = int(data["scheme"]) if "scheme" in data.files else 3
        return data["classes"], data["confidence"], scheme
    import torch

    from veerdesk.inference.segment import run_segmentation
    from veerdesk.pipeline.digitize import load_inference_model

    torch.set_num_threads(2)
    if weights not in _MODELS:
        _MODELS[weights] = load_inference_model(weights, "cpu")[0]
    model = _MODELS[weights]
    result = run_segmentation(page.image, model, device="cpu")
    classes, confidence = np.asarray(result.class_map), np.asarray(result.confidence)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, classes=classes, confidence=confidence, scheme=result.classes)
    return classes, confidence, result.classes


def column_error(track, curve, truth: np.ndarray, value: np.ndarray) -> np.ndarray:
    """|column(value) − column(truth)| per sample; NaN where either is missing."""
    with np.errstate(all="ignore"):
        return np.abs(track.column_at_value(value, curve.scale) - track.column_at_value(truth, curve.scale))


def score(track, curve, truth: np.ndarray, value: np.ndarray) -> dict:
    if track.scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            lt, lv = np.log10(truth), np.log10(np.where(value > 0, value, np.nan))
    else:
        lt, lv = truth, value
    out = {"r2": r_squared(lt, lv), "cov": coverage_of(lt, lv)}
    try:
        err = column_error(track, curve, truth, value)
        both = np.isfinite(err)
        out["bad"] = float(np.mean(err[both] > 4)) if both.any() else float("nan")
    except Exception:  # noqa: BLE001 - a backup-scale curve has no single column mapping
        out["bad"] = float("nan")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="500:504")
    parser.add_argument("--size", default="2000x3000")
    parser.add_argument("--cache", default="/tmp/veerdesk-trace-cache")
    parser.add_argument("--weights", default=None)
    parser.add_argument("--truth", action="store_true", help="also trace the truth masks")
    parser.add_argument("--verbose", action="store_true", help="one line per curve")
    parser.add_argument("--without-despike", action="store_true",
                        help="turn mis-link removal off (the tracer before it existed), for before/after figures")
    args = parser.parse_args()
    if args.without_despike:
        trace_module.despike = lambda *_args, **_kwargs: 0
    s0, s1 = (int(v) for v in args.seeds.split(":"))
    width, height = (int(v) for v in args.size.split("x"))
    cache = Path(args.cache)
    rows: list[dict] = []
    trace_s = 0.0
    for seed in range(s0, s1):
        page = generate_page(seed, width=width, height=height)
        classes, confidence, scheme = model_masks(page, seed, cache, args.weights)
        t = time.perf_counter()
        traced = trace_curves(classes, confidence, page.layout, classes=scheme)
        trace_s += time.perf_counter() - t
        truth_traced = trace_curves(page.mask, None, page.layout) if args.truth else None
        for _, track, curve in page.layout.curves():
            truth = page.truth[curve.mnemonic]
            same = sum(class_of(c) == class_of(curve) for c in track.curves)
            row = {"seed": seed, "name": curve.mnemonic, "style": curve.style, "weight": curve.weight,
                   "scale": track.scale, "group": "alone" if same == 1 else f"shares({same})",
                   **score(track, curve, truth, traced[curve.mnemonic].value)}
            if truth_traced is not None:
                row["truth_r2"] = score(track, curve, truth, truth_traced[curve.mnemonic].value)["r2"]
            rows.append(row)
            if args.verbose:
                print(f"{seed} {curve.mnemonic:6s} {curve.style:8s} {str(curve.weight):6s} {track.scale:4s} "
                      f"{row['group']:10s} R2 {row['r2']:8.4f} cov {row['cov']:.3f} >4px {row['bad']:.3f}")
    print(f"pages {s0}..{s1 - 1} ({width}x{height}), {len(rows)} curves, trace {trace_s:.1f} s")
    for key in ("style", "group", "scale"):
        groups = collections.defaultdict(list)
        for r in rows:
            groups[r[key]].append(r)
            groups["ALL"].append(r) if key == "style" else None
        print(f"\n{'by ' + key:14s} {'n':>3s} {'medR2':>8s} {'meanR2':>8s} {'cov':>6s} {'>4px':>6s}"
              + (f" {'truthR2':>8s}" if args.truth else ""))
        for name in sorted(groups, key=lambda n: (n == "ALL", str(n))):
            g = groups[name]
            r2 = np.array([r["r2"] for r in g])
            line = (f"{str(name):14s} {len(g):3d} {np.nanmedian(r2):8.4f} {np.nanmean(np.maximum(r2, -1)):8.4f} "
                    f"{np.nanmedian([r['cov'] for r in g]):6.3f} {np.nanmean([r['bad'] for r in g]):6.3f}")
            if args.truth:
                line += f" {np.nanmedian([r['truth_r2'] for r in g]):8.4f}"
            print(line)


if __name__ == "__main__":
    main()
