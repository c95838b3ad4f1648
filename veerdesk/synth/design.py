"""Every random decision about one page, drawn from a seeded Generator before anything is rendered.

A ``PageDesign`` is cheap (numbers only), so the crop stream can design a full virtual page and render
just a window of it: crops then look exactly like parts of real-size pages. Render parameters live in
plain dicts so that ``style_summary`` can hand them to the caller as JSON-able ``style``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from veerdesk.core.layout import Layout
from veerdesk.synth import variety, vocab

WIDTH_RANGE = (2000, 12000)
HEIGHT_RANGE = (2000, 14000)

# Colours as RGB; the page's scanner response turns them into grey.
INK_COLOURS = {
    "black": (15, 15, 15), "dark_blue": (25, 35, 110), "blue": (35, 80, 200), "red": (200, 30, 30),
    "dark_red": (130, 20, 25), "green": (30, 140, 50), "brown": (100, 60, 30), "purple": (100, 35, 130),
    "orange": (225, 110, 25), "grey": (90, 90, 90),
}
GRID_COLOURS = {
    "black": (20, 20, 20), "grey": (140, 140, 140), "light_grey": (185, 185, 185), "red": (215, 70, 60),
    "orange": (235, 140, 60), "green": (70, 160, 90), "blue": (80, 120, 210), "brown": (150, 110, 70),
}
PAPER_COLOURS = {
    "white": (255, 255, 255), "cream": (250, 244, 225), "yellowed": (238, 226, 188), "grey": (232, 232, 232),
    "greenish": (232, 242, 232), "bluish": (236, 240, 250), "buff": (242, 232, 210),
}
# How the scanner turns colour into grey (red ink vanishes on a red-channel scan, as on real archives).
SCANNER_RESPONSES = {
    "luma": (0.299, 0.587, 0.114), "green": (0.0, 1.0, 0.0), "red": (1.0, 0.0, 0.0),
    "blue": (0.0, 0.0, 1.0), "average": (1 / 3, 1 / 3, 1 / 3),
}
STYLE_PROBS = {"solid": 0.4, "dashed": 0.25, "dotted": 0.15, "dashdot": 0.2}


@dataclass
class PageDesign:
    width: int
    height: int
    layout: Layout
    px_per_unit: float
    paper: int
    body: tuple[float, float]  # first and last tied row
    depth_column: tuple[float, float]
    grid: dict[str, Any]
    curves: list[dict[str, Any]]  # aligned with layout.curves()
    fills: list[dict[str, Any]]
    references: list[dict[str, Any]]
    header: dict[str, Any]
    depth_labels: dict[str, Any]
    track_labels: dict[str, Any]
    annotations: list[dict[str, Any]]
    artefacts: dict[str, Any]
    text_scale: float  # pixels per "point" of text
    summary: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)  # variety.extra_content


def _choice(rng: np.random.Generator, options, p=None):
    if isinstance(options, dict):
        keys = list(options)
        probs = None if p is None else np.asarray(p, dtype=float) / np.sum(p)
        return keys[int(rng.choice(len(keys), p=probs))]
    probs = None if p is None else np.asarray(p, dtype=float) / np.sum(p)
    return options[int(rng.choice(len(options), p=probs))]


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(math.log(lo), math.log(hi))))


def to_grey(rgb: tuple[int, int, int], response: tuple[float, float, float]) -> int:
    return int(round(min(255.0, max(0.0, float(np.dot(rgb, response))))))


def _size(value, default_range, rng) -> int:
    if value is None:
        return int(round(_loguniform(rng, *default_range)))
    if isinstance(value, (tuple, list)):
        lo, hi = value
        return int(round(_loguniform(rng, max(1, lo), max(1, hi)))) if hi > lo else int(lo)
    return int(value)


# --------------------------------------------------------------------------- depth axis
def _depth_axis(rng, unit: str, y0: float, y1: float, detail_ppu: float | None = None
                ) -> tuple[dict[str, Any], float, dict[str, Any]]:
    """Ties (depth increasing down the page), step and grid spacing for the body rows y0..y1.
    ``detail_ppu`` overrides the depth scale (detail logs, see ``variety.detail_scale``)."""
    if unit == "FT":
        ppu = _loguniform(rng, 1.0, 15.0)
        top = float(rng.integers(0, 120) * 100)
        step = float(_choice(rng, (0.5, 0.5, 0.25, 1.0, 0.1)))
        minor_options = (1, 2, 5, 10, 20, 50)
    else:
        ppu = _loguniform(rng, 2.0, 45.0)
        top = float(rng.integers(0, 80) * 50)
        step = float(_choice(rng, (0.1, 0.1, 0.05, 0.2, 0.25, 0.5, 0.125, 0.1524)))
        minor_options = (0.2, 0.5, 1, 2, 5, 10, 20)
    if detail_ppu:
        ppu = detail_ppu
        minor_options = ((0.1,) if unit == "M" else (0.5,)) + minor_options
    # The page may start anywhere, not only at a round depth.
    if rng.random() < 0.5:
        top += float(rng.uniform(0, 100))
    # Gentle paper stretch: the local depth scale wanders by up to ~1.5 % between tie points.
    wobble = 0.0 if rng.random() < 0.5 else rng.uniform(0.001, 0.015)
    n_segments = 1 if wobble == 0.0 else int(rng.integers(2, 7))
    rows = np.linspace(y0, y1, n_segments + 1)
    scales = ppu * (1.0 + wobble * rng.standard_normal(n_segments))
    scales = np.clip(scales, ppu * 0.95, ppu * 1.05)
    depths = top + np.concatenate([[0.0], np.cumsum(np.diff(rows) / scales)])
    ties = [[float(r), float(round(d, 6))] for r, d in zip(rows, depths, strict=True)]
    min_px = rng.uniform(3.0, 14.0)
    minor = next((m for m in minor_options if m * ppu >= min_px), minor_options[-1])
    major_every = int(_choice(rng, (5, 5, 10, 10, 2, 4)))
    heavy_every = int(_choice(rng, (0, 2, 5, 10, 10)))
    grid = {"minor": minor, "major_every": major_every, "heavy_every": heavy_every}
    return {"unit": unit, "ties": ties, "step": step}, ppu, grid


# --------------------------------------------------------------------------- tracks and curves
def _curve_kinds(rng, n: int) -> list[tuple[str, str | None]]:
    kinds: list[tuple[str, str | None]] = []
    styles = list(STYLE_PROBS)
    probs = np.array(list(STYLE_PROBS.values()))
    while len(kinds) < n:
        style = styles[int(rng.choice(len(styles), p=probs / probs.sum()))]
        weight = _choice(rng, (None, None, None, "heavy", "light"))
        if (style, weight) not in kinds:
            kinds.append((style, weight))
    return kinds


def _pattern(rng, style: str, width: int) -> tuple[list[float], str]:
    """On/off lengths in pixels along the trace (empty for solid)."""
    w = max(1, width)
    if style == "dashed":
        if rng.random() < 0.3:  # long-dash, common on old induction logs
            return [rng.uniform(25, 80), rng.uniform(4, 18) + w], "long_dash"
        return [rng.uniform(4, 30) + w, rng.uniform(3, 16) + w], "dash"
    if style == "dotted":
        return [rng.uniform(0.0, 1.5), rng.uniform(2.0, 9.0) + w], "dot"
    if style == "dashdot":
        dash = rng.uniform(8, 45) + w
        gap = rng.uniform(3, 12) + w
        if rng.random() < 0.25:  # dash-dot-dot
            return [dash, gap, rng.uniform(0, 1.5), gap, rng.uniform(0, 1.5), gap], "dash_dot_dot"
        return [dash, gap, rng.uniform(0, 2.0), gap], "dash_dot"
    return [], "solid"


def _curve_look(rng, style, weight, base_width, response, paper, pen_colours, fragmenting) -> dict[str, Any]:
    if weight == "heavy":
        width = int(min(6, base_width + rng.integers(1, 4)))
    elif weight == "light":
        # A light pen is the thin one of a heavy/light pair: never as thick as a normal curve on the page.
        width = int(max(1, min(base_width - 1, 2) - rng.integers(0, 2)))
    else:
        width = int(np.clip(base_width + rng.integers(-1, 2), 1, 6))
    colour_name = _choice(rng, pen_colours)
    grey = to_grey(INK_COLOURS[colour_name], response)
    # Ink that the scan turned paper-white is unrealistic for a curve someone wants digitized.
    grey = min(grey, paper - 60)
    if weight == "light":
        grey = min(paper - 40, grey + int(rng.integers(0, 60)))
    pattern, pattern_name = _pattern(rng, style, width)
    return {
        "style": style, "weight": weight, "width": width, "colour": colour_name, "grey": int(max(0, grey)),
        "antialias": bool(rng.random() < 0.5), "pattern": [float(p) for p in pattern], "pattern_name": pattern_name,
        "phase": float(rng.uniform(0, 200)),
        "fragments": bool(fragmenting and rng.random() < 0.5),
        "fragment_gap": float(rng.uniform(1.0, 12.0)), "fragment_len": float(rng.uniform(40, 1500)),
        "width_wander": bool(fragmenting and rng.random() < 0.5),
        # Some digital plotters hold each sample: the trace is a staircase centred on the samples.
        "staircase": bool(rng.random() < 0.08),
    }


def _signal_plan(rng, wrap: int, unit: str) -> dict[str, Any]:
    if wrap:
        amplitude = rng.uniform(0.5, 1.3)
        centre = rng.uniform(0.55, 0.95) if wrap > 0 else rng.uniform(0.05, 0.45)
    else:
        amplitude = _loguniform(rng, 0.12, 0.95)
        centre = rng.uniform(0.15 + amplitude / 4, 0.85 - amplitude / 4) if amplitude < 1.2 else 0.5
    absent = []
    for _ in range(int(_choice(rng, (0, 0, 0, 1, 1, 2, 3)))):
        start = rng.uniform(0, 1)
        absent.append([float(start), float(min(1.0, start + rng.uniform(0.01, 0.25)))])
    if rng.random() < 0.3:
        absent.append([0.0, float(rng.uniform(0.0, 0.3))])
    if rng.random() < 0.3:
        absent.append([float(rng.uniform(0.7, 1.0)), 1.0])
    # Some pens peg at the track edge for a while; most stay inside.
    peg = float(rng.uniform(0.0, 0.05)) if rng.random() < 0.2 else 0.0
    # Vertical resolution of the tool, in depth units (about 0.1-1 ft).
    resolution = _loguniform(rng, 0.1, 1.0) * (0.3048 if unit == "M" else 1.0)
    return {"centre": float(centre), "amplitude": float(amplitude), "wrap": int(wrap), "absent": absent, "peg": peg,
            "resolution": float(resolution)}


def _tracks(rng, left: float, right: float, n_tracks: int, depth_pos: int, depth_width: float,
            log_prob: float) -> tuple[list[dict[str, Any]], tuple[float, float]]:
    gap = 0.0 if rng.random() < 0.6 else rng.uniform(2, 0.02 * (right - left) + 3)
    usable = right - left - depth_width - gap * n_tracks
    shares = rng.dirichlet(np.full(n_tracks, rng.uniform(2.0, 12.0)))
    widths = np.maximum(shares * usable, 40.0)
    widths *= usable / widths.sum()
    x = left
    tracks, depth_column = [], (left, left + depth_width)
    for i in range(n_tracks + 1):
        if i == depth_pos:
            depth_column = (x, x + depth_width)
            x += depth_width + gap
        if i < n_tracks:
            x0 = round(float(x), 1)
            x1 = round(float(x + widths[i]), 1)
            tracks.append({"x0": x0, "x1": x1, "scale": "log" if rng.random() < log_prob else "linear", "curves": []})
            x = x1 + gap
    return tracks, depth_column


def _fill_curves(rng, tracks, response, paper, n_curves_cap, base_width, pen_colours, fragmenting, unit,
                 bonus=None):
    used: set[str] = set()
    looks: list[dict[str, Any]] = []
    for ti, track in enumerate(tracks):
        n = int(_choice(rng, (1, 2, 2, 3, 3)))
        if bonus:
            n += bonus[ti]  # crowded tracks: four or five resistivity curves in one track
        if n_curves_cap:
            n = min(n, n_curves_cap)
        kinds = _curve_kinds(rng, n)
        if track["scale"] == "log":
            left = float(_choice(rng, vocab.LOG_LEFT_VALUES))
            decades = int(_choice(rng, (1, 2, 2, 3, 3, 4, 4)))
        for style, weight in kinds:
            wrap = 0
            if track["scale"] == "log":
                options = [c for c in vocab.LOG_CURVES if c[0] not in used]
                mnemonic, unit = options[int(rng.integers(len(options)))] if options else (f"R{len(used)}", "OHMM")
                lo, hi = left, left * 10.0**decades
                if rng.random() < 0.15:
                    wrap = 1
            else:
                options = [c for c in vocab.LINEAR_CURVES if c[0] not in used]
                if options:
                    mnemonic, unit, scales, wrappable = options[int(rng.integers(len(options)))]
                    lo, hi = scales[int(rng.integers(len(scales)))]
                else:
                    mnemonic, unit, lo, hi, wrappable = f"C{len(used)}", "", 0.0, 100.0, True
                if wrappable and rng.random() < 0.35:
                    wrap = int(_choice(rng, (1, 1, -1)))
            used.add(mnemonic)
            curve = {"mnemonic": mnemonic, "unit": unit, "left": float(lo), "right": float(hi), "style": style}
            if weight:
                curve["weight"] = weight
            if wrap:
                curve["backup"] = _backup_scale(track["scale"], lo, hi, wrap, rng)
            track["curves"].append(curve)
            look = _curve_look(rng, style, weight, base_width, response, paper, pen_colours, fragmenting)
            look["signal"] = _signal_plan(rng, wrap, unit)
            looks.append(look)
    return looks


def _order_pen_weights(track_looks: list[dict[str, Any]]) -> None:
    """Within one track a heavy pen is visibly heavier than a normal one, and a light pen visibly lighter:
    on real logs that is how two curves of one style are told apart, so the drawing must not contradict
    the weights the layout declares."""
    weights = {look["weight"] for look in track_looks}
    if weights == {None}:
        return
    for look in track_looks:
        if look["weight"] is None:
            # Room for a light pen two pixels below (>= 3 px) and a heavy one of at most 6 px above (<= 4 px):
            # one pixel of difference is within what a scan does to a stroke, so nobody could tell them apart.
            low, high = (3 if "light" in weights else 1), (4 if "heavy" in weights else 99)
            look["width"] = int(min(max(look["width"], low), high))
    normal = [look["width"] for look in track_looks if look["weight"] is None]
    for look in track_looks:
        if look["weight"] == "light":
            look["width"] = int(max(1, min(look["width"], min(normal, default=3) - 2)))
    light = [look["width"] for look in track_looks if look["weight"] == "light"]
    for look in track_looks:
        if look["weight"] == "heavy":
            floor = max(max(normal, default=0), max(light, default=0)) + 2
            look["width"] = int(min(6, max(look["width"], floor)))


def _backup_scale(track_scale: str, lo: float, hi: float, wrap: int, rng) -> dict[str, float]:
    if track_scale == "log":
        ratio = hi / lo
        return {"left": hi, "right": hi * ratio} if wrap > 0 else {"left": lo / ratio, "right": lo}
    span = hi - lo
    factor = 1.0 if rng.random() < 0.7 else 10.0  # x10 backups on old resistivity logs
    if wrap > 0:
        # Values continue past the right edge: backup starts where the main scale ends.
        return {"left": hi, "right": hi + span * factor}
    return {"left": lo - span * factor, "right": lo}


# --------------------------------------------------------------------------- the whole page
def design_page(rng: np.random.Generator, width=None, height=None, *, clean: bool = False) -> PageDesign:
    extra = variety.variety_stream(rng)
    W = _size(width, WIDTH_RANGE, rng)
    H = _size(height, HEIGHT_RANGE, rng)
    W, H = variety.tall_page(extra, W, H, height is None)
    response_name = _choice(rng, SCANNER_RESPONSES, p=(5, 2, 1, 1, 1))
    response = SCANNER_RESPONSES[response_name]
    paper_name = _choice(rng, PAPER_COLOURS, p=(5, 2, 1, 1, 1, 1, 1))
    paper = to_grey(PAPER_COLOURS[paper_name], response)
    paper = max(paper, 200)
    # Text and margins scale with the printed page, not with pixels: a "point" is about 1/72 inch.
    px_per_inch = W / rng.uniform(6.5, 11.0)
    text_scale = px_per_inch / 72.0

    margin_l = W * rng.uniform(0.0, 0.06)
    margin_r = W * rng.uniform(0.0, 0.06)
    header_kind = _choice(rng, ("none", "band", "full"), p=(3, 3, 3))
    header_h = {"none": 0.0, "band": rng.uniform(0.02, 0.06), "full": rng.uniform(0.08, 0.3)}[header_kind] * H
    header_h = min(header_h, 3000.0)
    top = H * rng.uniform(0.0, 0.02) + header_h
    legend_h = 0.0 if rng.random() < 0.25 else min(H * 0.15, text_scale * rng.uniform(18, 60))
    y0 = round(float(top + legend_h), 2)
    y1 = round(float(H - H * rng.uniform(0.0, 0.04)), 2)
    if y1 - y0 < 0.3 * H:  # tiny test pages: keep a real body
        y0, y1 = round(0.1 * H, 2), round(0.98 * H, 2)

    unit = "FT" if rng.random() < 0.6 else "M"
    depth, ppu, grid_spacing = _depth_axis(rng, unit, y0, y1, variety.detail_scale(extra, unit))
    joins = variety.taped_joins(extra, depth, y0, y1, ppu)

    n_tracks = int(_choice(rng, (1, 2, 3, 3, 4)))
    n_tracks += variety.extra_tracks(extra)
    depth_pos = int(_choice(rng, list(range(n_tracks + 1)), p=[2] + [4 if i == 1 else 1 for i in range(1, n_tracks + 1)]))
    depth_width = max(24.0, (W - margin_l - margin_r) * rng.uniform(0.04, 0.12))
    log_prob = rng.uniform(0.0, 0.6)
    tracks, depth_column = _tracks(rng, margin_l, W - margin_r, n_tracks, depth_pos, depth_width, log_prob)

    pen_colours = ["black"] * 6 + ["dark_blue", "blue", "red", "green", "dark_red", "brown", "purple", "orange"]
    if rng.random() < 0.5:
        pen_colours = ["black"]
    base_width = int(_choice(rng, (1, 1, 2, 2, 3, 4, 5)))
    fragmenting = (not clean) and rng.random() < 0.3
    curves = _fill_curves(rng, tracks, response, paper, 0, base_width, pen_colours, fragmenting, unit,
                          variety.extra_curves(extra, len(tracks)))
    for look in curves:
        variety.vary_stroke(extra, look, paper, clean)
    first = 0
    for track in tracks:
        _order_pen_weights(curves[first:first + len(track["curves"])])
        first += len(track["curves"])
    variety.plan_spills(extra, tracks, curves, W)

    well = {"name": f"{vocab.random_word(rng)} {rng.integers(1, 40)}-{rng.integers(1, 36)}",
            "uwi": f"{rng.integers(10, 50)}-{rng.integers(1, 200):03d}-{rng.integers(10000, 99999)}",
            "company": vocab.COMPANIES[int(rng.integers(len(vocab.COMPANIES)))], "field": vocab.random_word(rng)}
    layout = Layout.from_dict({"version": 1, "well": well, "depth": depth, "tracks": tracks})

    grid = _grid_look(rng, response, paper, grid_spacing, tracks)
    grid["variety"] = variety.vary_grid(extra, grid, ppu, curves, clean)
    grid["backgrounds"] = variety.track_backgrounds(extra, len(tracks), paper)
    fills = _fills(rng, layout, curves, response, paper)
    references = _references(rng, layout, response, paper)
    header = {"kind": header_kind, "y0": float(H * 0.005), "y1": float(top), "legend": [float(top), float(y0)],
              "seed": int(rng.integers(2**31)), "box": bool(rng.random() < 0.7)}
    text_font = int(_choice(rng, (0, 1, 2, 3, 4, 5)))
    depth_labels = {
        "every": int(grid_spacing["major_every"] * _choice(rng, (1, 1, 2, 5))),
        "rotation": _choice(rng, (0, 0, 90, 270)), "font": text_font,
        "size": float(rng.uniform(6, 14)), "grey": to_grey(INK_COLOURS[_choice(rng, ("black", "black", "dark_blue", "red"))], response),
        "ticks": _choice(rng, ("none", "left", "right", "both")), "tick_len": float(rng.uniform(0.1, 0.35)),
        "grid_through": bool(rng.random() < 0.4), "boxed": bool(rng.random() < 0.3),
        "thickness": int(_choice(rng, (1, 1, 2))),
    }
    track_labels = {"on": bool(rng.random() < 0.5), "every_px": float(rng.uniform(600, 4000)),
                    "edge_ticks": bool(rng.random() < 0.2), "tick_every_px": float(rng.uniform(20, 200)),
                    "tick_len": float(rng.uniform(4, 25)),
                    "size": float(rng.uniform(5, 10)), "font": text_font, "boxed": bool(rng.random() < 0.5),
                    "annotations": int(_choice(rng, (0, 0, 1, 3, 6)))}
    annotations = [] if clean else _annotations(rng, W, H, layout, response, text_scale)
    artefacts = {"enabled": False} if clean else _artefact_plan(rng, W, H)
    extras = variety.extra_content(extra, tracks, depth_column, (y0, y1), ppu, text_scale, clean)
    if joins:
        extras["joins"] = joins
    variety.vary_scan(extra, artefacts)
    design = PageDesign(
        width=W, height=H, layout=layout, px_per_unit=ppu, paper=paper, body=(y0, y1), depth_column=depth_column,
        grid=grid, curves=curves, fills=fills, references=references, header=header, depth_labels=depth_labels,
        track_labels=track_labels, annotations=annotations, artefacts=artefacts, text_scale=text_scale,
        extras=extras,
    )
    design.summary = {
        "width": W, "height": H, "scanner_response": response_name, "paper": paper_name, "paper_grey": paper,
        "unit": unit, "px_per_unit": round(ppu, 3), "step": depth["step"], "tracks": n_tracks,
        "track_scales": [t["scale"] for t in tracks], "depth_column_position": depth_pos, "header": header_kind,
        "stretch_ties": len(depth["ties"]), "grid": {k: v for k, v in grid.items() if k != "tracks"},
        "curves": [{k: c[k] for k in ("style", "weight", "width", "colour", "grey", "antialias", "pattern_name",
                                      "fragments", "staircase")} | {"wrap": c["signal"]["wrap"]}
                   | {k: c[k] for k in ("double", "faint", "spill", "pattern") if k in c} for c in curves],
        "fills": [f["kind"] for f in fills], "references": len(references), "depth_labels": depth_labels,
        "track_labels": track_labels, "annotations": [a["kind"] for a in annotations], "artefacts": artefacts,
        "clean": clean, "extras": {k: v for k, v in design.extras.items() if k != "seed"},
    }
    return design


def _grid_look(rng, response, paper, spacing, tracks) -> dict[str, Any]:
    colour_name = _choice(rng, GRID_COLOURS, p=(4, 4, 2, 2, 1, 1, 1, 1))
    grey = to_grey(GRID_COLOURS[colour_name], response)
    fade = rng.uniform(0.0, 0.7) if rng.random() < 0.3 else 0.0
    grey = int(grey + (paper - grey) * fade)
    missing = rng.random() < 0.07
    per_track = []
    for _ in tracks:
        per_track.append({
            "vertical": bool(rng.random() < 0.92), "horizontal": bool(rng.random() < 0.95),
            "divisions": int(_choice(rng, (10, 10, 10, 5, 4, 8, 20, 2))),
        })
    return {
        **spacing, "colour": colour_name, "grey": grey, "missing": missing,
        "minor_width": 1, "major_width": int(_choice(rng, (1, 1, 2))), "heavy_width": int(_choice(rng, (2, 2, 3, 4))),
        "major_grey": int(max(0, grey - rng.integers(0, 60))),
        "border_width": int(_choice(rng, (1, 2, 2, 3, 4))), "border_grey": int(max(0, min(grey, paper - 80) - rng.integers(0, 80))),
        "dotted_minor": bool(rng.random() < 0.12), "antialias": bool(rng.random() < 0.4), "tracks": per_track,
        "skip_minor_vertical": bool(rng.random() < 0.2),
    }


def _fills(rng, layout: Layout, curves, response, paper) -> list[dict[str, Any]]:
    fills = []
    if rng.random() > 0.35:
        return fills
    flat = layout.curves()
    for ti in range(len(layout.tracks)):
        members = [k for k, (t, _, c) in enumerate(flat) if t == ti and c.backup is None]
        if not members or rng.random() < 0.4:
            continue
        kind = _choice(rng, ("solid", "hatch", "crosshatch", "dots", "lines"))
        colour = _choice(rng, ("grey", "light_grey", "green", "orange", "blue", "brown", "red"))
        grey = to_grey(GRID_COLOURS[colour], response)
        grey = int(grey + (paper - grey) * rng.uniform(0.0, 0.5)) if kind == "solid" else grey
        a = members[int(rng.integers(len(members)))]
        others = [m for m in members if m != a]
        between = others[int(rng.integers(len(others)))] if others and rng.random() < 0.6 else None
        fills.append({
            "kind": kind, "grey": grey, "curve_a": a, "curve_b": between,
            "edge": _choice(rng, ("left", "right")), "only_where_a_left": bool(rng.random() < 0.5),
            "period": float(rng.uniform(4, 16)), "angle": _choice(rng, (45, 135, 0, 90, 30, 60)),
            "thickness": int(_choice(rng, (1, 1, 2))),
        })
    return fills


def _references(rng, layout: Layout, response, paper) -> list[dict[str, Any]]:
    refs = []
    for ti, _ in enumerate(layout.tracks):
        if rng.random() < 0.3:
            grey = to_grey(INK_COLOURS[_choice(rng, ("black", "black", "grey", "dark_blue", "red"))], response)
            refs.append({
                "track": ti, "fraction": float(rng.uniform(0.05, 0.95)), "grey": min(grey, paper - 60),
                "pattern": [float(rng.uniform(0, 6)), float(rng.uniform(3, 14))] if rng.random() < 0.8
                else [float(rng.uniform(10, 30)), float(rng.uniform(5, 15))],
                "width": int(_choice(rng, (1, 1, 2, 3))),
            })
    return refs


def _annotations(rng, W, H, layout: Layout, response, text_scale) -> list[dict[str, Any]]:
    items = []
    n = int(_choice(rng, (0, 0, 1, 2, 3, 5, 8)))
    x_lo = min(t.x0 for t in layout.tracks)
    x_hi = max(t.x1 for t in layout.tracks)
    for _ in range(n):
        kind = _choice(rng, ("hand_text", "circle", "arrow", "scribble", "stamp", "bar", "blotch", "underline"),
                       p=(4, 2, 1, 2, 2, 1, 2, 1))
        colour = _choice(rng, ("pencil", "black", "blue", "red", "purple"))
        rgb = {"pencil": (120, 120, 120), "black": (25, 25, 25), "blue": (40, 60, 170), "red": (190, 40, 40),
               "purple": (120, 50, 140)}[colour]
        grey = to_grey(rgb, response)
        if kind in ("bar", "blotch"):
            grey = int(rng.integers(0, 60))
        items.append({
            "kind": kind, "grey": grey, "x": float(rng.uniform(x_lo, x_hi)), "y": float(rng.uniform(0, H)),
            "size": float(text_scale * rng.uniform(8, 40)), "angle": float(rng.normal(0, 12)),
            "seed": int(rng.integers(2**31)), "thickness": int(_choice(rng, (1, 2, 2, 3, 4))),
        })
    return items


def _artefact_plan(rng, W, H) -> dict[str, Any]:
    on = lambda p: bool(rng.random() < p)  # noqa: E731
    bilevel = on(0.55)
    plan = {
        "enabled": True,
        "seed": int(rng.integers(2**31)),
        "faded_ink": float(rng.uniform(0.0, 0.6)) if on(0.3) else 0.0,
        "faded_patchy": on(0.5),
        "bleed_through": float(rng.uniform(0.03, 0.15)) if on(0.15) else 0.0,
        "paper_texture": float(rng.uniform(1, 8)) if on(0.5) else 0.0,
        "illumination": float(rng.uniform(0.03, 0.25)) if on(0.5) else 0.0,
        "stains": int(rng.integers(1, 6)) if on(0.25) else 0,
        "folds": int(rng.integers(1, 4)) if on(0.3) else 0,
        "fold_spacing": float(rng.uniform(2000, 4000)),
        "tape": int(rng.integers(1, 3)) if on(0.1) else 0,
        "holes": _choice(rng, ("none", "none", "punch", "sprocket")),
        "hole_fill": int(_choice(rng, (0, 0, 255, 128))),
        "torn_edge": on(0.15),
        "resample": float(rng.uniform(1.2, 2.5)) if on(0.2) else 1.0,
        "blur": float(rng.uniform(0.3, 1.6)) if on(0.5) else 0.0,
        "motion_blur": int(rng.integers(2, 5)) if on(0.1) else 0,
        "noise": float(rng.uniform(1, 14)) if on(0.5) else 0.0,
        "jpeg": int(rng.integers(15, 90)) if on(0.35 if not bilevel else 0.1) else 0,
        "bilevel": bilevel,
        "threshold": float(rng.uniform(0.25, 0.85)),
        "adaptive": on(0.15),
        "dither": on(0.12),  # ordered dithering: halftoned 1-bit archive scans
        "streaks": int(rng.integers(1, 5)) if on(0.15) else 0,  # dirt on a sheet-feed scanner's sensor
        "border": _choice(rng, ("none", "none", "none", "left", "right", "top", "both")),
        "border_width": float(rng.uniform(0.003, 0.03)),
        "morph": _choice(rng, ("none", "none", "none", "erode", "dilate")),
        "speckle": float(_loguniform(rng, 1e-5, 2e-3)) if on(0.4) else 0.0,
        "contrast": float(rng.uniform(0.6, 1.0)) if on(0.3) else 1.0,
        "skew_deg": float(rng.normal(0, 0.6)) if on(0.4) else 0.0,  # applied to crops only (see crops.py)
    }
    return plan
