"""Choosing between trained weights without being fooled by page noise.

Weights are compared by the share of recovered curves with R² >= 0.9, averaged over page sets (our generated
selection pages and the independent foreign renderer's pages). Two checkpoints of one run, or a run and the
weights it started from, differ by a few curves out of a few hundred; which pages were drawn moves that
share by about as much (the card and the selection disagreed twice on which of two weights was ahead).

So the weights shipped now (the incumbent) are replaced only when a paired bootstrap over pages says the
challenger is ahead with probability >= :data:`SWITCH_CONFIDENCE`: pages are drawn with replacement within
each page set, the same draw for both weights, and the score difference is recomputed for each draw. A
challenger that is ahead on the point figure but within the noise does not displace the incumbent; when no
incumbent is given, the point figures decide. numpy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

SHARE_THRESHOLD = 0.9
# How sure the bootstrap must be that a challenger is ahead before it replaces the shipped weights.
SWITCH_CONFIDENCE = 0.8
BOOTSTRAP_ROUNDS = 4000

# One candidate's recovered-curve R² on one page set: one array per page (NaN = curve not recovered).
PageScores = Sequence[Sequence[float]]


def _hits_and_counts(pages: PageScores, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    hits = np.array([np.sum(np.nan_to_num(np.asarray(p, float), nan=-np.inf) >= threshold) for p in pages], float)
    counts = np.array([len(p) for p in pages], float)
    return hits, counts


def selection_score(page_sets: Sequence[PageScores], threshold: float = SHARE_THRESHOLD) -> float:
    """Mean over the page sets of the share of curves (pooled over the set's pages) with R² >= threshold."""
    shares = []
    for pages in page_sets:
        hits, counts = _hits_and_counts(pages, threshold)
        shares.append(hits.sum() / counts.sum() if counts.sum() else 0.0)
    return float(np.mean(shares)) if shares else 0.0


@dataclass(frozen=True)
class Comparison:
    """Challenger minus incumbent: the point difference of :func:`selection_score`, its 90 % bootstrap
    interval and the bootstrap probability that the challenger is ahead (ties count half)."""

    difference: float
    low: float
    high: float
    p_ahead: float

    def as_dict(self) -> dict[str, float]:
        return {"difference": round(self.difference, 4), "low_5": round(self.low, 4), "high_95": round(self.high, 4),
                "p_ahead": round(self.p_ahead, 3)}


def paired_bootstrap(challenger: Sequence[PageScores], incumbent: Sequence[PageScores], *,
                     rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0,
                     threshold: float = SHARE_THRESHOLD) -> Comparison:
    """Compare two candidates scored on the same page sets (same pages, same curves, same order)."""
    if len(challenger) != len(incumbent):
        raise ValueError("both candidates must be scored on the same page sets")
    rng = np.random.default_rng(seed)
    diffs = np.zeros(rounds)
    for mine, theirs in zip(challenger, incumbent, strict=True):
        if len(mine) != len(theirs) or any(len(a) != len(b) for a, b in zip(mine, theirs, strict=True)):
            raise ValueError("both candidates must be scored on the same pages and curves")
        if not mine:
            continue
        hits_a, counts = _hits_and_counts(mine, threshold)
        hits_b, _ = _hits_and_counts(theirs, threshold)
        draw = rng.integers(0, len(mine), size=(rounds, len(mine)))
        total = counts[draw].sum(axis=1)
        total[total == 0] = 1.0
        diffs += (hits_a[draw].sum(axis=1) - hits_b[draw].sum(axis=1)) / total
    diffs /= max(1, len(challenger))
    point = selection_score(challenger, threshold) - selection_score(incumbent, threshold)
    p_ahead = float(np.mean(diffs > 0) + 0.5 * np.mean(diffs == 0))
    return Comparison(point, float(np.quantile(diffs, 0.05)), float(np.quantile(diffs, 0.95)), p_ahead)


def choose_weights(scores: Mapping[str, Sequence[PageScores]], incumbent: str | None = None, *,
                   tiebreak: Mapping[str, float] | None = None,
                   confidence: float = SWITCH_CONFIDENCE) -> tuple[str, dict[str, dict[str, float]]]:
    """(the chosen candidate, each challenger's comparison with the incumbent).

    Without an incumbent the highest :func:`selection_score` wins (``tiebreak``, higher better, breaks ties).
    With one, only challengers ahead of it with bootstrap probability >= ``confidence`` may replace it, and
    the best of those by point score does.
    """
    if not scores:
        raise ValueError("no candidates to choose from")
    tiebreak = tiebreak or {}

    def rank(name: str) -> tuple[float, float]:
        return round(selection_score(scores[name]), 4), tiebreak.get(name, 0.0)

    if incumbent is None or incumbent not in scores:
        return max(scores, key=rank), {}
    comparisons = {name: paired_bootstrap(scores[name], scores[incumbent]) for name in scores if name != incumbent}
    sure = [name for name, c in comparisons.items() if c.p_ahead >= confidence and c.difference > 0]
    chosen = max(sure, key=rank) if sure else incumbent
    return chosen, {name: c.as_dict() for name, c in comparisons.items()}


__all__ = ["Comparison", "choose_weights", "paired_bootstrap", "selection_score"]
