"""Application wiring: `veerdesk demo` opens the bundled sample, or digitizes it headless without a display."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from veerdesk.core.errors import VeerDeskError

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SAMPLE_IMAGE = RESOURCES / "samples" / "sample-log.tif"
SAMPLE_LAYOUT = RESOURCES / "samples" / "sample-log.layout.json"


def has_display() -> bool:
    """True where a GUI window can be shown."""
    if sys.platform in ("win32", "darwin"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "") == "offscreen":
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_demo(args: argparse.Namespace) -> int:
    if not SAMPLE_IMAGE.exists() or not SAMPLE_LAYOUT.exists():
        raise VeerDeskError(f"the bundled sample is missing from {SAMPLE_IMAGE.parent}; reinstall from a full clone")
    from veerdesk.ui.window_check import window_problem

    wants_window = has_display() and not args.headless
    problem = window_problem() if wants_window else None
    if problem:
        print(f"A display was found, but Qt cannot open a window on it: {problem}\n"
              "(on Debian or Ubuntu, scripts/setup.sh installs the libxcb libraries it needs)", file=sys.stderr)
    if wants_window and not problem:
        from veerdesk.ui.launch import run_open

        ns = argparse.Namespace(image=str(SAMPLE_IMAGE), layout=str(SAMPLE_LAYOUT), project=None, weights=None,
                                run=False, screenshot=None, offscreen=False)
        return run_open(ns)
    out = Path(args.out or "veerdesk-demo")
    out.mkdir(parents=True, exist_ok=True)
    why = "No window" if problem else "No display found"
    print(f"{why}: digitizing the bundled sample headless into {out}/", file=sys.stderr)
    from veerdesk.pipeline.cli_entry import run_digitize

    ns = argparse.Namespace(image=str(SAMPLE_IMAGE), layout=str(SAMPLE_LAYOUT), output=str(out / "sample-log.las"),
                            weights=None, device="auto", masks=str(out / "masks"), report=str(out / "report.json"),
                            page=1, tta="flip", scale="auto")
    code = run_digitize(ns)
    if not code:
        print(f"wrote {out / 'sample-log.las'} and {out / 'report.json'}", file=sys.stderr)
    return int(code or 0)
