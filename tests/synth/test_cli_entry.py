import argparse

import pytest

from veerdesk.core.errors import VeerDeskError
from veerdesk.synth.cli_entry import parse_range, run_synth


def _args(tmp_path, **kw):
    base = {"count": 2, "out": str(tmp_path / "out"), "seed": 3, "width": "400:500", "height": "500:600",
            "crop": None, "contact_sheet": None}
    base.update(kw)
    return argparse.Namespace(**base)


def test_pages_and_contact_sheet_are_written(tmp_path):
    sheet = tmp_path / "sheet.png"
    assert run_synth(_args(tmp_path, contact_sheet=str(sheet))) == 0
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"page_000003.png", "page_000004.las", "page_000004.layout.json", "page_000003.mask.png"} <= names
    assert sheet.stat().st_size > 1000


def test_crops_are_written(tmp_path):
    assert run_synth(_args(tmp_path, crop=64, count=3, width=None, height=None)) == 0
    assert len(list((tmp_path / "out").glob("crop_3_*.mask.png"))) == 3


@pytest.mark.parametrize("text", ["abc", "10:20", "600:500", "1:2:3"])
def test_bad_ranges_are_refused_with_a_clear_message(text):
    with pytest.raises(VeerDeskError, match="--width"):
        parse_range(text, "width")


def test_ranges_parse():
    assert parse_range("2000:6000", "width") == (2000, 6000)
    assert parse_range("800", "height") == (800, 800)
    assert parse_range(None, "height") is None


@pytest.mark.parametrize("crop", [0, 5, 9000])
def test_a_crop_size_out_of_range_is_refused_not_taken_for_whole_pages(tmp_path, crop):
    # --crop 0 once wrote whole pages: 0 read as "no crop asked".
    with pytest.raises(VeerDeskError, match=f"--crop must be between 16 and 8192 pixels, got {crop}"):
        run_synth(_args(tmp_path, crop=crop))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
