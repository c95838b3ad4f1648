"""Every edit of a :class:`~veerdesk.core.document.Document` is a command on a bounded undo stack.

A command is a small dataclass: its init fields say *what* the user asked for (they are what
``to_dict`` writes, so the project file carries an edit log), and ``do`` records just enough of the old
state to ``undo``. Commands compute their effect from the document they are given, so replaying the log
on a copy of the starting document reproduces the result (tested). Consecutive drags of one point (or
one track edge) during one gesture merge into one undo entry. Qt-free: the app's history view is a thin
adapter over :class:`UndoStack`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from veerdesk.core.document import (
    CHANGE_LAYOUT,
    CHANGE_MASKS,
    CHANGE_REVIEW,
    CHANGE_TRACES,
    CurveTrace,
    Document,
    SegmentationMasks,
    make_trace,
    with_samples,
)
from veerdesk.core.errors import LayoutError, VeerDeskError
from veerdesk.core.layout import Layout

DEFAULT_UNDO_LIMIT = 500
# Confidence given to samples a person drew or confirmed by hand.
HUMAN_CONFIDENCE = 1.0


# --------------------------------------------------------------------------- pure layout edits
def layout_with_tie(layout: Layout, y: float, depth: float) -> Layout:
    """``layout`` with one more depth tie (replacing a tie on the same row); validated."""
    data = layout.to_dict()
    ties = [t for t in data["depth"]["ties"] if abs(float(t[0]) - y) > 1e-9]
    ties.append([float(y), float(depth)])
    data["depth"]["ties"] = sorted(ties, key=lambda t: t[0])
    return Layout.from_dict(data)


def layout_with_track_bounds(layout: Layout, index: int, x0: float, x1: float) -> Layout:
    data = layout.to_dict()
    if not 0 <= index < len(data["tracks"]):
        raise LayoutError(f"layout key 'tracks[{index}]' does not exist; add the track first")
    data["tracks"][index]["x0"], data["tracks"][index]["x1"] = float(min(x0, x1)), float(max(x0, x1))
    return Layout.from_dict(data)


# --------------------------------------------------------------------------- command base
@dataclass
class Command:
    """Base class. Subclasses are dataclasses whose init fields are the request."""

    changes: ClassVar[frozenset[str]] = frozenset()
    registry: ClassVar[dict[str, type[Command]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Command.registry[cls.__name__] = cls

    @property
    def label(self) -> str:
        return type(self).__name__

    def do(self, doc: Document) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def undo(self, doc: Document) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def merge(self, newer: Command) -> bool:
        """Absorb ``newer`` (already done) into this entry; return False when they are separate edits."""
        return False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": type(self).__name__}
        for f in dataclasses.fields(self):
            if f.init:
                out[f.name] = _to_plain(getattr(self, f.name))
        return out


def _to_plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [None if not np.isfinite(v) else float(v) for v in value.ravel()]
    if isinstance(value, Layout):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _trace_to_plain(v) if hasattr(v, "confidence") else _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _trace_to_plain(trace: CurveTrace) -> dict[str, Any]:
    return {k: _to_plain(getattr(trace, k)) for k in ("depth", "value", "confidence")}


def _floats(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def command_from_dict(data: dict[str, Any]) -> Command:
    """Rebuild a command written by :meth:`Command.to_dict`."""
    kind = data.get("type")
    cls = Command.registry.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise VeerDeskError(f"unknown edit '{kind}' in the project's edit log")
    kwargs = {k: v for k, v in data.items() if k != "type"}
    if cls is SetLayout:
        kwargs["layout"] = Layout.from_dict(kwargs["layout"]) if kwargs["layout"] is not None else None
    if cls in (SetTraces, ApplyRerun):
        kwargs["traces"] = {
            name: make_trace(name, _floats(t["depth"]), _floats(t["value"]), _floats(t["confidence"]))
            for name, t in kwargs["traces"].items()
        }
    if cls is RedrawStretch:
        kwargs["depths"], kwargs["values"] = _floats(kwargs["depths"]), _floats(kwargs["values"])
    return cls(**kwargs)


# --------------------------------------------------------------------------- slice patches
@dataclass
class _Patch:
    mnemonic: str
    i0: int
    value: np.ndarray
    confidence: np.ndarray
    reviewed: np.ndarray


def _take(doc: Document, mnemonic: str, i0: int, i1: int) -> _Patch:
    trace = doc.trace(mnemonic)
    return _Patch(
        mnemonic, i0, trace.value[i0:i1].copy(), trace.confidence[i0:i1].copy(), doc.reviewed_mask(mnemonic)[i0:i1].copy()
    )


def _put(doc: Document, patch: _Patch) -> None:
    trace = doc.trace(patch.mnemonic)
    i0, i1 = patch.i0, patch.i0 + len(patch.value)
    value, confidence = trace.value.copy(), trace.confidence.copy()
    value[i0:i1], confidence[i0:i1] = patch.value, patch.confidence
    reviewed = doc.reviewed_mask(patch.mnemonic).copy()
    reviewed[i0:i1] = patch.reviewed
    doc.set_trace(with_samples(trace, value, confidence))
    doc.set_reviewed(patch.mnemonic, reviewed)


class _SliceEdit(Command):
    """Shared undo for commands that rewrite sample ranges of one or more curves."""

    changes: ClassVar[frozenset[str]] = frozenset({CHANGE_TRACES, CHANGE_REVIEW})

    def _remember(self, patches: list[_Patch]) -> None:
        self._old = patches

    def undo(self, doc: Document) -> None:
        for patch in reversed(self._old):
            _put(doc, patch)


# --------------------------------------------------------------------------- layout commands
@dataclass
class SetLayout(Command):
    layout: Layout | None
    description: str = "Change layout"
    gesture: int | None = None
    _old: Layout | None = field(default=None, init=False, repr=False)

    changes: ClassVar[frozenset[str]] = frozenset({CHANGE_LAYOUT})

    @property
    def label(self) -> str:
        return self.description

    def do(self, doc: Document) -> None:
        self._old = doc.layout
        doc.layout = self.layout

    def undo(self, doc: Document) -> None:
        doc.layout = self._old

    def merge(self, newer: Command) -> bool:
        if isinstance(newer, SetLayout) and self.gesture is not None and newer.gesture == self.gesture:
            self.layout = newer.layout
            return True
        return False


@dataclass
class AddDepthTie(Command):
    y: float
    depth: float
    _old: Layout | None = field(default=None, init=False, repr=False)

    changes: ClassVar[frozenset[str]] = frozenset({CHANGE_LAYOUT})

    @property
    def label(self) -> str:
        return f"Add depth tie {self.depth:g} at row {self.y:.0f}"

    def do(self, doc: Document) -> None:
        if doc.layout is None:
            raise LayoutError("set up a layout (at least two depth ties) before adding more ties")
        new = layout_with_tie(doc.layout, self.y, self.depth)
        self._old, doc.layout = doc.layout, new

    def undo(self, doc: Document) -> None:
        doc.layout = self._old


@dataclass
class SetTrackBounds(Command):
    track: int
    x0: float
    x1: float
    gesture: int | None = None
    _old: Layout | None = field(default=None, init=False, repr=False)

    changes: ClassVar[frozenset[str]] = frozenset({CHANGE_LAYOUT})

    @property
    def label(self) -> str:
        return f"Set track {self.track + 1} bounds {self.x0:.0f}–{self.x1:.0f}"

    def do(self, doc: Document) -> None:
        if doc.layout is None:
            raise LayoutError("set up a layout before moving track bounds")
        new = layout_with_track_bounds(doc.layout, self.track, self.x0, self.x1)
        self._old, doc.layout = doc.layout, new

    def undo(self, doc: Document) -> None:
        doc.layout = self._old

    def merge(self, newer: Command) -> bool:
        if (
            isinstance(newer, SetTrackBounds)
            and self.gesture is not None
            and newer.gesture == self.gesture
            and newer.track == self.track
        ):
            self.x0, self.x1 = newer.x0, newer.x1
            return True
        return False


# --------------------------------------------------------------------------- whole-run results
@dataclass
class SetTraces(Command):
    """Apply a model run: replaces every traced curve (and the masks); review state starts afresh."""

    traces: dict[str, CurveTrace]
    description: str = "Run model"
    masks: SegmentationMasks | None = field(default=None, compare=False)
    _old: tuple | None = field(default=None, init=False, repr=False)

    changes: ClassVar[frozenset[str]] = frozenset({CHANGE_TRACES, CHANGE_REVIEW, CHANGE_MASKS})

    @property
    def label(self) -> str:
        return self.description

    def to_dict(self) -> dict[str, Any]:
        return {"type": "SetTraces", "traces": _to_plain(self.traces), "description": self.description}

    def do(self, doc: Document) -> None:
        self._old = (dict(doc.traces), dict(doc.reviewed), doc.masks)
        doc.traces = {k: make_trace(k, t.depth, t.value, t.confidence) for k, t in self.traces.items()}
        doc.reviewed = {}
        if self.masks is not None:
            doc.masks = self.masks

    def undo(self, doc: Document) -> None:
        traces, reviewed, masks = self._old
        doc.traces, doc.reviewed, doc.masks = dict(traces), dict(reviewed), masks


# --------------------------------------------------------------------------- corrections
@dataclass
class RedrawStretch(_SliceEdit):
    """Replace a curve's values between the first and last drawn depth with the drawn line."""

    mnemonic: str
    depths: np.ndarray
    values: np.ndarray

    @property
    def label(self) -> str:
        d = np.asarray(self.depths, dtype=float)
        return f"Redraw {self.mnemonic} {np.nanmin(d):g}–{np.nanmax(d):g}"

    def do(self, doc: Document) -> None:
        depths = np.asarray(self.depths, dtype=np.float64)
        values = np.asarray(self.values, dtype=np.float64)
        keep = np.isfinite(depths) & np.isfinite(values)
        depths, values = depths[keep], values[keep]
        if depths.size == 0:
            self._remember([])
            return
        order = np.argsort(depths, kind="stable")
        depths, values = depths[order], values[order]
        i0, i1 = doc.index_range(self.mnemonic, depths[0], depths[-1])
        patch = _take(doc, self.mnemonic, i0, i1)
        grid = doc.trace(self.mnemonic).depth[i0:i1]
        new = _Patch(
            self.mnemonic,
            i0,
            np.interp(grid, depths, values),
            np.full(i1 - i0, HUMAN_CONFIDENCE),
            np.ones(i1 - i0, dtype=bool),
        )
        _put(doc, new)
        self._remember([patch])


@dataclass
class EraseRange(_SliceEdit):
    """Mark a curve absent over a depth range (a person decided nothing is there)."""

    mnemonic: str
    depth_a: float
    depth_b: float

    @property
    def label(self) -> str:
        return f"Erase {self.mnemonic} {min(self.depth_a, self.depth_b):g}–{max(self.depth_a, self.depth_b):g}"

    def do(self, doc: Document) -> None:
        i0, i1 = doc.index_range(self.mnemonic, self.depth_a, self.depth_b)
        old = _take(doc, self.mnemonic, i0, i1)
        n = i1 - i0
        _put(doc, _Patch(self.mnemonic, i0, np.full(n, np.nan), np.full(n, HUMAN_CONFIDENCE), np.ones(n, dtype=bool)))
        self._remember([old])


@dataclass
class MovePoint(_SliceEdit):
    mnemonic: str
    index: int
    value: float
    gesture: int | None = None

    @property
    def label(self) -> str:
        return f"Move {self.mnemonic} point {self.index}"

    def do(self, doc: Document) -> None:
        old = _take(doc, self.mnemonic, self.index, self.index + 1)
        _put(doc, _Patch(self.mnemonic, self.index, np.array([float(self.value)]), np.array([HUMAN_CONFIDENCE]),
                         np.array([True])))
        self._remember([old])

    def merge(self, newer: Command) -> bool:
        if (
            isinstance(newer, MovePoint)
            and self.gesture is not None
            and newer.gesture == self.gesture
            and (newer.mnemonic, newer.index) == (self.mnemonic, self.index)
        ):
            self.value = newer.value  # keep our own _old: the value before the whole drag
            return True
        return False


@dataclass
class SwapCurves(_SliceEdit):
    """Swap the identity of two curves over a depth range (the tracer followed the wrong line)."""

    first: str
    second: str
    depth_a: float
    depth_b: float

    @property
    def label(self) -> str:
        return f"Swap {self.first} ↔ {self.second} {min(self.depth_a, self.depth_b):g}–{max(self.depth_a, self.depth_b):g}"

    def do(self, doc: Document) -> None:
        i0, i1 = doc.index_range(self.first, self.depth_a, self.depth_b)
        j0, j1 = doc.index_range(self.second, self.depth_a, self.depth_b)
        a, b = doc.trace(self.first), doc.trace(self.second)
        if (i1 - i0) != (j1 - j0) or not np.allclose(a.depth[i0:i1], b.depth[j0:j1]):
            raise VeerDeskError(f"{self.first} and {self.second} are on different depth grids; cannot swap them")
        pa, pb = _take(doc, self.first, i0, i1), _take(doc, self.second, j0, j1)
        _put(doc, _Patch(self.first, i0, pb.value, pb.confidence, pb.reviewed))
        _put(doc, _Patch(self.second, j0, pa.value, pa.confidence, pa.reviewed))
        self._remember([pa, pb])


@dataclass
class AcceptReview(_SliceEdit):
    """A person looked at samples [i0, i1) of a curve and accepts them as they are."""

    mnemonic: str
    i0: int
    i1: int

    changes: ClassVar[frozenset[str]] = frozenset({CHANGE_REVIEW})

    @property
    def label(self) -> str:
        trace = self.mnemonic
        return f"Accept {trace} samples {self.i0}–{self.i1 - 1}"

    def do(self, doc: Document) -> None:
        old = _take(doc, self.mnemonic, self.i0, self.i1)
        _put(doc, _Patch(self.mnemonic, self.i0, old.value, old.confidence, np.ones(self.i1 - self.i0, dtype=bool)))
        self._remember([old])


@dataclass
class ApplyRerun(_SliceEdit):
    """Take a re-run of the model over a depth range: its samples replace the old ones there."""

    depth_a: float
    depth_b: float
    traces: dict[str, CurveTrace]

    @property
    def label(self) -> str:
        return f"Re-run model {min(self.depth_a, self.depth_b):g}–{max(self.depth_a, self.depth_b):g}"

    def do(self, doc: Document) -> None:
        olds = []
        for name, new in self.traces.items():
            if name not in doc.traces:
                continue
            i0, i1 = doc.index_range(name, self.depth_a, self.depth_b)
            grid = doc.trace(name).depth[i0:i1]
            value, confidence = _lookup(new, grid)
            olds.append(_take(doc, name, i0, i1))
            _put(doc, _Patch(name, i0, value, confidence, np.zeros(i1 - i0, dtype=bool)))
        self._remember(olds)


def _lookup(trace: CurveTrace, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``trace`` sampled at exactly the depths ``grid`` (NaN / 0 where it has no such sample)."""
    depth = np.asarray(trace.depth, dtype=np.float64)
    value = np.full(grid.shape, np.nan)
    confidence = np.zeros(grid.shape)
    if depth.size == 0 or grid.size == 0:
        return value, confidence
    order = np.argsort(depth)
    sd = depth[order]
    pos = np.clip(np.searchsorted(sd, grid), 0, sd.size - 1)
    prev = np.clip(pos - 1, 0, sd.size - 1)
    best = np.where(np.abs(sd[prev] - grid) < np.abs(sd[pos] - grid), prev, pos)
    hit = np.abs(sd[best] - grid) <= 1e-6 * np.maximum(1.0, np.abs(grid))
    src = order[best]
    value[hit] = np.asarray(trace.value, dtype=np.float64)[src[hit]]
    confidence[hit] = np.asarray(trace.confidence, dtype=np.float64)[src[hit]]
    return value, confidence


# --------------------------------------------------------------------------- the stack
class UndoStack:
    """A bounded undo stack over one document. ``index`` = number of commands currently done."""

    def __init__(self, doc: Document, limit: int = DEFAULT_UNDO_LIMIT) -> None:
        if limit < 1:
            raise ValueError("undo limit must be at least 1")
        self.doc = doc
        self.limit = limit
        self._commands: list[Command] = []
        self._index = 0
        self._clean: int | None = 0
        self._listeners: list[Callable[[], None]] = []

    # -------------------------------------------------------------- observers
    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self, changes: frozenset[str]) -> None:
        self.doc.dirty = not self.is_clean
        self.doc.notify(set(changes))
        for listener in list(self._listeners):
            listener()

    # -------------------------------------------------------------- queries
    @property
    def index(self) -> int:
        return self._index

    def __len__(self) -> int:
        return len(self._commands)

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._commands)

    @property
    def is_clean(self) -> bool:
        return self._clean == self._index

    def labels(self) -> list[str]:
        return [c.label for c in self._commands]

    def done_commands(self) -> list[Command]:
        return list(self._commands[: self._index])

    # -------------------------------------------------------------- edits
    def push(self, command: Command) -> Command:
        """Do ``command`` and record it (merged into the previous entry when it continues a drag).

        If ``do`` raises, nothing is recorded and the document is as it was.
        """
        command.do(self.doc)
        del self._commands[self._index :]
        if self._clean is not None and self._clean > self._index:
            self._clean = None  # the saved state can no longer be reached
        top = self._commands[-1] if self._commands else None
        merged = top is not None and self._index == len(self._commands) and self._clean != self._index and top.merge(command)
        if not merged:
            self._commands.append(command)
            self._index += 1
            overflow = len(self._commands) - self.limit
            if overflow > 0:
                del self._commands[:overflow]
                self._index -= overflow
                if self._clean is not None:
                    self._clean = self._clean - overflow if self._clean >= overflow else None
        self._changed(command.changes)
        return command

    def undo(self) -> None:
        if not self.can_undo:
            return
        self._index -= 1
        command = self._commands[self._index]
        command.undo(self.doc)
        self._changed(command.changes)

    def redo(self) -> None:
        if not self.can_redo:
            return
        command = self._commands[self._index]
        command.do(self.doc)
        self._index += 1
        self._changed(command.changes)

    def set_index(self, index: int) -> None:
        """Undo or redo until ``index`` commands are done (the history view's click)."""
        index = max(0, min(index, len(self._commands)))
        while self._index > index:
            self.undo()
        while self._index < index:
            self.redo()

    def set_clean(self) -> None:
        """The document was saved in its current state."""
        self._clean = self._index
        self._changed(frozenset())

    def clear(self) -> None:
        self._commands.clear()
        self._index = 0
        self._clean = 0
        self._changed(frozenset())


def replay(start: Document, commands: list[Command]) -> Document:
    """Apply ``commands``, rebuilt from their dicts (so no state is shared), to a copy of ``start``."""
    doc = start.copy()
    for command in commands:
        command_from_dict(command.to_dict()).do(doc)
    return doc
