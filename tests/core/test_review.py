import numpy as np
from doc_samples import sample_document

from veerdesk.core.commands import AcceptReview, UndoStack
from veerdesk.core.review import ReviewQueue, find_review_items, low_confidence_runs


def test_runs_bridge_small_gaps_and_ignore_leading_and_trailing_absence():
    value = np.array([np.nan, np.nan, 1, 1, 1, 1, 1, np.nan, 1, 1, np.nan])
    conf = np.array([0, 0, 0.9, 0.2, 0.9, 0.2, 0.9, 0.0, 0.9, 0.9, 0.0])
    assert low_confidence_runs(value, conf, 0.5, merge_gap=1) == [(3, 8)]
    assert low_confidence_runs(value, conf, 0.5, merge_gap=0) == [(3, 4), (5, 6), (7, 8)]
    assert low_confidence_runs(np.full(4, np.nan), np.zeros(4), 0.5) == []


def test_items_are_worst_first_with_depths():
    doc = sample_document()
    items = find_review_items(doc, threshold=0.5)
    assert [(it.mnemonic, it.depth_top, it.depth_bottom) for it in items] == [
        ("GR", 1010.0, 1012.0), ("ILD", 1050.0, 1060.0)]
    assert items[0].mean_confidence < items[1].mean_confidence
    assert find_review_items(doc, threshold=0.2)[0].mnemonic == "GR"
    assert len(find_review_items(doc, threshold=0.2)) == 1


def test_accepting_marks_reviewed_and_survives_refresh_and_undo():
    doc = sample_document()
    queue = ReviewQueue(threshold=0.5)
    queue.refresh(doc)
    assert queue.progress == (0, 2)
    item = queue.next()
    stack = UndoStack(doc)
    stack.push(AcceptReview(item.mnemonic, item.i0, item.i1))
    queue.refresh(doc)
    assert queue.progress == (1, 2)
    assert queue.current.key == item.key and queue.current.reviewed
    assert queue.next_unreviewed().mnemonic == "ILD"
    stack.undo()
    queue.refresh(doc)
    assert queue.progress == (0, 2)


def test_cursor_moves_and_clamps():
    doc = sample_document()
    queue = ReviewQueue()
    assert queue.next() is None
    queue.refresh(doc)
    assert queue.previous().mnemonic == "GR"
    assert queue.next().mnemonic == "ILD"
    assert queue.next().mnemonic == "ILD"
    assert queue.previous().mnemonic == "GR"
    queue.set_threshold(0.2, doc)
    assert queue.current.mnemonic == "GR" and queue.progress == (0, 1)


def test_long_weak_runs_are_split_into_screen_sized_items():
    value = np.ones(1000)
    conf = np.full(1000, 0.1)
    runs = low_confidence_runs(value, conf, 0.5, max_samples=300)
    assert runs == [(0, 250), (250, 500), (500, 750), (750, 1000)]
    assert low_confidence_runs(value, conf, 0.5, max_samples=None) == [(0, 1000)]


def test_items_are_cut_to_a_screenful_of_rows():
    doc = sample_document()  # 10 rows per foot, 0.5 ft per sample: 5 rows per sample
    doc.traces["ILD"].confidence[:] = 0.2
    items = find_review_items(doc, threshold=0.5, max_samples=None, max_rows=100)
    ild = sorted((it for it in items if it.mnemonic == "ILD"), key=lambda it: it.i0)
    assert len(ild) > 1 and all(it.samples <= 20 for it in ild)
    assert ild[0].i0 == 0 and ild[-1].i1 == doc.trace("ILD").depth.size
