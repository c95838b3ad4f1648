"""The undo history view: a list over the Qt-free UndoStack; clicking a row undoes/redoes to it."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from veerdesk.core.commands import UndoStack


class HistoryView(QListWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._stack: UndoStack | None = None
        self._filling = False
        self.currentRowChanged.connect(self._row_clicked)

    def set_stack(self, stack: UndoStack) -> None:
        self._stack = stack
        stack.subscribe(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        if self._stack is None:
            return
        self._filling = True
        try:
            self.clear()
            self.addItem(QListWidgetItem("<opened>"))
            for i, label in enumerate(self._stack.labels()):
                item = QListWidgetItem(label)
                if i >= self._stack.index:
                    item.setForeground(QColor(150, 150, 150))  # undone, can be redone
                self.addItem(item)
            self.setCurrentRow(self._stack.index)
        finally:
            self._filling = False

    def _row_clicked(self, row: int) -> None:
        if not self._filling and self._stack is not None and row >= 0:
            self._stack.set_index(row)
