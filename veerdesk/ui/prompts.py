"""Every question the app asks the user, in one replaceable object.

The window calls ``self.prompts.<question>(...)``; tests and the headless screenshot mode swap in an
object with the same methods that answers from a script, so no test ever blocks on a modal dialog.
"""

from __future__ import annotations

import sys
import traceback

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

IMAGE_FILTER = "Scans (*.tif *.tiff *.png *.jpg *.jpeg *.bmp *.pdf);;All files (*)"
PROJECT_FILTER = "VeerDesk projects (*.vdproj)"
LAYOUT_FILTER = "Layouts (*.json)"
LAS_FILTER = "LAS files (*.las)"


def describe_failure(exc: BaseException, doing: str) -> str:
    """One line for the user about a failure while ``doing`` something (e.g. "open scan.tif").

    VeerDesk's own errors are already written for the user; anything else is a bug somewhere below the
    app: say so briefly, print the details to the console, and let the app keep running.
    """
    from veerdesk.core.errors import VeerDeskError

    if isinstance(exc, VeerDeskError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return f"not enough memory to {doing}"
    traceback.print_exception(type(exc), exc, exc.__traceback__)
    return f"cannot {doing}: unexpected {type(exc).__name__} (details were printed to the console)"


class Prompts:
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def error(self, message: str) -> None:
        QMessageBox.critical(self.parent, "VeerDesk", message)

    def open_path(self, title: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, "", file_filter)
        return path or None

    def save_path(self, title: str, file_filter: str, suggestion: str = "") -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggestion, file_filter)
        return path or None

    def depth(self, row: float, suggestion: float) -> float | None:
        value, ok = QInputDialog.getDouble(self.parent, "Depth tie", f"Depth at row {row:.0f}:", suggestion,
                                           -1e9, 1e9, 3)
        return value if ok else None

    def save_changes(self) -> str:
        """'save', 'discard' or 'cancel'."""
        answer = QMessageBox.question(
            self.parent, "Unsaved changes", "This sheet has unsaved changes. Save them first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def recover(self, description: str) -> bool:
        answer = QMessageBox.question(
            self.parent, "Recover unsaved work",
            f"VeerDesk did not close properly last time. Recover the unsaved work?\n\n{description}",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes


class ScriptedPrompts:
    """Answers without dialogs: errors are collected (and printed), questions get fixed answers."""

    def __init__(self, *, depths: list[float] | None = None, save_changes: str = "discard", recover: bool = False,
                 paths: list[str] | None = None, echo: bool = True) -> None:
        self.errors: list[str] = []
        self.depths = list(depths or [])
        self.paths = list(paths or [])
        self.save_changes_answer = save_changes
        self.recover_answer = recover
        self.echo = echo
        self.asked: list[str] = []

    def error(self, message: str) -> None:
        self.errors.append(message)
        if self.echo:
            print(f"error: {message}", file=sys.stderr)

    def open_path(self, title: str, file_filter: str) -> str | None:
        self.asked.append(title)
        return self.paths.pop(0) if self.paths else None

    def save_path(self, title: str, file_filter: str, suggestion: str = "") -> str | None:
        self.asked.append(title)
        return self.paths.pop(0) if self.paths else None

    def depth(self, row: float, suggestion: float) -> float | None:
        self.asked.append("depth")
        return self.depths.pop(0) if self.depths else None

    def save_changes(self) -> str:
        self.asked.append("save_changes")
        return self.save_changes_answer

    def recover(self, description: str) -> bool:
        self.asked.append("recover")
        return self.recover_answer
