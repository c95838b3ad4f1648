"""``veerdesk synth``: write synthetic pages (or training crops) and, optionally, a contact sheet."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2

from veerdesk.core.atomic import atomic_output
from veerdesk.core.errors import ExportError, VeerDeskError
from veerdesk.synth.contact_sheet import assemble, cell, crop_cell, write_sheet
from veerdesk.synth.crops import CropStream
from veerdesk.synth.page import generate_page
from veerdesk.synth.writer import write_page

MAX_SHEET_CELLS = 12
MAX_SIDE = 100_000


def parse_range(text: str | None, name: str) -> tuple[int, int] | None:
    """'A:B' (or a single number) → (A, B) in pixels; None stays None (the default range)."""
    if text is None:
        return None
    parts = str(text).split(":")
    try:
        numbers = [int(float(p)) for p in parts]
    except ValueError:
        raise VeerDeskError(f"--{name} must be MIN:MAX in pixels (e.g. 2000:6000), got '{text}'") from None
    if len(numbers) == 1:
        numbers = numbers * 2
    if len(numbers) != 2 or not (64 <= numbers[0] <= numbers[1] <= MAX_SIDE):
        raise VeerDeskError(f"--{name} must be MIN:MAX with 64 <= MIN <= MAX <= {MAX_SIDE}, got '{text}'")
    return numbers[0], numbers[1]


def run_synth(args: argparse.Namespace) -> int:
    count = int(args.count)
    if count < 1:
        raise VeerDeskError(f"--count must be at least 1, got {count}")
    width = parse_range(getattr(args, "width", None), "width")
    height = parse_range(getattr(args, "height", None), "height")
    crop = getattr(args, "crop", None)
    sheet_path = getattr(args, "contact_sheet", None)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create output folder {out}: {exc.strerror or exc}") from exc
    seed = int(args.seed)
    cells = []
    started = time.perf_counter()
    if crop is not None:
        if not 16 <= int(crop) <= 8192:
            raise VeerDeskError(f"--crop must be between 16 and 8192 pixels, got {crop}")
        stream = CropStream(seed, int(crop), width=width, height=height)
        for i in range(count):
            image, mask = next(stream)
            stem = f"crop_{seed}_{i:06d}"
            for suffix, array in ((".png", image), (".mask.png", mask)):
                ok, buf = cv2.imencode(".png", array)
                with atomic_output(out / f"{stem}{suffix}", suffix=".png") as tmp:
                    tmp.write_bytes(buf.tobytes())
            if len(cells) < MAX_SHEET_CELLS:
                cells.append(crop_cell(image, mask, 256))
            _progress(i + 1, count, started)
    else:
        for i in range(count):
            page_seed = seed + i
            page = generate_page(page_seed, width=width, height=height)
            write_page(page, out, f"page_{page_seed:06d}")
            if sheet_path and len(cells) < MAX_SHEET_CELLS:
                cells.append(cell(page))
            _progress(i + 1, count, started)
    if sheet_path and cells:
        write_sheet(assemble(cells, columns=3 if crop else 2), sheet_path)
        print(f"contact sheet: {sheet_path}", file=sys.stderr)
    return 0


def _progress(done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    print(f"\rsynth {done}/{total}  {elapsed:.1f} s", end="\n" if done == total else "", file=sys.stderr, flush=True)
