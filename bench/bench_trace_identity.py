"""Where recovered-curve accuracy is lost: segmentation, or telling curves apart?

On held-out generated pages, each curve's median R² (log tracks in log10) three ways:

- **tracer**: the real tracer on the model's class map (what `veerdesk digitize` does);
- **identity given**: the model's curve pixels within 3 px of that curve's own ink (the generator's
  curve-id mask), traced alone through the layout. Same model output, but which pixels belong to which
  curve is known, so any gap to the first row is lost to curve identity (and to stray pixels);
- **truth mask**: the real tracer on the generator's three-class truth mask (no model at all).

Grouped by whether the curve is alone in its mask class in its track or shares it with others.

    python bench/bench_trace_identity.py [--seeds 500:516] [--size 2000x3000]
        [--cache /tmp/veerdesk-trace-cache] [--weights W]

Model class maps are cached by seed (see bench_trace_masks.py); use a fresh --cache for other weights.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_trace_masks import model_masks  # noqa: E402

from veerdesk.core.curves import r_squared  # noqa: E402
from veerdesk.inference.trace import class_of, trace_curves  # noqa: E402
from veerdesk.synth import generate_page  # noqa: E402

NEAR_PX = 3


def curve_r2(track, truth: np.ndarray, value: np.ndarray) -> float:
    if track.scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            truth, value = np.log10(truth), np.log10(np.where(value > 0, value, np.nan))
    return r_squared(truth, value)


def identity_given(page, classes: np.ndarray, confidence: np.ndarray, k: int, track, curve) -> np.ndarray:
    """Trace of one curve from the model pixels near its own ink, with a layout holding only that curve."""
    kernel = np.ones((2 * NEAR_PX + 1, 2 * NEAR_PX + 1), np.uint8)
    near = cv2.dilate((page.curve_ids == k).astype(np.uint8), kernel) > 0
    own = np.where(near & (classes > 0), class_of(curve), 0).astype(np.uint8)
    tracks = tuple(dataclasses.replace(t, curves=(curve,) if t is track else ()) for t in page.layout.tracks)
    alone = dataclasses.replace(page.layout, tracks=tracks)
    return trace_curves(own, confidence, alone)[curve.mnemonic].value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="500:516")
    parser.add_argument("--size", default="2000x3000")
    parser.add_argument("--cache", default="/tmp/veerdesk-trace-cache")
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()
    s0, s1 = (int(v) for v in args.seeds.split(":"))
    width, height = (int(v) for v in args.size.split("x"))
    scores: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    for seed in range(s0, s1):
        page = generate_page(seed, width=width, height=height)
        classes, confidence, scheme = model_masks(page, seed, Path(args.cache), args.weights)
        traced = trace_curves(classes, confidence, page.layout, classes=scheme)
        from_truth = trace_curves(page.mask, None, page.layout)
        for k, (_, track, curve) in enumerate(page.layout.curves(), start=1):
            truth = page.truth[curve.mnemonic]
            group = "alone" if sum(class_of(c) == class_of(curve) for c in track.curves) == 1 else "shares"
            for name, value in (("tracer", traced[curve.mnemonic].value),
                                ("identity given", identity_given(page, classes, confidence, k, track, curve)),
                                ("truth mask", from_truth[curve.mnemonic].value)):
                r2 = curve_r2(track, truth, value)
                scores[(name, group)].append(r2 if np.isfinite(r2) else -np.inf)
                scores[(name, "ALL")].append(r2 if np.isfinite(r2) else -np.inf)
    print(f"pages {s0}..{s1 - 1} ({width}x{height}); median R² and share of curves with R² ≥ 0.9")
    print(f"{'':16s} {'group':7s} {'n':>4s} {'medR2':>8s} {'≥0.9':>6s}")
    for (name, group), values in sorted(scores.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        v = np.array(values)
        print(f"{name:16s} {group:7s} {v.size:4d} {np.median(v):8.4f} {np.mean(v >= 0.9):6.2f}")


if __name__ == "__main__":
    main()
