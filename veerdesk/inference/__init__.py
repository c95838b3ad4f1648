"""VeerDesk inference layer: tiled segmentation (torch) and curve tracing (numpy).

Import the submodules directly where torch should not be loaded: ``veerdesk.inference.trace`` and
``veerdesk.inference.tiling`` are torch-free; ``veerdesk.inference.segment`` needs torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SegmentationResult", "TileDone", "segment_for_eval", "segment_page", "trace_curves"]


def __getattr__(name: str) -> Any:
    # Lazy, so that ``from veerdesk.inference import trace_curves`` never imports torch.
    if name in ("segment_page", "SegmentationResult", "TileDone", "run_segmentation",
                "segment_for_eval"):
        from veerdesk.inference import segment

        return getattr(segment, name)
    if name == "trace_curves":
        from veerdesk.inference.trace import trace_curves

        return trace_curves
    raise AttributeError(name)
