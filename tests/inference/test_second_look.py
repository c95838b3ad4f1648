"""The second look at tracks whose curves lost their style (veerdesk.inference.second_look)."""

import cv2
import numpy as np
import pytest
import torch
from fake_models import InkModel
from torch import nn

from veerdesk.core.layout import Layout
from veerdesk.inference.second_look import better_read, starved_tracks
from veerdesk.pipeline.digitize import digitize, run_to_result

TILE = {"tile": 160, "margin": 16}
LARGE_WINDOW = 300  # wider than any 1x window of the 300 x 260 sheet; 2x windows (320) are wider


class ScaleDependentModel(nn.Module):
    """Stands in for a model that confuses styles at one scale only: at 1x every dark pixel is solid; on an
    enlarged window a thin stroke is non-solid (dashed) and a thick one solid, as drawn."""

    def forward(self, x):
        ink = 1.0 - x
        if x.shape[-1] <= LARGE_WINDOW:
            solid, dashed = ink, torch.zeros_like(ink)
        else:
            thick = (nn.functional.avg_pool2d(ink, 7, stride=1, padding=3) > 0.45).float()
            solid, dashed = ink * thick, ink * (1.0 - thick)
        return torch.cat([4.0 - 8.0 * ink, 8.0 * solid - 4.0, 8.0 * dashed - 4.0], dim=1)


# Every dark pixel solid at any scale: the other view is no better.
SameAtEveryScale = InkModel


LAYOUT = {
    "version": 1,
    "depth": {"unit": "FT", "ties": [[10, 2000], [290, 2070]], "step": 0.5},
    "tracks": [
        {"x0": 20, "x1": 240, "curves": [
            {"mnemonic": "GR", "unit": "GAPI", "left": 0, "right": 150, "style": "solid"},
            {"mnemonic": "SP", "unit": "MV", "left": -100, "right": 100, "style": "dashed"}]},
    ],
}


@pytest.fixture
def sheet():
    """A heavy solid GR (4 px) and a thin SP (1 px) in one track, apart from each other."""
    layout = Layout.from_dict(LAYOUT)
    image = np.full((300, 260), 255, np.uint8)
    depth = layout.depth_grid()
    y = layout.depth.row_at_depth(depth)
    track = layout.tracks[0]
    truth = {}
    for curve, centre, pen in ((track.curves[0], 0.2, 4), (track.curves[1], 0.75, 1)):
        values = curve.left + (centre + 0.08 * np.sin((depth - depth[0]) / 7.0)) * (curve.right - curve.left)
        x = track.column_at_value(values, curve.scale)
        pts = np.round(np.stack([x - 0.5, y - 0.5], 1) * 16).astype(np.int32)
        cv2.polylines(image, [pts], False, 0, pen, lineType=cv2.LINE_8, shift=4)
        truth[curve.mnemonic] = values
    return image, layout, truth


def test_a_starved_track_is_read_again_at_the_other_scale_and_kept_when_better(sheet):
    image, layout, truth = sheet
    first = run_to_result(digitize(image, layout, model=ScaleDependentModel().eval(), device="cpu", scale="1",
                                   **TILE))
    assert first.traces["SP"].coverage < 0.1  # at 1x the thin pen reads as solid: SP has no ink of its own
    events = list(digitize(image, layout, model=ScaleDependentModel().eval(), device="cpu", **TILE))
    fractions = [e.fraction for e in events[:-1]]
    assert fractions == sorted(fractions) and any(e.stage == "second look" for e in events[:-1])
    result = events[-1]
    look = result.report["input_scale"]["second_look"]
    assert result.report["input_scale"]["used"] == 1 and look["scale"] == 2 and look["adopted"] == [0]
    assert look["tracks"][0]["before"]["SP"] < 0.1 and look["tracks"][0]["after"]["SP"] > 0.8
    sp = result.traces["SP"]
    assert sp.coverage > 0.95
    assert np.nanmax(np.abs(sp.value - truth["SP"])) < 0.03 * 200
    assert result.traces["GR"].coverage > 0.95
    # The masks the app shows are the ones traced: the thin pen is non-solid there now.
    assert (np.asarray(result.segmentation.class_map) == 2).sum() > 200
    assert "second_look_s" in result.report["timings"] and result.report["warnings"] == []


def test_a_second_view_no_better_is_dropped_and_the_masks_restored(sheet):
    image, layout, _ = sheet
    forced = run_to_result(digitize(image, layout, model=SameAtEveryScale().eval(), device="cpu", scale="1", **TILE))
    result = run_to_result(digitize(image, layout, model=SameAtEveryScale().eval(), device="cpu", **TILE))
    look = result.report["input_scale"]["second_look"]
    assert look["tracks"] and look["adopted"] == []
    assert np.array_equal(np.asarray(result.segmentation.class_map), np.asarray(forced.segmentation.class_map))
    assert np.array_equal(np.asarray(result.segmentation.confidence), np.asarray(forced.segmentation.confidence))
    assert forced.report["input_scale"]["second_look"] is None  # a scale the user chose is kept
    assert any(w.startswith("SP (dashed)") for w in result.report["warnings"])


def test_the_eval_path_takes_the_same_second_look(sheet, monkeypatch):
    from veerdesk.inference import segment
    from veerdesk.inference.trace import trace_curves

    image, layout, _ = sheet
    monkeypatch.setattr(segment, "DEFAULT_TILE", TILE["tile"])
    monkeypatch.setattr(segment, "DEFAULT_MARGIN", TILE["margin"])
    monkeypatch.setattr("veerdesk.inference.second_look.DEFAULT_TILE", TILE["tile"])
    monkeypatch.setattr("veerdesk.inference.second_look.DEFAULT_MARGIN", TILE["margin"])
    model = ScaleDependentModel().eval()
    classes, confidence = segment.segment_for_eval(model, image, layout=layout)
    traced = trace_curves(classes, confidence, layout)
    product = run_to_result(digitize(image, layout, model=model, device="cpu", **TILE))
    for name in ("GR", "SP"):
        np.testing.assert_array_equal(traced[name].value, product.traces[name].value)
    plain, _ = segment.segment_for_eval(model, image)
    assert trace_curves(plain, None, layout)["SP"].coverage < 0.1


def test_which_tracks_are_starved_and_when_a_new_view_wins():
    second = {"x0": 250, "x1": 400, "curves": [{"mnemonic": "NPHI", "unit": "V/V", "left": 0.45, "right": -0.15,
                                                  "style": "dotted"}]}
    layout = Layout.from_dict(LAYOUT | {"tracks": LAYOUT["tracks"] + [second]})
    assert starved_tracks(layout, {"GR": 0.9, "SP": 0.01, "NPHI": 0.5}) == [0]
    assert starved_tracks(layout, {"GR": 0.9, "SP": 0.3, "NPHI": 1.0}) == []
    # No curve ink in the track at all: nothing was mislabelled, so there is nothing to look at again.
    assert starved_tracks(layout, {"GR": None, "SP": None, "NPHI": 1.0}) == []
    # A lone curve reads any curve pixel, so ink of another style does not starve it.
    assert starved_tracks(layout, {"GR": 0.9, "SP": 0.3, "NPHI": 0.0}, classes=5) == []
    # Per curve: coverage x mean confidence in the first view and in the other one.
    before = {"GR": 0.9, "SP": 0.0}
    assert better_read(before, {"GR": 0.85, "SP": 0.8})
    assert not better_read(before, {"GR": 0.9, "SP": 0.15})  # the starved curve barely found
    assert not better_read(before, {"GR": 0.6, "SP": 0.9})  # found at the cost of the other curve
    assert not better_read({"GR": 0.9, "SP": 0.02}, {"GR": 0.9, "SP": 0.2})  # gain under 0.1 a curve


def probed(mode, used, **probe):
    """A blank segmentation that ran at scale ``used`` under ``mode``, the probe having measured ``probe``."""
    from veerdesk.inference.segment import SegmentationResult

    blank = np.zeros((4, 4), np.uint8)
    return SegmentationResult(blank, blank, "cpu", "fp32", 0.0, 1, 0,
                              extra={"scale_mode": mode, "scale": used, "scale_probe": probe})


def test_no_second_look_where_the_probe_saw_the_enlarged_view_lose_the_ink():
    from veerdesk.inference.second_look import other_scale_may_help

    def seg(mode, used, ratio):
        return probed(mode, used, curve_pixel_ratio=ratio)

    assert other_scale_may_help(seg("auto", 1, 1.05))
    assert not other_scale_may_help(seg("auto", 1, 0.4))  # 2x found under 80 % of the curve pixels
    assert other_scale_may_help(seg("auto", 2, 0.9))  # enlarged: the look goes back to 1x
    assert other_scale_may_help(seg("auto", 1, None))  # the probe found no curve pixel at 1x
    assert not other_scale_may_help(seg("1", 1, None))  # the caller chose the scale


def test_progress_keeps_rising_over_several_starved_tracks():
    second = {"x0": 280, "x1": 500, "curves": [
        {"mnemonic": "CALI", "unit": "IN", "left": 6, "right": 16, "style": "solid"},
        {"mnemonic": "NPHI", "unit": "V/V", "left": 0.45, "right": -0.15, "style": "dashed"}]}
    layout = Layout.from_dict(LAYOUT | {"tracks": LAYOUT["tracks"] + [second]})
    image = np.full((300, 520), 255, np.uint8)
    depth = layout.depth_grid()
    y = layout.depth.row_at_depth(depth)
    for track in layout.tracks:
        for curve, centre, pen in ((track.curves[0], 0.2, 4), (track.curves[1], 0.75, 1)):
            values = curve.left + (centre + 0.08 * np.sin((depth - depth[0]) / 7.0)) * (curve.right - curve.left)
            pts = np.round(np.stack([track.column_at_value(values, curve.scale) - 0.5, y - 0.5], 1) * 16)
            cv2.polylines(image, [pts.astype(np.int32)], False, 0, pen, lineType=cv2.LINE_8, shift=4)
    events = list(digitize(image, layout, model=ScaleDependentModel().eval(), device="cpu", **TILE))
    looks = [e for e in events[:-1] if e.stage == "second look"]
    assert events[-1].report["input_scale"]["second_look"]["adopted"] == [0, 1]
    assert {e.message.split(",")[0] for e in looks} == {"second look at track 1", "second look at track 2"}
    fractions = [e.fraction for e in events[:-1]]
    assert fractions == sorted(fractions)


class ReadsThinStrokesOnly(nn.Module):
    """Stands in for a model that knows only the stroke widths the generator draws: ink is a solid curve
    where the stroke is thin (under half of a 7 px window across it is ink), background where it is
    thick, so a 5 px stroke is lost at 1x and found when the page is shrunk by half."""

    def forward(self, x):
        ink = 1.0 - x
        thin = (nn.functional.avg_pool2d(ink, (1, 7), stride=1, padding=(0, 3)) < 0.5).float()
        curve = ink * thin
        return torch.cat([4.0 - 8.0 * curve, 8.0 * curve - 4.0, torch.full_like(x, -6.0)], dim=1)


class BesideThickStrokes(nn.Module):
    """Stands in for a model that misplaces strokes wider than the generator draws: it surely labels the
    paper 16 px below a thick stroke (half of a 7 px window across it or more is ink) a solid curve, and a
    thin stroke where it lies. At 1x a 5 px slanting pen is traced beside its ink, as surely as on it.
    (The shift is down the page: digitize averages each tile with its mirror image, which would split a
    sideways shift in two.)"""

    def forward(self, x):
        ink = 1.0 - x
        thin = (nn.functional.avg_pool2d(ink, (1, 7), stride=1, padding=(0, 3)) < 0.5).float()
        beside = torch.roll(ink * (1.0 - thin), shifts=16, dims=-2)
        curve = (ink * thin + beside).clamp(0.0, 1.0)
        return torch.cat([4.0 - 8.0 * curve, 8.0 * curve - 4.0, torch.full_like(x, -6.0)], dim=1)


def thick_sheet(pen: int):
    """One track, GR drawn with OpenCV thickness ``pen`` (4: a 5 px stroke), on the LAYOUT's depth grid."""
    layout = Layout.from_dict(LAYOUT | {"tracks": [{"x0": 20, "x1": 240, "curves": [LAYOUT["tracks"][0]["curves"][0]]}]})
    image = np.full((300, 260), 255, np.uint8)
    depth = layout.depth_grid()
    track, curve = layout.tracks[0], layout.tracks[0].curves[0]
    values = curve.left + (0.5 + 0.15 * np.sin((depth - depth[0]) / 9.0)) * (curve.right - curve.left)
    pts = np.round(np.stack([track.column_at_value(values, curve.scale) - 0.5,
                             layout.depth.row_at_depth(depth) - 0.5], 1) * 16).astype(np.int32)
    cv2.polylines(image, [pts], False, 0, pen, lineType=cv2.LINE_8, shift=4)
    return image, layout, {"GR": values}


def test_a_thick_stroked_page_is_read_again_at_half_scale():
    image, layout, truth = thick_sheet(4)
    forced = run_to_result(digitize(image, layout, model=ReadsThinStrokesOnly().eval(), device="cpu", scale="1",
                                    **TILE))
    assert forced.traces["GR"].coverage < 0.1 and forced.report["input_scale"]["half_look"] is None
    events = list(digitize(image, layout, model=ReadsThinStrokesOnly().eval(), device="cpu", **TILE))
    fractions = [e.fraction for e in events[:-1]]
    assert fractions == sorted(fractions)
    assert any(e.stage == "half-scale look" and e.message.startswith("look at track 1 at half scale")
               for e in events[:-1])
    result = events[-1]
    scale = result.report["input_scale"]
    assert scale["used"] == 1 and scale["probe"]["stroke_width"] >= 4
    assert scale["half_look"]["scale"] == 0.5 and scale["half_look"]["adopted"] == [0]
    gr = result.traces["GR"]
    assert gr.coverage > 0.95 and np.nanmax(np.abs(gr.value - truth["GR"])) < 0.03 * 150
    assert "half_look_s" in result.report["timings"]


def test_a_half_scale_look_no_better_is_dropped_and_the_masks_restored():
    for pen in (1, 4):
        image, layout, _ = thick_sheet(pen)
        forced = run_to_result(digitize(image, layout, model=SameAtEveryScale().eval(), device="cpu", scale="1",
                                        **TILE))
        result = run_to_result(digitize(image, layout, model=SameAtEveryScale().eval(), device="cpu", **TILE))
        look = result.report["input_scale"]["half_look"]
        assert look["tracks"] and look["adopted"] == []
        assert np.array_equal(np.asarray(result.segmentation.class_map), np.asarray(forced.segmentation.class_map))
        np.testing.assert_array_equal(result.traces["GR"].value, forced.traces["GR"].value)


def test_when_a_half_scale_look_may_help():
    from veerdesk.inference.second_look import half_look_may_help

    assert half_look_may_help(probed("auto", 1, stroke_width=1.0))
    assert half_look_may_help(probed("auto", 2, stroke_width=3.0))  # the probe enlarged the page: still worth a look
    assert half_look_may_help(probed("auto", 1, stroke_width=None))
    assert not half_look_may_help(probed("1", 1, stroke_width=5.0))  # the caller chose the scale
    assert not half_look_may_help(probed("0.5", 0.5, stroke_width=5.0))


def slanted_sheet():
    """thick_sheet's track with GR a straight 5 px stroke slanting across it (half a pixel a row), so that
    BesideThickStrokes' shift down the page puts its label 7-8 px to the side of the ink."""
    image, layout, _ = thick_sheet(4)
    image[:] = 255
    depth = layout.depth_grid()
    track, curve = layout.tracks[0], layout.tracks[0].curves[0]
    values = curve.left + np.linspace(0.15, 0.85, depth.size) * (curve.right - curve.left)
    pts = np.round(np.stack([track.column_at_value(values, curve.scale) - 0.5,
                             layout.depth.row_at_depth(depth) - 0.5], 1) * 16).astype(np.int32)
    cv2.polylines(image, [pts], False, 0, 4, lineType=cv2.LINE_8, shift=4)
    return image, layout, {"GR": values}


def test_a_view_beside_the_ink_loses_to_one_on_it_however_sure_the_model_is():
    image, layout, truth = slanted_sheet()
    model = BesideThickStrokes().eval()
    forced = run_to_result(digitize(image, layout, model=model, device="cpu", scale="1", **TILE))
    first = forced.traces["GR"]
    assert first.coverage > 0.95 and first.mean_confidence > 0.95  # found everywhere, surely...
    assert np.nanmedian(np.abs(first.value - truth["GR"])) > 0.03 * 150  # ...7-8 px beside the pen
    result = run_to_result(digitize(image, layout, model=model, device="cpu", **TILE))
    look = result.report["input_scale"]["half_look"]["tracks"][0]
    assert look["adopted"]
    assert look["on_ink_before"]["GR"] < 0.1 and look["on_ink_after"]["GR"] > 0.9
    assert look["after"]["GR"] - look["before"]["GR"] < 0.1  # the model's confidence alone would not tell
    gr = result.traces["GR"]
    assert gr.coverage > 0.95 and np.nanmax(np.abs(gr.value - truth["GR"])) < 0.01 * 150


def test_on_own_ink_counts_depths_traced_on_dark_pixels_of_the_curves_own_style(sheet):
    from veerdesk.core.curves import CurveTrace
    from veerdesk.inference.second_look import on_own_ink

    image, layout, truth = sheet
    track = layout.tracks[0]
    depth = layout.depth_grid()
    dark = image < 128
    solid_everywhere = np.where(dark, 1, 0).astype(np.uint8)
    on_pen = {name: CurveTrace(name, depth, values, np.ones_like(values)) for name, values in truth.items()}
    figures = on_own_ink(image, solid_everywhere, layout, track, on_pen)
    assert figures["GR"] > 0.95  # on its ink, labelled solid
    assert figures["SP"] == 0.0  # on its ink, but the map calls it solid, not SP's dashed
    dashed_too = np.where(dark, 2, 0).astype(np.uint8)
    dashed_too[:, :130] = solid_everywhere[:, :130]  # GR lies left of column 130, SP right of it
    assert on_own_ink(image, dashed_too, layout, track, on_pen)["SP"] > 0.95
    shift = 8 * 150 / track.width  # 8 px to the side of the pen
    beside = {"GR": CurveTrace("GR", depth, truth["GR"] + shift, np.ones_like(depth)), "SP": on_pen["SP"]}
    assert on_own_ink(image, solid_everywhere, layout, track, beside)["GR"] < 0.05
    half = truth["GR"].copy()
    half[: half.size // 2] = np.nan  # absent depths count as not on ink
    partly = {"GR": CurveTrace("GR", depth, half, np.ones_like(depth)), "SP": on_pen["SP"]}
    assert abs(on_own_ink(image, solid_everywhere, layout, track, partly)["GR"] - 0.5) < 0.05
