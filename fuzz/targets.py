"""Fuzz targets: bytes in, VeerDesk's readers exercised, only VeerDeskError allowed out.

Each target takes one input (``bytes``) and either returns or raises. Returning and raising a
:class:`~veerdesk.core.errors.VeerDeskError` are both fine; any other exception is a crash, and an input
that runs longer than the engine's per-input timeout is a hang. ``run.py`` drives them with atheris (or a
plain mutation loop where atheris is not installed).

Everything a target touches is imported by :func:`load` so that atheris can instrument it.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

# Small budgets keep each input fast: the loader must refuse anything bigger before decoding it.
IMAGE_MAX_PIXELS = 1_000_000
PDF_DPI = 36.0

_workdir = Path(tempfile.mkdtemp(prefix="veerdesk-fuzz-"))


def _scratch(name: str, data: bytes) -> Path:
    path = _workdir / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- image loader
def image_target(data: bytes) -> None:
    from veerdesk.core.errors import VeerDeskError
    from veerdesk.core.image import load_page, probe_image

    path = _scratch("input.img", data)
    try:
        info = probe_image(path, pdf_dpi=PDF_DPI)
    except VeerDeskError:
        info = None
    pages = [0] if info is None or info.page_count < 2 else [0, 1]
    for page in pages:
        try:
            loaded = load_page(path, page, max_pixels=IMAGE_MAX_PIXELS, pdf_dpi=PDF_DPI)
        except VeerDeskError:
            continue
        pixels = loaded.pixels
        # The contract every caller relies on.
        assert pixels.dtype.name == "uint8" and pixels.ndim == 2, (pixels.dtype, pixels.shape)
        assert pixels.shape == (loaded.info.height, loaded.info.width), (pixels.shape, loaded.info)
        assert pixels.size <= IMAGE_MAX_PIXELS, pixels.shape


# --------------------------------------------------------------------------- layout parser
def _exercise_layout(layout) -> None:
    """What the rest of VeerDesk does with a layout it accepted; none of it may fail."""
    import numpy as np

    from veerdesk.core.layout import parse_layout_json

    again = parse_layout_json(layout.to_json())
    assert again.to_dict() == layout.to_dict()
    pickle.loads(pickle.dumps(layout))
    grid = layout.depth_grid()
    rows = layout.depth.row_at_depth(grid[:: max(1, grid.size // 16)])
    layout.depth.depth_at_row(rows)
    with np.errstate(all="ignore"):
        for _i, track, curve in layout.curves():
            for scale in (curve.scale, curve.backup) if curve.backup else (curve.scale,):
                columns = np.linspace(track.x0, track.x1, 5)
                track.column_at_value(track.value_at_column(columns, scale), scale)


def layout_target(data: bytes) -> None:
    from veerdesk.core.errors import VeerDeskError
    from veerdesk.core.layout import load_layout, parse_layout_json

    layouts = []
    try:
        layouts.append(load_layout(_scratch("input.layout.json", data)))
    except VeerDeskError:
        pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        try:
            layouts.append(parse_layout_json(text))
        except VeerDeskError:
            pass
    for layout in layouts:
        _exercise_layout(layout)


# --------------------------------------------------------------------------- project reader
# The first input byte picks what the rest is, so the fuzzer reaches past the zip's CRC checks:
# 0: a whole project file; 1: the content of project.json inside a valid archive; 2: traces.npz inside one.
PROJECT_MODES = 3
_good_members: dict[str, bytes] | None = None


def good_project_members() -> dict[str, bytes]:
    """The members of a small valid project written by the real writer (built once)."""
    global _good_members
    if _good_members is None:
        import numpy as np

        from veerdesk.core.document import Document, SegmentationMasks, make_trace
        from veerdesk.core.layout import Layout
        from veerdesk.core.project import save_project

        layout = Layout.from_dict({
            "version": 1, "depth": {"unit": "M", "ties": [[0, 100.0], [50, 105.0]], "step": 0.5},
            "tracks": [{"x0": 0, "x1": 40, "curves": [{"mnemonic": "GR", "unit": "GAPI", "left": 0,
                                                       "right": 150}]}],
        })
        doc = Document(image_path="sheet.png", layout=layout)
        depth = np.arange(100.0, 105.5, 0.5)
        doc.set_trace(make_trace("GR", depth, depth - 50, np.full(depth.size, 0.5)))
        doc.masks = SegmentationMasks(np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8))
        path = _workdir / "good.vdproj"
        save_project(path, doc)
        with zipfile.ZipFile(path) as archive:
            _good_members = {name: archive.read(name) for name in archive.namelist()}
    return _good_members


def wrap_project(mode: int, payload: bytes) -> bytes:
    """Project file bytes for ``mode`` (see PROJECT_MODES) and ``payload``."""
    if mode % PROJECT_MODES == 0:
        return payload
    members = dict(good_project_members())
    members["project.json" if mode % PROJECT_MODES == 1 else "traces.npz"] = payload
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, member in members.items():
            archive.writestr(name, member)
    return buf.getvalue()


def project_target(data: bytes) -> None:
    from veerdesk.core.errors import VeerDeskError
    from veerdesk.core.project import load_project

    if not data:
        return
    path = _scratch("input.vdproj", wrap_project(data[0], data[1:]))
    try:
        loaded = load_project(path)
    except VeerDeskError:
        return
    doc = loaded.document
    doc.copy()
    if doc.layout is not None:
        _exercise_layout(doc.layout)
    for name in doc.traces:
        doc.reviewed_mask(name)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "image": image_target,
    "layout": layout_target,
    "project": project_target,
}


def load() -> None:
    """Import everything the targets touch (call inside atheris.instrument_imports)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import PIL.Image

        PIL.Image.init()  # imports every format plugin now, so they are instrumented too
        import pypdfium2  # noqa: F401

        import veerdesk.core.image  # noqa: F401
        import veerdesk.core.layout  # noqa: F401

        try:
            import veerdesk.core.project  # noqa: F401
        except ImportError:  # the project reader lands with the app issue
            TARGETS.pop("project", None)


def seeds(target: str) -> list[bytes]:
    """Starting inputs: the hostile corpus (tests/hostile) plus valid files."""
    import sys

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here.parent / "tests" / "hostile"))
    import hostile_corpus

    if target == "project":
        members = good_project_members()
        whole = wrap_project(1, members["project.json"])
        found = [bytes([0]) + whole, bytes([1]) + members["project.json"], bytes([2]) + members["traces.npz"]]
        found += [bytes([0]) + case.data for case in hostile_corpus.project_cases(whole)]
        return [s for s in found if len(s) <= 200_000]
    return hostile_corpus.all_seed_bytes()[target]


def cleanup() -> None:
    for path in _workdir.glob("*"):
        path.unlink()
    os.rmdir(_workdir)
