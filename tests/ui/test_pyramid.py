import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veerdesk.ui.pyramid import ImagePyramid, level_count, level_for_scale, reduce_max


def test_level_count_stops_when_the_page_fits_one_tile():
    assert level_count(512, 300) == 1
    assert level_count(100_000, 3_000) == 9  # 100000 / 2^8 = 391 ≤ 512
    assert level_count(250_000, 2_400) == 10


@given(st.floats(min_value=1e-4, max_value=16), st.integers(min_value=1, max_value=12))
def test_level_for_scale_is_never_blurrier_than_needed(scale, levels):
    level = level_for_scale(scale, levels)
    assert 0 <= level < levels
    # Level k has 2^-k px per image px; it must give at least one texel per screen pixel.
    assert 2.0**-level >= scale - 1e-9 or level == 0
    if level < levels - 1:
        assert 2.0 ** -(level + 1) < scale + 1e-9


def test_max_reduction_keeps_one_pixel_lines():
    block = np.zeros((64, 64), np.uint8)
    block[:, 17] = 2
    reduced = reduce_max(block, 16)
    assert reduced.shape == (4, 4) and (reduced[:, 1] == 2).all() and reduced[:, 0].max() == 0


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(0, 1), st.integers(0, 1))
def test_tiles_of_unbuilt_levels_match_built_ones(level, row, col):
    rng = np.random.default_rng(level * 10 + row)
    base = (rng.random((1500, 1300)) > 0.97).astype(np.uint8) * 2
    lazy = ImagePyramid(base, "max", tile=256)
    built = ImagePyramid(base, "max", tile=256)
    built.build()
    assert built.built_levels() == built.levels and lazy.built_levels() == 1
    rows, cols = built.tile_grid(level)
    r, c = min(row, rows - 1), min(col, cols - 1)
    assert np.array_equal(lazy.tile(level, r, c), built.tile(level, r, c))


def test_update_region_refreshes_built_levels():
    base = np.zeros((2048, 1024), np.uint8)
    pyr = ImagePyramid(base, "max", tile=256)
    pyr.build()
    base[1000:1010, 500:520] = 1
    pyr.update_region(1000, 500, 1010, 520)
    fresh = ImagePyramid(base.copy(), "max", tile=256)
    fresh.build()
    for level in range(pyr.levels):
        assert np.array_equal(pyr.tile(level, 0, 0), fresh.tile(level, 0, 0))
        rows, cols = pyr.tile_grid(level)
        assert np.array_equal(pyr.tile(level, rows - 1, cols - 1), fresh.tile(level, rows - 1, cols - 1))


def test_area_levels_have_the_documented_shape():
    pyr = ImagePyramid(np.full((1001, 333), 255, np.uint8), "area", tile=128)
    pyr.build()
    for level in range(pyr.levels):
        h, w = pyr.level_shape(level)
        rows, cols = pyr.tile_grid(level)
        last = pyr.tile(level, rows - 1, cols - 1)
        assert (rows - 1) * 128 + last.shape[0] == h and (cols - 1) * 128 + last.shape[1] == w


def test_mask_colours_paint_a_four_class_models_dotted_pixels_like_other_broken_lines():
    from PySide6.QtGui import QColor

    from veerdesk.ui.tiles import mask_colors

    table = mask_colors(QColor("red"), QColor("blue"), True, True, 0.5)
    assert table[4].name() == table[3].name() == table[2].name() == QColor("blue").name()
    assert table[3].alphaF() == pytest.approx(0.5, abs=0.01)
    hidden = mask_colors(QColor("red"), QColor("blue"), True, False, 0.5)
    assert hidden[2].alphaF() == hidden[3].alphaF() == hidden[4].alphaF() == 0.0
