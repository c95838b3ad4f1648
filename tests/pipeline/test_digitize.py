import json
import os

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
    assert report["curves"]["GR"]["style_ink_share"] > 0.3 and report["warnings"] == []
    assert {"load_s", "segment_s", "trace_s", "total_s", "megapixels_per_s"} <= set(report["timings"])
    assert report["device"].startswith("cpu")
    json.dumps(report, allow_nan=False)


def test_a_curve_whose_style_the_model_never_labels_is_warned_about():
    from veerdesk.core.curves import CurveTrace
    from veerdesk.inference.trace import style_ink_shares
    from veerdesk.pipeline.digitize import style_warnings

    layout = Layout.from_dict({
        "version": 1, "depth": {"unit": "FT", "ties": [[10, 1000], [390, 1095]], "step": 0.5},
        "tracks": [{"x0": 20, "x1": 220, "scale": "linear", "curves": [
            {"mnemonic": "RHOB", "unit": "G/C3", "left": 1.95, "right": 2.95, "style": "dashed"},
            {"mnemonic": "NPHI", "unit": "V/V", "left": 0.45, "right": -0.15, "style": "dotted"}]}]})
    class_map = np.zeros((400, 240), np.uint8)
    class_map[10:390, 60:62] = 2  # both pens labelled dashed (the five-class scheme: dotted is 3)
    class_map[10:390, 150:152] = 2
    shares = style_ink_shares(class_map, layout, classes=5)
    assert shares == {"RHOB": 1.0, "NPHI": 0.0}
    depth = layout.depth_grid()
    found = CurveTrace("RHOB", depth, np.full(depth.size, 2.2), np.ones(depth.size))
    missing = CurveTrace.absent("NPHI", depth)
    warnings = style_warnings({"RHOB": found, "NPHI": missing}, layout, shares)
    assert len(warnings) == 1 and warnings[0].startswith("NPHI (dotted)")
    # A curve the tracer found anyway (its class mislabelled but read as a lone curve's) is not warned about.
    assert style_warnings({"RHOB": found, "NPHI": found}, layout, shares) == []


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
    assert data["test_time_augmentation"] == "flip"
    assert data["input_scale"]["mode"] == "auto" and data["input_scale"]["used"] in (1, 2)
    assert data["input_scale"]["probe"]["tiles"] >= 1
    assert sorted(p.name for p in masks.iterdir()) == ["out.classes-view.png", "out.classes.png",
                                                        "out.confidence.png"]
    assert "wrote" in capsys.readouterr().err


def test_cli_digitize_prints_the_reports_warnings(sheet, tmp_path, fake_weights, capsys):
    image, _, layout, _ = sheet
    wide = layout.to_dict()
    wide["tracks"][-1]["x1"] += 5000  # the last track runs past the image edge: a warning, not an error
    layout_path = tmp_path / "wide.layout.json"
    layout_path.write_text(json.dumps(wide))
    code = main(["digitize", str(image), "--layout", str(layout_path), "-o", str(tmp_path / "out.las"),
                 "--device", "cpu"])
    assert code == 0
    assert "warning: track 1 runs past the image edge" in capsys.readouterr().err


def test_a_depth_step_far_finer_than_the_scan_is_warned_and_a_typo_sized_one_refused(sheet, tmp_path, fake_weights,
                                                                                    capsys):
    from veerdesk.pipeline.digitize import MAX_DEPTH_SAMPLES, check_layout_fits

    image, _, layout, _ = sheet
    for step in (0.5, 0.37, 0.01):
        data = layout.to_dict()
        data["depth"]["step"] = step
        assert Layout.from_dict(data).depth_sample_count() == Layout.from_dict(data).depth_grid().size
    rows = layout.depth.row_range()[1] - layout.depth.row_range()[0]
    fine = layout.to_dict()
    fine["depth"]["step"] = layout.depth.step / 10 * (layout.depth_sample_count() / rows)  # about 10 a row
    warnings = check_layout_fits(Layout.from_dict(fine), 10_000, 10_000)
    assert any("LAS samples per image row" in w for w in warnings)
    assert not any("per image row" in w for w in check_layout_fits(layout, 10_000, 10_000))
    typo = layout.to_dict()
    typo["depth"]["step"] = layout.depth.step * layout.depth_sample_count() / (2 * MAX_DEPTH_SAMPLES)
    path = tmp_path / "typo.layout.json"
    path.write_text(json.dumps(typo))
    # Refused before anything is segmented or written (a step of 0.0001 ft once wrote 1.7 GB of LAS).
    code = main(["digitize", str(image), "--layout", str(path), "-o", str(tmp_path / "out.las"), "--device", "cpu"])
    assert code == 4 and not (tmp_path / "out.las").exists()
    assert "depth samples, over 10,000,000; is the step a typo?" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["scan", "layout", "report"])
def test_digitize_refuses_to_write_over_its_own_inputs(sheet, tmp_path, fake_weights, capsys, target):
    # "-o sheet.tif" once replaced the scan with a LAS file (the write is atomic, so it won completely).
    image, layout_path, _, _ = sheet
    before = {image: image.read_bytes(), layout_path: layout_path.read_bytes()}
    args = ["digitize", str(image), "--layout", str(layout_path), "--device", "cpu"]
    if target == "report":
        args += ["-o", str(tmp_path / "out.las"), "--report", str(tmp_path / "out.las")]
    else:
        args += ["-o", str(image if target == "scan" else layout_path)]
    assert main(args) == 7  # the export error code
    err = capsys.readouterr().err
    assert {"scan": "is the scan itself", "layout": "is the layout itself",
            "report": "is the LAS output itself"}[target] in err
    assert all(path.read_bytes() == data for path, data in before.items())
    assert not (tmp_path / "out.las").exists()


def test_demo_without_a_display_digitizes_the_sample_headless(tmp_path, fake_weights, monkeypatch):
    # What `bash scripts/run-app.sh` falls back to on a machine with no display.
    monkeypatch.setattr("veerdesk.app.has_display", lambda: False)
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    assert lasio.read(out / "sample-log.las").keys()[0] == "DEPT"
    assert json.loads((out / "report.json").read_text())["test_time_augmentation"] == "flip"


def test_demo_with_a_display_qt_cannot_use_digitizes_headless_and_says_why(tmp_path, fake_weights, monkeypatch,
                                                                           capsys):
    # An X display without the libxcb libraries Qt's xcb plugin loads: Qt would abort the process at start.
    monkeypatch.setattr("veerdesk.app.has_display", lambda: True)
    monkeypatch.setattr("veerdesk.ui.window_check.window_problem", lambda: 'Could not load the Qt platform plugin "xcb"')
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    assert lasio.read(out / "sample-log.las").keys()[0] == "DEPT"
    err = capsys.readouterr().err
    assert 'Qt cannot open a window on it: Could not load the Qt platform plugin "xcb"' in err
    assert "No window: digitizing the bundled sample headless" in err


def test_cli_digitize_refuses_page_zero_rather_than_guess(sheet, tmp_path, fake_weights, capsys):
    image, layout_path, _, _ = sheet
    code = main(["digitize", str(image), "--layout", str(layout_path), "-o", str(tmp_path / "out.las"),
                 "--device", "cpu", "--page", "0"])
    assert code != 0 and not (tmp_path / "out.las").exists()
    assert "--page counts from 1" in capsys.readouterr().err


def test_cli_digitize_single_pass_when_asked(sheet, tmp_path, fake_weights):
    image, layout_path, _, truth = sheet
    out, report = tmp_path / "out.las", tmp_path / "out.json"
    assert main(["digitize", str(image), "--layout", str(layout_path), "-o", str(out), "--device", "cpu",
                 "--report", str(report), "--tta", "none", "--scale", "1"]) == 0
    data = json.loads(report.read_text())
    assert data["test_time_augmentation"] == "none"
    assert data["input_scale"] == {"mode": "1", "used": 1, "probe": None, "second_look": None,
                                  "half_look": None}
    assert r_squared(truth["GR"], lasio.read(out)["GR"]) > 0.999


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


# --------------------------------------------------------------------------- cancelling at any point
# Every progress event of a run on the test sheet before "done" (tile 128 → 3 × 3 tiles, then the look at
# half scale: one event per tile of each track's strip). After "done" only the result follows: a cancel then
# is too late and the run's result stands.
STAGES = ["load", "model"] + ["segment"] * 9 + ["trace"] + ["half-scale look"] * 12
SMALL_TILES = {"tile": 128, "margin": 16}


def test_the_stages_a_run_reports(sheet, fake_weights):
    image, _, layout, _ = sheet
    events = list(digitize(image, layout, device="cpu", **SMALL_TILES))
    assert [e.stage for e in events[:-1]] == STAGES + ["done"] and isinstance(events[-1], DigitizeResult)


@pytest.mark.parametrize("k", range(1, len(STAGES) + 1))
def test_cancel_after_any_progress_event_stops_before_the_next(sheet, fake_weights, k):
    image, _, layout, _ = sheet
    seen = []
    with pytest.raises(CancelledError):
        for event in digitize(image, layout, device="cpu", cancel=lambda: len(seen) >= k, **SMALL_TILES):
            seen.append(event)
    assert [e.stage for e in seen] == STAGES[:k]  # nothing reported, and no result, after the cancel


def output_files(folder) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def digitize_cli(image, layout_path, tmp_path) -> int:
    return main(["digitize", str(image), "--layout", str(layout_path), "-o", str(tmp_path / "out.las"),
                 "--device", "cpu", "--masks", str(tmp_path / "masks"), "--report", str(tmp_path / "out.json")])


@pytest.fixture
def small_tiles(monkeypatch):
    # The CLI uses the default tile size; smaller tiles give it more points to be interrupted at.
    monkeypatch.setattr("veerdesk.inference.segment.DEFAULT_TILE", SMALL_TILES["tile"])
    monkeypatch.setattr("veerdesk.inference.segment.DEFAULT_MARGIN", SMALL_TILES["margin"])


@pytest.mark.parametrize("k", range(1, len(STAGES) + 1))  # the CLI loads the model first: no "model" event
def test_ctrl_c_at_any_progress_event_of_the_cli_writes_nothing(sheet, tmp_path, fake_weights, small_tiles,
                                                                monkeypatch, capsys, k):
    image, layout_path, _, _ = sheet

    class InterruptAt:
        calls = 0

        def __init__(self, *args, **kwargs) -> None:
            pass

        def __call__(self, event) -> None:
            InterruptAt.calls += 1
            if InterruptAt.calls == k:
                raise KeyboardInterrupt  # what Ctrl-C raises at that point

    monkeypatch.setattr("veerdesk.pipeline.cli_entry.StderrProgress", InterruptAt)
    before = output_files(tmp_path)
    assert digitize_cli(image, layout_path, tmp_path) == 130
    assert "interrupted; nothing was written" in capsys.readouterr().err
    assert output_files(tmp_path) == before  # no LAS, masks or report, and no temp file


@pytest.mark.parametrize("nth_file", range(1, 6))  # LAS, three masks, report
@pytest.mark.parametrize("failure", ["ctrl-c", "disk full"])
def test_a_failure_while_writing_any_output_leaves_none(sheet, tmp_path, fake_weights, monkeypatch, capsys,
                                                        failure, nth_file):
    """The outputs belong together: a failure on any of them leaves none, and the previous LAS intact."""
    image, layout_path, _, _ = sheet
    (tmp_path / "out.las").write_text("previous")
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd) -> None:
        calls.append(fd)
        if len(calls) == nth_file:
            raise KeyboardInterrupt if failure == "ctrl-c" else OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    before = output_files(tmp_path)
    code = digitize_cli(image, layout_path, tmp_path)
    err = capsys.readouterr().err
    assert code == (130 if failure == "ctrl-c" else 7), err
    assert output_files(tmp_path) == before and (tmp_path / "out.las").read_text() == "previous"
