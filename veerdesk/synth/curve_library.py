"""Real log curves used as shapes: parsed once from the bundled LAS files into a small .npz.

The generator only needs the *shape* of real logs (bed boundaries, noise texture, spikes), never their
units, so every curve is stored as float32 samples with NaN for nulls, its sampling step and whether it
is resistivity-like (shapes taken in log10, as they are printed on log tracks).

Rebuild the cache with ``python -m veerdesk.synth.curve_library`` after changing the LAS files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RESOURCE_DIR = Path(__file__).resolve().parents[2] / "resources" / "las"
CACHE_NAME = "curves.npz"
LAS_FILES = ("6038187_v1.2.las", "P-135_out.LAS")
# Resistivity/conductivity-like curves vary over decades: their shape is read in log10.
_LOG_LIKE = ("OHM", "MS/M")
_MIN_VALID = 200


@dataclass(frozen=True)
class RealCurve:
    name: str
    step: float
    log_like: bool
    values: np.ndarray  # float32, NaN = null


def build_cache(resource_dir: Path = RESOURCE_DIR) -> Path:
    """Parse the bundled LAS files and write ``curves.npz`` beside them."""
    import lasio  # only needed to (re)build the cache

    names, steps, log_like, chunks = [], [], [], []
    for file_name in LAS_FILES:
        las = lasio.read(str(resource_dir / file_name), engine="normal", ignore_header_errors=True)
        depth = np.asarray(las.index, dtype=np.float64)
        step = float(np.median(np.diff(depth)))
        for curve in las.curves[1:]:
            values = np.asarray(curve.data, dtype=np.float64)
            values[~np.isfinite(values) | (values <= -999)] = np.nan
            if np.isfinite(values).sum() < _MIN_VALID:
                continue
            names.append(f"{Path(file_name).stem}:{curve.mnemonic}")
            steps.append(step)
            log_like.append(any(tag in curve.unit.upper() for tag in _LOG_LIKE))
            chunks.append(values.astype(np.float32))
    offsets = np.cumsum([0] + [len(c) for c in chunks]).astype(np.int64)
    out = resource_dir / CACHE_NAME
    np.savez_compressed(
        out,
        names=np.array(names, dtype="U64"),
        steps=np.array(steps, dtype=np.float64),
        log_like=np.array(log_like, dtype=bool),
        offsets=offsets,
        values=np.concatenate(chunks),
    )
    return out


@functools.lru_cache(maxsize=1)
def load_real_curves(resource_dir: Path = RESOURCE_DIR) -> tuple[RealCurve, ...]:
    """The bundled real curves (cached per process)."""
    path = resource_dir / CACHE_NAME
    if not path.exists():
        return ()
    with np.load(path, allow_pickle=False) as data:
        names, steps, log_like = data["names"], data["steps"], data["log_like"]
        offsets, values = data["offsets"], data["values"]
        return tuple(
            RealCurve(str(names[i]), float(steps[i]), bool(log_like[i]), values[offsets[i] : offsets[i + 1]].copy())
            for i in range(len(names))
        )


if __name__ == "__main__":
    print(f"wrote {build_cache()}")
