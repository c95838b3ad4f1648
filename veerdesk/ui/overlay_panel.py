"""Overlay controls: mask colours, opacity and per-class toggles; curve and confidence-band toggles."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QColorDialog, QFormLayout, QPushButton, QSlider, QWidget

from veerdesk.ui.tiles import mask_colors


class OverlayPanel(QWidget):
    """Mask colours, opacity and toggles; curve and confidence-band toggles."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.solid_color = QColor(230, 30, 30)
        self.dashed_color = QColor(20, 110, 255)
        self.show_solid = QCheckBox("solid curves mask")
        self.show_dashed = QCheckBox("dashed / dotted mask")
        self.show_curves = QCheckBox("traced curves")
        self.show_bands = QCheckBox("confidence bands")
        for box in (self.show_solid, self.show_dashed, self.show_curves, self.show_bands):
            box.setChecked(True)
            box.toggled.connect(self.changed)
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(55)
        self.opacity.valueChanged.connect(self.changed)
        self.solid_button = QPushButton("colour…")
        self.dashed_button = QPushButton("colour…")
        self.solid_button.clicked.connect(lambda: self._pick("solid"))
        self.dashed_button.clicked.connect(lambda: self._pick("dashed"))
        form = QFormLayout(self)
        form.addRow(self.show_solid, self.solid_button)
        form.addRow(self.show_dashed, self.dashed_button)
        form.addRow("mask opacity", self.opacity)
        form.addRow(self.show_curves)
        form.addRow(self.show_bands)
        self._paint_buttons()

    def _paint_buttons(self) -> None:
        for button, color in ((self.solid_button, self.solid_color), (self.dashed_button, self.dashed_color)):
            button.setStyleSheet(f"background-color: {color.name()}; color: white;")

    def _pick(self, which: str) -> None:
        current = self.solid_color if which == "solid" else self.dashed_color
        color = QColorDialog.getColor(current, self, "Mask colour")
        if color.isValid():
            self.set_color(which, color)

    def set_color(self, which: str, color: QColor) -> None:
        if which == "solid":
            self.solid_color = QColor(color)
        else:
            self.dashed_color = QColor(color)
        self._paint_buttons()
        self.changed.emit()

    def colors(self) -> list[QColor]:
        return mask_colors(self.solid_color, self.dashed_color, self.show_solid.isChecked(),
                           self.show_dashed.isChecked(), self.opacity.value() / 100.0)
