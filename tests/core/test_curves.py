import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veerdesk.core.curves import (
    CurveTrace,
    bridge_gaps,
    coverage_of,
    interpolate_series,
    low_confidence_ranges,
    r_squared,
    sample_rows,
)


def test_curve_trace_validates_and_zeroes_confidence_where_absent():
    t = CurveTrace("GR", [1, 2, 3], [10.0, np.nan, 30.0], [0.9, 0.8, 1.5])
    assert t.confidence.tolist() == pytest.approx([0.9, 0.0, 1.0])
    assert t.coverage == pytest.approx(2 / 3)
    assert t.mean_confidence == pytest.approx(0.95)
    with pytest.raises(ValueError, match="lengths"):
        CurveTrace("GR", [1, 2], [1.0], [1.0])
    absent = CurveTrace.absent("X", np.arange(4.0))
    assert absent.coverage == 0 and absent.mean_confidence == 0


def test_bridge_gaps_fills_short_inner_gaps_only():
    v = np.array([np.nan, 1, np.nan, 3, np.nan, np.nan, np.nan, 7, np.nan])
    filled, bridged = bridge_gaps(v, 2)
    assert filled[2] == 2 and bridged[2]
    assert np.isnan(filled[[0, 4, 5, 6, 8]]).all()  # edges and the 3-long gap stay absent
    assert bridged.sum() == 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.just(np.nan), st.floats(-1e6, 1e6)), min_size=0, max_size=60), st.integers(0, 10))
def test_bridge_gaps_never_changes_evidence_and_never_extrapolates(values, max_gap):
    v = np.array(values, dtype=float)
    filled, bridged = bridge_gaps(v, max_gap)
    ok = np.isfinite(v)
    assert np.array_equal(filled[ok], v[ok]) and not bridged[ok].any()
    if ok.any():
        first, last = np.flatnonzero(ok)[[0, -1]]
        assert not bridged[:first].any() and not bridged[last + 1 :].any()
        lo, hi = v[ok].min(), v[ok].max()
        assert ((filled[bridged] >= lo - 1e-6) & (filled[bridged] <= hi + 1e-6)).all()


def test_interpolate_series_needs_both_neighbours():
    v = np.array([0.0, 10.0, np.nan, 30.0])
    out = interpolate_series(v, np.array([0.0, 0.5, 1.0, 1.5, 3.0, 3.4, -0.4, -1.0, 3.6]))
    assert out[:3].tolist() == [0.0, 5.0, 10.0]
    assert np.isnan(out[3])
    assert out[4] == 30.0 and out[5] == 30.0 and out[6] == 0.0
    assert np.isnan(out[7]) and np.isnan(out[8])


def test_sample_rows_uses_pixel_centres():
    rows = np.array([0.0, 10.0, 20.0])  # values at y = 0.5, 1.5, 2.5
    assert sample_rows(rows, np.array([0.5, 1.0, 2.5])).tolist() == [0.0, 5.0, 20.0]


def test_r_squared_and_coverage():
    t = np.array([1.0, 2.0, 3.0, np.nan])
    assert r_squared(t, t) == 1.0
    assert r_squared(t, np.array([3.0, 2.0, 1.0, 5.0])) == pytest.approx(-3.0)
    assert np.isnan(r_squared(t, np.full(4, np.nan)))
    assert coverage_of(t, np.array([1.0, np.nan, 3.0, 4.0])) == pytest.approx(2 / 3)


def test_low_confidence_ranges_report_top_bottom_and_mean():
    depth = np.arange(100.0, 110.0)
    conf = np.array([0.9, 0.2, 0.3, 0.1, 0.9, 0.4, 0.9, 0.1, 0.1, 0.1])
    present = np.ones(10, bool)
    present[8] = False
    ranges = low_confidence_ranges(depth, conf, present, threshold=0.5, min_samples=2)
    assert ranges == [[101.0, 103.0, 0.2]]
    singles = low_confidence_ranges(depth, conf, present, threshold=0.5, min_samples=1)
    assert [r[:2] for r in singles] == [[101.0, 103.0], [105.0, 105.0], [107.0, 107.0], [109.0, 109.0]]


def test_bridging_along_the_ends_follows_a_bend_the_chord_cuts_short():
    from veerdesk.core.curves import bridge_gaps_along_ends

    # A dashed curve rounding a peak inside a gap: the dashes before and after point up into it.
    x = np.arange(40, dtype=float)
    truth = 20.0 - 0.05 * (x - 20.0) ** 2
    seen = truth.copy()
    seen[14:27] = np.nan
    linear, bridged_linear = bridge_gaps(seen, 20)
    along, bridged_along = bridge_gaps_along_ends(seen, 20)
    assert np.array_equal(bridged_along, bridged_linear)
    gap = slice(14, 27)
    assert np.abs(along[gap] - truth[gap]).max() < 0.5 * np.abs(linear[gap] - truth[gap]).max()
    # A straight stretch stays straight, and the evidence is never touched.
    line = 3.0 + 0.4 * x
    line_seen = line.copy()
    line_seen[10:20] = np.nan
    filled, _ = bridge_gaps_along_ends(line_seen, 20)
    assert np.allclose(filled, line)


def test_bridging_along_the_ends_keeps_short_ends_straight_and_slopes_capped():
    from veerdesk.core.curves import END_SLOPE_CAP, END_SLOPE_SLACK, bridge_gaps_along_ends

    # Two samples before the gap are too few for a direction: the chord is kept.
    v = np.array([0.0, 1.0, np.nan, np.nan, np.nan, 5.0, 6.0, 7.0, 8.0])
    filled, _ = bridge_gaps_along_ends(v, 5)
    linear, _ = bridge_gaps(v, 5)
    assert np.allclose(filled, linear, equal_nan=True)
    # A flat chord between two steep ends: the bridge's excursion stays within what the capped slopes allow.
    steep = np.array([0.0, 10.0, 20.0, 30.0, np.nan, np.nan, np.nan, np.nan, 30.0, 20.0, 10.0, 0.0])
    filled, bridged = bridge_gaps_along_ends(steep, 6)
    span, chord = 5, 0.0
    cap = END_SLOPE_CAP * abs(chord) + END_SLOPE_SLACK  # the ends' slopes (±10 a sample) are cut to this
    bound = 30.0 + 2 * (4 / 27) * span * cap  # 4/27: the largest value of either Hermite slope basis
    assert bridged[4:8].all() and np.all(filled[4:8] <= bound + 1e-9) and np.all(filled[4:8] >= 30.0 - 1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.just(np.nan), st.floats(-1e6, 1e6)), min_size=0, max_size=60), st.integers(0, 10))
def test_bridging_along_the_ends_never_changes_evidence_and_never_extrapolates(values, max_gap):
    from veerdesk.core.curves import bridge_gaps_along_ends

    v = np.array(values, dtype=float)
    filled, bridged = bridge_gaps_along_ends(v, max_gap)
    linear, bridged_linear = bridge_gaps(v, max_gap)
    ok = np.isfinite(v)
    assert np.array_equal(filled[ok], v[ok]) and np.array_equal(bridged, bridged_linear)
    assert np.isfinite(filled[bridged]).all() and np.isnan(filled[~ok & ~bridged]).all()
