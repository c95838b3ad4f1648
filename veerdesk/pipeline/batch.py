"""Many sheets in one run: a folder (one layout for all, or ``stem.layout.json`` beside each image) or a
manifest CSV (``image,layout,output``). Resumable and fault-tolerant.

The status CSV (``image,output,status,message,seconds``, one row per output) is rewritten atomically after every sheet, so a
crash or Ctrl-C leaves it consistent. A re-run skips sheets whose status is ``ok`` and whose LAS still
exists (``force`` redoes them) and records them as ``skipped``. A bad sheet gets an ``error`` row and the
batch moves on.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veerdesk.core.atomic import atomic_write_text, refuse_overwriting_inputs
from veerdesk.core.errors import CancelledError, LayoutError, VeerDeskError
from veerdesk.core.image import IMAGE_SUFFIXES
from veerdesk.core.layout import load_layout

STATUS_FIELDS = ("image", "output", "status", "message", "seconds")


@dataclass(frozen=True)
class Sheet:
    image: Path
    layout: Path | None
    output: Path


@dataclass(frozen=True)
class SheetDone:
    """Progress event: one sheet finished (``status`` ok / error / skipped)."""

    index: int
    total: int
    sheet: Sheet
    status: str
    message: str
    seconds: float


# Masks written by `veerdesk synth` and `digitize --masks` sit beside scans but are not sheets.
DERIVED_IMAGE_SUFFIXES = (".mask.png", ".ids.png", ".classes.png", ".classes-view.png", ".confidence.png")


def sheets_from_folder(folder: Path, out: Path, layout: Path | None) -> list[Sheet]:
    """Every image in ``folder`` (sorted); layout: the shared one, else ``stem.layout.json`` beside it."""
    images = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                    and not p.name.endswith(DERIVED_IMAGE_SUFFIXES))
    sheets = []
    for image in images:
        sheet_layout = layout if layout is not None else image.with_name(image.stem + ".layout.json")
        sheets.append(Sheet(image, sheet_layout, out / (image.stem + ".las")))
    return sheets


def sheets_from_manifest(manifest: Path, layout: Path | None) -> list[Sheet]:
    """Rows of a CSV with columns image, layout (optional when ``layout`` is given), output."""
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise VeerDeskError(f"cannot read the manifest {manifest}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    missing = [f for f in ("image", "output") if f not in fields]
    if missing:
        raise VeerDeskError(f"manifest {manifest} needs columns image,layout,output; missing {', '.join(missing)}")
    base = manifest.parent
    sheets = []
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("image"):
            continue
        layout_cell = row.get("layout", "")
        sheet_layout = base / layout_cell if layout_cell else layout
        if sheet_layout is None:
            raise VeerDeskError(f"manifest {manifest} line {n} has no layout and no --layout was given")
        output = row.get("output") or str(Path(row["image"]).with_suffix(".las"))
        sheets.append(Sheet(base / row["image"], sheet_layout, base / output))
    return sheets


def read_status(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return {row["output"]: row for row in csv.DictReader(fh) if row.get("output")}
    except (OSError, UnicodeDecodeError, csv.Error, KeyError):
        return {}  # an unreadable status file only means nothing is known to be finished


def write_status(path: Path, rows: dict[str, dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=STATUS_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows.values():
        writer.writerow(row)
    atomic_write_text(path, buffer.getvalue(), keep_backup=False)


def is_finished(sheet: Sheet, status: dict[str, dict[str, str]]) -> bool:
    row = status.get(str(sheet.output))
    # "skipped" rows were finished by an earlier run.
    return row is not None and row.get("status") in ("ok", "skipped") and sheet.output.is_file()


def run_sheets(
    sheets: list[Sheet],
    status_path: Path,
    process: Callable[[Sheet], None],
    *,
    force: bool = False,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[SheetDone]:
    """Run ``process`` on each sheet, recording a status row per sheet; yields a :class:`SheetDone` each."""
    status = read_status(status_path)
    for index, sheet in enumerate(sheets, start=1):
        if cancel is not None and cancel():
            raise CancelledError("the batch was cancelled; finished sheets are kept and listed in the status file")
        start = time.perf_counter()
        if not force and is_finished(sheet, status):
            status[str(sheet.output)] = {
                "image": str(sheet.image), "output": str(sheet.output), "status": "skipped",
                "message": "already finished", "seconds": "0.00",
            }
            write_status(status_path, status)
            yield SheetDone(index, len(sheets), sheet, "skipped", "already finished", 0.0)
            continue
        try:
            process(sheet)
            state, message = "ok", ""
        except CancelledError:
            raise
        except VeerDeskError as exc:
            state, message = "error", str(exc)
        except Exception as exc:  # one bad sheet must never stop the batch
            state, message = "error", f"unexpected {type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
        status[str(sheet.output)] = {
            "image": str(sheet.image), "output": str(sheet.output), "status": state,
            "message": " ".join(message.split()), "seconds": f"{seconds:.2f}",
        }
        write_status(status_path, status)
        yield SheetDone(index, len(sheets), sheet, state, message, seconds)


def refuse_overwriting_sheet_inputs(sheet: Sheet) -> None:
    """A manifest row whose output is its own scan or layout fails alone, before the model runs."""
    refuse_overwriting_inputs(sheet.output, {"scan": sheet.image, "layout": sheet.layout}, "LAS output")


def load_sheet_layout(sheet: Sheet, cache: dict[Path, object]):
    if sheet.layout is None:
        raise LayoutError(f"no layout for {sheet.image.name}")
    if sheet.layout not in cache:
        cache[sheet.layout] = load_layout(sheet.layout)
    return cache[sheet.layout]


def default_status_path(source: Path, out: Path | None) -> Path:
    if source.is_dir():
        assert out is not None
        return out / "batch-status.csv"
    return source.with_name(source.stem + ".status.csv")


def ensure_folder(path: Path) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise VeerDeskError(f"cannot create the output folder {path}: {exc.strerror or exc}") from exc


def collect_sheets(args: Any) -> tuple[list[Sheet], Path]:
    """The sheets and status file of a batch, for both engines (local and Ray): from a folder or a manifest CSV."""
    source = Path(args.source)
    shared_layout = Path(args.layout) if args.layout else None
    if source.is_dir():
        if not args.out:
            raise VeerDeskError("batch over a folder needs --out FOLDER for the LAS files")
        out = Path(args.out)
        ensure_folder(out)
        sheets = sheets_from_folder(source, out, shared_layout)
    elif source.is_file():
        out = Path(args.out) if args.out else None
        sheets = sheets_from_manifest(source, shared_layout)
    else:
        raise VeerDeskError(f"batch source not found: {source} (give a folder of images or a manifest CSV)")
    if not sheets:
        raise VeerDeskError(f"no images found in {source}")
    status_path = Path(args.status) if args.status else default_status_path(source, out)
    return sheets, status_path


def report_sheets(events: Iterator[SheetDone], status_path: Path, start: float,
                  before_each: Callable[[SheetDone], None] | None = None) -> int:
    """Print one progress line per finished sheet and a summary on stderr (both batch engines); the exit
    status is 1 when any sheet failed."""
    counts = {"ok": 0, "error": 0, "skipped": 0}
    for done in events:
        if before_each is not None:
            before_each(done)
        counts[done.status] += 1
        detail = f": {done.message}" if done.status == "error" else ""
        print(f"[{done.index}/{done.total}] {done.sheet.image.name} {done.status} ({done.seconds:.1f} s){detail}",
              file=sys.stderr)
    print(
        f"batch finished in {time.perf_counter() - start:.1f} s: {counts['ok']} ok, {counts['error']} failed, "
        f"{counts['skipped']} skipped; status in {status_path}",
        file=sys.stderr,
    )
    return 1 if counts["error"] else 0
