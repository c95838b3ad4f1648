import subprocess
import sys

from veerdesk import __version__
from veerdesk.cli import ENTRY_POINTS, build_parser, main


def test_version_and_help(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert __version__ in capsys.readouterr().out
    assert main([]) == 0
    assert "digitize" in capsys.readouterr().out


def test_every_subcommand_has_an_implementation():
    parser = build_parser()
    names = set(parser._subparsers._group_actions[0].choices)
    assert names == set(ENTRY_POINTS)


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "veerdesk.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "info" in out.stdout
