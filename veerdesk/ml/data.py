"""Training batches streamed from the synthetic generator.

Seeds: every training stream starts at a seed ≥ :data:`TRAIN_SEED_MIN`; validation crops and held-out
evaluation pages use seeds below it, so the two never share a page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from veerdesk.core.errors import ModelError

TRAIN_SEED_MIN = 1_000_000

# (seed, crop) -> infinite iterator of (image uint8 H×W 0 = ink, mask uint8 H×W class ids)
StreamFactory = Callable[[int, int], Iterator[tuple[np.ndarray, np.ndarray]]]


def synth_crop_stream(
    seed: int, crop: int, classes: int = 3, coarse_share: float = 0.0, coarse_levels: str = "sheet",
    plotter_share: float = 0.0, family_share: float = 0.0,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The real generator's crop stream (imported lazily: synth may be absent in a partial checkout), with
    masks in the ``classes``-class scheme, ``coarse_share`` of the crops coarse captures and
    ``plotter_share`` of them with plotting-software dash patterns, ``family_share`` with curve families."""
    try:
        from veerdesk.synth import CropStream
    except ImportError:
        try:
            from veerdesk.synth.crops import CropStream
        except ImportError as exc:
            raise ModelError("the synthetic generator (veerdesk.synth.CropStream) is not available") from exc
    return iter(CropStream(seed, crop=crop, classes=classes, coarse_share=coarse_share, coarse_levels=coarse_levels,
                           plotter_share=plotter_share, family_share=family_share))


def to_batch(images: list[np.ndarray], masks: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (0 = ink) → float (N,1,H,W) in [0,1] (1 = paper); masks → int64 (N,H,W)."""
    x = torch.from_numpy(np.stack(images)).float().div_(255.0).unsqueeze(1)
    y = torch.from_numpy(np.stack(masks).astype(np.int64))
    return x, y


class BatchStream(torch.utils.data.IterableDataset):
    """Infinite stream of ready batches; usable directly or as a DataLoader dataset (batch_size=None)."""

    def __init__(
        self, factory: StreamFactory, seed: int, crop: int, batch_size: int, *, flips: bool = True, classes: int = 3
    ) -> None:
        super().__init__()
        self.factory = factory
        self.seed = seed
        self.crop = crop
        self.batch_size = batch_size
        self.flips = flips
        self.classes = classes

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        seed = self.seed
        worker = torch.utils.data.get_worker_info()
        # In a loader worker, keep the generator to one core: the training step owns the others.
        if worker is not None:
            seed += 1_000_003 * worker.id  # each worker its own stream (all still ≥ the training minimum)
            torch.set_num_threads(1)
            try:
                import cv2

                cv2.setNumThreads(1)
            except ImportError:  # pragma: no cover
                pass
        stream = self.factory(seed, self.crop)
        rng = np.random.default_rng(seed)
        while True:
            images, masks = [], []
            for _ in range(self.batch_size):
                image, mask = next(stream)
                if image.shape != (self.crop, self.crop) or mask.shape != image.shape:
                    raise ModelError(f"generator returned a {image.shape} crop, expected {self.crop}×{self.crop}")
                if self.flips:
                    # Logs read top-down, but left/right and up/down mirrored curves are still curves.
                    if rng.random() < 0.5:
                        image, mask = image[:, ::-1], mask[:, ::-1]
                    if rng.random() < 0.5:
                        image, mask = image[::-1], mask[::-1]
                images.append(np.ascontiguousarray(image))
                masks.append(np.ascontiguousarray(mask))
            yield to_batch(images, masks)


def fixed_crops(factory: StreamFactory, seed: int, crop: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` crops from one seed, as a single batch (the validation set)."""
    stream = factory(seed, crop)
    pairs = [next(stream) for _ in range(count)]
    return to_batch([p[0] for p in pairs], [p[1] for p in pairs])
