import numpy as np
import pytest

from veerdesk.core.classes import CLASS_SCHEMES, DASHDOT, DOTTED, NON_SOLID, SOLID, style_class, to_three_classes


def test_styles_map_to_classes_in_every_scheme():
    assert [style_class(s, 3) for s in ("solid", "dashed", "dashdot", "dotted")] == [SOLID] + [NON_SOLID] * 3
    assert [style_class(s, 4) for s in ("solid", "dashed", "dashdot", "dotted")] == [SOLID, NON_SOLID, NON_SOLID, DOTTED]
    assert len(CLASS_SCHEMES[4]) == 4 and CLASS_SCHEMES[4][DOTTED] == "dotted"
    assert [style_class(s, 5) for s in ("solid", "dashed", "dashdot", "dotted")] == [SOLID, NON_SOLID, DASHDOT, DOTTED]
    assert CLASS_SCHEMES[5][DASHDOT] == "dash-dot"
    with pytest.raises(ValueError, match="no 6-class scheme"):
        style_class("dotted", 6)


def test_four_class_maps_fold_dotted_into_non_solid():
    four = np.array([[0, 1, 2, 3], [3, 3, 0, 255]], np.uint8)
    three = to_three_classes(four)
    assert three.dtype == np.uint8
    assert three.tolist() == [[0, 1, 2, 2], [2, 2, 0, 255]]  # IGNORE-like values pass through
    five = np.array([[0, 1, 2, 3, 4, 255]], np.uint8)
    assert to_three_classes(five).tolist() == [[0, 1, 2, 2, 2, 255]]
