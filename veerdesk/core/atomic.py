"""Atomic file writes: temp file in the same folder, fsync, rename over the target.

A crash, a full disk or a read-only folder never leaves a half-written file behind, and the previous
version of the file stays intact (and, when asked, is kept as ``<name>.bak``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from veerdesk.core.errors import ExportError


def _read_umask() -> int:
    # os.umask can only be read by setting it; do it once at import, before any worker threads exist.
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _fsync_dir(folder: Path) -> None:
    # Persist the rename itself; not every platform allows opening a directory.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, keep_backup: bool = False, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``path``, on any error it is removed.

    The caller writes the whole file to the yielded path (with any library). ``suffix`` lets libraries
    that look at the extension (e.g. image writers) see the right one.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=folder)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes owner-only files; outputs should get the usual permissions (as open() would give).
    with contextlib.suppress(OSError):
        os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if keep_backup and target.exists():
            shutil.copy2(target, target.with_name(target.name + ".bak"))
        os.replace(tmp, target)
        _fsync_dir(folder)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}; the previous file is unchanged") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, keep_backup: bool = True) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_output(path, keep_backup=keep_backup) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()


def atomic_write_text(path: str | os.PathLike, text: str, *, keep_backup: bool = True) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), keep_backup=keep_backup)
