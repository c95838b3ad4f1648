import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from veerdesk.synth.canvas import Canvas, dash_pieces


@settings(max_examples=50, deadline=None)
@given(
    dash=st.floats(0.0, 40.0), gap=st.floats(1.0, 30.0), phase=st.floats(0.0, 100.0),
    length=st.floats(5.0, 500.0),
)
def test_dash_pieces_cover_the_on_share_of_a_line(dash, gap, phase, length):
    line = np.array([[10.0, 0.0], [10.0, length]])
    pieces = dash_pieces(line, [dash, gap], phase)
    on = sum(float(np.hypot(*np.diff(p, axis=0).T).sum()) for p in pieces)
    period = dash + gap
    expected = length * dash / period
    assert abs(on - expected) <= dash + 1e-6
    for p in pieces:
        assert np.all(p[:, 0] == 10.0)
        assert p[:, 1].min() >= -1e-9 and p[:, 1].max() <= length + 1e-9


def test_lines_land_on_the_layout_pixel_convention():
    # A vertical line at x = 20.5 (centre of pixel column 20) and a 2-px one at x = 40.0 (between 39 and 40).
    canvas = Canvas.blank(0, 0, 64, 32, 255)
    canvas.polylines([np.array([[20.5, 2.0], [20.5, 30.0]])], 0, 1, curve_id=1)
    canvas.polylines([np.array([[40.0, 2.0], [40.0, 30.0]])], 0, 2, curve_id=2)
    cols1 = np.nonzero(canvas.ids[16] == 1)[0]
    cols2 = np.nonzero(canvas.ids[16] == 2)[0]
    assert list(cols1) == [20]
    assert list(cols2) == [39, 40]
    assert np.all(canvas.image[16, cols1] == 0)


def test_odd_and_even_widths_are_exact():
    for width in range(1, 7):
        canvas = Canvas.blank(0, 0, 64, 32, 255)
        x = 30.5 if width % 2 else 30.0
        canvas.polylines([np.array([[x, 2.0], [x, 30.0]])], 0, width, curve_id=1)
        assert np.count_nonzero(canvas.ids[16]) == width


def test_windows_draw_nearly_the_same_pixels_as_the_page():
    # OpenCV clips lines to the image, which can move the raster path by a pixel here and there.
    line = [np.array([[5.3, 1.0], [50.7, 60.2], [20.1, 90.0]])]
    page = Canvas.blank(0, 0, 64, 96, 255)
    page.polylines(line, 0, 3, curve_id=1)
    window = Canvas.blank(17, 33, 30, 40, 255)
    window.polylines(line, 0, 3, curve_id=1)
    a, b = window.ids > 0, page.ids[33:73, 17:47] > 0
    assert a.sum() > 50
    assert np.count_nonzero(a != b) <= 0.05 * a.sum()
