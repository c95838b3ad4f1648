"""Pixel classes of the segmentation: which curve styles share a class.

Two schemes exist. The seed's three classes (background, solid, non-solid) put dashed, dash-dot and
dotted curves in one class, so a track with a dashed and a dotted curve (deep and shallow resistivity,
say) leaves the tracer to tell them apart by continuity alone, and that is where most recovered-curve
accuracy was lost. The four-class scheme gives dotted curves their own class. Class ids are stable:
0 background, 1 solid, 2 non-solid (dashed and dash-dot in the four-class scheme), 3 dotted.
"""

from __future__ import annotations

import numpy as np

BACKGROUND, SOLID, NON_SOLID, DOTTED = 0, 1, 2, 3

CLASS_SCHEMES: dict[int, tuple[str, ...]] = {
    3: ("background", "solid", "non-solid"),
    4: ("background", "solid", "dashed", "dotted"),
}


def style_class(style: str, classes: int = 3) -> int:
    """The class id a curve of ``style`` is drawn in under the ``classes``-class scheme."""
    if classes not in CLASS_SCHEMES:
        raise ValueError(f"no {classes}-class scheme; known: {sorted(CLASS_SCHEMES)}")
    if style == "solid":
        return SOLID
    if style == "dotted" and classes == 4:
        return DOTTED
    return NON_SOLID


def to_three_classes(class_map: np.ndarray) -> np.ndarray:
    """A class map in the seed's three classes (dotted merged into non-solid), for comparable scores."""
    class_map = np.asarray(class_map)
    return np.where(class_map == DOTTED, NON_SOLID, class_map).astype(class_map.dtype)
