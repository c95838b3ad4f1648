"""Capture the app's main states for the docs (run under Xvfb for real fonts and window decorations).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_screenshots.py \
        [--image SCAN --layout LAYOUT.json] [--weights W] [--out docs/screenshots]

Without --image, the bundled sample (resources/samples) is used, or else a synthetic sheet. States: 01 opened, 02 layout set,
03 model running (tiles appearing), 04 results with overlays, 05 review queue, 06 a correction.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path


def _stretch_to_redraw(window, image: str):
    """A review item and the values a careful person would draw there.

    For the bundled sample that is the line on the scan (its truth LAS) over the first stretch where the
    curve really is on the sheet; otherwise the worst stretch, bridged from the values just outside it.
    """
    import numpy as np

    items = window.review_panel.queue.items
    truth = Path(image).with_name("truth") / (Path(image).stem + ".las")
    if truth.exists():
        import lasio

        las = lasio.read(str(truth))
        for item in items:
            if item.mnemonic in las.keys():
                depths = window.doc.trace(item.mnemonic).depth[item.i0 : item.i1]
                values = np.interp(depths, las.index, las[item.mnemonic])
                if np.isfinite(values).all():
                    return item, values
    if not items:
        return None, None
    item = items[0]
    trace = window.doc.trace(item.mnemonic)
    _, _, curve = window.doc.layout.curve(item.mnemonic)
    lo, hi = sorted((curve.left, curve.right))
    ends = [trace.value[max(item.i0 - 1, 0)], trace.value[min(item.i1, trace.value.size - 1)]]
    ends = [v if np.isfinite(v) else lo + (hi - lo) * 0.4 for v in ends]
    return item, np.linspace(ends[0], ends[1], item.i1 - item.i0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--image")
    parser.add_argument("--layout")
    parser.add_argument("--weights")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = tempfile.TemporaryDirectory()
    os.environ["VEERDESK_STATE_DIR"] = str(Path(tmp.name) / "state")
    image, layout_path = args.image, args.layout
    sample = Path(__file__).resolve().parents[2] / "resources" / "samples" / "sample-log.tif"
    if image is None and sample.exists():
        image, layout_path = str(sample), str(sample.with_name("sample-log.layout.json"))
    if image is None:
        import cv2

        from veerdesk.core.layout import save_layout
        from veerdesk.synth import generate_page

        page = generate_page(args.seed, width=(2000, 2000), height=(6000, 6000))
        image = str(Path(tmp.name) / "synthetic-sheet.png")
        layout_path = str(Path(tmp.name) / "synthetic-sheet.layout.json")
        cv2.imwrite(image, page.image)
        save_layout(page.layout, layout_path)

    from PySide6.QtWidgets import QApplication

    from veerdesk.core.commands import RedrawStretch
    from veerdesk.inference.tiling import plan_tiles
    from veerdesk.ui.launch import save_screenshot, wait_for_job, wait_for_pyramid
    from veerdesk.ui.main_window import MainWindow
    from veerdesk.ui.model_job import JobTile, model_run
    from veerdesk.ui.prompts import ScriptedPrompts

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    window = MainWindow(weights=args.weights)
    window.prompts = ScriptedPrompts()
    window.resize(1600, 1000)
    window.show()

    def shot(name: str) -> None:
        app.processEvents()
        save_screenshot(window, out / name)
        print("wrote", out / name)

    window.open_image(image)
    wait_for_pyramid(window)
    shot("01-opened.png")

    window.load_layout(layout_path)
    window.view.fit_width()
    shot("02-layout.png")

    # A run paused part-way, to show tiles arriving.
    pause_after = max(1, len(plan_tiles(*window.page.pixels.shape)) * 2 // 5)
    paused, resume = threading.Event(), threading.Event()

    def paused_run(win, rows):
        inner = model_run(win.page.pixels, win.doc.layout, weights=win.weights, rows=rows)

        def job(cancel):
            tiles = 0
            for event in inner(cancel):
                yield event
                if isinstance(event, JobTile):
                    tiles += 1
                    if tiles == pause_after:
                        paused.set()
                        resume.wait()

        return job

    window.job_factory_override = paused_run
    window.run_model()
    while not paused.is_set() and window.job is not None:
        app.processEvents()
        paused.wait(0.02)
    app.processEvents()
    shot("03-running.png")
    resume.set()
    wait_for_job(window)
    window.job_factory_override = None
    if window.prompts.errors:
        print("\n".join(window.prompts.errors), file=sys.stderr)
        return 1

    window.show_panel("Overlays")
    window.view.fit_width()
    window.view.show_top()
    shot("04-results.png")

    window.show_panel("Review queue")
    window.review_panel.go_next()
    shot("05-review.png")

    item, drawn = _stretch_to_redraw(window, image)
    if item is not None:
        window.push(RedrawStretch(item.mnemonic, window.doc.trace(item.mnemonic).depth[item.i0 : item.i1], drawn))
        window.show_panel("History")
        window.show_review_item(item)
    shot("06-correction.png")

    window.doc.dirty = False
    window.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
