"""Speed of the synthetic generator: training crops per second and full-page generation time.

Baseline: draw a whole page and cut a random crop from it (what a naive data loader would do).
Chosen path: ``CropStream``, which designs a whole virtual page but renders only the crop's window.
Single process, single thread (OpenCV threads off), so the figure is per core.

    python bench/bench_synth.py [--crops 60] [--crop 512] [--pages 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veerdesk.synth import CropStream, generate_page  # noqa: E402


def crops_per_second(stream, count: int) -> float:
    next(stream)  # warm caches (real curves, fonts)
    start = time.perf_counter()
    for _ in range(count):
        next(stream)
    return count / (time.perf_counter() - start)


class NaiveCrops:
    """Whole page, then a random crop: the baseline."""

    def __init__(self, seed: int, crop: int, size: tuple[int, int]) -> None:
        self.rng = np.random.default_rng(seed)
        self.seed, self.crop, self.size, self.i = seed, crop, size, 0

    def __next__(self):
        page = generate_page(self.seed * 100_000 + self.i, width=self.size[0], height=self.size[1])
        self.i += 1
        h, w = page.image.shape
        y = int(self.rng.integers(0, max(1, h - self.crop)))
        x = int(self.rng.integers(0, max(1, w - self.crop)))
        return page.image[y : y + self.crop, x : x + self.crop], page.mask[y : y + self.crop, x : x + self.crop]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crops", type=int, default=60)
    parser.add_argument("--crop", type=int, default=512)
    parser.add_argument("--pages", type=int, default=3)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)

    rows = []
    naive = crops_per_second(NaiveCrops(1, args.crop, (2500, 3300)), max(3, args.crops // 10))
    rows.append(("naive: 2500x3300 page, then crop", naive))
    chosen = crops_per_second(CropStream(1, args.crop), args.crops)
    rows.append((f"CropStream {args.crop}x{args.crop} (artefacts on)", chosen))
    clean = crops_per_second(CropStream(1, args.crop, clean=True), args.crops)
    rows.append((f"CropStream {args.crop}x{args.crop} clean", clean))
    small = crops_per_second(CropStream(1, 256), args.crops)
    rows.append(("CropStream 256x256 (artefacts on)", small))

    print(f"{'path':44s} {'crops/s':>9s} {'vs naive':>9s}")
    for name, rate in rows:
        print(f"{name:44s} {rate:9.1f} {rate / naive:8.1f}x")

    print()
    print(f"{'full page':24s} {'seconds':>9s} {'MP/s':>7s}")
    for i, (w, h) in enumerate([(2000, 3000), (6000, 8000), (12000, 12000)][: args.pages]):
        start = time.perf_counter()
        page = generate_page(10 + i, width=w, height=h)
        dt = time.perf_counter() - start
        print(f"{f'{w} x {h}':24s} {dt:9.2f} {page.image.size / 1e6 / dt:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
