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
