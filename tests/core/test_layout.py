import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veerdesk.core.errors import LayoutError
from veerdesk.core.layout import Curve, Layout, Scale, Track, load_layout, parse_layout_json, save_layout

SCHEMA_EXAMPLE = {
    "version": 1,
    "well": {"name": "SMITH 1-32", "uwi": "15-131-20215", "company": "", "field": ""},
    "depth": {"unit": "FT", "ties": [[412.0, 1200.0], [5012.0, 1400.0], [9611.5, 1600.0]], "step": 0.5},
    "tracks": [
        {"x0": 120, "x1": 820, "scale": "linear", "curves": [
            {"mnemonic": "GR", "unit": "GAPI", "left": 0, "right": 150, "style": "solid"},
            {"mnemonic": "CALI", "unit": "IN", "left": 6, "right": 16, "style": "dashed",
             "backup": {"left": 16, "right": 26}}]},
        {"x0": 1000, "x1": 1700, "scale": "log", "curves": [
            {"mnemonic": "ILD", "unit": "OHMM", "left": 0.2, "right": 2000, "style": "solid"}]},
        {"x0": 1720, "x1": 2420, "scale": "linear", "curves": [
            {"mnemonic": "NPHI", "unit": "V/V", "left": 0.45, "right": -0.15, "style": "dashed"}]},
    ],
}


def example(**changes):
    data = json.loads(json.dumps(SCHEMA_EXAMPLE))
    data.update(changes)
    return data


def test_schema_example_parses_and_maps():
    layout = Layout.from_dict(SCHEMA_EXAMPLE)
    assert layout.depth.unit == "FT"
    assert [c.mnemonic for _, _, c in layout.curves()] == ["GR", "CALI", "ILD", "NPHI"]
    assert layout.depth.depth_at_row(412.0) == pytest.approx(1200.0)
    assert layout.depth.depth_at_row(2712.0) == pytest.approx(1300.0)
    assert math.isnan(layout.depth.depth_at_row(100.0))
    gr_track = layout.tracks[0]
    assert gr_track.value_at_column(470, layout.tracks[0].curves[0].scale) == pytest.approx(75.0)
    log_track = layout.tracks[1]
    ild = log_track.curves[0].scale
    # Two of the four decades across the track: half way is 20 ohm.m.
    assert log_track.value_at_column(1350, ild) == pytest.approx(20.0)
    nphi_track = layout.tracks[2]
    assert nphi_track.value_at_column(1720, nphi_track.curves[0].scale) == pytest.approx(0.45)
    assert nphi_track.value_at_column(2420, nphi_track.curves[0].scale) == pytest.approx(-0.15)


def test_depth_grid_is_every_step_inside_ties():
    grid = Layout.from_dict(SCHEMA_EXAMPLE).depth_grid()
    assert grid[0] == 1200.0 and grid[-1] == 1600.0
    assert np.allclose(np.diff(grid), 0.5)
    assert len(grid) == 801


def test_round_trip_keeps_unknown_keys(tmp_path):
    data = example(producer={"tool": "x", "n": 3})
    data["tracks"][0]["colour"] = "red"
    data["tracks"][0]["curves"][0]["note"] = "keep me"
    data["depth"]["datum"] = "KB"
    data["tracks"][0]["curves"][1]["backup"]["comment"] = "wrap"
    layout = Layout.from_dict(data)
    path = tmp_path / "layout.json"
    save_layout(layout, path)
    again = load_layout(path)
    assert again == layout
    written = json.loads(path.read_text())
    assert written["producer"] == {"tool": "x", "n": 3}
    assert written["tracks"][0]["colour"] == "red"
    assert written["tracks"][0]["curves"][0]["note"] == "keep me"
    assert written["depth"]["datum"] == "KB"
    assert written["tracks"][0]["curves"][1]["backup"]["comment"] == "wrap"
    assert Layout.from_dict(written).to_dict() == written


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda d: d["depth"].update(ties=[[10, 100]]), "depth.ties"),
        (lambda d: d["depth"].update(ties=[[10, 100], [5, 200]]), "depth.ties"),
        (lambda d: d["depth"].update(ties=[[1, 100], [5, 200], [9, 150]]), "depth.ties"),
        (lambda d: d["depth"].update(step=0), "depth.step"),
        (lambda d: d["depth"].update(unit="yards"), "depth.unit"),
        (lambda d: d["tracks"][0].update(x1=100), "tracks[0]"),
        (lambda d: d["tracks"][0].update(x0=120, x1=120), "tracks[0]"),
        (lambda d: d["tracks"][0].update(scale="sqrt"), "tracks[0].scale"),
        (lambda d: d["tracks"][1]["curves"][0].update(left=0), "tracks[1].curves[0].left"),
        (lambda d: d["tracks"][0]["curves"][0].update(left="zero"), "tracks[0].curves[0].left"),
        (lambda d: d["tracks"][0]["curves"][0].update(left=1e300), "tracks[0].curves[0].left"),
        (lambda d: d["tracks"][0]["curves"][0].update(style="wavy"), "tracks[0].curves[0].style"),
        (lambda d: d["tracks"][0]["curves"][0].update(right=0), "tracks[0].curves[0]"),
        (lambda d: d["tracks"][2]["curves"][0].update(mnemonic="GR"), "tracks[2].curves[0].mnemonic"),
        (lambda d: d["tracks"][0]["curves"][1].update(style="solid"), "tracks[0].curves[1]"),
        (lambda d: d.update(tracks={"x0": 1}), "tracks"),
        (lambda d: d.pop("depth"), "depth"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["tracks"][0]["curves"][0].update(mnemonic=""), "tracks[0].curves[0].mnemonic"),
        (lambda d: d["tracks"][0].update(x0=True), "tracks[0].x0"),
    ],
)
def test_validation_errors_name_the_key(mutate, key):
    data = example()
    mutate(data)
    with pytest.raises(LayoutError) as err:
        Layout.from_dict(data)
    assert key in str(err.value)
    assert "\n" not in str(err.value)


def test_json_errors_are_layout_errors(tmp_path):
    with pytest.raises(LayoutError, match="not valid JSON"):
        parse_layout_json("{ not json")
    with pytest.raises(LayoutError, match="NaN"):
        parse_layout_json(json.dumps(SCHEMA_EXAMPLE).replace("0.5}", "NaN}", 1))
    with pytest.raises(LayoutError, match="must be an object"):
        parse_layout_json("[1, 2]")
    with pytest.raises(LayoutError, match="not found"):
        load_layout(tmp_path / "missing.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(LayoutError):
        load_layout(tmp_path / "bin.json")
    with pytest.raises(LayoutError):
        parse_layout_json("[" * 100000 + "]" * 100000)


def test_failed_validation_writes_nothing(tmp_path):
    data = example()
    data["depth"]["step"] = -1
    with pytest.raises(LayoutError):
        save_layout(Layout.from_dict(data), tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def depth_axes(draw):
    n = draw(st.integers(2, 6))
    rows = np.cumsum(draw(st.lists(st.floats(0.5, 5000), min_size=n, max_size=n)))
    steps = draw(st.lists(st.floats(0.01, 500), min_size=n - 1, max_size=n - 1))
    start = draw(st.floats(-1000, 10000))
    sign = draw(st.sampled_from([1.0, -1.0]))
    depths = start + sign * np.concatenate([[0.0], np.cumsum(steps)])
    ties = [[float(r), float(d)] for r, d in zip(rows, depths, strict=True)]
    return Layout.from_dict({"depth": {"unit": "M", "ties": ties, "step": 0.1}, "tracks": []}).depth


@settings(max_examples=150, deadline=None)
@given(depth_axes(), st.floats(0, 1))
def test_row_depth_inverse(axis, t):
    y0, y1 = axis.row_range()
    y = min(y0 + t * (y1 - y0), y1)  # at t = 1 the sum can overshoot the last tie by an ulp (NaN past it)
    d = axis.depth_at_row(y)
    assert np.isfinite(d)
    assert axis.row_at_depth(d) == pytest.approx(y, rel=1e-9, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(-5000, 5000), st.floats(1, 5000), st.sampled_from(["linear", "log"]),
    st.floats(-1000, 1000), st.floats(-1000, 1000), st.floats(-0.5, 1.5),
)
def test_value_column_inverse(x0, width, scale_kind, a, b, t):
    if scale_kind == "log":
        a, b = abs(a) + 1e-3, abs(b) + 1e-3
    if abs(a - b) < 1e-3 * max(1.0, abs(a)):
        return
    track = Track(x0, x0 + width, scale_kind)
    scale = Scale(a, b)
    x = x0 + t * width
    v = track.value_at_column(x, scale)
    assert track.column_at_value(v, scale) == pytest.approx(x, rel=1e-7, abs=1e-6)


def test_log_track_nonpositive_value_is_nan():
    track = Track(0, 100, "log")
    assert np.isnan(track.column_at_value(-1.0, Scale(0.2, 2000)))


def test_display_columns_wrap_onto_the_backup_scale_only_off_the_track():
    # Resistivity on a log track, 0.2-20 ohm.m, wrapping onto 20-2000 beyond the right edge.
    track = Track(100, 300, "log")
    curve = Curve("ILD", "OHMM", 0.2, 20, backup=Scale(20, 2000))
    x = track.display_columns(np.array([0.2, 2.0, 20.0, 20.2, 200.0, np.nan]), curve)
    # 20.2 lies 0.43 px past the edge: still the main scale (a pen touching the border), not wrapped.
    assert np.allclose(x[:5], [100, 200, 300, 300 + 200 * np.log10(1.01) / 2, 200])
    assert np.isnan(x[5])
    no_backup = Curve("GR", "GAPI", 0, 150)
    assert np.allclose(Track(0, 150).display_columns(np.array([-15.0, 160.0]), no_backup), [-15, 160])


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8).filter(
    lambda k: k not in ("version", "well", "depth", "tracks")), st.integers() | st.text(max_size=5), max_size=4))
def test_unknown_root_keys_round_trip(extra):
    layout = Layout.from_dict(example(**extra))
    again = Layout.from_dict(json.loads(layout.to_json()))
    assert again.to_dict() == layout.to_dict()
    for k, v in extra.items():
        assert again.extra[k] == v
