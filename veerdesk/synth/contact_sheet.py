"""A grid of samples so a person can see the generator's variety at a glance."""

from __future__ import annotations

import os

import cv2
import numpy as np

from veerdesk.core.atomic import atomic_output
from veerdesk.synth.page import SyntheticPage

_MASK_COLOURS = {1: (0, 0, 230), 2: (230, 90, 0)}  # BGR: solid red, non-solid blue


def _busy_crop(page: SyntheticPage, size: int) -> tuple[int, int]:
    """Top-left of a square crop centred on a typical curve pixel (the median one in row order)."""
    h, w = page.mask.shape
    size_h, size_w = min(size, h), min(size, w)
    rows, cols = np.nonzero(page.curve_ids)
    if rows.size == 0:
        r, c = h // 2, w // 2
    else:
        k = rows.size // 2
        r, c = rows[k], cols[k]
    y = int(np.clip(r - size_h // 2, 0, h - size_h))
    x = int(np.clip(c - size_w // 2, 0, w - size_w))
    return y, x


def cell(page: SyntheticPage, height: int = 360, crop: int = 360) -> np.ndarray:
    """Thumbnail of the whole page | a 1:1 crop | the same crop with the curve mask in colour."""
    h, w = page.image.shape
    thumb_w = max(1, int(round(w * height / h)))
    thumb = cv2.resize(page.image, (thumb_w, height), interpolation=cv2.INTER_AREA)
    y, x = _busy_crop(page, crop)
    part = page.image[y : y + crop, x : x + crop]
    canvas = np.full((crop, crop), 255, np.uint8)
    canvas[: part.shape[0], : part.shape[1]] = part
    tile = cv2.resize(canvas, (height, height), interpolation=cv2.INTER_NEAREST)
    overlay = cv2.cvtColor(tile, cv2.COLOR_GRAY2BGR)
    mask_part = np.zeros((crop, crop), np.uint8)
    m = page.mask[y : y + crop, x : x + crop]
    mask_part[: m.shape[0], : m.shape[1]] = m
    mask_tile = cv2.resize(mask_part, (height, height), interpolation=cv2.INTER_NEAREST)
    for cls, colour in _MASK_COLOURS.items():
        overlay[mask_tile == cls] = colour
    gap = np.full((height, 6, 3), 255, np.uint8)
    parts = [cv2.cvtColor(thumb, cv2.COLOR_GRAY2BGR), gap, cv2.cvtColor(tile, cv2.COLOR_GRAY2BGR), gap, overlay]
    return np.hstack(parts)


def crop_cell(image: np.ndarray, mask: np.ndarray, height: int = 360) -> np.ndarray:
    """A training crop beside the same crop with its mask in colour."""
    tile = cv2.resize(image, (height, height), interpolation=cv2.INTER_AREA)
    mask_tile = cv2.resize(mask, (height, height), interpolation=cv2.INTER_NEAREST)
    overlay = cv2.cvtColor(tile, cv2.COLOR_GRAY2BGR)
    for cls, colour in _MASK_COLOURS.items():
        overlay[mask_tile == cls] = colour
    return np.hstack([cv2.cvtColor(tile, cv2.COLOR_GRAY2BGR), np.full((height, 6, 3), 255, np.uint8), overlay])


LEGEND = "each sample: whole page | 1:1 crop | crop with mask (red = solid curve, blue = dashed/dotted/dash-dot)"


def assemble(cells: list[np.ndarray], columns: int = 2, title: str | None = LEGEND) -> np.ndarray:
    """Cells (BGR) in a grid on a grey background, under a one-line legend."""
    width = max(c.shape[1] for c in cells)
    height = max(c.shape[0] for c in cells)
    padded = [np.pad(c, ((8, height - c.shape[0] + 8), (8, width - c.shape[1] + 8), (0, 0)), constant_values=200)
              for c in cells]
    rows = []
    for i in range(0, len(padded), columns):
        row = padded[i : i + columns]
        while len(row) < columns:
            row.append(np.full_like(padded[0], 200))
        rows.append(np.hstack(row))
    sheet = np.vstack(rows)
    if title:
        band = np.full((36, sheet.shape[1], 3), 200, np.uint8)
        cv2.putText(band, title, (10, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 1, cv2.LINE_AA)
        sheet = np.vstack([band, sheet])
    return sheet


def contact_sheet(pages: list[SyntheticPage], columns: int = 2, height: int = 360) -> np.ndarray:
    return assemble([cell(p, height) for p in pages], columns)


def write_sheet(sheet: np.ndarray, path: str | os.PathLike) -> None:
    ok, buf = cv2.imencode(".png", sheet)
    if not ok:
        raise ValueError("could not encode the contact sheet")
    with atomic_output(path, suffix=".png") as tmp:
        tmp.write_bytes(buf.tobytes())


def write_contact_sheet(pages: list[SyntheticPage], path: str | os.PathLike, columns: int = 2) -> None:
    write_sheet(contact_sheet(pages, columns), path)
