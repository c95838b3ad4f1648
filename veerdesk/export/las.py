"""LAS 2.0 export through lasio: DEPT on the layout's depth grid, one curve per layout curve.

The file is built as a ``lasio.LASFile`` (never hand-formatted) and written atomically: a failure at any
point leaves no partial LAS and the previous file, if any, untouched.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from datetime import date

import lasio
import numpy as np

from veerdesk import __version__
from veerdesk.core.atomic import atomic_output
from veerdesk.core.curves import CurveTrace
from veerdesk.core.errors import ExportError
from veerdesk.core.layout import Layout

NULL_VALUE = -999.25
# Significant digits: sub-pixel precision for values of any magnitude (0.0002 S/m or 20,000 ohm.m) and
# exact depths on any grid step down to 0.0001.
VALUE_FORMAT = "%.9g"


def las_unit(unit: str) -> str:
    """``unit`` as a LAS header can hold it: the unit field ends at the first space ("OHM M" would read back
    as "OHM" with "M" taken for the value), so inner spaces become underscores."""
    return "_".join(unit.split())


def unit_warnings(layout: Layout) -> list[str]:
    """One line per curve whose unit the LAS file cannot hold as written (see :func:`las_unit`)."""
    return [f"{curve.mnemonic}: unit '{curve.unit}' is written to LAS as '{las_unit(curve.unit)}' "
            "(a LAS unit ends at the first space)"
            for _, _, curve in layout.curves() if las_unit(curve.unit) != curve.unit.strip()]


def _unique_mnemonic(name: str, seen: set[str]) -> str:
    # The layout already keeps mnemonics unique (case-insensitively); this guards hand-built traces.
    base = name.strip() or "CURVE"
    candidate, n = base, 1
    while candidate.upper() in seen or candidate.upper() == "DEPT":
        candidate = f"{base}:{n}"
        n += 1
    seen.add(candidate.upper())
    return candidate


def build_las(layout: Layout, traces: Mapping[str, CurveTrace], *,
              extra_header: Mapping[str, str] | None = None) -> lasio.LASFile:
    """A LASFile for ``traces`` on ``layout.depth_grid()``; layout curves without a trace are all NULL."""
    depth = layout.depth_grid()
    if depth.size == 0:
        raise ExportError("the layout's depth range holds no depth sample; check depth.ties and depth.step")
    las = lasio.LASFile()
    las.version["VERS"].value = 2.0
    las.version["WRAP"].value = "NO"
    unit = layout.depth.unit
    step = layout.depth.step
    well = layout.well
    header = {
        "STRT": (float(depth[0]), unit, "START DEPTH"),
        "STOP": (float(depth[-1]), unit, "STOP DEPTH"),
        "STEP": (float(step), unit, "STEP"),
        "NULL": (NULL_VALUE, "", "NULL VALUE"),
        "COMP": (well.company, "", "COMPANY"),
        "WELL": (well.name, "", "WELL"),
        "FLD": (well.field, "", "FIELD"),
        "UWI": (well.uwi, "", "UNIQUE WELL ID"),
        "DATE": (date.today().isoformat(), "", "DIGITIZED"),
        "SRVC": (f"VeerDesk {__version__}", "", "DIGITIZED BY"),
    }
    for key, (value, item_unit, descr) in header.items():
        las.well[key] = lasio.HeaderItem(key, unit=item_unit, value=value, descr=descr)
    for key, value in (extra_header or {}).items():
        las.params[key.upper()] = lasio.HeaderItem(key.upper(), value=str(value))
    las.append_curve("DEPT", depth, unit=unit, descr="DEPTH")
    seen: set[str] = set()
    for _, _, curve in layout.curves():
        trace = traces.get(curve.mnemonic)
        values = np.full(depth.shape, np.nan) if trace is None else np.asarray(trace.value, dtype=np.float64)
        if values.shape != depth.shape:
            raise ExportError(
                f"curve {curve.mnemonic} has {values.size} samples but the depth grid has {depth.size}; "
                "trace it again with this layout"
            )
        name = _unique_mnemonic(curve.mnemonic, seen)
        descr = f"{curve.style} {curve.left:g}-{curve.right:g}" + (f" ({curve.weight})" if curve.weight else "")
        las.append_curve(name, np.where(np.isfinite(values), values, np.nan), unit=las_unit(curve.unit),
                         descr=descr)
    return las


def las_text(path: str | os.PathLike, layout: Layout, traces: Mapping[str, CurveTrace], *,
             extra_header: Mapping[str, str] | None = None) -> str:
    """The LAS 2.0 text :func:`write_las` writes to ``path`` (named in errors); nothing is written."""
    las = build_las(layout, traces, extra_header=extra_header)
    buffer = io.StringIO()
    try:
        las.write(buffer, version=2.0, wrap=False, fmt=VALUE_FORMAT, len_numeric_field=-1)
    except (ValueError, TypeError) as exc:
        raise ExportError(f"cannot format the LAS file {path}: {exc}") from exc
    return buffer.getvalue()


def write_las(path: str | os.PathLike, layout: Layout, traces: Mapping[str, CurveTrace], *,
              extra_header: Mapping[str, str] | None = None) -> None:
    """Write ``traces`` as LAS 2.0 to ``path`` atomically (NULL = -999.25 where a curve is absent)."""
    text = las_text(path, layout, traces, extra_header=extra_header)
    # LAS 2.0 is ASCII. Where the layout brings other characters (a well name with an umlaut, a unit in µs),
    # a byte-order mark says the file is UTF-8: without one, lasio (no chardet) reads it as Windows-1252.
    encoding = "utf-8" if text.isascii() else "utf-8-sig"
    with atomic_output(path, suffix=".las") as tmp:
        with open(tmp, "w", encoding=encoding, newline="\n") as fh:
            fh.write(text)
