import torch
import torch.nn.functional as F
from ml_standin import TINY_MODEL, standin_stream

from veerdesk.ml.data import to_batch
from veerdesk.ml.losses import LossConfig, SegmentationLoss, soft_tversky_loss
from veerdesk.ml.model import build_model


def test_tversky_is_zero_for_perfect_and_high_for_wrong_prediction():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, 2, :] = 1
    onehot = F.one_hot(target, 3).permute(0, 3, 1, 2).float()
    assert soft_tversky_loss(onehot, onehot, (1,), 0.5, 0.5) < 0.01
    wrong = F.one_hot(torch.zeros_like(target), 3).permute(0, 3, 1, 2).float()
    assert soft_tversky_loss(wrong, onehot, (1,), 0.5, 0.5) > 0.75


def test_all_terms_are_reported_and_summed():
    loss_fn = SegmentationLoss(LossConfig(cldice_weight=0.5), classes=3)
    logits = torch.randn(2, 3, 16, 16, requires_grad=True)
    target = torch.randint(0, 3, (2, 16, 16))
    total, terms = loss_fn(logits, target)
    assert set(terms) == {"ce", "tversky", "cldice"}
    assert abs(float(total.detach()) - sum(terms.values())) < 1e-4
    total.backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


def test_loss_decreases_when_overfitting_a_tiny_batch():
    torch.manual_seed(0)
    stream = standin_stream(1, 64)
    x, y = to_batch(*zip(*[next(stream) for _ in range(2)], strict=True))
    model = build_model(TINY_MODEL)
    loss_fn = SegmentationLoss(LossConfig(), classes=3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss, _ = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def test_skeleton_recall_weighs_a_thin_pen_as_much_as_a_thick_one():
    from veerdesk.ml.losses import skeleton_recall_loss

    # One 1-px and one 5-px vertical stroke of one class; missing either costs the same under skeleton
    # recall (both are one skeleton pixel per row), while pixel counting makes the thin miss five times cheaper.
    target = torch.zeros(1, 32, 32, dtype=torch.long)
    target[0, :, 4] = 1
    target[0, :, 16:21] = 1
    onehot = F.one_hot(target, 3).permute(0, 3, 1, 2).float()
    miss_thin, miss_thick = onehot.clone(), onehot.clone()
    miss_thin[0, 1, :, 4], miss_thin[0, 0, :, 4] = 0, 1
    miss_thick[0, 1, :, 16:21], miss_thick[0, 0, :, 16:21] = 0, 1
    assert skeleton_recall_loss(onehot, onehot, (1,), 3) < 1e-6
    thin, thick = (float(skeleton_recall_loss(p, onehot, (1,), 3)) for p in (miss_thin, miss_thick))
    assert abs(thin - 0.5) < 0.01 and abs(thick - 0.5) < 0.01
    pixel_thin, pixel_thick = (float(soft_tversky_loss(p, onehot, (1,), 0.5, 0.5)) for p in (miss_thin, miss_thick))
    assert pixel_thick > 3 * pixel_thin


def test_skeleton_recall_term_is_reported_and_zero_without_curves():
    from veerdesk.ml.losses import skeleton_recall_loss

    loss_fn = SegmentationLoss(LossConfig(skeleton_recall_weight=1.0), classes=3)
    logits = torch.randn(2, 3, 16, 16, requires_grad=True)
    total, terms = loss_fn(logits, torch.randint(0, 3, (2, 16, 16)))
    assert "skeleton_recall" in terms
    total.backward()
    assert torch.isfinite(logits.grad).all()
    empty = F.one_hot(torch.zeros(1, 8, 8, dtype=torch.long), 3).permute(0, 3, 1, 2).float()
    assert float(skeleton_recall_loss(empty, empty, (1, 2), 3)) == 0.0


def test_ink_negative_weight_charges_curve_calls_on_grid_ink_more():
    from veerdesk.ml.losses import non_curve_ink

    # A grid line (ink, background label) at column 4 and a curve at columns 12-13 on a white crop.
    image = torch.ones(1, 1, 16, 16)
    image[0, 0, :, 4] = 0.1
    image[0, 0, :, 12:14] = 0.1
    target = torch.zeros(1, 16, 16, dtype=torch.long)
    target[0, :, 12:14] = 1
    ink = non_curve_ink(image, target)
    assert ink[0, :, 4].all() and not ink[0, :, 11:15].any() and int(ink.sum()) == 16
    # The network calls the grid line curve: the weighted loss charges more for it than plain CE does.
    logits = torch.zeros(1, 3, 16, 16)
    logits[:, 0] = 4.0
    logits[0, 0, :, 12:14], logits[0, 1, :, 12:14] = 0.0, 4.0
    logits[0, 0, :, 4], logits[0, 1, :, 4] = 0.0, 4.0
    plain, _ = SegmentationLoss(LossConfig(tversky_weight=0.0), classes=3)(logits, target, image)
    weighted, _ = SegmentationLoss(LossConfig(tversky_weight=0.0, ink_negative_weight=4.0), classes=3)(
        logits, target, image
    )
    assert float(weighted) > 2 * float(plain)
    # When the grid line is read right, every pixel costs the same and the weighting changes nothing.
    logits[0, 0, :, 4], logits[0, 1, :, 4] = 4.0, 0.0
    plain, _ = SegmentationLoss(LossConfig(tversky_weight=0.0), classes=3)(logits, target, image)
    weighted, _ = SegmentationLoss(LossConfig(tversky_weight=0.0, ink_negative_weight=4.0), classes=3)(
        logits, target, image
    )
    assert abs(float(weighted) - float(plain)) < 1e-6


def test_ink_negative_weight_without_the_image_is_refused():
    import pytest

    from veerdesk.core.errors import ModelError

    loss_fn = SegmentationLoss(LossConfig(ink_negative_weight=2.0), classes=3)
    with pytest.raises(ModelError, match="input image"):
        loss_fn(torch.randn(1, 3, 8, 8), torch.zeros(1, 8, 8, dtype=torch.long))
