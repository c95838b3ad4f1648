import numpy as np
import pytest

from veerdesk.synth import CropStream


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
