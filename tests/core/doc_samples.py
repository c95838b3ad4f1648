"""Small documents for the document/command/review/project tests (generated, no files)."""

from __future__ import annotations

import numpy as np

from veerdesk.core.document import Document, make_trace
from veerdesk.core.layout import Layout

LAYOUT_DICT = {
    "version": 1,
    "well": {"name": "TEST 1"},
    "depth": {"unit": "FT", "ties": [[100.0, 1000.0], [1100.0, 1100.0]], "step": 0.5},
    "tracks": [
        {"x0": 10, "x1": 210, "scale": "linear", "curves": [
            {"mnemonic": "GR", "unit": "GAPI", "left": 0, "right": 150, "style": "solid"},
            {"mnemonic": "CALI", "unit": "IN", "left": 6, "right": 16, "style": "dashed"},
        ]},
        {"x0": 220, "x1": 420, "scale": "log", "curves": [
            {"mnemonic": "ILD", "unit": "OHMM", "left": 0.2, "right": 2000, "style": "solid"},
        ]},
    ],
}


def sample_layout() -> Layout:
    return Layout.from_dict(LAYOUT_DICT)


def sample_document(seed: int = 0) -> Document:
    """Three curves on the layout's grid with a few low-confidence stretches at known places."""
    rng = np.random.default_rng(seed)
    layout = sample_layout()
    grid = layout.depth_grid()
    doc = Document(image_path="/data/sheet.tif", layout=layout)
    for k, (_, _, curve) in enumerate(layout.curves()):
        lo, hi = sorted((curve.left, curve.right))
        value = lo + (hi - lo) * (0.5 + 0.3 * np.sin(grid / (7.0 + k)))
        conf = np.clip(0.9 + 0.05 * rng.standard_normal(grid.size), 0.6, 1.0)
        doc.set_trace(make_trace(curve.mnemonic, grid, value, conf))
    # Known weak spots: GR 1010-1012 (very weak), ILD 1050-1060 (weak), CALI absent at the top.
    gr = doc.traces["GR"]
    gr.confidence[(grid >= 1010) & (grid <= 1012)] = 0.1
    ild = doc.traces["ILD"]
    ild.confidence[(grid >= 1050) & (grid <= 1060)] = 0.3
    cali = doc.traces["CALI"]
    cali.value[grid < 1005] = np.nan
    cali.confidence[grid < 1005] = 0.0
    return doc
