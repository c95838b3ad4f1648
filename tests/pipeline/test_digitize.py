import json

import lasio
import numpy as np
import pytest

from veerdesk.cli import main
from veerdesk.core.curves import r_squared
from veerdesk.core.errors import CancelledError, LayoutError
from veerdesk.core.layout import Layout
from veerdesk.pipeline.digitize import DigitizeResult, Progress, digitize, run_to_result


def test_digitize_yields_progress_then_a_result(sheet, ink_model):
    image, _, layout, truth = sheet
    events = list(digitize(image, layout, model=ink_model, device="cpu", tile=128, margin=16))
    assert all(isinstance(e, Progress) for e in events[:-1]) and isinstance(events[-1], DigitizeResult)
    fractions = [e.fraction for e in events[:-1]]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(e.stage == "segment" and e.tile is not None for e in events[:-1])
    result = events[-1]
    assert r_squared(truth["GR"], result.traces["GR"].value) > 0.999
    assert r_squared(np.log10(truth["ILD"]), np.log10(result.traces["ILD"].value)) > 0.999
    report = result.report
    assert report["curves"]["GR"]["coverage"] > 0.97
    assert 0.9 < report["curves"]["GR"]["mean_confidence"] <= 1.0
    assert report["curves"]["GR"]["low_confidence"] == []
    assert {"load_s", "segment_s", "trace_s", "total_s", "megapixels_per_s"} <= set(report["timings"])
    assert report["device"].startswith("cpu")
    json.dumps(report, allow_nan=False)


def test_cancel_produces_nothing(sheet, ink_model):
    image, _, layout, _ = sheet
    with pytest.raises(CancelledError):
        run_to_result(digitize(image, layout, model=ink_model, device="cpu", cancel=lambda: True))


def test_layout_for_another_sheet_is_refused(sheet, ink_model):
    image, _, layout, _ = sheet
    d = layout.to_dict()
    d["depth"]["ties"] = [[5000, 1], [6000, 2]]
    with pytest.raises(LayoutError, match="outside"):
        run_to_result(digitize(image, Layout.from_dict(d), model=ink_model))


def test_cli_digitize_writes_las_masks_and_report(sheet, tmp_path, fake_weights, capsys):
    image, layout_path, layout, truth = sheet
    out, report, masks = tmp_path / "out.las", tmp_path / "out.json", tmp_path / "masks"
    code = main(["digitize", str(image), "--layout", str(layout_path), "-o", str(out), "--device", "cpu",
                 "--masks", str(masks), "--report", str(report)])
    assert code == 0
    las = lasio.read(out)
    assert las.keys() == ["DEPT", "GR", "ILD"]
    np.testing.assert_allclose(las["DEPT"], layout.depth_grid())
    assert r_squared(truth["GR"], las["GR"]) > 0.999
    data = json.loads(report.read_text())
    assert data["curves"]["ILD"]["coverage"] > 0.97 and data["model"]["weights"] == "ink-model"
    assert sorted(p.name for p in masks.iterdir()) == ["out.classes-view.png", "out.classes.png",
                                                        "out.confidence.png"]
    assert "wrote" in capsys.readouterr().err


@pytest.mark.parametrize("problem", ["bad_layout", "bad_image", "missing_image", "layout_mismatch"])
def test_cli_errors_are_clear_and_leave_no_las(sheet, tmp_path, fake_weights, capsys, problem):
    image, layout_path, _, _ = sheet
    if problem == "bad_layout":
        layout_path.write_text('{"version": 1, "depth": {"unit": "FT"}}')
    elif problem == "bad_image":
        image.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    elif problem == "missing_image":
        image = tmp_path / "nope.tif"
    else:
        d = json.loads(layout_path.read_text())
        d["tracks"][0]["x0"], d["tracks"][0]["x1"] = 5000, 5100
        layout_path.write_text(json.dumps(d))
    out = tmp_path / "out.las"
    code = main(["digitize", str(image), "--layout", str(layout_path), "-o", str(out)])
    err = capsys.readouterr().err
    assert code in (3, 4)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.las")]


def test_cli_without_trained_weights_says_so(sheet, tmp_path, monkeypatch, capsys):
    image, layout_path, _, _ = sheet
    monkeypatch.setenv("VEERDESK_WEIGHTS", str(tmp_path / "missing.safetensors"))
    code = main(["digitize", str(image), "--layout", str(layout_path), "-o", str(tmp_path / "o.las")])
    err = capsys.readouterr().err
    assert code == 5 and "weights" in err and "veerdesk train" in err
    assert not (tmp_path / "o.las").exists()
