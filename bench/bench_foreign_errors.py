"""Where the recovered-curve error on bench_foreign_style.py's pages comes from.

For every curve below R² 0.99 (through the product's digitize path), each depth sample whose trace lies more
than 2 px from the truth is put in one of six kinds, by what the segmentation holds within 2 px of the truth
and of the trace in that sample's row:

- ``both on own ink``: the curve's own class at both places: a row crossed by a near-horizontal stroke, or
  holding both legs of a sharp excursion; where in the row the sample belongs is the tracer's call;
- ``trace on own ink, truth on other class`` / ``trace on own ink, truth unlabelled``: the trace follows
  the curve's class elsewhere while the true stroke was labelled with another class, or not at all;
- ``bridged past own ink``: no own-class ink under the trace (a bridged gap) although the truth has some:
  the tracer dropped or never linked it;
- ``bridged, truth on other class`` / ``bridged, truth unlabelled``: a gap over ink the model called
  another class, or missed.

Prints each kind's share of those curves' squared error, overall and per house style. Model-side kinds are
the "other class" and "unlabelled" ones; tracer-side ones the first and "bridged past own ink".

    python bench/bench_foreign_errors.py [--pages 60] [--seed 0] [--weights W]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_foreign_style import foreign_pages, score  # noqa: E402

from veerdesk.inference.trace import curve_pixel_classes  # noqa: E402
from veerdesk.pipeline.digitize import digitize, load_inference_model, run_to_result  # noqa: E402

NEAR_PX = 2
KINDS = ("both on own ink", "trace on own ink, truth on other class", "trace on own ink, truth unlabelled",
         "bridged past own ink", "bridged, truth on other class", "bridged, truth unlabelled")
SHORT = ("own/own", "own/other", "own/none", "gap/own", "gap/other", "gap/none")


def sample_kind(row: np.ndarray, own: tuple[int, ...], truth_x: float, trace_x: float) -> str:
    """Which of :data:`KINDS` one off sample is, from the class map's ``row``."""
    def near(x: float) -> np.ndarray:
        return row[max(0, int(x) - NEAR_PX): max(0, int(x) + NEAR_PX + 1)]

    at_truth, at_trace = near(truth_x), near(trace_x)
    truth_own = bool(np.isin(at_truth, own).any())
    truth_other = bool(((at_truth > 0) & ~np.isin(at_truth, own)).any())
    if np.isin(at_trace, own).any():
        if truth_own:
            return KINDS[0]
        return KINDS[1] if truth_other else KINDS[2]
    if truth_own:
        return KINDS[3]
    return KINDS[4] if truth_other else KINDS[5]


def error_sources(class_map: np.ndarray, layout, truth: dict[str, np.ndarray], traces) -> list[Counter]:
    """Per curve below R² 0.99: each kind's share of the curve's squared column error."""
    rows = np.clip(layout.depth.row_at_depth(layout.depth_grid()).astype(int), 0, class_map.shape[0] - 1)
    out = []
    for (_, r2, _), (_, track, curve) in zip(score(layout, truth, traces), layout.curves(), strict=True):
        if r2 >= 0.99:
            continue
        own = curve_pixel_classes(track, 5)[curve.mnemonic]
        truth_x = track.display_columns(truth[curve.mnemonic], curve)
        trace_x = track.display_columns(traces[curve.mnemonic].value, curve)
        both = np.isfinite(truth_x) & np.isfinite(trace_x)
        error = np.where(both, (np.nan_to_num(trace_x) - np.nan_to_num(truth_x)) ** 2, 0.0)
        total = error.sum()
        if total <= 0:
            continue
        shares: Counter = Counter()
        for j in np.flatnonzero(error > NEAR_PX**2):
            shares[sample_kind(class_map[rows[j]], own, truth_x[j], trace_x[j])] += error[j] / total
        out.append(shares)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", default=str(ROOT / "resources/models/veernet-small.safetensors"))
    args = parser.parse_args()
    model, _ = load_inference_model(args.weights)
    by_house: dict[str, list[Counter]] = defaultdict(list)
    curves = 0
    for house, pixels, layout, truth in foreign_pages(args.seed, args.pages):
        result = run_to_result(digitize(pixels, layout, device="cpu", model=model))
        class_map = np.asarray(result.segmentation.class_map)
        by_house[house] += error_sources(class_map, layout, truth, result.traces)
        curves += len(truth)
    everything = [c for group in by_house.values() for c in group]
    print(f"{args.pages} pages from seed {args.seed}, {curves} curves, {len(everything)} below R² 0.99 ({args.weights})")

    def line(name: str, group: list[Counter]) -> str:
        total = sum(group, Counter())
        n = max(len(group), 1)
        return f"  {name:16s} {len(group):4d}  " + "  ".join(f"{total[k] / n:9.0%}" for k in KINDS)

    print("  share of squared error, mean over curves; under the trace / at the truth:")
    print(f"  {'':16s} {'n':>4s}  " + "  ".join(f"{h:>9s}" for h in SHORT))
    print(line("all", everything))
    for house, group in sorted(by_house.items()):
        print(line(house, group))


if __name__ == "__main__":
    main()
