"""Whole synthetic pages: image, class mask, curve owners, layout and the truth that was drawn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from veerdesk.core.classes import style_class
from veerdesk.core.layout import Layout
from veerdesk.synth.artefacts import apply_artefacts
from veerdesk.synth.canvas import Canvas
from veerdesk.synth.design import PageDesign, design_page
from veerdesk.synth.render import render_content
from veerdesk.synth.traces import fine_depths, fine_factor, make_signals


@dataclass(frozen=True)
class SyntheticPage:
    image: np.ndarray  # uint8 H×W, 0 ink, 255 paper
    mask: np.ndarray  # uint8 H×W: 0 background, 1 solid curve, 2 dashed/dotted/dashdot curve
    curve_ids: np.ndarray  # uint8 H×W: 0 none, k = 1-based index into layout.curves()
    layout: Layout
    truth: dict[str, np.ndarray]  # on layout.depth_grid(); NaN where absent
    style: dict[str, Any]


def class_lookup(layout: Layout, classes: int = 3) -> np.ndarray:
    """Mask class of each curve id (index 0 = no curve) under the ``classes``-class scheme."""
    lut = np.zeros(256, np.uint8)
    for k, (_, _, curve) in enumerate(layout.curves(), start=1):
        lut[k] = style_class(curve.style, classes)
    return lut


def window_signals(design: PageDesign, rng: np.random.Generator, y0: float | None = None,
                   height: float | None = None, only=None):
    """Curve signals for rows [y0, y0 + height) (the whole page when y0 is None), and the fine factor.
    ``only``: indices of the curves to make (the others are absent)."""
    factor = fine_factor(design)
    if y0 is None:
        depths = fine_depths(design.layout, factor)
    else:
        depths = fine_depths(design.layout, factor, y0 - 16.0, y0 + height + 16.0)
    return make_signals(design, rng, depths, factor, only), factor


def render_window(design: PageDesign, rng: np.random.Generator, x0: int, y0: int, width: int, height: int,
                  signals=None) -> tuple[Canvas, list[str]]:
    """Render the window [x0, x0+width) × [y0, y0+height) of a designed page with its artefacts.

    ``signals`` default to fresh ones for the window's rows. Returns (canvas, artefact names).
    """
    if signals is None:
        signals, _ = window_signals(design, rng, y0, height)
    canvas = Canvas.blank(x0, y0, width, height, design.paper)
    render_content(design, canvas, signals, rng)
    applied = apply_artefacts(design, canvas)
    return canvas, applied


def generate_page(seed: int, *, width=None, height=None, clean: bool = False) -> SyntheticPage:
    """A full synthetic page, deterministic for ``seed``.

    ``width``/``height``: pixels, a (min, max) range, or None for the default ranges. ``clean`` turns off
    scan artefacts, occluders and faint-ink fragments (used by tests that compare ink with the truth).
    """
    rng = np.random.default_rng(seed)
    design = design_page(rng, width, height, clean=clean)
    signals, factor = window_signals(design, rng)
    canvas, applied = render_window(design, rng, 0, 0, design.width, design.height, signals)
    layout = design.layout
    grid = layout.depth_grid()
    truth = {}
    for (_, _, curve), signal in zip(layout.curves(), signals, strict=True):
        values = signal.values[::factor] if signal.values.size else np.full(grid.size, np.nan)
        truth[curve.mnemonic] = values[: grid.size].astype(np.float64)
    mask = class_lookup(layout)[canvas.ids]
    style = dict(design.summary, seed=int(seed), artefacts_applied=applied,
                 shapes=[s.recipe for s in signals])
    return SyntheticPage(canvas.image, mask, canvas.ids, layout, truth, style)
