import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veerdesk.inference.tiling import min_context, plan_axis, plan_tiles


@settings(max_examples=200, deadline=None)
@given(length=st.integers(1, 20_000), tile=st.integers(16, 2048), margin=st.integers(0, 200))
def test_axis_kept_pieces_partition_the_axis_and_keep_their_margin(length, tile, margin):
    if tile < 3 * margin or tile <= 2 * margin:
        tile = 3 * margin + 16
    spans = plan_axis(length, tile, margin)
    assert spans[0].k0 == 0 and spans[-1].k1 == length
    for a, b in zip(spans[:-1], spans[1:], strict=True):
        assert a.k1 == b.k0
    for s in spans:
        assert 0 <= s.w0 <= s.k0 < s.k1 <= s.w1 <= length
        assert s.w1 - s.w0 == min(tile, length)
        assert min_context(s, length) >= margin


@settings(max_examples=60, deadline=None)
@given(height=st.integers(1, 700), width=st.integers(1, 700), tile=st.sampled_from([32, 64, 100, 128]),
       margin=st.integers(0, 10))
def test_tiles_cover_every_pixel_exactly_once(height, width, tile, margin):
    hits = np.zeros((height, width), np.int32)
    tiles = plan_tiles(height, width, tile, margin)
    for t in tiles:
        y0, x0, y1, x1 = t.kept
        hits[y0:y1, x0:x1] += 1
        wy0, wx0, wy1, wx1 = t.window
        rows, cols = t.kept_in_window
        assert rows.stop - rows.start == y1 - y0 and rows.stop <= wy1 - wy0
        assert cols.stop - cols.start == x1 - x0 and cols.stop <= wx1 - wx0
    assert (hits == 1).all()
    assert [t.index for t in tiles] == list(range(len(tiles)))


def test_tile_must_exceed_twice_the_margin():
    with pytest.raises(ValueError):
        plan_axis(1000, 64, 32)


def test_empty_axis_has_no_tiles():
    assert plan_tiles(0, 100) == []
