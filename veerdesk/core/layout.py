"""The sheet layout: where depth and values sit on one scanned page.

Parsed once at the edge (``Layout.from_dict`` / ``load_layout``) into frozen dataclasses; inner code trusts
them. The JSON contract is ``shared/layout-schema.md`` (version 1). Unknown keys are kept in ``extra`` at
every level and written back unchanged, so files made by newer tools survive a round trip.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from veerdesk.core.atomic import atomic_write_text
from veerdesk.core.errors import LayoutError

LAYOUT_VERSION = 1
DEPTH_UNITS = ("M", "FT")
SCALES = ("linear", "log")
STYLES = ("solid", "dashed", "dotted", "dashdot")
WEIGHTS = ("heavy", "light")
# Beyond this, a coordinate or value is a typo or an attack, not a log.
MAX_ABS_NUMBER = 1e12
MAX_LAYOUT_BYTES = 10_000_000
MAX_STRING_CHARS = 4096
MAX_EXTRA_DEPTH = 32

_WELL_KEYS = ("name", "uwi", "company", "field")


# --------------------------------------------------------------------------- validation helpers
def _where(path: str) -> str:
    return f"layout key '{path}'"


def _require_mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise LayoutError(f"{_where(path)} must be an object, got {type(value).__name__}")
    return value


def _number(value: Any, path: str, *, positive: bool = False) -> float:
    # bool is an int subclass; "true" as a coordinate is a mistake, not 1.0.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LayoutError(f"{_where(path)} must be a number, got {json.dumps(value)[:40]}")
    try:
        number = float(value)
    except OverflowError:
        raise LayoutError(f"{_where(path)} is implausibly large ({str(value)[:20]}...)") from None
    if not math.isfinite(number):
        raise LayoutError(f"{_where(path)} must be a finite number, got {value}")
    if abs(number) > MAX_ABS_NUMBER:
        raise LayoutError(f"{_where(path)} is implausibly large ({value})")
    if positive and number <= 0:
        raise LayoutError(f"{_where(path)} must be greater than zero, got {value}")
    return number


def _string(value: Any, path: str, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise LayoutError(f"{_where(path)} must be a string, got {json.dumps(value)[:40]}")
    if not allow_empty and not value.strip():
        raise LayoutError(f"{_where(path)} must not be empty")
    if len(value) > MAX_STRING_CHARS:
        raise LayoutError(f"{_where(path)} is too long ({len(value)} characters)")
    # Control characters and lone surrogates would break the LAS header (a newline starts a new section).
    if any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise LayoutError(f"{_where(path)} contains control or invalid characters")
    return value


def _check_nesting(value: Any, path: str, depth: int = 0) -> None:
    # Unknown keys are kept verbatim; bound their depth so they stay printable, picklable and re-readable.
    if depth > MAX_EXTRA_DEPTH:
        raise LayoutError(f"{_where(path)} is nested more than {MAX_EXTRA_DEPTH} levels deep")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_nesting(v, f"{path}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_nesting(v, f"{path}[{i}]", depth + 1)


def _extra(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    extra = {k: v for k, v in data.items() if k not in known}
    for key, value in extra.items():
        _check_nesting(value, key)
    return extra


# --------------------------------------------------------------------------- value scales
@dataclass(frozen=True)
class Scale:
    """The values at a track's left (x0) and right (x1) edge."""

    left: float
    right: float
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, data: Any, path: str, track_scale: str) -> Scale:
        data = _require_mapping(data, path)
        for key in ("left", "right"):
            if key not in data:
                raise LayoutError(f"{_where(path)} is missing '{key}'")
        left = _number(data["left"], f"{path}.left", positive=track_scale == "log")
        right = _number(data["right"], f"{path}.right", positive=track_scale == "log")
        if left == right:
            raise LayoutError(f"{_where(path)} has left equal to right ({left}); the scale would be empty")
        return cls(left, right, _extra(data, ("left", "right")))

    def to_dict(self) -> dict[str, Any]:
        return {"left": _plain(self.left), "right": _plain(self.right), **self.extra}


def _plain(x: float) -> float | int:
    # Keep integers looking like integers in written JSON.
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else x


# --------------------------------------------------------------------------- curves and tracks
@dataclass(frozen=True)
class Curve:
    mnemonic: str
    unit: str
    left: float
    right: float
    style: str = "solid"
    weight: str | None = None
    backup: Scale | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def scale(self) -> Scale:
        return Scale(self.left, self.right)

    @property
    def kind(self) -> tuple[str, str | None]:
        """What tells this curve apart from the others of its track."""
        return (self.style, self.weight)

    @classmethod
    def from_dict(cls, data: Any, path: str, track_scale: str) -> Curve:
        data = _require_mapping(data, path)
        if "mnemonic" not in data:
            raise LayoutError(f"{_where(path)} is missing 'mnemonic'")
        mnemonic = _string(data["mnemonic"], f"{path}.mnemonic", allow_empty=False).strip()
        if len(mnemonic) > 64 or any(c in mnemonic for c in " .:\t\n"):
            raise LayoutError(f"{_where(path + '.mnemonic')} '{mnemonic[:64]}' is not a valid LAS mnemonic")
        unit = _string(data.get("unit", ""), f"{path}.unit")
        scale = Scale.from_dict({k: data[k] for k in ("left", "right") if k in data}, path, track_scale)
        style = data.get("style", "solid")
        if style not in STYLES:
            raise LayoutError(f"{_where(path + '.style')} must be one of {', '.join(STYLES)}, got {json.dumps(style)[:40]}")
        weight = data.get("weight")
        if weight is not None and weight not in WEIGHTS:
            raise LayoutError(f"{_where(path + '.weight')} must be 'heavy' or 'light', got {json.dumps(weight)[:40]}")
        backup = None
        if data.get("backup") is not None:
            backup = Scale.from_dict(data["backup"], f"{path}.backup", track_scale)
        known = ("mnemonic", "unit", "left", "right", "style", "weight", "backup")
        return cls(mnemonic, unit, scale.left, scale.right, style, weight, backup, _extra(data, known))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mnemonic": self.mnemonic,
            "unit": self.unit,
            "left": _plain(self.left),
            "right": _plain(self.right),
            "style": self.style,
        }
        if self.weight is not None:
            out["weight"] = self.weight
        if self.backup is not None:
            out["backup"] = self.backup.to_dict()
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class Track:
    x0: float
    x1: float
    scale: str = "linear"
    curves: tuple[Curve, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    def fraction_at_column(self, x: Any) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.x0) / (self.x1 - self.x0)

    def value_at_column(self, x: Any, scale: Scale) -> np.ndarray:
        """Value at column ``x`` (vectorised) on ``scale`` (a curve's main or backup scale)."""
        f = self.fraction_at_column(x)
        if self.scale == "log":
            lo, hi = math.log10(scale.left), math.log10(scale.right)
            return np.power(10.0, lo + f * (hi - lo))
        return scale.left + f * (scale.right - scale.left)

    def column_at_value(self, value: Any, scale: Scale) -> np.ndarray:
        """Column of ``value`` on ``scale``; the exact inverse of :meth:`value_at_column`.

        Values outside the scale give columns outside the track; non-positive values on a log
        track give NaN.
        """
        v = np.asarray(value, dtype=np.float64)
        if self.scale == "log":
            lo, hi = math.log10(scale.left), math.log10(scale.right)
            with np.errstate(divide="ignore", invalid="ignore"):
                logv = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
            f = (logv - lo) / (hi - lo)
        else:
            f = (v - scale.left) / (scale.right - scale.left)
        return self.x0 + f * (self.x1 - self.x0)

    def display_columns(self, values: Any, curve: Curve) -> np.ndarray:
        """Columns where ``curve``'s values are drawn: on its main scale, or on its backup scale for values
        the main scale puts more than a pixel outside the track (a wrapped stretch). NaN stays NaN."""
        x = self.column_at_value(values, curve.scale)
        if curve.backup is not None:
            off = (x < self.x0 - 1) | (x > self.x1 + 1)
            x = np.where(off, self.column_at_value(values, curve.backup), x)
        return x

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Track:
        data = _require_mapping(data, path)
        for key in ("x0", "x1"):
            if key not in data:
                raise LayoutError(f"{_where(path)} is missing '{key}'")
        x0 = _number(data["x0"], f"{path}.x0")
        x1 = _number(data["x1"], f"{path}.x1")
        if not x1 > x0:
            raise LayoutError(f"{_where(path)} must have x0 < x1, got x0={x0}, x1={x1}")
        scale = data.get("scale", "linear")
        if scale not in SCALES:
            raise LayoutError(f"{_where(path + '.scale')} must be 'linear' or 'log', got {json.dumps(scale)[:40]}")
        raw_curves = data.get("curves", [])
        if not isinstance(raw_curves, list):
            raise LayoutError(f"{_where(path + '.curves')} must be a list")
        curves = tuple(Curve.from_dict(c, f"{path}.curves[{i}]", scale) for i, c in enumerate(raw_curves))
        seen: dict[tuple[str, str | None], str] = {}
        for i, curve in enumerate(curves):
            if curve.kind in seen:
                style = curve.style + (f"/{curve.weight}" if curve.weight else "")
                raise LayoutError(
                    f"{_where(f'{path}.curves[{i}]')}: curves {seen[curve.kind]} and {curve.mnemonic} are both "
                    f"{style}; a track holds at most one curve per style and weight"
                )
            seen[curve.kind] = curve.mnemonic
        return cls(x0, x1, scale, curves, _extra(data, ("x0", "x1", "scale", "curves")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "x0": _plain(self.x0),
            "x1": _plain(self.x1),
            "scale": self.scale,
            "curves": [c.to_dict() for c in self.curves],
            **self.extra,
        }


# --------------------------------------------------------------------------- depth axis
@dataclass(frozen=True)
class DepthAxis:
    unit: str
    ties: tuple[tuple[float, float], ...]
    step: float
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def rows(self) -> np.ndarray:
        return np.array([t[0] for t in self.ties], dtype=np.float64)

    @property
    def depths(self) -> np.ndarray:
        return np.array([t[1] for t in self.ties], dtype=np.float64)

    def depth_range(self) -> tuple[float, float]:
        d = self.depths
        return float(d.min()), float(d.max())

    def row_range(self) -> tuple[float, float]:
        return self.ties[0][0], self.ties[-1][0]

    def depth_at_row(self, y: Any) -> np.ndarray:
        """Depth at image row ``y`` (piecewise linear between ties, NaN outside them)."""
        return _piecewise(np.asarray(y, dtype=np.float64), self.rows, self.depths)

    def row_at_depth(self, depth: Any) -> np.ndarray:
        """Image row of ``depth``; the exact inverse of :meth:`depth_at_row`."""
        return _piecewise(np.asarray(depth, dtype=np.float64), self.depths, self.rows)

    @classmethod
    def from_dict(cls, data: Any, path: str = "depth") -> DepthAxis:
        data = _require_mapping(data, path)
        unit = data.get("unit")
        if not isinstance(unit, str) or unit.upper() not in DEPTH_UNITS:
            raise LayoutError(f"{_where(path + '.unit')} must be 'M' or 'FT', got {json.dumps(unit)[:40]}")
        ties_raw = data.get("ties")
        if not isinstance(ties_raw, list) or len(ties_raw) < 2:
            raise LayoutError(f"{_where(path + '.ties')} must be a list of at least two [y, depth] pairs")
        if len(ties_raw) > 100_000:
            raise LayoutError(f"{_where(path + '.ties')} has too many tie points ({len(ties_raw)})")
        ties = []
        for i, tie in enumerate(ties_raw):
            if not isinstance(tie, (list, tuple)) or len(tie) != 2:
                raise LayoutError(f"{_where(f'{path}.ties[{i}]')} must be a [y, depth] pair")
            ties.append((_number(tie[0], f"{path}.ties[{i}][0]"), _number(tie[1], f"{path}.ties[{i}][1]")))
        ys = np.array([t[0] for t in ties])
        ds = np.array([t[1] for t in ties])
        if np.any(np.diff(ys) <= 0):
            raise LayoutError(f"{_where(path + '.ties')}: y must be strictly increasing (sort the tie points by row)")
        dd = np.diff(ds)
        if not (np.all(dd > 0) or np.all(dd < 0)):
            raise LayoutError(f"{_where(path + '.ties')}: depth must strictly increase (or strictly decrease) with y")
        if "step" not in data:
            raise LayoutError(f"{_where(path)} is missing 'step'")
        step = _number(data["step"], f"{path}.step", positive=True)
        span = float(abs(ds[-1] - ds[0]))
        if span / step > 50_000_000:
            raise LayoutError(f"{_where(path + '.step')} {step} is too small for a {span:g} {unit} range")
        return cls(unit.upper(), tuple(ties), step, _extra(data, ("unit", "ties", "step")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "ties": [[_plain(y), _plain(d)] for y, d in self.ties],
            "step": _plain(self.step),
            **self.extra,
        }


def _piecewise(x: np.ndarray, xs: np.ndarray, fs: np.ndarray) -> np.ndarray:
    if xs[0] > xs[-1]:
        xs, fs = xs[::-1], fs[::-1]
    out = np.interp(x, xs, fs, left=np.nan, right=np.nan)
    # np.interp returns the end values exactly at the ends; keep NaN only strictly outside.
    return out


@dataclass(frozen=True)
class WellInfo:
    name: str = ""
    uwi: str = ""
    company: str = ""
    field: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, data: Any, path: str = "well") -> WellInfo:
        data = _require_mapping(data, path)
        values = {k: _string(data.get(k, ""), f"{path}.{k}") for k in _WELL_KEYS}
        return cls(**values, extra=_extra(data, _WELL_KEYS))

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _WELL_KEYS} | self.extra


# --------------------------------------------------------------------------- the layout
@dataclass(frozen=True)
class Layout:
    depth: DepthAxis
    tracks: tuple[Track, ...] = ()
    well: WellInfo = dataclasses.field(default_factory=WellInfo)
    version: int = LAYOUT_VERSION
    extra: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def curves(self) -> list[tuple[int, Track, Curve]]:
        return [(i, t, c) for i, t in enumerate(self.tracks) for c in t.curves]

    def curve(self, mnemonic: str) -> tuple[int, Track, Curve]:
        for item in self.curves():
            if item[2].mnemonic == mnemonic:
                return item
        raise KeyError(mnemonic)

    def _grid_multiples(self) -> tuple[int, int]:
        """First and last multiple of ``depth.step`` inside the tied depth range (last < first: none)."""
        lo, hi = self.depth.depth_range()
        step = self.depth.step
        # A tolerance so that a tie exactly on a multiple of step is kept despite float error.
        return math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)

    def depth_sample_count(self) -> int:
        """How many samples :meth:`depth_grid` holds, counted without building it."""
        k0, k1 = self._grid_multiples()
        return max(0, k1 - k0 + 1)

    def depth_grid(self) -> np.ndarray:
        """Every multiple of ``depth.step`` inside the tied depth range, ascending."""
        k0, k1 = self._grid_multiples()
        if k1 < k0:
            return np.zeros(0)
        return np.round(np.arange(k0, k1 + 1, dtype=np.float64) * self.depth.step, 10)

    @classmethod
    def from_dict(cls, data: Any) -> Layout:
        data = _require_mapping(data, "(root)")
        version = data.get("version", LAYOUT_VERSION)
        if isinstance(version, bool) or version != LAYOUT_VERSION:
            raise LayoutError(f"{_where('version')} must be {LAYOUT_VERSION}, got {json.dumps(version)[:40]}")
        if "depth" not in data:
            raise LayoutError(f"{_where('depth')} is missing")
        depth = DepthAxis.from_dict(data["depth"])
        well = WellInfo.from_dict(data["well"]) if data.get("well") is not None else WellInfo()
        raw_tracks = data.get("tracks", [])
        if not isinstance(raw_tracks, list):
            raise LayoutError(f"{_where('tracks')} must be a list")
        tracks = tuple(Track.from_dict(t, f"tracks[{i}]") for i, t in enumerate(raw_tracks))
        seen: set[str] = set()
        for ti, track in enumerate(tracks):
            for ci, curve in enumerate(track.curves):
                key = curve.mnemonic.upper()
                if key in seen or key == "DEPT":
                    raise LayoutError(
                        f"{_where(f'tracks[{ti}].curves[{ci}].mnemonic')}: '{curve.mnemonic}' is used twice "
                        "(LAS needs unique mnemonics, and DEPT is the index)"
                    )
                seen.add(key)
        return cls(depth, tracks, well, LAYOUT_VERSION, _extra(data, ("version", "well", "depth", "tracks")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "well": self.well.to_dict(),
            "depth": self.depth.to_dict(),
            "tracks": [t.to_dict() for t in self.tracks],
            **self.extra,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def parse_layout_json(text: str, source: str = "layout") -> Layout:
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise LayoutError(f"{source} is not valid JSON: {detail}{where}") from exc
    except ValueError as exc:
        message = str(exc)
        if "digits" in message:
            # Python refuses integers of thousands of digits; say so without its internals.
            message = "a number has far too many digits"
        raise LayoutError(f"{source}: {message}") from exc
    return Layout.from_dict(data)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a layout (numbers must be finite)")


def load_layout(path: str | os.PathLike) -> Layout:
    """Read and validate a layout JSON file."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_LAYOUT_BYTES:
            raise LayoutError(f"{p} is too large to be a layout ({p.stat().st_size} bytes)")
        raw = p.read_bytes()
    except FileNotFoundError as exc:
        raise LayoutError(f"layout file not found: {p}") from exc
    except IsADirectoryError as exc:
        raise LayoutError(f"layout path is a folder, not a file: {p}") from exc
    except OSError as exc:
        raise LayoutError(f"cannot read layout {p}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LayoutError(f"{p} is not a UTF-8 text file") from exc
    return parse_layout_json(text, source=str(p))


def save_layout(layout: Layout, path: str | os.PathLike) -> None:
    """Write ``layout`` as JSON, atomically."""
    atomic_write_text(path, layout.to_json(), keep_backup=False)
