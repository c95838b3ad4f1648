"""Model-run stand-ins for the app tests: deterministic results, a job that waits to be cancelled, one that fails."""

from __future__ import annotations

import threading

import numpy as np

from veerdesk.core.curves import CurveTrace
from veerdesk.core.document import SegmentationMasks
from veerdesk.core.errors import CancelledError, ModelError
from veerdesk.ui.model_job import JobDevice, JobProgress, JobResult, JobTile

WEAK_GR = (1010.0, 1012.0)  # the worst stretch
WEAK_ILD = (1050.0, 1060.0)


def fake_traces(layout, pixels, seed: int = 0) -> dict[str, CurveTrace]:
    grid = layout.depth_grid()
    out = {}
    for k, (_, _, curve) in enumerate(layout.curves()):
        lo, hi = sorted((curve.left, curve.right))
        value = lo + (hi - lo) * (0.5 + 0.3 * np.sin(grid / (7.0 + k)))
        conf = np.full(grid.size, 0.9, np.float32)
        if curve.mnemonic == "GR":
            conf[(grid >= WEAK_GR[0]) & (grid <= WEAK_GR[1])] = 0.1
        if curve.mnemonic == "ILD":
            conf[(grid >= WEAK_ILD[0]) & (grid <= WEAK_ILD[1])] = 0.3
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
