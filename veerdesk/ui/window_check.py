"""Can Qt open a window here? Asked before Qt starts in this process, because where its platform plugin
cannot load (an X display without the libxcb libraries Qt's xcb plugin needs) Qt aborts the whole process.

Nothing here imports Qt: a child process starts it instead, and only when a cheap look at the libraries
says it may fail (``veerdesk open``) or before the demo decides between the app and a headless run.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

WINDOW_PROBE = "from PySide6.QtWidgets import QApplication; QApplication([])"
WINDOW_PROBE_TIMEOUT_S = 60
# What Qt 6's xcb plugin loads (ldd libQt6XcbQpa.so.6), with the Debian/Ubuntu package of each: the first
# two were missing on a machine where everything else was installed, and the app died at start.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1", "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def window_problem() -> str | None:
    """None where Qt can start on this display; otherwise why not, in Qt's words (its most telling line)."""
    try:
        probe = subprocess.run([sys.executable, "-c", WINDOW_PROBE], capture_output=True, text=True,
                               timeout=WINDOW_PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the check that Qt can start did not finish ({exc})"
    if probe.returncode == 0:
        return None
    lines = [line.strip() for line in probe.stderr.splitlines() if line.strip()]
    telling = [line for line in lines if "plugin" in line.lower() or "xcb" in line.lower()]
    return (telling or lines or [f"exit status {probe.returncode}"])[0]


def uses_xcb() -> bool:
    """Whether Qt will pick its X11 (xcb) platform: Linux, an X display, no Wayland, no other platform asked."""
    return (sys.platform.startswith("linux") and bool(os.environ.get("DISPLAY"))
            and not os.environ.get("WAYLAND_DISPLAY") and os.environ.get("QT_QPA_PLATFORM", "xcb") == "xcb")


def missing_libraries(names=tuple(XCB_LIBRARIES)) -> list[str]:
    """Those of ``names`` the dynamic loader cannot find (milliseconds; loads nothing Qt-related)."""
    missing = []
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def xcb_problem() -> str | None:
    """Why Qt cannot open a window on this X display, or None (also where Qt will not use xcb at all). The
    child-process check runs only when a library is missing, so a working machine starts as fast as ever."""
    if not uses_xcb():
        return None
    missing = missing_libraries()
    if not missing:
        return None
    problem = window_problem()
    if problem is None:
        return None
    packages = " ".join(XCB_LIBRARIES.get(name, name) for name in missing)
    return f"{problem}; missing: {', '.join(missing)} (Debian/Ubuntu: apt-get install {packages})"
