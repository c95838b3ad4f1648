import cv2
import numpy as np

from veerdesk.synth.labels import visible_curve_labels


def _scene(paper: int = 240, ink: int = 40):
    """A 3-px vertical curve (id 1) at columns 30-32 and a grid line drawn at column 33, touching it."""
    image = np.full((64, 64), paper, np.uint8)
    ids = np.zeros((64, 64), np.uint8)
    image[:, 30:33] = ink
    ids[:, 30:33] = 1
    image[:, 33] = 120  # grid line, printed before the scan
    blank = image == paper
    return image, ids, blank


def test_ink_spread_into_paper_joins_the_curve_but_a_touching_grid_line_does_not():
    image, ids, blank = _scene()
    spread = cv2.erode(image, np.ones((1, 3), np.uint8))  # the scanner spreads ink one pixel sideways
    labels = visible_curve_labels(spread, ids, blank)
    assert np.all(labels[:, 29] == 1)  # was paper, now as dark as the curve
    assert np.all(labels[:, 30:33] == 1)
    assert np.all(labels[:, 33] == 0)  # grid ink: never a curve label
    assert np.all(labels[:, 34] == 0)  # not touching the curve's label
    assert np.all(labels[:, :29] == 0)


def test_a_footprint_pixel_left_as_paper_loses_its_label_but_faded_ink_keeps_it():
    image, ids, blank = _scene()
    image[10:20, 30:33] = 238  # a hole in the ink: paper
    image[40:50, 30:33] = 150  # faded, still well away from paper
    labels = visible_curve_labels(image, ids, blank)
    assert np.all(labels[10:20, 30:33] == 0)
    assert np.all(labels[40:50, 30:33] == 1)


def test_a_curve_with_no_contrast_keeps_its_footprint():
    image, ids, blank = _scene(paper=240, ink=230)
    labels = visible_curve_labels(image, ids, blank)
    assert np.array_equal(labels[:, 30:33], ids[:, 30:33])


def test_light_pens_are_measured_against_their_own_ink():
    # Two curves: a dark one and a light one; pixels of the light pen at its own grey stay labelled and
    # a blur halo as dark as half-way to the light ink joins it.
    image = np.full((40, 60), 245, np.uint8)
    ids = np.zeros((40, 60), np.uint8)
    image[:, 10:12], ids[:, 10:12] = 20, 1
    image[:, 40:42], ids[:, 40:42] = 170, 2
    blank = image == 245
    image[:, 42] = 200  # halo: (245 - 200) / (245 - 170) = 0.6 of the way to the light ink
    labels = visible_curve_labels(image, ids, blank)
    assert np.all(labels[:, 40:43] == 2)
    assert np.all(labels[:, 10:12] == 1)
    assert np.all(labels[:, 12] == 0)
