"""Scan artefacts must not move the ink off its labels and truth: a stroke stays centred where it was drawn.

Each test draws a vertical stroke with a known centre and measures where the ink's centroid went. Before
these were fixed, a 1-bit 2 × 2 erode or dilate moved every stroke +0.5 px, nearest upscaling −0.5 to +1 px
and an even motion blur +0.5 px, while labels and truth stayed put (docs/synth.md).
"""

import cv2
import numpy as np
import pytest

from veerdesk.synth.artefacts import _bilevel, _blocky, _motion_kernel
from veerdesk.synth.canvas import Canvas


def ink_centre(img: np.ndarray) -> float:
    """Darkness-weighted mean column of the image (255 = paper)."""
    darkness = (255.0 - img.astype(np.float64)).sum(axis=0)
    return float((darkness * (np.arange(img.shape[1]) + 0.5)).sum() / darkness.sum())


def stroke_canvas(first_col: int, width: int, ox: int = 0, oy: int = 0) -> Canvas:
    canvas = Canvas.blank(ox, oy, 64, 48, 255)
    canvas.image[:, first_col : first_col + width] = 0
    canvas.ids[:, first_col : first_col + width] = 1
    return canvas


@pytest.mark.parametrize("length", [2, 3, 4, 5])
@pytest.mark.parametrize("horizontal", [True, False])
def test_motion_blur_kernel_sums_to_one_and_is_centred(length, horizontal):
    kernel = _motion_kernel(length, horizontal)
    assert kernel.sum() == pytest.approx(1.0)
    assert kernel.shape[0] % 2 == 1, "an odd size puts the anchor on the middle tap"
    taps = np.arange(kernel.shape[0]) - kernel.shape[0] // 2
    along = kernel.sum(axis=0) if horizontal else kernel.sum(axis=1)
    assert float((along * taps).sum()) == pytest.approx(0.0)
    assert np.count_nonzero(along) == length + 1 - length % 2


def test_even_motion_blur_leaves_a_stroke_where_it_was():
    canvas = stroke_canvas(20, 3)  # centre 21.5
    out = cv2.filter2D(canvas.image, -1, _motion_kernel(4, horizontal=True))
    assert ink_centre(out) == pytest.approx(21.5, abs=0.01)


@pytest.mark.parametrize("factor", [1.5, 2.0, 2.6, 3.0, 3.5])
def test_blocky_upscale_keeps_strokes_centred_on_average(factor):
    # One stroke may snap to its cell by up to half a cell either way; over the positions a page offers the
    # snapping cancels out (the old upscale drifted one way: -0.5 to +1 px, depending on the factor).
    shifts = []
    for first in range(16, 40):
        canvas = stroke_canvas(first, 3)
        out = _blocky(canvas.image, canvas, factor, bilevel=False)
        shifts.append(ink_centre(out) - (first + 1.5))
    assert abs(np.mean(shifts)) < 0.1
    assert max(abs(s) for s in shifts) <= factor / 2 + 0.01


def test_blocky_cells_are_fixed_on_the_page_so_windows_agree():
    page = stroke_canvas(25, 3)
    whole = _blocky(page.image, page, 2.5, bilevel=True)
    window = Canvas(10, 5, page.image[5:, 10:].copy(), page.ids[5:, 10:].copy())
    part = _blocky(window.image, window, 2.5, bilevel=True)
    # Away from the window's cut edge (where a cell is only partly inside) the two agree pixel for pixel.
    assert np.array_equal(part[5:, 5:], whole[10:, 15:])


def bilevel_plan(morph: str, seed: int) -> dict:
    return {"enabled": True, "bilevel": True, "dither": False, "adaptive": False, "threshold": 0.5,
            "morph": morph, "seed": seed}


@pytest.mark.parametrize("morph, width", [("erode", 4), ("dilate", 2)])
def test_one_bit_growth_and_thinning_take_the_side_the_page_seed_picks_and_labels_follow_the_ink(morph, width):
    centres = set()
    for seed in (6, 7):
        canvas = stroke_canvas(20, 3)
        out = _bilevel(canvas.image, canvas.ids, bilevel_plan(morph, seed), np.random.default_rng(0), levels=(255, 0))
        assert int((out[10] == 0).sum()) == width
        canvas.ids[out > 127] = 0  # what apply_artefacts does after every 1-bit step
        assert np.array_equal(canvas.ids[1:-1] > 0, out[1:-1] == 0), "every ink pixel is labelled, no paper pixel is"
        centres.add(round(ink_centre(out[1:-1]), 3))
    assert centres == {21.0, 22.0}, "half a pixel off to the left on some pages and to the right on others"
