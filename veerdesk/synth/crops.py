"""An endless stream of training crops with masks, rendered on the fly.

Each crop designs a whole virtual page (numbers only: size, layout, styles, artefacts) and renders just a
window of it, so crops look like parts of real-size pages at no full-page cost. Windows are biased
towards tracks with curves; the window is a little larger than the crop so blur and the small skew
(crops only: the layout schema has no rotation, so full pages stay unskewed) never show an edge.

A share of crops (``coarse_share``) is a *coarse capture*: a window 1.4-2.8x larger is drawn and scanned
down to the crop, as an archive sheet scanned at 100-150 dpi would be. The designer never draws a pen
thinner than one pixel, so only this makes the sub-pixel pens of coarse scans: grey smudges on a grey
page, and on a 1-bit page pens broken into jaggy runs and dots reduced to single pixels (thresholding
comes after the scan-down, as in a scanner). A curve keeps its label where it still darkens the pixel.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace

import cv2
import numpy as np

from veerdesk.synth.artefacts import finish_capture, ink_levels
from veerdesk.synth.design import PageDesign, design_page
from veerdesk.synth.page import class_lookup, render_window, window_signals
from veerdesk.synth.traces import drawn_columns
from veerdesk.synth.variety import use_plotter_dashes


class CropStream:
    """Infinite iterator of ``(image uint8 crop×crop, mask uint8 crop×crop)``, deterministic by seed.

    ``curve_bias``: share of crops centred on a track with curves (the rest anywhere on the page).
    ``min_curve_pixels``: a curve-biased crop with fewer curve pixels is redrawn (up to two times).
    ``with_ids``: also yield the curve-owner map (then items are 3-tuples).
    ``classes``: the mask's class scheme (3: background/solid/non-solid; 4: dotted apart; 5: dash-dot
    apart too, see ``veerdesk.core.classes``).
    ``coarse_share``: share of crops that are coarse captures (see the module's doc); 0 keeps every crop
    as earlier versions drew it. ``coarse_levels``: where a 1-bit coarse capture takes its threshold's ink
    and paper levels from: ``"sheet"`` (the drawn window, as an operator judges the page; thin pens break)
    or ``"window"`` (the captured window; pale thin pens mostly survive: the first version, which trained
    the stage-9 weights).
    ``plotter_share``: share of crops whose broken-style curves take pen-scaled plotting-software dash
    patterns (``variety.use_plotter_dashes``); decided on a stream of its own, so 0 keeps every crop as
    before. ``family_share``: share of crops whose tracks draw curve families (later curves follow the
    first closely, ``traces.family_member``); likewise on a stream of its own.
    """

    def __init__(self, seed: int, crop: int = 512, *, curve_bias: float = 0.85, margin: int = 24,
                 clean: bool = False, min_curve_pixels: int | None = None, with_ids: bool = False,
                 width=None, height=None, classes: int = 3, coarse_share: float = 0.0,
                 coarse_levels: str = "sheet", plotter_share: float = 0.0, family_share: float = 0.0) -> None:
        for name, share in (("coarse_share", coarse_share), ("plotter_share", plotter_share),
                            ("family_share", family_share)):
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], not {share!r}")
        self.plotter_share = float(plotter_share)
        self.family_share = float(family_share)
        if coarse_levels not in COARSE_LEVELS:
            raise ValueError(f"coarse_levels must be one of {', '.join(COARSE_LEVELS)}, not {coarse_levels!r}")
        self.coarse_levels = coarse_levels
        self.seed = int(seed)
        self.coarse_share = float(coarse_share)
        self.classes = classes
        self.crop = int(crop)
        self.curve_bias = curve_bias
        self.margin = int(margin)
        self.clean = clean
        self.min_curve_pixels = crop if min_curve_pixels is None else min_curve_pixels
        self.with_ids = with_ids
        self.width = width
        self.height = height
        self._count = 0

    def __iter__(self) -> Iterator:
        return self

    def __next__(self):
        rng = np.random.default_rng([self.seed, self._count])
        # The capture scale has a stream of its own, so crops that stay at 1x are drawn exactly as before.
        capture = coarse_capture_scale(np.random.default_rng([self.seed, self._count, 7]), self.coarse_share)
        plotter_rng = np.random.default_rng([self.seed, self._count, 11])
        plotter = self.plotter_share > 0.0 and plotter_rng.random() < self.plotter_share
        families = self.family_share > 0.0 and np.random.default_rng([self.seed, self._count, 13]).random() < self.family_share
        self._count += 1
        biased = rng.random() < self.curve_bias
        size = self.crop + 2 * self.margin
        drawn = size if capture == 1.0 else int(math.ceil(size * capture))
        for attempt in range(3):
            design = design_page(rng, self.width, self.height, clean=self.clean)
            if plotter:
                use_plotter_dashes(design.curves, plotter_rng)
            if families:
                design.extras["curve_families"] = True
            y0 = self._window_row(design, rng, biased, drawn)
            x0, signals = self._window_column(design, rng, biased, y0, drawn)
            plan = design.artefacts
            if capture != 1.0 and plan.get("enabled"):
                # Thresholding and what follows it happen after the scan-down (see coarse_capture).
                design = replace(design, artefacts=dict(plan, bilevel=False, speckle=0.0, blocky=0.0,
                                                        jpeg_after=0, negative=False))
            canvas, _ = render_window(design, rng, x0, y0, drawn, drawn, signals)
            image, ids = canvas.image, canvas.ids
            if capture != 1.0:
                image, ids = coarse_capture(image, ids, size, plan, rng, self.coarse_levels)
            if not biased or np.count_nonzero(ids) >= self.min_curve_pixels or attempt == 2:
                break
        if design.artefacts.get("enabled") and design.artefacts.get("warp"):
            image, ids = warp_window(image, ids, design.artefacts["warp"], x0, y0)
        skew = design.artefacts.get("skew_deg", 0.0) if design.artefacts.get("enabled") else 0.0
        if abs(skew) > 0.05:
            centre = (size / 2, size / 2)
            m = cv2.getRotationMatrix2D(centre, skew, 1.0)
            image = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            ids = cv2.warpAffine(ids, m, (size, size), flags=cv2.INTER_NEAREST, borderValue=0)
        s = slice(self.margin, self.margin + self.crop)
        image = np.ascontiguousarray(image[s, s])
        ids = np.ascontiguousarray(ids[s, s])
        mask = class_lookup(design.layout, self.classes)[ids]
        return (image, mask, ids) if self.with_ids else (image, mask)

    def _window_row(self, design: PageDesign, rng: np.random.Generator, biased: bool, size: int) -> int:
        if biased:
            y_lo, y_hi = design.body
            y0 = rng.uniform(y_lo - 0.2 * size, max(y_lo, y_hi - 0.8 * size))
        else:
            y0 = rng.uniform(-0.1 * size, max(0.0, design.height - 0.9 * size))
        return int(math.floor(y0))

    def _window_column(self, design: PageDesign, rng: np.random.Generator, biased: bool, y0: int, size: int):
        """Left column of the window (``size`` pixels square) and the curve signals it needs. Biased windows
        are centred (give or take a quarter) on a point of a random curve. Only curves that can reach the
        window get a signal (a crop of one track of a four-track page skips most of the signal work)."""
        flat = design.layout.curves()
        made: dict[int, object] = {}
        x0 = None
        if biased:
            for k in rng.permutation(len(flat)):
                k = int(k)
                _, track, curve = flat[k]
                made[k] = window_signals(design, rng, y0, size, only={k})[0][k]
                values = made[k].values
                finite = np.nonzero(np.isfinite(values))[0]
                if finite.size:
                    i = finite[int(rng.integers(finite.size))]
                    x = float(drawn_columns(track, curve, values[i : i + 1])[0])
                    x0 = int(math.floor(x - size / 2 + rng.uniform(-0.25, 0.25) * size))
                    break
            if x0 is None:
                track = design.layout.tracks[int(rng.integers(len(design.layout.tracks)))]
                x0 = int(math.floor(rng.uniform(track.x0 - 0.25 * size, max(track.x0, track.x1 - 0.75 * size))))
        else:
            x0 = int(math.floor(rng.uniform(-0.1 * size, max(0.0, design.width - 0.9 * size))))
        needed = {k for k in range(len(flat)) if k not in made and _reaches(design, k, x0, x0 + size)}
        signals, _ = window_signals(design, rng, y0, size, only=needed)
        for k, signal in made.items():
            signals[k] = signal
        return x0, signals


def coarse_capture_scale(rng: np.random.Generator, share: float) -> float:
    """1.0, or (with probability ``share``) how many drawn pixels one captured pixel spans."""
    if share <= 0.0 or rng.random() >= share:
        return 1.0
    return float(rng.uniform(1.4, 2.8))


COARSE_LEVELS = ("sheet", "window")

# A curve keeps its label on a captured pixel where it covers at least this share of it: a quarter of a
# pen's contrast still shows as a grey smudge a reader would follow.
COARSE_LABEL_COVERAGE = 0.25


def coarse_capture(image: np.ndarray, ids: np.ndarray, size: int, plan: dict, rng: np.random.Generator,
                   levels: str = "sheet"):
    """Scan a drawn window down to ``size``×``size`` pixels (area averaging, as a sensor integrates).

    Each captured pixel is labelled with the curve covering most of it if it covers at least
    :data:`COARSE_LABEL_COVERAGE`; a 1-bit page is thresholded afterwards as the page's plan says, and
    curve labels go where the threshold left paper (as on full-resolution 1-bit crops). ``plan`` is the
    page's artefact plan, whose post-capture steps the drawn window skipped; ``levels`` see
    :class:`CropStream`'s ``coarse_levels``."""
    small = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    best = np.zeros((size, size), np.float32)
    owner = np.zeros((size, size), ids.dtype)
    for k in np.unique(ids):
        if k == 0:
            continue
        cover = cv2.resize((ids == k).astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
        wins = cover > best
        best[wins] = cover[wins]
        owner[wins] = k
    owner[best < COARSE_LABEL_COVERAGE] = 0
    judged = ink_levels(image, ids) if levels == "sheet" else None
    return finish_capture(small, owner, plan, rng, judged), owner


def _reaches(design: PageDesign, k: int, left: float, right: float, pad: float = 160.0) -> bool:
    """Can curve ``k`` (its track, any spill beyond it, and text written beside it) reach columns
    [left, right)?"""
    _, track, _ = design.layout.curves()[k]
    spill_lo, spill_hi = design.curves[k]["signal"].get("spill") or (0.0, 0.0)
    width = track.x1 - track.x0
    return track.x0 - spill_lo * width - pad < right and track.x1 + spill_hi * width + pad > left

def warp_window(image: np.ndarray, ids: np.ndarray, warp: dict, x0: int, y0: int) -> tuple[np.ndarray, np.ndarray]:
    """Bend a window as a curved or cockled page would (smooth sinusoidal displacement in page
    coordinates); the labels move with the ink. Crops only: the layout schema has no warp."""
    h, w = image.shape
    ys = np.arange(h, dtype=np.float32)
    xs = np.arange(w, dtype=np.float32)
    px, py = warp["phase"]
    # Columns shift with the row (vertical lines bow), rows shift with the column (horizontal ones sag).
    dx = warp["amp_x"] * np.sin(2 * np.pi * (ys + y0) / warp["wave_x"] + px)
    dy = warp["amp_y"] * np.sin(2 * np.pi * (xs + x0) / warp["wave_y"] + py)
    map_x = xs[None, :] + dx[:, None]
    map_y = ys[:, None] + dy[None, :]
    image = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    ids = cv2.remap(ids, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return image, ids
