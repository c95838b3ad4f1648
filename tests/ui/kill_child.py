"""The process that test_kill_recover.py kills: the real MainWindow, editing on a timer while it autosaves.

Run as ``python kill_child.py SHEET LAYOUT AUTOSAVE_MS`` with ``VEERDESK_STATE_DIR`` set. It opens the sheet,
loads the layout, applies a model result, then pushes one edit (:func:`edit_command`) every few
milliseconds through the window's undo stack, as the tools do. It prints one flushed line per event:
``ready``, ``edit N`` after the N-th edit, and ``autosave N`` after an autosave that holds edits 1..N.
The test builds the expected document from the same functions, so both sides agree on every edit.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from veerdesk.core.commands import Command, EraseRange, MovePoint, RedrawStretch, SetLayout, SetTraces, SetTrackBounds
from veerdesk.core.document import Document
from veerdesk.core.layout import Layout

EDIT_MS = 5
# Below the undo limit (500) minus the two set-up commands, so the recovery file's log keeps every edit.
MAX_EDITS = 450


def setup_commands(layout: Layout) -> list[Command]:
    """What the child does before editing: load the layout, apply a (deterministic) model result."""
    from fake_jobs import fake_traces

    return [SetLayout(layout, "Load layout"), SetTraces(fake_traces(layout, None), "Run model")]


def edit_command(k: int, doc: Document) -> Command:
    """The k-th edit (k ≥ 1): each kind of correction in turn, each one different from the last."""
    n = doc.trace("GR").depth.size
    depth = doc.trace("GR").depth
    d = float(depth[(k * 7) % (n - 4)])
    kind = k % 4
    if kind == 0:
        return MovePoint("GR", (k * 5) % n, float(k))
    if kind == 1:
        return EraseRange("CALI", d, d + 1.0)
    if kind == 2:
        return RedrawStretch("ILD", np.array([d, d + 1.5]), np.array([1.0 + k, 2.0 + k]))
    return SetTrackBounds(0, 10.0, 200.0 + k % 10)


def main(sheet: str, layout_path: str, autosave_ms: int) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from veerdesk.ui.main_window import MainWindow
    from veerdesk.ui.prompts import ScriptedPrompts

    class EditingWindow(MainWindow):
        edits = 0

        def autosave(self) -> bool:
            # The real autosave, then a line saying which edits the recovery file now holds.
            saved = super().autosave()
            if saved:
                print(f"autosave {self.edits}", flush=True)
            return saved

    app = QApplication(sys.argv[:1])
    window = EditingWindow(autosave_ms=autosave_ms)
    window.prompts = ScriptedPrompts(echo=True)
    if not (window.open_image(sheet) and window.load_layout(layout_path)):
        sys.exit(2)
    window.push(setup_commands(window.doc.layout)[1])

    def one_edit() -> None:
        if window.edits >= MAX_EDITS:
            timer.stop()
            return
        if not window.push(edit_command(window.edits + 1, window.doc)):
            sys.exit(3)
        window.edits += 1
        print(f"edit {window.edits}", flush=True)

    timer = QTimer()
    timer.setInterval(EDIT_MS)
    timer.timeout.connect(one_edit)
    timer.start()
    print("ready", flush=True)
    app.exec()


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
