"""The main window: wires the viewer, panels and worker to one Document and its UndoStack.

Everything the user does that changes the document goes through ``self.stack.push(command)``; the
window listens to the document and redraws what changed. Errors become a dialog (``self.prompts``) and
the app keeps running.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QTabWidget,
    QToolButton,
)

from veerdesk.core import project as projects
from veerdesk.core.commands import (
    AcceptReview,
    EraseRange,
    MovePoint,
    RedrawStretch,
    SetLayout,
    SwapCurves,
    UndoStack,
)
from veerdesk.core.document import CHANGE_LAYOUT, CHANGE_MASKS, CHANGE_REVIEW, CHANGE_TRACES, Document
from veerdesk.core.errors import VeerDeskError
from veerdesk.core.image import Page, load_page
from veerdesk.core.layout import Layout, load_layout, save_layout
from veerdesk.ui.history import HistoryView
from veerdesk.ui.layout_panel import LayoutPanel
from veerdesk.ui.minimap import Minimap
from veerdesk.ui.model_job import JobFactory
from veerdesk.ui.model_runs import ModelRunMixin
from veerdesk.ui.overlay_panel import OverlayPanel
from veerdesk.ui.overlays import trace_points, value_at_column
from veerdesk.ui.project_actions import ProjectMixin
from veerdesk.ui.prompts import IMAGE_FILTER, LAYOUT_FILTER, PROJECT_FILTER, Prompts, describe_failure
from veerdesk.ui.pyramid import ImagePyramid
from veerdesk.ui.recent_files import RecentFiles
from veerdesk.ui.review_panel import ReviewPanel
from veerdesk.ui.tiles import TiledArrayItem
from veerdesk.ui.viewer import PageView
from veerdesk.ui.worker import ImageLoader, JobThread, PyramidBuilder

AUTOSAVE_MS = 60_000
PICK_RADIUS_PX = 15  # screen pixels for picking a curve point to drag
MINIMAP_MARKS = 40


# The Model menu's input scales (digitize's --scale): the automatic choice, or one the user knows better.
INPUT_SCALES = (
    ("auto", "&Automatic (probe the page; look again at tracks that lost their style, or at half scale)"),
    ("0.5", "&Half: high-resolution scan (lines 3 px wide or more)"),
    ("1", "As &scanned (fastest)"),
    ("2", "&Enlarged 2x (thin, broken pens; 4x the time)"),
)


class MainWindow(ModelRunMixin, ProjectMixin, QMainWindow):
    def __init__(self, *, weights: str | None = None, device: str = "auto", autosave_ms: int = AUTOSAVE_MS) -> None:
        super().__init__()
        self.setWindowTitle("VeerDesk")
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        self.prompts = Prompts(self)
        self.weights = weights
        self.device = device
        self.input_scale = "auto"  # digitize's --scale: the Model menu's "Input scale"
        self.doc = Document()
        self.stack = UndoStack(self.doc)
        self.page: Page | None = None
        self.pyramid: ImagePyramid | None = None
        self.project_path: str | None = None
        self.job: JobThread | None = None
        self.loader: ImageLoader | None = None
        self._closing = False
        self.job_kind: str | None = None
        self.job_factory_override: JobFactory | None = None  # tests inject a fake model here
        self._builder: PyramidBuilder | None = None
        self._mask_builder: PyramidBuilder | None = None
        self._mask_cache: tuple[np.ndarray, ImagePyramid] | None = None  # (class map, its pyramid)
        self._preview: np.ndarray | None = None
        self._preview_pyramid: ImagePyramid | None = None
        self._gestures = itertools.count(1)
        self._drag: tuple[str, int, int] | None = None  # (mnemonic, index, gesture)
        self._autosaved_version = -1
        self._version = 0
        self.recent = RecentFiles()

        self.view = PageView()
        self.setCentralWidget(self.view)
        self.layout_panel = LayoutPanel()
        self.review_panel = ReviewPanel()
        self.overlay_panel = OverlayPanel()
        self.history = HistoryView()
        self.minimap = Minimap()
        # Overlays and History share one dock as tabs: a second pair of tabified docks leaves a stray
        # tab bar drawn over the panels in Qt 6.12.
        self.lower_tabs = QTabWidget()
        self.lower_tabs.addTab(self.overlay_panel, "Overlays")
        self.lower_tabs.addTab(self.history, "History")
        self._docks = {}
        for title, widget, area in (
            ("Layout", self.layout_panel, Qt.RightDockWidgetArea),
            ("Review queue", self.review_panel, Qt.RightDockWidgetArea),
            ("Overlays and history", self.lower_tabs, Qt.RightDockWidgetArea),
            ("Overview", self.minimap, Qt.LeftDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(title)
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self._docks[title] = dock
        self.tabifyDockWidget(self._docks["Layout"], self._docks["Review queue"])
        self._docks["Layout"].raise_()
        self.resizeDocks([self._docks["Layout"]], [460], Qt.Horizontal)

        self._build_status_bar()
        self._build_actions()
        self._connect()
        self.history.set_stack(self.stack)
        self.review_panel.set_document(self.doc)
        self.doc.subscribe(self._document_changed)
        self.stack.subscribe(self._stack_changed)

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self._refresh_all()

    # ================================================================= construction
    def _build_status_bar(self) -> None:
        self.position_label = QLabel()
        self.device_label = QLabel("model: not run")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setFormat("%p%")
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_run)
        bar = self.statusBar()
        bar.addWidget(self.position_label, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.device_label)

    def _action(self, text: str, slot, shortcut=None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.open_action = self._action("&Open scan…", self.ask_open_image, QKeySequence.Open)
        self.open_project_action = self._action("Open &project…", self.ask_open_project, "Ctrl+Shift+O")
        self.save_action = self._action("&Save project", self.save, QKeySequence.Save)
        self.save_as_action = self._action("Save project &as…", self.save_as, QKeySequence.SaveAs)
        self.export_action = self._action("&Export LAS…", self.ask_export_las, "Ctrl+E")
        self.load_layout_action = self._action("Load &layout…", self.ask_load_layout)
        self.save_layout_action = self._action("Save la&yout…", self.ask_save_layout)
        self.recent_menu = file_menu.addMenu("Open &recent")
        for a in (self.open_action, self.open_project_action):
            file_menu.addAction(a)
        file_menu.addSeparator()
        for a in (self.save_action, self.save_as_action, self.export_action):
            file_menu.addAction(a)
        file_menu.addSeparator()
        file_menu.addAction(self.load_layout_action)
        file_menu.addAction(self.save_layout_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.Quit))
        self._fill_recent(self.recent.load())

        edit = menu.addMenu("&Edit")
        self.undo_action = self._action("&Undo", self.stack_undo, QKeySequence.Undo)
        self.redo_action = self._action("&Redo", self.stack_redo, "Ctrl+Shift+Z")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addAction(self.undo_action)
        edit.addAction(self.redo_action)

        view = menu.addMenu("&View")
        view.addAction(self._action("Fit &width", self.view.fit_width, "Ctrl+0"))
        view.addAction(self._action("&100%", self.view.zoom_100, "Ctrl+1"))
        view.addAction(self._action("Zoom &in", lambda: self.view.zoom_by(1.25), QKeySequence.ZoomIn))
        view.addAction(self._action("Zoom &out", lambda: self.view.zoom_by(0.8), QKeySequence.ZoomOut))
        view.addSeparator()
        for dock in self._docks.values():
            view.addAction(dock.toggleViewAction())

        model = menu.addMenu("&Model")
        self.run_action = self._action("&Run model", self.run_model, "Ctrl+R")
        self.cancel_action = self._action("&Cancel run", self.cancel_run, "Esc")
        model.addAction(self.run_action)
        model.addAction(self.cancel_action)
        scale_menu = model.addMenu("Input &scale")
        self.scale_group = QActionGroup(self)
        for value, text in INPUT_SCALES:
            action = self._action(text, lambda _=False, v=value: setattr(self, "input_scale", v), checkable=True)
            action.setData(value)
            action.setChecked(value == self.input_scale)
            self.scale_group.addAction(action)
            scale_menu.addAction(action)

        review = menu.addMenu("Re&view")
        review.addAction(self._action("&Next", self.review_panel.go_next, "N"))
        review.addAction(self._action("&Previous", self.review_panel.go_previous, "P"))
        review.addAction(self._action("&Accept", self.review_panel.accept_current, "A"))

        tools = self.addToolBar("Tools")
        tools.setObjectName("Tools")
        tools.addAction(self.open_action)
        tools.addAction(self.save_action)
        tools.addAction(self.run_action)
        tools.addSeparator()
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for tool, text, key in (
            ("navigate", "Pan", "H"), ("tie", "Depth tie", "T"), ("track", "Track bounds", "B"),
            ("redraw", "Redraw", "D"), ("erase", "Erase", "X"), ("move", "Move point", "M"),
            ("swap", "Swap curves", "S"), ("rerun", "Re-run region", "R"),
        ):
            action = self._action(text, lambda checked=False, t=tool: self.set_tool(t), key, checkable=True)
            action.setToolTip(f"{text} ({key})")
            self.tool_group.addAction(action)
            tools.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions["navigate"].setChecked(True)
        tools.addSeparator()
        tools.addWidget(QLabel(" curve "))
        self.curve_combo = QComboBox()
        self.curve_combo.setMinimumWidth(90)
        tools.addWidget(self.curve_combo)
        tools.addWidget(QLabel(" swap with "))
        self.other_combo = QComboBox()
        self.other_combo.setMinimumWidth(90)
        tools.addWidget(self.other_combo)

    def _fill_recent(self, paths: list[str]) -> None:
        self.recent_menu.clear()
        for path in paths:
            self.recent_menu.addAction(path, lambda p=path: self.open_path(p))
        self.recent_menu.setEnabled(bool(paths))

    def _connect(self) -> None:
        self.layout_panel.layout_changed.connect(self._layout_from_panel)
        self.layout_panel.draft_changed.connect(self._draft_changed)
        self.layout_panel.load_requested.connect(self.ask_load_layout)
        self.layout_panel.save_requested.connect(self.ask_save_layout)
        self.review_panel.jump_requested.connect(self.show_review_item)
        self.review_panel.accept_requested.connect(self.accept_review_item)
        self.overlay_panel.changed.connect(self._overlay_style_changed)
        self.view.clicked.connect(self._tie_clicked)
        self.view.span_selected.connect(self._span_selected)
        self.view.stroke_finished.connect(self._stroke_finished)
        self.view.point_drag.connect(self._point_drag)
        self.view.hover.connect(self._hover)
        self.view.view_changed.connect(self._view_moved)
        self.minimap.jump_to.connect(lambda p: (self.view.centerOn(p), self._view_moved()))
        self.curve_combo.currentTextChanged.connect(lambda _: self._refresh_curves())

    # ================================================================= helpers
    def report(self, exc: BaseException | str) -> None:
        """Show an error to the user; the app keeps running."""
        self.prompts.error(str(exc))

    def show_panel(self, name: str) -> None:
        """Bring a panel to the front: 'Layout', 'Review queue', 'Overlays', 'History' or 'Overview'."""
        if name in ("Overlays", "History"):
            self.lower_tabs.setCurrentWidget(self.overlay_panel if name == "Overlays" else self.history)
            name = "Overlays and history"
        self._docks[name].show()
        self._docks[name].raise_()

    def set_tool(self, tool: str) -> None:
        self.view.set_tool(tool)
        self.tool_actions[tool].setChecked(True)

    def push(self, command) -> bool:
        try:
            self.stack.push(command)
        except VeerDeskError as exc:
            self.report(exc)
            return False
        return True

    def stack_undo(self) -> None:
        self.stack.undo()

    def stack_redo(self) -> None:
        self.stack.redo()

    def selected_curve(self) -> str | None:
        text = self.curve_combo.currentText()
        return text or None

    # ================================================================= document → view
    def _stack_changed(self) -> None:
        self._version += 1
        self.undo_action.setEnabled(self.stack.can_undo)
        self.redo_action.setEnabled(self.stack.can_redo)
        self._update_title()

    def _document_changed(self, changes: set[str]) -> None:
        if CHANGE_LAYOUT in changes:
            self.layout_panel.show_layout(self.doc.layout)
            self.view.layout_for_ruler = self.doc.layout
            self._draft_changed(self.doc.layout.to_dict() if self.doc.layout else self.layout_panel.collect())
            self._fill_curve_combos()
        if changes & {CHANGE_LAYOUT, CHANGE_TRACES}:
            self._refresh_curves()
        if changes & {CHANGE_TRACES, CHANGE_REVIEW, CHANGE_LAYOUT}:
            self.review_panel.refresh()
            self._mark_minimap()
        if CHANGE_MASKS in changes:
            self._show_doc_masks()
        self.view.viewport().update()

    def _refresh_all(self) -> None:
        self._document_changed({CHANGE_LAYOUT, CHANGE_TRACES, CHANGE_REVIEW, CHANGE_MASKS})
        self._stack_changed()

    def _update_title(self) -> None:
        name = Path(self.project_path or self.doc.image_path or "untitled").name
        self.setWindowTitle(f"{'*' if self.doc.dirty else ''}{name} — VeerDesk")

    def _fill_curve_combos(self) -> None:
        names = [c.mnemonic for _, _, c in self.doc.layout.curves()] if self.doc.layout else []
        for combo in (self.curve_combo, self.other_combo):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(names)
            if current in names:
                combo.setCurrentText(current)
            combo.blockSignals(False)
        if self.other_combo.count() > 1 and self.other_combo.currentText() == self.curve_combo.currentText():
            self.other_combo.setCurrentIndex(1)

    def _refresh_curves(self) -> None:
        self.view.curves.rebuild(self.doc.layout, self.doc.traces, self.selected_curve())
        self._overlay_visibility()

    def _draft_changed(self, data) -> None:
        if self.page is not None:
            self.view.guides.rebuild(data, self.page.height, self.page.width)

    def _overlay_visibility(self) -> None:
        self.view.curves.set_visibility(self.overlay_panel.show_curves.isChecked(),
                                        self.overlay_panel.show_bands.isChecked())

    def _overlay_style_changed(self) -> None:
        if self.view.mask_item is not None:
            self.view.mask_item.set_colors(self.overlay_panel.colors())
        self._overlay_visibility()

    def _show_doc_masks(self) -> None:
        if self._preview is not None:
            return  # a run is painting its own preview
        masks = self.doc.masks
        if masks is None or self.page is None or masks.class_map.shape != self.pixels_shape():
            self.view.set_mask(None)
            return
        if self._mask_cache is not None and self._mask_cache[0] is masks.class_map:
            pyramid = self._mask_cache[1]
        else:
            self._stop_mask_builder()
            pyramid = ImagePyramid(masks.class_map, "max")
            self._mask_cache = (masks.class_map, pyramid)
            # Coarse levels of a page-sized mask are slow to reduce on demand: build them now, in the background.
            self._mask_builder = PyramidBuilder(pyramid, self)
            self._mask_builder.start()
        self.view.set_mask(TiledArrayItem(pyramid, self.overlay_panel.colors()))

    def _stop_mask_builder(self) -> None:
        if self._mask_builder is not None:
            self._mask_builder.stop()
            self._mask_builder.wait()
            self._mask_builder = None

    def pixels_shape(self) -> tuple[int, int] | None:
        return None if self.page is None else self.page.pixels.shape

    def _mark_minimap(self) -> None:
        """Tick the worst unreviewed stretches on the overview (a few dozen: more would be a red wall)."""
        marks = []
        if self.doc.layout is not None:
            worst = [item for item in self.review_panel.queue.items if not item.reviewed][:MINIMAP_MARKS]
            for item in worst:
                row = float(self.doc.layout.depth.row_at_depth(item.depth_top))
                if np.isfinite(row):
                    marks.append((row, QColor(255, 60, 0, 170)))
        self.minimap.set_marks(marks)

    def _view_moved(self) -> None:
        self.minimap.set_visible_rect(self.view.visible_scene_rect())

    def _hover(self, pos: QPointF) -> None:
        text = f"x {pos.x():.0f}  y {pos.y():.0f}"
        if self.doc.layout is not None:
            depth = float(self.doc.layout.depth.depth_at_row(pos.y()))
            if np.isfinite(depth):
                text += f"   depth {depth:.2f} {self.doc.layout.depth.unit}"
            for i, track in enumerate(self.doc.layout.tracks):
                if track.x0 <= pos.x() <= track.x1 and track.curves:
                    c = track.curves[0]
                    text += f"   T{i + 1} {c.mnemonic} {float(track.value_at_column(pos.x(), c.scale)):.4g} {c.unit}"
        self.position_label.setText(text)

    # ================================================================= opening
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            event.acceptProposedAction()
            self.open_path(urls[0])

    def open_path(self, path: str, *, wait: bool = False) -> bool:
        if path.lower().endswith(projects.PROJECT_SUFFIX):
            return self.open_project(path)
        return self.open_image(path, wait=wait)

    def ask_open_image(self) -> None:
        path = self.prompts.open_path("Open scan", IMAGE_FILTER)
        if path:
            self.open_image(path, wait=False)

    def ask_open_project(self) -> None:
        path = self.prompts.open_path("Open project", PROJECT_FILTER)
        if path:
            self.open_project(path)

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.doc.dirty:
            return True
        answer = self.prompts.save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    def open_image(self, path: str, layout: Layout | None = None, *, wait: bool = True) -> bool:
        """Open a scan. With ``wait=False`` (menu, drag-and-drop, recent files) it is decoded in a
        background thread so the window stays responsive on gigapixel scans; returns whether it started."""
        if self.job is not None:
            self.report("wait for the model run to finish (or cancel it) before opening another sheet")
            return False
        if self.loader is not None or not self.maybe_save():
            return False
        if wait:
            try:
                page = load_page(path)
            except Exception as exc:  # noqa: BLE001 - any failure to read a file is reported, never fatal
                self.report(describe_failure(exc, f"open {Path(path).name}"))
                return False
            self._image_loaded(path, layout, page)
            return True
        self.loader = ImageLoader(path, self)
        self.loader.loaded.connect(lambda page: self._image_loaded(path, layout, page))
        self.loader.failed.connect(self.report)
        self.loader.finished.connect(self._loader_ended)
        self.statusBar().showMessage(f"opening {Path(path).name}…")
        self.loader.start()
        return True

    def _image_loaded(self, path: str, layout: Layout | None, page: Page) -> None:
        if self._closing:
            return
        keep = self.doc.layout if self.layout_panel.keep_for_next.isChecked() else None
        self._set_document(Document(image_path=str(Path(path).absolute()), layout=layout or keep), page)
        self.project_path = None
        self._fill_recent(self.recent.add(path))
        self._update_title()
        self.statusBar().showMessage(f"opened {Path(path).name} ({page.width} × {page.height} px)", 5000)

    def _loader_ended(self) -> None:
        if self.loader is not None:
            self.loader.wait()
            self.loader.deleteLater()
        self.loader = None

    def open_project(self, path: str) -> bool:
        if self.job is not None or not self.maybe_save():
            return False
        try:
            data = projects.load_project(path)
        except Exception as exc:  # noqa: BLE001
            self.report(describe_failure(exc, f"open project {Path(path).name}"))
            return False
        if not self._adopt(data):
            return False
        self.project_path = str(Path(path).absolute())
        self._fill_recent(self.recent.add(path))
        self._update_title()
        return True

    def _adopt(self, data: projects.ProjectData, *, dirty: bool = False) -> bool:
        page = None
        if data.document.image_path:
            try:
                page = load_page(data.document.image_path)
            except Exception as exc:  # noqa: BLE001
                self.report(describe_failure(exc, "open the scan") + " (the project opens without its scan)")
        threshold = data.settings.get("review_threshold")
        if isinstance(threshold, (int, float)):
            self.review_panel.threshold.setValue(float(threshold))
        self._set_document(data.document, page)
        if dirty:
            self.stack._clean = None  # recovered work has never been saved
            self.doc.dirty = True
            self._update_title()
        return True

    def _set_document(self, doc: Document, page: Page | None) -> None:
        self._stop_builder()
        self._stop_mask_builder()
        self._mask_cache = None
        self.doc.unsubscribe(self._document_changed)
        self.doc = doc
        self.stack = UndoStack(doc)
        self.stack.subscribe(self._stack_changed)
        self.history.set_stack(self.stack)
        self.doc.subscribe(self._document_changed)
        self.review_panel.set_document(doc)
        self.page = page
        self.pyramid = None
        self.view.set_mask(None)
        if page is not None:
            self.pyramid = ImagePyramid(page.pixels, "area")
            self.view.set_page(self.pyramid)
            self._builder = PyramidBuilder(self.pyramid, self)
            self._builder.level_built.connect(self._level_built)
            self._builder.start()
            self.minimap.set_pyramid(self.pyramid)
        self._autosaved_version = -1
        self._refresh_all()
        if page is not None:
            self.fit_page_top()
            self._fit_pending = not self.isVisible()

    def fit_page_top(self) -> None:
        self.view.fit_width()
        self.view.show_top()
        self._view_moved()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if getattr(self, "_fit_pending", False):
            self._fit_pending = False
            # After the first layout pass the viewport has its real size.
            QTimer.singleShot(0, self.fit_page_top)

    def _level_built(self, level: int) -> None:
        if self.pyramid is not None and level == self.pyramid.levels - 1:
            self.minimap.set_pyramid(self.pyramid)

    def _stop_builder(self) -> None:
        if self._builder is not None:
            self._builder.stop()
            self._builder.wait()
            self._builder = None

    # ================================================================= layout
    def _layout_from_panel(self, layout: Layout, description: str) -> None:
        if self.doc.layout is not None and layout.to_dict() == self.doc.layout.to_dict():
            return
        self.push(SetLayout(layout, description))

    def ask_load_layout(self) -> None:
        path = self.prompts.open_path("Load layout", LAYOUT_FILTER)
        if path:
            self.load_layout(path)

    def load_layout(self, path: str) -> bool:
        try:
            layout = load_layout(path)
        except Exception as exc:  # noqa: BLE001
            self.report(describe_failure(exc, f"load layout {Path(path).name}"))
            return False
        return self.push(SetLayout(layout, f"Load layout {Path(path).name}"))

    def ask_save_layout(self) -> None:
        if self.doc.layout is None:
            self.report("there is no valid layout to save yet; see the message in the layout panel")
            return
        path = self.prompts.save_path("Save layout", LAYOUT_FILTER, "layout.json")
        if path:
            try:
                save_layout(self.doc.layout, path)
            except Exception as exc:  # noqa: BLE001
                self.report(describe_failure(exc, f"save layout {Path(path).name}"))

    def _tie_clicked(self, pos: QPointF) -> None:
        suggestion = 0.0
        if self.doc.layout is not None:
            d = float(self.doc.layout.depth.depth_at_row(pos.y()))
            suggestion = round(d, 1) if np.isfinite(d) else 0.0
        depth = self.prompts.depth(pos.y(), suggestion)
        if depth is not None:
            self.layout_panel.add_tie(pos.y(), depth)

    # ================================================================= corrections
    def _depths_for_rows(self, a: float, b: float) -> tuple[float, float] | None:
        if self.doc.layout is None:
            self.report("set up the depth ties first: corrections work in depth")
            return None
        lo, hi = self.doc.layout.depth.row_range()
        rows = np.clip(np.array([a, b]), lo, hi)
        d = self.doc.layout.depth.depth_at_row(rows)
        return float(d[0]), float(d[1])

    def _need_curve(self, name: str | None) -> bool:
        if name is None or name not in self.doc.traces:
            self.report("choose a traced curve in the toolbar first (run the model to trace curves)")
            return False
        return True

    def _span_selected(self, tool: str, a: float, b: float) -> None:
        if tool == "track":
            self._track_drag(a, b)
            return
        if tool == "rerun":
            self.rerun_region(a, b)
            return
        depths = self._depths_for_rows(a, b)
        name = self.selected_curve()
        if depths is None or not self._need_curve(name):
            return
        if tool == "erase":
            self.push(EraseRange(name, *depths))
        elif tool == "swap":
            other = self.other_combo.currentText()
            if not other or other == name or other not in self.doc.traces:
                self.report("choose a different curve in 'swap with'")
                return
            self.push(SwapCurves(name, other, *depths))

    def _track_drag(self, a: float, b: float) -> None:
        """A drag that starts on a track edge moves that edge; any other drag spans the selected (or a new) track."""
        if abs(b - a) < 2:
            return
        tracks = self.layout_panel.collect().get("tracks") or []
        tolerance = PICK_RADIUS_PX / max(self.view.scale_factor, 1e-9)
        best = None
        for index, track in enumerate(tracks):
            for side in ("x0", "x1"):
                edge = track.get(side)
                if isinstance(edge, (int, float)) and abs(edge - a) <= tolerance:
                    if best is None or abs(edge - a) < best[0]:
                        best = (abs(edge - a), index, side)
        if best is None:
            self.layout_panel.set_track_bounds(a, b)
            return
        _, index, side = best
        x0, x1 = tracks[index]["x0"], tracks[index]["x1"]
        x0, x1 = (b, x1) if side == "x0" else (x0, b)
        self.layout_panel.set_track_bounds(x0, x1, index=index)

    def _stroke_finished(self, points: list[QPointF]) -> None:
        name = self.selected_curve()
        if self.doc.layout is None or not self._need_curve(name):
            return
        _, track, curve = self.doc.layout.curve(name)
        ys = np.array([p.y() for p in points])
        xs = np.array([p.x() for p in points])
        depths = self.doc.layout.depth.depth_at_row(ys)
        values = value_at_column(track, curve, xs)
        self.push(RedrawStretch(name, depths, values))

    def _point_drag(self, phase: str, pos: QPointF) -> None:
        name = self.selected_curve()
        if self.doc.layout is None or name not in self.doc.traces:
            return
        if phase == "press":
            x, y = trace_points(self.doc.layout, self.doc.traces[name])
            dist = np.hypot(x - pos.x(), y - pos.y())
            if not np.isfinite(dist).any():
                return
            i = int(np.nanargmin(dist))
            if dist[i] * self.view.scale_factor > PICK_RADIUS_PX:
                return
            self._drag = (name, i, next(self._gestures))
            self._drag_moved = False
        elif self._drag is not None:
            mnemonic, index, gesture = self._drag
            if phase == "release":
                self._drag = None
                if not self._drag_moved:
                    return  # a click without a drag changes nothing
            self._drag_moved = True
            _, track, curve = self.doc.layout.curve(mnemonic)
            value = float(value_at_column(track, curve, np.array([pos.x()]))[0])
            self.push(MovePoint(mnemonic, index, value, gesture=gesture))

    # ================================================================= review
    def show_review_item(self, item) -> None:
        if self.doc.layout is None:
            return
        rows = self.doc.layout.depth.row_at_depth(np.array([item.depth_top, item.depth_bottom]))
        if not np.isfinite(rows).all():
            return
        _, track, _ = self.doc.layout.curve(item.mnemonic)
        top, bottom = float(rows.min()), float(rows.max())
        pad = max(8.0, (bottom - top) * 0.1)
        rect = QRectF(track.x0, top - pad, track.x1 - track.x0, bottom - top + 2 * pad)
        self.view.highlight.show_rect(rect)
        if self.curve_combo.findText(item.mnemonic) >= 0:
            self.curve_combo.setCurrentText(item.mnemonic)
        self.view.center_on_rect(rect)

    def accept_review_item(self, item) -> None:
        if self.push(AcceptReview(item.mnemonic, item.i0, item.i1)):
            self.review_panel.go_next_unreviewed()

    # ================================================================= closing
    def shutdown(self) -> None:
        """Stop background threads (cancel a run, stop the pyramid) and wait for them."""
        self.autosave_timer.stop()
        self._closing = True
        if self.loader is not None:
            self.loader.wait()  # decoding cannot be interrupted; its result is ignored (see _image_loaded)
            self._loader_ended()
        if self.job is not None:
            self.job.cancel()
            self.job.wait()
            self._job_thread_ended()
        self._stop_builder()
        self._stop_mask_builder()

    def closeEvent(self, event) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.shutdown()
        projects.discard_recovery()
        event.accept()

