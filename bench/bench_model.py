"""Forward-pass throughput of VeerNet variants on CPU, in megapixels per second.

    python bench/bench_model.py [--size 1024] [--repeat 3] [--variants small-s2,tiny-s2] [--threads 1,2]

Prints one row per (variant, dtype, memory format, threads) with MP/s and the ratio to the fp32
contiguous baseline of the same variant and thread count. Inference only (eval mode, no grad,
BatchNorm folded into the convs as the inference code does). Shipped: "small-s2".
Run it on an otherwise idle machine: with other load, 2 threads can be several times slower than 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veerdesk.ml.model import ModelConfig, build_model, count_parameters, prepare_for_inference

VARIANTS = {
    "tiny-s2": ModelConfig(channels=(8, 16, 24, 32, 48), attention_heads=4),
    "small-s2": ModelConfig(channels=(16, 24, 32, 48, 64)),
    "small-s2-gn": ModelConfig(channels=(16, 24, 32, 48, 64), norm="group"),
    "small-s4": ModelConfig(stem_stride=4, channels=(24, 32, 48, 64, 96)),
    "wide-s2": ModelConfig(channels=(24, 32, 48, 64, 96)),
}


def megapixels_per_second(model, size: int, *, bf16: bool, channels_last: bool, repeat: int) -> float:
    x = torch.rand(1, 1, size, size)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        model(x)  # warm-up: oneDNN picks and caches kernels
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - t0)
    return size * size / 1e6 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--threads", default="1,2")
    args = parser.parse_args()

    print(f"input 1x1x{args.size}x{args.size}, best of {args.repeat}; ratio = MP/s / fp32-contiguous MP/s")
    print(f"{'variant':<13}{'params':>8}{'threads':>8}  {'mode':<18}{'MP/s':>8}{'ratio':>7}")
    for name in args.variants.split(","):
        config = VARIANTS[name]
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            baseline = None
            for bf16 in (False, True):
                for channels_last in (False, True):
                    model = prepare_for_inference(build_model(config), channels_last=channels_last)
                    mps = megapixels_per_second(
                        model, args.size, bf16=bf16, channels_last=channels_last, repeat=args.repeat
                    )
                    baseline = baseline or mps
                    mode = ("bf16" if bf16 else "fp32") + (" channels_last" if channels_last else "")
                    print(
                        f"{name:<13}{count_parameters(model):>8}{threads:>8}  {mode:<18}{mps:>8.2f}"
                        f"{mps / baseline:>7.2f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
