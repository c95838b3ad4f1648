"""Pixel classes of the segmentation: which curve styles share a class.

Two schemes exist. The seed's three classes (background, solid, non-solid) put dashed, dash-dot and
dotted curves in one class, so a track with a dashed and a dotted curve (deep and shallow resistivity,
say) leaves the tracer to tell them apart by continuity alone, and that is where most recovered-curve
accuracy was lost. The four-class scheme gives dotted curves their own class; the five-class scheme gives
dash-dot curves theirs too (a dashed and a dash-dot curve share a track as often: their dashes look
alike, and only the dots between tell them apart). Class ids are stable: 0 background, 1 solid,
2 non-solid (dashed, and dash-dot in the four-class scheme), 3 dotted, 4 dash-dot.
"""

from __future__ import annotations

import numpy as np

BACKGROUND, SOLID, NON_SOLID, DOTTED, DASHDOT = 0, 1, 2, 3, 4

CLASS_SCHEMES: dict[int, tuple[str, ...]] = {
    3: ("background", "solid", "non-solid"),
    4: ("background", "solid", "dashed", "dotted"),
    5: ("background", "solid", "dashed", "dotted", "dash-dot"),
}
# The broken-line classes of each scheme (everything but background and solid).
BROKEN_CLASSES: dict[int, tuple[int, ...]] = {3: (NON_SOLID,), 4: (NON_SOLID, DOTTED), 5: (NON_SOLID, DOTTED, DASHDOT)}


def style_class(style: str, classes: int = 3) -> int:
    """The class id a curve of ``style`` is drawn in under the ``classes``-class scheme."""
    if classes not in CLASS_SCHEMES:
        raise ValueError(f"no {classes}-class scheme; known: {sorted(CLASS_SCHEMES)}")
    if style == "solid":
        return SOLID
    if style == "dotted" and classes >= 4:
        return DOTTED
    if style == "dashdot" and classes >= 5:
        return DASHDOT
    return NON_SOLID


def to_three_classes(class_map: np.ndarray) -> np.ndarray:
    """A class map in the seed's three classes (dotted and dash-dot merged into non-solid), for comparable
    scores."""
    class_map = np.asarray(class_map)
    return np.where(np.isin(class_map, (DOTTED, DASHDOT)), NON_SOLID, class_map).astype(class_map.dtype)
