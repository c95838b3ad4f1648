import os
import zipfile

import numpy as np
import pytest
from doc_samples import sample_document

from veerdesk.core.commands import EraseRange, UndoStack
from veerdesk.core.document import SegmentationMasks
from veerdesk.core.errors import ProjectError
from veerdesk.core.project import (
    discard_recovery,
    find_recoveries,
    load_project,
    recovery_path,
    save_project,
    write_recovery,
)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VEERDESK_STATE_DIR", str(tmp_path / "state"))


def test_round_trip_keeps_layout_traces_review_masks_and_log(tmp_path):
    doc = sample_document()
    (tmp_path / "sheet.tif").write_bytes(b"x")
    doc.image_path = str(tmp_path / "sheet.tif")
    stack = UndoStack(doc)
    stack.push(EraseRange("GR", 1000, 1002))
    class_map = np.zeros((40, 30), np.uint8)
    class_map[5:9, 3] = 2
    doc.masks = SegmentationMasks(class_map, np.full((40, 30), 200, np.uint8))
    path = tmp_path / "well.vdproj"
    save_project(path, doc, edit_log=[c.to_dict() for c in stack.done_commands()], settings={"threshold": 0.4})
    loaded = load_project(path)
    assert loaded.document.same_content(doc)
    assert np.array_equal(loaded.document.masks.class_map, class_map)
    assert loaded.edit_log[0]["type"] == "EraseRange" and loaded.settings == {"threshold": 0.4}


def test_image_is_found_next_to_a_moved_project(tmp_path):
    doc = sample_document()
    a = tmp_path / "a"
    a.mkdir()
    (a / "sheet.tif").write_bytes(b"x")
    doc.image_path = str(a / "sheet.tif")
    save_project(a / "p.vdproj", doc)
    os.rename(a, tmp_path / "b")
    assert load_project(tmp_path / "b" / "p.vdproj").document.image_path == str(tmp_path / "b" / "sheet.tif")


def test_failed_save_leaves_previous_project_intact(tmp_path, monkeypatch):
    path = tmp_path / "p.vdproj"
    save_project(path, sample_document())
    before = path.read_bytes()
    import veerdesk.core.project as project

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(project, "project_bytes_to", boom)
    with pytest.raises(Exception, match="No space left"):
        save_project(path, sample_document(seed=1))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.vdproj"]


@pytest.mark.parametrize("content", [b"not a zip", b""])
def test_garbage_is_a_project_error(tmp_path, content):
    path = tmp_path / "bad.vdproj"
    path.write_bytes(content)
    with pytest.raises(ProjectError, match="not a VeerDesk project"):
        load_project(path)


def test_wrong_format_and_missing_file_are_project_errors(tmp_path):
    path = tmp_path / "other.vdproj"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.json", '{"format": "something-else"}')
    with pytest.raises(ProjectError, match="not a VeerDesk project"):
        load_project(path)
    with pytest.raises(ProjectError, match="not found"):
        load_project(tmp_path / "missing.vdproj")


def test_recovery_of_a_dead_session_is_offered_and_own_is_not(tmp_path):
    doc = sample_document()
    write_recovery(doc)  # this process: alive, never offered
    assert find_recoveries() == []
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    write_recovery(doc, pid=dead_pid, project_path="/x/well.vdproj")
    found = find_recoveries()
    assert [r.pid for r in found] == [dead_pid]
    loaded = load_project(found[0].path)
    assert loaded.document.same_content(doc) and loaded.project_path == "/x/well.vdproj"
    discard_recovery()
    assert not recovery_path().exists()


def _rewrite(path, **meta_changes):
    import json

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members["project.json"])
    meta.update(meta_changes)
    members["project.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.mark.parametrize("changes", [
    {"curves": 5},
    {"curves": [3]},
    {"image_relative": "scan\u0000.tif"},
    {"image_path": "a" * 100_000},
    {"layout": {"version": 1, "depth": {"unit": "FT", "ties": [[0, 1], [10, 2]], "step": 10**400}}},
])
def test_tampered_descriptions_are_one_project_error(tmp_path, changes):
    path = tmp_path / "t.vdproj"
    save_project(path, sample_document())
    _rewrite(path, **changes)
    with pytest.raises(ProjectError, match="t.vdproj"):
        load_project(path)


def test_damaged_trace_data_is_a_project_error(tmp_path):
    path = tmp_path / "t.vdproj"
    save_project(path, sample_document())
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["traces.npz"] = members["traces.npz"][:60]
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ProjectError, match="trace data is damaged"):
        load_project(path)
