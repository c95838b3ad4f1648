"""Open a 2,400 x 250,000 px 1-bit CCITT G4 TIFF (an archive-sized scan): time and peak memory.

Each loader runs in a fresh subprocess so its peak RSS is its own. Baseline: the naive
`np.array(Image.open(p).convert("L"))`. Usage: python bench/bench_image_load.py [--height 250000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

MAKE = r"""
import sys, numpy as np
from PIL import Image
w, h, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
page = np.full((h, w), 255, np.uint8)
page[:, ::120] = 0                      # vertical grid
page[::50, :] = 0                       # horizontal grid
rows = np.arange(h)
for k in range(4):                      # four wiggly curves
    x = (w * (0.2 + 0.2 * k) + 150 * np.sin(rows / (300 + 70 * k))).astype(int)
    for dx in range(2):
        page[rows, np.clip(x + dx, 0, w - 1)] = 0
Image.fromarray(page).convert("1").save(path, compression="group4", dpi=(200, 200))
"""

MEASURE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
if sys.argv[2] == "veerdesk":
    from veerdesk.core.image import load_page
    px = load_page(sys.argv[1]).pixels
else:
    import numpy as np
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None
    px = np.array(Image.open(sys.argv[1]).convert("L"))
dt = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
print(json.dumps({"seconds": dt, "peak_gib": rss, "shape": list(px.shape), "ink": float((px < 128).mean())}))
"""


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=2400)
    parser.add_argument("--height", type=int, default=250_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "archive.tif")
        subprocess.run([sys.executable, "-c", MAKE, str(args.width), str(args.height), path], check=True)
        size_mb = Path(path).stat().st_size / 1e6
        base = run(MEASURE, path, "naive")
        ours = run(MEASURE, path, "veerdesk")
    print(f"{args.width} x {args.height} px 1-bit G4 TIFF, {size_mb:.1f} MB on disk")
    print(f"{'loader':<22}{'seconds':>10}{'peak GiB':>10}")
    for name, r in (("naive PIL convert(L)", base), ("veerdesk load_page", ours)):
        print(f"{name:<22}{r['seconds']:>10.2f}{r['peak_gib']:>10.2f}")
    print(f"ratio (naive / ours): time {base['seconds'] / ours['seconds']:.2f}x, "
          f"memory {base['peak_gib'] / ours['peak_gib']:.2f}x")
    print(f"targets: < 5 s -> {'met' if ours['seconds'] < 5 else 'MISSED'}, "
          f"< 1.5 GiB -> {'met' if ours['peak_gib'] < 1.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
