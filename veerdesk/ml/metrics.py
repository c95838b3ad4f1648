"""Pixel metrics per class: strict F1 / IoU (comparable to the VeerNet paper) and F1 with 1-px tolerance.

A 1-px curve predicted one pixel to the side scores zero strict F1 but is digitized perfectly well; the
tolerant F1 counts a predicted pixel as correct when a true pixel of its class lies within 1 px (3×3
neighbourhood), and a true pixel as found when a predicted one lies within 1 px.

Counts are accumulated over many images before dividing, so small crops without curves do not skew
the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

_KERNEL = np.ones((3, 3), np.uint8)


def _ratio(num: float, den: float) -> float:
    # A class absent from both prediction and truth is perfectly predicted.
    return 1.0 if den == 0 else num / den


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


@dataclass
class ClassCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tolerant_precision_hits: int = 0  # predicted pixels with a true pixel within 1 px
    tolerant_recall_hits: int = 0  # true pixels with a predicted pixel within 1 px

    def add(self, other: ClassCounts) -> None:
        for name in ("tp", "fp", "fn", "tolerant_precision_hits", "tolerant_recall_hits"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def predicted(self) -> int:
        return self.tp + self.fp

    @property
    def actual(self) -> int:
        return self.tp + self.fn

    def scores(self) -> dict[str, float]:
        precision = _ratio(self.tp, self.predicted)
        recall = _ratio(self.tp, self.actual)
        tol_precision = _ratio(self.tolerant_precision_hits, self.predicted)
        tol_recall = _ratio(self.tolerant_recall_hits, self.actual)
        return {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall) if self.predicted + self.actual else 1.0,
            "iou": _ratio(self.tp, self.tp + self.fp + self.fn),
            "tolerant_f1": _f1(tol_precision, tol_recall) if self.predicted + self.actual else 1.0,
            "pixels": self.actual,
        }


def class_counts(pred: np.ndarray, target: np.ndarray, cls: int) -> ClassCounts:
    """Counts for one class on one label map pair (uint8 H×W each)."""
    p = pred == cls
    t = target == cls
    tp = int(np.count_nonzero(p & t))
    n_pred = int(np.count_nonzero(p))
    n_true = int(np.count_nonzero(t))
    near_true = cv2.dilate(t.view(np.uint8), _KERNEL).view(bool)
    near_pred = cv2.dilate(p.view(np.uint8), _KERNEL).view(bool)
    return ClassCounts(
        tp=tp,
        fp=n_pred - tp,
        fn=n_true - tp,
        tolerant_precision_hits=int(np.count_nonzero(p & near_true)),
        tolerant_recall_hits=int(np.count_nonzero(t & near_pred)),
    )


@dataclass
class SegmentationScores:
    """Accumulates per-class counts over images; :meth:`summary` gives the scores."""

    class_names: Sequence[str]
    counts: list[ClassCounts] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [ClassCounts() for _ in self.class_names]

    def update(self, pred: np.ndarray, target: np.ndarray) -> None:
        if pred.shape != target.shape:
            raise ValueError(f"prediction {pred.shape} and truth {target.shape} differ in shape")
        for cls, acc in enumerate(self.counts):
            acc.add(class_counts(np.ascontiguousarray(pred), np.ascontiguousarray(target), cls))

    def merge(self, other: SegmentationScores) -> None:
        for mine, theirs in zip(self.counts, other.counts, strict=True):
            mine.add(theirs)

    def summary(self) -> dict[str, dict[str, float]]:
        return {name: acc.scores() for name, acc in zip(self.class_names, self.counts, strict=True)}

    def curve_f1(self) -> float:
        """Mean strict F1 over the curve classes (every class but background) — the model-selection score."""
        scores = self.summary()
        return float(np.mean([scores[name]["f1"] for name in self.class_names[1:]]))


# False positives within this many pixels of a true curve are charged to that curve's groups.
ATTRIBUTION_RADIUS = 2


def curve_group_counts(
    pred: np.ndarray, mask: np.ndarray, curve_ids: np.ndarray, curve_groups: Sequence[tuple[int, Sequence[str]]]
) -> dict[str, ClassCounts]:
    """Counts per group of curves (e.g. by style or pen width) on one page.

    ``curve_ids``: uint8 H×W, 0 = no curve, k = 1-based curve index. ``curve_groups``: for each curve k
    (in order, starting at 1), its class (1 solid, 2 non-solid) and the names of the groups it belongs to.
    Recall counts are exact; a false-positive pixel is charged to the true curve within
    :data:`ATTRIBUTION_RADIUS` px (pixels farther from every curve only count in the page totals).
    """
    size = 2 * ATTRIBUTION_RADIUS + 1
    nearby_owner = cv2.dilate(curve_ids, np.ones((size, size), np.uint8))
    owner = np.where(curve_ids > 0, curve_ids, nearby_owner)
    near_pred = {c: cv2.dilate((pred == c).view(np.uint8), _KERNEL).view(bool) for c in (1, 2)}
    near_true = {c: cv2.dilate((mask == c).view(np.uint8), _KERNEL).view(bool) for c in (1, 2)}
    groups: dict[str, ClassCounts] = {}
    for k, (cls, names) in enumerate(curve_groups, start=1):
        truth_k = curve_ids == k
        if not truth_k.any():
            continue
        hit = pred == cls
        tp = truth_k & hit
        fp = hit & (mask != cls) & (owner == k)
        predicted = tp | fp
        counts = ClassCounts(
            tp=int(np.count_nonzero(tp)),
            fp=int(np.count_nonzero(fp)),
            fn=int(np.count_nonzero(truth_k & ~hit)),
            tolerant_precision_hits=int(np.count_nonzero(predicted & near_true[cls])),
            tolerant_recall_hits=int(np.count_nonzero(truth_k & near_pred[cls])),
        )
        for name in names:
            groups.setdefault(name, ClassCounts()).add(counts)
    return groups
