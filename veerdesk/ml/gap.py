"""Reality-gap meter: how far a scanned sheet lies from what the generator covers.

The model learned only from generated pages; on a sheet unlike them its output is least trustworthy.
Three signals, each relative to the same signals on generated pages:

- **features**: the encoder's bottleneck features of a few tiles of the sheet, summarised per tile as
  per-channel mean and standard deviation, and their Mahalanobis distance to the distribution of the same
  summaries on generated pages (a covariance shrunk towards its diagonal, as there are few tiles);
- **pixels**: plain statistics of the same tiles (share of dark and light pixels, edge and
  Laplacian energy), with the same kind of distance — what the scan looks like, whatever the model;
- **entropy**: the mean prediction entropy (normalised to [0, 1]) on curve-ish pixels — ink and pixels the
  model thinks might be curve. A model that hesitates on the strokes is outside its experience.

``score`` = the sum of log2 of the three ratios, each counted only above 1, where a ratio is the sheet's
value over the median on the generator's calibration pages: 0 means "like
generated pages", 1 "twice as far as usual", and so on. ``level`` is low / medium / high against the 95th percentile of the
calibration pages' scores.

The reference is computed once per weights file (``python -m veerdesk.ml.gap build --weights W``) and
stored beside the weights as ``W.gap.npz`` (arrays) + ``W.gap.json`` (SHA-256 of the npz and of the
weights it belongs to, the pages used, calibration figures). :func:`gap_score` is what the digitize
report calls; without a reference it reports the entropy alone and says so.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from veerdesk.core.atomic import atomic_write_bytes, atomic_write_text
from veerdesk.core.errors import ModelError, VeerDeskError

# /2: pixel descriptors are measured relative to the tile's paper level (a /1 reference is refused).
GAP_FORMAT = "veerdesk-gap-reference/2"
DEFAULT_TILE = 384
DEFAULT_TILES = 8
# Generator seeds for the reference: held-out range (< 1,000,000), apart from eval (0…) and validation.
REFERENCE_SEED = 700_000
DEFAULT_REFERENCE_PAGES = 24
REFERENCE_PAGE_SIZE = ((1100, 1500), (1400, 2000))  # (width range, height range) in px
CURVEISH_PROBABILITY = 0.2
INK_DARKNESS = 64  # grey levels below the tile's paper level that count as ink for the entropy region
ATTACHED = "_veerdesk_gap_reference"


def reference_paths(weights: str | os.PathLike) -> tuple[Path, Path]:
    """(``W.gap.npz``, ``W.gap.json``) beside the weights file ``W.safetensors``."""
    w = Path(weights)
    return w.with_suffix(".gap.npz"), w.with_suffix(".gap.json")


@dataclass(frozen=True)
class Spread:
    """Where tile descriptors of generated pages lie: mean, inverse shrunk covariance, and the median
    distance of a calibration page (so a typical generated page is at ratio 1)."""

    mean: np.ndarray
    precision: np.ndarray
    scale: float = 1.0

    @classmethod
    def fit(cls, x: np.ndarray) -> Spread:
        n, d = x.shape
        cov = np.cov(x, rowvar=False, bias=False).reshape(d, d) if n > 1 else np.zeros((d, d))
        diag = np.diag(np.diag(cov)) + 1e-6 * np.eye(d)
        # Few tiles for many dimensions: shrink towards the diagonal, more so when tiles are scarce.
        shrink = float(np.clip(d / (n + d), 0.1, 0.9))
        return cls(x.mean(0), np.linalg.inv((1 - shrink) * cov + shrink * diag))

    def page_distance(self, descriptors: np.ndarray) -> float:
        """Median over a page's tiles of the squared Mahalanobis distance per dimension."""
        d = descriptors - self.mean
        return float(np.median(np.einsum("ij,jk,ik->i", d, self.precision, d) / descriptors.shape[1]))

    def ratio(self, descriptors: np.ndarray | None) -> float | None:
        if descriptors is None or descriptors.shape[1] != self.mean.shape[0]:
            return None
        return self.page_distance(descriptors) / self.scale


@dataclass(frozen=True)
class GapReference:
    features: Spread | None  # None for a model without an encoder
    pixels: Spread
    entropy_scale: float  # median curve-ish entropy on the calibration pages
    score_q50: float
    score_q95: float
    weights_sha256: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def level(self, score: float) -> str:
        if score <= self.score_q95:
            return "low"
        return "medium" if score <= self.score_q95 + 1.0 else "high"


# --------------------------------------------------------------------------- measuring one sheet
def choose_tiles(pixels: np.ndarray, tile: int = DEFAULT_TILE, count: int = DEFAULT_TILES) -> list[tuple[int, int]]:
    """Top-left corners of up to ``count`` non-overlapping tiles spread over the sheet's inked tiles.

    Tiles are ranked by how much ink they hold and picked evenly along that ranking, so a sheet is
    summarised by busy and quiet parts alike, never by blank margins; deterministic.
    """
    h, w = pixels.shape
    ys = list(range(0, max(1, h - tile + 1), tile)) or [0]
    xs = list(range(0, max(1, w - tile + 1), tile)) or [0]
    corners, darkness = [], []
    for y in ys:
        for x in xs:
            window = pixels[y : y + tile : 4, x : x + tile : 4]
            corners.append((y, x))
            darkness.append(float(255.0 - window.mean()))
    order = np.argsort(-np.asarray(darkness), kind="stable")
    inked = [i for i in order if darkness[i] > 1.0] or list(order[:1])
    picks = np.unique(np.linspace(0, len(inked) - 1, min(count, len(inked))).round().astype(int))
    return [corners[inked[i]] for i in picks]


def _tile_tensor(pixels: np.ndarray, y: int, x: int, tile: int, device: torch.device) -> torch.Tensor:
    window = np.full((tile, tile), 255, np.uint8)  # short sheets are padded with paper
    part = pixels[y : y + tile, x : x + tile]
    window[: part.shape[0], : part.shape[1]] = part
    return torch.from_numpy(window).to(device).float().div_(255.0)[None, None]


class _BottleneckTap:
    """Captures the encoder's coarsest feature map during a normal forward pass."""

    def __init__(self, model: torch.nn.Module) -> None:
        encoder = getattr(model, "encoder", None)
        self.features: list[torch.Tensor] | None = None
        self.handle = encoder.register_forward_hook(self._hook) if isinstance(encoder, torch.nn.Module) else None

    def _hook(self, _module, _inputs, output) -> None:
        levels = output if isinstance(output, (list, tuple)) else [output]
        self.features = [level.detach().float() for level in levels]

    def close(self) -> None:
        if self.handle is not None:
            self.handle.remove()


def tile_descriptor(levels: list[torch.Tensor]) -> np.ndarray:
    """Per-channel mean and log standard deviation of every encoder level's (1, C, h, w) map.

    The fine levels see stroke shape, blur and noise; the bottleneck sees the page's structure.
    """
    parts = []
    for features in levels:
        flat = features[0].flatten(1)
        parts += [flat.mean(1), torch.log(flat.std(1, unbiased=False) + 1e-4)]
    return torch.cat(parts).cpu().numpy().astype(np.float64)


def pixel_descriptor(tile: np.ndarray) -> np.ndarray:
    """Model-free look of a uint8 tile: shares of dark and light pixels (the rest is mid-grey), log edge
    and Laplacian energy and their ratio (blur lowers the Laplacian more than the edges; noise raises both).

    Measured on the tile divided by its own paper level: a tinted or dim sheet with ordinary strokes is
    not strange to the model (the generator varies the paper grey), and counting its tint made the meter
    call tinted pages "high" while they traced as well as any (bench_foreign_style.py)."""
    t = tile.astype(np.float32)
    paper = max(float(np.percentile(t[::3, ::3], 90)), 32.0)  # a nearly black tile keeps its own scale
    t = np.minimum(t / paper, 1.0)
    dark, light = float((t < 0.25).mean()), float((t > 0.75).mean())
    gx, gy = cv2.Sobel(t, cv2.CV_32F, 1, 0), cv2.Sobel(t, cv2.CV_32F, 0, 1)
    edges = float(np.sqrt(gx * gx + gy * gy).mean())
    laplacian = float(np.abs(cv2.Laplacian(t, cv2.CV_32F)).mean())
    # The mid-grey share is 1 - dark - light: a third, collinear entry would make the covariance singular.
    return np.array(
        [
            dark,
            light,
            math.log(edges + 1e-3),
            math.log(laplacian + 1e-3),
            math.log((laplacian + 1e-3) / (edges + 1e-3)),
        ]
    )


def curveish_entropy(logits: torch.Tensor, tile_pixels: torch.Tensor) -> tuple[float, int]:
    """(sum of normalised entropy, pixel count) over the tile's curve-ish pixels."""
    probs = logits[0].float().softmax(0)
    classes = probs.shape[0]
    entropy = -(probs * torch.log(probs.clamp_min(1e-12))).sum(0) / math.log(classes)
    maybe_curve = (1.0 - probs[0]) > CURVEISH_PROBABILITY
    grey = tile_pixels[0, 0] * 255.0
    paper = torch.quantile(grey.flatten()[::7], 0.9)
    ink = grey < paper - INK_DARKNESS
    region = maybe_curve | ink
    return float(entropy[region].sum()), int(region.sum())


@torch.no_grad()
def measure(
    pixels: np.ndarray, model: torch.nn.Module, *, tile: int = DEFAULT_TILE, tiles: int = DEFAULT_TILES
) -> dict[str, Any]:
    """Raw measurements of one sheet: tile feature descriptors (None without an encoder), tile pixel
    descriptors and the curve-ish entropy."""
    if pixels.ndim != 2 or pixels.dtype != np.uint8:
        raise ValueError(f"gap meter expects a uint8 H×W page, got {pixels.dtype} {pixels.shape}")
    try:
        device = next(model.parameters()).device
    except StopIteration:
        device = torch.device("cpu")
    was_training = model.training
    model.eval()
    tap = _BottleneckTap(model)
    descriptors, looks, entropy_sum, entropy_n = [], [], 0.0, 0
    corners = choose_tiles(pixels, tile, tiles)
    try:
        for y, x in corners:
            t = _tile_tensor(pixels, y, x, tile, device)
            looks.append(pixel_descriptor((t[0, 0] * 255.0).round().to(torch.uint8).cpu().numpy()))
            logits = model(t)
            if tap.features is not None:
                descriptors.append(tile_descriptor(tap.features))
            s, n = curveish_entropy(logits, t)
            entropy_sum += s
            entropy_n += n
    finally:
        tap.close()
        model.train(was_training)
    return {
        "descriptors": np.stack(descriptors) if descriptors else None,
        "pixels": np.stack(looks),
        "entropy": entropy_sum / entropy_n if entropy_n else 0.0,
        "tiles": len(corners),
    }


def _combine(ratios: list[float | None]) -> float:
    """Only excess counts: a model that is *more* certain than usual (it often is on pages where it sees
    nothing at all) must not cancel a distance that says the page is strange."""
    return float(sum(math.log2(max(1.0, r)) for r in ratios if r is not None))


def score_measurement(m: dict[str, Any], reference: GapReference) -> dict[str, Any]:
    feature_ratio = reference.features.ratio(m["descriptors"]) if reference.features is not None else None
    pixel_ratio = reference.pixels.ratio(m["pixels"])
    entropy_ratio = m["entropy"] / reference.entropy_scale
    score = _combine([feature_ratio, pixel_ratio, entropy_ratio])

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "score": round(score, 3),
        "level": reference.level(score),
        "feature_ratio": rounded(feature_ratio),
        "pixel_ratio": rounded(pixel_ratio),
        "entropy": round(m["entropy"], 4),
        "entropy_ratio": rounded(entropy_ratio),
        "tiles": m["tiles"],
    }


def gap_score(
    pixels: np.ndarray,
    model: torch.nn.Module,
    reference: GapReference | None = None,
    *,
    tile: int | None = None,
    tiles: int | None = None,
) -> dict[str, Any]:
    """The reality-gap figures of one sheet, for the digitize report and the app.

    ``reference`` defaults to the one attached to ``model`` by :func:`attach_reference`. Without one,
    ``score`` and ``level`` are None and only the entropy is reported. Tile size and count default to
    those the reference was built with (descriptors are only comparable at the same tile size).
    """
    start = time.perf_counter()
    reference = reference if reference is not None else getattr(model, ATTACHED, None)
    meta = reference.meta if reference is not None else {}
    tile = tile or int(meta.get("tile", DEFAULT_TILE))
    tiles = tiles or int(meta.get("tiles_per_page", DEFAULT_TILES))
    m = measure(pixels, model, tile=tile, tiles=tiles)
    if reference is None:
        out: dict[str, Any] = {
            "score": None,
            "level": None,
            "feature_ratio": None,
            "pixel_ratio": None,
            "entropy": round(m["entropy"], 4),
            "entropy_ratio": None,
            "tiles": m["tiles"],
            "note": "no reality-gap reference beside the weights; build one with "
            "'python -m veerdesk.ml.gap build --weights FILE'",
        }
    else:
        out = score_measurement(m, reference)
        out["reference"] = reference.meta.get("name")
    out["seconds"] = round(time.perf_counter() - start, 3)
    return out


# --------------------------------------------------------------------------- the reference
def _generated_pages(count: int, seed: int, size) -> list[np.ndarray]:
    from veerdesk.synth import generate_page

    return [generate_page(seed + i, width=size[0], height=size[1]).image for i in range(count)]


def fit_reference(
    fit_measurements: list[dict[str, Any]],
    calibration: list[dict[str, Any]],
    *,
    weights_sha256: str | None = None,
    meta: dict[str, Any] | None = None,
) -> GapReference:
    """The reference from measurements of generated pages: fit pages give the distributions,
    calibration pages (other seeds) the typical distance, entropy and score."""
    if not fit_measurements or not calibration:
        raise ModelError("a reality-gap reference needs fit and calibration pages")
    has_features = all(m["descriptors"] is not None for m in fit_measurements + calibration)

    def calibrated(key: str) -> Spread:
        spread = Spread.fit(np.concatenate([m[key] for m in fit_measurements]))
        typical = float(np.median([spread.page_distance(m[key]) for m in calibration]))
        return Spread(spread.mean, spread.precision, typical if typical > 0 else 1.0)

    features = calibrated("descriptors") if has_features else None
    pixels = calibrated("pixels")
    entropy_scale = float(np.median([m["entropy"] for m in calibration])) or 1e-3
    scores = [
        _combine(
            [
                features.ratio(m["descriptors"]) if features else None,
                pixels.ratio(m["pixels"]),
                m["entropy"] / entropy_scale,
            ]
        )
        for m in calibration
    ]
    return GapReference(
        features,
        pixels,
        entropy_scale,
        float(np.quantile(scores, 0.5)),
        float(np.quantile(scores, 0.95)),
        weights_sha256,
        dict(meta or {}),
    )


def build_reference(
    model: torch.nn.Module,
    *,
    pages: int = DEFAULT_REFERENCE_PAGES,
    seed: int = REFERENCE_SEED,
    size=REFERENCE_PAGE_SIZE,
    tile: int = DEFAULT_TILE,
    tiles: int = DEFAULT_TILES,
    page_source: Callable[[int, int, Any], list[np.ndarray]] | None = None,
    weights_sha256: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GapReference:
    """Measure ``pages`` generated pages (two thirds fit, one third calibrate) and fit the reference."""
    if pages < 3:
        raise ModelError("a reality-gap reference needs at least 3 generated pages")
    source = page_source or _generated_pages
    images = source(pages, seed, size)
    measured = []
    for i, image in enumerate(images):
        measured.append(measure(image, model, tile=tile, tiles=tiles))
        if progress is not None:
            progress(i + 1, len(images))
    n_fit = max(2, (2 * len(measured)) // 3)
    meta = {
        "pages": pages,
        "seeds": [seed, seed + pages - 1],
        "fit_pages": n_fit,
        "page_size": size,
        "tile": tile,
        "tiles_per_page": tiles,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return fit_reference(measured[:n_fit], measured[n_fit:], weights_sha256=weights_sha256, meta=meta)


def save_reference(reference: GapReference, weights: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``W.gap.npz`` and ``W.gap.json`` (with the npz's SHA-256) beside the weights."""
    import hashlib

    npz_path, json_path = reference_paths(weights)
    buffer = io.BytesIO()
    arrays = {"pixel_mean": reference.pixels.mean, "pixel_precision": reference.pixels.precision}
    if reference.features is not None:
        arrays.update(feature_mean=reference.features.mean, feature_precision=reference.features.precision)
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    atomic_write_bytes(npz_path, data, keep_backup=False)
    document = {
        "format": GAP_FORMAT,
        "npz_file": npz_path.name,
        "npz_sha256": hashlib.sha256(data).hexdigest(),
        "weights_file": Path(weights).name,
        "weights_sha256": reference.weights_sha256,
        "feature_scale": reference.features.scale if reference.features is not None else None,
        "pixel_scale": reference.pixels.scale,
        "entropy_scale": reference.entropy_scale,
        "score_q50": reference.score_q50,
        "score_q95": reference.score_q95,
        "meta": reference.meta,
    }
    atomic_write_text(json_path, json.dumps(document, indent=2) + "\n", keep_backup=False)
    return npz_path, json_path


def load_reference(weights: str | os.PathLike, *, required: bool = False) -> GapReference | None:
    """The reference beside ``weights`` after checking both hashes; None when there is none (unless required)."""
    import hashlib

    from veerdesk.ml.weights import read_card

    npz_path, json_path = reference_paths(weights)
    if not json_path.is_file() or not npz_path.is_file():
        if required:
            raise ModelError(f"no reality-gap reference beside {Path(weights).name}; build it first")
        return None
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
        data = npz_path.read_bytes()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"reality-gap reference {json_path.name} is unreadable: {exc}") from exc
    if not isinstance(document, dict) or not str(document.get("format", "")).startswith("veerdesk-gap-reference/"):
        raise ModelError(f"{json_path.name} is not a VeerDesk reality-gap reference")
    if document["format"] != GAP_FORMAT:
        raise ModelError(f"{json_path.name} was made by another VeerDesk version ({document['format']}, this one "
                         f"reads {GAP_FORMAT}); rebuild it with 'python -m veerdesk.ml.gap build --weights FILE'")
    if hashlib.sha256(data).hexdigest() != document.get("npz_sha256"):
        raise ModelError(f"reality-gap reference {npz_path.name} does not match its SHA-256; rebuild it")
    weights_sha = read_card(weights).get("sha256")
    if document.get("weights_sha256") != weights_sha:
        raise ModelError(f"reality-gap reference {json_path.name} belongs to other weights; rebuild it")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            features = (
                Spread(npz["feature_mean"], npz["feature_precision"], float(document["feature_scale"]))
                if "feature_mean" in npz.files
                else None
            )
            pixels = Spread(npz["pixel_mean"], npz["pixel_precision"], float(document["pixel_scale"]))
        return GapReference(
            features,
            pixels,
            float(document["entropy_scale"]),
            float(document["score_q50"]),
            float(document["score_q95"]),
            weights_sha,
            dict(document.get("meta") or {}, name=json_path.name),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"reality-gap reference {npz_path.name} is damaged ({exc}); rebuild it") from exc


def attach_reference(model: torch.nn.Module, weights: str | os.PathLike) -> GapReference | None:
    """Load the reference beside ``weights`` (if any) and keep it on the model for :func:`gap_score`."""
    reference = load_reference(weights)
    setattr(model, ATTACHED, reference)
    return reference


def gap_report(pixels: np.ndarray, model: torch.nn.Module, weights: str | os.PathLike | None) -> dict[str, Any]:
    """What the digitize / batch report writes under ``reality_gap``; never fails the run."""
    try:
        if not hasattr(model, ATTACHED) and weights is not None:
            attach_reference(model, weights)
        return gap_score(pixels, model)
    except (VeerDeskError, ValueError, RuntimeError) as exc:
        return {"score": None, "level": None, "error": str(exc)}


# --------------------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m veerdesk.ml.gap", description="Reality-gap reference and scores.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="compute the reference on generated pages and store it beside the weights")
    b.add_argument("--weights", required=True)
    b.add_argument("--pages", type=int, default=DEFAULT_REFERENCE_PAGES)
    b.add_argument("--seed", type=int, default=REFERENCE_SEED)
    s = sub.add_parser("score", help="score scans against the reference beside the weights")
    s.add_argument("images", nargs="+")
    s.add_argument("--weights", required=True)
    args = parser.parse_args(argv)
    from veerdesk.ml.weights import load_model

    try:
        torch.set_num_threads(min(2, torch.get_num_threads()))
        model, _, _ = load_model(args.weights)
        if args.command == "build":
            from veerdesk.ml.weights import read_card

            reference = build_reference(
                model,
                pages=args.pages,
                seed=args.seed,
                weights_sha256=read_card(args.weights)["sha256"],
                progress=lambda i, n: print(f"page {i}/{n}", file=sys.stderr, flush=True),
            )
            npz_path, json_path = save_reference(reference, args.weights)
            print(
                f"wrote {json_path} and {npz_path}: calibration score median {reference.score_q50:.3f}, "
                f"95th percentile {reference.score_q95:.3f}"
            )
        else:
            from veerdesk.core.image import load_page

            reference = load_reference(args.weights, required=True)
            for image in args.images:
                print(image, json.dumps(gap_score(load_page(image).pixels, model, reference)))
    except VeerDeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
