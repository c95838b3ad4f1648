"""Write a synthetic page to disk: image, mask, curve owners, layout, truth LAS and style."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import lasio
import numpy as np

from veerdesk.core.atomic import atomic_output, atomic_write_text
from veerdesk.core.errors import ExportError
from veerdesk.synth.page import SyntheticPage

NULL = -999.25


def _write_png(array: np.ndarray, path: Path) -> None:
    ok, buf = cv2.imencode(".png", array)
    if not ok:
        raise ExportError(f"cannot encode {path.name} as PNG")
    with atomic_output(path, suffix=".png") as tmp:
        tmp.write_bytes(buf.tobytes())


def truth_las(page: SyntheticPage) -> lasio.LASFile:
    layout = page.layout
    las = lasio.LASFile()
    las.well["NULL"].value = NULL
    well = layout.well
    for key, value in (("WELL", well.name), ("UWI", well.uwi), ("COMP", well.company), ("FLD", well.field)):
        las.well[key].value = value
    depth = layout.depth_grid()
    unit = layout.depth.unit
    las.well["STRT"].value, las.well["STRT"].unit = float(depth[0]) if depth.size else 0.0, unit
    las.well["STOP"].value, las.well["STOP"].unit = float(depth[-1]) if depth.size else 0.0, unit
    las.well["STEP"].value, las.well["STEP"].unit = layout.depth.step, unit
    las.append_curve("DEPT", depth, unit=unit, descr="Depth")
    for _, _, curve in layout.curves():
        values = np.where(np.isfinite(page.truth[curve.mnemonic]), page.truth[curve.mnemonic], NULL)
        las.append_curve(curve.mnemonic, values, unit=curve.unit, descr=f"synthetic truth ({curve.style})")
    return las


def write_page(page: SyntheticPage, out_dir: str | os.PathLike, stem: str) -> dict[str, Path]:
    """Write ``stem.png`` (image), ``stem.mask.png`` (0/1/2), ``stem.ids.png`` (curve owner, 1-based
    index into ``layout.curves()``), ``stem.layout.json``, ``stem.las`` (truth on the depth grid) and
    ``stem.style.json``. Returns the paths by kind."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create output folder {out}: {exc.strerror or exc}") from exc
    paths = {
        "image": out / f"{stem}.png", "mask": out / f"{stem}.mask.png", "ids": out / f"{stem}.ids.png",
        "layout": out / f"{stem}.layout.json", "las": out / f"{stem}.las", "style": out / f"{stem}.style.json",
    }
    _write_png(page.image, paths["image"])
    _write_png(page.mask, paths["mask"])
    _write_png(page.curve_ids, paths["ids"])
    atomic_write_text(paths["layout"], page.layout.to_json(), keep_backup=False)
    las = truth_las(page)
    with atomic_output(paths["las"], suffix=".las") as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            las.write(fh, version=2.0, fmt="%.10g")
    atomic_write_text(paths["style"], json.dumps(page.style, indent=1, default=_jsonable) + "\n", keep_backup=False)
    return paths


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")
