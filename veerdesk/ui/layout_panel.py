"""The layout panel: depth ties, tracks and curves as editable tables, validated live.

The tables are the draft. After every edit the draft is collected into a dict and passed through
``Layout.from_dict``; its error (one line, naming the key) is shown under the tables. A valid draft that
differs from the document's layout is emitted as ``layout_changed`` and becomes a SetLayout command, so
layout edits are undoable like any other.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from veerdesk.core.errors import LayoutError
from veerdesk.core.layout import Layout

CURVE_COLUMNS = ("track", "mnemonic", "unit", "left", "right", "style", "weight", "backup left", "backup right")


def _cell_value(text: str) -> Any:
    """A number when the cell holds one; otherwise the text, so validation can name the problem."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        # Short for the eye; the exact value stays in the cell's data (see LayoutPanel._cell).
        return str(int(value)) if value.is_integer() else f"{value:.8g}"
    return "" if value is None else str(value)


EXACT_ROLE = Qt.UserRole + 1
SHOWN_ROLE = Qt.UserRole + 2


class LayoutPanel(QWidget):
    layout_changed = Signal(object, str)  # Layout, description for the undo history
    draft_changed = Signal(object)  # the collected dict (valid or not), for the guides overlay
    load_requested = Signal()
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._current: Layout | None = None  # the document's layout as last shown
        self._updating = False
        self._extra: dict[str, Any] = {}
        self._track_extra: list[dict[str, Any]] = []

        self.well_name = QLineEdit()
        self.well_name.setPlaceholderText("well name")
        self.unit = QComboBox()
        self.unit.addItems(["FT", "M"])
        self.step = QDoubleSpinBox()
        self.step.setDecimals(4)
        self.step.setRange(0.0001, 1000)
        self.step.setValue(0.5)
        form = QFormLayout()
        form.addRow("Well", self.well_name)
        form.addRow("Depth unit", self.unit)
        form.addRow("LAS step", self.step)

        self.ties = self._table(["row (y px)", "depth"])
        self.remove_tie = QPushButton("Remove tie")
        ties_box = self._group("Depth ties (tool: click the scan)", self.ties, [self.remove_tie])

        self.tracks = self._table(["x0", "x1", "scale"])
        self.add_track = QPushButton("Add track")
        self.remove_track = QPushButton("Remove track")
        tracks_box = self._group("Tracks (tool: drag across the scan, or drag an edge)", self.tracks, [self.add_track, self.remove_track])

        self.curves = self._table([c for c in CURVE_COLUMNS])
        self.curves.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.add_curve = QPushButton("Add curve")
        self.remove_curve = QPushButton("Remove curve")
        curves_box = self._group("Curves", self.curves, [self.add_curve, self.remove_curve])

        self.validation = QLabel()
        self.validation.setWordWrap(True)
        self.validation.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.keep_for_next = QCheckBox("Keep this layout for the next sheet")
        self.keep_for_next.setChecked(True)
        self.load_button = QPushButton("Load layout…")
        self.save_button = QPushButton("Save layout…")
        io_row = QHBoxLayout()
        io_row.addWidget(self.load_button)
        io_row.addWidget(self.save_button)

        root = QVBoxLayout(self)
        root.addLayout(form)
        root.addWidget(ties_box)
        root.addWidget(tracks_box)
        root.addWidget(curves_box, 1)
        root.addWidget(self.validation)
        root.addWidget(self.keep_for_next)
        root.addLayout(io_row)

        for w in (self.ties, self.tracks, self.curves):
            w.itemChanged.connect(self._edited)
        self.well_name.editingFinished.connect(self._edited)
        self.unit.currentIndexChanged.connect(self._edited)
        self.step.valueChanged.connect(self._edited)
        self.remove_tie.clicked.connect(lambda: self._remove_selected(self.ties, "Remove depth tie"))
        self.add_track.clicked.connect(self._add_track_row)
        self.remove_track.clicked.connect(lambda: self._remove_selected(self.tracks, "Remove track"))
        self.add_curve.clicked.connect(self._add_curve_row)
        self.remove_curve.clicked.connect(lambda: self._remove_selected(self.curves, "Remove curve"))
        self.load_button.clicked.connect(self.load_requested)
        self.save_button.clicked.connect(self.save_requested)
        self._validate(emit=False)

    # ----------------------------------------------------------------- widgets
    @staticmethod
    def _table(headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        table.setSelectionBehavior(QAbstractItemView.SelectRows)
        table.setSelectionMode(QAbstractItemView.SingleSelection)
        return table

    @staticmethod
    def _group(title: str, table: QTableWidget, buttons: list[QPushButton]) -> QGroupBox:
        box = QGroupBox(title)
        lay = QVBoxLayout(box)
        lay.addWidget(table)
        row = QHBoxLayout()
        for b in buttons:
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        return box

    def _set_row(self, table: QTableWidget, row: int, values: list[Any]) -> None:
        for col, value in enumerate(values):
            text = _fmt(value)
            item = QTableWidgetItem(text)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                item.setData(EXACT_ROLE, value)
                item.setData(SHOWN_ROLE, text)
            table.setItem(row, col, item)

    def _cell(self, table: QTableWidget, row: int, col: int) -> Any:
        """The cell's exact number while its text is unedited, else the parsed text."""
        item = table.item(row, col)
        if item is None:
            return ""
        if item.data(SHOWN_ROLE) is not None and item.text() == item.data(SHOWN_ROLE):
            return item.data(EXACT_ROLE)
        return _cell_value(item.text())

    # ----------------------------------------------------------------- showing the document's layout
    def show_layout(self, layout: Layout | None) -> None:
        """Fill the tables from ``layout`` (after open, load, undo/redo)."""
        self._current = layout
        if layout is not None and self._collect_or_none() == layout:
            self._validate(emit=False)
            return
        self._updating = True
        try:
            data = layout.to_dict() if layout is not None else None
            self._fill(data)
        finally:
            self._updating = False
        self._validate(emit=False)

    def _fill(self, data: dict[str, Any] | None) -> None:
        data = data or {"depth": {"unit": "FT", "ties": [], "step": 0.5}, "tracks": [], "well": {}}
        self._extra = {k: v for k, v in data.items() if k not in ("version", "well", "depth", "tracks")}
        self.well_name.setText(str((data.get("well") or {}).get("name", "")))
        depth = data.get("depth") or {}
        self.unit.setCurrentText(str(depth.get("unit", "FT")))
        self.step.setValue(float(depth.get("step", 0.5)))
        ties = depth.get("ties") or []
        self.ties.setRowCount(len(ties))
        for r, (y, d) in enumerate(ties):
            self._set_row(self.ties, r, [y, d])
        tracks = data.get("tracks") or []
        self._track_extra = [{k: v for k, v in t.items() if k not in ("x0", "x1", "scale", "curves")} for t in tracks]
        self.tracks.setRowCount(len(tracks))
        curve_rows = []
        for i, t in enumerate(tracks):
            self._set_row(self.tracks, i, [t.get("x0"), t.get("x1"), t.get("scale", "linear")])
            for c in t.get("curves") or []:
                backup = c.get("backup") or {}
                curve_rows.append([i + 1, c.get("mnemonic"), c.get("unit", ""), c.get("left"), c.get("right"),
                                   c.get("style", "solid"), c.get("weight") or "", backup.get("left"),
                                   backup.get("right")])
        self.curves.setRowCount(len(curve_rows))
        for r, values in enumerate(curve_rows):
            self._set_row(self.curves, r, values)

    # ----------------------------------------------------------------- collecting the draft
    def _text(self, table: QTableWidget, row: int, col: int) -> str:
        item = table.item(row, col)
        return item.text() if item is not None else ""

    def collect(self) -> dict[str, Any]:
        """The draft as a layout dict (possibly invalid)."""
        ties = []
        for r in range(self.ties.rowCount()):
            ties.append([self._cell(self.ties, r, 0), self._cell(self.ties, r, 1)])
        # Ties may be clicked in any order; the schema wants them by row.
        ties.sort(key=lambda t: t[0] if isinstance(t[0], (int, float)) else float("inf"))
        tracks = []
        for r in range(self.tracks.rowCount()):
            extra = self._track_extra[r] if r < len(self._track_extra) else {}
            tracks.append({"x0": self._cell(self.tracks, r, 0), "x1": self._cell(self.tracks, r, 1),
                           "scale": self._text(self.tracks, r, 2).strip() or "linear", "curves": [], **extra})
        orphans = []
        for r in range(self.curves.rowCount()):
            cells = [self._text(self.curves, r, c) for c in range(len(CURVE_COLUMNS))]
            curve: dict[str, Any] = {"mnemonic": cells[1].strip(), "unit": cells[2].strip(),
                                     "left": self._cell(self.curves, r, 3), "right": self._cell(self.curves, r, 4),
                                     "style": cells[5].strip() or "solid"}
            if cells[6].strip():
                curve["weight"] = cells[6].strip()
            if cells[7].strip() or cells[8].strip():
                curve["backup"] = {"left": self._cell(self.curves, r, 7), "right": self._cell(self.curves, r, 8)}
            track_no = _cell_value(cells[0])
            if isinstance(track_no, int) and 1 <= track_no <= len(tracks):
                tracks[track_no - 1]["curves"].append(curve)
            else:
                orphans.append((r, cells[0]))
        data = {
            "version": 1,
            "well": {**(self._current.well.to_dict() if self._current else {}), "name": self.well_name.text()},
            "depth": {"unit": self.unit.currentText(), "ties": ties, "step": self.step.value()},
            "tracks": tracks,
            **self._extra,
        }
        if orphans:
            data["_orphans"] = orphans
        return data

    def _collect_or_none(self) -> Layout | None:
        try:
            return self._validated(self.collect())
        except LayoutError:
            return None

    @staticmethod
    def _validated(data: dict[str, Any]) -> Layout:
        if "_orphans" in data:
            row, text = data["_orphans"][0]
            raise LayoutError(f"curve row {row + 1}: track '{text}' does not exist (use a track number from the table above)")
        return Layout.from_dict(data)

    # ----------------------------------------------------------------- validation
    def _validate(self, emit: bool = True, description: str = "Edit layout") -> Layout | None:
        data = self.collect()
        self.draft_changed.emit(data)
        try:
            layout = self._validated(data)
        except LayoutError as exc:
            self.validation.setText(f"⚠ {exc}")
            self.validation.setStyleSheet("color: #b00020;")
            return None
        lo, hi = layout.depth.depth_range()
        self.validation.setText(
            f"✓ layout valid: {len(layout.curves())} curves in {len(layout.tracks)} tracks, "
            f"depth {lo:g}–{hi:g} {layout.depth.unit}"
        )
        self.validation.setStyleSheet("color: #1b5e20;")
        if emit and (self._current is None or layout.to_dict() != self._current.to_dict()):
            self._current = layout
            self.layout_changed.emit(layout, description)
        return layout

    def validation_message(self) -> str:
        return self.validation.text()

    def _edited(self, *args: Any) -> None:
        if not self._updating:
            self._validate()

    # ----------------------------------------------------------------- gestures from the viewer
    def add_tie(self, y: float, depth: float) -> None:
        self._updating = True
        try:
            for r in range(self.ties.rowCount()):
                if self._cell(self.ties, r, 0) == round(y, 1):
                    self.ties.removeRow(r)
                    break
            r = self.ties.rowCount()
            self.ties.insertRow(r)
            self._set_row(self.ties, r, [round(y, 1), depth])
        finally:
            self._updating = False
        self._validate(description=f"Add depth tie {depth:g} at row {y:.0f}")

    def selected_track(self) -> int | None:
        rows = self.tracks.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def set_track_bounds(self, x0: float, x1: float, index: int | None = None) -> None:
        """Set the bounds of track ``index`` (default: the selected one, or a new track)."""
        index = self.selected_track() if index is None else index
        self._updating = True
        try:
            if index is None or index >= self.tracks.rowCount():
                index = self.tracks.rowCount()
                self.tracks.insertRow(index)
                self._set_row(self.tracks, index, [0, 0, "linear"])
            self._set_row(self.tracks, index, [round(min(x0, x1)), round(max(x0, x1))])
            self.tracks.selectRow(index)
        finally:
            self._updating = False
        self._validate(description=f"Set track {index + 1} bounds")

    def _add_track_row(self) -> None:
        r = self.tracks.rowCount()
        self._updating = True
        self.tracks.insertRow(r)
        self._set_row(self.tracks, r, ["", "", "linear"])
        self._updating = False
        self._validate(description="Add track")

    def _add_curve_row(self) -> None:
        r = self.curves.rowCount()
        track = (self.selected_track() or 0) + 1
        self._updating = True
        self.curves.insertRow(r)
        self._set_row(self.curves, r, [track, f"CURVE{r + 1}", "", 0, 100, "solid", "", "", ""])
        self._updating = False
        self._validate(description="Add curve")

    def _remove_selected(self, table: QTableWidget, description: str) -> None:
        rows = table.selectionModel().selectedRows()
        if not rows:
            return
        table.removeRow(rows[0].row())
        self._validate(description=description)

    def draft_json(self) -> str:
        return json.dumps(self.collect(), indent=2)
