import os

import pytest

from veerdesk.core.atomic import atomic_output, atomic_write_text
from veerdesk.core.errors import ExportError


def test_replaces_and_keeps_backup(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert (tmp_path / "a.txt.bak").read_text() == "one"


def test_error_mid_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_reports_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "a.txt").write_text("old")
    folder.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="cannot write"):
            atomic_write_text(folder / "a.txt", "new")
        assert (folder / "a.txt").read_text() == "old"
    finally:
        folder.chmod(0o700)


def test_disk_full_reports_error_and_keeps_old(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    target.write_text("old")
    real_fsync = os.fsync

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ExportError, match="No space left"):
        atomic_write_text(target, "new")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_missing_folder_is_clear(tmp_path):
    with pytest.raises(ExportError, match="cannot write"):
        atomic_write_text(tmp_path / "nope" / "a.txt", "x")


def test_unwritable_folder_reports_error(tmp_path, monkeypatch):
    # Simulates a read-only folder even when the tests run as root.
    import tempfile

    target = tmp_path / "a.txt"
    target.write_text("old")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(ExportError, match="Permission denied"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"


def test_written_files_get_normal_permissions(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("failing", [1, 2, 3])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_files_written_together_are_all_or_none(tmp_path, monkeypatch, failing, error):
    from veerdesk.core.atomic import atomic_write_many

    files = {tmp_path / "a.las": b"new las", tmp_path / "a.json": b"new report", tmp_path / "m" / "a.png": b"png"}
    (tmp_path / "m").mkdir()
    (tmp_path / "a.las").write_text("old")
    real_fsync, calls = os.fsync, []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == failing:
            raise error
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(ExportError if isinstance(error, OSError) else KeyboardInterrupt):
        atomic_write_many(files)
    monkeypatch.undo()
    assert (tmp_path / "a.las").read_text() == "old"
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["a.las", "m"]
    atomic_write_many(files)
    assert all(path.read_bytes() == data for path, data in files.items())
