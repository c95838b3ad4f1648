"""Extra printed content among the curves (see ``variety.extra_content``).

Everything here is background except that hand corrections are occluders (they own the pixels they ink,
like other hand annotations). Items are seeded per page and per item, so every window of a page agrees.
"""

from __future__ import annotations

import math

import numpy as np

from veerdesk.synth import vocab
from veerdesk.synth.canvas import FONTS, Canvas, dash_pieces
from veerdesk.synth.design import PageDesign
from veerdesk.synth.traces import CurveSignal, trace_runs


def draw_before_curves(design: PageDesign, canvas: Canvas) -> None:
    ex = design.extras
    if not ex:
        return
    if "lithology" in ex:
        draw_lithology(design, canvas, ex["lithology"], ex["seed"])
    if "second_depth" in ex:
        draw_second_depth(design, canvas, ex["second_depth"])
    if "repeat_headers" in ex:
        draw_repeat_headers(design, canvas, ex["repeat_headers"])
    if ex.get("text_blocks"):
        draw_text_blocks(design, canvas, ex["text_blocks"], ex["seed"])
    for i, (row, _, _) in enumerate(ex.get("joins", ())):
        # The edge of the taped-on sheet: a thin line across the page.
        rng = np.random.default_rng([ex["seed"], 500 + i])
        canvas.hline(row + 0.5, 0, design.width, int(rng.integers(40, 170)), int(rng.integers(1, 3)))


def draw_after_curves(design: PageDesign, canvas: Canvas, signals: list[CurveSignal]) -> None:
    ex = design.extras
    if not ex:
        return
    if "curve_labels" in ex:
        draw_curve_labels(design, canvas, signals, ex["curve_labels"], ex["seed"])
    if ex.get("corrections"):
        draw_corrections(design, canvas, signals, ex["corrections"], ex["seed"])


# --------------------------------------------------------------------------- repeated scale headings
def draw_repeat_headers(design: PageDesign, canvas: Canvas, rh) -> None:
    y0, y1 = design.body
    every, height = min(rh["every_px"], 0.6 * (y1 - y0)), rh["height"]
    r_lo, r_hi = canvas.rows()
    k0 = max(0, math.floor((r_lo - height - y0) / every - rh["phase"]))
    k1 = math.floor((min(r_hi, y1) - y0) / every - rh["phase"])
    flat = design.layout.curves()
    for k in range(k0, k1 + 1):
        top = y0 + (k + rh["phase"]) * every
        if top + height > y1 or top < y0:
            continue
        for ti, track in enumerate(design.layout.tracks):
            if not canvas.overlaps(track.x0, top, track.x1, top + height):
                continue
            if rh["white"]:
                a0, a1 = int(max(0, top - canvas.oy)), int(min(canvas.height, top + height - canvas.oy))
                b0, b1 = int(max(0, track.x0 - canvas.ox)), int(min(canvas.width, track.x1 - canvas.ox))
                if a1 > a0 and b1 > b0:
                    canvas.image[a0:a1, b0:b1] = design.paper
            if rh["box"]:
                canvas.hline(top, track.x0, track.x1, 30, 1)
                canvas.hline(top + height, track.x0, track.x1, 30, 1)
            members = [j for j, (t, _, _) in enumerate(flat) if t == ti]
            row_h = height / max(1, len(members))
            for r, j in enumerate(members):
                _, _, curve = flat[j]
                look = design.curves[j]
                yc = top + (r + 0.5) * row_h
                size = max(4.0, min(row_h * 0.35, design.text_scale * 8))
                canvas.text(curve.mnemonic, (track.x0 + track.x1) / 2, yc - row_h * 0.15, size, 30, anchor="centre")
                canvas.text(f"{curve.left:g}", track.x0 + 3, yc - row_h * 0.15, size * 0.8, 30)
                canvas.text(f"{curve.right:g}", track.x1 - 3, yc - row_h * 0.15, size * 0.8, 30, anchor="right")
                # A line-style sample: printed, not the trace, so background.
                line = np.array([[track.x0 + 4, yc + row_h * 0.25], [track.x1 - 4, yc + row_h * 0.25]])
                canvas.polylines(dash_pieces(line, look["pattern"], look["phase"]), look["grey"], look["width"])


# --------------------------------------------------------------------------- blocks of printed text
def draw_text_blocks(design: PageDesign, canvas: Canvas, count: int, seed: int) -> None:
    ts = design.text_scale
    y0, y1 = design.body
    for i in range(count):
        rng = np.random.default_rng([seed, 100 + i])
        track = design.layout.tracks[int(rng.integers(len(design.layout.tracks)))]
        size = ts * rng.uniform(4.5, 9.0)
        line_h = size * rng.uniform(1.5, 2.2)
        n_lines = int(rng.integers(2, 12))
        left = rng.uniform(track.x0, track.x0 + 0.6 * (track.x1 - track.x0))
        top = rng.uniform(y0, max(y0, y1 - n_lines * line_h))
        if not canvas.overlaps(left - 10, top - line_h, track.x1 + 400, top + (n_lines + 1) * line_h):
            continue
        grey = int(rng.integers(0, 80))
        font = FONTS[int(rng.integers(len(FONTS)))]
        if rng.random() < 0.4:
            # Printed on a white label over the grid.
            a0, a1 = int(max(0, top - line_h - canvas.oy)), int(min(canvas.height, top + n_lines * line_h - canvas.oy))
            b0, b1 = int(max(0, left - 4 - canvas.ox)), int(min(canvas.width, track.x1 - 2 - canvas.ox))
            if a1 > a0 and b1 > b0:
                canvas.image[a0:a1, b0:b1] = design.paper
        for line in range(n_lines):
            words = " ".join(_word(rng) for _ in range(int(rng.integers(1, 6))))
            canvas.text(words, left, top + line * line_h, size, grey, font=font)


def _word(rng: np.random.Generator) -> str:
    roll = rng.random()
    if roll < 0.2:
        return str(int(rng.integers(1, 12000)))
    if roll < 0.3:
        return vocab.random_value_text(rng)
    return vocab.random_word(rng)


# --------------------------------------------------------------------------- curve names along curves
def draw_curve_labels(design: PageDesign, canvas: Canvas, signals: list[CurveSignal], cl, seed: int) -> None:
    layout = design.layout
    flat = layout.curves()
    ts = design.text_scale
    for k, (_, track, curve) in enumerate(flat):
        rng = np.random.default_rng([seed, 200 + k])
        if rng.random() < 0.3:
            continue
        side = 1.0 if rng.random() < 0.6 else -1.0
        look = design.curves[k]
        every = min(cl["every_px"], (design.body[1] - design.body[0]) / 3) * rng.uniform(0.7, 1.4)
        size = ts * cl["size"]
        for run in trace_runs(layout, track, curve, signals[k]):
            ys = run[:, 1]
            marks = np.floor(ys / every)
            hits = np.nonzero(np.diff(marks) != 0)[0]
            for i in hits:
                x, y = run[i]
                if not canvas.overlaps(x - 300, y - 50, x + 300, y + 50):
                    continue
                anchor = "left" if side > 0 else "right"
                canvas.text(curve.mnemonic, x + side * (cl["offset"] + look["width"]), y, size, look["grey"],
                            anchor=anchor)


# --------------------------------------------------------------------------- lithology column
def _bed_pattern(kind: str, rr: np.ndarray, cc: np.ndarray, p: float) -> np.ndarray:
    row_band = np.floor(rr / p)
    shift = (row_band % 2) * p / 2
    if kind == "sand":
        return (np.mod(rr, p) < 1.2) & (np.mod(cc + shift, p) < 1.2)
    if kind == "shale":
        return (np.mod(rr, p) < 1.0) & (np.mod(cc + shift * 2, 2 * p) < p)
    if kind in ("lime", "dolomite"):
        brick = (np.mod(rr, p) < 1.0) | (np.mod(cc + shift * 2, 2 * p) < 1.0)
        if kind == "dolomite":
            brick |= np.mod(cc + rr, 2 * p) < 1.0
        return brick
    if kind == "coal":
        return np.ones(rr.shape, bool)
    if kind == "salt":
        a, b = np.mod(rr, p), np.mod(cc + shift, p)
        return ((np.abs(a - p / 2) < 0.6) & (np.abs(b - p / 2) < p / 4)) | \
               ((np.abs(b - p / 2) < 0.6) & (np.abs(a - p / 2) < p / 4))
    if kind == "anhydrite":
        return np.mod(cc - rr, p) < 1.0
    if kind == "chert":
        return (np.mod(cc + rr, p) < 1.0) & (np.mod(rr, 2 * p) < p)
    return ((np.mod(rr, p) < 1.0) & (np.mod(cc, p) < 1.2)) | ((np.mod(rr + p / 2, p) < 1.0) & (np.mod(cc + shift, 2 * p) < p / 2))


def draw_lithology(design: PageDesign, canvas: Canvas, lith, seed: int) -> None:
    """A lithology strip: beds with standard patterns, bed boundaries, and optional core symbols."""
    from veerdesk.synth.variety import LITHOLOGIES

    y0, y1 = design.body
    x0, x1 = lith["x0"], lith["x1"]
    if not canvas.overlaps(x0, y0, x1, y1):
        return
    a0, a1 = int(max(0, math.ceil(y0) - canvas.oy)), int(min(canvas.height, math.floor(y1) - canvas.oy))
    b0, b1 = int(max(0, math.ceil(x0) - canvas.ox)), int(min(canvas.width, math.floor(x1) - canvas.ox))
    if a1 <= a0 or b1 <= b0:
        return
    # Beds along the whole body, in rows (seeded per page, so windows agree).
    rng = np.random.default_rng([seed, 300])
    length = y1 - y0
    n = int(min(20000, length / lith["mean_bed_px"] * 3 + 10))
    tops = y0 + np.cumsum(rng.lognormal(math.log(lith["mean_bed_px"]), 0.7, n))
    kinds = rng.integers(0, len(LITHOLOGIES), n + 1)
    greys = np.clip(lith["grey"] + rng.integers(-20, 40, n + 1), 0, 200)
    rows = np.arange(a0, a1) + canvas.oy + 0.5
    bed = np.searchsorted(tops, rows)
    cols = np.arange(b0, b1) + canvas.ox + 0.5
    region = canvas.image[a0:a1, b0:b1]
    for b in np.unique(bed):
        sel = bed == b
        rr, cc = np.meshgrid(rows[sel], cols, indexing="ij")
        on = _bed_pattern(LITHOLOGIES[int(kinds[b])], rr, cc, lith["period"])
        sub = region[sel]
        sub[on] = np.minimum(sub[on], np.uint8(greys[b]))
        region[sel] = sub
    visible = tops[(tops >= canvas.oy - 2) & (tops <= canvas.oy + canvas.height + 2)]
    canvas.hlines(visible, x0, x1, int(lith["grey"]), 1)
    if lith["border"]:
        for x in (x0, x1):
            canvas.vline(x, y0, y1, 20, 1)
    if lith["cores"]:
        # Core symbols: boxes with a diagonal, at a few beds.
        core_w = min(24.0, (x1 - x0) * 0.4)
        for i in np.nonzero(rng.random(n) < 0.05)[0][:400]:
            top = tops[i - 1] if i > 0 else y0
            bottom = min(tops[i], top + 4 * core_w)
            if bottom - top < 6 or not canvas.overlaps(x0, top, x0 + core_w, bottom):
                continue
            cx0 = x0 + 2
            box = np.array([[cx0, top], [cx0 + core_w, top], [cx0 + core_w, bottom], [cx0, bottom], [cx0, top]])
            canvas.polylines([box, np.array([[cx0, top], [cx0 + core_w, bottom]])], 10, 1)


# --------------------------------------------------------------------------- second depth scale
def draw_second_depth(design: PageDesign, canvas: Canvas, sd) -> None:
    track = design.layout.tracks[sd["track"] % len(design.layout.tracks)]
    y0, y1 = design.body
    if not canvas.overlaps(track.x0, y0, track.x1, y1, pad=50):
        return
    depth = design.layout.depth
    factor, offset = sd["factor"], sd["offset"]
    r_lo, r_hi = max(y0, canvas.oy - 60), min(y1, canvas.oy + canvas.height + 60)
    if r_hi <= r_lo:
        return
    d_lo, d_hi = depth.depth_at_row([r_lo, r_hi])
    v_lo, v_hi = sorted((d_lo * factor + offset, d_hi * factor + offset))
    # A round step in the second unit, about every_px apart on the page.
    raw = min(sd["every_px"], (y1 - y0) / 4) / design.px_per_unit * factor
    exponent = math.floor(math.log10(max(raw, 1e-6)))
    step = next(m * 10.0**exponent for m in (1, 2, 5, 10) if m * 10.0**exponent >= raw)
    size = design.text_scale * sd["size"]
    for v in np.arange(math.ceil(v_lo / step) * step, v_hi + step / 2, step):
        y = float(depth.row_at_depth((v - offset) / factor))
        if not math.isfinite(y):
            continue
        text = f"{v:g}" if step < 1 else str(int(round(v)))
        if sd["side"] == "left":
            canvas.hline(y, track.x0, track.x0 + size, 20, 1)
            canvas.text(text, track.x0 + size * 1.3, y, size, 20, rotation=sd["rotation"],
                        anchor="left" if sd["rotation"] == 0 else "centre")
        else:
            canvas.hline(y, track.x1 - size, track.x1, 20, 1)
            canvas.text(text, track.x1 - size * 1.3, y, size, 20, rotation=sd["rotation"],
                        anchor="right" if sd["rotation"] == 0 else "centre")


# --------------------------------------------------------------------------- hand corrections
def draw_corrections(design: PageDesign, canvas: Canvas, signals: list[CurveSignal], count: int, seed: int) -> None:
    """A hand re-drawing a stretch of a curve a few pixels off (a geologist's correction). Hand ink is an
    occluder: it owns what it covers, the curve keeps the rest."""
    layout = design.layout
    flat = layout.curves()
    y0, y1 = design.body
    for i in range(count):
        rng = np.random.default_rng([seed, 400 + i])
        k = int(rng.integers(len(flat)))
        centre = rng.uniform(y0, y1)
        half = rng.uniform(40, 250)
        if not canvas.overlaps(-1e9, centre - half, 1e9, centre + half):
            continue
        _, track, curve = flat[k]
        offset = rng.uniform(3, 15) * (1 if rng.random() < 0.5 else -1)
        grey = int(rng.integers(20, 140))
        width = int(rng.integers(1, 4))
        wobble_rng = np.random.default_rng([seed, 450 + i])
        for run in trace_runs(layout, track, curve, signals[k]):
            part = run[(run[:, 1] >= centre - half) & (run[:, 1] <= centre + half)]
            if len(part) < 3:
                continue
            wobble = np.cumsum(wobble_rng.normal(0, 0.15, len(part)))
            pts = part + np.column_stack([offset + wobble, np.zeros(len(part))])
            lo = np.floor(pts.min(axis=0)).astype(int) - 8
            hi = np.ceil(pts.max(axis=0)).astype(int) + 8
            pen = Canvas.blank(int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1]), 255)
            pen.polylines([pts], grey, width, antialias=True)
            canvas.paste_min(pen.image, pen.ox, pen.oy, clear_ids=True)
