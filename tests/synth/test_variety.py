"""The extra style variety (veerdesk/synth/variety.py): each factor shows up and keeps the labels exact."""

import numpy as np
import pytest

from veerdesk.synth import generate_page
from veerdesk.synth.artefacts import _blocky, _moire
from veerdesk.synth.canvas import Canvas
from veerdesk.synth.design import design_page
from veerdesk.synth.traces import drawn_columns

SIZE = {"width": (700, 900), "height": (900, 1100)}


def first_seed(predicate, clean=True, limit=600):
    """The first seed whose design satisfies ``predicate`` (designs are cheap: numbers only)."""
    for seed in range(limit):
        design = design_page(np.random.default_rng(seed), SIZE["width"], SIZE["height"], clean=clean)
        if predicate(design):
            return seed, design
    pytest.fail("no design with this factor in the first seeds: is it still drawn?")


def test_design_with_variety_is_deterministic_for_a_seed():
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    a = design_page(rng_a, 800, 1000)
    b = design_page(rng_b, 800, 1000)
    assert a.layout == b.layout
    assert rng_a.random() == rng_b.random()


def test_unusual_patterns_stay_in_their_mask_class():
    seed, design = first_seed(lambda d: any(c["pattern_name"] in ("sparse_dot", "long_short_dash", "sparse_dash",
                                                                   "dash_dot_dot_dot") for c in d.curves))
    page = generate_page(seed, clean=True, **SIZE)
    for k, look in enumerate(design.curves, start=1):
        if look["pattern_name"] in ("sparse_dot", "long_short_dash", "sparse_dash", "dash_dot_dot_dot"):
            assert look["style"] != "solid"
            assert set(np.unique(page.mask[page.curve_ids == k])) <= {2}


def test_double_lines_are_two_strokes_either_side_of_the_truth():
    seed, design = first_seed(lambda d: any(c.get("double") and c["style"] == "solid" and not c["staircase"]
                                            for c in d.curves))
    page = generate_page(seed, clean=True, **SIZE)
    layout = page.layout
    rows = layout.depth.row_at_depth(layout.depth_grid())
    k = next(i for i, c in enumerate(design.curves) if c.get("double") and c["style"] == "solid")
    _, track, curve = layout.curves()[k]
    x = drawn_columns(track, curve, page.truth[curve.mnemonic])
    owned = page.curve_ids == k + 1
    two_runs, checked = 0, 0
    for r, xc in zip(rows, x, strict=True):
        if not np.isfinite(xc) or not (track.x0 + 8 < xc < track.x1 - 8):
            continue
        line = owned[int(r), int(xc) - 8 : int(xc) + 9]
        if not line.any():
            continue
        checked += 1
        runs = np.count_nonzero(np.diff(line.astype(np.int8)) == 1) + int(line[0])
        two_runs += runs == 2
    assert checked > 50
    # Steep stretches show two runs per row (flat ones merge, and crossings hide some).
    assert two_runs / checked > 0.4


def test_dark_grids_are_as_dark_as_curves_but_stay_background():
    seed, design = first_seed(lambda d: d.grid["variety"].get("dark") and not d.grid["missing"])
    page = generate_page(seed, clean=True, **SIZE)
    assert design.grid["grey"] <= 120
    dark_background = (page.image <= design.grid["grey"] + 10) & (page.mask == 0)
    assert dark_background.sum() > 500
    assert set(np.unique(page.mask)) <= {0, 1, 2}


def test_dense_grids_put_a_line_every_few_pixels():
    seed, design = first_seed(lambda d: d.grid["variety"].get("dense") and not d.grid["missing"])
    assert design.grid["minor"] * design.px_per_unit <= 10.0


def test_track_backgrounds_are_inked_but_unlabelled():
    seed, design = first_seed(lambda d: any(d.grid["backgrounds"]))
    page = generate_page(seed, clean=True, **SIZE)
    ti = next(i for i, bg in enumerate(design.grid["backgrounds"]) if bg)
    track = page.layout.tracks[ti]
    body0, body1 = design.body
    f0, f1 = max(design.grid["backgrounds"][ti]["zones"], key=lambda z: z[1] - z[0])
    y0, y1 = int(body0 + f0 * (body1 - body0)), int(body0 + f1 * (body1 - body0))
    assert y1 - y0 > 8
    region = page.image[y0 + 2 : y1 - 2, int(track.x0) + 3 : int(track.x1) - 3]
    labels = page.mask[y0 + 2 : y1 - 2, int(track.x0) + 3 : int(track.x1) - 3]
    inked = region < design.paper - 10
    assert np.mean(inked & (labels == 0)) > 0.05


def test_axis_lines_follow_the_pixel_convention_and_patterns():
    canvas = Canvas.blank(0, 0, 40, 20, 255)
    canvas.hline(5.5, 2, 30, 0, 1)
    canvas.hline(10.0, 2, 30, 0, 2)
    canvas.vline(35.5, 0, 20, 0, 1, pattern=[0.0, 3.0])
    assert list(np.nonzero(canvas.image[:, 10] == 0)[0]) == [5, 9, 10]
    assert list(np.nonzero(canvas.image[:, 35] == 0)[0]) == [2, 5, 8, 11, 14, 17]  # one dot every 3 px
    assert (canvas.ids == 0).all(), "lines without a curve id never claim pixels"


def test_blocky_upscale_repeats_pixels():
    canvas = Canvas.blank(0, 0, 60, 60, 255)
    canvas.image[:, 20:23] = 0
    out = _blocky(canvas.image, canvas, 3.0, bilevel=True)
    assert set(np.unique(out)) <= {0, 255}
    assert np.array_equal(out[:, ::3], np.repeat(out[:, ::3][::3], 3, axis=0)[:60])


def test_moire_screen_marks_mid_greys_more_than_paper():
    canvas = Canvas.blank(0, 0, 64, 64, 255)
    canvas.image[:, 32:] = 128
    out = _moire(canvas.image, canvas, {"period": 3.0, "angle": 30.0, "strength": 0.4}).astype(float)
    assert out[:, 32:].std() > 3 * out[:, :32].std() > 0


def test_spilled_curves_run_into_the_neighbour_with_their_label_and_real_values():
    spilled = 0
    for seed in range(400):
        design = design_page(np.random.default_rng(seed), SIZE["width"], SIZE["height"], clean=True)
        ks = [k for k, c in enumerate(design.curves) if c.get("spill")]
        if not ks:
            continue
        page = generate_page(seed, clean=True, **SIZE)
        for k in ks:
            _, track, curve = page.layout.curves()[k]
            owned = page.curve_ids == k + 1
            cols = np.nonzero(owned.any(axis=0))[0]
            outside = (cols < track.x0 - 3) | (cols >= track.x1 + 3)
            if not outside.any():
                continue
            x = drawn_columns(track, curve, page.truth[curve.mnemonic])
            assert np.nanmax(x) > track.x1 + 2 or np.nanmin(x) < track.x0 - 2
            lo, hi = design.curves[k]["spill"]
            width = track.x1 - track.x0
            assert np.nanmin(x) >= track.x0 - lo * width - 1 and np.nanmax(x) <= track.x1 + hi * width + 1
            spilled += 1
        if spilled >= 2:
            return
    pytest.fail("no spilled curve drawn in the first seeds")


def _line_canvas():
    canvas = Canvas.blank(0, 0, 120, 120, 250)
    canvas.polylines([np.array([[60.5, 0.0], [60.5, 120.0]])], 10, 3, curve_id=1)
    return canvas


def test_warp_bends_ink_and_labels_together():
    from veerdesk.synth.crops import warp_window

    canvas = _line_canvas()
    warp = {"amp_x": 5.0, "amp_y": 0.0, "wave_x": 200.0, "wave_y": 500.0, "phase": [0.0, 0.0]}
    image, ids = warp_window(canvas.image, canvas.ids, warp, 0, 0)
    centres = [np.nonzero(ids[r])[0].mean() for r in range(0, 120, 10)]
    assert np.ptp(centres) > 4, "the straight line must bow"
    # Labels are resampled nearest, ink linearly: edge pixels are half-tone, the core stays dark.
    assert np.all(image[ids > 0] < 200) and np.mean(image[ids > 0] < 100) > 0.8, "labels stay on the ink"


def test_smears_add_unlabelled_ink_beside_curves():
    from veerdesk.synth.artefacts import _smears

    canvas = _line_canvas()
    ids_before = canvas.ids.copy()
    dark_before = np.count_nonzero(canvas.image < 200)
    assert _smears(canvas, 400.0, 250, np.random.default_rng(1))
    assert np.array_equal(canvas.ids, ids_before)
    assert np.count_nonzero(canvas.image < 200) > dark_before


def test_inverted_track_is_white_on_black_with_labels_kept():
    from veerdesk.synth.artefacts import _invert_track

    seed, design = first_seed(lambda d: len(d.layout.tracks) >= 1)
    page = generate_page(seed, clean=True, **SIZE)
    canvas = Canvas(0, 0, page.image.copy(), page.curve_ids.copy())
    assert _invert_track(canvas.image, design, canvas, 0)
    track = design.layout.tracks[0]
    y0 = int(design.body[0]) + 2
    inside = canvas.image[y0 : int(design.body[1]) - 2, int(track.x0) + 2 : int(track.x1) - 2]
    assert np.median(inside) < 60
    owned = canvas.ids[y0 : int(design.body[1]) - 2, int(track.x0) + 2 : int(track.x1) - 2] > 0
    if owned.any():
        assert np.median(inside[owned]) > 150


def _render(design, seed, extras):
    """Render a (clean) design with the given extras, same signals and render stream each time."""
    import dataclasses

    from veerdesk.synth.page import render_window, window_signals

    signals, _ = window_signals(design, np.random.default_rng(seed))
    trial = dataclasses.replace(design, extras=extras)
    canvas, _ = render_window(trial, np.random.default_rng(seed + 1), 0, 0, design.width, design.height, signals)
    return canvas


@pytest.mark.parametrize("key", ["repeat_headers", "text_blocks", "curve_labels", "lithology", "second_depth"])
def test_printed_extras_add_ink_but_never_labels(key):
    seed, design = first_seed(lambda d: key in d.extras)
    with_it = _render(design, seed, {"seed": design.extras["seed"], key: design.extras[key]})
    without = _render(design, seed, {"seed": design.extras["seed"]})
    assert np.array_equal(with_it.ids, without.ids), "printed extras are background"
    assert np.count_nonzero(with_it.image != without.image) > 20, "the extra must be drawn"


def test_hand_corrections_are_occluders():
    seed, design = first_seed(lambda d: "corrections" in d.extras, clean=False)
    design.artefacts = {"enabled": False}
    design.annotations = []
    with_it = _render(design, seed, {"seed": design.extras["seed"], "corrections": 3})
    without = _render(design, seed, {"seed": design.extras["seed"]})
    # Hand ink only ever removes labels (it owns what it covers), never adds any.
    assert np.all((with_it.ids == without.ids) | (with_it.ids == 0))
    assert np.count_nonzero(with_it.image < without.image) > 20


def test_taped_joins_jump_in_depth_and_leave_the_missing_interval_absent():
    seed, design = first_seed(lambda d: "joins" in d.extras)
    page = generate_page(seed, clean=True, **SIZE)
    grid = page.layout.depth_grid()
    depth = page.layout.depth
    for row, above, below in design.extras["joins"]:
        assert below > above
        assert depth.depth_at_row(row + 1.0) - depth.depth_at_row(row) == pytest.approx(below - above)
        missing = (grid > above) & (grid < below)
        for values in page.truth.values():
            assert np.all(np.isnan(values[missing]))
    assert any(np.isfinite(v).any() for v in page.truth.values())


def test_some_pages_are_tall_strips_of_bounded_size():
    tall = []
    for seed in range(300):
        design = design_page(np.random.default_rng(seed))
        if design.height > 14000:
            tall.append(design.width * design.height)
    assert tall, "tall strip pages must occur"
    assert max(tall) <= 1.21e8


def test_crowded_tracks_and_many_tracks_occur_with_valid_layouts():
    _, crowded = first_seed(lambda d: max(len(t.curves) for t in d.layout.tracks) >= 4)
    kinds = [c.kind for t in crowded.layout.tracks for c in t.curves]
    assert len(kinds) == len(crowded.curves)
    _, wide = first_seed(lambda d: len(d.layout.tracks) >= 5)
    xs = [(t.x0, t.x1) for t in wide.layout.tracks]
    assert all(a1 <= b0 + 1e-6 for (_, a1), (b0, _) in zip(xs, xs[1:], strict=False))


def test_negative_pages_are_white_ink_on_black_with_labels_kept():
    seed, design = first_seed(lambda d: d.artefacts.get("negative"), clean=False, limit=2000)
    page = generate_page(seed, **SIZE)
    assert "negative" in page.style["artefacts_applied"]
    assert np.median(page.image[page.mask > 0]) > np.median(page.image[page.mask == 0]) + 60


def test_perforations_cut_slits_along_the_folds_and_own_them():
    from veerdesk.synth.artefacts import _perforations

    seed, design = first_seed(lambda d: d.artefacts.get("folds") and d.artefacts.get("perforated"), clean=False)
    plan = dict(design.artefacts, fold_spacing=300.0, folds=3)
    canvas = Canvas.blank(0, 0, 200, 700, 250)
    canvas.ids[:] = 1
    assert _perforations(design, canvas, plan)
    cut_rows = np.nonzero((canvas.ids == 0).any(axis=1))[0]
    assert 0 < cut_rows.size <= 3 * 3
    assert np.all(canvas.image[canvas.ids == 0] != 250)


def test_detail_logs_have_large_depth_scales_and_exact_truth():
    seed, design = first_seed(lambda d: d.px_per_unit > (15.0 if d.layout.depth.unit == "FT" else 46.0))
    page = generate_page(seed, clean=True, **SIZE)
    layout = page.layout
    rows = layout.depth.row_at_depth(layout.depth_grid())
    assert np.median(np.diff(rows)) > 1.5  # several pixels between LAS samples
    for k, (_, track, curve) in enumerate(layout.curves(), start=1):
        if curve.style != "solid":
            continue
        x = drawn_columns(track, curve, page.truth[curve.mnemonic])
        ok = np.isfinite(x) & (x > 0) & (x < page.image.shape[1])
        owned = page.curve_ids == k
        hits = [owned[int(r), max(0, int(c) - 2) : int(c) + 3].any() for r, c in zip(rows[ok], x[ok], strict=True)]
        assert np.mean(hits) > 0.85


def test_ragged_ink_roughens_edges_but_keeps_labels():
    from veerdesk.synth.artefacts import _ragged_ink

    canvas = _line_canvas()
    ids_before, image_before = canvas.ids.copy(), canvas.image.copy()
    _ragged_ink(canvas, 0.4, np.random.default_rng(2))
    assert np.array_equal(canvas.ids, ids_before)
    grown = (canvas.image < 100) & (image_before >= 100)
    assert grown.sum() > 20 and not (grown & (canvas.ids > 0)).any()
    assert np.all(canvas.image <= image_before)
