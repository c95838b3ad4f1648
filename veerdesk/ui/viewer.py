"""The page viewer: a QGraphicsView over a tiled scan, with zoom/pan, a depth ruler and tool gestures.

The view knows nothing about commands: in each tool mode it turns mouse gestures into signals in
image coordinates (a click, a vertical or horizontal span, a freehand stroke, a point drag) and the
main window turns those into commands on the document.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QPainter, QPainterPath, QPen, QWheelEvent
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsRectItem, QGraphicsScene, QGraphicsView, QWidget

from veerdesk.core.layout import Layout
from veerdesk.ui.overlays import CurveLayer, Highlight, LayoutGuides
from veerdesk.ui.pyramid import ImagePyramid
from veerdesk.ui.tiles import TiledArrayItem

TOOLS = ("navigate", "tie", "track", "redraw", "erase", "move", "swap", "rerun")
SPAN_TOOLS = {"track": "x", "erase": "y", "swap": "y", "rerun": "y"}
MIN_SCALE, MAX_SCALE = 1e-4, 16.0
RULER_WIDTH = 64


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is at least ``raw``."""
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    base = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * base >= raw - 1e-12:
            return m * base
    return 10 * base  # pragma: no cover


class PageView(QGraphicsView):
    clicked = Signal(QPointF)
    span_selected = Signal(str, float, float)  # tool, start, end (x for track, y otherwise)
    stroke_finished = Signal(list)  # list[QPointF]
    point_drag = Signal(str, QPointF)  # "press" | "move" | "release"
    hover = Signal(QPointF)
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor(60, 60, 64)))
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        # Full updates: the depth ruler is drawn in viewport coordinates and must not be scrolled with the page.
        self.setViewportUpdateMode(QGraphicsView.FullViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.DontSavePainterState, True)
        self.setMouseTracking(True)
        self.setAcceptDrops(False)  # the main window takes dropped files
        self.page_item: TiledArrayItem | None = None
        self.mask_item: TiledArrayItem | None = None
        self.curves = CurveLayer()
        self.guides = LayoutGuides()
        self.highlight = Highlight()
        self._rubber = QGraphicsRectItem()
        self._rubber.setPen(QPen(QColor(0, 160, 255), 0))
        self._rubber.setBrush(QBrush(QColor(0, 160, 255, 50)))
        self._rubber.setZValue(10)
        self._stroke_item = QGraphicsPathItem()
        pen = QPen(QColor(255, 0, 200), 2.5)
        pen.setCosmetic(True)
        self._stroke_item.setPen(pen)
        self._stroke_item.setZValue(10)
        for item in (self.curves, self.guides, self.highlight, self._rubber, self._stroke_item):
            self.scene().addItem(item)
        self._rubber.hide()
        self.curves.setZValue(3)
        self.layout_for_ruler: Layout | None = None
        self.tool = "navigate"
        self._press: QPointF | None = None
        self._stroke: list[QPointF] = []
        self.set_tool("navigate")
        self.horizontalScrollBar().valueChanged.connect(self.view_changed)
        self.verticalScrollBar().valueChanged.connect(self.view_changed)

    # ----------------------------------------------------------------- content
    def set_page(self, pyramid: ImagePyramid) -> None:
        for item in (self.page_item, self.mask_item):
            if item is not None:
                self.scene().removeItem(item)
        self.mask_item = None
        self.page_item = TiledArrayItem(pyramid)
        self.page_item.setZValue(0)
        self.scene().addItem(self.page_item)
        rect = QRectF(0, 0, pyramid.width, pyramid.height)
        # A margin so the page edges can be scrolled to the middle of the view.
        self.scene().setSceneRect(rect.adjusted(-200, -200, 200, 200))
        self.highlight.hide()

    def set_mask(self, item: TiledArrayItem | None) -> None:
        if self.mask_item is not None:
            self.scene().removeItem(self.mask_item)
        self.mask_item = item
        if item is not None:
            item.setZValue(1)
            self.scene().addItem(item)

    def page_rect(self) -> QRectF:
        return self.page_item.boundingRect() if self.page_item is not None else QRectF()

    # ----------------------------------------------------------------- zoom and pan
    @property
    def scale_factor(self) -> float:
        return self.transform().m11()

    def set_scale(self, scale: float, anchor_scene: QPointF | None = None) -> None:
        scale = max(MIN_SCALE, min(MAX_SCALE, scale))
        centre = anchor_scene if anchor_scene is not None else self.mapToScene(self.viewport().rect().center())
        self.resetTransform()
        self.scale(scale, scale)
        self.centerOn(centre)
        self.view_changed.emit()

    def fit_width(self) -> None:
        """Scale so the page width fills the view (beside the ruler), keeping the depth in view."""
        rect = self.page_rect()
        if rect.isEmpty():
            return
        usable = max(50, self.viewport().width() - RULER_WIDTH - 8)
        centre_y = self.mapToScene(self.viewport().rect().center()).y()
        scale = usable / rect.width()
        self.resetTransform()
        self.scale(scale, scale)
        half = self.viewport().height() / scale / 2
        centre_y = min(max(centre_y, rect.top() + half), max(rect.bottom() - half, rect.top() + half))
        self.centerOn(rect.center().x() - (RULER_WIDTH + 8) / 2 / scale, centre_y)
        self.view_changed.emit()

    def show_top(self) -> None:
        """Scroll to the top of the page."""
        rect = self.page_rect()
        half_h = self.viewport().height() / max(self.scale_factor, 1e-9) / 2
        centre_x = self.mapToScene(self.viewport().rect().center()).x()
        self.centerOn(centre_x, rect.top() + half_h)
        self.view_changed.emit()

    def zoom_100(self) -> None:
        self.set_scale(1.0)

    def zoom_by(self, factor: float, anchor_view: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor_view`` (viewport px) where it is."""
        old = self.scale_factor
        new = max(MIN_SCALE, min(MAX_SCALE, old * factor))
        if anchor_view is None:
            anchor_view = QPointF(self.viewport().rect().center())
        scene_pt = self.mapToScene(anchor_view.toPoint())
        self.scale(new / old, new / old)
        # Put the anchored scene point back under the cursor.
        delta = self.mapFromScene(scene_pt) - anchor_view.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + delta.y())
        self.view_changed.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.ShiftModifier:
            return super().wheelEvent(event)  # plain scroll
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.25**steps, event.position())
        event.accept()

    def pan_by(self, dx: float, dy: float) -> None:
        """Scroll by (dx, dy) viewport pixels."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        vw, vh = self.viewport().width(), self.viewport().height()
        key = event.key()
        moves = {
            Qt.Key_Up: (0, -vh * 0.1), Qt.Key_Down: (0, vh * 0.1),
            Qt.Key_Left: (-vw * 0.1, 0), Qt.Key_Right: (vw * 0.1, 0),
            Qt.Key_PageUp: (0, -vh * 0.9), Qt.Key_PageDown: (0, vh * 0.9),
            Qt.Key_Space: (0, vh * 0.9),
        }
        if key in moves:
            self.pan_by(*moves[key])
        elif key == Qt.Key_Home:
            self.verticalScrollBar().setValue(self.verticalScrollBar().minimum())
        elif key == Qt.Key_End:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
        elif key in (Qt.Key_Plus, Qt.Key_Equal):
            self.zoom_by(1.25)
        elif key == Qt.Key_Minus:
            self.zoom_by(0.8)
        elif key == Qt.Key_Escape:
            self.cancel_gesture()
        else:
            super().keyPressEvent(event)

    def center_on_rect(self, rect: QRectF, fit: bool = True) -> None:
        """Show ``rect`` (image coords), zooming so it fills about half the view when ``fit``."""
        if fit and rect.height() > 0:
            want = min(self.viewport().height() * 0.5 / max(rect.height(), 1.0),
                       (self.viewport().width() - RULER_WIDTH) * 0.9 / max(rect.width(), 1.0))
            want = max(min(want, 2.0), 0.05)
            self.resetTransform()
            self.scale(want, want)
        self.centerOn(rect.center())
        self.view_changed.emit()

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    # ----------------------------------------------------------------- tools
    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool}")
        self.cancel_gesture()
        self.tool = tool
        self.setDragMode(QGraphicsView.ScrollHandDrag if tool == "navigate" else QGraphicsView.NoDrag)
        self.viewport().setCursor(Qt.OpenHandCursor if tool == "navigate" else Qt.CrossCursor)

    def cancel_gesture(self) -> None:
        self._press = None
        self._stroke = []
        self._rubber.hide()
        self._stroke_item.setPath(QPainterPath())

    def _span_rect(self, a: QPointF, b: QPointF) -> QRectF:
        page = self.page_rect()
        if SPAN_TOOLS.get(self.tool) == "x":
            return QRectF(min(a.x(), b.x()), page.top(), abs(b.x() - a.x()), page.height())
        return QRectF(page.left(), min(a.y(), b.y()), page.width(), abs(b.y() - a.y()))

    def mousePressEvent(self, event) -> None:
        if self.tool == "navigate" or event.button() != Qt.LeftButton or self.page_item is None:
            return super().mousePressEvent(event)
        pos = self.mapToScene(event.position().toPoint())
        self._press = pos
        if self.tool == "redraw":
            self._stroke = [pos]
        elif self.tool == "move":
            self.point_drag.emit("press", pos)
        elif self.tool in SPAN_TOOLS:
            self._rubber.setRect(self._span_rect(pos, pos))
            self._rubber.show()
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        pos = self.mapToScene(event.position().toPoint())
        self.hover.emit(pos)
        if self._press is None:
            return super().mouseMoveEvent(event)
        if self.tool == "redraw":
            self._stroke.append(pos)
            path = QPainterPath(self._stroke[0])
            for p in self._stroke[1:]:
                path.lineTo(p)
            self._stroke_item.setPath(path)
        elif self.tool == "move":
            self.point_drag.emit("move", pos)
        elif self.tool in SPAN_TOOLS:
            self._rubber.setRect(self._span_rect(self._press, pos))
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._press is None:
            return super().mouseReleaseEvent(event)
        pos = self.mapToScene(event.position().toPoint())
        press, stroke, tool = self._press, self._stroke + [pos], self.tool
        self.cancel_gesture()
        if tool == "tie":
            self.clicked.emit(pos)
        elif tool == "redraw":
            if len(stroke) >= 2:
                self.stroke_finished.emit(stroke)
        elif tool == "move":
            self.point_drag.emit("release", pos)
        elif tool in SPAN_TOOLS:
            if SPAN_TOOLS[tool] == "x":
                self.span_selected.emit(tool, press.x(), pos.x())
            else:
                self.span_selected.emit(tool, press.y(), pos.y())
        event.accept()

    # ----------------------------------------------------------------- depth ruler
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        layout = self.layout_for_ruler
        if layout is None or self.page_item is None:
            return
        painter.save()
        painter.resetTransform()
        vp = self.viewport().rect()
        painter.fillRect(0, 0, RULER_WIDTH, vp.height(), QColor(250, 250, 245, 235))
        painter.setPen(QPen(QColor(90, 90, 90)))
        painter.drawLine(RULER_WIDTH, 0, RULER_WIDTH, vp.height())
        top_row = self.mapToScene(0, 0).y()
        bottom_row = self.mapToScene(0, vp.height()).y()
        rows = np.array([top_row, bottom_row])
        lo_row, hi_row = layout.depth.row_range()
        rows = np.clip(rows, lo_row, hi_row)
        depths = layout.depth.depth_at_row(rows)
        if np.all(np.isfinite(depths)) and rows[1] > rows[0]:
            d0, d1 = sorted(depths.tolist())
            px_per_depth = (self.mapFromScene(0, hi_row).y() - self.mapFromScene(0, lo_row).y()) / max(
                abs(layout.depth.depths[-1] - layout.depth.depths[0]), 1e-9)
            step = nice_step(40.0 / max(abs(px_per_depth), 1e-9))
            font = QFont(painter.font())
            font.setPointSize(8)
            painter.setFont(font)
            first = math.ceil(d0 / step)
            count = int((d1 - d0) / step) + 1
            for k in range(first, first + min(count, 400)):
                depth = k * step
                row = float(layout.depth.row_at_depth(depth))
                if not math.isfinite(row):
                    continue
                vy = self.mapFromScene(QPointF(0, row)).y()
                painter.drawLine(RULER_WIDTH - 10, vy, RULER_WIDTH, vy)
                painter.drawText(4, vy + 4, f"{depth:g}")
        painter.drawText(4, vp.height() - 6, layout.depth.unit)
        painter.restore()
