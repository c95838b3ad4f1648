"""Fixtures for the app tests: a small drawn sheet, its layout, tiny weights and a window with scripted prompts."""

from __future__ import annotations

import json
import os

import cv2
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ui_samples import SHEET_LAYOUT, draw_sheet  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path, monkeypatch):
    # Recovery files and the recent-files list go to a per-test folder.
    monkeypatch.setenv("VEERDESK_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def sheet(tmp_path):
    path = tmp_path / "sheet.png"
    cv2.imwrite(str(path), draw_sheet())
    layout = tmp_path / "sheet.layout.json"
    layout.write_text(json.dumps(SHEET_LAYOUT))
    return path, layout


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """Untrained weights of a very small network: enough to drive the real inference path."""
    import torch

    torch.set_num_threads(1)
    from veerdesk.ml.model import ModelConfig, build_model
    from veerdesk.ml.weights import save_weights

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(build_model(ModelConfig(channels=(8, 8, 8, 8, 8), attention_layers=0)), path)
    return str(path)


@pytest.fixture
def make_window(qtbot):
    from PySide6.QtCore import QThread

    from veerdesk.ui.main_window import MainWindow
    from veerdesk.ui.prompts import ScriptedPrompts

    windows = []

    def make(autosave_ms: int = 3_600_000, **prompt_answers):
        window = MainWindow(autosave_ms=autosave_ms)
        window.prompts = ScriptedPrompts(echo=False, **prompt_answers)
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
        running = [t for t in window.findChildren(QThread) if t.isRunning()]
        assert running == [], "a background thread outlived its window"
