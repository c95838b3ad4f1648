import numpy as np

from veerdesk.synth import signals
from veerdesk.synth.signals import JAGGED_SHARE, curve_shape, plotted_from_samples


def test_a_plotted_curve_runs_straight_between_its_samples():
    shape = np.sin(np.linspace(0, 6, 41))
    plotted = plotted_from_samples(shape, 4.0)
    knots = np.arange(0, 41, 4)
    assert np.allclose(plotted[knots], shape[knots])
    # Straight between samples: zero second difference except at the samples themselves.
    bends = np.flatnonzero(np.abs(np.diff(plotted, 2)) > 1e-12) + 1
    assert set(bends) <= set(knots)
    assert plotted_from_samples(np.array([3.0]), 4.0).tolist() == [3.0]


def _straight_shapes(trials: int) -> int:
    rng = np.random.default_rng(7)
    straight = 0
    for _ in range(trials):
        shape, _ = curve_shape(rng, 300, 1.0)
        d2 = np.abs(np.diff(shape, 2))
        d2 = d2[np.isfinite(d2)]
        straight += d2.size > 0 and np.mean(d2 < 1e-12) > 0.5
    return straight


def test_some_curves_are_plotted_with_straight_strokes(monkeypatch):
    # Heavily stretched real windows run straight between their samples too; the plotted ones add to them.
    trials = 600
    with_plotted = _straight_shapes(trials)
    monkeypatch.setattr(signals, "JAGGED_SHARE", 0.0)
    without = _straight_shapes(trials)
    # Plotted with a sample every 1.5-2 px bends at most rows and is not counted here.
    assert with_plotted - without > 0.2 * JAGGED_SHARE * trials
