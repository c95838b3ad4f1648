"""The document the app edits: one scanned sheet, its layout, the traced curves and what has been reviewed.

Qt-free on purpose (napari's model/view split): the ``ui`` package renders a :class:`Document` and turns
gestures into commands (``veerdesk.core.commands``); tests of the document never start a QApplication.
Edits go through commands only, which call the small mutators below and then :meth:`Document.notify`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from veerdesk.core.curves import CurveTrace
from veerdesk.core.layout import Layout

# What changed, so views redraw only what they must.
CHANGE_IMAGE = "image"
CHANGE_LAYOUT = "layout"
CHANGE_TRACES = "traces"
CHANGE_REVIEW = "review"
CHANGE_MASKS = "masks"


def make_trace(mnemonic: str, depth, value, confidence) -> CurveTrace:
    """A :class:`CurveTrace` with its own copies of the arrays (edits never alias the caller's)."""
    depth = np.array(depth, dtype=np.float64)
    value = np.array(value, dtype=np.float64)
    confidence = np.array(confidence, dtype=np.float64)
    if not (depth.shape == value.shape == confidence.shape) or depth.ndim != 1:
        raise ValueError(f"trace {mnemonic}: depth, value and confidence must be 1-D arrays of one length")
    return CurveTrace(mnemonic, depth, value, confidence)


def with_samples(trace: CurveTrace, value: np.ndarray, confidence: np.ndarray) -> CurveTrace:
    """The same trace with new ``value`` / ``confidence`` arrays (CurveTrace re-validates them)."""
    return dataclasses.replace(trace, value=value, confidence=confidence)


def traces_equal(a: CurveTrace, b: CurveTrace) -> bool:
    return (
        a.mnemonic == b.mnemonic
        and np.array_equal(a.depth, b.depth)
        and np.array_equal(a.value, b.value, equal_nan=True)
        and np.array_equal(a.confidence, b.confidence, equal_nan=True)
    )


@dataclass(frozen=True)
class SegmentationMasks:
    """The model's per-pixel output for the whole page (kept for overlays, not needed for export)."""

    class_map: np.ndarray  # uint8 H×W: 0 background, 1 solid curve, 2 non-solid curve
    confidence: np.ndarray  # uint8 H×W: 0..255


@dataclass
class Document:
    image_path: str | None = None
    layout: Layout | None = None
    traces: dict[str, CurveTrace] = field(default_factory=dict)
    # Per curve, one flag per depth sample: a person has looked at this sample and accepted it.
    reviewed: dict[str, np.ndarray] = field(default_factory=dict)
    masks: SegmentationMasks | None = None
    dirty: bool = False
    _listeners: list[Callable[[set[str]], None]] = field(default_factory=list, repr=False, compare=False)

    # ------------------------------------------------------------------ observers
    def subscribe(self, listener: Callable[[set[str]], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[set[str]], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def notify(self, changes: set[str]) -> None:
        for listener in list(self._listeners):
            listener(set(changes))

    # ------------------------------------------------------------------ queries
    def trace(self, mnemonic: str) -> CurveTrace:
        try:
            return self.traces[mnemonic]
        except KeyError:
            raise KeyError(f"no traced curve named {mnemonic}") from None

    def reviewed_mask(self, mnemonic: str) -> np.ndarray:
        trace = self.trace(mnemonic)
        mask = self.reviewed.get(mnemonic)
        if mask is None or mask.shape != trace.depth.shape:
            mask = np.zeros(trace.depth.shape, dtype=bool)
        return mask

    def index_range(self, mnemonic: str, depth_a: float, depth_b: float) -> tuple[int, int]:
        """Half-open sample index range [i0, i1) of ``mnemonic`` whose depths lie between a and b."""
        depth = self.trace(mnemonic).depth
        lo, hi = min(depth_a, depth_b), max(depth_a, depth_b)
        if depth.size and depth[0] > depth[-1]:  # pragma: no cover - grids are ascending by contract
            inside = np.nonzero((depth >= lo) & (depth <= hi))[0]
            return (int(inside[0]), int(inside[-1]) + 1) if inside.size else (0, 0)
        i0 = int(np.searchsorted(depth, lo - 1e-9, side="left"))
        i1 = int(np.searchsorted(depth, hi + 1e-9, side="right"))
        return i0, max(i0, i1)

    # ------------------------------------------------------------------ mutators (called by commands)
    def set_trace(self, trace: CurveTrace) -> None:
        self.traces[trace.mnemonic] = trace

    def remove_trace(self, mnemonic: str) -> None:
        self.traces.pop(mnemonic, None)
        self.reviewed.pop(mnemonic, None)

    def set_reviewed(self, mnemonic: str, mask: np.ndarray) -> None:
        self.reviewed[mnemonic] = np.asarray(mask, dtype=bool).copy()

    # ------------------------------------------------------------------ comparison (replay tests, recovery)
    def same_content(self, other: Document) -> bool:
        """True when both documents hold the same sheet, layout, traces and review state."""
        if self.image_path != other.image_path or self.layout != other.layout:
            return False
        if self.layout is not None and self.layout.to_dict() != other.layout.to_dict():
            return False
        if set(self.traces) != set(other.traces):
            return False
        if not all(traces_equal(self.traces[k], other.traces[k]) for k in self.traces):
            return False
        return all(np.array_equal(self.reviewed_mask(k), other.reviewed_mask(k)) for k in self.traces)

    def copy(self) -> Document:
        """A deep copy of the content (listeners are not copied)."""
        return Document(
            image_path=self.image_path,
            layout=self.layout,
            traces={k: make_trace(t.mnemonic, t.depth, t.value, t.confidence) for k, t in self.traces.items()},
            reviewed={k: v.copy() for k, v in self.reviewed.items()},
            masks=self.masks,
            dirty=self.dirty,
        )
