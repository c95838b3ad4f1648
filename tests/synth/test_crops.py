import numpy as np
import pytest

from veerdesk.core.classes import SOLID
from veerdesk.synth import CropStream
from veerdesk.synth.variety import plotter_pattern


def test_crops_have_the_requested_shape_and_classes():
    stream = CropStream(5, crop=128)
    for _ in range(6):
        image, mask = next(stream)
        assert image.shape == mask.shape == (128, 128)
        assert image.dtype == np.uint8 and mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 1, 2}


def test_crop_stream_is_deterministic_by_seed():
    a = [next(iter(CropStream(9, crop=96))) for _ in range(1)]
    s1, s2 = CropStream(9, crop=96), CropStream(9, crop=96)
    for _ in range(4):
        (i1, m1), (i2, m2) = next(s1), next(s2)
        assert np.array_equal(i1, i2) and np.array_equal(m1, m2)
    other = next(CropStream(10, crop=96))
    assert not np.array_equal(a[0][0], other[0])


def test_most_crops_contain_curves():
    stream = CropStream(3, crop=128)
    with_curves = sum(np.count_nonzero(next(stream)[1]) > 50 for _ in range(20))
    assert with_curves >= 14


def test_ids_match_mask_and_clean_crops_have_ink_under_the_mask():
    stream = CropStream(4, crop=128, clean=True, with_ids=True)
    for _ in range(6):
        image, mask, ids = next(stream)
        assert np.array_equal(mask > 0, ids > 0)
        if mask.any():
            paper = np.median(image[mask == 0])
            assert np.mean(image[mask > 0] < paper - 25) > 0.95


@pytest.mark.parametrize(("classes", "seed", "crops"), [(4, 4242, 12), (5, 4343, 16)])
def test_more_classes_only_set_broken_styles_apart(classes, seed, crops):
    """Four classes set dotted curves apart (class 3), five dash-dot too (class 4); the pixels, owners and
    every other label are the three-class stream's."""
    from veerdesk.core.classes import DASHDOT, DOTTED, to_three_classes

    newest = {4: DOTTED, 5: DASHDOT}[classes]
    three = CropStream(seed, crop=160, with_ids=True)
    more = CropStream(seed, crop=160, with_ids=True, classes=classes)
    seen_newest = False
    for _ in range(crops):
        image3, mask3, ids3 = next(three)
        image, mask, ids = next(more)
        assert np.array_equal(image3, image) and np.array_equal(ids3, ids)
        assert np.array_equal(to_three_classes(mask), mask3)
        seen_newest |= bool((mask == newest).any())
    assert seen_newest


def test_without_coarse_captures_the_stream_is_unchanged():
    # Training configs of earlier stages must keep drawing the crops they were trained on.
    plain, zero = CropStream(21, crop=96, with_ids=True), CropStream(21, crop=96, with_ids=True, coarse_share=0.0)
    for _ in range(4):
        a, b = next(plain), next(zero)
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    with pytest.raises(ValueError, match="coarse_share"):
        CropStream(21, crop=96, coarse_share=1.5)


def test_plotter_dashes_change_only_broken_curves_and_zero_keeps_the_stream():
    plain, zero = CropStream(33, crop=128, with_ids=True), CropStream(33, crop=128, with_ids=True, plotter_share=0.0)
    plotted = CropStream(33, crop=128, with_ids=True, plotter_share=1.0)
    changed = 0
    for _ in range(6):
        a, b, c = next(plain), next(zero), next(plotted)
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
        # Solid pens are drawn as before; only broken styles take the pen-scaled pattern.
        assert np.array_equal(a[1] == SOLID, c[1] == SOLID)
        changed += int(not np.array_equal(a[1], c[1]))
    assert changed >= 1
    with pytest.raises(ValueError, match="plotter_share"):
        CropStream(33, crop=128, plotter_share=-0.5)


def test_curve_families_leave_the_stream_alone_at_zero_and_follow_their_leader():
    plain, zero = CropStream(34, crop=96, with_ids=True), CropStream(34, crop=96, with_ids=True, family_share=0.0)
    for _ in range(3):
        assert all(np.array_equal(x, y) for x, y in zip(next(plain), next(zero), strict=True))
    with pytest.raises(ValueError, match="family_share"):
        CropStream(34, crop=96, family_share=1.5)
    # A design's tracks drawn as families: every later curve stays close to the track's first one.
    from veerdesk.synth.design import design_page
    from veerdesk.synth.page import window_signals

    checked = 0
    for seed in range(4):
        design = design_page(np.random.default_rng(seed), 1500, 3000, clean=True)
        gaps = {}
        for families in (False, True):
            design.extras["curve_families"] = families
            signals, _ = window_signals(design, np.random.default_rng(100 + seed))
            fractions: dict[int, list[np.ndarray]] = {}
            for (ti, track, curve), signal in zip(design.layout.curves(), signals, strict=True):
                fractions.setdefault(ti, []).append((track.display_columns(signal.values, curve) - track.x0) / track.width)
            gaps[families] = [float(np.nanmedian(np.abs(f[j] - f[0]))) for f in fractions.values() for j in range(1, len(f))]
        if gaps[True]:
            assert max(gaps[True]) < 0.1 and np.median(gaps[False]) > 0.1
            checked += 1
    assert checked >= 2


def test_plotter_patterns_follow_the_pen_width():
    # matplotlib's '--' at a 2-px pen shows 7.4 px on, 3.2 off; a round-capped stroke shows its length + 2.
    assert plotter_pattern("dashed", 2) == pytest.approx([5.4, 5.2])
    dotted = plotter_pattern("dotted", 3)
    assert dotted[0] == 0.0 and dotted[1] == pytest.approx(1.65 * 3 + 3)  # round dots, gaps 1.65 pens
    assert len(plotter_pattern("dashdot", 1, stretch=1.5)) == 4


def _pen_widths(ids: np.ndarray) -> list[int]:
    """Horizontal run lengths of labelled pixels (a steep pen's width in pixels)."""
    runs = []
    for row in ids > 0:
        edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
        runs.extend((edges[1::2] - edges[::2]).tolist())
    return runs


def test_coarse_captures_draw_thinner_pens_and_label_only_darkened_pixels():
    # Horizontal run lengths also count near-horizontal strokes of jagged curves: 20 crops keep that noise down.
    seed, crops = 31, 20
    coarse = CropStream(seed, crop=160, clean=True, with_ids=True, coarse_share=1.0)
    plain = CropStream(seed, crop=160, clean=True, with_ids=True)
    coarse_widths, plain_widths = [], []
    for _ in range(crops):
        image, mask, ids = next(coarse)
        assert image.shape == mask.shape == (160, 160)
        assert np.array_equal(mask > 0, ids > 0)
        if mask.any():
            paper = np.median(image[mask == 0])
            # A label needs a quarter of a pen's contrast; light pens on a grey page may show less.
            assert np.mean(image[mask > 0] < paper - 8) > 0.9
        coarse_widths += _pen_widths(ids)
        plain_widths += _pen_widths(next(plain)[2])
    assert np.mean(coarse_widths) < 0.8 * np.mean(plain_widths)


def test_a_one_bit_coarse_capture_breaks_a_thin_pen_and_labels_only_ink():
    from veerdesk.synth.crops import coarse_capture

    drawn = np.full((150, 150), 255, np.uint8)
    ids = np.zeros_like(drawn)
    for r in range(150):  # a 1-px pen, a little off vertical so it crosses pixel boundaries
        c = 40 + r // 9
        drawn[r, c], ids[r, c] = 0, 3
    plan = {"enabled": True, "bilevel": True, "dither": False, "adaptive": False, "threshold": 0.55,
            "morph": "none", "speckle": 0.0}
    image, labels = coarse_capture(drawn, ids, 100, plan, np.random.default_rng(0))
    assert image.shape == labels.shape == (100, 100)
    assert set(np.unique(image)) <= {0, 255}
    assert set(np.unique(labels)) == {0, 3}
    assert np.all(image[labels > 0] == 0)  # every label sits on ink left by the threshold
    # 1.5x down, a 1-px pen darkens a captured pixel by 2/3 where it lies inside it and by 1/3 on each of
    # two where it straddles them: a mid-grey threshold keeps the first and drops the second.
    inked_rows = (image == 0).any(axis=1)
    assert 0.2 < inked_rows.mean() < 0.9
    # Stage 9's first version judged the levels on the captured window, where the pen's pale grey sets a
    # threshold that keeps it whole.
    window, window_labels = coarse_capture(drawn, ids, 100, plan, np.random.default_rng(0), levels="window")
    assert (window == 0).any(axis=1).mean() > inked_rows.mean()
    assert np.all(window[window_labels > 0] == 0)
    with pytest.raises(ValueError, match="coarse_levels"):
        CropStream(1, crop=96, coarse_levels="page")
