"""Stroke widths measured on a page's ink (veerdesk.core.strokes)."""

import cv2
import numpy as np
import pytest

from veerdesk.core.strokes import ridge_widths, sample_windows, typical_stroke_width


@pytest.mark.parametrize("thickness", [1, 2, 3, 5])
def test_a_page_of_one_pen_measures_that_pen(thickness):
    page = np.full((600, 400), 250, np.uint8)
    for i, x in enumerate(range(40, 380, 60)):
        # Slanted and bent strokes as well as an upright one.
        pts = np.array([[x, 20], [x + 10 * i, 300], [x, 580]], np.int32)
        cv2.polylines(page, [pts], False, 0, thickness)
    pen = int((page[150, 20:60] < 128).sum())  # OpenCV's thickness is not the drawn width: count it
    assert typical_stroke_width(page) == pytest.approx(pen, abs=1.0)


def test_thick_strokes_among_thin_lettering_and_rules():
    page = np.full((800, 800), 255, np.uint8)
    for x in range(0, 800, 40):
        page[:, x] = 0  # a 1 px grid
    for y in range(100, 800, 120):
        cv2.polylines(page, [np.array([[0, y], [800, y + 20]], np.int32)], False, 0, 5)
    assert typical_stroke_width(page) < 2  # the grid's hairlines are the most ink ridge
    page[:, ::40] = 255
    assert typical_stroke_width(page) >= 4


def test_blank_pages_and_small_pages():
    assert typical_stroke_width(np.full((500, 500), 255, np.uint8)) is None
    assert ridge_widths(np.full((10, 10), 255, np.uint8)).size == 0
    tiny = np.full((20, 30), 255, np.uint8)
    tiny[5:8, :] = 0
    assert typical_stroke_width(tiny) == pytest.approx(3, abs=0.5)


def test_windows_cover_tall_pages_evenly_and_stay_few():
    windows = sample_windows(250_000, 12_000)
    assert 20 <= len(windows) <= 64
    ys = sorted({w[0] for w in windows})
    assert ys[0] == 0 and ys[-1] == 250_000 - 256 and all(w[2] - w[0] == 256 for w in windows)
    assert {w[1] for w in windows} >= {0, 12_000 - 256}
    assert sample_windows(100, 100) == [(0, 0, 100, 100)]
