"""The overview strip: the whole page at the pyramid's coarsest level with the visible area marked.

Click or drag in it to move the main view there.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from veerdesk.ui.pyramid import ImagePyramid


class Minimap(QWidget):
    jump_to = Signal(QPointF)  # image coordinates to centre on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._page = QRectF()
        self._visible = QRectF()
        self._marks: list[tuple[float, QColor]] = []
        # The page and marks change rarely, the visible rectangle on every scroll: cache the former.
        self._background: QPixmap | None = None
        self.setMinimumWidth(60)
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(90, 400)

    def set_pyramid(self, pyramid: ImagePyramid | None) -> None:
        """Show ``pyramid``'s coarsest level once it is built (call again when it is); until then an outline."""
        self._image = None
        self._page = QRectF() if pyramid is None else QRectF(0, 0, pyramid.width, pyramid.height)
        if pyramid is not None and pyramid.is_built(pyramid.levels - 1):
            small = np.ascontiguousarray(pyramid.tile(pyramid.levels - 1, 0, 0))
            h, w = small.shape
            self._image = QImage(small.data, w, h, small.strides[0], QImage.Format_Grayscale8).copy()
        self._background = None
        self.update()

    def set_visible_rect(self, rect: QRectF) -> None:
        self._visible = QRectF(rect)
        self.update()

    def set_marks(self, marks: list[tuple[float, QColor]]) -> None:
        """Horizontal ticks at image rows (e.g. review items)."""
        self._marks = marks
        self._background = None
        self.update()

    def _target(self) -> QRectF:
        if self._page.isEmpty():
            return QRectF()
        scale = min(self.width() / self._page.width(), self.height() / self._page.height())
        w, h = self._page.width() * scale, self._page.height() * scale
        return QRectF((self.width() - w) / 2, 0, w, h)

    def resizeEvent(self, event) -> None:
        self._background = None
        super().resizeEvent(event)

    def _render_background(self) -> QPixmap:
        pixmap = QPixmap(self.size())
        pixmap.fill(QColor(60, 60, 64))
        target = self._target()
        if target.isEmpty():
            return pixmap
        painter = QPainter(pixmap)
        if self._image is None:
            painter.fillRect(target, QColor(235, 235, 230))  # the page, while its overview is being built
        else:
            painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
            painter.drawImage(target, self._image)
        sy = target.height() / self._page.height()
        for row, color in self._marks:
            painter.setPen(QPen(color, 1))
            y = target.top() + row * sy
            painter.drawLine(target.left(), y, target.right(), y)
        painter.end()
        return pixmap

    def paintEvent(self, event) -> None:
        if self._background is None or self._background.size() != self.size():
            self._background = self._render_background()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._background)
        target = self._target()
        if target.isEmpty():
            return
        sx, sy = target.width() / self._page.width(), target.height() / self._page.height()
        v = self._visible.intersected(self._page)
        if not v.isEmpty():
            painter.setPen(QPen(QColor(255, 120, 0), 2))
            painter.setBrush(QColor(255, 160, 0, 50))
            painter.drawRect(QRectF(target.left() + v.left() * sx, target.top() + v.top() * sy,
                                    max(v.width() * sx, 2), max(v.height() * sy, 2)))

    def _emit(self, pos: QPointF) -> None:
        target = self._target()
        if target.isEmpty():
            return
        x = (pos.x() - target.left()) / target.width() * self._page.width()
        y = (pos.y() - target.top()) / target.height() * self._page.height()
        self.jump_to.emit(QPointF(x, y))

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.LeftButton:
            self._emit(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.LeftButton:
            self._emit(event.position())
