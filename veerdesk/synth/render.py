"""Draw a designed page (or a window of it): header, grids, depth column, fills, curves, occluders.

Drawing order sets who owns a pixel: paper, grids, text, fills and reference lines first; then curves,
non-solid before solid and light before heavy, so where a solid and a dashed curve cross the solid one
owns the crossing; then occluders (hand annotations, stamps, black bars, blotches) own every pixel they
ink, and the curve label is removed under them — the model cannot see a curve under a black bar and
should not be taught to.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from veerdesk.synth import render_extra, vocab
from veerdesk.synth.canvas import FONTS, HAND_FONTS, Canvas, cut_intervals, dash_pieces
from veerdesk.synth.design import PageDesign
from veerdesk.synth.traces import CurveSignal, drawn_columns, trace_runs

_WEIGHT_ORDER = {"light": 0, None: 1, "heavy": 2}


def draw_order(design: PageDesign) -> list[int]:
    """Curve indices in drawing order: non-solid first, then solid; light before heavy."""
    return sorted(range(len(design.curves)),
                  key=lambda k: (design.curves[k]["style"] == "solid", _WEIGHT_ORDER[design.curves[k]["weight"]], k))


def render_content(design: PageDesign, canvas: Canvas, signals: list[CurveSignal], rng: np.random.Generator) -> None:
    draw_header(design, canvas)
    draw_legend(design, canvas)
    draw_grid(design, canvas)
    draw_depth_column(design, canvas)
    draw_fills(design, canvas, signals)
    draw_references(design, canvas)
    draw_track_text(design, canvas, rng)
    render_extra.draw_before_curves(design, canvas)
    draw_curves(design, canvas, signals, rng)
    render_extra.draw_after_curves(design, canvas, signals)
    draw_occluders(design, canvas)


# --------------------------------------------------------------------------- header and legend
def draw_header(design: PageDesign, canvas: Canvas) -> None:
    h = design.header
    if h["kind"] == "none" or h["y1"] - h["y0"] < 10 or not canvas.overlaps(0, h["y0"], design.width, h["y1"]):
        return
    rng = np.random.default_rng(h["seed"])
    x0 = min(min(t.x0 for t in design.layout.tracks), design.depth_column[0])
    x1 = max(max(t.x1 for t in design.layout.tracks), design.depth_column[1])
    y0, y1 = h["y0"], h["y1"] - 4
    ink = int(rng.integers(0, 70))
    if h["box"]:
        box = [np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])]
        canvas.polylines(box, ink, int(rng.integers(1, 4)))
    ts = design.text_scale
    font = FONTS[int(rng.integers(len(FONTS)))]
    y = y0 + ts * rng.uniform(10, 20)
    if h["kind"] == "full":
        canvas.text(vocab.COMPANIES[int(rng.integers(len(vocab.COMPANIES)))], (x0 + x1) / 2, y, ts * rng.uniform(10, 20),
                    ink, font=font, thickness=max(1, int(ts * 1.2)), anchor="centre")
        y += ts * 24
        canvas.text(vocab.TITLES[int(rng.integers(len(vocab.TITLES)))], (x0 + x1) / 2, y, ts * rng.uniform(7, 14), ink,
                    font=font, thickness=max(1, int(ts)), anchor="centre")
        y += ts * 20
    row_h = ts * rng.uniform(9, 16)
    split = x0 + (x1 - x0) * rng.uniform(0.3, 0.5)
    keys = list(vocab.HEADER_KEYS)
    rng.shuffle(keys)
    k = 0
    while y + row_h < y1 and k < len(keys):
        canvas.text(keys[k], x0 + ts * 6, y, row_h * 0.45, ink, font=font, thickness=max(1, int(ts * 0.8)))
        canvas.text(vocab.random_value_text(rng), split, y, row_h * 0.45, ink, font=font, thickness=max(1, int(ts * 0.8)))
        if h["box"] and rng.random() < 0.7:
            canvas.hline(y + row_h / 2, x0, x1, ink, 1)
        y += row_h
        k += 1


def draw_legend(design: PageDesign, canvas: Canvas) -> None:
    top, bottom = design.header["legend"]
    if bottom - top < 8 or not canvas.overlaps(0, top, design.width, bottom):
        return
    layout = design.layout
    flat = layout.curves()
    ts = design.text_scale
    for ti, track in enumerate(layout.tracks):
        members = [k for k, (t, _, _) in enumerate(flat) if t == ti]
        if not members:
            continue
        row_h = (bottom - top) / len(members)
        for r, k in enumerate(members):
            _, _, curve = flat[k]
            look = design.curves[k]
            yc = top + (r + 0.5) * row_h
            size = min(row_h * 0.3, ts * 9)
            canvas.text(curve.mnemonic, (track.x0 + track.x1) / 2, yc - row_h * 0.2, size, look["grey"], anchor="centre")
            canvas.text(f"{curve.left:g}", track.x0 + 3, yc - row_h * 0.2, size * 0.8, 30)
            canvas.text(f"{curve.right:g}", track.x1 - 3, yc - row_h * 0.2, size * 0.8, 30, anchor="right")
            # A sample of the line style; printed in the legend, not part of the trace: background.
            line = np.array([[track.x0 + 4, yc + row_h * 0.2], [track.x1 - 4, yc + row_h * 0.2]])
            canvas.polylines(dash_pieces(line, look["pattern"], look["phase"]), look["grey"], look["width"])


# --------------------------------------------------------------------------- grid
def draw_grid(design: PageDesign, canvas: Canvas) -> None:
    g = design.grid
    draw_track_backgrounds(design, canvas)
    if g["missing"]:
        return
    layout = design.layout
    y0, y1 = design.body
    r_lo, r_hi = canvas.rows()
    lo = max(y0, r_lo - 10)
    hi = min(y1, r_hi + 10)
    minor = g["minor"]
    aa = g["antialias"]
    line_pattern = g.get("variety", {}).get("line_pattern")
    if hi > lo:
        d_lo, d_hi = layout.depth.depth_at_row([lo, hi])
        k0, k1 = math.ceil(d_lo / minor - 1e-9), math.floor(d_hi / minor + 1e-9)
        spans = [(t.x0, t.x1) for t, look in zip(layout.tracks, g["tracks"], strict=True) if look["horizontal"]]
        if design.depth_labels["grid_through"]:
            spans.append(design.depth_column)
        ks = np.arange(k0, k1 + 1)
        ys = layout.depth.row_at_depth(ks * minor)
        major = ks % g["major_every"] == 0
        heavy = (ks % (g["major_every"] * g["heavy_every"]) == 0) if g["heavy_every"] else np.zeros(ks.size, bool)
        minor_pattern = [1.0, 3.0] if g["dotted_minor"] else line_pattern
        groups = ((~major, g["minor_width"], g["grey"], minor_pattern),
                  (major & ~heavy, g["major_width"], g["major_grey"], line_pattern),
                  (heavy, g["heavy_width"], g["major_grey"], line_pattern))
        # Minor lines first, then the major and heavy ones over them, all lines of one look at once.
        for which, width, grey, pattern in groups:
            if which.any():
                for x0, x1 in spans:
                    canvas.hlines(ys[which], x0, x1, grey, width, aa, pattern)
    for track, look in zip(layout.tracks, g["tracks"], strict=True):
        if not canvas.overlaps(track.x0, y0, track.x1, y1, pad=8):
            continue
        if look["vertical"]:
            for x, major in _vertical_lines(track, look, design):
                if g["skip_minor_vertical"] and not major:
                    continue
                canvas.vline(x, y0, y1, g["major_grey"] if major else g["grey"],
                             g["major_width"] if major else g["minor_width"], aa, pattern=line_pattern)
        for x in (track.x0, track.x1):
            canvas.vline(x, y0, y1, g["border_grey"], g["border_width"])
    x0, x1 = design.depth_column
    for x in (x0, x1):
        canvas.vline(x, y0, y1, g["border_grey"], max(1, g["border_width"] - 1))


def draw_track_backgrounds(design: PageDesign, canvas: Canvas) -> None:
    """Hatching or dot screens over a whole track (printed background, never a curve)."""
    body0, body1 = design.body
    for track, bg in zip(design.layout.tracks, design.grid.get("backgrounds") or [], strict=False):
        if bg is None:
            continue
        for f0, f1 in bg.get("zones", [[0.0, 1.0]]):
            y0, y1 = body0 + f0 * (body1 - body0), body0 + f1 * (body1 - body0)
            if not canvas.overlaps(track.x0, y0, track.x1, y1):
                continue
            a0, a1 = int(max(0, math.ceil(y0) - canvas.oy)), int(min(canvas.height, math.floor(y1) - canvas.oy))
            b0 = int(max(0, math.ceil(track.x0) - canvas.ox))
            b1 = int(min(canvas.width, math.floor(track.x1) - canvas.ox))
            if a1 <= a0 or b1 <= b0:
                continue
            cols = np.arange(b0, b1)[None, :] + canvas.ox
            for s0 in range(a0, a1, 1024):  # row strips: a whole-track zone on a big page is huge
                s1 = min(a1, s0 + 1024)
                rows, cc = np.broadcast_arrays(np.arange(s0, s1)[:, None] + canvas.oy, cols)
                keep = _fill_pattern(bg, rows, cc)
                region = canvas.image[s0:s1, b0:b1]
                region[keep] = np.minimum(region[keep], bg["grey"])


def _vertical_lines(track, look, design) -> list[tuple[float, bool]]:
    width = track.x1 - track.x0
    lines = []
    if track.scale == "log":
        decades = _decades(track)
        for j in range(decades):
            for m in range(1, 10):
                f = (j + math.log10(m)) / decades
                if 0 < f < 1:
                    lines.append((track.x0 + f * width, m == 1))
    else:
        n = look["divisions"]
        accent = 5 if n % 5 == 0 and n > 5 else 2 if n % 2 == 0 and n > 2 else 0
        for i in range(1, n):
            lines.append((track.x0 + i / n * width, bool(accent) and i % accent == 0))
    return lines


def _decades(track) -> int:
    if not track.curves:
        return 2
    c = track.curves[0]
    return max(1, int(round(abs(math.log10(c.right / c.left)))))


# --------------------------------------------------------------------------- depth column
def draw_depth_column(design: PageDesign, canvas: Canvas) -> None:
    x0, x1 = design.depth_column
    y0, y1 = design.body
    if not canvas.overlaps(x0, y0, x1, y1, pad=50):
        return
    dl = design.depth_labels
    layout = design.layout
    g = design.grid
    r_lo, r_hi = canvas.rows()
    lo, hi = max(y0, r_lo - 200), min(y1, r_hi + 200)
    if hi <= lo:
        return
    d_lo, d_hi = layout.depth.depth_at_row([lo, hi])
    minor = g["minor"]
    width = x1 - x0
    if dl["ticks"] != "none":
        tick = width * dl["tick_len"]
        for k in range(math.ceil(d_lo / minor - 1e-9), math.floor(d_hi / minor + 1e-9) + 1):
            y = float(layout.depth.row_at_depth(k * minor))
            length = tick * (1.8 if k % g["major_every"] == 0 else 1.0)
            if dl["ticks"] in ("left", "both"):
                canvas.hline(y, x0, x0 + length, dl["grey"], 1)
            if dl["ticks"] in ("right", "both"):
                canvas.hline(y, x1 - length, x1, dl["grey"], 1)
    chars = len(str(int(abs(d_hi)))) + (0 if float(minor * dl["every"]).is_integer() else 2)
    if dl["rotation"] == 0:
        size = min(design.text_scale * dl["size"], width * 0.85 / (chars * 0.8))
        extent = size * 1.6
    else:
        size = min(design.text_scale * dl["size"], width * 0.6)
        extent = chars * size * 0.8 + size
    size = max(size, 4.0)
    # Labels never overlap: widen the label interval until they fit.
    base = minor * dl["every"]
    every = next((base * m for m in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
                  if base * m * design.px_per_unit >= extent * 1.4), base * 1000)
    for k in range(math.ceil(d_lo / every - 1e-9), math.floor(d_hi / every + 1e-9) + 1):
        depth = k * every
        if any(above < depth < below for _, above, below in design.extras.get("joins", ())):
            continue  # printed on the paper that was torn off
        y = float(layout.depth.row_at_depth(depth))
        text = f"{depth:g}" if abs(depth - round(depth)) > 1e-9 else str(int(round(depth)))
        if dl["boxed"]:
            # Numbers printed in a white box that interrupts the grid.
            half = size * 0.9
            yy0, yy1 = int(y - half) - canvas.oy, int(y + half) - canvas.oy
            xx0, xx1 = int(x0 + width * 0.1) - canvas.ox, int(x1 - width * 0.1) - canvas.ox
            canvas.image[max(0, yy0) : max(0, yy1), max(0, xx0) : max(0, xx1)] = design.paper
        canvas.text(text, (x0 + x1) / 2, y, size, dl["grey"], font=FONTS[dl["font"]], thickness=dl["thickness"],
                    rotation=dl["rotation"], anchor="centre")


# --------------------------------------------------------------------------- fills and reference lines
def draw_fills(design: PageDesign, canvas: Canvas, signals: list[CurveSignal]) -> None:
    layout = design.layout
    flat = layout.curves()
    for fill in design.fills:
        ti, track, curve_a = flat[fill["curve_a"]]
        if not canvas.overlaps(track.x0, design.body[0], track.x1, design.body[1]):
            continue
        sig_a = signals[fill["curve_a"]]
        xa = drawn_columns(track, curve_a, sig_a.values)
        if fill["curve_b"] is not None:
            xb = drawn_columns(track, flat[fill["curve_b"]][2], signals[fill["curve_b"]].values)
        else:
            xb = np.full_like(xa, track.x0 if fill["edge"] == "left" else track.x1)
        y = layout.depth.row_at_depth(sig_a.depths)
        if fill["only_where_a_left"]:
            xb = np.maximum(xa, xb)
        ok = np.isfinite(xa) & np.isfinite(xb) & np.isfinite(y)
        if ok.sum() < 2:
            continue
        cover = np.zeros((canvas.height, canvas.width), np.uint8)
        polys = []
        for run in _runs(ok):
            a, b = run
            left = np.column_stack([xa[a:b], y[a:b]])
            right = np.column_stack([xb[a:b], y[a:b]])[::-1]
            polys.append(canvas.fixed(np.vstack([left, right])))
        cv2.fillPoly(cover, polys, 1, cv2.LINE_8, 4)
        rows, cols = np.nonzero(cover)
        if rows.size == 0:
            continue
        keep = _fill_pattern(fill, rows + canvas.oy, cols + canvas.ox)
        canvas.image[rows[keep], cols[keep]] = np.minimum(canvas.image[rows[keep], cols[keep]], fill["grey"])


def _runs(ok: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    return list(zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True))


def _fill_pattern(fill, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    period = fill["period"]
    t = fill["thickness"]
    kind = fill["kind"]
    if kind == "solid":
        return np.ones(rows.shape, bool)
    angle = math.radians(fill["angle"])
    u = cols * math.cos(angle) + rows * math.sin(angle)
    if kind in ("hatch", "lines"):
        return np.mod(u, period) < t
    if kind == "crosshatch":
        v = -cols * math.sin(angle) + rows * math.cos(angle)
        return (np.mod(u, period) < t) | (np.mod(v, period) < t)
    return (np.mod(cols, period) < t) & (np.mod(rows, period) < t)  # dots


def draw_references(design: PageDesign, canvas: Canvas) -> None:
    """Constant lines (bit size and the like): look like a dotted curve but are not layout curves."""
    for ref in design.references:
        track = design.layout.tracks[ref["track"]]
        x = track.x0 + ref["fraction"] * (track.x1 - track.x0)
        canvas.vline(x, design.body[0], design.body[1], ref["grey"], ref["width"], pattern=ref["pattern"])


# --------------------------------------------------------------------------- text in tracks
def draw_track_text(design: PageDesign, canvas: Canvas, rng: np.random.Generator) -> None:
    tl = design.track_labels
    layout = design.layout
    y0, y1 = design.body
    ts = design.text_scale
    if tl["on"]:
        for track in layout.tracks:
            for ci, curve in enumerate(track.curves):
                n = int((y1 - y0) // tl["every_px"])
                for i in range(n):
                    y = y0 + (i + 0.3 + 0.4 * ((ci * 7 + i) % 3) / 3) * tl["every_px"]
                    x = track.x0 + (track.x1 - track.x0) * (0.15 + 0.7 * ((ci * 3 + i * 5) % 7) / 7)
                    if not canvas.overlaps(x - 200, y - 50, x + 200, y + 50):
                        continue
                    bbox = canvas.text(curve.mnemonic, x, y, ts * tl["size"], 30, font=FONTS[tl["font"]], anchor="centre")
                    if tl["boxed"]:
                        box = np.array([[bbox[0], bbox[1]], [bbox[2], bbox[1]], [bbox[2], bbox[3]], [bbox[0], bbox[3]],
                                        [bbox[0], bbox[1]]])
                        canvas.polylines([box], 30, 1)
    if tl.get("edge_ticks"):
        # Time or depth marks printed along one track edge.
        track = layout.tracks[0]
        r_lo, r_hi = canvas.rows()
        step = tl["tick_every_px"]
        for k in range(max(0, int((max(y0, r_lo) - y0) // step)), int((min(y1, r_hi) - y0) // step) + 1):
            y = y0 + k * step
            canvas.hline(y, track.x1 - tl["tick_len"], track.x1, 40, 1 + (k % 5 == 0))
    # Printed remarks in tracks ("REPEAT SECTION", "CASING 1250").
    for _ in range(tl["annotations"]):
        track = layout.tracks[int(rng.integers(len(layout.tracks)))]
        x = rng.uniform(track.x0, track.x1)
        y = rng.uniform(y0, y1)
        text = " ".join(vocab.random_word(rng) for _ in range(int(rng.integers(1, 3))))
        if rng.random() < 0.5:
            text += f" {rng.integers(100, 12000)}"
        canvas.text(text, x, y, ts * rng.uniform(5, 10), int(rng.integers(0, 90)),
                    font=FONTS[int(rng.integers(len(FONTS)))], rotation=int(rng.choice([0, 0, 90])), anchor="centre")


# --------------------------------------------------------------------------- curves
def draw_curves(design: PageDesign, canvas: Canvas, signals: list[CurveSignal], rng: np.random.Generator) -> None:
    layout = design.layout
    flat = layout.curves()
    for k in draw_order(design):
        _, track, curve = flat[k]
        look = design.curves[k]
        spill_lo, spill_hi = look["signal"].get("spill") or (0.0, 0.0)
        track_w = track.x1 - track.x0
        if not canvas.overlaps(track.x0 - spill_lo * track_w, design.body[0], track.x1 + spill_hi * track_w,
                               design.body[1], pad=10):
            continue
        runs = trace_runs(layout, track, curve, signals[k])
        runs = [r for r in runs if _run_overlaps(canvas, r)]
        if look.get("staircase"):
            runs = [_staircase(r) for r in runs]
        if look.get("double"):
            runs = [side for r in runs for side in _parallel_pair(r, look["double"])]
        if not runs:
            continue
        pieces_by_grey: list[tuple[int, list[np.ndarray]]] = []
        if look["fragments"]:
            pieces_by_grey = _fragment(runs, look, design.paper, rng)
        else:
            pieces_by_grey = [(look["grey"], runs)]
        for i, (grey, pieces) in enumerate(pieces_by_grey):
            if look["pattern"]:
                pieces = [d for p in pieces for d in dash_pieces(p, look["pattern"], look["phase"])]
            width = look["width"]
            if look.get("width_wander"):
                # Pen pressure: neighbouring fragments a pixel thinner or thicker.
                width = int(np.clip(width + (i % 3) - 1, 1, 6))
            canvas.polylines(pieces, grey, width, antialias=look["antialias"], curve_id=k + 1)


def _staircase(run: np.ndarray) -> np.ndarray:
    """Hold each point from halfway after the previous one to halfway before the next (so the trace
    still passes through every point at its own row)."""
    if len(run) < 3:
        return run
    mid_y = (run[1:, 1] + run[:-1, 1]) / 2
    out = np.empty((2 * len(run) - 2, 2))
    out[0::2, 0] = run[:-1, 0]
    out[1::2, 0] = run[:-1, 0]
    out[0, 1] = run[0, 1]
    out[1::2, 1] = mid_y
    out[2::2, 1] = mid_y[:-1]
    out = np.vstack([out, [[run[-1, 0], mid_y[-1]], run[-1]]])
    return out


def _parallel_pair(run: np.ndarray, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Two strokes ``offset`` px either side of a polyline (perpendicular to it): a double line whose
    middle is the truth."""
    if len(run) < 2:
        return run, run
    tangent = np.gradient(run, axis=0)
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    norm[norm == 0] = 1.0
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]]) / norm[:, None]
    return run + offset * normal, run - offset * normal


def _run_overlaps(canvas: Canvas, run: np.ndarray) -> bool:
    return canvas.overlaps(run[:, 0].min(), run[:, 1].min(), run[:, 0].max(), run[:, 1].max(), pad=10)


def _fragment(runs, look, paper, rng) -> list[tuple[int, list[np.ndarray]]]:
    """Faint ink: the pen skips (short gaps) and its darkness wanders from fragment to fragment."""
    by_grey: dict[int, list[np.ndarray]] = {}
    for run in runs:
        seg = np.hypot(*np.diff(run, axis=0).T)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        total = s[-1]
        starts, ends = [], []
        pos = 0.0
        while pos < total:
            length = rng.exponential(look["fragment_len"])
            starts.append(pos)
            ends.append(min(total, pos + length))
            pos += length + rng.uniform(0.5, look["fragment_gap"])
        for piece in cut_intervals(run, s, np.array(starts), np.array(ends)):
            grey = int(min(paper - 40, look["grey"] + rng.integers(0, 90)))
            by_grey.setdefault(grey // 16 * 16, []).append(piece)
    return list(by_grey.items())


# --------------------------------------------------------------------------- occluders
def draw_occluders(design: PageDesign, canvas: Canvas) -> None:
    for item in design.annotations:
        size = item["size"]
        if not canvas.overlaps(item["x"] - 3 * size, item["y"] - 3 * size, item["x"] + 3 * size, item["y"] + 3 * size):
            continue
        rng = np.random.default_rng(item["seed"])
        patch, (px, py) = _occluder_patch(item, rng, design)
        canvas.paste_min(patch, px, py, clear_ids=True)


def _occluder_patch(item, rng, design) -> tuple[np.ndarray, tuple[float, float]]:
    size = max(8.0, item["size"])
    kind = item["kind"]
    grey = item["grey"]
    t = item["thickness"]
    w = int(size * (6 if kind in ("hand_text", "stamp", "underline") else 2.5)) + 8
    h = int(size * 2.5) + 8
    patch = np.full((h, w), 255, np.uint8)
    if kind == "hand_text":
        text = vocab.ANNOTATIONS[int(rng.integers(len(vocab.ANNOTATIONS)))]
        font = HAND_FONTS[int(rng.integers(len(HAND_FONTS)))]
        scale = size / 22.0
        cv2.putText(patch, text, (4, int(h * 0.6)), font, scale, grey, t, cv2.LINE_AA)
    elif kind == "circle":
        cv2.ellipse(patch, (w // 2, h // 2), (int(w * 0.4), int(h * 0.4)), rng.uniform(0, 180), 0, 360, grey, t,
                    cv2.LINE_AA)
    elif kind == "arrow":
        cv2.arrowedLine(patch, (4, h - 4), (w - 4, 4), grey, t, cv2.LINE_AA, tipLength=0.2)
    elif kind == "underline":
        cv2.line(patch, (4, h // 2), (w - 4, h // 2 + int(rng.integers(-5, 6))), grey, t, cv2.LINE_AA)
    elif kind == "scribble":
        pts = np.cumsum(rng.normal(0, size / 4, (int(rng.integers(4, 12)), 2)), axis=0)
        pts = pts - pts.min(axis=0) + 4
        pts = np.minimum(pts, [w - 5, h - 5])
        cv2.polylines(patch, [np.round(pts * 16).astype(np.int32)], False, grey, t, cv2.LINE_AA, 4)
    elif kind == "stamp":
        text = vocab.STAMPS[int(rng.integers(len(vocab.STAMPS)))]
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, 1.0, 2)
        scale = (w - 20) / max(tw, 1)
        cv2.rectangle(patch, (2, 2), (w - 3, h - 3), grey, max(1, t))
        cv2.putText(patch, text, (10, int(h / 2 + th * scale / 2)), cv2.FONT_HERSHEY_DUPLEX, scale, grey,
                    max(1, int(scale * 2)), cv2.LINE_AA)
        # Stamps are uneven: drop some ink.
        holes = rng.random(patch.shape) < rng.uniform(0.0, 0.3)
        patch[holes] = 255
    elif kind == "bar":
        bw = int(rng.uniform(0.2, 1.0) * w)
        bh = int(rng.uniform(0.1, 0.6) * h)
        patch[:bh, :bw] = grey
    else:  # blotch
        n = int(rng.integers(3, 9))
        pts = np.column_stack([w / 2 + rng.normal(0, w / 6, n), h / 2 + rng.normal(0, h / 6, n)])
        hull = cv2.convexHull(np.round(pts).astype(np.int32))
        cv2.fillConvexPoly(patch, hull, grey, cv2.LINE_AA)
    if kind in ("hand_text", "stamp") and abs(item["angle"]) > 1:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), item["angle"], 1.0)
        patch = cv2.warpAffine(patch, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    return patch, (item["x"] - w / 2, item["y"] - h / 2)
