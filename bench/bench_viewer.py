"""Viewer smoothness on a 3,000 × 100,000 px scan: time to first view, and frame times of a scripted pan.

Writes a 1-bit CCITT G4 TIFF of the given size (grid + wiggly curves), opens it in the real main window
(offscreen unless a display is set) and measures:

- time to first view: ``open_image`` (decode included) until the first frame has been painted, plus the
  decode alone and the background pyramid build for reference;
- per-frame time of a scripted pan (scroll step + synchronous repaint of the viewport, converting any
  tiles that scroll into view) at three zooms: fit width, 100 % and overview (about 12 screens per page);
- the same pans with level-of-detail switched off (always level 0 tiles, the naive tiled viewer) as the
  baseline, and the ratio.

Usage::

    python bench/bench_viewer.py [--width 3000] [--height 100000] [--frames 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_scan(path: Path, width: int, height: int) -> None:
    from PIL import Image

    page = np.full((height, width), 255, np.uint8)
    page[:, ::120] = 0
    page[::50, :] = 0
    rows = np.arange(height)
    for k in range(4):
        x = (width * (0.2 + 0.2 * k) + 150 * np.sin(rows / (300 + 70 * k))).astype(int)
        for dx in range(2):
            page[rows, np.clip(x + dx, 0, width - 1)] = 0
    Image.fromarray(page).convert("1").save(path, compression="group4", dpi=(200, 200))


def add_traces(window, width: int, height: int) -> None:
    """A layout over the bench scan and four sine traces on its depth grid, applied as a model run."""
    from veerdesk.core.commands import SetLayout, SetTraces
    from veerdesk.core.curves import CurveTrace
    from veerdesk.core.layout import Layout

    tracks = []
    for k in range(4):
        x0 = width * (0.05 + 0.2 * k)
        tracks.append({"x0": x0, "x1": x0 + width * 0.18, "scale": "linear",
                       "curves": [{"mnemonic": f"C{k}", "unit": "", "left": 0, "right": 100, "style": "solid"}]})
    layout = Layout.from_dict({"version": 1, "depth": {"unit": "FT", "ties": [[0, 0], [height, height / 10]],
                                                       "step": 0.2}, "tracks": tracks})
    window.stack.push(SetLayout(layout))
    grid = layout.depth_grid()
    traces = {f"C{k}": CurveTrace(f"C{k}", grid, 50 + 40 * np.sin(grid / (3 + k)),
                                  np.clip(0.5 + 0.5 * np.sin(grid / 50.0), 0, 1))
              for k in range(4)}
    window.stack.push(SetTraces(traces))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def pan_frames(window, frames: int, step_fraction: float, cpu: list[float] | None = None) -> list[float]:
    """Scroll down ``frames`` times by ``step_fraction`` of the viewport; each frame's wall-clock ms.

    ``cpu`` (optional) receives each frame's CPU ms in this thread: on a shared, busy machine it shows
    the frame's own cost without the time spent waiting for a core.
    """
    from PySide6.QtWidgets import QApplication

    view = window.view
    viewport = view.viewport()
    step = viewport.height() * step_fraction
    times = []
    for _ in range(frames):
        t0, c0 = time.perf_counter(), time.thread_time()
        view.pan_by(0, step)
        viewport.repaint()  # paint now, synchronously
        times.append((time.perf_counter() - t0) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - c0) * 1000)
        QApplication.processEvents()
        if view.verticalScrollBar().value() >= view.verticalScrollBar().maximum():
            view.show_top()
    return times


def measure(window, frames: int) -> dict:
    cpu: list[float] = []
    times = pan_frames(window, frames, 0.25, cpu)
    return {"median_ms": statistics.median(times), "p95_ms": percentile(times, 95), "max_ms": max(times),
            "cpu_median_ms": statistics.median(cpu), "cpu_p95_ms": percentile(cpu, 95), "frames": frames,
            "scale": window.view.scale_factor}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=3000)
    parser.add_argument("--height", type=int, default=100_000)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    from veerdesk.core.image import load_page
    from veerdesk.ui.main_window import MainWindow
    from veerdesk.ui.prompts import ScriptedPrompts

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VEERDESK_STATE_DIR"] = str(Path(tmp) / "state")
        scan = Path(tmp) / "scan.tif"
        make_scan(scan, args.width, args.height)
        load_page(scan)  # warm the file cache so both runs below read from memory

        import veerdesk.ui.main_window as main_window

        decode_times = []

        def timed_load(*a, **k):
            t = time.perf_counter()
            page = load_page(*a, **k)
            decode_times.append(time.perf_counter() - t)
            return page

        main_window.load_page = timed_load

        app = QApplication.instance() or QApplication(sys.argv[:1])
        window = MainWindow()
        window.prompts = ScriptedPrompts()
        window.resize(1600, 1000)
        window.show()
        app.processEvents()

        t0 = time.perf_counter()
        window.open_image(str(scan))
        window.view.viewport().repaint()
        first_view_s = time.perf_counter() - t0
        decode_s = decode_times[0]
        t0 = time.perf_counter()
        window._builder.wait()
        pyramid_s = time.perf_counter() - t0 + 0.0  # remaining build time after the first view
        app.processEvents()

        item = window.view.page_item
        results = {}
        zooms = {
            "fit width": lambda: window.view.fit_width(),
            "100%": lambda: window.view.zoom_100(),
            "overview": lambda: window.view.set_scale(window.view.viewport().height() * 12 / args.height),
        }
        for name, zoom in zooms.items():
            for mode, max_level in (("pyramid", None), ("level 0 only", 0)):
                if name == "100%" and mode != "pyramid":
                    continue  # identical at 100 %
                item.max_level = max_level
                item.invalidate()
                zoom()
                window.view.show_top()
                frames = args.frames if mode == "pyramid" else max(10, args.frames // 10)
                results[f"{name} / {mode}"] = measure(window, frames)
        item.max_level = None

        # After a model run: four traced curves (one sample every 2 rows) with confidence bands on top.
        add_traces(window, args.width, args.height)
        for name, zoom in (("fit width", zooms["fit width"]), ("100%", zooms["100%"])):
            zoom()
            window.view.show_top()
            results[f"{name} / pyramid + 4 curves"] = measure(window, args.frames)
        window.doc.dirty = False
        window.close()

    print(f"scan {args.width} x {args.height} px (1-bit G4 TIFF), platform {QApplication.platformName()}")
    print(f"time to first view      {first_view_s:8.3f} s   (open_image incl. decode → first frame painted)")
    print(f"  of which decode       {decode_s:8.3f} s   (veerdesk.core.image.load_page)")
    print(f"  of which viewer       {first_view_s - decode_s:8.3f} s   (pyramid set-up, fit width, first paint)")
    print(f"rest of pyramid build   {pyramid_s:8.3f} s   (background thread, after the first view)")
    print(f"{'pan (wall clock; CPU of the GUI thread)':34} {'median ms':>10} {'p95 ms':>9} {'max ms':>9}"
          f" {'cpu med':>9} {'cpu p95':>9} {'frames':>7}")
    for name, r in results.items():
        print(f"{name:34} {r['median_ms']:10.2f} {r['p95_ms']:9.2f} {r['max_ms']:9.2f} {r['cpu_median_ms']:9.2f}"
              f" {r['cpu_p95_ms']:9.2f} {r['frames']:7d}")
    for zoom in ("fit width", "overview"):
        base, ours = results[f"{zoom} / level 0 only"], results[f"{zoom} / pyramid"]
        print(f"{zoom}: level-0 baseline / pyramid median ratio = {base['median_ms'] / max(ours['median_ms'], 1e-9):.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "width": args.width, "height": args.height, "decode_s": decode_s, "first_view_s": first_view_s,
            "pyramid_rest_s": pyramid_s, "pans": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
