import numpy as np

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


def test_four_class_masks_only_set_dotted_curves_apart():
    from veerdesk.core.classes import to_three_classes

    three = CropStream(4242, crop=160, with_ids=True)
    four = CropStream(4242, crop=160, with_ids=True, classes=4)
    seen_dotted = False
    for _ in range(12):
        image3, mask3, ids3 = next(three)
        image4, mask4, ids4 = next(four)
        assert np.array_equal(image3, image4) and np.array_equal(ids3, ids4)
        assert np.array_equal(to_three_classes(mask4), mask3)
        seen_dotted |= bool((mask4 == 3).any())
    assert seen_dotted


def test_five_class_masks_set_dash_dot_curves_apart_too():
    from veerdesk.core.classes import DASHDOT, to_three_classes

    three = CropStream(4343, crop=160, with_ids=True)
    five = CropStream(4343, crop=160, with_ids=True, classes=5)
    seen_dashdot = False
    for _ in range(16):
        image3, mask3, ids3 = next(three)
        image5, mask5, ids5 = next(five)
        assert np.array_equal(image3, image5) and np.array_equal(ids3, ids5)
        assert np.array_equal(to_three_classes(mask5), mask3)
        seen_dashdot |= bool((mask5 == DASHDOT).any())
    assert seen_dashdot
