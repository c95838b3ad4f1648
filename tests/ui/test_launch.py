import argparse

import pytest
from PySide6.QtGui import QImage

from veerdesk.cli import build_parser
from veerdesk.ui.launch import run_open


def _args(*argv):
    args = build_parser().parse_args(["open", *argv])
    assert isinstance(args, argparse.Namespace)
    return args


def test_open_run_screenshot_and_exit(qtbot, sheet, tiny_weights, tmp_path):
    image, layout = sheet
    out = tmp_path / "shot.png"
    code = run_open(_args(str(image), "--layout", str(layout), "--weights", tiny_weights, "--run",
                          "--screenshot", str(out), "--offscreen"))
    assert code == 0
    shot = QImage(str(out))
    assert shot.width() >= 800 and shot.height() >= 500


def test_screenshot_of_a_missing_scan_reports_failure(qtbot, tmp_path, capsys):
    code = run_open(_args(str(tmp_path / "nope.tif"), "--screenshot", str(tmp_path / "s.png"), "--offscreen"))
    assert code == 1
    assert "nope.tif" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--run"])
def test_run_without_layout_is_an_error_not_a_hang(qtbot, sheet, tmp_path, flag, capsys):
    code = run_open(_args(str(sheet[0]), flag, "--screenshot", str(tmp_path / "s.png"), "--offscreen"))
    assert code == 1
    assert "layout" in capsys.readouterr().err


def test_open_a_project_from_the_command_line(qtbot, sheet, tmp_path):
    from veerdesk.core.document import Document
    from veerdesk.core.layout import load_layout
    from veerdesk.core.project import save_project

    project = tmp_path / "p.vdproj"
    save_project(project, Document(image_path=str(sheet[0]), layout=load_layout(sheet[1])))
    out = tmp_path / "p.png"
    assert run_open(_args("--project", str(project), "--screenshot", str(out), "--offscreen")) == 0
    assert QImage(str(out)).width() > 0
