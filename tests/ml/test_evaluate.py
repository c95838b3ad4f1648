import numpy as np
import pytest
from ml_standin import TINY_MODEL, standin_page

from veerdesk.core.errors import ModelError
from veerdesk.ml.evaluate import (
    UNRECOVERED_R2,
    _curve_fit,
    _simple_tiles,
    evaluate,
    evaluate_pages,
    format_report,
    segment_simple,
)
from veerdesk.ml.model import build_model, prepare_for_inference
from veerdesk.ml.weights import save_weights


def test_evaluation_runs_end_to_end_on_two_tiny_pages(tmp_path):
    path = tmp_path / "m.safetensors"
    save_weights(build_model(TINY_MODEL), path)
    seen = []
    report = evaluate(
        path, pages=2, seed=3, width=96, height=160, page_factory=standin_page, progress=lambda d, t: seen.append(d)
    )
    assert seen == [1, 2]
    assert report["seeds"] == [3, 4]
    assert set(report["pixel"]) == {"background", "solid", "non-solid"}
    for scores in report["pixel"].values():
        assert 0.0 <= scores["f1"] <= scores["tolerant_f1"] + 1e-9 <= 1.0 + 1e-9
    assert "not computed" in report["notes"][0]
    assert "all curves" in report["pixel_by_curve_group"]
    assert "solid" in format_report(report)
    # The card's JSON file keeps its keys sorted; the table still lists the classes in the scheme's order.
    report["pixel"] = dict(sorted(report["pixel"].items()))
    table = [line.split()[0] for line in format_report(report).splitlines()[2:5]]
    assert table == ["background", "solid", "non-solid"]


def test_tiles_cover_every_pixel_once_in_their_kept_parts():
    for length in (1, 50, 1024, 1025, 3000):
        tiles = _simple_tiles(length, 1024, 32)
        covered = np.zeros(length, int)
        for start, end, keep0, keep1 in tiles:
            assert 0 <= start <= keep0 < keep1 <= end <= length and end - start <= 1024
            covered[keep0:keep1] = 1
        assert covered.all()


def test_tiled_segmentation_returns_page_sized_uint8_maps():
    model = prepare_for_inference(build_model(TINY_MODEL))
    pixels = np.full((70, 90), 255, np.uint8)
    classes, confidence = segment_simple(model, pixels, tile=64, margin=8)
    assert classes.shape == confidence.shape == (70, 90)
    assert classes.dtype == confidence.dtype == np.uint8


def test_curve_fit_scores_r2_and_coverage():
    truth = np.linspace(0, 10, 100)
    traced = truth.copy()
    traced[:50] = np.nan
    r2, coverage = _curve_fit(truth, traced, log_scale=False)
    assert r2 == 1.0 and coverage == 0.5
    r2_bad, _ = _curve_fit(truth, truth[::-1], log_scale=False)
    assert r2_bad < 0


class _Trace:
    def __init__(self, value):
        self.value = value


def _perfect_tracer(class_map, confidence, layout, classes=3):
    # Stands in for veerdesk.inference.trace_curves: returns the truth for GR, nothing for RES.
    return {"GR": _Trace(np.linspace(0, 150, 20))}


def test_report_splits_by_curve_group_and_scores_recovered_curves():
    model = prepare_for_inference(build_model(TINY_MODEL))
    report = evaluate_pages(
        model, pages=1, seed=0, width=64, height=96, page_factory=standin_page, tracer=_perfect_tracer
    )
    groups = report["pixel_by_curve_group"]
    assert {"all curves", "style solid", "style dashed", "weight heavy", "width 1 px", "width 4+ px"} <= set(groups)
    assert groups["style solid"]["pixels"] + groups["style dashed"]["pixels"] == groups["all curves"]["pixels"]
    fits = report["curves_by_group"]
    assert fits["style solid"]["median_r2"] == 1.0 and fits["style solid"]["median_coverage"] == 1.0
    assert fits["style dashed"]["median_coverage"] == 0.0
    # A curve the tracer did not recover at all is a failure in the median and the shares, not left out.
    assert fits["style dashed"]["median_r2"] == UNRECOVERED_R2
    assert fits["style solid"]["share_r2_0.99"] == 1.0 and fits["style dashed"]["share_r2_0.9"] == 0.0
    assert fits["all curves"]["share_r2_0.9"] == 0.5
    assert report["notes"] == []
    assert "recovered style solid" in format_report(report)
    assert "r2_by_page" not in report


def test_per_page_r2_lists_every_curve_of_every_page_in_layout_order():
    model = prepare_for_inference(build_model(TINY_MODEL))
    report = evaluate_pages(model, pages=2, seed=0, width=64, height=96, page_factory=standin_page,
                            tracer=_perfect_tracer, per_page=True)
    # GR (solid) is traced exactly, RES (dashed) not at all: None, which selection counts as a failure.
    assert report["r2_by_page"] == [[1.0, None], [1.0, None]]


def test_evaluation_refuses_training_seeds():
    model = prepare_for_inference(build_model(TINY_MODEL))
    with pytest.raises(ModelError, match="training data"):
        evaluate_pages(model, pages=2, seed=999_999, page_factory=standin_page)


def test_evaluation_over_no_page_is_refused_not_scored_perfect():
    model = prepare_for_inference(build_model(TINY_MODEL))
    with pytest.raises(ModelError, match="at least one page, got 0"):
        evaluate_pages(model, pages=0, seed=0, page_factory=standin_page)


def test_evaluation_on_two_small_generated_pages(tmp_path):
    pytest.importorskip("veerdesk.synth")
    path = tmp_path / "m.safetensors"
    save_weights(build_model(TINY_MODEL), path)
    report = evaluate(path, pages=2, seed=10, width=256, height=384)
    assert report["pixel"]["background"]["pixels"] > 0
    assert "all curves" in report["pixel_by_curve_group"]
    assert any(name.startswith("width") for name in report["pixel_by_curve_group"])


def test_a_four_class_model_is_scored_in_three_classes_and_traced_in_its_own():
    from veerdesk.core.classes import CLASS_SCHEMES
    from veerdesk.ml.model import ModelConfig

    config = ModelConfig(channels=TINY_MODEL.channels, attention_heads=2, classes=4, class_names=CLASS_SCHEMES[4])
    model = prepare_for_inference(build_model(config))
    seen = {}

    def segmenter(model, pixels):
        page = standin_page(0, width=64, height=96)
        four = np.where(page.mask == 2, 3, page.mask).astype(np.uint8)  # every broken-line pixel called dotted
        return four, np.full(pixels.shape, 255, np.uint8)

    def tracer(class_map, confidence, layout, classes=3):
        seen["classes"], seen["max"] = classes, int(class_map.max())
        return {}

    report = evaluate_pages(
        model, pages=1, seed=0, width=64, height=96, page_factory=standin_page, segmenter=segmenter, tracer=tracer
    )
    assert set(report["pixel"]) == {"background", "solid", "non-solid"}
    assert report["pixel"]["non-solid"]["f1"] == 1.0  # dotted pixels count as the seed's non-solid class
    assert seen == {"classes": 4, "max": 3}
