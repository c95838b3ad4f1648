"""Before Qt starts in this process: can it open a window here (veerdesk.ui.window_check)?"""

import argparse

from veerdesk.ui import window_check


def test_the_window_check_runs_qt_in_a_child_and_reports_its_failure(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert window_check.window_problem() is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "no-such-platform")  # the child aborts, as on a display Qt cannot use
    problem = window_check.window_problem()
    assert problem is not None and "no-such-platform" in problem


def test_missing_libraries_are_the_ones_the_loader_cannot_find():
    assert window_check.missing_libraries(("libc.so.6", "libveerdesk-not-here.so.9")) == ["libveerdesk-not-here.so.9"]


def test_xcb_check_asks_qt_only_on_x11_with_a_library_missing(monkeypatch):
    asked = []

    def problem():
        asked.append(True)
        return 'Could not load the Qt platform plugin "xcb"'

    monkeypatch.setattr(window_check, "window_problem", problem)
    monkeypatch.setattr(window_check.sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(window_check, "missing_libraries", lambda: [])
    assert window_check.xcb_problem() is None and not asked  # all there: no child, no delay
    monkeypatch.setattr(window_check, "missing_libraries", lambda: ["libxcb-icccm.so.4"])
    found = window_check.xcb_problem()
    assert asked and "missing: libxcb-icccm.so.4 (Debian/Ubuntu: apt-get install libxcb-icccm4)" in found
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert window_check.xcb_problem() is None  # Qt will not use xcb at all


def test_open_says_why_it_cannot_open_a_window_instead_of_letting_qt_abort(monkeypatch, capsys):
    from veerdesk.ui.launch import run_open

    monkeypatch.setattr(window_check, "xcb_problem", lambda: "no xcb; missing: libxcb-icccm.so.4")
    args = argparse.Namespace(image=None, layout=None, project=None, weights=None, run=False, screenshot=None,
                              offscreen=False)
    assert run_open(args) == 2
    assert "error: Qt cannot open a window on this display: no xcb; missing: libxcb-icccm.so.4" in capsys.readouterr().err
