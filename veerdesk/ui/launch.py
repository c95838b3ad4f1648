"""``veerdesk open``: start the app, or (with --screenshot) open, optionally run, capture and exit."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _application(offscreen: bool):
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("VeerDesk")
        app.setOrganizationName("VeerDesk")
    return app


def wait_for_job(window) -> None:
    """Process events until the window's model run (if any) has ended."""
    from PySide6.QtCore import QEventLoop

    job = window.job
    if job is None:
        return
    loop = QEventLoop()
    job.finished.connect(loop.quit)
    if job.isRunning() or not job.isFinished():
        loop.exec()
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()


def wait_for_pyramid(window) -> None:
    builder = window._builder
    if builder is not None:
        builder.wait()
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()


def save_screenshot(window, path: str | os.PathLike) -> None:
    from PySide6.QtWidgets import QApplication

    from veerdesk.core.atomic import atomic_output

    # Let pending layout changes (e.g. the progress bar appearing) settle before grabbing.
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()
    window.layout().activate()
    image = window.grab().toImage()
    with atomic_output(path, suffix=".png") as tmp:
        if not image.save(str(tmp), "PNG"):
            raise OSError(f"cannot encode {path}")


def install_error_hook(window) -> None:
    """Unexpected exceptions in Qt callbacks become an error dialog; the app keeps running."""
    import traceback

    from veerdesk.core.errors import VeerDeskError

    def hook(exc_type, exc, tb) -> None:
        if isinstance(exc, VeerDeskError):
            window.report(exc)
            return
        traceback.print_exception(exc_type, exc, tb)
        window.report(f"unexpected error: {exc_type.__name__}: {exc} (details were printed to the console)")

    sys.excepthook = hook


def run_open(args: argparse.Namespace) -> int:
    headless = bool(args.screenshot)
    if not args.offscreen:
        from veerdesk.ui.window_check import xcb_problem

        problem = xcb_problem()
        if problem:
            print(f"error: Qt cannot open a window on this display: {problem}", file=sys.stderr)
            return 2
    app = _application(bool(args.offscreen))
    from veerdesk.ui.main_window import MainWindow
    from veerdesk.ui.prompts import ScriptedPrompts

    window = MainWindow(weights=args.weights)
    previous_hook = sys.excepthook
    install_error_hook(window)
    if headless:
        window.prompts = ScriptedPrompts()
    else:
        window.offer_recovery()
    ok = True
    if args.project:
        ok = window.open_project(args.project)
    elif args.image:
        ok = window.open_image(args.image)
    if ok and args.layout:
        ok = window.load_layout(args.layout)
    window.show()
    if ok and args.run:
        if window.run_model():
            wait_for_job(window)
        ok = not getattr(window.prompts, "errors", [])
    if not headless:
        return app.exec()
    wait_for_pyramid(window)
    try:
        save_screenshot(window, args.screenshot)
    finally:
        window.doc.dirty = False  # a screenshot run never asks to save
        window.close()
        sys.excepthook = previous_hook
    print(f"screenshot saved to {Path(args.screenshot)}")
    errors = window.prompts.errors
    return 1 if errors or not ok else 0
