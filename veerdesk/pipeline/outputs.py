"""Writing a digitize result: LAS, masks and report, each atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from veerdesk.core.atomic import atomic_output, atomic_write_text
from veerdesk.core.errors import ExportError
from veerdesk.export.las import write_las
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


def write_png(path: Path, array: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".png", np.asarray(array))
    if not ok:
        raise ExportError(f"cannot encode {path.name} as PNG")
    with atomic_output(path, suffix=".png") as tmp:
        tmp.write_bytes(encoded.tobytes())


def write_masks(folder: str | os.PathLike, stem: str, result: DigitizeResult) -> list[Path]:
    """``stem.classes.png`` (0/1/2 as stored), ``stem.classes-view.png`` (for eyes), ``stem.confidence.png``."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the masks folder {out}: {exc.strerror or exc}") from exc
    seg = result.segmentation
    paths = [out / f"{stem}.classes.png", out / f"{stem}.classes-view.png", out / f"{stem}.confidence.png"]
    write_png(paths[0], seg.class_map)
    write_png(paths[1], CLASS_GREYS[np.minimum(np.asarray(seg.class_map), 2)])
    write_png(paths[2], seg.confidence)
    return paths


def write_report(path: str | os.PathLike, report: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(report, indent=2, allow_nan=False) + "\n", keep_backup=False)


def write_result(result: DigitizeResult, output: str | os.PathLike, *, masks: str | None = None,
                 report: str | None = None, extra_header: dict[str, str] | None = None) -> None:
    """LAS first (the product), then the optional masks and report."""
    write_las(output, result.layout, result.traces, extra_header=extra_header)
    if masks:
        write_masks(masks, Path(output).stem, result)
    if report:
        write_report(report, result.report)
