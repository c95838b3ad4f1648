import os

import lasio
import numpy as np
import pytest

from veerdesk.core.curves import CurveTrace
from veerdesk.core.errors import ExportError
from veerdesk.core.layout import Layout
from veerdesk.export.las import NULL_VALUE, write_las


def layout(step=0.5, ties=((10.0, 1200.0), (410.0, 1300.0)), unit="FT"):
    return Layout.from_dict({
        "version": 1,
        "well": {"name": "SMITH 1-32", "uwi": "15-131-20215", "company": "ACME OIL", "field": "WILDCAT"},
        "depth": {"unit": unit, "ties": [list(t) for t in ties], "step": step},
        "tracks": [
            {"x0": 0, "x1": 100, "curves": [
                {"mnemonic": "GR", "unit": "GAPI", "left": 0, "right": 150},
                {"mnemonic": "CALI", "unit": "IN", "left": 6, "right": 16, "style": "dashed"}]},
            {"x0": 110, "x1": 200, "scale": "log", "curves": [
                {"mnemonic": "ILD", "unit": "OHMM", "left": 0.2, "right": 2000}]},
        ],
    })


def trace(lay, name, values):
    depth = lay.depth_grid()
    return CurveTrace(name, depth, values, np.ones(depth.size))


def test_read_back_matches_values_header_and_nulls(tmp_path):
    lay = layout()
    depth = lay.depth_grid()
    rng = np.random.default_rng(1)
    gr = rng.uniform(0, 150, depth.size)
    gr[[0, 5, 6]] = np.nan
    ild = 10 ** rng.uniform(-0.5, 3, depth.size)
    out = tmp_path / "well.las"
    write_las(out, lay, {"GR": trace(lay, "GR", gr), "ILD": trace(lay, "ILD", ild)})
    las = lasio.read(out)
    assert las.version["VERS"].value == 2.0
    assert las.keys() == ["DEPT", "GR", "CALI", "ILD"]
    assert las.well["NULL"].value == NULL_VALUE
    assert "-999.25" in out.read_text()
    assert las.well["WELL"].value == "SMITH 1-32" and las.well["UWI"].value == "15-131-20215"
    assert las.well["COMP"].value == "ACME OIL" and las.well["FLD"].value == "WILDCAT"
    assert las.well["STRT"].value == depth[0] == 1200.0
    assert las.well["STOP"].value == depth[-1] == 1300.0
    assert las.well["STEP"].value == 0.5 and las.well["STRT"].unit == "FT"
    assert np.array_equal(las["DEPT"], depth)
    assert np.array_equal(np.isnan(las["GR"]), np.isnan(gr))
    np.testing.assert_allclose(las["GR"], gr, rtol=1e-8, atol=0)
    np.testing.assert_allclose(las["ILD"], ild, rtol=1e-8, atol=0)
    assert np.isnan(las["CALI"]).all()  # a layout curve without a trace is all NULL, not missing
    assert [c.unit for c in las.curves] == ["FT", "GAPI", "IN", "OHMM"]


def test_metres_and_decreasing_depth_with_odd_step(tmp_path):
    lay = layout(step=0.1524, ties=((0.0, 500.0), (300.0, 450.0)), unit="M")
    depth = lay.depth_grid()
    out = tmp_path / "m.las"
    write_las(out, lay, {"GR": trace(lay, "GR", np.linspace(0, 1, depth.size))})
    las = lasio.read(out)
    assert las.well["STRT"].unit == "M"
    np.testing.assert_allclose(las["DEPT"], depth, rtol=0, atol=1e-9)
    assert las.well["STEP"].value == pytest.approx(0.1524)
    assert las.well["STOP"].value == pytest.approx(las.well["STRT"].value + (depth.size - 1) * 0.1524, abs=1e-4)


def test_wrong_length_trace_is_refused_and_nothing_written(tmp_path):
    lay = layout()
    out = tmp_path / "bad.las"
    bad = CurveTrace("GR", np.arange(5.0), np.arange(5.0), np.ones(5))
    with pytest.raises(ExportError, match="GR"):
        write_las(out, lay, {"GR": bad})
    assert os.listdir(tmp_path) == []


class HalfThenFail:
    """An output file that takes half of the first text it is given, then fails with ``error``."""

    def __init__(self, path, error: BaseException) -> None:
        self.fh = open(path, "w", encoding="utf-8")  # closed in __exit__
        self.path, self.error, self.partial = path, error, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()

    def write(self, text: str) -> None:
        self.fh.write(text[: len(text) // 2])
        self.fh.flush()
        self.partial = os.path.getsize(self.path)
        raise self.error


def no_space() -> OSError:
    return OSError(28, "No space left on device")


@pytest.mark.parametrize("failure", ["open fails", "disk full mid-write", "ctrl-c mid-write", "flush fails"])
def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch, failure):
    """Wherever writing stops, the previous LAS at the target is intact and no temp file is left."""
    lay = layout()
    out = tmp_path / "keep.las"
    out.write_text("previous")
    opened = []

    def failing_open(path, *args, **kwargs):
        if failure == "open fails":
            raise no_space()
        opened.append(HalfThenFail(path, KeyboardInterrupt() if failure == "ctrl-c mid-write" else no_space()))
        return opened[-1]

    def failing_fsync(fd) -> None:
        raise no_space()

    if failure == "flush fails":
        monkeypatch.setattr("veerdesk.core.atomic.os.fsync", failing_fsync)
    else:
        monkeypatch.setattr("veerdesk.export.las.open", failing_open, raising=False)
    with pytest.raises(KeyboardInterrupt if failure == "ctrl-c mid-write" else ExportError):
        write_las(out, lay, {"GR": trace(lay, "GR", np.linspace(0, 150, lay.depth_grid().size))})
    monkeypatch.undo()
    assert all(f.partial > 0 for f in opened)  # half a file really was on disk before the failure
    assert out.read_text() == "previous"
    assert sorted(os.listdir(tmp_path)) == ["keep.las"]


def test_header_text_beyond_ascii_reads_back_exactly(tmp_path):
    # LAS 2.0 is ASCII; a layout may still hold a well name with an umlaut or a unit in µs. Without a byte-order
    # mark lasio read such a file as Windows-1252 ("DÃ¼sseldorf").
    data = layout().to_dict()
    data["well"]["name"] = "Düsseldorf 1"
    data["tracks"][0]["curves"][0]["unit"] = "µs/ft"
    lay = Layout.from_dict(data)
    depth = lay.depth_grid()
    out = tmp_path / "umlaut.las"
    write_las(out, lay, {"GR": trace(lay, "GR", np.linspace(0, 150, depth.size))})
    las = lasio.read(str(out))
    assert las.well.WELL.value == "Düsseldorf 1" and las.curves["GR"].unit == "µs/ft"
    ascii_out = tmp_path / "plain.las"
    write_las(ascii_out, layout(), {})
    assert ascii_out.read_bytes()[:3] != b"\xef\xbb\xbf"  # plain ASCII files stay without a mark


def test_a_unit_with_a_space_is_written_so_it_reads_back_whole(tmp_path):
    from veerdesk.export.las import unit_warnings

    data = layout().to_dict()
    data["tracks"][1]["curves"][0]["unit"] = "OHM M"
    lay = Layout.from_dict(data)
    out = tmp_path / "space.las"
    write_las(out, lay, {})
    assert lasio.read(str(out)).curves["ILD"].unit == "OHM_M"  # was "OHM", with "M" read as the value
    assert unit_warnings(lay) == ["ILD: unit 'OHM M' is written to LAS as 'OHM_M' (a LAS unit ends at the first space)"]
    assert unit_warnings(layout()) == []
