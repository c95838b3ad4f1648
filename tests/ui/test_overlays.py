import numpy as np

from veerdesk.core.curves import CurveTrace
from veerdesk.core.layout import Layout
from veerdesk.ui.overlays import band_image, confidence_rgb, polyline_path, trace_points

LAYOUT = Layout.from_dict({
    "version": 1,
    "depth": {"unit": "M", "ties": [[0, 100.0], [1000, 200.0]], "step": 1},
    "tracks": [{"x0": 100, "x1": 300, "scale": "linear", "curves": [
        {"mnemonic": "GR", "unit": "GAPI", "left": 0, "right": 100, "style": "solid",
         "backup": {"left": 100, "right": 200}}]}],
})


def test_values_past_the_scale_are_drawn_on_the_backup_scale():
    _, track, curve = LAYOUT.curve("GR")
    x = track.display_columns(np.array([0.0, 50.0, 100.0, 150.0, np.nan]), curve)
    assert np.allclose(x[:4], [100, 200, 300, 200]) and np.isnan(x[4])


def test_trace_points_follow_depth_ties():
    trace = CurveTrace("GR", np.array([100.0, 150.0, 200.0]), np.array([0.0, 50.0, 100.0]), np.ones(3))
    x, y = trace_points(LAYOUT, trace)
    assert np.allclose(y, [0, 500, 1000]) and np.allclose(x, [100, 200, 300])
    unknown = CurveTrace("XX", trace.depth, trace.value, trace.confidence)
    assert np.isnan(trace_points(LAYOUT, unknown)[0]).all()


def test_paths_break_at_missing_samples(qapp):
    path = polyline_path(np.array([0.0, 1, np.nan, 3, 4]), np.array([0.0, 1, 2, 3, 4]))
    moves = [path.elementAt(i).isMoveTo() for i in range(path.elementCount())]
    assert path.elementCount() == 4 and moves == [True, False, True, False]


def test_band_colours_run_red_to_green_and_absent_is_transparent(qapp):
    rgb = confidence_rgb(np.array([0.0, 1.0]))
    assert rgb[0, 0] > rgb[0, 1] and rgb[1, 1] > rgb[1, 0]
    value = np.array([1.0, np.nan, 1.0])
    trace = CurveTrace("GR", np.array([100.0, 150.0, 200.0]), value, np.array([0.2, 0.0, 0.9]))
    image, top, bottom = band_image(LAYOUT, trace, rows_per_pixel=10)
    assert (top, bottom) == (0.0, 1000.0)
    alphas = [image.pixelColor(0, r).alpha() for r in range(image.height())]
    assert alphas[0] > 0 and alphas[-1] > 0 and 0 in alphas
