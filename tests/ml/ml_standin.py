"""A tiny stand-in for the synthetic generator: a few solid and dashed lines drawn with OpenCV.

Only for tests of the ml layer (fast, deterministic); real training uses veerdesk.synth.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from veerdesk.ml.model import ModelConfig

TINY_MODEL = ModelConfig(channels=(4, 8, 8, 8, 8), attention_heads=2)


def draw_lines(rng: np.random.Generator, height: int, width: int, ids: np.ndarray | None = None):
    """A solid (class 1, id 1) and a dashed (class 2, id 2) wiggly vertical line; fills ``ids`` if given."""
    image = np.full((height, width), 255, np.uint8)
    mask = np.zeros((height, width), np.uint8)
    for cls in (1, 2):
        x = int(rng.integers(4, width - 4))
        ys = np.arange(height)
        xs = np.clip(x + np.round(3 * np.sin(ys / rng.uniform(5, 15))).astype(int), 0, width - 1)
        for y0 in range(0, height, 8):
            if cls == 2 and (y0 // 8) % 2:
                continue  # gaps of the dashed curve
            pts = np.stack([xs[y0 : y0 + 8], ys[y0 : y0 + 8]], axis=1).reshape(-1, 1, 2).astype(np.int32)
            cv2.polylines(image, [pts], False, 0, 1)
            cv2.polylines(mask, [pts], False, cls, 1)
            if ids is not None:
                cv2.polylines(ids, [pts], False, cls, 1)
    return image, mask


def standin_stream(seed: int, crop: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    while True:
        yield draw_lines(rng, crop, crop)


@dataclass(frozen=True)
class _Track:
    scale: str = "linear"


@dataclass(frozen=True)
class _Curve:
    mnemonic: str
    style: str
    weight: str | None = None


@dataclass
class _Layout:
    def curves(self) -> list:
        return [(0, _Track(), _Curve("GR", "solid")), (0, _Track("log"), _Curve("RES", "dashed", "heavy"))]


@dataclass
class StandinPage:
    image: np.ndarray
    mask: np.ndarray
    curve_ids: np.ndarray
    layout: _Layout = field(default_factory=_Layout)
    truth: dict = field(default_factory=dict)
    style: dict = field(default_factory=lambda: {"curves": [{"width": 1}, {"width": 5}]})


def standin_page(seed: int, *, width: int, height: int) -> StandinPage:
    ids = np.zeros((height, width), np.uint8)
    image, mask = draw_lines(np.random.default_rng(seed), height, width, ids)
    truth = {"GR": np.linspace(0, 150, 20), "RES": np.geomspace(0.2, 2000, 20)}
    return StandinPage(image, mask, ids, truth=truth)
