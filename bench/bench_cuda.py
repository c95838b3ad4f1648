"""The CUDA path of inference, checked against the CPU path in the same run.

For each weights file: segments a 3,000 × 12,000 log-like page (the page of ``bench_inference.py``) on
CUDA in fp16, bf16 and fp32 (the default there), and on the CPU (fp32, all cores) as the baseline;
prints MP/s and how many curve pixels each CUDA path labels like the CPU fp32 path. Then digitizes the
bundled sample on CUDA and on the CPU and compares the traced values.

Needs a CUDA GPU (exits 2 without one). Usage::

    python bench/bench_cuda.py [--weights W ...] [--width 3000] [--height 12000]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def timed_segmentation(pixels: np.ndarray, model, repeats: int, **kwargs):
    """(best seconds, class map) over ``repeats`` runs after one warm-up."""
    import torch

    from veerdesk.inference.segment import run_segmentation

    result = run_segmentation(pixels, model, **kwargs)
    best = float("inf")
    for _ in range(repeats):
        if kwargs.get("device") == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        result = run_segmentation(pixels, model, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return best, np.array(result.class_map)


def curve_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels that either map calls curve on which both give the same class."""
    curve = (a > 0) | (b > 0)
    return float((a[curve] == b[curve]).mean()) if curve.any() else 1.0


def compare_digitize(weights: Path) -> dict:
    from veerdesk.core.layout import load_layout
    from veerdesk.pipeline.digitize import digitize, load_inference_model, run_to_result

    sample = ROOT / "resources" / "samples" / "sample-log.tif"
    layout = load_layout(ROOT / "resources" / "samples" / "sample-log.layout.json")
    traces = {}
    seconds = {}
    for device in ("cpu", "cuda"):
        model, _ = load_inference_model(weights)
        t0 = time.perf_counter()
        result = run_to_result(digitize(sample, layout, device=device, model=model))
        seconds[device] = round(time.perf_counter() - t0, 2)
        traces[device] = result.traces
    rows = {}
    for name, cpu in traces["cpu"].items():
        gpu = traces["cuda"][name]
        both = np.isfinite(cpu.value) & np.isfinite(gpu.value)
        span = float(np.nanmax(cpu.value) - np.nanmin(cpu.value)) if both.any() else 1.0
        diff = np.abs(cpu.value[both] - gpu.value[both]) / max(span, 1e-9)
        rows[name] = {
            "present_cpu": int(np.isfinite(cpu.value).sum()),
            "present_cuda": int(np.isfinite(gpu.value).sum()),
            "median_rel_diff": round(float(np.median(diff)), 5) if diff.size else None,
            "share_within_1pct": round(float((diff <= 0.01).mean()), 4) if diff.size else None,
        }
    return {"seconds": seconds, "curves": rows}


def main(argv: list[str] | None = None) -> int:
    import torch
    from bench_inference import log_page

    from veerdesk.ml.model import prepare_for_inference
    from veerdesk.ml.weights import default_weights_path, load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="*", default=None)
    parser.add_argument("--width", type=int, default=3000)
    parser.add_argument("--height", type=int, default=12000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA GPU here: nothing to measure", file=sys.stderr)
        return 2
    print(f"GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; CPU threads {os.cpu_count()}")
    pixels, _ = log_page(args.width, args.height)
    mp = pixels.size / 1e6
    figures = {}
    for weights in [Path(w) for w in (args.weights or [default_weights_path()])]:
        model, config, _ = load_model(weights, inference=False)
        # Two runs both have a best.safetensors: name weights by their folder too.
        label = f"{weights.parent.name}/{weights.name}"
        print(f"\n{label}: channels {list(config.channels)}, page {args.width} x {args.height} = {mp:.1f} MP")
        fast = prepare_for_inference(copy.deepcopy(model))
        cpu_s, reference = timed_segmentation(
            pixels, fast, max(1, args.repeats - 2), device="cpu", precision="fp32", threads=os.cpu_count()
        )
        rows = {"cpu fp32 (baseline)": {"mp_s": round(mp / cpu_s, 2), "ratio": 1.0, "curve_agreement": 1.0}}
        for precision in ("fp16", "bf16", "fp32"):
            gpu_model = prepare_for_inference(copy.deepcopy(model))
            seconds, classes = timed_segmentation(pixels, gpu_model, args.repeats, device="cuda", precision=precision)
            rows[f"cuda {precision}"] = {
                "mp_s": round(mp / seconds, 2),
                "ratio": round(cpu_s / seconds, 2),
                "curve_agreement": round(curve_agreement(reference, classes), 5),
            }
        for name, row in rows.items():
            print(f"  {name:22s} {row['mp_s']:8.2f} MP/s  {row['ratio']:6.2f}x  curve pixels agree {row['curve_agreement']:.4f}")
        digitized = compare_digitize(weights)
        print(f"  digitize sample: {digitized['seconds']}")
        for name, row in digitized["curves"].items():
            print(f"    {name}: {row}")
        figures[label] = {"segmentation": rows, "digitize_sample": digitized}
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
