"""Model-run stand-ins for the app tests: deterministic results, a job that waits to be cancelled, one that fails."""

from __future__ import annotations

import threading
import time

import numpy as np

from veerdesk.core.curves import CurveTrace
from veerdesk.core.document import SegmentationMasks
from veerdesk.core.errors import CancelledError, ModelError
from veerdesk.ui.model_job import JobDevice, JobProgress, JobResult, JobTile

WEAK_GR = (1010.0, 1012.0)  # the worst stretch
WEAK_ILD = (1050.0, 1060.0)


def fake_traces(layout, pixels, seed: int = 0) -> dict[str, CurveTrace]:
    """Sine traces; the first curve is very weak over 10–12 % of the depth range, the last one weak over
    50–60 % (on the test sheet, 1000–1100 ft: GR 1010–1012 and ILD 1050–1060)."""
    grid = layout.depth_grid()
    lo_d, hi_d = float(grid[0]), float(grid[-1])
    at = lambda f: lo_d + f * (hi_d - lo_d)  # noqa: E731
    curves = layout.curves()
    out = {}
    for k, (_, _, curve) in enumerate(curves):
        lo, hi = sorted((curve.left, curve.right))
        value = lo + (hi - lo) * (0.5 + 0.3 * np.sin(grid / (7.0 + k)))
        conf = np.full(grid.size, 0.9, np.float32)
        if k == 0:
            conf[(grid >= at(0.10)) & (grid <= at(0.12))] = 0.1
        if k == len(curves) - 1:
            conf[(grid >= at(0.50)) & (grid <= at(0.60))] = 0.3
        out[curve.mnemonic] = CurveTrace(curve.mnemonic, grid, value, conf)
    return out


def deterministic_job(window, rows):
    pixels, layout = window.page.pixels, window.doc.layout

    def job(cancel):
        yield JobDevice("fake cpu")
        classes = (pixels < 100).astype(np.uint8)
        h = pixels.shape[0]
        bands = [(0, h // 2), (h // 2, h)]
        for i, (y0, y1) in enumerate(bands, start=1):
            yield JobTile((y0, 0, y1, pixels.shape[1]), classes[y0:y1])
            yield JobProgress(i, len(bands), f"tile {i}")
        yield JobResult(fake_traces(layout, pixels), SegmentationMasks(classes, np.full(pixels.shape, 200, np.uint8)),
                        "fake cpu", 0.01, rows)

    return job


class BlockingJob:
    """Yields one tile, then waits until the test cancels it."""

    def __init__(self) -> None:
        self.started = threading.Event()

    def __call__(self, window, rows):
        pixels = window.page.pixels

        def job(cancel):
            yield JobTile((0, 0, 100, pixels.shape[1]), np.ones((100, pixels.shape[1]), np.uint8))
            self.started.set()
            while not cancel():
                threading.Event().wait(0.005)
            raise CancelledError("cancelled")

        return job


def failing_job(window, rows):
    def job(cancel):
        yield JobProgress(0, 1, "loading")
        raise ModelError("model weights /nowhere.safetensors not found")

    return job


class GatedJob:
    """Runs another job factory but stops after its ``k``-th event (k = 0: before the first) until cancelled.

    The inner job then goes on, so its own cancel checks (or, once it has yielded its result, the worker's)
    decide what happens: a test can cancel a run at every point it passes.
    """

    def __init__(self, inner, k: int) -> None:
        self.inner = inner
        self.k = k
        self.holding = threading.Event()

    def _hold(self, cancel) -> None:
        self.holding.set()
        deadline = time.monotonic() + 60
        while not cancel():
            if time.monotonic() > deadline:
                raise ModelError("GatedJob: the test never cancelled")
            threading.Event().wait(0.005)

    def __call__(self, window, rows):
        inner = self.inner(window, rows)

        def job(cancel):
            if self.k == 0:
                self._hold(cancel)
            for n, event in enumerate(inner(cancel), start=1):
                yield event
                if n == self.k:
                    self._hold(cancel)

        return job
