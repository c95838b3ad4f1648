"""Curve shapes: windows of real logs mixed with procedural signals.

Every function returns a unitless shape of ``n`` samples, roughly centred on 0 with its 5–95 % spread
about 1, with NaN where the curve has no data. The page generator maps shapes onto track fractions, so
the same shape can become a gamma ray on a linear track or a resistivity on a log track.
"""

from __future__ import annotations

import numpy as np

from veerdesk.synth.curve_library import RealCurve, load_real_curves


def normalise(x: np.ndarray, *, min_spread: float = 0.0) -> np.ndarray:
    """Centre on the median and scale the 5–95 % spread to 1 (NaN kept). A spread below ``min_spread``
    is not blown up: a calm stretch of log stays calm."""
    finite = x[np.isfinite(x)]
    if finite.size < 2:
        return np.zeros_like(x)
    lo, mid, hi = np.percentile(finite, [5, 50, 95])
    spread = max(hi - lo, min_spread)
    if spread <= 1e-12:
        spread = float(np.std(finite)) or 1.0
    return (x - mid) / spread


def smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a 1-D signal (reflect at the ends)."""
    if sigma < 0.3 or x.size < 3:
        return x
    radius = int(min(3 * sigma + 1, x.size - 1))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(x, radius, mode="reflect")
    return np.convolve(padded, kernel, mode="valid")


def random_walk(rng: np.random.Generator, n: int) -> np.ndarray:
    # Mean reversion keeps long walks from drifting off the track forever.
    decay = 1.0 - rng.uniform(0.0, 0.02)
    out = _ar1_loop(rng.standard_normal(n), decay)
    return smooth(out, rng.uniform(0.5, 4.0))


def _ar1_loop(noise: np.ndarray, decay: float) -> np.ndarray:
    # Chunked evaluation keeps decay**k from underflowing on long signals.
    out = np.empty_like(noise)
    level = 0.0
    chunk = 2000
    for start in range(0, noise.size, chunk):
        part = noise[start : start + chunk]
        powers = decay ** np.arange(1, part.size + 1)
        out[start : start + part.size] = level * powers + np.cumsum(part / powers) * powers
        level = out[start + part.size - 1]
    return out


def band_limited(rng: np.random.Generator, n: int, samples_per_px: float) -> np.ndarray:
    sigma = np.exp(rng.uniform(np.log(4.0), np.log(80.0))) * samples_per_px
    return smooth(rng.standard_normal(n), sigma)


def blocky(rng: np.random.Generator, n: int, samples_per_px: float) -> np.ndarray:
    """Beds: constant levels with thicknesses from a log-normal, softened like a tool response."""
    mean_bed = rng.uniform(8.0, 150.0) * samples_per_px
    edges = [0]
    while edges[-1] < n:
        edges.append(edges[-1] + max(1, int(rng.lognormal(np.log(mean_bed), 0.8))))
    levels = rng.standard_normal(len(edges))
    if rng.random() < 0.5:
        # Two-lithology sequences (sand/shale) are the most common look.
        levels = np.where(levels > rng.normal(0, 0.5), 1.0, -1.0) + 0.15 * levels
    out = np.repeat(levels[:-1], np.diff(edges))[:n]
    return smooth(out, rng.uniform(0.3, 4.0) * samples_per_px)


def spikes(rng: np.random.Generator, n: int, samples_per_px: float) -> np.ndarray:
    out = np.zeros(n)
    count = rng.poisson(n / (rng.uniform(150, 1500) * samples_per_px) + 0.5)
    where = rng.integers(0, n, size=count)
    out[where] = rng.standard_normal(count) * rng.uniform(1.0, 4.0)
    return smooth(out, rng.uniform(0.3, 2.0) * samples_per_px)


_PREPARED: dict[str, tuple[np.ndarray, np.ndarray, float, float]] = {}


def _prepared(curve: RealCurve) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Shape values (log10 for resistivity-like curves) with nulls filled, the null flags, and the
    whole curve's median and 5–95 % spread; computed once per curve."""
    if curve.name in _PREPARED:
        return _PREPARED[curve.name]
    values = curve.values.astype(np.float64)
    if curve.log_like:
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
    nulls = (~np.isfinite(values)).astype(np.float64)
    lo, mid, hi = np.nanpercentile(values, [5, 50, 95])
    filled = np.where(np.isfinite(values), values, mid)
    _PREPARED[curve.name] = (filled, nulls, float(mid), float(max(hi - lo, 1e-9)))
    return _PREPARED[curve.name]


def real_window(rng: np.random.Generator, n: int, samples_per_px: float, curves: tuple[RealCurve, ...]) -> np.ndarray:
    """A random window of a random real curve, stretched and rescaled to ``n`` samples."""
    filled, nulls, _, spread = _prepared(curves[int(rng.integers(len(curves)))])
    # Real samples per output pixel: 0.05 (heavily stretched) to 1.5 (compressed).
    real_per_px = np.exp(rng.uniform(np.log(0.05), np.log(1.5)))
    span = min(filled.size - 1, max(8.0, n / samples_per_px * real_per_px))
    start = rng.uniform(0, filled.size - 1 - span)
    positions = start + np.linspace(0.0, span, n)
    index = np.arange(filled.size)
    out = np.interp(positions, index, filled)
    # Keep the real nulls as absent stretches.
    out[np.interp(positions, index, nulls) > 0.5] = np.nan
    # Scale by the whole curve's spread, not the window's, so quiet intervals stay quiet.
    centre = np.nanmedian(out) if np.isfinite(out).any() else 0.0
    out = (out - centre) / spread
    if rng.random() < 0.3:
        out = -out
    return out


# Share of curves left jagged (smoothed over under 2 px), half of them plotted with straight strokes.
JAGGED_SHARE = 0.25


def plotted_from_samples(shape: np.ndarray, every: float) -> np.ndarray:
    """``shape`` as a plotter draws it from the tool's samples, one every ``every`` (≥ 1) shape samples:
    straight strokes between them, so the curve turns sharply at each sample instead of bending."""
    n = shape.size
    if n < 2:
        return shape
    knots = np.unique(np.append(np.round(np.arange(0.0, n - 1, max(every, 1.0))).astype(int), n - 1))
    return np.interp(np.arange(n), knots, shape[knots])


def curve_shape(rng: np.random.Generator, n: int, samples_per_px: float, swing_px: float = 0.0,
                resolution_px: float = 0.0) -> tuple[np.ndarray, str]:
    """A mixed shape of ``n`` samples and a short name of its recipe.

    ``swing_px``: how many pixels one unit of shape spans across the track. Most shapes are smoothed
    over at least 1/150 of it, as an analog pen could not cross a wide track within one row; a few stay
    jagged like dense digital-era plots. ``resolution_px``: the tool's vertical resolution on the page
    (a gamma-ray tool blurs over a foot or two), a floor for the smoothing of most shapes.
    """
    real = load_real_curves()
    parts: list[tuple[float, np.ndarray]] = []
    recipe = []
    if real and rng.random() < 0.7:
        parts.append((1.0, real_window(rng, n, samples_per_px, real)))
        recipe.append("real")
    generators = {
        "walk": lambda: random_walk(rng, n),
        "band": lambda: band_limited(rng, n, samples_per_px),
        "beds": lambda: blocky(rng, n, samples_per_px),
    }
    names = list(generators)
    picks = rng.choice(names, size=int(rng.integers(0 if parts else 1, 3)), replace=False)
    for name in picks:
        weight = rng.uniform(0.15, 1.0) if parts else 1.0
        parts.append((weight, normalise(generators[str(name)]())))
        recipe.append(str(name))
    if rng.random() < 0.35:
        parts.append((rng.uniform(0.2, 0.8), spikes(rng, n, samples_per_px)))
        recipe.append("spikes")
    shape = sum(w * p for w, p in parts)
    # Tool response: the pen never jumps across the track within one pixel row.
    absent = ~np.isfinite(shape)
    # Analog galvanometers smooth over a few pixels; a minority of (digital-era) logs stay jagged. Real
    # logs plotted from their samples are jagged more often than 8 % of the time (the first share): on
    # pages drawn that way the model took the short strokes at the tips of a jagged dashed curve for
    # dash-dot, and the tracer lost them.
    jagged = rng.random() < JAGGED_SHARE
    if jagged:
        sigma_px = max(np.exp(rng.uniform(np.log(0.7), np.log(2.0))), swing_px / 200.0, 1.5 / samples_per_px)
    else:
        sigma_px = max(np.exp(rng.uniform(np.log(1.0), np.log(8.0))), swing_px / 150.0, resolution_px)
    shape = smooth(np.nan_to_num(shape, nan=0.0), sigma_px * samples_per_px)
    if jagged and rng.random() < 0.5:
        shape = plotted_from_samples(shape, rng.uniform(1.5, 5.0) * samples_per_px)
    shape[absent] = np.nan
    shape = normalise(shape, min_spread=0.35)
    # A little pen jitter, at most about half a pixel.
    if swing_px > 0:
        shape = shape + rng.uniform(0.0, 0.5) / swing_px * rng.standard_normal(n)
    return shape, "+".join(recipe)
