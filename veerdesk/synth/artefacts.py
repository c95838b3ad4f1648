"""Scan artefacts applied to a rendered window: what paper, ink, scanners and archives do to a log.

Page-level effects (illumination, stains, folds, holes, torn edges, patchy fading) are defined in page
coordinates, so every window of one page agrees; pixel noise is drawn per window. Pointwise effects run
in row strips to keep memory bounded on 12,000-px pages.

Labels: holes and torn edges replace pixels with the scanner background and remove the curve label there;
on bilevel (1-bit) pages a curve pixel the threshold turned white loses its label (nothing is left to
see). Everything else (blur, noise, fading, stains) keeps the label on the drawn pixels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from veerdesk.synth.canvas import Canvas
from veerdesk.synth.design import PageDesign

_STRIP = 2048


def apply_artefacts(design: PageDesign, canvas: Canvas) -> list[str]:
    """Degrade ``canvas.image`` in place; returns the names of the effects applied."""
    plan = design.artefacts
    if not plan.get("enabled"):
        return []
    rng = np.random.default_rng([plan["seed"], canvas.ox & 0xFFFFFFFF, canvas.oy & 0xFFFFFFFF])
    applied: list[str] = []
    if plan.get("smears"):
        if _smears(canvas, plan["smears"], design.paper, rng):
            applied.append("smears")
    if plan.get("ragged"):
        _ragged_ink(canvas, plan["ragged"], rng)
        applied.append("ragged_ink")
    _pointwise(design, canvas, plan, rng, applied)
    _holes_and_edges(design, canvas, plan, applied)
    if plan["folds"] and plan.get("perforated") and _perforations(design, canvas, plan):
        applied.append("perforations")
    img = canvas.image
    if plan.get("moire"):
        img = _moire(img, canvas, plan["moire"])
        applied.append("moire")
    if plan["resample"] > 1.0:
        f = plan["resample"]
        small = cv2.resize(img, (max(1, int(img.shape[1] / f)), max(1, int(img.shape[0] / f))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
        applied.append("resample")
    if plan["blur"] > 0:
        img = cv2.GaussianBlur(img, (0, 0), plan["blur"])
        applied.append("blur")
    if plan["motion_blur"]:
        img = cv2.filter2D(img, -1, _motion_kernel(plan["motion_blur"], horizontal=rng.random() < 0.5))
        applied.append("motion_blur")
    if plan["noise"] > 0:
        for r0 in range(0, img.shape[0], _STRIP):
            strip = img[r0 : r0 + _STRIP]
            noisy = strip.astype(np.float32) + _gaussian_noise(strip.shape, rng) * np.float32(plan["noise"])
            img[r0 : r0 + _STRIP] = np.clip(noisy, 0, 255).astype(np.uint8)
        applied.append("noise")
    if plan["jpeg"]:
        img = _jpeg_round_trip(img, plan["jpeg"])
        applied.append(f"jpeg{plan['jpeg']}")
    if plan["bilevel"]:
        img = _bilevel(img, canvas.ids, plan, rng)
        applied.append("bilevel")
    if plan["speckle"] > 0:
        _speckle(img, plan["speckle"], plan["bilevel"], rng)
        applied.append("speckle")
    if plan.get("streaks"):
        _streaks(img, design, canvas, plan)
        applied.append("streaks")
    if plan.get("blocky"):
        img = _blocky(img, canvas, plan["blocky"], plan["bilevel"])
        applied.append("blocky")
    if plan["bilevel"]:
        canvas.ids[img > 127] = 0
    if plan.get("inverted_track", -1) >= 0 and _invert_track(img, design, canvas, plan["inverted_track"]):
        applied.append("inverted_track")
    if plan.get("negative"):
        img = 255 - img
        applied.append("negative")
    if plan.get("jpeg_after"):
        # Re-encoded after thresholding (1-bit archive pages served as JPEG): ringing around black lines.
        img = _jpeg_round_trip(img, plan["jpeg_after"])
        applied.append(f"jpeg_after{plan['jpeg_after']}")
    canvas.image = np.ascontiguousarray(img)
    return applied


def _smears(canvas: Canvas, per_megapixel: float, paper: int, rng) -> bool:
    """Smudges: curve ink dragged a few to tens of pixels in one direction, fading out. The smudge is
    background; the curve pixels keep their label."""
    rows, cols = np.nonzero(canvas.ids)
    n = int(rng.poisson(per_megapixel * canvas.image.size / 1e6))
    if rows.size == 0 or n == 0:
        return False
    img = canvas.image
    for _ in range(n):
        i = int(rng.integers(rows.size))
        size = int(rng.integers(24, 90))
        r0, c0 = max(0, rows[i] - size // 2), max(0, cols[i] - size // 2)
        patch = img[r0 : r0 + size, c0 : c0 + size]
        if patch.size == 0:
            continue
        length = int(rng.integers(5, 31))
        kernel = np.zeros((length, length), np.float32)
        angle = rng.uniform(0, math.pi)
        t = np.linspace(-0.5, 0.5, length * 2) * (length - 1)
        ks = np.clip(np.round(length / 2 - 0.5 + np.column_stack([np.cos(angle) * t, np.sin(angle) * t])), 0,
                     length - 1).astype(int)
        kernel[ks[:, 1], ks[:, 0]] = 1.0
        # One-sided drag: the ink moves away from the stroke along the kernel's direction.
        kernel[: length // 2] *= 0.3
        kernel /= kernel.sum()
        dragged = cv2.filter2D(patch, cv2.CV_32F, kernel, borderType=cv2.BORDER_REPLICATE)
        gain = rng.uniform(1.0, 2.2)
        h, w = patch.shape
        yy, xx = np.ogrid[:h, :w]
        fade = np.clip(1.2 - np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2)), 0, 1)
        smudge = paper - (paper - dragged) * gain * fade
        np.minimum(patch, np.clip(smudge, 0, 255).astype(np.uint8), out=patch)
    return True


def _ragged_ink(canvas: Canvas, share: float, rng) -> None:
    """Ink that bled into the paper fibres: a random ``share`` of the pixels next to ink take the ink's
    darkness, so stroke edges turn ragged. The bled fringe is background, like an anti-aliased one."""
    grown = cv2.erode(canvas.image, np.ones((3, 3), np.uint8))
    for r0 in range(0, canvas.height, _STRIP):
        part = canvas.image[r0 : r0 + _STRIP]
        noise = _gaussian_noise(part.shape, rng)
        cut = float(np.quantile(noise[::7, ::7], 1.0 - share))
        bleed = (noise > cut) & (canvas.ids[r0 : r0 + _STRIP] == 0)
        part[bleed] = grown[r0 : r0 + _STRIP][bleed]


def _invert_track(img: np.ndarray, design: PageDesign, canvas: Canvas, index: int) -> bool:
    """White-on-black print of one track's body."""
    tracks = design.layout.tracks
    track = tracks[index % len(tracks)]
    y0, y1 = design.body
    a0, a1 = int(max(0, y0 - canvas.oy)), int(min(img.shape[0], y1 - canvas.oy))
    b0, b1 = int(max(0, track.x0 - canvas.ox)), int(min(img.shape[1], track.x1 - canvas.ox))
    if a1 <= a0 or b1 <= b0:
        return False
    img[a0:a1, b0:b1] = 255 - img[a0:a1, b0:b1]
    return True


def _moire(img: np.ndarray, canvas: Canvas, moire) -> np.ndarray:
    """A halftone screen from a reprinted copy, in page coordinates: strongest on mid-greys (line
    edges, grey grids, stains), faint on paper; the later resampling beats it into moiré. Row strips
    keep whole 12,000-px pages within memory."""
    angle = math.radians(moire["angle"])
    k = 2 * math.pi / moire["period"]
    out = np.empty_like(img)
    xs = canvas.ox + np.arange(img.shape[1], dtype=np.float32)[None, :]
    for r0 in range(0, img.shape[0], _STRIP):
        part = img[r0 : r0 + _STRIP]
        ys = canvas.oy + r0 + np.arange(part.shape[0], dtype=np.float32)[:, None]
        u = (math.cos(angle) * k) * xs + (math.sin(angle) * k) * ys
        v = (-math.sin(angle) * k) * xs + (math.cos(angle) * k) * ys
        screen = np.cos(u) * np.cos(v)
        t = part.astype(np.float32) * (1 / 255)
        mid = 1.0 - np.abs(2.0 * t - 1.0)
        out[r0 : r0 + _STRIP] = np.clip(part + screen * (moire["strength"] * (120.0 * mid + 25.0)), 0, 255)
    return out


def _motion_kernel(length: int, horizontal: bool) -> np.ndarray:
    """A box blur ``length`` px long along one axis, centred on the pixel: an even length spreads over
    length + 1 taps with half weight at both ends, so the ink does not drift half a pixel."""
    taps = length + 1 - length % 2
    line = np.ones(taps, np.float32)
    if length % 2 == 0:
        line[[0, -1]] = 0.5
    kernel = np.zeros((taps, taps), np.float32)
    if horizontal:
        kernel[taps // 2, :] = line / length
    else:
        kernel[:, taps // 2] = line / length
    return kernel


def _block_index(size: int, origin: int, factor: float) -> np.ndarray:
    """Low-resolution cell of each pixel along one axis: the cell holding the pixel's centre, on a grid
    fixed in page coordinates (so every window of a page agrees and the ink does not move)."""
    return np.floor((np.arange(size) + origin + 0.5) / factor).astype(np.int64)


def _blocky(img: np.ndarray, canvas: Canvas, factor: float, bilevel: bool) -> np.ndarray:
    """Scanned at low resolution, then upscaled by pixel repetition (staircase edges, fat pixels).

    Each low-resolution cell is the mean of the pixels whose centres it holds, and every pixel takes its
    cell's value: a stroke stays centred where it was drawn, so the labels and the truth still fit it.
    """
    h, w = img.shape
    rows = _block_index(h, canvas.oy, factor)
    cols = _block_index(w, canvas.ox, factor)
    col_starts = np.flatnonzero(np.diff(cols, prepend=cols[0] - 1))
    col_counts = np.diff(np.append(col_starts, w))
    out = np.empty_like(img)
    row_starts = np.flatnonzero(np.diff(rows, prepend=rows[0] - 1))
    bounds = np.append(row_starts, h)
    step = max(1, _STRIP // max(1, int(math.ceil(factor))))
    for k in range(0, row_starts.size, step):  # strips of whole cells keep memory bounded
        a, b = int(bounds[k]), int(bounds[min(k + step, row_starts.size)])
        cell_rows = row_starts[k : k + step] - a
        sums = np.add.reduceat(np.add.reduceat(img[a:b].astype(np.float32), cell_rows, axis=0), col_starts, axis=1)
        row_counts = np.diff(np.append(cell_rows, b - a))
        small = sums / (row_counts[:, None] * col_counts[None, :])
        small = np.where(small > 127, 255, 0) if bilevel else np.clip(np.rint(small), 0, 255)
        out[a:b] = np.repeat(np.repeat(small.astype(np.uint8), row_counts, axis=0), col_counts, axis=1)
    return out


_NOISE_BANK: np.ndarray | None = None
_BANK = 1024


def _gaussian_noise(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Unit Gaussian noise: a random window of a fixed bank (random offset and sign) for crop-sized
    windows — drawing fresh normals was a large share of a crop's cost — fresh normals otherwise."""
    global _NOISE_BANK
    h, w = shape
    if h > _BANK or w > _BANK:
        return rng.standard_normal(shape, dtype=np.float32)
    if _NOISE_BANK is None:
        _NOISE_BANK = np.random.default_rng(20261127).standard_normal((_BANK, _BANK), dtype=np.float32)
    r = int(rng.integers(0, _BANK - h + 1))
    c = int(rng.integers(0, _BANK - w + 1))
    window = _NOISE_BANK[r : r + h, c : c + w]
    return -window if rng.random() < 0.5 else window


# --------------------------------------------------------------------------- smooth fields in page coords
def _field(seed: int, canvas: Canvas, r0: int, r1: int, wavelength: float, terms: int = 4) -> np.ndarray:
    """A smooth random field in [-1, 1] over window rows r0..r1, defined in page coordinates."""
    rng = np.random.default_rng(seed)
    step = max(4, int(wavelength / 16))
    ys = canvas.oy + np.arange(r0, r1 + step, step, dtype=np.float64)
    xs = canvas.ox + np.arange(0, canvas.width + step, step, dtype=np.float64)
    out = np.zeros((ys.size, xs.size))
    for _ in range(terms):
        angle = rng.uniform(0, 2 * math.pi)
        k = 2 * math.pi / (wavelength * rng.uniform(0.5, 2.0))
        phase = rng.uniform(0, 2 * math.pi)
        out += np.cos(k * (np.cos(angle) * xs[None, :] + np.sin(angle) * ys[:, None]) + phase)
    out /= terms**0.5 * 1.2
    full = cv2.resize(out.astype(np.float32), (xs.size * step, ys.size * step), interpolation=cv2.INTER_LINEAR)
    return np.clip(full[: r1 - r0, : canvas.width], -1, 1)


def _pointwise(design: PageDesign, canvas: Canvas, plan, rng, applied: list[str]) -> None:
    paper = float(design.paper)
    seed = plan["seed"]
    H = canvas.height
    names = set()
    mirror = canvas.image[:, ::-1].copy() if plan["bleed_through"] > 0 else None
    if mirror is not None:
        mirror = cv2.GaussianBlur(mirror, (0, 0), 2.0)
    page_diag = math.hypot(design.width, design.height)
    for r0 in range(0, H, _STRIP):
        r1 = min(H, r0 + _STRIP)
        strip = canvas.image[r0:r1].astype(np.float32)
        ink = paper - strip  # darkness above paper
        if plan["faded_ink"] > 0:
            fade = plan["faded_ink"]
            if plan["faded_patchy"]:
                k = 1.0 - fade * (0.5 + 0.5 * _field(seed + 1, canvas, r0, r1, rng_wave(design, 0.08)))
            else:
                k = 1.0 - fade
            ink *= k
            names.add("faded_ink")
        if plan["contrast"] < 1.0:
            ink *= plan["contrast"]
            names.add("contrast")
        strip = paper - ink
        if mirror is not None:
            strip -= plan["bleed_through"] * (paper - mirror[r0:r1].astype(np.float32))
            names.add("bleed_through")
        gain = np.ones_like(strip)
        if plan["illumination"] > 0:
            gain *= 1.0 - plan["illumination"] * (0.5 + 0.5 * _field(seed + 2, canvas, r0, r1, page_diag * 0.6, 2))
            names.add("illumination")
        if plan["paper_texture"] > 0:
            texture = _field(seed + 3, canvas, r0, r1, 40.0, 6)
            strip += plan["paper_texture"] * texture
            names.add("paper_texture")
        if plan["stains"]:
            _stains(gain, seed + 4, canvas, r0, r1, plan["stains"], design)
            names.add("stains")
        if plan["folds"]:
            _folds(gain, seed + 5, canvas, r0, r1, plan, design)
            names.add("folds")
        if plan["tape"]:
            _tape(gain, seed + 6, canvas, r0, r1, plan["tape"], design)
            names.add("tape")
        if design.extras.get("joins"):
            _join_tape(gain, seed + 8, canvas, r0, r1, design.extras["joins"])
            names.add("taped_join")
        canvas.image[r0:r1] = np.clip(strip * gain, 0, 255).astype(np.uint8)
    applied.extend(sorted(names))


def rng_wave(design: PageDesign, fraction: float) -> float:
    return max(200.0, fraction * math.hypot(design.width, design.height))


def _rows_cols(canvas: Canvas, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
    ys = canvas.oy + np.arange(r0, r1, dtype=np.float32)[:, None] + 0.5
    xs = canvas.ox + np.arange(canvas.width, dtype=np.float32)[None, :] + 0.5
    return ys, xs


def _stains(gain, seed, canvas, r0, r1, n, design) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(n):
        cx, cy = rng.uniform(0, design.width), rng.uniform(0, design.height)
        radius = rng.uniform(0.02, 0.12) * min(design.width, design.height) + 20
        depth = rng.uniform(0.05, 0.3)
        ring = rng.random() < 0.4
        if not canvas.overlaps(cx - radius * 1.3, cy - radius * 1.3, cx + radius * 1.3, cy + radius * 1.3) or \
                cy + radius * 1.3 < canvas.oy + r0 or cy - radius * 1.3 > canvas.oy + r1:
            continue
        ys, xs = _rows_cols(canvas, r0, r1)
        d = np.sqrt((xs - cx) ** 2 + ((ys - cy) * rng.uniform(0.6, 1.4)) ** 2) / radius
        if ring:
            shade = np.exp(-((d - 1.0) / 0.06) ** 2) + 0.3 * (d < 1)
        else:
            shade = np.clip(1.2 - d, 0, 1) ** 0.7
        gain *= 1.0 - depth * shade


def _folds(gain, seed, canvas, r0, r1, plan, design) -> None:
    """Fan-fold creases: horizontal lines at regular page spacing with a soft shadow on one side."""
    rng = np.random.default_rng(seed)
    offset = rng.uniform(0, plan["fold_spacing"])
    width = rng.uniform(3, 25)
    strength = rng.uniform(0.05, 0.35)
    ys = canvas.oy + np.arange(r0, r1, dtype=np.float32) + 0.5
    k0 = math.floor((ys[0] - offset - 4 * width) / plan["fold_spacing"])
    k1 = math.ceil((ys[-1] - offset + 4 * width) / plan["fold_spacing"])
    profile = np.zeros_like(ys)
    for k in range(k0, k1 + 1):
        y = offset + k * plan["fold_spacing"]
        if k % max(1, 4 - plan["folds"]) != 0:
            continue
        dy = ys - y
        profile += np.where(dy < 0, np.exp(-((dy / width) ** 2)), 0.5 * np.exp(-((dy / (width / 3)) ** 2)))
        profile += 0.6 * np.exp(-((dy / 1.2) ** 2))  # the crease itself
    gain *= (1.0 - strength * np.clip(profile, 0, 1.5))[:, None]


def _perforations(design: PageDesign, canvas: Canvas, plan) -> bool:
    """Fan-fold perforation: a row of short slits along each crease (same positions as :func:`_folds`),
    scanned as paper-white gaps or dark slots. The paper is cut there: slits own their pixels."""
    rng = np.random.default_rng(plan["seed"] + 5)
    offset = rng.uniform(0, plan["fold_spacing"])
    spacing = plan["fold_spacing"]
    p = np.random.default_rng(plan["seed"] + 9)
    slit, gap = p.uniform(4, 30), p.uniform(2, 10)
    height = int(p.integers(1, 4))
    value = int(p.choice([255, 255, 40, 120]))
    drawn = False
    k0 = math.floor((canvas.oy - offset) / spacing) - 1
    k1 = math.ceil((canvas.oy + canvas.height - offset) / spacing) + 1
    for k in range(k0, k1 + 1):
        if k % max(1, 4 - plan["folds"]) != 0:
            continue
        r = int(math.floor(offset + k * spacing)) - canvas.oy
        if r + height <= 0 or r >= canvas.height:
            continue
        cols = np.arange(canvas.width)
        on = np.mod(cols + canvas.ox, slit + gap) < slit
        rows = slice(max(0, r), min(canvas.height, r + height))
        canvas.image[rows, on] = value
        canvas.ids[rows, on] = 0
        drawn = True
    return drawn


def _tape(gain, seed, canvas, r0, r1, n, design) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x0 = rng.uniform(0, design.width * 0.8)
        y0 = rng.uniform(0, design.height)
        w = rng.uniform(0.1, 0.5) * design.width
        h = rng.uniform(60, 400)
        a0, a1 = int(max(r0, y0 - canvas.oy)), int(min(r1, y0 + h - canvas.oy))
        b0, b1 = int(max(0, x0 - canvas.ox)), int(min(canvas.width, x0 + w - canvas.ox))
        if a1 > a0 and b1 > b0:
            gain[a0 - r0 : a1 - r0, b0:b1] *= 1.0 - rng.uniform(0.03, 0.12)


def _join_tape(gain, seed, canvas, r0, r1, joins) -> None:
    """Translucent tape over each page join (labels kept: the curves show through)."""
    rng = np.random.default_rng(seed)
    for row, _, _ in joins:
        half = rng.uniform(20, 90)
        shade = rng.uniform(0.04, 0.15)
        a0, a1 = int(max(r0, row - half - canvas.oy)), int(min(r1, row + half - canvas.oy))
        if a1 > a0:
            gain[a0 - r0 : a1 - r0, :] *= 1.0 - shade


def _holes_and_edges(design: PageDesign, canvas: Canvas, plan, applied: list[str]) -> None:
    fill = int(plan["hole_fill"])
    rng = np.random.default_rng(plan["seed"] + 7)
    circles = []
    if plan["holes"] == "punch":
        r = rng.uniform(0.012, 0.025) * design.width
        x = rng.uniform(1.5, 3.0) * r
        for y in np.linspace(0.15, 0.85, int(rng.integers(2, 4))) * design.height:
            circles.append((x, y, r))
    elif plan["holes"] == "sprocket":
        pitch = design.width / rng.uniform(16, 24)
        r = pitch * rng.uniform(0.15, 0.25)
        first = rng.uniform(0, pitch)
        for side_x in (pitch * 0.5, design.width - pitch * 0.5):
            lo = max(0, int((canvas.oy - first) / pitch) - 1)
            hi = int((canvas.oy + canvas.height - first) / pitch) + 2
            for k in range(lo, hi):
                circles.append((side_x, first + k * pitch, r))
    for cx, cy, r in circles:
        if canvas.overlaps(cx - r, cy - r, cx + r, cy + r):
            centre = (int(round((cx - canvas.ox - 0.5) * 16)), int(round((cy - canvas.oy - 0.5) * 16)))
            cv2.circle(canvas.image, centre, int(r * 16), fill, -1, cv2.LINE_AA, 4)
            cv2.circle(canvas.ids, centre, int(r * 16), 0, -1, cv2.LINE_8, 4)
    if circles:
        applied.append(plan["holes"])
    if plan.get("border", "none") != "none":
        # The scanner bed beyond a page that was smaller or shifted: a straight dark band.
        band = plan["border_width"] * design.width
        sides = {"both": ("left", "right")}.get(plan["border"], (plan["border"],))
        for side in sides:
            if side == "left":
                x0, y0, x1, y1 = -10.0, -10.0, band, design.height + 10
            elif side == "right":
                x0, y0, x1, y1 = design.width - band, -10.0, design.width + 10, design.height + 10
            else:
                x0, y0, x1, y1 = -10.0, -10.0, design.width + 10, band
            a0, a1 = int(max(0, y0 - canvas.oy)), int(min(canvas.height, y1 - canvas.oy))
            b0, b1 = int(max(0, x0 - canvas.ox)), int(min(canvas.width, x1 - canvas.ox))
            if a1 > a0 and b1 > b0:
                canvas.image[a0:a1, b0:b1] = min(fill, 60)
                canvas.ids[a0:a1, b0:b1] = 0
        applied.append("border")
    if plan["torn_edge"]:
        right = rng.random() < 0.5
        depth = rng.uniform(0.005, 0.04) * design.width
        ys = np.arange(canvas.oy - 64, canvas.oy + canvas.height + 64, 16, dtype=np.float64)
        # Jagged edge in page coordinates: a hash of the row keeps windows of one page consistent.
        jag = depth * (0.5 + 0.5 * np.sin(ys * 0.013 + plan["seed"] % 97) * np.cos(ys * 0.0041 + 1.7)) + \
            depth * 0.3 * ((np.sin(ys * 12.9898 + plan["seed"] % 13) * 43758.5453) % 1.0)
        xs = design.width - jag if right else jag
        edge_x = design.width + 10 if right else -10
        poly = np.vstack([np.column_stack([xs, ys]), [[edge_x, ys[-1]], [edge_x, ys[0]]]])
        fixed = canvas.fixed(poly)
        cv2.fillPoly(canvas.image, [fixed], fill, cv2.LINE_AA, 4)
        cv2.fillPoly(canvas.ids, [fixed], 0, cv2.LINE_8, 4)
        applied.append("torn_edge")


def finish_capture(img: np.ndarray, ids: np.ndarray, plan, rng, levels: tuple[float, float] | None) -> np.ndarray:
    """The steps of :func:`apply_artefacts` that follow a scanner's capture (threshold to 1 bit, specks,
    negative, JPEG of the 1-bit page), for a window captured apart (``synth.crops.coarse_capture``).
    ``levels``: paper and ink grey as the operator judged them on the sheet (:func:`ink_levels` of the
    drawn window): the threshold is set for the page's ink, not for the pale greys of pens thinner than
    a pixel; None judges them on ``img`` itself, where the pale grey of thin pens sets a higher threshold
    that keeps them. Curve labels are cleared in place where thresholding left paper."""
    if not plan.get("enabled"):
        return img
    if plan["bilevel"]:
        img = _bilevel(img, ids, plan, rng, levels)
    if plan["speckle"] > 0:
        _speckle(img, plan["speckle"], plan["bilevel"], rng)
    if plan["bilevel"]:
        ids[img > 127] = 0
    if plan.get("negative"):
        img = 255 - img
    if plan.get("jpeg_after"):
        img = _jpeg_round_trip(img, plan["jpeg_after"])
    return np.ascontiguousarray(img)


def _jpeg_round_trip(img: np.ndarray, quality: int) -> np.ndarray:
    """The page saved as a JPEG of ``quality`` and read back (blocking and ringing around strokes)."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f"OpenCV could not encode a {img.shape} page as JPEG")
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


_BAYER4 = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], np.float32) / 16.0


def ink_levels(img: np.ndarray, ids: np.ndarray) -> tuple[float, float]:
    """Paper and curve-ink grey of this window, as an operator setting the threshold would judge them."""
    sample = img[::5, ::5]
    paper_level = float(np.percentile(sample, 90))
    on_curves = img[ids > 0]
    if on_curves.size >= 50:
        ink_level = float(np.percentile(on_curves, 50))
    else:
        # No curve here: the darkest ink that is not a hole or a scanner border.
        inked = sample[(sample > 8) & (sample < paper_level - 20)]
        ink_level = float(np.percentile(inked, 5)) if inked.size else paper_level - 100
    return paper_level, min(ink_level, paper_level - 20)


def _bilevel(img: np.ndarray, ids: np.ndarray, plan, rng, levels: tuple[float, float] | None = None) -> np.ndarray:
    paper_level, ink_level = levels or ink_levels(img, ids)
    if plan.get("dither"):
        # Ordered dithering around this page's mid-grey: greys become dot patterns, ink stays solid.
        span = max(paper_level - ink_level, 1.0)
        reps = (img.shape[0] // 4 + 1, img.shape[1] // 4 + 1)
        out = np.empty_like(img)
        for r0 in range(0, img.shape[0], _STRIP):
            strip = img[r0 : r0 + _STRIP].astype(np.float32)
            level = (strip - ink_level) / span
            tile = np.tile(_BAYER4, reps)[r0 % 4 : r0 % 4 + strip.shape[0], : strip.shape[1]]
            out[r0 : r0 + _STRIP] = np.where(level > tile * 0.9 + 0.05, 255, 0).astype(np.uint8)
        return out
    if plan["adaptive"]:
        block = int(rng.integers(15, 101)) | 1
        out = cv2.adaptiveThreshold(img, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, float(rng.uniform(5, 25)))
    else:
        # Between this page's curve ink and paper: most thresholds keep the curves, a few break them up.
        level = ink_level + (paper_level - ink_level) * plan["threshold"]
        _, out = cv2.threshold(img, level, 255, cv2.THRESH_BINARY)
    if plan["morph"] in ("erode", "dilate"):
        # Ink grows (erode) or thins (dilate) by one pixel across. A 1-px change cannot be centred, so the side
        # it takes (left and top, or right and bottom) is the page's own: the truth is half a pixel off to
        # either side equally often. The labels follow the ink: onto ink that grew, off ink that went.
        kernel, anchor = np.ones((2, 2), np.uint8), ((0, 0) if plan["seed"] % 2 else (1, 1))
        if plan["morph"] == "erode":
            out = cv2.erode(out, kernel, anchor=anchor)
            grown = (out == 0) & (ids == 0)
            ids[grown] = cv2.dilate(ids, kernel, anchor=anchor)[grown]
        else:
            out = cv2.dilate(out, kernel, anchor=anchor)
    return out


def _speckle(img: np.ndarray, rate: float, bilevel: bool, rng) -> None:
    n = int(rate * img.size)
    if n == 0:
        return
    rows = rng.integers(0, img.shape[0], n)
    cols = rng.integers(0, img.shape[1], n)
    dark = rng.random(n) < 0.7
    img[rows[dark], cols[dark]] = 0 if bilevel else rng.integers(0, 120, int(dark.sum()))
    img[rows[~dark], cols[~dark]] = 255


def _streaks(img: np.ndarray, design: PageDesign, canvas: Canvas, plan) -> None:
    """Vertical lines from dirt on a sheet-feed scanner's sensor: the whole page height, dark or light.
    They look like grid lines or a flat curve, and are background."""
    rng = np.random.default_rng(plan["seed"] + 11)
    for _ in range(plan["streaks"]):
        x = rng.uniform(0, design.width)
        width = int(rng.integers(1, 4))
        c0 = int(x) - canvas.ox
        if c0 + width <= 0 or c0 >= canvas.width:
            continue
        cols = slice(max(0, c0), min(canvas.width, c0 + width))
        if rng.random() < 0.6:
            img[:, cols] = (img[:, cols] * rng.uniform(0.2, 0.8)).astype(np.uint8)
        else:
            img[:, cols] = np.maximum(img[:, cols], np.uint8(rng.integers(200, 256)))
