import numpy as np
import pytest

from veerdesk.ml.metrics import SegmentationScores, class_counts, curve_group_counts


def _line(x: int) -> np.ndarray:
    mask = np.zeros((20, 20), np.uint8)
    mask[:, x] = 1
    return mask


def test_perfect_prediction_scores_one():
    scores = SegmentationScores(("background", "curve"))
    scores.update(_line(5), _line(5))
    s = scores.summary()["curve"]
    assert s["f1"] == s["iou"] == s["tolerant_f1"] == 1.0


def test_one_pixel_shift_is_wrong_strictly_but_right_with_tolerance():
    counts = class_counts(_line(6), _line(5), 1)
    s = counts.scores()
    assert s["f1"] == 0.0
    assert s["tolerant_f1"] == pytest.approx(1.0)


def test_two_pixel_shift_is_wrong_even_with_tolerance():
    assert class_counts(_line(7), _line(5), 1).scores()["tolerant_f1"] == 0.0


def test_absent_class_counts_as_perfect_and_missed_class_as_zero():
    empty = np.zeros((10, 10), np.uint8)
    assert class_counts(empty, empty, 2).scores()["f1"] == 1.0
    assert class_counts(empty, _line(3)[:10, :10], 1).scores()["f1"] == 0.0


def test_counts_accumulate_over_images_before_dividing():
    scores = SegmentationScores(("background", "curve"))
    scores.update(_line(5), _line(5))  # 20 true positives
    scores.update(np.zeros((20, 20), np.uint8), _line(5))  # 20 misses
    s = scores.summary()["curve"]
    assert s["recall"] == pytest.approx(0.5)
    assert s["precision"] == pytest.approx(1.0)
    assert scores.curve_f1() == pytest.approx(2 / 3)


def test_curve_groups_charge_nearby_false_positives_to_the_nearest_curve():
    curve_ids = np.zeros((20, 20), np.uint8)
    curve_ids[:, 5] = 1  # solid
    curve_ids[:, 15] = 2  # dotted
    mask = np.where(curve_ids == 1, 1, np.where(curve_ids == 2, 2, 0)).astype(np.uint8)
    pred = mask.copy()
    pred[:, 6] = 1  # a fat solid prediction: false positives beside curve 1
    pred[:10, 15] = 0  # half of the dotted curve missed
    pred[0, 10] = 2  # a stray far from both curves: only in page totals
    groups = curve_group_counts(pred, mask, curve_ids, [(1, ["solid", "all"]), (2, ["dotted", "all"])])
    solid, dotted = groups["solid"].scores(), groups["dotted"].scores()
    assert solid["recall"] == 1.0 and solid["precision"] == pytest.approx(0.5)
    assert solid["tolerant_f1"] == pytest.approx(1.0)
    assert dotted["recall"] == pytest.approx(0.5) and dotted["precision"] == 1.0
    assert groups["all"].actual == 40
