"""Tiled-inference speed against torch's thread settings, on an idle machine and with one core taken.

VeerDesk sets ``OMP_WAIT_POLICY=PASSIVE`` before torch loads (``veerdesk/__init__.py``): by default
torch's OpenMP threads spin while waiting, and when another process holds a core the spinning threads
starve the one doing the work. This measures that choice against the default (spinning, ``ACTIVE``),
for 1 and 2 threads, (a) as the machine is and (b) with a busy-loop process holding one core, each
setting in a fresh subprocess (the policy is read once, when the OpenMP runtime loads).

    python bench/bench_threads.py [--weights W] [--rows 3000] [--repeats 2]

Prints MP/s per setting (median of the repeats; each run includes one warm-up tile) and the ratio to
the default policy with the same threads and load. The load average is printed with each block.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, {root!r})
import torch
torch.set_num_threads({threads})
from veerdesk.core.image import load_page
from veerdesk.inference.segment import run_segmentation
from veerdesk.pipeline.digitize import load_inference_model
pixels = np.asarray(load_page({image!r}).pixels)[:{rows}]
model = load_inference_model({weights!r}, "cpu")[0]
run_segmentation(pixels[:768], model, device="cpu")  # warm-up: first-call kernel selection
start = time.perf_counter()
run_segmentation(pixels, model, device="cpu")
print(json.dumps({{"mp_s": pixels.size / (time.perf_counter() - start) / 1e6}}))
"""


def run_once(policy: str, threads: int, args: argparse.Namespace) -> float:
    env = dict(os.environ, OMP_WAIT_POLICY=policy)
    code = CHILD.format(root=str(ROOT), threads=threads, image=str(args.image), rows=args.rows,
                        weights=args.weights)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["mp_s"])


def block(title: str, args: argparse.Namespace) -> None:
    print(f"\n{title} (load average {os.getloadavg()[0]:.1f})")
    print(f"{'policy':8s} {'threads':>7s} {'MP/s':>7s} {'vs ACTIVE':>9s}")
    for threads in (1, 2):
        speeds = {}
        for policy in ("ACTIVE", "PASSIVE"):
            speeds[policy] = statistics.median(run_once(policy, threads, args) for _ in range(args.repeats))
        for policy, mp_s in speeds.items():
            print(f"{policy:8s} {threads:7d} {mp_s:7.2f} {mp_s / speeds['ACTIVE']:8.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None, help="default: the shipped weights")
    parser.add_argument("--image", type=Path, default=ROOT / "resources" / "samples" / "sample-log.tif")
    parser.add_argument("--rows", type=int, default=3000, help="rows of the image to segment")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    block("as the machine is", args)
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1.0)
        block("one core held by a busy loop", args)
    finally:
        hog.kill()
        hog.wait()


if __name__ == "__main__":
    main()
