"""Damaged or tampered project files give one clear ProjectError; the reader never crashes."""

from __future__ import annotations

import numpy as np
import pytest
from hostile_corpus import good_layout, project_cases
from hostile_helpers import assert_user_error, xfail_if_bug

from veerdesk.core.errors import ProjectError

project = pytest.importorskip("veerdesk.core.project")


def good_project_bytes(folder) -> bytes:
    """A small valid project (layout, one traced curve with review flags, masks) written by the real writer."""
    from veerdesk.core.document import Document, SegmentationMasks, make_trace
    from veerdesk.core.layout import Layout

    doc = Document(image_path=str(folder / "sheet.png"), layout=Layout.from_dict(good_layout()))
    depth = np.arange(1200.0, 1210.5, 0.5)
    doc.set_trace(make_trace("GR", depth, np.linspace(10, 140, depth.size), np.full(depth.size, 0.8)))
    doc.set_reviewed("GR", depth > 1205)
    doc.masks = SegmentationMasks(np.zeros((8, 6), np.uint8), np.full((8, 6), 200, np.uint8))
    path = folder / "good.vdproj"
    project.save_project(path, doc)
    return path.read_bytes()


def _cases():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        return project_cases(good_project_bytes(Path(folder)))


CASES = _cases()


def test_the_good_project_loads(tmp_path):
    path = tmp_path / "good.vdproj"
    path.write_bytes(good_project_bytes(tmp_path))
    data = project.load_project(path)
    assert list(data.document.traces) == ["GR"]


@pytest.mark.parametrize("case", xfail_if_bug(CASES))
def test_load_project(case, tmp_path):
    path = tmp_path / "damaged.vdproj"
    path.write_bytes(case.data)
    with pytest.raises(ProjectError) as exc_info:
        project.load_project(path)
    assert_user_error(exc_info, case.error, names="damaged.vdproj")


def test_missing_project_and_folder(tmp_path):
    for path in (tmp_path / "none.vdproj", tmp_path):
        with pytest.raises(ProjectError) as exc_info:
            project.load_project(path)
        assert_user_error(exc_info, ProjectError)
