import json

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from veerdesk.core.layout import Layout


class InkModel(nn.Module):
    """Stands in for trained weights: dark pixels are solid curve, the rest background."""

    def forward(self, x):
        ink = 1.0 - x
        return torch.cat([4.0 - 8.0 * ink, 8.0 * ink - 4.0, torch.full_like(x, -6.0)], dim=1)


LAYOUT = {
    "version": 1,
    "well": {"name": "PIPE 1", "uwi": "00-111-22222"},
    "depth": {"unit": "FT", "ties": [[10, 2000], [290, 2070]], "step": 0.5},
    "tracks": [
        {"x0": 20, "x1": 120, "curves": [{"mnemonic": "GR", "unit": "GAPI", "left": 0, "right": 150}]},
        {"x0": 140, "x1": 240, "scale": "log", "curves": [{"mnemonic": "ILD", "unit": "OHMM", "left": 0.2,
                                                             "right": 2000}]},
    ],
}


def draw_sheet(path, layout: Layout, seed=0):
    """A 300×260 scan with GR and ILD drawn in black; returns the truth per mnemonic."""
    rng = np.random.default_rng(seed)
    image = np.full((300, 260), 255, np.uint8)
    depth = layout.depth_grid()
    y = layout.depth.row_at_depth(depth)
    truth = {}
    phase = rng.uniform(0, 6)
    for _, track, curve in layout.curves():
        f = 0.5 + 0.35 * np.sin((depth - depth[0]) / 9.0 + phase)
        if track.scale == "log":
            values = 10 ** (np.log10(0.5) + f * 3)
        else:
            values = curve.left + f * (curve.right - curve.left)
        x = track.column_at_value(values, curve.scale)
        pts = np.round(np.stack([x - 0.5, y - 0.5], 1) * 16).astype(np.int32)
        cv2.polylines(image, [pts], False, 0, 2, lineType=cv2.LINE_8, shift=4)
        truth[curve.mnemonic] = values
    cv2.imwrite(str(path), image)
    return truth


@pytest.fixture
def ink_model():
    return InkModel().eval()


@pytest.fixture
def sheet(tmp_path):
    layout = Layout.from_dict(LAYOUT)
    layout_path = tmp_path / "sheet.layout.json"
    layout_path.write_text(json.dumps(LAYOUT))
    image_path = tmp_path / "sheet.png"
    truth = draw_sheet(image_path, layout)
    return image_path, layout_path, layout, truth


@pytest.fixture
def fake_weights(monkeypatch):
    """Make every weights lookup return the ink model (no trained weights needed)."""
    def load(weights=None, device="cpu"):
        return InkModel().eval(), {"weights": "ink-model", "architecture": "test"}

    # cli_entry first: importing it binds digitize's function, which must still be the real one.
    monkeypatch.setattr("veerdesk.pipeline.cli_entry.load_inference_model", load)
    monkeypatch.setattr("veerdesk.pipeline.digitize.load_inference_model", load)
