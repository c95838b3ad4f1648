"""Runs a job generator in a QThread; its events arrive in the GUI thread as signals.

Cancelling sets a flag the job polls between tiles; a cancelled or failed job emits ``cancelled`` or
``failed`` and never ``finished``, so the document is only touched by a complete result.
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from veerdesk.core.errors import CancelledError, VeerDeskError
from veerdesk.ui.model_job import JobDevice, JobFactory, JobProgress, JobResult, JobTile
from veerdesk.ui.pyramid import ImagePyramid


class JobThread(QThread):
    progress = Signal(int, int, str)
    device = Signal(str)
    tile = Signal(object)  # JobTile
    finished_result = Signal(object)  # JobResult
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, factory: JobFactory, parent=None) -> None:
        super().__init__(parent)
        self._factory = factory
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        try:
            result = None
            for event in self._factory(self._cancel.is_set):
                if isinstance(event, JobProgress):
                    self.progress.emit(event.done, event.total, event.text)
                elif isinstance(event, JobDevice):
                    self.device.emit(event.text)
                elif isinstance(event, JobTile):
                    self.tile.emit(event)
                elif isinstance(event, JobResult):
                    result = event
            if self._cancel.is_set():
                self.cancelled.emit()
            elif result is None:
                self.failed.emit("the model run ended without a result")
            else:
                self.finished_result.emit(result)
        except CancelledError:
            self.cancelled.emit()
        except VeerDeskError as exc:
            self.failed.emit(str(exc))
        except MemoryError:
            self.failed.emit("not enough memory to run the model on this sheet")
        except Exception as exc:  # noqa: BLE001 - a worker must report, never die silently
            traceback.print_exc()
            self.failed.emit(f"unexpected error while running the model: {type(exc).__name__}: {exc}")


class PyramidBuilder(QThread):
    """Builds the reduced levels of a pyramid in the background."""

    level_built = Signal(int)

    def __init__(self, pyramid: ImagePyramid, parent=None) -> None:
        super().__init__(parent)
        self.pyramid = pyramid
        self._stop = False

    def stop(self) -> None:
        self._stop = True

    def run(self) -> None:
        self.pyramid.build(cancel=lambda: self._stop, on_level=self.level_built.emit)


class ImageLoader(QThread):
    """Decodes a scan off the GUI thread (a 600-MP page takes seconds)."""

    loaded = Signal(object)  # veerdesk.core.image.Page
    failed = Signal(str)

    def __init__(self, path: str, parent=None) -> None:
        super().__init__(parent)
        self.path = path

    def run(self) -> None:
        from veerdesk.core.image import load_page
        from veerdesk.ui.prompts import describe_failure

        try:
            self.loaded.emit(load_page(self.path))
        except Exception as exc:  # noqa: BLE001 - a worker reports, never dies silently
            self.failed.emit(describe_failure(exc, f"open {Path(self.path).name}"))
