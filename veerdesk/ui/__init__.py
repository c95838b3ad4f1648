"""The desktop app (PySide6). The only package that imports Qt; torch is imported lazily by the model job."""

from __future__ import annotations

import sys


def _keep_none_alive() -> None:
    """Work around PySide6 6.12 on Python < 3.12: every call of a Qt method returning void drops a
    reference to ``None`` it never took (its abi3 build assumes PEP 683's immortal None). A viewer makes
    thousands of such calls a second, and CPython aborts with "deallocating None" within minutes. Giving
    None a huge reference count makes it effectively immortal, as it is on 3.12+.
    """
    if sys.version_info >= (3, 12):
        return
    import ctypes

    refcount = ctypes.c_ssize_t.from_address(id(None))
    if refcount.value < (1 << 40):
        refcount.value += 1 << 50


_keep_none_alive()
