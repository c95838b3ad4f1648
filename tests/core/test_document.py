import numpy as np
import pytest
from doc_samples import sample_document

from veerdesk.core.document import CHANGE_TRACES, Document, make_trace, traces_equal


def test_make_trace_copies_and_checks_lengths():
    depth = np.arange(5.0)
    trace = make_trace("GR", depth, depth * 2, np.ones(5))
    depth[0] = 99
    assert trace.depth[0] == 0
    with pytest.raises(ValueError):
        make_trace("GR", np.arange(5.0), np.arange(4.0), np.ones(5))


def test_index_range_is_inclusive_of_both_depths():
    doc = sample_document()
    i0, i1 = doc.index_range("GR", 1010, 1012)
    assert list(doc.trace("GR").depth[i0:i1]) == [1010, 1010.5, 1011, 1011.5, 1012]
    assert doc.index_range("GR", 1012, 1010) == (i0, i1)
    assert doc.index_range("GR", 5000, 6000)[1] - doc.index_range("GR", 5000, 6000)[0] == 0


def test_reviewed_mask_defaults_to_false_and_unknown_curve_raises():
    doc = sample_document()
    assert not doc.reviewed_mask("GR").any()
    with pytest.raises(KeyError, match="NOPE"):
        doc.trace("NOPE")


def test_copy_is_deep_and_same_content_detects_changes():
    doc = sample_document()
    twin = doc.copy()
    assert doc.same_content(twin)
    twin.traces["GR"].value[3] += 1
    assert not doc.same_content(twin)
    assert traces_equal(doc.traces["ILD"], twin.traces["ILD"])


def test_listeners_hear_changes_until_unsubscribed():
    doc = Document()
    heard = []
    doc.subscribe(heard.append)
    doc.notify({CHANGE_TRACES})
    doc.unsubscribe(heard.append)
    doc.notify({CHANGE_TRACES})
    assert heard == [{CHANGE_TRACES}]
