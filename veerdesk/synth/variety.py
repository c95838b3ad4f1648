"""Extra style variety for held-out styles and real scans, drawn from a child random stream.

The model is judged on pages drawn in styles we never produced, and on real scans, so this module pushes
the tails: unusual pen patterns (long-short dashes, sparse dots, double lines, hairline faint pens, 8-px
pens), curves spilling into the next track, crowded tracks, grids that look like curves (dashed, dotted,
dense, as dark and wide as the curves), hatched zones, printed extras (repeated scale headings, text
blocks, curve names along curves, lithology strips, a second depth scale), taped page joins, tall strips,
hand corrections, and reprint / re-encoding damage (JPEG on 1-bit pages, blocky upscales, moiré, heavy
salt-and-pepper, smears, negatives, warp and larger skew for crops).

The child stream comes from ``rng.spawn`` (which does not advance the parent), so most factors leave the
base design of a seed alone; only extra tracks / curves change what the base design draws next. The
functions mutate or return plain dicts that the renderer and the artefact pass read with ``.get``: a
design without these keys renders as before.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def variety_stream(rng: np.random.Generator) -> np.random.Generator:
    """A child stream that does not advance ``rng`` (so the base design stays the same for a seed)."""
    return rng.spawn(1)[0]


# --------------------------------------------------------------------------- page and depth axis
def tall_page(rng: np.random.Generator, width: int, height: int, free_height: bool) -> tuple[int, int]:
    """Now and then a long strip log taller than 14,000 px (kept under ~120 MP: such strips are narrow)."""
    roll = rng.random()
    tall = float(np.exp(rng.uniform(math.log(14000), math.log(40000))))
    if free_height and roll < 0.08:
        height = int(round(tall))
        width = int(min(width, 1.2e8 / height))
    return width, height


def detail_scale(rng: np.random.Generator, unit: str) -> float | None:
    """Detail logs (1:48 / 1:60 at 200–400 dpi) have 15–60 px per foot, beyond the usual 1–15."""
    roll = rng.random()
    ppu = float(np.exp(rng.uniform(math.log(15.0), math.log(60.0))))
    if roll >= 0.1:
        return None
    return ppu * (3.2808 if unit == "M" else 1.0)


def extra_tracks(rng: np.random.Generator) -> int:
    """Composite logs with five or six tracks."""
    roll, more = rng.random(), int(rng.integers(1, 3))
    return more if roll < 0.07 else 0


def extra_curves(rng: np.random.Generator, n_tracks: int) -> list[int]:
    """Extra curves per track (up to five in one track, as on dual-induction / laterolog suites)."""
    rolls, more = rng.random(n_tracks), rng.integers(1, 3, n_tracks)
    return [int(m) if r < 0.1 else 0 for r, m in zip(rolls, more, strict=True)]


def taped_joins(rng: np.random.Generator, depth: dict[str, Any], y0: float, y1: float,
                px_per_unit: float) -> list[list[float]]:
    """Pages taped together where a strip was torn off: the depth jumps at the join (the missing paper
    held that interval). The ties get the jump, and the curves are absent over the missing depths.
    Returns ``[[row, depth_above, depth_below], ...]``."""
    if rng.random() > 0.07 or y1 - y0 < 400:
        return []
    ties = [list(t) for t in depth["ties"]]
    joins = []
    for _ in range(int(rng.integers(1, 3))):
        row = float(round(rng.uniform(y0 + 0.15 * (y1 - y0), y1 - 0.15 * (y1 - y0)), 2))
        rows = np.array([t[0] for t in ties])
        if np.min(np.abs(rows - row)) < 4:
            continue
        depths = np.array([t[1] for t in ties])
        d_row = float(round(np.interp(row, rows, depths), 6))
        gap = float(round(rng.uniform(2, 60) / px_per_unit * rng.uniform(0.5, 3.0), 6)) + 0.5 * depth["step"]
        above = [t for t in ties if t[0] < row]
        below = [[t[0], round(t[1] + gap, 6)] for t in ties if t[0] > row]
        ties = above + [[row, d_row], [row + 1.0, round(d_row + gap, 6)]] + below
        joins.append([row, d_row, round(d_row + gap, 6)])
    depth["ties"] = ties
    return sorted(joins)


# --------------------------------------------------------------------------- strokes
# Plotting software (matplotlib, chart tools, many log viewers) scales its dash patterns with the pen:
# matplotlib's '--' is 3.7 on / 1.6 off pen widths, ':' 1 / 1.65 and '-.' 6.4 / 1.6 / 1 / 1.6, with butt
# caps. Gaps of 1.6 pen widths are tighter than any pattern the designer draws (a gap is at least 3 px plus
# the pen), and the stage-11h model confused those styles (bench/bench_plot_library_style.py).
PLOTTER_DASHES = {"dashed": (3.7, 1.6), "dotted": (1.0, 1.65), "dashdot": (6.4, 1.6, 1.0, 1.6)}


def plotter_pattern(style: str, width: int, stretch: float = 1.0) -> list[float]:
    """``style``'s pen-scaled pattern, as on/off lengths for our round-capped pens (a stroke of length L
    shows L + width, so the visible lengths are converted)."""
    w = float(max(1, width))
    visible = [v * stretch * w for v in PLOTTER_DASHES[style]]
    return [max(0.0, v - w) if i % 2 == 0 else v + w for i, v in enumerate(visible)]


def use_plotter_dashes(curves: list[dict[str, Any]], rng: np.random.Generator) -> None:
    """Give every broken-style curve look in ``curves`` a pen-scaled pattern (0.7-1.5 times the nominal)."""
    for look in curves:
        if look["style"] in PLOTTER_DASHES:
            look["pattern"] = plotter_pattern(look["style"], look["width"], float(rng.uniform(0.7, 1.5)))
            look["pattern_name"] = f"plotter_{look['style']}"


def vary_stroke(rng: np.random.Generator, look: dict[str, Any], paper: int, clean: bool) -> None:
    """Unusual pen patterns and widths for one curve (style class unchanged: the mask stays exact)."""
    style = look["style"]
    width = look["width"]
    roll = rng.random()
    if style == "dotted" and roll < 0.3:
        # Sparse dots with large gaps (a slow pen on a fast chart, or a coarse dot matrix).
        look["pattern"] = [float(rng.uniform(0.0, 2.5)), float(rng.uniform(10.0, 30.0) + width)]
        look["pattern_name"] = "sparse_dot"
    elif style == "dashed" and roll < 0.25:
        # Short dashes with wide gaps: from afar they read as dots.
        look["pattern"] = [float(rng.uniform(2.0, 7.0) + width), float(rng.uniform(12.0, 35.0) + width)]
        look["pattern_name"] = "sparse_dash"
    elif style == "dashed" and roll < 0.4:
        # Very long dashes with short gaps: almost solid.
        look["pattern"] = [float(rng.uniform(60.0, 160.0)), float(rng.uniform(3.0, 8.0) + width)]
        look["pattern_name"] = "very_long_dash"
    elif style == "dashdot" and roll < 0.35:
        long = float(rng.uniform(20.0, 60.0) + width)
        short = float(rng.uniform(4.0, 10.0) + width)
        gap = float(rng.uniform(3.0, 10.0) + width)
        if rng.random() < 0.5:
            look["pattern"] = [long, gap, short, gap]
            look["pattern_name"] = "long_short_dash"
        else:
            dot = float(rng.uniform(0.0, 1.5))
            look["pattern"] = [long, gap, dot, gap, dot, gap, dot, gap]
            look["pattern_name"] = "dash_dot_dot_dot"
    if rng.random() < 0.06:
        # Thin double line (two parallel pen strokes); the truth is the middle.
        look["width"] = width = int(min(width, 2))
        look["double"] = float(rng.uniform(1.5, 3.5))
    elif rng.random() < 0.05:
        look["width"] = width = int(rng.integers(7, 9))  # very thick felt pen
    faint_roll = rng.random()  # drawn always, so clean and dirty pages of a seed share the rest
    if not clean and faint_roll < 0.05:
        # Hairline, barely darker than the paper: real faded pens still have to be found.
        look["width"] = 1
        look["grey"] = int(max(0, paper - rng.uniform(40, 75)))
        look["antialias"] = False
        look["faint"] = True


def plan_spills(rng: np.random.Generator, tracks: list[dict[str, Any]], looks: list[dict[str, Any]],
                page_width: float) -> None:
    """Let some curves without a backup scale run over a track edge into the neighbouring track (or the
    margin), as real pens did before the engineer reset the scale. The truth keeps the real value and the
    label follows the ink wherever it goes."""
    if rng.random() > 0.3:
        return
    k = 0
    for track in tracks:
        width = track["x1"] - track["x0"]
        room_lo = max(0.0, (track["x0"] - 4.0) / width)
        room_hi = max(0.0, (page_width - 4.0 - track["x1"]) / width)
        for curve in track["curves"]:
            look = looks[k]
            k += 1
            plan = look["signal"]
            if "backup" in curve or plan["wrap"] or rng.random() > 0.45:
                continue
            right = rng.random() < 0.6
            reach = float(rng.uniform(0.05, 0.6))
            lo, hi = (0.0, min(reach, room_hi)) if right else (min(reach, room_lo), 0.0)
            if max(lo, hi) < 0.03:
                continue
            plan["spill"] = [float(lo), float(hi)]
            # Push the trace towards the spilling edge so that it really goes over now and then.
            plan["amplitude"] = float(rng.uniform(0.5, 1.0))
            plan["centre"] = float(rng.uniform(0.55, 0.85) if right else rng.uniform(0.15, 0.45))
            look["spill"] = plan["spill"]


# --------------------------------------------------------------------------- grids
def vary_grid(rng: np.random.Generator, grid: dict[str, Any], px_per_unit: float, curves: list[dict[str, Any]],
              clean: bool) -> dict[str, Any]:
    """Grids that compete with the curves: dashed or dotted lines, dense spacing, curve-dark and wide."""
    extra: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.08:
        extra["line_pattern"] = [float(rng.uniform(3.0, 12.0)), float(rng.uniform(2.0, 8.0))]  # dashed grid
    elif roll < 0.16:
        extra["line_pattern"] = [float(rng.uniform(0.0, 1.5)), float(rng.uniform(2.0, 6.0))]  # dotted grid
    if rng.random() < 0.12:
        # As dark (and as wide) as the curves: the model must tell them apart by shape only.
        ink = min((c["grey"] for c in curves), default=20)
        grey = int(np.clip(ink + rng.integers(-10, 30), 0, 120))
        width = int(max(1, min(3, max((c["width"] for c in curves), default=1) + rng.integers(-1, 1))))
        grid.update(grey=grey, major_grey=max(0, grey - int(rng.integers(0, 20))), missing=False,
                    minor_width=int(rng.choice([1, width])), major_width=width,
                    heavy_width=max(grid["heavy_width"], width))
        extra["dark"] = True
    if rng.random() < 0.05:
        # Very dense grid: a line every 2–4 px, both ways.
        minor_px = float(rng.uniform(2.0, 4.0))
        grid["minor"] = float(_round_spacing(minor_px / max(px_per_unit, 1e-6)))
        for track in grid["tracks"]:
            track["divisions"] = int(rng.integers(25, 60))
        extra["dense"] = True
    if rng.random() < 0.06:
        grid["missing"] = True
    return extra


def _round_spacing(depth: float) -> float:
    """A printable grid spacing near ``depth`` units (1, 2 or 5 times a power of ten)."""
    exponent = math.floor(math.log10(max(depth, 1e-6)))
    base = 10.0**exponent
    for m in (1, 2, 5, 10):
        if m * base >= depth:
            return m * base
    return 10 * base


def track_backgrounds(rng: np.random.Generator, n_tracks: int, paper: int) -> list[dict[str, Any] | None]:
    """Diagonal hatching, cross-hatching or dot screens in a track (background ink): over marked depth
    zones (cored or perforated intervals, pay zones), now and then over the whole track."""
    out: list[dict[str, Any] | None] = []
    page_has = rng.random() < 0.08
    for _ in range(n_tracks):
        if not page_has or rng.random() < 0.4:
            out.append(None)
            continue
        kind = str(rng.choice(["hatch", "hatch", "crosshatch", "dots"]))
        dark = rng.random() < 0.25
        grey = int(rng.uniform(20, 90)) if dark else int(rng.uniform(max(0, paper - 110), paper - 30))
        zones = [[0.0, 1.0]]
        if rng.random() < 0.7:
            starts = np.sort(rng.uniform(0, 1, int(rng.integers(1, 6))))
            zones = [[float(a), float(min(1.0, a + rng.uniform(0.01, 0.15)))] for a in starts]
        out.append({"kind": kind, "grey": grey, "period": float(rng.uniform(5, 18)), "zones": zones,
                    "angle": float(rng.choice([45, 135, 30, 60, 120, 150])), "thickness": int(rng.choice([1, 1, 2]))})
    return out


# --------------------------------------------------------------------------- extra printed content
LITHOLOGIES = ("sand", "shale", "lime", "dolomite", "coal", "salt", "anhydrite", "chert", "siltstone")


def extra_content(rng: np.random.Generator, tracks: list[dict[str, Any]], depth_column: tuple[float, float],
                  body: tuple[float, float], px_per_unit: float, text_scale: float, clean: bool) -> dict[str, Any]:
    """Printed things that are not curves and sit among them: repeated scale headers, blocks of text,
    curve names written along the curves, a lithology column with core symbols, a second depth scale."""
    out: dict[str, Any] = {"seed": int(rng.integers(2**31))}
    if rng.random() < 0.25:
        # Long logs repeat the scale heading every so often, across the tracks.
        out["repeat_headers"] = {"every_px": float(rng.uniform(1200, 5000)), "phase": float(rng.uniform(0, 1)),
                                 "height": float(text_scale * rng.uniform(18, 40)), "box": bool(rng.random() < 0.6),
                                 "white": bool(rng.random() < 0.6)}
    if rng.random() < 0.2:
        out["text_blocks"] = int(rng.integers(1, 6))
    if rng.random() < 0.2:
        out["curve_labels"] = {"every_px": float(rng.uniform(300, 1500)), "size": float(rng.uniform(5, 11)),
                               "offset": float(rng.uniform(3, 14))}
    if rng.random() < 0.12:
        ti = int(rng.integers(len(tracks)))
        x0, x1 = tracks[ti]["x0"], tracks[ti]["x1"]
        frac = float(rng.uniform(0.08, 0.3))
        if rng.random() < 0.5:
            strip = (x0 + 1.0, x0 + frac * (x1 - x0))
        else:
            strip = (x1 - frac * (x1 - x0), x1 - 1.0)
        out["lithology"] = {"x0": float(strip[0]), "x1": float(strip[1]),
                            "mean_bed_px": float(rng.uniform(15, 250)), "grey": int(rng.integers(0, 90)),
                            "period": float(rng.uniform(4, 12)), "cores": bool(rng.random() < 0.5),
                            "border": bool(rng.random() < 0.7)}
    if rng.random() < 0.1:
        # A second depth scale: metres beside feet (or a shifted, re-tied one) printed inside a track edge.
        ti = int(rng.integers(len(tracks)))
        out["second_depth"] = {"track": ti, "side": str(rng.choice(["left", "right"])),
                               "factor": float(rng.choice([0.3048, 3.2808, 1.0])),
                               "offset": float(rng.choice([0.0, 0.0, rng.uniform(-50, 50)])),
                               "every_px": float(rng.uniform(150, 600)), "size": float(rng.uniform(5, 10)),
                               "rotation": int(rng.choice([0, 0, 90]))}
    corrections = int(rng.integers(1, 4)) if rng.random() < 0.08 else 0
    if corrections and not clean:
        out["corrections"] = corrections  # hand-drawn, so an occluder (none on clean pages)
    return out


# --------------------------------------------------------------------------- scan and reprint damage
def vary_scan(rng: np.random.Generator, plan: dict[str, Any]) -> None:
    """Add reprint / re-encoding damage to an artefact plan (in place)."""
    if not plan.get("enabled"):
        return
    # Archives often re-encode 1-bit scans as JPEG (blocking and ringing around black lines).
    plan["jpeg_after"] = int(rng.integers(8, 60)) if rng.random() < (0.25 if plan["bilevel"] else 0.08) else 0
    # Scanned at low resolution and upscaled by pixel repetition: blocky staircase edges.
    plan["blocky"] = float(rng.uniform(1.5, 3.5)) if rng.random() < 0.12 else 0.0
    # A reprinted copy carries a halftone screen that beats against the scanner grid.
    if rng.random() < 0.08:
        plan["moire"] = {"period": float(rng.uniform(2.2, 6.0)), "angle": float(rng.uniform(0, 180)),
                         "strength": float(rng.uniform(0.15, 0.5))}
    if rng.random() < 0.06:
        plan["speckle"] = float(rng.uniform(3e-3, 2e-2))  # heavy salt-and-pepper
        plan["salt_pepper"] = True
    if rng.random() < 0.06:
        plan["skew_deg"] = float(rng.choice([-1, 1]) * rng.uniform(1.0, 3.0))
    if rng.random() < 0.12:
        # A curved or cockled page (book scans, photographed sheets): smooth bending, crops only.
        plan["warp"] = {"amp_x": float(rng.uniform(1.0, 6.0)), "amp_y": float(rng.uniform(0.0, 4.0)),
                        "wave_x": float(rng.uniform(300, 2500)), "wave_y": float(rng.uniform(300, 2500)),
                        "phase": [float(p) for p in rng.uniform(0, 2 * math.pi, 2)]}
    # Wet ink dragged by a hand or a roller: smudges beside curve strokes (per megapixel).
    plan["smears"] = float(rng.uniform(1.0, 8.0)) if rng.random() < 0.12 else 0.0
    # A negative print of one track (white ink on black), as on some reproduced / microfilm logs.
    plan["inverted_track"] = int(rng.integers(0, 4)) if rng.random() < 0.03 else -1
    # A whole negative (microfilm reader copies): white ink on black paper, labels kept.
    plan["negative"] = bool(rng.random() < 0.015)
    # Ink bled into the paper fibres: ragged stroke edges (share of edge pixels that bleed).
    plan["ragged"] = float(rng.uniform(0.1, 0.5)) if rng.random() < 0.15 else 0.0
    # Continuous-form logs are perforated along their fan folds.
    plan["perforated"] = bool(rng.random() < 0.5)
