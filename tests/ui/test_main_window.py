"""The whole flow through the real widgets: open, set up the layout, run, review, correct, undo, export, save, recover."""

from __future__ import annotations

import json
import os
from pathlib import Path

import lasio
import numpy as np
import pytest
from fake_jobs import WEAK_GR, BlockingJob, GatedJob, deterministic_job, failing_job
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from veerdesk.core import project as projects
from veerdesk.core.commands import EraseRange, SetTraces
from veerdesk.core.layout import load_layout
from veerdesk.ui.main_window import MainWindow
from veerdesk.ui.model_job import model_run


def vp(window: MainWindow, x: float, y: float) -> QPoint:
    """Viewport position of image point (x, y)."""
    return window.view.mapFromScene(QPointF(x, y))


def drag(qtbot, window, a: tuple[float, float], b: tuple[float, float], steps: int = 4) -> None:
    viewport = window.view.viewport()
    qtbot.mousePress(viewport, Qt.LeftButton, pos=vp(window, *a))
    for k in range(1, steps + 1):
        t = k / steps
        qtbot.mouseMove(viewport, vp(window, a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=vp(window, *b))


def open_with_layout(window, sheet) -> None:
    image, layout = sheet
    assert window.open_image(str(image))
    assert window.load_layout(str(layout))


def wait_for_run(qtbot, window, timeout: int = 10_000) -> None:
    # The job clears itself when its thread has ended (a fast job may finish before we could wait on a signal).
    qtbot.waitUntil(lambda: window.job is None, timeout=timeout)


def run_fake(qtbot, window, factory=deterministic_job) -> None:
    window.job_factory_override = factory
    assert window.run_model()
    wait_for_run(qtbot, window)


def test_open_builds_the_pyramid_and_fits_width(make_window, qtbot, sheet):
    window = make_window()
    assert window.open_image(str(sheet[0]))
    qtbot.waitUntil(lambda: window.pyramid.built_levels() == window.pyramid.levels, timeout=20000)
    assert window.page.pixels.shape == (1200, 440)
    visible = window.view.visible_scene_rect()
    assert visible.left() <= 1 and visible.right() >= 439  # the whole width is in view (to a pixel)
    window.view.zoom_100()
    assert window.view.scale_factor == pytest.approx(1.0)
    assert window.recent.load()[0].endswith("sheet.png")


def test_menu_open_decodes_in_the_background(make_window, qtbot, sheet, tmp_path):
    window = make_window()
    window.prompts.paths = [str(sheet[0])]
    window.ask_open_image()
    qtbot.waitUntil(lambda: window.loader is None and window.page is not None)
    assert window.page.pixels.shape == (1200, 440) and window.doc.image_path.endswith("sheet.png")
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    assert window.open_path(str(bad))  # started; the error arrives from the loader thread
    qtbot.waitUntil(lambda: window.loader is None)
    assert "broken.png" in window.prompts.errors[-1] and window.doc.image_path.endswith("sheet.png")


def test_bad_file_shows_an_error_and_keeps_the_app_running(make_window, tmp_path):
    window = make_window()
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"II*\x00garbage")
    assert not window.open_image(str(bad))
    assert window.prompts.errors and "broken.tif" in window.prompts.errors[0]
    assert window.page is None


def test_an_unexpected_failure_below_the_app_is_one_message_not_a_crash(make_window, sheet, monkeypatch, capsys):
    import veerdesk.ui.main_window as main_window

    def broken(path, *args, **kwargs):
        raise TypeError("Missing dimensions")

    window = make_window()
    monkeypatch.setattr(main_window, "load_page", broken)
    assert not window.open_image(str(sheet[0]))
    assert window.prompts.errors == ["cannot open sheet.png: unexpected TypeError (details were printed to the console)"]
    assert "Missing dimensions" in capsys.readouterr().err
    monkeypatch.undo()
    assert window.open_image(str(sheet[0]))  # still working


def test_wheel_zoom_keeps_the_point_under_the_cursor(make_window, sheet):
    window = make_window()
    window.open_image(str(sheet[0]))
    anchor = QPointF(window.view.viewport().width() * 0.3, window.view.viewport().height() * 0.6)
    before = window.view.mapToScene(anchor.toPoint())
    window.view.zoom_by(2.0, anchor)
    after = window.view.mapToScene(anchor.toPoint())
    assert abs(after.x() - before.x()) < 2 and abs(after.y() - before.y()) < 2


def test_keyboard_panning_moves_down_the_sheet(make_window, qtbot, sheet):
    window = make_window()
    window.open_image(str(sheet[0]))
    window.view.zoom_100()
    window.view.show_top()
    top = window.view.visible_scene_rect().top()
    qtbot.keyClick(window.view, Qt.Key_PageDown)
    assert window.view.visible_scene_rect().top() > top + 100


def test_layout_by_clicks_drags_and_table(make_window, qtbot, sheet):
    window = make_window(depths=[1000.0, 1100.0])
    window.open_image(str(sheet[0]))
    window.view.zoom_by(1.0)
    window.set_tool("tie")
    for y in (100, 1100):
        window.view.centerOn(200, y)
        pos = vp(window, 200, y)
        qtbot.mouseClick(window.view.viewport(), Qt.LeftButton, pos=pos)
        if y == 100:
            # One tie is not a depth axis yet: the panel says why, the document has no layout.
            assert "ties" in window.layout_panel.validation_message() and window.doc.layout is None
    assert window.layout_panel.ties.rowCount() == 2
    assert [d for _, d in window.doc.layout.depth.ties] == [1000.0, 1100.0]
    assert window.view.layout_for_ruler is window.doc.layout  # the depth ruler appears
    window.set_tool("track")
    window.view.centerOn(100, 300)
    drag(qtbot, window, (10, 300), (210, 310))
    assert window.doc.layout is not None and window.doc.layout.tracks[0].x0 == 10
    # Dragging from an existing edge moves just that edge.
    drag(qtbot, window, (210, 300), (190, 300))
    assert (window.doc.layout.tracks[0].x0, window.doc.layout.tracks[0].x1) == (10, 190)
    assert "valid" in window.layout_panel.validation_message()
    qtbot.mouseClick(window.layout_panel.add_curve, Qt.LeftButton)
    assert [c.mnemonic for _, _, c in window.doc.layout.curves()] == ["CURVE1"]
    # An invalid cell is reported live and leaves the document's layout alone.
    window.layout_panel.curves.item(0, 3).setText("abc")
    assert "left" in window.layout_panel.validation_message() and "number" in window.layout_panel.validation_message()
    assert window.doc.layout.curves()[0][2].left == 0
    labels = window.stack.labels()
    assert labels[0].startswith("Add depth tie 1100") and labels[1].startswith("Set track 1")
    assert labels[2].startswith("Set track 1")
    assert labels[-1] == "Add curve"
    window.stack_undo()
    assert window.doc.layout.curves() == []
    assert window.layout_panel.curves.rowCount() == 0


def test_run_applies_results_as_one_undoable_command(make_window, qtbot, sheet):
    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window)
    assert set(window.doc.traces) == {"GR", "CALI", "ILD"}
    assert window.doc.masks is not None and window.view.mask_item is not None
    assert window.device_label.text().startswith("model on fake cpu")
    assert window.stack.labels()[-1] == "Run model" and window.doc.dirty
    assert window.view.curves.paths and window.view.curves.bands
    # The overlay shows the document's masks, reduced with max so thin lines survive zooming out.
    pyramid = window.view.mask_item.pyramid
    assert pyramid.base is window.doc.masks.class_map
    class_map = window.doc.masks.class_map
    expected = class_map[:1024, :440].reshape(512, 2, 220, 2).max(axis=(1, 3))
    assert np.array_equal(pyramid.tile(1, 0, 0), expected) and expected.any()
    window.stack_undo()
    assert window.doc.traces == {} and window.doc.masks is None and window.view.mask_item is None


def test_a_runs_warnings_show_on_the_device_label(make_window, qtbot, sheet):
    import dataclasses

    from veerdesk.ui.model_job import JobResult

    def warned_job(window, rows):
        inner = deterministic_job(window, rows)

        def job(cancel):
            for event in inner(cancel):
                yield dataclasses.replace(event, warnings=("CALI (dashed): the model may have labelled it as another "
                                                           "style",)) if isinstance(event, JobResult) else event
        return job

    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window, warned_job)
    assert window.device_label.text().endswith("· 1 warning")
    assert window.device_label.toolTip().startswith("CALI (dashed)")
    assert "CALI (dashed)" in window.statusBar().currentMessage()


def test_real_model_runs_in_the_worker(make_window, qtbot, sheet, tiny_weights):
    window = make_window()
    window.weights = tiny_weights
    open_with_layout(window, sheet)
    assert window.run_model()
    wait_for_run(qtbot, window, timeout=60_000)
    assert window.prompts.errors == []
    assert set(window.doc.traces) == {"GR", "CALI", "ILD"}
    assert window.doc.masks.class_map.shape == (1200, 440)
    assert "cpu" in window.device_label.text()
    # Re-running a region goes through the same pipeline on a crop, and touches only that depth range.
    before = {k: t.value.copy() for k, t in window.doc.traces.items()}
    assert window.rerun_region(400.0, 600.0)
    wait_for_run(qtbot, window, timeout=60_000)
    assert window.prompts.errors == [] and window.stack.labels()[-1].startswith("Re-run model")
    d0, d1 = window.doc.layout.depth.depth_at_row(np.array([400.0, 600.0]))
    for name, old in before.items():
        depth = window.doc.trace(name).depth
        outside = (depth < d0 - 1e-6) | (depth > d1 + 1e-6)
        assert np.array_equal(window.doc.trace(name).value[outside], old[outside], equal_nan=True)


def test_the_input_scale_chosen_in_the_model_menu_reaches_the_run(make_window, qtbot, sheet, tiny_weights):
    window = make_window()
    window.weights = tiny_weights
    open_with_layout(window, sheet)
    half = next(a for a in window.scale_group.actions() if a.data() == "0.5")
    assert window.input_scale == "auto" and not half.isChecked()
    half.trigger()
    assert window.input_scale == "0.5" and half.isChecked()
    assert window.run_model()
    wait_for_run(qtbot, window, timeout=60_000)
    assert window.prompts.errors == [] and window.doc.masks.class_map.shape == (1200, 440)
    assert "scale 0.5x" in window.device_label.text()


def test_cancel_leaves_the_document_unchanged(make_window, qtbot, sheet):
    window = make_window()
    open_with_layout(window, sheet)
    before = window.doc.copy()
    blocking = BlockingJob()
    window.job_factory_override = blocking
    assert window.run_model()
    qtbot.waitUntil(blocking.started.is_set)
    assert window.cancel_button.isVisible()
    # The finished tile is painted while the run goes on (preview, not the document).
    qtbot.waitUntil(lambda: window.view.mask_item.pyramid.base[:100].all())
    assert window.view.mask_item.pyramid.tile(2, 0, 0)[:25].all()
    with qtbot.waitSignal(window.job.cancelled, timeout=10_000):
        qtbot.mouseClick(window.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.job is None)
    assert window.doc.same_content(before) and window.doc.masks is None
    assert window.view.mask_item is None and window.prompts.errors == []
    assert window.stack.labels() == ["Load layout sheet.layout.json"]


def real_run(window, rows):
    """The app's own model job (the digitize pipeline with the tiny weights), as the window builds it."""
    return model_run(window.page.pixels, window.doc.layout, weights=window.weights, device="cpu", rows=rows)


def app_state(window) -> tuple:
    """Everything a cancelled run must leave alone, besides the document's content."""
    return window.doc.masks, window.stack.labels(), window.stack.index, window.doc.dirty


@pytest.mark.parametrize("kind", ["run", "rerun"])
def test_cancel_at_every_point_of_a_real_run_leaves_everything_as_it_was(make_window, qtbot, sheet, tiny_weights,
                                                                           kind):
    window = make_window()
    window.weights = tiny_weights
    open_with_layout(window, sheet)
    run_fake(qtbot, window)  # traces, masks and an edit that a run could clobber
    window.push(EraseRange("GR", 1040.0, 1045.0))
    rows = (400, 600) if kind == "rerun" else None
    start = window.run_model if kind == "run" else lambda: window.rerun_region(400.0, 600.0)
    before, state = window.doc.copy(), app_state(window)
    # Every event the job passes is a point to cancel at: before the first, ..., after the result.
    events = len(list(real_run(window, rows)(lambda: False)))
    cancelled = []
    for k in range(events + 1):
        gate = GatedJob(real_run, k)
        window.job_factory_override = gate
        assert start()
        qtbot.waitUntil(gate.holding.is_set, timeout=30_000)
        window.job.cancelled.connect(lambda k=k: cancelled.append(k))
        window.cancel_run()
        qtbot.waitUntil(lambda: window.job is None, timeout=30_000)
        assert cancelled[-1:] == [k], f"the run cancelled after event {k} of {events} was not reported as cancelled"
        assert window.doc.same_content(before), f"cancelled after event {k} of {events}"
        assert app_state(window) == state, f"cancelled after event {k} of {events}"
        assert window.view.mask_item.pyramid.base is window.doc.masks.class_map  # the preview is gone
        assert window.prompts.errors == [] and window.run_action.isEnabled()
    window.job_factory_override = None  # and the app runs again
    assert start()
    wait_for_run(qtbot, window, timeout=60_000)
    assert window.prompts.errors == [] and window.stack.index == state[2] + 1
    assert not window.doc.same_content(before)


def test_a_failed_export_keeps_the_previous_las_and_the_document(make_window, qtbot, sheet, tmp_path, monkeypatch):
    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window)
    target = tmp_path / "out" / "well.las"
    target.parent.mkdir()
    target.write_text("previous export")
    before = window.doc.copy()
    real_replace = os.replace

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)  # the whole new file is written, then it cannot be moved in
    assert not window.export_las(str(target))
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(window.prompts.errors) == 1 and "No space left" in window.prompts.errors[0]
    assert target.read_text() == "previous export" and os.listdir(target.parent) == ["well.las"]
    assert window.doc.same_content(before)
    assert window.export_las(str(target)) and target.read_text().startswith("~Version")


def test_exporting_over_the_open_scan_is_refused_and_the_scan_survives(make_window, qtbot, sheet):
    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window)
    scan = sheet[0].read_bytes()
    assert not window.export_las(str(sheet[0]))
    assert len(window.prompts.errors) == 1 and "is the scan itself" in window.prompts.errors[0]
    assert sheet[0].read_bytes() == scan


def test_a_failed_run_shows_the_error_and_changes_nothing(make_window, qtbot, sheet):
    window = make_window()
    open_with_layout(window, sheet)
    before = window.doc.copy()
    window.job_factory_override = failing_job
    window.run_model()
    wait_for_run(qtbot, window)
    assert window.prompts.errors == ["model weights /nowhere.safetensors not found"]
    assert window.doc.same_content(before)


def test_review_queue_walk_accept_and_undo(make_window, qtbot, sheet):
    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window)
    panel = window.review_panel
    assert panel.queue.progress == (0, 2)
    qtbot.mouseClick(panel.next_button, Qt.LeftButton)
    item = panel.current()
    assert item.mnemonic == "GR" and (item.depth_top, item.depth_bottom) == WEAK_GR
    # The view jumped there: the stretch's rows are on screen and highlighted.
    rows = window.doc.layout.depth.row_at_depth(np.array(WEAK_GR))
    visible = window.view.visible_scene_rect()
    assert visible.top() <= rows.min() and visible.bottom() >= rows.max()
    assert window.view.highlight.isVisible()
    qtbot.mouseClick(panel.accept_button, Qt.LeftButton)
    assert panel.queue.progress == (1, 2)
    assert panel.current().mnemonic == "ILD"  # moved on to the next unreviewed stretch
    assert "1 / 2" in panel.progress.format()
    panel.threshold.setValue(0.2)
    assert panel.queue.progress == (1, 1)
    panel.threshold.setValue(0.5)
    window.stack_undo()
    assert panel.queue.progress == (0, 2)


def test_corrections_by_gesture_with_undo_redo_shortcuts(make_window, qtbot, sheet):
    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window)
    layout = window.doc.layout
    row = lambda d: float(layout.depth.row_at_depth(d))  # noqa: E731
    window.view.set_scale(0.6, QPointF(200, 500))
    window.curve_combo.setCurrentText("GR")
    original = window.doc.trace("GR").value.copy()

    window.set_tool("erase")
    drag(qtbot, window, (100, row(1040)), (100, row(1045)))
    assert window.stack.labels()[-1].startswith("Erase GR")
    i0, i1 = window.doc.index_range("GR", 1041, 1044)
    assert np.isnan(window.doc.trace("GR").value[i0:i1]).all()

    window.set_tool("redraw")
    drag(qtbot, window, (50, row(1020)), (150, row(1030)), steps=8)
    assert window.stack.labels()[-1].startswith("Redraw GR")
    j0, j1 = window.doc.index_range("GR", 1021, 1029)
    assert np.all(np.diff(window.doc.trace("GR").value[j0:j1]) > 0)  # follows the stroke to the right

    window.other_combo.setCurrentText("CALI")
    window.set_tool("swap")
    cali = window.doc.trace("CALI").value.copy()
    drag(qtbot, window, (100, row(1070)), (100, row(1075)))
    k0, k1 = window.doc.index_range("GR", 1070.5, 1074.5)
    assert np.array_equal(window.doc.trace("GR").value[k0:k1], cali[k0:k1])

    window.set_tool("move")
    gr = window.doc.trace("GR")
    idx = int(np.searchsorted(gr.depth, 1090.0))
    _, track, curve = layout.curve("GR")
    x = float(track.column_at_value(gr.value[idx], curve.scale))
    count = len(window.stack)
    drag(qtbot, window, (x, row(1090.0)), (x + 30, row(1090.0)), steps=5)
    assert len(window.stack) == count + 1  # the whole drag is one entry
    assert window.doc.trace("GR").value[idx] == pytest.approx(gr.value[idx] + 30 * 150 / 200, abs=1.5)

    for _ in range(4):
        qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
    assert np.array_equal(window.doc.trace("GR").value, original, equal_nan=True)
    qtbot.keyClick(window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert window.stack.labels()[window.stack.index - 1].startswith("Erase GR")
    # The history view follows and is clickable.
    assert window.history.count() == len(window.stack) + 1
    window.history.setCurrentRow(window.history.count() - 1)
    assert window.stack.index == len(window.stack)


def test_rerun_region_replaces_only_that_range(make_window, qtbot, sheet):
    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window)
    window.doc.traces["GR"].value[:] += 0  # untouched arrays
    before = window.doc.trace("GR").value.copy()

    def shifted(win, rows):
        base = deterministic_job(win, rows)

        def job(cancel):
            for event in base(cancel):
                if hasattr(event, "traces"):
                    for t in event.traces.values():
                        t.value[:] = t.value + 1
                yield event

        return job

    window.job_factory_override = shifted
    layout = window.doc.layout
    window.set_tool("rerun")
    drag(qtbot, window, (100, float(layout.depth.row_at_depth(1030))), (100, float(layout.depth.row_at_depth(1040))))
    assert window.job is not None
    wait_for_run(qtbot, window)
    assert window.stack.labels()[-1].startswith("Re-run model")
    i0, i1 = window.doc.index_range("GR", 1030.5, 1039.5)
    after = window.doc.trace("GR").value
    assert np.allclose(after[i0:i1], before[i0:i1] + 1)
    assert np.array_equal(after[:i0 - 2], before[:i0 - 2]) and np.array_equal(after[i1 + 2:], before[i1 + 2:])


def test_export_save_reopen_and_close_prompt(make_window, qtbot, sheet, tmp_path):
    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window)
    first = window.review_panel.queue.next()
    window.accept_review_item(first)
    las_path = tmp_path / "out.las"
    assert window.export_las(str(las_path))
    las = lasio.read(str(las_path))
    assert [c.mnemonic for c in las.curves] == ["DEPT", "GR", "CALI", "ILD"]
    assert np.allclose(las["GR"], window.doc.trace("GR").value, equal_nan=True)

    window.prompts.paths = [str(tmp_path / "well")]
    assert window.save_as()
    assert window.project_path.endswith("well.vdproj") and not window.doc.dirty
    saved = window.doc.copy()

    other = make_window()
    assert other.open_project(window.project_path)
    assert other.doc.same_content(saved)
    assert other.review_panel.queue.progress == (1, 2)
    assert other.page is not None and other.doc.masks is not None

    # Closing with unsaved changes asks; "cancel" keeps the window open.
    window.stack_undo()
    assert window.doc.dirty
    window.prompts.save_changes_answer = "cancel"
    assert not window.close()
    assert window.prompts.asked[-1] == "save_changes" and window.isVisible()
    window.prompts.save_changes_answer = "discard"
    assert window.close()


def test_autosave_and_recovery_after_a_crash(make_window, qtbot, sheet, tmp_path):
    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window)
    assert window.autosave()
    assert not window.autosave()  # nothing changed since
    recovery = projects.recovery_path()
    assert recovery.exists()
    # Pretend that session crashed: its file now belongs to a process that is gone.
    crashed = projects.recovery_path(pid=2**22 + 4242)
    recovery.rename(crashed)
    work = window.doc.copy()

    fresh = make_window(recover=True)
    assert fresh.offer_recovery()
    assert fresh.doc.same_content(work) and fresh.doc.dirty
    assert fresh.page is not None and fresh.review_panel.queue.progress == (0, 2)
    assert not crashed.exists() and projects.recovery_path().exists()

    declined = make_window(recover=False)
    assert not declined.offer_recovery()  # nothing left to offer: the file was adopted


def test_the_autosave_timer_writes_the_recovery_file_only_when_dirty(make_window, qtbot, sheet):
    window = make_window(autosave_ms=20)
    window.open_image(str(sheet[0]))
    assert not projects.recovery_path().exists()  # nothing to lose yet
    window.load_layout(str(sheet[1]))
    qtbot.waitUntil(projects.recovery_path().exists, timeout=5_000)
    assert projects.load_project(projects.recovery_path()).document.layout == window.doc.layout
    window.prompts.paths = [str(sheet[0].with_name("w.vdproj"))]
    assert window.save_as()
    assert not projects.recovery_path().exists()  # saved: the recovery file is gone


def test_drop_a_file_opens_it(make_window, qtbot, sheet):
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sheet[0]))])
    event = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.loader is None and window.page is not None)
    assert window.page is not None and window.doc.image_path.endswith("sheet.png")


def test_layout_is_kept_for_the_next_sheet(make_window, sheet):
    window = make_window()
    open_with_layout(window, sheet)
    window.stack.set_clean()
    assert window.open_image(str(sheet[0]))
    assert window.doc.layout == load_layout(sheet[1]) and window.doc.traces == {}
    window.layout_panel.keep_for_next.setChecked(False)
    assert window.open_image(str(sheet[0]))
    assert window.doc.layout is None


def test_overlay_controls_restyle_without_touching_the_document(make_window, qtbot, sheet):
    window = make_window()
    open_with_layout(window, sheet)
    run_fake(qtbot, window)
    before = window.doc.copy()
    item = window.view.mask_item
    window.overlay_panel.show_solid.setChecked(False)
    assert item._color_table[1] >> 24 == 0  # class 1 fully transparent
    window.overlay_panel.opacity.setValue(100)
    assert item._color_table[2] >> 24 == 255
    window.overlay_panel.show_curves.setChecked(False)
    assert not any(p.isVisible() for items in window.view.curves.paths.values() for p in items)
    assert window.doc.same_content(before) and isinstance(window.stack.done_commands()[-1], SetTraces)


def test_menu_paths_save_layout_export_and_open_recent(make_window, qtbot, sheet, tmp_path):
    window = make_window()
    open_with_layout(window, sheet)
    window.prompts.paths = [str(tmp_path / "saved.layout.json")]
    window.ask_save_layout()
    assert load_layout(tmp_path / "saved.layout.json") == window.doc.layout
    window.ask_export_las()  # nothing traced yet: explained, nothing written
    assert "nothing to export" in window.prompts.errors[-1]
    run_fake(qtbot, window)
    window.prompts.paths = [str(tmp_path / "menu.las")]
    window.ask_export_las()
    assert (tmp_path / "menu.las").exists()
    recent = [a.text() for a in window.recent_menu.actions()]
    assert recent and recent[0].endswith("sheet.png")
    window.stack.set_clean()
    window.recent_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: window.loader is None)
    assert window.doc.traces == {} and window.page is not None


SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "sample-log.tif"


@pytest.mark.skipif(not SAMPLE.exists(), reason="bundled sample not present")
def test_bundled_sample_open_run_review_edit_export_reopen(make_window, qtbot, tmp_path):
    window = make_window()
    assert window.open_image(str(SAMPLE))
    assert window.load_layout(str(SAMPLE.with_name("sample-log.layout.json")))
    qtbot.waitUntil(lambda: window.pyramid.built_levels() == window.pyramid.levels)
    run_fake(qtbot, window)
    names = [c.mnemonic for _, _, c in window.doc.layout.curves()]
    assert list(window.doc.traces) == names
    window.review_panel.go_next()
    item = window.review_panel.current()
    assert item is not None and item.mnemonic in names
    window.review_panel.accept_current()
    window.curve_combo.setCurrentText(names[0])
    window.set_tool("erase")
    lo, hi = window.doc.layout.depth.row_range()
    window.view.center_on_rect(QRectF(0, lo + 100, 100, 200))
    drag(qtbot, window, (500, lo + 150), (500, lo + 250))
    assert window.stack.labels()[-1].startswith(f"Erase {names[0]}")
    assert window.export_las(str(tmp_path / "sample.las"))
    assert lasio.read(str(tmp_path / "sample.las")).curves[1].mnemonic == names[0]
    assert window.save_project(str(tmp_path / "sample.vdproj"))
    reopened = make_window()
    assert reopened.open_project(str(tmp_path / "sample.vdproj"))
    assert reopened.doc.same_content(window.doc)


def test_minimap_click_moves_the_view_and_shows_where_it_is(make_window, qtbot, sheet):
    window = make_window()
    window.open_image(str(sheet[0]))
    window.view.zoom_100()
    window.view.show_top()
    qtbot.waitUntil(lambda: window.pyramid.built_levels() == window.pyramid.levels)
    minimap = window.minimap
    target = minimap._target()
    assert not target.isEmpty() and minimap._visible.top() < 100
    qtbot.mouseClick(minimap, Qt.LeftButton, pos=QPoint(int(target.center().x()), int(target.bottom()) - 2))
    visible = window.view.visible_scene_rect()
    assert visible.bottom() >= 1150 and minimap._visible.bottom() >= 1150


def test_the_status_line_says_which_scale_a_run_read_the_sheet_at():
    from veerdesk.ui.model_job import describe_scale

    assert describe_scale({"mode": "auto", "used": 1, "second_look": None}) == "1x"
    assert describe_scale({"used": 0.5}) == "0.5x"
    look = {"scale": 2, "adopted": [0, 2], "tracks": []}
    assert describe_scale({"used": 1, "second_look": look}) == "1x, 2 tracks read at 2x"
    assert describe_scale({"used": 2, "second_look": {"scale": 1, "adopted": [], "tracks": []}}) == "2x"
    half = {"scale": 0.5, "adopted": [1], "tracks": []}
    assert describe_scale({"used": 1, "second_look": look, "half_look": half}) == \
        "1x, 2 tracks read at 2x, 1 track read at 0.5x"
    assert describe_scale({}) == ""


@pytest.mark.skipif(not SAMPLE.exists(), reason="bundled sample not present")
def test_a_sheet_whose_depth_decreases_down_the_page_runs_reviews_edits_and_exports(make_window, qtbot, tmp_path):
    # The layout schema allows ties whose depth falls as the rows rise (a log printed bottom up).
    data = json.loads(SAMPLE.with_name("sample-log.layout.json").read_text())
    data["depth"]["ties"] = [[y, 5000.0 - d] for y, d in data["depth"]["ties"]]
    layout_path = tmp_path / "bottom-up.layout.json"
    layout_path.write_text(json.dumps(data))
    window = make_window()
    assert window.open_image(str(SAMPLE)) and window.load_layout(str(layout_path))
    qtbot.waitUntil(lambda: window.pyramid.built_levels() == window.pyramid.levels)
    run_fake(qtbot, window)
    window.review_panel.go_next()
    assert window.review_panel.current() is not None
    name = next(iter(window.doc.traces))
    window.curve_combo.setCurrentText(name)
    window.set_tool("erase")
    lo, _ = window.doc.layout.depth.row_range()
    window.view.center_on_rect(QRectF(0, lo + 100, 100, 200))
    drag(qtbot, window, (500, lo + 150), (500, lo + 250))
    assert window.stack.labels()[-1].startswith(f"Erase {name}")
    erased = ~window.doc.traces[name].present
    assert erased.any()
    assert window.export_las(str(tmp_path / "bottom-up.las"))
    las = lasio.read(str(tmp_path / "bottom-up.las"))
    assert np.all(np.diff(las.index) > 0)  # LAS depth ascends whatever way the sheet runs
    # The erased stretch is the depths of the rows dragged over (deeper at the top of a bottom-up log).
    dragged = window.doc.layout.depth.depth_at_row(np.array([lo + 150, lo + 250]))
    assert dragged[0] > dragged[1]
    depths = window.doc.traces[name].depth[erased]
    assert dragged[1] - 1 <= depths.min() and depths.max() <= dragged[0] + 1
