"""Writing a digitize result: LAS, masks and report, atomically and all or none."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from veerdesk.core.atomic import atomic_write_many
from veerdesk.core.classes import to_three_classes
from veerdesk.core.errors import ExportError
from veerdesk.export.las import las_text
from veerdesk.pipeline.digitize import DigitizeResult

# Class map written for people: background white, solid black, non-solid mid grey.
CLASS_GREYS = np.array([255, 0, 128], dtype=np.uint8)


def check_output_folder(path: str | os.PathLike, what: str) -> None:
    """Fail before the long work when an output cannot be written at all."""
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir():
        raise ExportError(f"the folder for the {what} does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"the folder for the {what} is not writable: {folder}")


def png_bytes(name: str, array: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", np.asarray(array))
    if not ok:
        raise ExportError(f"cannot encode {name} as PNG")
    return encoded.tobytes()


def mask_files(folder: str | os.PathLike, stem: str, result: DigitizeResult) -> dict[Path, bytes]:
    """``stem.classes.png`` (class ids as stored: 0–2, or up to 4 from a four- or five-class model),
    ``stem.classes-view.png`` (for eyes; dotted and dash-dot shown as non-solid) and ``stem.confidence.png``, encoded for
    :func:`write_result` (the folder is created, nothing is written into it)."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the masks folder {out}: {exc.strerror or exc}") from exc
    seg = result.segmentation
    arrays = {
        f"{stem}.classes.png": seg.class_map,
        f"{stem}.classes-view.png": CLASS_GREYS[to_three_classes(seg.class_map)],
        f"{stem}.confidence.png": seg.confidence,
    }
    return {out / name: png_bytes(name, array) for name, array in arrays.items()}


def report_text(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, allow_nan=False) + "\n"


def write_result(result: DigitizeResult, output: str | os.PathLike, *, masks: str | None = None,
                 report: str | None = None, extra_header: dict[str, str] | None = None) -> None:
    """The LAS and the optional masks and report, all or none: everything is encoded first, then written
    with :func:`atomic_write_many`, so a failure or Ctrl-C at any point leaves no new output and the
    previous files intact (a LAS without the report it was asked with would look finished)."""
    files = {Path(output): las_text(output, result.layout, result.traces, extra_header=extra_header).encode("utf-8")}
    if masks:
        files.update(mask_files(masks, Path(output).stem, result))
    if report:
        files[Path(report)] = report_text(result.report).encode("utf-8")
    atomic_write_many(files)
