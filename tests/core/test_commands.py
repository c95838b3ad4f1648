import numpy as np
import pytest
from doc_samples import sample_document, sample_layout
from hypothesis import given, settings
from hypothesis import strategies as st

from veerdesk.core.commands import (
    AcceptReview,
    AddDepthTie,
    ApplyRerun,
    EraseRange,
    MovePoint,
    RedrawStretch,
    SetLayout,
    SetTraces,
    SetTrackBounds,
    SwapCurves,
    UndoStack,
    command_from_dict,
    layout_with_tie,
    replay,
)
from veerdesk.core.document import make_trace
from veerdesk.core.errors import LayoutError, VeerDeskError


def _edits(doc):
    grid = doc.trace("GR").depth
    rerun = {"ILD": make_trace("ILD", grid, np.full(grid.size, 42.0), np.full(grid.size, 0.8))}
    return [
        AddDepthTie(600.0, 1050.0),
        SetTrackBounds(0, 12, 205),
        RedrawStretch("GR", np.array([1020.0, 1030.0, 1025.0]), np.array([10.0, 30.0, 20.0])),
        EraseRange("CALI", 1040, 1045),
        MovePoint("GR", 5, 77.0, gesture=1),
        MovePoint("GR", 5, 78.0, gesture=1),
        SwapCurves("GR", "CALI", 1060, 1070),
        AcceptReview("ILD", 100, 120),
        ApplyRerun(1080, 1090, rerun),
    ]


def test_each_command_undoes_exactly():
    for command in _edits(sample_document()):
        doc = sample_document()
        before = doc.copy()
        stack = UndoStack(doc)
        stack.push(command)
        assert not doc.same_content(before), command.label
        stack.undo()
        assert doc.same_content(before), command.label
        stack.redo()
        assert not doc.same_content(before), command.label


def test_replaying_the_log_reproduces_the_document():
    doc = sample_document()
    start = doc.copy()
    stack = UndoStack(doc)
    for command in _edits(doc):
        stack.push(command)
    stack.undo()
    stack.undo()
    stack.push(EraseRange("ILD", 1001, 1003))
    assert replay(start, stack.done_commands()).same_content(doc)


def test_redraw_interpolates_drawn_points_and_marks_them_human():
    doc = sample_document()
    UndoStack(doc).push(RedrawStretch("GR", np.array([1030.0, 1020.0]), np.array([30.0, 10.0])))
    i0, i1 = doc.index_range("GR", 1020, 1030)
    gr = doc.trace("GR")
    assert np.allclose(gr.value[i0:i1], np.linspace(10, 30, i1 - i0))
    assert (gr.confidence[i0:i1] == 1).all() and doc.reviewed_mask("GR")[i0:i1].all()
    assert not doc.reviewed_mask("GR")[i1]


def test_consecutive_drags_of_one_point_merge_into_one_entry():
    doc = sample_document()
    original = doc.trace("GR").value[5]
    stack = UndoStack(doc)
    for v in (1.0, 2.0, 3.0):
        stack.push(MovePoint("GR", 5, v, gesture=7))
    stack.push(MovePoint("GR", 5, 4.0, gesture=8))
    assert len(stack) == 2 and doc.trace("GR").value[5] == 4.0
    stack.undo()
    assert doc.trace("GR").value[5] == 3.0
    stack.undo()
    assert doc.trace("GR").value[5] == original


def test_swap_exchanges_values_over_the_range_only():
    doc = sample_document()
    gr, cali = doc.trace("GR").value.copy(), doc.trace("CALI").value.copy()
    UndoStack(doc).push(SwapCurves("GR", "CALI", 1060, 1070))
    i0, i1 = doc.index_range("GR", 1060, 1070)
    assert np.array_equal(doc.trace("GR").value[i0:i1], cali[i0:i1])
    assert np.array_equal(doc.trace("CALI").value[i0:i1], gr[i0:i1])
    assert np.array_equal(doc.trace("GR").value[:i0], gr[:i0])


def test_a_failing_command_records_nothing():
    doc = sample_document()
    stack = UndoStack(doc)
    with pytest.raises(LayoutError):
        stack.push(SetTrackBounds(5, 0, 10))
    bad = make_trace("CALI", np.arange(3.0), np.zeros(3), np.ones(3))
    doc.set_trace(bad)
    with pytest.raises(VeerDeskError, match="different depth grids"):
        stack.push(SwapCurves("GR", "CALI", 1000, 1010))
    assert len(stack) == 0 and not doc.dirty


def test_bounded_stack_drops_oldest_and_tracks_clean_state():
    doc = sample_document()
    stack = UndoStack(doc, limit=3)
    stack.push(AcceptReview("GR", 0, 1))
    stack.set_clean()
    assert not doc.dirty
    for i in range(1, 5):
        stack.push(AcceptReview("GR", i, i + 1))
    assert len(stack) == 3 and doc.dirty
    while stack.can_undo:
        stack.undo()
    assert doc.dirty  # the saved state fell off the bottom of the stack
    assert doc.reviewed_mask("GR")[:2].all() and not doc.reviewed_mask("GR")[2:].any()


def test_undo_back_to_saved_state_is_clean_and_new_edit_cuts_redo():
    doc = sample_document()
    stack = UndoStack(doc)
    stack.set_clean()
    stack.push(EraseRange("GR", 1000, 1001))
    assert doc.dirty
    stack.undo()
    assert not doc.dirty
    stack.push(EraseRange("GR", 1002, 1003))
    assert not stack.can_redo and stack.labels() == ["Erase GR 1002–1003"]


def test_set_traces_replaces_all_and_resets_review():
    doc = sample_document()
    UndoStack(doc).push(AcceptReview("GR", 0, 10))
    grid = doc.trace("GR").depth
    stack = UndoStack(doc)
    stack.push(SetTraces({"GR": make_trace("GR", grid, np.zeros(grid.size), np.ones(grid.size))}))
    assert list(doc.traces) == ["GR"] and not doc.reviewed_mask("GR").any()
    stack.undo()
    assert set(doc.traces) == {"GR", "CALI", "ILD"} and doc.reviewed_mask("GR")[:10].all()


def test_layout_commands_validate_and_merge_drags():
    doc = sample_document()
    stack = UndoStack(doc)
    with pytest.raises(LayoutError):
        stack.push(AddDepthTie(600.0, 2000.0))  # depth would not be monotonic
    stack.push(SetTrackBounds(1, 230, 400, gesture=3))
    stack.push(SetTrackBounds(1, 240, 410, gesture=3))
    assert len(stack) == 1 and (doc.layout.tracks[1].x0, doc.layout.tracks[1].x1) == (240, 410)
    stack.push(SetLayout(None))
    assert doc.layout is None
    stack.undo()
    stack.undo()
    assert doc.layout == sample_layout()


def test_layout_with_tie_replaces_a_tie_on_the_same_row():
    layout = layout_with_tie(sample_layout(), 100.0, 990.0)
    assert layout.depth.ties[0] == (100.0, 990.0) and len(layout.depth.ties) == 2


def test_unknown_command_in_a_log_is_rejected():
    with pytest.raises(VeerDeskError, match="unknown edit"):
        command_from_dict({"type": "FormatDisk"})


# --------------------------------------------------------------------------- properties over random edit sessions

_CURVES = ("GR", "CALI", "ILD")
_depth = st.floats(min_value=995, max_value=1105, allow_nan=False)


def _command_strategy():
    name = st.sampled_from(_CURVES)
    return st.one_of(
        st.builds(EraseRange, name, _depth, _depth),
        st.builds(MovePoint, name, st.integers(0, 200), st.floats(0.5, 140), st.sampled_from([None, 1, 2])),
        st.builds(SwapCurves, st.just("GR"), st.sampled_from(["CALI", "ILD"]), _depth, _depth),
        st.builds(AcceptReview, name, st.integers(0, 100), st.integers(100, 201)),
        st.builds(lambda n, d, v: RedrawStretch(n, np.array(d), np.array(v)), name,
                  st.lists(_depth, min_size=2, max_size=5), st.lists(st.floats(0.5, 140), min_size=5, max_size=5)),
        st.builds(SetTrackBounds, st.integers(0, 1), st.floats(0, 200), st.floats(220, 440), st.sampled_from([None, 9])),
    )


def _fix_lengths(command):
    if isinstance(command, RedrawStretch):
        command.values = command.values[: len(command.depths)]
    return command


@settings(max_examples=60, deadline=None)
@given(st.lists(_command_strategy(), min_size=1, max_size=12), st.integers(0, 12))
def test_random_sessions_undo_to_the_start_and_replay_to_the_end(commands, undos):
    doc = sample_document()
    start = doc.copy()
    stack = UndoStack(doc)
    for command in commands:
        stack.push(_fix_lengths(command))
    for _ in range(undos):
        stack.undo()
    assert replay(start, stack.done_commands()).same_content(doc)
    while stack.can_redo:
        stack.redo()
    assert replay(start, stack.done_commands()).same_content(doc)
    while stack.can_undo:
        stack.undo()
    assert doc.same_content(start)
