"""Atomic file writes: temp file in the same folder, fsync, rename over the target.

A crash, a full disk or a read-only folder never leaves a half-written file behind, and the previous
version of the file stays intact (and, when asked, is kept as ``<name>.bak``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
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


def _temp_beside(target: Path, suffix: str = "") -> Path:
    """An empty temp file in the target's folder (a rename within one folder is atomic)."""
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
    return tmp


def _flush(tmp: Path) -> None:
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())


def _move_into_place(tmp: Path, target: Path, keep_backup: bool) -> None:
    if keep_backup and target.exists():
        shutil.copy2(target, target.with_name(target.name + ".bak"))
    os.replace(tmp, target)
    _fsync_dir(target.parent if str(target.parent) else Path("."))


@contextlib.contextmanager
def _removed_on_error(temps: list[Path], target: Callable[[], Path]) -> Iterator[None]:
    """On any error (Ctrl-C included) delete the temp files; an OSError becomes one ExportError naming
    ``target()``, the file being written when it happened."""
    try:
        yield
    except BaseException as exc:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write {target()}: {exc.strerror or exc}; the previous file is unchanged") from exc
        raise


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, keep_backup: bool = False, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``path``, on any error it is removed.

    The caller writes the whole file to the yielded path (with any library). ``suffix`` lets libraries
    that look at the extension (e.g. image writers) see the right one.
    """
    target = Path(path)
    tmp = _temp_beside(target, suffix)
    with _removed_on_error([tmp], lambda: target):
        yield tmp
        _flush(tmp)
        _move_into_place(tmp, target, keep_backup)


def atomic_write_many(files: Mapping[str | os.PathLike, bytes]) -> None:
    """Write files that belong together (a LAS and its masks and report) all or none.

    Every file is written and flushed to a temp file beside its target first; only then are they renamed
    into place, one after another. A failure or Ctrl-C while writing leaves none of them and the previous
    files intact; only the renames themselves (microseconds) are not atomic as a group.
    """
    targets = [Path(p) for p in files]
    temps: list[Path] = []
    current = [Path(".")]  # the file being written, for the error message
    with _removed_on_error(temps, lambda: current[0]):
        for target, data in zip(targets, files.values(), strict=True):
            current[0] = target
            temps.append(_temp_beside(target, target.suffix))
            temps[-1].write_bytes(data)
            _flush(temps[-1])
        for tmp, target in zip(temps, targets, strict=True):
            current[0] = target
            _move_into_place(tmp, target, keep_backup=False)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, keep_backup: bool = True) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_output(path, keep_backup=keep_backup) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()


def atomic_write_text(path: str | os.PathLike, text: str, *, keep_backup: bool = True) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), keep_backup=keep_backup)


def refuse_overwriting_inputs(path: str | os.PathLike, inputs: Mapping[str, str | os.PathLike | None],
                              what: str) -> None:
    """Raise before any work when output ``path`` is one of ``inputs`` (name: path): an atomic write would
    replace the scan or the layout it was made from (``-o sheet.tif`` once turned a scan into a LAS file)."""
    target = Path(path).expanduser().resolve()
    for name, source in inputs.items():
        if source is None:
            continue
        original = Path(source).expanduser().resolve()
        same = target == original
        with contextlib.suppress(OSError):
            same = same or os.path.samefile(target, original)  # hard links, or the same file by another route
        if same:
            raise ExportError(f"the {what} {path} is the {name} itself; writing it would replace the {name}")
