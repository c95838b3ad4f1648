"""The main window's file work: export LAS, save projects, autosave to the recovery file, offer recovery.

A mixin of :class:`veerdesk.ui.main_window.MainWindow`; every write goes through ``veerdesk.core`` (atomic).
"""

from __future__ import annotations

import time
from pathlib import Path

from veerdesk.core import project as projects
from veerdesk.core.atomic import refuse_overwriting_inputs
from veerdesk.core.errors import VeerDeskError
from veerdesk.ui.prompts import LAS_FILTER, PROJECT_FILTER, describe_failure

# Masks of bigger sheets are left out of the project: encoding them would freeze the window for seconds,
# and a re-run recomputes them. Traces, edits and review state (the user's work) are always saved.
MAX_MASK_PIXELS_IN_PROJECT = 50_000_000


class ProjectMixin:
    def ask_export_las(self) -> None:
        if self.doc.layout is None or not self.doc.traces:
            self.report("nothing to export yet: set the layout and run the model first")
            return
        stem = Path(self.doc.image_path or "sheet").stem
        path = self.prompts.save_path("Export LAS", LAS_FILTER, f"{stem}.las")
        if path:
            self.export_las(path)

    def export_las(self, path: str) -> bool:
        try:
            from veerdesk.export import write_las
        except ImportError:  # pragma: no cover - until the exporter lands
            from veerdesk.export.las import write_las
        try:
            # The file dialog asks before replacing a file, but not whether that file is the scan itself.
            refuse_overwriting_inputs(path, {"scan": self.doc.image_path, "project": self.project_path}, "LAS export")
            write_las(path, self.doc.layout, self.doc.traces)
        except Exception as exc:  # noqa: BLE001 - reported, never fatal
            self.report(describe_failure(exc, f"export {Path(path).name}"))
            return False
        self.statusBar().showMessage(f"exported {path}", 5000)
        return True

    def _settings(self) -> dict:
        return {"review_threshold": self.review_panel.threshold.value()}

    def _edit_log(self) -> list[dict]:
        return [c.to_dict() for c in self.stack.done_commands()]

    def save(self) -> bool:
        if self.project_path is None:
            return self.save_as()
        return self.save_project(self.project_path)

    def save_as(self) -> bool:
        stem = Path(self.doc.image_path or "sheet").stem
        path = self.prompts.save_path("Save project", PROJECT_FILTER, f"{stem}{projects.PROJECT_SUFFIX}")
        if not path:
            return False
        if not path.endswith(projects.PROJECT_SUFFIX):
            path += projects.PROJECT_SUFFIX
        return self.save_project(path)

    def save_project(self, path: str) -> bool:
        try:
            masks = self.doc.masks
            include_masks = masks is not None and masks.class_map.size <= MAX_MASK_PIXELS_IN_PROJECT
            projects.save_project(path, self.doc, edit_log=self._edit_log(), settings=self._settings(),
                                  include_masks=include_masks)
        except Exception as exc:  # noqa: BLE001
            self.report(describe_failure(exc, f"save {Path(path).name}"))
            return False
        self.project_path = str(Path(path).absolute())
        self.stack.set_clean()
        projects.discard_recovery()
        self._fill_recent(self.recent.add(path))
        self._update_title()
        self.statusBar().showMessage(f"saved {path}", 5000)
        return True

    # ================================================================= autosave and recovery
    def autosave(self) -> bool:
        """Write the recovery file when something changed since the last one."""
        if not self.doc.dirty or self._version == self._autosaved_version:
            return False
        try:
            projects.write_recovery(self.doc, edit_log=self._edit_log(), settings=self._settings(),
                                    project_path=self.project_path)
        except VeerDeskError as exc:
            self.statusBar().showMessage(f"autosave failed: {exc}", 10000)
            return False
        self._autosaved_version = self._version
        return True

    def offer_recovery(self) -> bool:
        """On start: offer the newest recovery file left by a crashed session."""
        projects.remove_partial_recoveries()
        found = projects.find_recoveries()
        if not found:
            return False
        newest = found[0]
        try:
            data = projects.adopt_recovery(newest)
        except VeerDeskError as exc:
            self.report(f"a recovery file could not be read and was removed: {exc}")
            projects.remove_recovery_file(newest)
            return False
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(newest.modified))
        what = Path(data.project_path or data.document.image_path or "untitled sheet").name
        if not self.prompts.recover(f"{what}, autosaved {when}"):
            for r in found:
                projects.remove_recovery_file(r)
            return False
        self._adopt(data, dirty=True)
        self.project_path = data.project_path
        for r in found:
            projects.remove_recovery_file(r)
        self.autosave()  # our own recovery file now carries the work
        self._update_title()
        return True
