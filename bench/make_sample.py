"""Regenerate the bundled sample scan (resources/samples/) from the generator, as an archive-style 1-bit G4 TIFF.

The sample is a held-out generator page (seed below the training range) so its truth LAS is known.
Usage: python bench/make_sample.py [--seed 4242]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from veerdesk.core.layout import save_layout
from veerdesk.synth import generate_page, write_page

OUT = Path(__file__).resolve().parents[1] / "resources" / "samples"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--width", type=int, default=2400)
    parser.add_argument("--height", type=int, default=7000)
    args = parser.parse_args()
    page = generate_page(args.seed, width=args.width, height=args.height)
    OUT.mkdir(parents=True, exist_ok=True)
    # Archives are 1-bit: threshold whatever the generator drew (it may already be bilevel).
    bilevel = np.where(page.image < 160, 0, 255).astype(np.uint8)
    Image.fromarray(bilevel).convert("1").save(OUT / "sample-log.tif", compression="group4", dpi=(200, 200))
    save_layout(page.layout, OUT / "sample-log.layout.json")
    write_page(page, OUT / "truth", "sample-log")
    for extra in (OUT / "truth").glob("sample-log.png"):
        extra.unlink()  # the TIFF is the scan; keep only mask, layout and truth LAS beside it
    print(f"wrote {OUT}/sample-log.tif ({page.image.shape[1]} x {page.image.shape[0]}), layout and truth")


if __name__ == "__main__":
    main()
