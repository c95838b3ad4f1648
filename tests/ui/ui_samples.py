"""The small drawn sheet and its layout used by the app tests."""

from __future__ import annotations

import numpy as np

SHEET_LAYOUT = {
    "version": 1,
    "well": {"name": "UI TEST 1"},
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
SHEET_SIZE = (1200, 440)  # rows, columns


def draw_sheet() -> np.ndarray:
    img = np.full(SHEET_SIZE, 255, np.uint8)
    img[:, ::40] = 190  # grid
    img[::50, :] = 200
    rows = np.arange(SHEET_SIZE[0])
    gr = (110 + 70 * np.sin(rows / 60)).astype(int)
    ild = (320 + 60 * np.cos(rows / 45)).astype(int)
    for cols in (gr, ild):
        img[rows, cols] = 0
        img[rows, cols + 1] = 0
    return img
