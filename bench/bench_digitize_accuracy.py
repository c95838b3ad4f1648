"""Accuracy of the whole digitize path on held-out generated pages: R² and coverage per curve style.

For each held-out seed a page is generated and written (image, layout, truth), then digitized through the
CLI (``veerdesk digitize``) and the LAS read back with lasio and compared with the truth. A second column
traces the TRUTH mask instead of the model's output: the tracer's own ceiling, available even without
trained weights. Log-scale curves are scored on log10 values.

    python bench/bench_digitize_accuracy.py [--weights W] [--pages 8] [--seed 100000] [--size 1500:2500]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

import lasio
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veerdesk.cli import main as cli_main  # noqa: E402
from veerdesk.core.curves import coverage_of, r_squared  # noqa: E402
from veerdesk.inference.trace import class_of, trace_curves  # noqa: E402
from veerdesk.synth import generate_page  # noqa: E402
from veerdesk.synth.writer import write_page  # noqa: E402


def score(track, truth: np.ndarray, value: np.ndarray) -> tuple[float, float]:
    if track.scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            truth, value = np.log10(truth), np.log10(np.where(value > 0, value, np.nan))
    return r_squared(truth, value), coverage_of(truth, value)


def summarize(rows: list[dict], key: str) -> list[tuple[str, int, float, float]]:
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
        groups["ALL"].append(row)
    out = []
    for name in sorted(groups, key=lambda n: (n == "ALL", n)):
        g = groups[name]
        out.append((name, len(g), float(np.nanmedian([r["r2"] for r in g])), float(np.nanmedian([r["cov"] for r in g]))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--seed", type=int, default=100_000, help="first held-out seed (training uses low seeds)")
    parser.add_argument("--size", default="1500:2500", help="page width and height range MIN:MAX")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--truth-only", action="store_true", help="skip the model; trace the truth masks only")
    args = parser.parse_args()
    lo, hi = (int(v) for v in args.size.split(":"))
    model_rows: list[dict] = []
    truth_rows: list[dict] = []
    use_model = not args.truth_only
    if use_model:
        from veerdesk.ml.weights import default_weights_path

        weights = Path(args.weights) if args.weights else default_weights_path()
        if not weights.is_file():
            print(f"no trained weights at {weights}: scoring the truth-mask tracer only")
            use_model = False
    seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="veerdesk-acc-") as tmp:
        for i in range(args.pages):
            seed = args.seed + i
            page = generate_page(seed, width=(lo, hi), height=(lo, hi))
            stem = f"page{seed}"
            paths = write_page(page, tmp, stem)
            traced = trace_curves(page.mask, None, page.layout)
            las = None
            if use_model:
                out = Path(tmp) / f"{stem}.digitized.las"
                argv = ["digitize", str(paths["image"]), "--layout", str(paths["layout"]), "-o", str(out),
                        "--device", args.device]
                if args.weights:
                    argv += ["--weights", args.weights]
                start = time.perf_counter()
                code = cli_main(argv)
                seconds += time.perf_counter() - start
                if code == 0:
                    las = lasio.read(out)
            for _, track, curve in page.layout.curves():
                truth = page.truth[curve.mnemonic]
                alone = sum(class_of(c) == class_of(curve) for c in track.curves) == 1
                common = {"style": curve.style, "alone": "alone in class" if alone else "shares class", "seed": seed}
                r2, cov = score(track, truth, traced[curve.mnemonic].value)
                truth_rows.append({**common, "r2": r2, "cov": cov})
                if use_model:
                    value = np.asarray(las[curve.mnemonic]) if las is not None else np.full(truth.shape, np.nan)
                    r2, cov = score(track, truth, value)
                    model_rows.append({**common, "r2": r2, "cov": cov})
    print(f"{args.pages} held-out pages (seeds {args.seed}..{args.seed + args.pages - 1}), sizes {lo}-{hi} px")
    for key in ("style", "alone"):
        print(f"\n{'by ' + key:22s} {'curves':>6s} {'R2 truth-mask':>14s} {'cov':>6s}" +
              (f" {'R2 model':>9s} {'cov':>6s}" if use_model else ""))
        truth_table = summarize(truth_rows, key)
        model_table = dict((n, (c, r, v)) for n, c, r, v in summarize(model_rows, key)) if use_model else {}
        for name, count, r2, cov in truth_table:
            line = f"{name:22s} {count:6d} {r2:14.4f} {cov:6.3f}"
            if use_model and name in model_table:
                _, mr2, mcov = model_table[name]
                line += f" {mr2:9.4f} {mcov:6.3f}"
            print(line)
    if use_model:
        print(f"\nCLI time: {seconds:.1f} s for {args.pages} pages")


if __name__ == "__main__":
    main()
