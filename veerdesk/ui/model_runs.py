"""The main window's model runs: start a job in the worker thread, paint its tiles, apply or discard the result.

A mixin of :class:`veerdesk.ui.main_window.MainWindow` (kept apart to keep that file readable); it uses the
window's document, stack, view and status-bar widgets.
"""

from __future__ import annotations

from veerdesk.core.commands import ApplyRerun, SetTraces
from veerdesk.core.errors import VeerDeskError
from veerdesk.ui.model_job import JobFactory, JobResult, JobTile, model_run
from veerdesk.ui.pyramid import ImagePyramid
from veerdesk.ui.tiles import TiledArrayItem
from veerdesk.ui.worker import JobThread


class ModelRunMixin:
    def _job_factory(self, rows: tuple[int, int] | None = None) -> JobFactory:
        if self.job_factory_override is not None:
            return self.job_factory_override(self, rows)
        return model_run(self.page.pixels, self.doc.layout, weights=self.weights, device=self.device, rows=rows,
                         scale=self.input_scale)

    def run_model(self) -> bool:
        return self._start_job("run", None)

    def rerun_region(self, a: float, b: float) -> bool:
        if abs(b - a) < 2:
            return False
        return self._start_job("rerun", (int(min(a, b)), int(max(a, b))))

    def _start_job(self, kind: str, rows: tuple[int, int] | None) -> bool:
        if self.job is not None:
            return False
        if self.page is None:
            self.report("open a scan before running the model")
            return False
        if self.doc.layout is None:
            self.report("the layout is not valid yet; the model needs depth ties and tracks (see the layout panel)")
            return False
        if kind == "rerun" and not self.doc.traces:
            self.report("run the model on the whole sheet before re-running a region")
            return False
        try:
            factory = self._job_factory(rows)
        except VeerDeskError as exc:
            self.report(exc)
            return False
        self.job_kind = kind
        self._rerun_rows = rows
        if kind == "run":
            self._preview_pyramid = ImagePyramid.zeros(self.page.pixels.shape, "max")
            self._preview = self._preview_pyramid.base
            self.view.set_mask(TiledArrayItem(self._preview_pyramid, self.overlay_panel.colors()))
        self.job = JobThread(factory, self)
        self.job.progress.connect(self._job_progress)
        self.job.device.connect(lambda text: self.device_label.setText(f"model on {text}"))
        self.job.tile.connect(self._job_tile)
        self.job.finished_result.connect(self._job_done)
        self.job.failed.connect(self._job_failed)
        self.job.cancelled.connect(self._job_cancelled)
        self.job.finished.connect(self._job_thread_ended)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.run_action.setEnabled(False)
        self.statusBar().showMessage("running the model…")
        self.job.start()
        return True

    def cancel_run(self) -> None:
        self.view.cancel_gesture()  # Esc also abandons a half-drawn stroke or span
        if self.job is not None:
            self.job.cancel()
            self.statusBar().showMessage("cancelling…")

    def _job_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.statusBar().showMessage(text)

    def _job_tile(self, tile: JobTile) -> None:
        if self._preview is None:
            return
        y0, x0, y1, x1 = tile.rect
        self._preview[y0:y1, x0:x1] = tile.classes
        self._preview_pyramid.update_region(y0, x0, y1, x1)
        if self.view.mask_item is not None:
            self.view.mask_item.invalidate(tile.rect)

    def _job_done(self, result: JobResult) -> None:
        if result.masks is not None and self._preview_pyramid is not None \
                and result.masks.class_map.shape == self._preview.shape:
            # The preview already holds every tile: keep its reduced levels for the final masks.
            self._preview_pyramid.rebase(result.masks.class_map)
            self._mask_cache = (result.masks.class_map, self._preview_pyramid)
        self._preview = None
        self._preview_pyramid = None
        if self.job_kind == "rerun":
            rows = self._rerun_rows
            depths = self._depths_for_rows(*rows)
            if depths is not None:
                self.push(ApplyRerun(depths[0], depths[1], result.traces))
        else:
            self.push(SetTraces(result.traces, "Run model", result.masks))
        self._show_doc_masks()
        scale = f" · scale {result.scale}" if result.scale else ""
        self.device_label.setText(f"model on {result.device}{scale} · {result.seconds:.1f} s")
        if result.gap and result.gap.get("score") is not None:
            self.device_label.setText(f"{self.device_label.text()} · reality gap {result.gap['score']:.2f} "
                                      f"({result.gap['level']})")
        # Warnings stay on the label (count, full text as its tooltip) instead of a dialog after every run.
        self.device_label.setToolTip("\n".join(result.warnings))
        if result.warnings:
            self.device_label.setText(f"{self.device_label.text()} · {len(result.warnings)} warning"
                                      f"{'s' if len(result.warnings) > 1 else ''}")
            self.statusBar().showMessage(f"model run finished: {result.warnings[0]}", 15000)
        else:
            self.statusBar().showMessage("model run finished", 5000)

    def _job_failed(self, message: str) -> None:
        self._end_preview()
        self.statusBar().showMessage("model run failed", 5000)
        self.report(message)

    def _job_cancelled(self) -> None:
        self._end_preview()
        self.statusBar().showMessage("model run cancelled; nothing was changed", 5000)

    def _end_preview(self) -> None:
        self._preview = None
        self._preview_pyramid = None
        self._show_doc_masks()

    def _job_thread_ended(self) -> None:
        if self.job is not None:
            self.job.wait()
            self.job.deleteLater()
        self.job = None
        self.job_kind = None
        self.progress.hide()
        self.cancel_button.hide()
        self.run_action.setEnabled(True)
