"""Checks shared by the hostile-input tests: what the user sees from the API and from the CLI."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import pytest
from hostile_corpus import message_problem


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


def cli_available(command: str) -> bool:
    """True once the module implementing ``veerdesk COMMAND`` exists (issues land at different times)."""
    from veerdesk.cli import ENTRY_POINTS

    module = ENTRY_POINTS[command].split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def assert_cli_error(result: CliResult, error_type) -> None:
    """The CLI refused with ``error_type``'s exit code and exactly one 'error: ...' line."""
    assert result.code == error_type.exit_code, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), result.err
    assert "Traceback" not in result.err
    assert message_problem(lines[0][len("error: "):]) is None, message_problem(lines[0])


def assert_user_error(exc_info, error_type, *, names: str | None = None) -> None:
    """The API raised exactly ``error_type`` with a one-line message (naming ``names`` when given)."""
    error = exc_info.value
    assert type(error) is error_type, f"{type(error).__name__}: {error}"
    problem = message_problem(str(error))
    assert problem is None, f"{problem}: {error!s:.500}"
    if names is not None:
        assert names in str(error)


def xfail_if_bug(cases):
    """pytest params, strict-xfail for cases that fail today because of a known defect elsewhere."""
    return [
        pytest.param(c, id=c.name, marks=pytest.mark.xfail(strict=True, reason=c.bug) if c.bug else ())
        for c in cases
    ]
