"""The review queue panel: low-confidence stretches, worst first; next/previous jump the view there.

A thin view of :class:`veerdesk.core.review.ReviewQueue`; accepting emits a request that the main window
turns into an ``AcceptReview`` command (so accepting is undoable and saved with the project).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from veerdesk.core.document import Document
from veerdesk.core.review import DEFAULT_THRESHOLD, ReviewItem, ReviewQueue


class ReviewPanel(QWidget):
    jump_requested = Signal(object)  # ReviewItem
    accept_requested = Signal(object)  # ReviewItem

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = ReviewQueue(DEFAULT_THRESHOLD)
        self._doc: Document | None = None
        self._filling = False

        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(2)
        self.threshold.setValue(DEFAULT_THRESHOLD)
        self.threshold.setToolTip("stretches whose confidence is below this are listed")
        top = QHBoxLayout()
        top.addWidget(QLabel("Confidence below"))
        top.addWidget(self.threshold)
        top.addStretch(1)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["curve", "depth", "conf.", "status"])
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for column, mode in enumerate((QHeaderView.ResizeToContents, QHeaderView.Stretch,
                                       QHeaderView.ResizeToContents, QHeaderView.ResizeToContents)):
            header.setSectionResizeMode(column, mode)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)

        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.accept_button = QPushButton("Accept ✓")
        self.accept_button.setToolTip("mark this stretch reviewed and go to the next unreviewed one (A)")
        buttons = QHBoxLayout()
        for b in (self.prev_button, self.next_button, self.accept_button):
            buttons.addWidget(b)

        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m reviewed")
        self.summary = QLabel()

        root = QVBoxLayout(self)
        root.addLayout(top)
        root.addWidget(self.table, 1)
        root.addLayout(buttons)
        root.addWidget(self.progress)
        root.addWidget(self.summary)

        self.threshold.valueChanged.connect(self._threshold_changed)
        self.prev_button.clicked.connect(self.go_previous)
        self.next_button.clicked.connect(self.go_next)
        self.accept_button.clicked.connect(self.accept_current)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self._update_buttons()

    # ----------------------------------------------------------------- model
    def set_document(self, doc: Document) -> None:
        self._doc = doc
        self.refresh()

    def refresh(self) -> None:
        if self._doc is None:
            return
        self.queue.refresh(self._doc)
        self._fill()

    def _threshold_changed(self, value: float) -> None:
        if self._doc is not None:
            self.queue.set_threshold(value, self._doc)
            self._fill()

    def _fill(self) -> None:
        self._filling = True
        try:
            items = self.queue.items
            self.table.setRowCount(len(items))
            for r, item in enumerate(items):
                cells = [item.mnemonic, f"{item.depth_top:g}–{item.depth_bottom:g}", f"{item.mean_confidence:.2f}",
                         "reviewed" if item.reviewed else "to review"]
                for c, text in enumerate(cells):
                    cell = QTableWidgetItem(text)
                    if item.reviewed:
                        cell.setForeground(QColor(120, 120, 120))
                    self.table.setItem(r, c, cell)
            if self.queue.position is not None:
                self.table.selectRow(self.queue.position)
            else:
                self.table.clearSelection()
            done, total = self.queue.progress
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)
            self.progress.setFormat(f"{done} / {total} reviewed")
            self.summary.setText("nothing below the threshold" if total == 0 else
                                 ("all stretches reviewed" if done == total else f"{total - done} left to review"))
        finally:
            self._filling = False
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = bool(self.queue.items)
        self.prev_button.setEnabled(has)
        self.next_button.setEnabled(has)
        self.accept_button.setEnabled(self.queue.current is not None)

    # ----------------------------------------------------------------- navigation
    def _go(self, item: ReviewItem | None) -> None:
        self._fill()
        if item is not None:
            self.jump_requested.emit(item)

    def go_next(self) -> None:
        self._go(self.queue.next())

    def go_previous(self) -> None:
        self._go(self.queue.previous())

    def go_next_unreviewed(self) -> None:
        self._go(self.queue.next_unreviewed())

    def accept_current(self) -> None:
        item = self.queue.current
        if item is not None:
            self.accept_requested.emit(item)

    def _selection_changed(self) -> None:
        if self._filling:
            return
        rows = self.table.selectionModel().selectedRows()
        item = self.queue.select(rows[0].row() if rows else None)
        self._update_buttons()
        if item is not None:
            self.jump_requested.emit(item)

    def current(self) -> ReviewItem | None:
        return self.queue.current

