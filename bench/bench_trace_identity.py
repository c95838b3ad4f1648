"""Where recovered-curve accuracy is lost: segmentation, or telling curves apart?

On held-out generated pages, each curve's median R² (log tracks in log10) three ways:

- **tracer**: the real tracer on the model's class map (what `veerdesk digitize` does);
- **identity given**: the model's curve pixels within 3 px of that curve's own ink (the generator's
  curve-id mask), traced alone through the layout. Same model output, but which pixels belong to which
  curve is known, so any gap to the first row is lost to curve identity (and to stray pixels);
- **truth mask**: the real tracer on the generator's three-class truth mask (no model at all);
- **truth, model classes**: the real tracer on a perfect mask in the model's class scheme (each curve's own
  ink, from the curve-id mask, labelled with its style's class): what the tracer loses with a perfect
  segmentation, i.e. its own ceiling;
- **oracle assignment**: the real tracer on the model's class map, but where curves of one class are
  followed together, each piece the tracker follows goes to the curve whose truth it lies on (the
  thickness split is bypassed): how much a perfect piece-to-curve assignment would win.

Grouped by whether the curve is alone in its mask class in its track or shares it with others (in the
three-class scheme for the first three rows; "alone/shares (model)" groups by the model's scheme).

    python bench/bench_trace_identity.py [--seeds 500:516] [--size 2000x3000]
        [--cache /tmp/veerdesk-trace-cache] [--weights W]

Model class maps are cached by seed (see bench_trace_masks.py); use a fresh --cache for other weights.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_trace_masks import model_masks  # noqa: E402

import veerdesk.inference.trace as trace_module  # noqa: E402
from veerdesk.core.classes import style_class  # noqa: E402
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


def truth_in_scheme(page, classes: int) -> np.ndarray:
    """A perfect class map in a ``classes``-class scheme: each curve's own ink labelled with its style's class."""
    out = np.zeros(page.curve_ids.shape, np.uint8)
    for k, (_, _, curve) in enumerate(page.layout.curves(), start=1):
        out[page.curve_ids == k] = style_class(curve.style, classes)
    return out


ORACLE_NEAR_PX = 4.0


@contextlib.contextmanager
def oracle_assignment(page):
    """Inside, the tracer gives each piece of curves followed together to the curve whose truth column
    lies within ORACLE_NEAR_PX of most of its rows (the thickness split bypassed, so every group of
    look-alike curves takes that path). Restores the tracer on exit."""
    grid_rows = page.layout.depth.row_at_depth(page.layout.depth_grid())
    track_of = {}
    truth_at = {}  # mnemonic -> (rows, display columns) where the truth exists, computed once per curve
    for _, track, curve in page.layout.curves():
        column = track.display_columns(page.truth[curve.mnemonic], curve)
        known = np.isfinite(column)
        track_of[curve.mnemonic] = track
        truth_at[curve.mnemonic] = (grid_rows[known], column[known])

    def on_truth(piece, track, curve) -> float:
        truth_rows, truth_columns = truth_at[curve.mnemonic]
        if truth_rows.size < 2:
            return 0.0
        rows = np.asarray(piece.rows, float) + 0.5
        at = np.interp(rows, truth_rows, truth_columns, left=np.nan, right=np.nan)
        centre = 0.5 * (np.asarray(piece.lo) + np.asarray(piece.hi))
        centre = track.x0 + np.mod(centre - track.x0, track.width)  # the display column of an unwrapped one
        with np.errstate(invalid="ignore"):
            return float(np.mean(np.abs(at - centre) < ORACLE_NEAR_PX)) if np.isfinite(at).any() else 0.0

    def assign(pieces, curves, rows, wrap_width=None):
        track = track_of[curves[0].mnemonic]
        out = [[] for _ in curves]
        for piece in pieces:
            out[int(np.argmax([on_truth(piece, track, c) for c in curves]))].append(piece)
        return out

    saved = trace_module.assign_pieces, trace_module.split_by_feature
    trace_module.assign_pieces, trace_module.split_by_feature = assign, lambda *args, **kwargs: None
    try:
        yield
    finally:
        trace_module.assign_pieces, trace_module.split_by_feature = saved


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
        from_scheme = trace_curves(truth_in_scheme(page, scheme), None, page.layout, classes=scheme)
        with oracle_assignment(page):
            by_oracle = trace_curves(classes, confidence, page.layout, classes=scheme)
        for k, (_, track, curve) in enumerate(page.layout.curves(), start=1):
            truth = page.truth[curve.mnemonic]
            group = "alone" if sum(class_of(c) == class_of(curve) for c in track.curves) == 1 else "shares"
            alone_in_scheme = sum(class_of(c, scheme) == class_of(curve, scheme) for c in track.curves) == 1
            for name, value in (("truth, model classes", from_scheme[curve.mnemonic].value),
                                ("oracle assignment", by_oracle[curve.mnemonic].value),
                                ("tracer", traced[curve.mnemonic].value)):
                r2 = curve_r2(track, truth, value)
                r2 = r2 if np.isfinite(r2) else -np.inf
                scores[(name, "alone (model)" if alone_in_scheme else "shares (model)")].append(r2)
                if name != "tracer":  # the tracer's ALL row comes from the loop below
                    scores[(name, "ALL")].append(r2)
            for name, value in (("tracer", traced[curve.mnemonic].value),
                                ("identity given", identity_given(page, classes, confidence, k, track, curve)),
                                ("truth mask", from_truth[curve.mnemonic].value)):
                r2 = curve_r2(track, truth, value)
                scores[(name, group)].append(r2 if np.isfinite(r2) else -np.inf)
                scores[(name, "ALL")].append(r2 if np.isfinite(r2) else -np.inf)
    print(f"pages {s0}..{s1 - 1} ({width}x{height}); median R² and share of curves with R² ≥ 0.9")
    print(f"{'':21s} {'group':14s} {'n':>4s} {'medR2':>8s} {'≥0.9':>6s}")
    for (name, group), values in sorted(scores.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        v = np.array(values)
        print(f"{name:21s} {group:14s} {v.size:4d} {np.median(v):8.4f} {np.mean(v >= 0.9):6.2f}")


if __name__ == "__main__":
    main()
