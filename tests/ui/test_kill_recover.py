"""Kill the app with SIGKILL in the middle of editing; the next start offers the work back.

A real app process (``kill_child.py``) edits a sheet through its undo stack while the autosave timer runs.
The test kills it without warning, starts a fresh window on the same state folder, answers "yes" to the
recovery question, and checks the recovered sheet: every edit up to the last completed autosave is
there, and only edits made after it (less than one autosave interval, at most a minute) can be missing.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from kill_child import edit_command, setup_commands

from veerdesk.core import project as projects
from veerdesk.core.commands import UndoStack
from veerdesk.core.document import Document
from veerdesk.core.layout import Layout
from veerdesk.ui.main_window import AUTOSAVE_MS

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

CHILD = Path(__file__).with_name("kill_child.py")
CHILD_AUTOSAVE_MS = 150
WAIT_S = 60.0  # generous: the machine may be busy; the test ends as soon as the child gets there


class ChildLines:
    """The child's stdout, line by line, read in a thread so waiting for a line can time out."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.put(line.strip())
        self.lines.put(None)  # end of output: the child is gone

    def next(self, deadline: float) -> str | None:
        try:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"the child stalled; its last lines: {self.seen[-5:]}") from None
        if line is not None:
            self.seen.append(line)
        return line

    def drain(self) -> None:
        """Read what the child wrote before it died."""
        self._thread.join(timeout=10)
        while not self.lines.empty():
            line = self.lines.get_nowait()
            if line is not None:
                self.seen.append(line)

    def last(self, word: str) -> int:
        counts = [int(line.split()[1]) for line in self.seen if line.startswith(word + " ")]
        return max(counts, default=0)


def start_child(sheet, tmp_path) -> subprocess.Popen:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1")
    assert env["VEERDESK_STATE_DIR"].startswith(str(tmp_path))  # set by conftest: never the user's folder
    # stderr to a file: a full pipe nobody reads would block the child.
    with open(tmp_path / "child.err", "w") as err:
        return subprocess.Popen(
            [sys.executable, str(CHILD), str(sheet[0].absolute()), str(sheet[1]), str(CHILD_AUTOSAVE_MS)],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=CHILD.parent,
        )


def child_errors(tmp_path) -> str:
    return (tmp_path / "child.err").read_text()[-2000:]


def kill_after_unsaved_edits(proc: subprocess.Popen, out: ChildLines, tmp_path) -> None:
    """SIGKILL once two autosaves happened and the child has edited on since the last one."""
    deadline = time.monotonic() + WAIT_S
    autosaves = 0
    while True:
        line = out.next(deadline)
        assert line is not None, f"the child ended early: {out.seen[-5:]} {child_errors(tmp_path)}"
        word, _, count = line.partition(" ")
        if word == "autosave":
            autosaves += 1
        elif word == "edit" and autosaves >= 2 and int(count) >= out.last("autosave") + 3:
            os.kill(proc.pid, signal.SIGKILL)
            return


def expected_document(sheet, edits: int) -> Document:
    """The sheet after the child's set-up and its first ``edits`` edits, built here from the same commands."""
    doc = Document(image_path=str(sheet[0].absolute()))
    stack = UndoStack(doc)
    for command in setup_commands(Layout.from_dict(json.loads(sheet[1].read_text()))):
        stack.push(command)
    for k in range(1, edits + 1):
        stack.push(edit_command(k, doc))
    return doc


def test_sigkill_mid_edit_then_restart_recovers_all_autosaved_edits(make_window, sheet, tmp_path):
    proc = start_child(sheet, tmp_path)
    try:
        out = ChildLines(proc)
        assert out.next(time.monotonic() + WAIT_S) == "ready", child_errors(tmp_path)
        kill_after_unsaved_edits(proc, out, tmp_path)
        assert proc.wait(timeout=30) == -signal.SIGKILL  # killed, not a clean exit
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out.drain()
    proc.stdout.close()
    autosaved, edited = out.last("autosave"), out.last("edit")

    # The crashed session left exactly one recovery file; its edit log says how many edits it holds.
    found = projects.find_recoveries()
    assert [r.pid for r in found] == [proc.pid]
    log = projects.load_project(found[0].path).edit_log
    kept = len(log) - 2
    start = expected_document(sheet, 0)
    assert [e["type"] for e in log[2:]] == [type(edit_command(k, start)).__name__ for k in range(1, kept + 1)]
    # Nothing autosaved is lost; only edits made after the last autosave (< one interval) may be.
    assert autosaved <= kept <= edited, (autosaved, kept, edited)
    assert CHILD_AUTOSAVE_MS <= AUTOSAVE_MS <= 60_000

    window = make_window(recover=True)
    assert window.offer_recovery()
    assert window.prompts.asked == ["recover"]
    assert window.doc.same_content(expected_document(sheet, kept))
    assert window.doc.dirty and window.page is not None  # unsaved work, on its scan
    # The crashed session's files are gone (a kill during an autosave leaves a temp file too);
    # the new session's own recovery file now carries the work.
    assert sorted(p.name for p in (Path(os.environ["VEERDESK_STATE_DIR"]) / "recovery").iterdir()) == [
        projects.recovery_path().name
    ]


def test_recovery_removes_half_written_files_of_a_killed_autosave(make_window, sheet):
    """A kill during an autosave leaves atomic_output's temp file; the next start deletes it."""
    window = make_window()
    window.open_image(str(sheet[0]))
    window.load_layout(str(sheet[1]))
    dead = 2**22 + 4243  # above any pid Linux hands out by default
    written = projects.write_recovery(window.doc, pid=dead)
    half = written.with_name(f".{written.name}.k3j9x.tmp")
    half.write_bytes(b"PK\x03\x04 half a zip")
    alone = written.with_name(f".{projects.recovery_path(dead + 1).name}.q8w2e.tmp")  # killed in its first autosave
    alone.write_bytes(b"PK")

    fresh = make_window(recover=True)
    assert fresh.offer_recovery()
    assert fresh.doc.same_content(window.doc)
    assert not half.exists() and not alone.exists() and not written.exists()
