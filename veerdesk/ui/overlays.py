"""Scene items drawn over the scan: traced curves, confidence bands, layout guides, review highlight.

Geometry comes from pure helpers (``trace_points``) so the mapping from (depth, value) to image pixels
is shared with the correction tools and testable without painting.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsItemGroup,
    QGraphicsLineItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
)

from veerdesk.core.curves import CurveTrace
from veerdesk.core.layout import Curve, Layout, Track

CURVE_COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
BAND_WIDTH = 10.0  # image pixels
# Curves are drawn as several path items of this many samples, so the scene index skips the off-screen ones.
PATH_CHUNK = 1024
# Confidence band: red (0) → amber (0.5) → green (1).
_BAND_STOPS = np.array([[0.0, 214, 39, 40], [0.5, 255, 170, 0], [1.0, 44, 160, 44]])


def value_at_column(track: Track, curve: Curve, x: np.ndarray) -> np.ndarray:
    return track.value_at_column(x, curve.scale)


def trace_points(layout: Layout, trace: CurveTrace) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) image coordinates of every sample (NaN where absent or the curve is not in the layout)."""
    try:
        _, track, curve = layout.curve(trace.mnemonic)
    except KeyError:
        nan = np.full(trace.depth.shape, np.nan)
        return nan, nan
    y = layout.depth.row_at_depth(trace.depth)
    x = track.display_columns(trace.value, curve)
    return x, y


def polyline_path(x: np.ndarray, y: np.ndarray) -> QPainterPath:
    """A path through the points, broken wherever a coordinate is NaN."""
    path = QPainterPath()
    ok = np.isfinite(x) & np.isfinite(y)
    pen_down = False
    for xi, yi, good in zip(x.tolist(), y.tolist(), ok.tolist(), strict=True):
        if not good:
            pen_down = False
        elif pen_down:
            path.lineTo(xi, yi)
        else:
            path.moveTo(xi, yi)
            pen_down = True
    return path


def confidence_rgb(conf: np.ndarray) -> np.ndarray:
    conf = np.clip(np.nan_to_num(np.asarray(conf, dtype=np.float64)), 0, 1)
    return np.stack([np.interp(conf, _BAND_STOPS[:, 0], _BAND_STOPS[:, k]) for k in (1, 2, 3)], axis=-1).astype(np.uint8)


def band_image(layout: Layout, trace: CurveTrace, rows_per_pixel: float = 4.0) -> tuple[QImage, float, float] | None:
    """A 1-px-wide image of confidence down the page and the rows it spans; absent samples are transparent."""
    if trace.depth.size == 0:
        return None
    ys = layout.depth.row_at_depth(trace.depth)
    ok = np.isfinite(ys)
    if not ok.any():
        return None
    top, bottom = float(np.nanmin(ys)), float(np.nanmax(ys))
    n = max(2, int((bottom - top) / rows_per_pixel))
    rows = np.linspace(top, bottom, n)
    depth_at = layout.depth.depth_at_row(rows)
    order = np.argsort(trace.depth)
    idx = np.clip(np.searchsorted(trace.depth[order], depth_at), 0, trace.depth.size - 1)
    src = order[idx]
    rgba = np.zeros((n, 1, 4), np.uint8)
    rgba[:, 0, :3] = confidence_rgb(trace.confidence[src])
    rgba[:, 0, 3] = np.where(np.isfinite(trace.value[src]), 230, 0)
    image = QImage(rgba.data, 1, n, 4, QImage.Format_RGBA8888).copy()
    return image, top, bottom


class CurveLayer(QGraphicsItemGroup):
    """Traced curves and their confidence bands; rebuilt whenever traces or layout change."""

    def __init__(self) -> None:
        super().__init__()
        self.setHandlesChildEvents(False)
        self.paths: dict[str, list[QGraphicsPathItem]] = {}
        self.bands: dict[str, QGraphicsPixmapItem] = {}
        self.show_curves = True
        self.show_bands = True

    def rebuild(self, layout: Layout | None, traces: dict[str, CurveTrace], selected: str | None = None) -> None:
        for item in list(self.childItems()):
            self.removeFromGroup(item)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.paths.clear()
        self.bands.clear()
        if layout is None:
            return
        names = [c.mnemonic for _, _, c in layout.curves()]
        for name, trace in traces.items():
            if name not in names:
                continue
            k = names.index(name)
            _, track, curve = layout.curve(name)
            x, y = trace_points(layout, trace)
            color = QColor(CURVE_COLORS[k % len(CURVE_COLORS)])
            # Width 1 takes the rasterizer's fast path (a wider cosmetic pen is stroked: ~3x the cost per frame).
            pen = QPen(color, 2.5 if name == selected else 1.0)
            pen.setCosmetic(True)  # stays readable when zoomed out
            if curve.style != "solid":
                pen.setStyle({"dashed": Qt.DashLine, "dotted": Qt.DotLine, "dashdot": Qt.DashDotLine}[curve.style])
            self.paths[name] = []
            for start in range(0, max(len(x) - 1, 1), PATH_CHUNK):
                stop = start + PATH_CHUNK + 1  # one shared sample joins neighbouring chunks
                path_item = QGraphicsPathItem(polyline_path(x[start:stop], y[start:stop]))
                path_item.setPen(pen)
                path_item.setVisible(self.show_curves)
                path_item.setZValue(3)
                self.addToGroup(path_item)
                self.paths[name].append(path_item)
            band = band_image(layout, trace)
            if band is not None:
                image, top, bottom = band
                slot = [c.mnemonic for c in track.curves].index(name)
                pix = QGraphicsPixmapItem(QPixmap.fromImage(image))
                pix.setTransformationMode(Qt.FastTransformation)
                pix.setShapeMode(QGraphicsPixmapItem.BoundingRectShape)
                pix.setOffset(0, 0)
                pix.setTransform(pix.transform().fromScale(BAND_WIDTH, (bottom - top) / image.height()))
                pix.setPos(track.x1 - BAND_WIDTH * (slot + 1) - 2, top)
                pix.setVisible(self.show_bands)
                pix.setZValue(2)
                pix.setToolTip(f"{name} confidence")
                self.addToGroup(pix)
                self.bands[name] = pix

    def set_visibility(self, curves: bool, bands: bool) -> None:
        self.show_curves, self.show_bands = curves, bands
        for items in self.paths.values():
            for p in items:
                p.setVisible(curves)
        for b in self.bands.values():
            b.setVisible(bands)


class LayoutGuides(QGraphicsItemGroup):
    """Track bounds (vertical lines with names) and depth tie marks (horizontal ticks with depths)."""

    def __init__(self) -> None:
        super().__init__()

    def rebuild(self, layout_dict: dict | None, page_height: float, page_width: float) -> None:
        for item in list(self.childItems()):
            self.removeFromGroup(item)
            if item.scene() is not None:
                item.scene().removeItem(item)
        if not layout_dict:
            return
        track_pen = QPen(QColor(0, 120, 215, 200), 1.5, Qt.DashLine)
        track_pen.setCosmetic(True)
        for i, t in enumerate(layout_dict.get("tracks") or []):
            try:
                x0, x1 = float(t["x0"]), float(t["x1"])
            except (KeyError, TypeError, ValueError):
                continue
            shade = QGraphicsRectItem(QRectF(x0, 0, x1 - x0, page_height))
            shade.setBrush(QBrush(QColor(0, 120, 215, 14)))
            shade.setPen(QPen(Qt.NoPen))
            self.addToGroup(shade)
            for x in (x0, x1):
                line = QGraphicsLineItem(x, 0, x, page_height)
                line.setPen(track_pen)
                self.addToGroup(line)
            names = ", ".join(str(c.get("mnemonic", "?")) for c in t.get("curves") or [])
            label = QGraphicsSimpleTextItem(f"T{i + 1} {names}")
            label.setBrush(QBrush(QColor(0, 90, 180)))
            label.setFlag(QGraphicsItem.ItemIgnoresTransformations, True)
            label.setPos(x0 + 2, 2)
            self.addToGroup(label)
        tie_pen = QPen(QColor(200, 0, 160, 220), 2)
        tie_pen.setCosmetic(True)
        for tie in (layout_dict.get("depth") or {}).get("ties") or []:
            try:
                y, depth = float(tie[0]), float(tie[1])
            except (TypeError, ValueError, IndexError):
                continue
            line = QGraphicsLineItem(0, y, page_width, y)
            line.setPen(tie_pen)
            self.addToGroup(line)
            label = QGraphicsSimpleTextItem(f"{depth:g}")
            label.setBrush(QBrush(QColor(200, 0, 160)))
            label.setFlag(QGraphicsItem.ItemIgnoresTransformations, True)
            label.setPos(QPointF(4, y))
            self.addToGroup(label)
        self.setZValue(1.5)


class Highlight(QGraphicsRectItem):
    """The review item being looked at."""

    def __init__(self) -> None:
        super().__init__()
        pen = QPen(QColor(255, 140, 0), 2.5)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setBrush(QBrush(QColor(255, 200, 0, 40)))
        self.setZValue(4)
        self.hide()

    def show_rect(self, rect: QRectF) -> None:
        self.setRect(rect)
        self.show()
