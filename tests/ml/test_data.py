import numpy as np
import pytest
import torch
from ml_standin import standin_stream

from veerdesk.core.errors import ModelError
from veerdesk.ml.data import BatchStream, fixed_crops, to_batch


def test_batches_are_float_paper_one_and_long_labels():
    x, y = next(iter(BatchStream(standin_stream, 1_000_000, 32, 3)))
    assert x.shape == (3, 1, 32, 32) and x.dtype == torch.float32
    assert y.shape == (3, 32, 32) and y.dtype == torch.int64
    assert float(x.max()) == 1.0 and float(x.min()) == 0.0  # white paper, black ink
    assert set(torch.unique(y).tolist()) == {0, 1, 2}


def test_flips_move_image_and_mask_together():
    for (x, y), _ in zip(BatchStream(standin_stream, 7, 32, 4, flips=True), range(3), strict=False):
        ink = x[:, 0] < 0.5
        assert torch.equal(ink, y > 0)


def test_wrong_crop_size_from_generator_is_reported():
    def bad_stream(seed, crop):
        while True:
            yield np.zeros((crop, crop + 1), np.uint8), np.zeros((crop, crop + 1), np.uint8)

    with pytest.raises(ModelError, match="crop"):
        next(iter(BatchStream(bad_stream, 1, 16, 1)))


def test_fixed_crops_are_deterministic():
    a, _ = fixed_crops(standin_stream, 3, 32, 2)
    b, _ = fixed_crops(standin_stream, 3, 32, 2)
    assert torch.equal(a, b) and a.shape == (2, 1, 32, 32)


def test_to_batch_scales_to_unit_range():
    x, y = to_batch([np.array([[0, 255]], np.uint8)], [np.array([[1, 0]], np.uint8)])
    assert x.tolist() == [[[[0.0, 1.0]]]] and y.tolist() == [[[1, 0]]]
