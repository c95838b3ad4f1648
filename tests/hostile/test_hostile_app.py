"""In the app, a hostile file gives exactly one error message and the window keeps working."""

from __future__ import annotations

import json

import pytest
from hostile_corpus import good_layout, image_cases, layout_cases, message_problem

pytest.importorskip("pytestqt")
pytest.importorskip("veerdesk.ui.main_window")

IMAGES = [c for c in image_cases() if c.name in (
    "zero-byte", "truncated-png", "png-bomb-10-gigapixels", "pdf-truncated", "text-named-tif",
    "multipage-next-ifd-past-end")]
LAYOUTS = [c for c in layout_cases() if c.name in (
    "truncated", "nan-x0", "ties-unsorted", "zero-width-track", "duplicate-mnemonic", "400-digit-integer")]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, good_inputs):
    from PySide6.QtCore import QThread

    from veerdesk.ui.main_window import MainWindow
    from veerdesk.ui.prompts import ScriptedPrompts

    monkeypatch.setenv("VEERDESK_STATE_DIR", str(tmp_path / "state"))
    win = MainWindow(autosave_ms=3_600_000)
    win.prompts = ScriptedPrompts(echo=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()
    assert [t for t in win.findChildren(QThread) if t.isRunning()] == []


def _one_clear_error(win) -> None:
    errors = win.prompts.errors
    assert len(errors) == 1, errors
    assert message_problem(str(errors[0])) is None, errors


def _still_works(win, good_inputs) -> None:
    win.prompts.errors.clear()
    assert win.open_image(str(good_inputs["image"]))
    assert win.load_layout(str(good_inputs["layout"]))
    assert win.prompts.errors == []


# No xfail marks here: whatever a reader raises, the app must show one message and keep working.
@pytest.mark.parametrize("case", IMAGES, ids=lambda c: c.name)
def test_open_hostile_image(case, window, tmp_path, good_inputs):
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    assert window.open_image(str(path)) is False
    _one_clear_error(window)
    _still_works(window, good_inputs)


@pytest.mark.parametrize("case", LAYOUTS, ids=lambda c: c.name)
def test_load_hostile_layout(case, window, tmp_path, good_inputs):
    assert window.open_image(str(good_inputs["image"]))
    path = tmp_path / "bad.layout.json"
    path.write_text(case.text if isinstance(case.text, str) else case.text.decode("utf-8", "replace"))
    assert window.load_layout(str(path)) is False
    _one_clear_error(window)
    _still_works(window, good_inputs)


def test_open_hostile_projects(window, tmp_path, good_inputs):
    # A few damaged project files the reader handles today; the full project corpus is in test_hostile_projects.
    from veerdesk.core.document import Document
    from veerdesk.core.layout import Layout
    from veerdesk.core.project import save_project

    good = tmp_path / "good.vdproj"
    save_project(good, Document(image_path=str(good_inputs["image"]), layout=Layout.from_dict(good_layout())))
    data = good.read_bytes()
    damaged = {"truncated.vdproj": data[: len(data) // 2], "empty.vdproj": b"",
               "text.vdproj": json.dumps(good_layout()).encode()}
    for name, content in damaged.items():
        path = tmp_path / name
        path.write_bytes(content)
        window.prompts.errors.clear()
        assert window.open_project(str(path)) is False
        _one_clear_error(window)
    _still_works(window, good_inputs)


@pytest.mark.parametrize("content", [b"garbage", b"PK\x03\x04" + bytes(40)], ids=["text", "zip-header-only"])
def test_cli_open_hostile_project(content, tmp_path):
    """`veerdesk open --project BAD --screenshot` (the app's command line): non-zero exit, one error line."""
    import os
    import subprocess
    import sys

    project_file = tmp_path / "bad.vdproj"
    project_file.write_bytes(content)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", VEERDESK_STATE_DIR=str(tmp_path / "state"))
    proc = subprocess.run(
        [sys.executable, "-m", "veerdesk.cli", "open", "--project", str(project_file),
         "--screenshot", str(tmp_path / "shot.png"), "--offscreen"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "bad.vdproj" in errors[0], proc.stderr
    assert message_problem(errors[0][len("error: "):]) is None
    assert "Traceback" not in proc.stderr
