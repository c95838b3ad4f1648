"""Losses for thin structures: curves cover ~1-3 % of a page, so plain cross-entropy under-learns them.

The combination used for training is class-weighted cross-entropy (per-pixel, keeps the edges
crisp) plus a soft Tversky term on the curve classes (region overlap, insensitive to how few curve
pixels there are; with alpha = beta = 0.5 it is soft Dice, i.e. a differentiable F1), optionally plus
soft clDice (Shit et al., 2021), which rewards keeping each curve's skeleton connected, and optionally a
skeleton recall term (after Kirchhoff et al., 2024): the share of each class's target skeleton the network
covers. Tversky and cross-entropy count pixels, so a 6-px pen outweighs a 1-px pen six to one per row of
curve; the skeleton counts length, so the thin pens the segmentation kept missing weigh as much as thick ones.

`ink_negative_weight` raises the cross-entropy weight of background pixels that are ink all the same (grid
lines, lettering, hatching, stains): ink away from curves is rare among background pixels, so plain
cross-entropy barely punishes calling it curve, and the tracer then has to reject it. Ink means darker than
the crop's paper level (its 90th percentile) by `INK_CONTRAST`; pixels within a pixel of a labelled curve are
left out, so a pen's soft edge is not taught as background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from veerdesk.core.errors import ModelError


@dataclass(frozen=True)
class LossConfig:
    ce_weight: float = 1.0
    class_weights: tuple[float, ...] = (1.0, 3.0, 3.0)
    tversky_weight: float = 1.0
    tversky_alpha: float = 0.5  # weight of false positives
    tversky_beta: float = 0.5  # weight of false negatives
    tversky_classes: tuple[int, ...] = (1, 2)
    cldice_weight: float = 0.0
    cldice_iterations: int = 3
    skeleton_recall_weight: float = 0.0
    ink_negative_weight: float = 0.0  # extra CE weight of non-curve ink; 0 = plain class-weighted CE

    @classmethod
    def from_dict(cls, d: dict) -> LossConfig:
        kwargs = dict(d)
        for key in ("class_weights", "tversky_classes"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ModelError(f"invalid loss configuration: {exc}") from exc


def soft_tversky_loss(
    probs: torch.Tensor, target_onehot: torch.Tensor, classes: tuple[int, ...], alpha: float, beta: float
) -> torch.Tensor:
    """1 - Tversky index per class, summed over the whole batch (stable when a crop has no curve), averaged."""
    dims = (0, 2, 3)
    p = probs[:, list(classes)]
    t = target_onehot[:, list(classes)]
    tp = (p * t).sum(dims)
    fp = (p * (1 - t)).sum(dims)
    fn = ((1 - p) * t).sum(dims)
    index = (tp + 1.0) / (tp + alpha * fp + beta * fn + 1.0)
    return (1 - index).mean()


def soft_skeleton(x: torch.Tensor, iterations: int) -> torch.Tensor:
    """Differentiable morphological skeleton of soft masks (N, C, H, W) via min/max pooling."""

    def erode(t: torch.Tensor) -> torch.Tensor:
        return torch.minimum(-F.max_pool2d(-t, (3, 1), 1, (1, 0)), -F.max_pool2d(-t, (1, 3), 1, (0, 1)))

    def dilate(t: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(t, 3, 1, 1)

    skeleton = F.relu(x - dilate(erode(x)))
    for _ in range(iterations):
        x = erode(x)
        delta = F.relu(x - dilate(erode(x)))
        skeleton = skeleton + F.relu(delta - skeleton * delta)
    return skeleton


def soft_cldice_loss(
    probs: torch.Tensor, target_onehot: torch.Tensor, classes: tuple[int, ...], iterations: int
) -> torch.Tensor:
    p = probs[:, list(classes)]
    t = target_onehot[:, list(classes)]
    skel_p = soft_skeleton(p, iterations)
    skel_t = soft_skeleton(t, iterations)
    precision = ((skel_p * t).sum() + 1.0) / (skel_p.sum() + 1.0)
    recall = ((skel_t * p).sum() + 1.0) / (skel_t.sum() + 1.0)
    return 1 - 2 * precision * recall / (precision + recall)


def skeleton_recall_loss(
    probs: torch.Tensor, target_onehot: torch.Tensor, classes: tuple[int, ...], iterations: int
) -> torch.Tensor:
    """1 - the probability mass on each class's target skeleton, per class over the batch, averaged over the
    classes present (a class absent from the batch has nothing to recall and would only add a constant)."""
    with torch.no_grad():
        skeleton = soft_skeleton(target_onehot[:, list(classes)], iterations)
    length = skeleton.sum((0, 2, 3))
    present = length > 0
    if not bool(present.any()):
        return probs.sum() * 0.0  # keeps the graph (and the dtype) when no crop holds a curve
    covered = (probs[:, list(classes)] * skeleton).sum((0, 2, 3))
    recall = covered[present] / length[present]
    return 1 - recall.mean()


INK_CONTRAST = 0.25  # of the [0, 1] input range below the crop's paper level


def non_curve_ink(image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Boolean (N, H, W): background pixels of `image` (N, 1, H, W; 1 = paper) that are clearly ink and
    not next to a labelled curve."""
    image = image.float()
    flat = image.flatten(1)
    # kthvalue, not quantile: torch.quantile refuses inputs over 2**24 elements (a large batch of big crops).
    paper = flat.kthvalue(max(1, math.ceil(0.9 * flat.shape[1])), dim=1).values.view(-1, 1, 1)
    ink = image[:, 0] < paper - INK_CONTRAST
    near_curve = F.max_pool2d((target > 0).float().unsqueeze(1), 3, 1, 1)[:, 0] > 0
    return ink & ~near_curve


def weighted_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, class_weights: torch.Tensor, extra: torch.Tensor, weight: float
) -> torch.Tensor:
    """Class-weighted cross-entropy where the pixels in `extra` count (1 + weight) times; normalised by the
    total weight, as F.cross_entropy normalises by the class weights."""
    per_pixel = F.cross_entropy(logits, target, weight=class_weights, reduction="none")
    pixel_weight = 1.0 + weight * extra.to(per_pixel.dtype)
    norm = (class_weights[target] * pixel_weight).sum().clamp_min(1e-6)
    return (per_pixel * pixel_weight).sum() / norm


class SegmentationLoss(torch.nn.Module):
    """Weighted sum of the terms above; returns (total, {term: value}) for logging."""

    def __init__(self, config: LossConfig, classes: int) -> None:
        super().__init__()
        if len(config.class_weights) != classes:
            raise ModelError(f"loss has {len(config.class_weights)} class weights but the model has {classes} classes")
        self.config = config
        self.classes = classes
        self.register_buffer("class_weights", torch.tensor(config.class_weights, dtype=torch.float32))

    def forward(
        self, logits: torch.Tensor, target: torch.Tensor, image: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """`image` (the network's input) is needed only when `ink_negative_weight` is set."""
        c = self.config
        logits = logits.float()  # losses in fp32 even when the network ran in bf16
        terms: dict[str, torch.Tensor] = {}
        if c.ce_weight and c.ink_negative_weight:
            if image is None:
                raise ModelError("ink_negative_weight needs the input image passed to the loss")
            extra = non_curve_ink(image, target)
            terms["ce"] = c.ce_weight * weighted_cross_entropy(
                logits, target, self.class_weights, extra, c.ink_negative_weight
            )
        elif c.ce_weight:
            terms["ce"] = c.ce_weight * F.cross_entropy(logits, target, weight=self.class_weights)
        if c.tversky_weight or c.cldice_weight or c.skeleton_recall_weight:
            probs = logits.softmax(dim=1)
            onehot = F.one_hot(target, self.classes).permute(0, 3, 1, 2).to(probs.dtype)
            if c.tversky_weight:
                terms["tversky"] = c.tversky_weight * soft_tversky_loss(
                    probs, onehot, c.tversky_classes, c.tversky_alpha, c.tversky_beta
                )
            if c.cldice_weight:
                terms["cldice"] = c.cldice_weight * soft_cldice_loss(
                    probs, onehot, c.tversky_classes, c.cldice_iterations
                )
            if c.skeleton_recall_weight:
                terms["skeleton_recall"] = c.skeleton_recall_weight * skeleton_recall_loss(
                    probs, onehot, c.tversky_classes, c.cldice_iterations
                )
        total = sum(terms.values())
        return total, {name: float(value.detach()) for name, value in terms.items()}
