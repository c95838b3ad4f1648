"""VeerNet-small: a residual encoder-decoder that labels every pixel background / solid / non-solid curve.

Follows the VeerNet recipe (residual encoder-decoder, 5 levels, normalisation layers, a small transformer
at the bottleneck, 1-channel input) but is sized for a 2-core CPU: the first step is a space-to-depth
("pixel unshuffle") so no convolution runs at full resolution, and the head predicts every sub-pixel of
each 2×2 cell (pixel shuffle) from features that still see the raw full-resolution pixels, so a 1-px
curve keeps its exact position.

Input: ``(N, 1, H, W)`` float in [0, 1], 1 = paper. Output: logits ``(N, classes, H, W)``. Any H, W: the
input is padded with paper to a multiple of :meth:`ModelConfig.stride` and the logits cropped back.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from veerdesk.core.classes import CLASS_SCHEMES
from veerdesk.core.errors import ModelError

ARCHITECTURE = "veernet-small"
CLASS_NAMES = CLASS_SCHEMES[3]


# A card is user-supplied data: check types and sane ranges before any tensor is allocated.
_INT_FIELDS = ("in_channels", "classes", "stem_stride", "decoder_blocks", "groups", "attention_layers",
               "attention_heads", "attention_mlp_ratio")
_MAX_WIDTH = 4096


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_types(config: Any) -> None:
    problems = []
    for name in _INT_FIELDS:
        value = getattr(config, name)
        if not _is_int(value) or not 0 <= value <= _MAX_WIDTH:
            problems.append(f"{name} must be a whole number from 0 to {_MAX_WIDTH}, not {value!r}")
    for name in ("channels", "blocks"):
        value = getattr(config, name)
        if not isinstance(value, tuple) or not all(_is_int(v) and 1 <= v <= _MAX_WIDTH for v in value):
            problems.append(f"{name} must be a list of whole numbers from 1 to {_MAX_WIDTH}")
    if not isinstance(config.class_names, tuple) or not all(isinstance(n, str) for n in config.class_names):
        problems.append("class_names must be a list of names")
    for name in ("in_channels", "classes", "attention_heads"):
        if _is_int(getattr(config, name)) and getattr(config, name) < 1:
            problems.append(f"{name} must be at least 1")
    if problems:
        raise ModelError("invalid model configuration: " + "; ".join(problems))


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the network; saved as JSON beside the weights."""

    architecture: str = ARCHITECTURE
    in_channels: int = 1
    classes: int = 3
    class_names: tuple[str, ...] = CLASS_NAMES
    # Space-to-depth factor of the stem; level 0 of the encoder runs at H/stem_stride.
    stem_stride: int = 2
    # Feature channels per encoder level; each further level halves the resolution.
    channels: tuple[int, ...] = (16, 24, 32, 48, 64)
    # Residual blocks per encoder level (after the downsampling conv).
    blocks: tuple[int, ...] = (1, 1, 1, 1, 1)
    decoder_blocks: int = 1
    norm: str = "batch"  # "batch" (foldable, tile-independent at inference) or "group"
    groups: int = 4
    attention_layers: int = 1
    attention_heads: int = 4
    attention_mlp_ratio: int = 2
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_types(self)
        problems = []
        if len(self.channels) < 2:
            problems.append("channels needs at least 2 levels")
        if len(self.blocks) != len(self.channels):
            problems.append(f"blocks has {len(self.blocks)} entries but channels has {len(self.channels)}")
        if self.stem_stride not in (1, 2, 4):
            problems.append(f"stem_stride must be 1, 2 or 4, not {self.stem_stride}")
        if self.norm not in ("batch", "group"):
            problems.append(f"norm must be 'batch' or 'group', not {self.norm!r}")
        if len(self.class_names) != self.classes:
            problems.append(f"{self.classes} classes but {len(self.class_names)} class names")
        if self.norm == "group" and any(c % self.groups for c in self.channels):
            problems.append(f"every channel count must be divisible by groups={self.groups}")
        if self.attention_layers and self.channels[-1] % self.attention_heads:
            problems.append("bottleneck channels must be divisible by attention_heads")
        if problems:
            raise ModelError("invalid model configuration: " + "; ".join(problems))

    @property
    def levels(self) -> int:
        return len(self.channels)

    @property
    def stride(self) -> int:
        """Input sides are padded to a multiple of this."""
        return self.stem_stride * 2 ** (self.levels - 1)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for key in ("class_names", "channels", "blocks"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ModelError(f"model configuration has unknown keys: {', '.join(unknown)}")
        kwargs = dict(d)
        for key in ("class_names", "channels", "blocks"):
            if key in kwargs:
                if not isinstance(kwargs[key], (list, tuple)):
                    raise ModelError(f"invalid model configuration: {key} must be a list, not {kwargs[key]!r}")
                kwargs[key] = tuple(kwargs[key])
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ModelError(f"invalid model configuration: {exc}") from exc

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def _norm(config: ModelConfig, channels: int) -> nn.Module:
    if config.norm == "group":
        return nn.GroupNorm(config.groups, channels)
    return nn.BatchNorm2d(channels)


class ConvNormAct(nn.Sequential):
    def __init__(self, config: ModelConfig, cin: int, cout: int, *, kernel: int = 3, stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
            _norm(config, cout),
            nn.ReLU(inplace=True),
        )


class ResidualBlock(nn.Module):
    """conv-norm-relu-conv-norm plus identity, then relu (the ResNet basic block)."""

    def __init__(self, config: ModelConfig, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvNormAct(config, channels, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.norm2 = _norm(config, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.norm2(self.conv2(self.conv1(x))))


class BottleneckTransformer(nn.Module):
    """Pre-norm transformer layers over the coarsest feature map (global context along the page).

    Position comes from a depthwise 3×3 conv (a conditional positional encoding), so any H, W works.
    """

    def __init__(self, channels: int, layers: int, heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.position = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                channels,
                heads,
                dim_feedforward=channels * mlp_ratio,
                dropout=0.0,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(layers)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.position(x)
        n, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        for layer in self.layers:
            tokens = layer(tokens)
        return tokens.transpose(1, 2).reshape(n, c, h, w)


class Encoder(nn.Module):
    """Space-to-depth stem, then one residual stage per level; returns every level's features."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        s = config.stem_stride
        ch = config.channels
        self.stem_stride = s
        self.stem = ConvNormAct(config, config.in_channels * s * s, ch[0])
        self.stages = nn.ModuleList()
        for level, (c, n_blocks) in enumerate(zip(ch, config.blocks, strict=True)):
            layers: list[nn.Module] = []
            if level > 0:
                layers.append(ConvNormAct(config, ch[level - 1], c, stride=2))
            layers.extend(ResidualBlock(config, c) for _ in range(n_blocks))
            self.stages.append(nn.Sequential(*layers))
        self.bottleneck = (
            BottleneckTransformer(ch[-1], config.attention_layers, config.attention_heads, config.attention_mlp_ratio)
            if config.attention_layers
            else nn.Identity()
        )

    def forward(self, ink: torch.Tensor) -> list[torch.Tensor]:
        x = F.pixel_unshuffle(ink, self.stem_stride) if self.stem_stride > 1 else ink
        x = self.stem(x)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        features[-1] = self.bottleneck(features[-1])
        return features


class Decoder(nn.Module):
    """Coarse-to-fine: 1×1 conv at the coarse level, bilinear ×2, add the skip, residual block(s)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        ch = config.channels
        self.reduce = nn.ModuleList(nn.Conv2d(ch[i + 1], ch[i], 1, bias=False) for i in range(len(ch) - 1))
        self.refine = nn.ModuleList(
            nn.Sequential(*(ResidualBlock(config, ch[i]) for _ in range(config.decoder_blocks)))
            for i in range(len(ch) - 1)
        )

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = features[-1]
        for i in range(len(features) - 2, -1, -1):
            x = self.reduce[i](x)
            x = F.interpolate(x, size=features[i].shape[-2:], mode="bilinear", align_corners=False)
            x = self.refine[i](x + features[i])
        return x


class Head(nn.Module):
    """Sub-pixel classifier: sees decoder features plus the raw pixels of each stem cell."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        s = config.stem_stride
        raw = config.in_channels * s * s
        self.stem_stride = s
        self.mix = ConvNormAct(config, config.channels[0] + raw, config.channels[0])
        self.classify = nn.Conv2d(config.channels[0], config.classes * s * s, 1)

    def forward(self, decoded: torch.Tensor, ink: torch.Tensor) -> torch.Tensor:
        s = self.stem_stride
        raw = F.pixel_unshuffle(ink, s) if s > 1 else ink
        logits = self.classify(self.mix(torch.cat([decoded, raw], dim=1)))
        return F.pixel_shuffle(logits, s) if s > 1 else logits


class VeerNet(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        self.head = Head(config)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.ndim != 4 or image.shape[1] != self.config.in_channels:
            raise ModelError(f"model expects (N, {self.config.in_channels}, H, W) input, got {tuple(image.shape)}")
        h, w = image.shape[-2:]
        stride = self.config.stride
        pad_h, pad_w = (-h) % stride, (-w) % stride
        # Work on "ink" (1 = black) so zero padding inside convs means blank paper.
        ink = 1.0 - image
        if pad_h or pad_w:
            ink = F.pad(ink, (0, pad_w, 0, pad_h))
        logits = self.head(self.decoder(self.encoder(ink)), ink)
        return logits[..., :h, :w]


def build_model(config: ModelConfig | None = None) -> VeerNet:
    """A freshly initialised network for ``config`` (defaults: VeerNet-small)."""
    return VeerNet(config or ModelConfig())


def model_classes(model: nn.Module) -> int:
    """How many classes the model labels (3 for a stand-in without a VeerNet config)."""
    config = getattr(model, "config", None)
    return int(getattr(config, "classes", 3))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _fold_conv_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A conv whose output equals bn(conv(x)) with the BatchNorm's running statistics."""
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=True,
    )
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused.weight.data.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.bias.data.copy_((bias - bn.running_mean) * scale + bn.bias)
    return fused


@torch.no_grad()
def fold_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every conv→BatchNorm pair into one conv (inference only; saves a pass over memory)."""
    for module in model.modules():
        if isinstance(module, ConvNormAct) and isinstance(module[1], nn.BatchNorm2d):
            module[0] = _fold_conv_batchnorm(module[0], module[1])
            module[1] = nn.Identity()
        if isinstance(module, ResidualBlock) and isinstance(module.norm2, nn.BatchNorm2d):
            module.conv2 = _fold_conv_batchnorm(module.conv2, module.norm2)
            module.norm2 = nn.Identity()
    return model


def prepare_for_inference(model: nn.Module, *, channels_last: bool = True) -> nn.Module:
    """Eval mode, BatchNorm folded, optionally channels-last weights (faster oneDNN convs)."""
    model.eval()
    fold_batchnorm(model)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    return model
