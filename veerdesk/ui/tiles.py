"""A QGraphicsItem that paints a huge uint8 array from an :class:`ImagePyramid`, tile by tile.

Only the tiles that intersect the exposed rectangle are drawn, at the pyramid level that matches the
current zoom; converted tiles are kept in a small LRU cache of QPixmaps, so panning converts only the
strip of tiles that scrolls into view. The same item draws the scan (grey) and the class-mask overlays
(indexed colours, where a colour table change restyles the overlay without touching the pixels).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from veerdesk.core.classes import BROKEN_CLASSES, CLASS_SCHEMES, SOLID
from veerdesk.ui.pyramid import ImagePyramid, level_for_scale

DEFAULT_CACHE_TILES = 384


class TiledArrayItem(QGraphicsItem):
    def __init__(self, pyramid: ImagePyramid, colors: list[QColor] | None = None, cache_tiles: int = DEFAULT_CACHE_TILES):
        super().__init__()
        self.pyramid = pyramid
        self._color_table = [c.rgba() for c in colors] if colors is not None else None
        self._cache: OrderedDict[tuple[int, int, int], QPixmap] = OrderedDict()
        self._cache_tiles = cache_tiles
        self.tiles_converted = 0  # for the benchmark and tests
        self.max_level: int | None = None  # cap the level of detail (the benchmark's no-pyramid baseline)
        self.prefetch = True
        self._last_range: tuple[int, int, int, int, int] | None = None  # level, r0, r1, c0, c1 last painted
        self._prefetch_queued = False
        self.setFlag(QGraphicsItem.ItemUsesExtendedStyleOption, True)

    # ----------------------------------------------------------------- geometry
    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.pyramid.width, self.pyramid.height)

    # ----------------------------------------------------------------- styling / invalidation
    def set_colors(self, colors: list[QColor]) -> None:
        self._color_table = [c.rgba() for c in colors]
        self.invalidate()

    def invalidate(self, rect: tuple[int, int, int, int] | None = None) -> None:
        """Forget cached tiles (all, or those overlapping ``rect`` = (y0, x0, y1, x1) in base pixels)."""
        if rect is None:
            self._cache.clear()
        else:
            y0, x0, y1, x1 = rect
            t = self.pyramid.tile_size
            for key in list(self._cache):
                level, row, col = key
                f = t << level
                if row * f < y1 and (row + 1) * f > y0 and col * f < x1 and (col + 1) * f > x0:
                    del self._cache[key]
        self.update()

    # ----------------------------------------------------------------- painting
    def _pixmap(self, level: int, row: int, col: int) -> QPixmap:
        key = (level, row, col)
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
            return pixmap
        block = np.ascontiguousarray(self.pyramid.tile(level, row, col))
        h, w = block.shape
        if self._color_table is None:
            image = QImage(block.data, w, h, block.strides[0], QImage.Format_Grayscale8)
        else:
            image = QImage(block.data, w, h, block.strides[0], QImage.Format_Indexed8)
            image.setColorTable(self._color_table)
        pixmap = QPixmap.fromImage(image)  # copies: ``block`` may go
        self.tiles_converted += 1
        self._cache[key] = pixmap
        while len(self._cache) > self._cache_tiles:
            self._cache.popitem(last=False)
        return pixmap

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scale = painter.worldTransform().m11()
        pyr = self.pyramid
        level = level_for_scale(abs(scale), pyr.levels)
        if self.max_level is not None:
            level = min(level, self.max_level)
        f = 1 << level
        span = pyr.tile_size * f  # one tile's size in base pixels
        exposed = option.exposedRect.intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        rows, cols = pyr.tile_grid(level)
        r0, r1 = max(0, int(exposed.top() // span)), min(rows - 1, int(exposed.bottom() // span))
        c0, c1 = max(0, int(exposed.left() // span)), min(cols - 1, int(exposed.right() // span))
        # Reduced levels are drawn scaled up: smooth, so grey edges do not look blocky.
        painter.setRenderHint(QPainter.SmoothPixmapTransform, level > 0 or scale < 1)
        for row in range(r0, r1 + 1):
            for col in range(c0, c1 + 1):
                pixmap = self._pixmap(level, row, col)
                target = QRectF(col * span, row * span, pixmap.width() * f, pixmap.height() * f)
                painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
        self._last_range = (level, r0, r1, c0, c1)
        if self.prefetch and not self._prefetch_queued:
            # Convert the neighbouring tiles when the event loop is idle, so the next pan step finds
            # them ready instead of converting them inside its frame.
            self._prefetch_queued = True
            QTimer.singleShot(0, self._prefetch_neighbours)

    def _prefetch_neighbours(self) -> None:
        self._prefetch_queued = False
        if self._last_range is None or self.scene() is None:
            return
        level, r0, r1, c0, c1 = self._last_range
        rows, cols = self.pyramid.tile_grid(level)
        wanted = [(level, r, c) for r in (r1 + 1, r0 - 1, r1 + 2) for c in range(c0, c1 + 1)]
        wanted += [(level, r, c) for r in range(r0, r1 + 1) for c in (c1 + 1, c0 - 1)]
        budget = max(0, self._cache_tiles - (r1 - r0 + 1) * (c1 - c0 + 1) - 8)
        for key in wanted[:budget]:
            _, r, c = key
            if 0 <= r < rows and 0 <= c < cols and key not in self._cache:
                self._pixmap(*key)

    def cached_tiles(self) -> int:
        return len(self._cache)


def mask_colors(solid: QColor, dashed: QColor, show_solid: bool, show_dashed: bool, opacity: float) -> list[QColor]:
    """The 256-entry colour table for a class map: 0 transparent, 1 solid, 2 dashed/dotted, 3 dotted and
    4 dash-dot (four- and five-class models; shown with the broken-line colour)."""
    table = [QColor(0, 0, 0, 0)] * 256
    broken = tuple((cls, dashed, show_dashed) for cls in BROKEN_CLASSES[max(CLASS_SCHEMES)])
    for cls, color, shown in ((SOLID, solid, show_solid), *broken):
        c = QColor(color)
        c.setAlphaF(max(0.0, min(1.0, opacity)) if shown else 0.0)
        table[cls] = c
    return table

