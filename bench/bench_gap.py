"""Validation of the reality-gap meter (veerdesk.ml.gap) with trained weights.

1. A reference is built on generated pages (seeds from 700000).
2. Held-out generated pages (seeds from 0) are scored as they are and in deliberately unusual styles
   (inverted, blurred, noisy, JPEG-crushed, thickened, half resolution, random thick strokes).
3. Every page whose truth is known is digitized (segment_page + trace_curves) and its tracing error
   measured: median over curves of the mean column error as a share of the track width (missed = 0.5).
4. Prints the scores per style, the ordering check (generated vs unusual) and Spearman's rank correlation
   between the gap score and the tracing error.

    python bench/bench_gap.py [--weights W] [--ref-pages 12] [--pages 6] [--size 1000x1400] [--save]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veerdesk.inference.segment import run_segmentation  # noqa: E402
from veerdesk.inference.trace import trace_curves  # noqa: E402
from veerdesk.ml.gap import build_reference, gap_score, save_reference  # noqa: E402
from veerdesk.ml.weights import default_weights_path, load_model, read_card  # noqa: E402
from veerdesk.synth import generate_page  # noqa: E402


def style(image: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray | None:
    if kind == "generated":
        return image
    if kind == "blur 2":
        return cv2.GaussianBlur(image, (0, 0), 2)
    if kind == "blur 4":
        return cv2.GaussianBlur(image, (0, 0), 4)
    if kind == "noise 40":
        return np.clip(image + rng.normal(0, 40, image.shape), 0, 255).astype(np.uint8)
    if kind == "noise 100":
        return np.clip(image + rng.normal(0, 100, image.shape), 0, 255).astype(np.uint8)
    if kind == "jpeg q5":
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 5])
        return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if kind == "thickened":
        return cv2.erode(image, np.ones((4, 4), np.uint8))
    if kind == "half res":
        small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
        return cv2.resize(small, image.shape[::-1], interpolation=cv2.INTER_NEAREST)
    if kind == "inverted":
        return 255 - image
    if kind == "odd strokes":  # no truth: thick random zig-zags over the page
        out = image.copy()
        for _ in range(60):
            pts = rng.integers(0, max(image.shape), size=(6, 1, 2)).astype(np.int32)
            cv2.polylines(out, [pts], False, int(rng.integers(0, 120)), int(rng.integers(3, 14)))
        return out
    raise ValueError(kind)


STYLES = ["generated", "blur 2", "blur 4", "noise 40", "noise 100", "jpeg q5", "thickened", "half res",
          "inverted", "odd strokes"]
NO_TRUTH = {"odd strokes"}


def tracing_error(model, image: np.ndarray, page) -> float:
    """Median over curves of the mean column error as a share of the track width (a missed sample
    counts 0.5, any sample at most 1): continuous, so weak and strong runs are both ranked."""
    seg = run_segmentation(image, model, device="cpu")
    traces = trace_curves(seg.class_map, seg.confidence, page.layout, classes=seg.classes)
    errors = []
    for _, track, curve in page.layout.curves():
        truth = page.truth.get(curve.mnemonic)
        if truth is None or not np.isfinite(truth).any():
            continue
        value = traces[curve.mnemonic].value if curve.mnemonic in traces else np.full(truth.shape, np.nan)
        present = np.isfinite(truth)
        x_true = track.column_at_value(truth[present], curve.scale)
        x_traced = track.column_at_value(value[present], curve.scale)
        share = np.minimum(1.0, np.abs(x_traced - x_true) / abs(track.width))
        errors.append(float(np.where(np.isfinite(share), share, 0.5).mean()))
    return float(np.median(errors)) if errors else float("nan")


def spearman(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")

    def ranks(x):
        order = np.argsort(x, kind="stable")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        for value in np.unique(x):  # average ranks of ties (many scores are exactly 0)
            tie = x == value
            r[tie] = r[tie].mean()
        return r

    ra, rb = ranks(a[ok]), ranks(b[ok])
    return float(np.corrcoef(ra, rb)[0, 1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--ref-pages", type=int, default=12)
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", default="1000x1400", help="page size WxH of every page used")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--save", action="store_true", help="store the reference beside the weights")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    weights = Path(args.weights) if args.weights else default_weights_path()
    width, height = (int(v) for v in args.size.lower().split("x"))
    model, _, _ = load_model(weights)
    print(f"weights {weights} (SHA-256 {read_card(weights)['sha256'][:12]}…), pages {width}×{height}, "
          f"torch threads {torch.get_num_threads()}")

    t0 = time.perf_counter()
    reference = build_reference(model, pages=args.ref_pages, size=(width, height),
                                weights_sha256=read_card(weights)["sha256"])
    print(f"reference: {args.ref_pages} generated pages in {time.perf_counter() - t0:.1f} s; calibration score "
          f"median {reference.score_q50:.3f}, 95th percentile {reference.score_q95:.3f}")
    if args.save:
        print("saved", *save_reference(reference, weights))

    rng = np.random.default_rng(1)
    rows = []
    for i in range(args.pages):
        page = generate_page(args.seed + i, width=width, height=height)
        for kind in STYLES:
            image = style(page.image, kind, rng)
            t = time.perf_counter()
            gap = gap_score(image, model, reference)
            gap_s = time.perf_counter() - t
            error = float("nan") if kind in NO_TRUTH else tracing_error(model, image, page)
            rows.append({"seed": args.seed + i, "style": kind, "score": gap["score"], "level": gap["level"],
                         "feature": gap["feature_ratio"], "pixel": gap["pixel_ratio"],
                         "entropy": gap["entropy_ratio"], "error": error, "gap_s": gap_s})
            print(f"  seed {args.seed + i:3d} {kind:<12} gap {gap['score']:6.2f} ({gap['level']:<6}) "
                  f"feat {gap['feature_ratio']:7.2f} pix {gap['pixel_ratio']:7.2f} ent {gap['entropy_ratio']:5.2f}"
                  f"  tracing error {error:5.3f}  ({gap_s:.2f} s)", flush=True)

    print()
    print(f"{'style':<12}{'pages':>6}{'mean gap':>10}{'min gap':>9}{'high/med':>10}{'mean error':>12}")
    generated_max = max(r["score"] for r in rows if r["style"] == "generated")
    for kind in STYLES:
        group = [r for r in rows if r["style"] == kind]
        scores = [r["score"] for r in group]
        flagged = sum(r["level"] != "low" for r in group)
        errors = [r["error"] for r in group if np.isfinite(r["error"])]
        mean_error = f"{np.mean(errors):12.3f}" if errors else f"{'–':>12}"
        print(f"{kind:<12}{len(group):>6}{np.mean(scores):>10.2f}{min(scores):>9.2f}{flagged:>7}/{len(group):<2}"
              f"{mean_error}")
    unusual = [r for r in rows if r["style"] != "generated"]
    above = sum(r["score"] > generated_max for r in unusual)
    print(f"\nunusual pages scoring above every generated page: {above}/{len(unusual)}")
    with_truth = [r for r in rows if np.isfinite(r["error"])]
    rho = spearman([r["score"] for r in with_truth], [r["error"] for r in with_truth])
    print(f"Spearman(gap score, tracing error) over {len(with_truth)} pages with truth: {rho:.3f}")
    mild = [r for r in with_truth if r["style"] != "inverted"]
    print(f"  without the inverted pages ({len(mild)}): "
          f"{spearman([r['score'] for r in mild], [r['error'] for r in mild]):.3f}")
    print(f"mean gap_score time per page: {np.mean([r['gap_s'] for r in rows]):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
