"""The foreign-style bench measures the product against its own truth: the truth must sit on the ink."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from bench_foreign_style import DENSE_ROWS_PER_SAMPLE, HOUSE_STYLES, render_page, wrapped_strokes  # noqa: E402


@pytest.mark.parametrize("house", HOUSE_STYLES)
def test_foreign_pages_have_truth_on_their_ink_and_a_valid_layout(house):
    checked = sum(_check_page(seed, house) for seed in range(7, 11))
    assert checked >= 1  # at least one solid curve checked against the ink


def test_dense_pages_squeeze_the_depth_scale_and_keep_the_truth_on_the_ink():
    for seed, house in enumerate(HOUSE_STYLES):
        _check_page(seed + 7, house, DENSE_ROWS_PER_SAMPLE)
        pixels, layout, _ = render_page(seed + 7, house, rows_per_sample=DENSE_ROWS_PER_SAMPLE)
        rows = np.diff(layout.depth.row_at_depth(layout.depth_grid()[:2]))[0]
        assert DENSE_ROWS_PER_SAMPLE[0] <= rows <= DENSE_ROWS_PER_SAMPLE[1]  # the LAS step is the layout's


def _check_page(seed, house, rows_per_sample=None) -> int:
    pixels, layout, truth = render_page(seed, house, **({"rows_per_sample": rows_per_sample} if rows_per_sample else {}))
    assert pixels.dtype == np.uint8 and pixels.ndim == 2
    grid = layout.depth_grid()
    rows = np.round(layout.depth.row_at_depth(grid)).astype(int)
    paper = np.percentile(pixels, 90)
    checked = 0
    for _, track, curve in layout.curves():
        values = truth[curve.mnemonic]
        assert values.shape == grid.shape and np.isfinite(values).mean() > 0.9
        if curve.style != "solid":
            continue
        ok = np.isfinite(values)
        cols = np.round(track.column_at_value(np.where(ok, values, values[ok][0]), curve.scale)).astype(int)
        # Darkest pixel within 2 px of where the truth says the pen is (a row either side: where the pen runs
        # nearly flat, a fraction of a row moves it many columns).
        near = np.array([pixels[max(0, r - 1) : r + 2, max(0, c - 2) : c + 3].min()
                         for r, c in zip(rows[ok], cols[ok], strict=True)])
        assert np.mean(near < paper - 40) > 0.9, (house, curve.mnemonic)
        checked += 1
    assert sum(len(t.curves) for t in layout.tracks) >= 2
    return checked


def test_same_style_pages_pair_two_curves_per_track_told_apart_by_weight_only():
    pairs = 0
    for seed in range(6):
        house = HOUSE_STYLES[seed % len(HOUSE_STYLES)]
        pixels, layout, truth = render_page(seed, house, same_style=True)
        for track in layout.tracks:
            if len(track.curves) < 2:
                continue
            first, second = track.curves[:2]
            assert first.style == second.style
            # The schema allows one curve per style and weight in a track: the pair differs in weight.
            assert {first.weight, second.weight} in ({"heavy", None}, {"light", None})
            assert all(c.style != first.style for c in track.curves[2:])
            pairs += 1
        assert set(truth) == {c.mnemonic for _, _, c in layout.curves()}
    assert pairs >= 3


def test_wrap_pages_give_curves_a_backup_scale_and_draw_wrapped_values_where_the_layout_says():
    wrapped = inked = 0
    for seed in range(5):
        house = HOUSE_STYLES[seed % len(HOUSE_STYLES)]
        pixels, layout, truth = render_page(seed, house, wrap=True)
        grid = layout.depth_grid()
        rows = np.round(layout.depth.row_at_depth(grid)).astype(int)
        paper = np.percentile(pixels, 90)
        for _, track, curve in layout.curves():
            if curve.backup is None:
                continue
            wrapped += 1
            assert track.scale == "linear" and curve.backup.left == curve.right and curve.left < curve.right
            values = truth[curve.mnemonic]
            on_backup = np.isfinite(values) & (values > curve.right)
            assert on_backup.any() and (np.isfinite(values) & (values <= curve.right)).any()
            if curve.style != "solid" or house == "dithered 1-bit":
                continue
            # Ink where the layout's scales (main, then backup past the main's right end) put the truth.
            cols = np.round(track.display_columns(values, curve)).astype(int)
            ok = np.isfinite(values)
            near = np.array([pixels[max(0, r - 1): r + 2, max(0, c - 2): c + 3].min()
                             for r, c in zip(rows[ok], cols[ok], strict=True)])
            assert np.mean(near < paper - 40) > 0.8, (seed, curve.mnemonic)
            inked += 1
    assert wrapped >= 3 and inked >= 1


def test_a_wrapping_stroke_runs_to_one_edge_and_on_from_the_other():
    # Unwrapped columns on a 0-100 track: out past the right edge at y = 4/3, back in at y = 2.8.
    parts = wrapped_strokes(np.array([50.0, 90.0, 120.0, 95.0]), np.array([0.0, 1.0, 2.0, 3.0]), 0.0, 100.0)
    assert len(parts) == 3
    assert np.allclose(parts[0][-1], [100.0, 4 / 3]) and np.allclose(parts[1][0], [0.0, 4 / 3])
    assert np.allclose(parts[1], [[0.0, 4 / 3], [20.0, 2.0], [0.0, 2.8]])
    assert np.allclose(parts[2], [[100.0, 2.8], [95.0, 3.0]])
