"""Crashes the fuzzers already found, each pinned by a strict-xfail case in tests/hostile.

A crash is identified by its signature: the exception type and the innermost frame of VeerDesk code (or
of the fuzz targets) it escaped from. A known signature is counted and the run goes on, so one open defect
does not hide the others and CI stays green while its fix is pending; ``run.py --strict`` treats them as
crashes again. When a defect is fixed, its xfail case starts passing (strict XPASS fails the suite): remove
the mark there and the entry here together.
"""

from __future__ import annotations

import traceback
from types import TracebackType

# (exception type, file, function) -> the hostile-corpus case(s) that reproduce it; "*" matches any
KNOWN_DEFECTS: dict[tuple[str, str, str], str] = {
}


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _frame_key(filename: str) -> str | None:
    normalised = filename.replace("\\", "/")
    for root in ("veerdesk/", "fuzz/"):
        at = normalised.rfind("/" + root)
        if at >= 0:
            return normalised[at + 1:]
    return None


def signature(exc: BaseException) -> tuple[str, str, str]:
    """(exception type, file, function) of the innermost VeerDesk or fuzz-target frame."""
    where = ("?", "?")
    tb: TracebackType | None = exc.__traceback__
    for frame in traceback.extract_tb(tb):
        key = _frame_key(frame.filename)
        # "<genexpr>" and friends: the function that holds them names the place better.
        if key is not None and not key.endswith("fuzz/run.py") and not frame.name.startswith("<"):
            where = (key, frame.name)
    return (_type_name(exc), *where)


def is_known(exc: BaseException) -> bool:
    kind, where, function = signature(exc)
    candidates = ((kind, where, function), (kind, where, "*"), ("*", where, function))
    return any(key in KNOWN_DEFECTS for key in candidates)
