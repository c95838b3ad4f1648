"""The review queue: stretches of traced curves where the model was unsure, worst first.

A stretch is a run of depth samples whose confidence is below the threshold (gaps of a few samples are
bridged so one smudge is one item). Interior gaps (the tracer lost the curve between two found parts)
count too; leading and trailing absence does not, since curves often start and end on the sheet. Whether
an item is reviewed is derived from the document's per-sample ``reviewed`` flags, so accepting survives
a change of threshold and an undo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from veerdesk.core.document import Document

DEFAULT_THRESHOLD = 0.5
DEFAULT_MERGE_GAP = 3
# Longer weak runs are split: an item should fit on one screen to be reviewed properly.
DEFAULT_MAX_SAMPLES = 200
DEFAULT_MAX_ROWS = 600  # image rows, when the document has a layout to convert depth to rows


@dataclass(frozen=True)
class ReviewItem:
    mnemonic: str
    i0: int  # first sample
    i1: int  # one past the last sample
    depth_top: float
    depth_bottom: float
    mean_confidence: float
    reviewed: bool

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.mnemonic, self.i0, self.i1)

    @property
    def samples(self) -> int:
        return self.i1 - self.i0


def low_confidence_runs(value: np.ndarray, confidence: np.ndarray, threshold: float, merge_gap: int = DEFAULT_MERGE_GAP,
                        max_samples: int | None = None) -> list[tuple[int, int]]:
    """Half-open index runs where confidence < threshold, bridging gaps of up to ``merge_gap`` samples;
    runs longer than ``max_samples`` are cut into near-equal pieces."""
    value = np.asarray(value, dtype=np.float64)
    conf = np.nan_to_num(np.asarray(confidence, dtype=np.float64), nan=0.0)
    found = np.isfinite(value)
    if not found.any():
        return []
    first, last = int(np.argmax(found)), int(len(found) - 1 - np.argmax(found[::-1]))
    weak = conf < threshold
    weak[:first] = False
    weak[last + 1 :] = False
    edges = np.diff(np.concatenate(([0], weak.astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    runs: list[tuple[int, int]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if runs and s - runs[-1][1] <= merge_gap:
            runs[-1] = (runs[-1][0], e)
        else:
            runs.append((s, e))
    if max_samples is not None and max_samples > 0:
        runs = [piece for run in runs for piece in _split(run, max_samples)]
    return runs


def _split(run: tuple[int, int], max_samples: int) -> list[tuple[int, int]]:
    start, end = run
    pieces = -(-(end - start) // max_samples)
    edges = np.linspace(start, end, pieces + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _max_samples_for_rows(doc: Document, depth: np.ndarray, max_rows: float) -> int | None:
    if doc.layout is None or depth.size < 2:
        return None
    rows = doc.layout.depth.row_at_depth(np.array([depth[0], depth[-1]]))
    if not np.isfinite(rows).all() or rows[1] == rows[0]:
        return None
    rows_per_sample = abs(float(rows[1] - rows[0])) / (depth.size - 1)
    return max(1, int(max_rows / rows_per_sample))


def find_review_items(doc: Document, threshold: float = DEFAULT_THRESHOLD, merge_gap: int = DEFAULT_MERGE_GAP,
                      max_samples: int | None = DEFAULT_MAX_SAMPLES, max_rows: float | None = DEFAULT_MAX_ROWS
                      ) -> list[ReviewItem]:
    """Every low-confidence stretch of every traced curve, lowest mean confidence first.

    A stretch longer than ``max_samples`` samples or ``max_rows`` image rows is cut into pieces.
    """
    items = []
    for name, trace in doc.traces.items():
        limit = max_samples
        by_rows = _max_samples_for_rows(doc, trace.depth, max_rows) if max_rows else None
        if by_rows is not None:
            limit = by_rows if limit is None else min(limit, by_rows)
        reviewed = doc.reviewed_mask(name)
        conf = np.nan_to_num(np.asarray(trace.confidence, dtype=np.float64), nan=0.0)
        for i0, i1 in low_confidence_runs(trace.value, conf, threshold, merge_gap, limit):
            depths = trace.depth[i0:i1]
            items.append(
                ReviewItem(
                    name, i0, i1, float(depths.min()), float(depths.max()), float(conf[i0:i1].mean()),
                    bool(reviewed[i0:i1].all()),
                )
            )
    # Worst first; among equals the longer stretch, then a stable order by curve and depth.
    items.sort(key=lambda it: (round(it.mean_confidence, 6), -it.samples, it.mnemonic, it.i0))
    return items


class ReviewQueue:
    """The queue the review panel shows, with a cursor that next/previous move."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, merge_gap: int = DEFAULT_MERGE_GAP,
                 max_samples: int | None = DEFAULT_MAX_SAMPLES) -> None:
        self.threshold = threshold
        self.merge_gap = merge_gap
        self.max_samples = max_samples
        self.items: list[ReviewItem] = []
        self.position: int | None = None

    def refresh(self, doc: Document) -> None:
        """Recompute from ``doc``, keeping the cursor on the same stretch when it still exists."""
        current = self.current
        self.items = find_review_items(doc, self.threshold, self.merge_gap, self.max_samples)
        self.position = None
        if current is not None:
            for i, item in enumerate(self.items):
                if item.key == current.key:
                    self.position = i
                    break

    def set_threshold(self, threshold: float, doc: Document) -> None:
        self.threshold = float(threshold)
        self.refresh(doc)

    @property
    def current(self) -> ReviewItem | None:
        if self.position is None or not 0 <= self.position < len(self.items):
            return None
        return self.items[self.position]

    @property
    def progress(self) -> tuple[int, int]:
        """(reviewed, total)."""
        return sum(it.reviewed for it in self.items), len(self.items)

    def select(self, position: int | None) -> ReviewItem | None:
        self.position = position if position is not None and 0 <= position < len(self.items) else None
        return self.current

    def next(self) -> ReviewItem | None:
        if not self.items:
            return None
        self.position = 0 if self.position is None else min(self.position + 1, len(self.items) - 1)
        return self.current

    def previous(self) -> ReviewItem | None:
        if not self.items:
            return None
        self.position = 0 if self.position is None else max(self.position - 1, 0)
        return self.current

    def next_unreviewed(self) -> ReviewItem | None:
        """The first unreviewed item after the cursor (wrapping), or None when all are reviewed."""
        n = len(self.items)
        start = -1 if self.position is None else self.position
        for step in range(1, n + 1):
            i = (start + step) % n
            if not self.items[i].reviewed:
                self.position = i
                return self.items[i]
        return None
