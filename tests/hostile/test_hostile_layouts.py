"""Every malformed or adversarial layout gives one clear LayoutError — parser, file loader and CLI."""

from __future__ import annotations

import pickle

import pytest
from hostile_corpus import layout_cases
from hostile_helpers import assert_cli_error, assert_user_error, cli_available, xfail_if_bug

from veerdesk.core.errors import LayoutError
from veerdesk.core.layout import Layout, load_layout, parse_layout_json

CASES = layout_cases()


def _text(case) -> str:
    return case.text.decode("utf-8", errors="replace") if isinstance(case.text, bytes) else case.text


def _accepted_layout_is_usable(layout: Layout) -> None:
    # What the rest of VeerDesk does with a layout it accepted: none of it may fail.
    again = parse_layout_json(layout.to_json())
    assert again.to_dict() == layout.to_dict()
    layout.depth_grid()
    pickle.loads(pickle.dumps(layout))  # batch workers receive layouts pickled


@pytest.mark.parametrize("case", xfail_if_bug([c for c in CASES if isinstance(c.text, str)]))
def test_parse(case):
    if case.error is None:
        _accepted_layout_is_usable(parse_layout_json(case.text))
        return
    with pytest.raises(LayoutError) as exc_info:
        parse_layout_json(case.text)
    assert_user_error(exc_info, case.error)


@pytest.mark.parametrize("case", xfail_if_bug(CASES))
def test_load_file(case, tmp_path):
    path = tmp_path / "sheet.layout.json"
    path.write_bytes(case.text if isinstance(case.text, bytes) else case.text.encode("utf-8", "surrogatepass"))
    if case.error is None:
        _accepted_layout_is_usable(load_layout(path))
        return
    with pytest.raises(LayoutError) as exc_info:
        load_layout(path)
    assert_user_error(exc_info, case.error)


def test_missing_oversized_and_folder_layouts(tmp_path):
    for path in (tmp_path / "none.json", tmp_path):
        with pytest.raises(LayoutError) as exc_info:
            load_layout(path)
        assert_user_error(exc_info, LayoutError)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 10_000_001)
    with pytest.raises(LayoutError) as exc_info:
        load_layout(big)
    assert_user_error(exc_info, LayoutError, names="big.json")


@pytest.mark.skipif(not cli_available("digitize"), reason="`veerdesk digitize` lands with the pipeline issue")
@pytest.mark.parametrize("case", xfail_if_bug([c for c in CASES if c.error is not None]))
def test_cli_digitize(case, tmp_path, run_cli, good_inputs, tiny_weights):
    path = tmp_path / "bad.layout.json"
    path.write_bytes(case.text if isinstance(case.text, bytes) else case.text.encode("utf-8", "surrogatepass"))
    out = tmp_path / "out.las"
    result = run_cli("digitize", good_inputs["image"], "--layout", path, "-o", out, "--weights", tiny_weights,
                     "--device", "cpu")
    assert_cli_error(result, case.error)
    assert not out.exists()


@pytest.mark.parametrize("where", ["well.name", "unit"])
def test_names_cannot_inject_las_sections(where, tmp_path):
    """A layout is refused, or the LAS written from it reads back intact: never a silently broken file."""
    las = pytest.importorskip("veerdesk.export.las")
    import lasio
    import numpy as np
    from hostile_corpus import good_layout

    from veerdesk.core.document import make_trace

    data = good_layout()
    if where == "well.name":
        data["well"]["name"] = "SMITH\n~A 1 2 3"
    else:
        data["tracks"][0]["curves"][0]["unit"] = "GAPI\n~A 1 2 3"
    try:
        layout = Layout.from_dict(data)
    except LayoutError:
        return
    grid = layout.depth_grid()
    traces = {c.mnemonic: make_trace(c.mnemonic, grid, np.full(grid.size, 5.0), np.ones(grid.size))
              for _i, _t, c in layout.curves()}
    path = tmp_path / "out.las"
    las.write_las(path, layout, traces)
    back = lasio.read(str(path))
    assert back.data.shape == (grid.size, 1 + len(traces))
