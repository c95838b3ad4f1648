"""The matplotlib-style bench: its layout comes from matplotlib's transforms, so the truth must sit on the ink."""

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")  # in the dev extra; the product itself does not need it
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from bench_plot_library_style import HOUSE_STYLES, render_page, upscaled  # noqa: E402


@pytest.mark.parametrize("house", HOUSE_STYLES)
def test_plot_pages_have_truth_on_their_ink_and_a_valid_layout(house):
    assert sum(_check_page(seed, house) for seed in (3, 4)) >= 1  # at least one solid curve against the ink


def test_an_upscaled_page_keeps_its_truth_on_the_ink():
    page = render_page(3, "mpl default")
    [(_, pixels, layout, truth)] = upscaled([("mpl default", *page)], 2.5)
    assert pixels.shape[0] == round(page[0].shape[0] * 2.5)
    assert _check_page(3, "mpl default", (pixels, layout, truth), reach=20) >= 1


def _check_page(seed: int, house: str, page=None, reach: int = 8) -> int:
    pixels, layout, truth = page or render_page(seed, house)
    assert pixels.dtype == np.uint8 and pixels.ndim == 2
    assert set(truth) == {c.mnemonic for _, _, c in layout.curves()}
    grid = layout.depth_grid()
    rows = np.round(layout.depth.row_at_depth(grid)).astype(int)
    paper = np.percentile(pixels, 90)
    checked = 0
    for _, track, curve in layout.curves():
        values = truth[curve.mnemonic]
        assert values.shape == grid.shape and np.isfinite(values).mean() > 0.9
        assert 0 <= track.x0 < track.x1 <= pixels.shape[1]
        if curve.style != "solid":
            continue
        ok = np.isfinite(values)
        cols = track.column_at_value(values[ok], curve.scale)
        # The ink's centre in each row, within `reach` px of where the truth puts the pen: the layout read from
        # matplotlib's transforms must agree with the drawing to a fraction of a pixel, not just "near ink".
        offsets = []
        for r, c in zip(rows[ok], cols, strict=True):
            lo = int(max(0, np.floor(c) - reach))
            weight = np.clip(paper - 60.0 - pixels[r, lo:int(np.floor(c)) + reach + 1].astype(float), 0, None)
            if weight.sum() > 0:
                offsets.append(np.sum((lo + np.arange(weight.size) + 0.5) * weight) / weight.sum() - c)
        assert len(offsets) > 0.9 * ok.sum() and abs(np.median(offsets)) < 1.0, (house, curve.mnemonic)
        checked += 1
    assert sum(len(t.curves) for t in layout.tracks) >= 2
    return checked


def test_every_house_draws_its_own_look():
    pages = {house: render_page(5, house)[0] for house in ("mpl default", "mpl 1-bit")}
    assert set(np.unique(pages["mpl 1-bit"]).tolist()) <= {0, 255}
    assert len(np.unique(pages["mpl default"])) > 2  # anti-aliased grey levels
