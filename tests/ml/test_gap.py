import json

import cv2
import numpy as np
import pytest
import torch
from ml_standin import TINY_MODEL

from veerdesk.core.errors import ModelError
from veerdesk.ml.gap import (
    GAP_FORMAT,
    attach_reference,
    build_reference,
    choose_tiles,
    gap_report,
    gap_score,
    load_reference,
    reference_paths,
    save_reference,
)
from veerdesk.ml.model import build_model
from veerdesk.ml.weights import load_model, read_card, save_weights
from veerdesk.synth import generate_page

SIZE = (260, 340)
TILE, TILES = 96, 8


def small_pages(count, seed, size):
    return [generate_page(seed + i, width=size[0], height=size[1]).image for i in range(count)]


def unusual(image, kind, rng):
    """Pages drawn in styles the generator never makes."""
    if kind == "inverted":
        return 255 - image
    if kind == "blurred":
        return cv2.GaussianBlur(image, (0, 0), 6)
    if kind == "noisy":
        return np.clip(image + rng.normal(0, 100, image.shape), 0, 255).astype(np.uint8)
    if kind == "odd strokes":  # thick random zig-zags in random greys, nothing like a log
        out = np.full_like(image, 255)
        for _ in range(40):
            pts = rng.integers(0, max(image.shape), size=(6, 1, 2)).astype(np.int32)
            cv2.polylines(out, [pts], False, int(rng.integers(0, 120)), int(rng.integers(3, 14)))
        return out
    raise ValueError(kind)


@pytest.fixture(scope="module")
def model_and_reference():
    # One thread: tiny tiles gain nothing from more, and the machine is shared.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = build_model(TINY_MODEL).eval()
    reference = build_reference(model, pages=24, size=SIZE, tile=TILE, tiles=TILES, page_source=small_pages)
    yield model, reference
    torch.set_num_threads(threads)


def test_generated_pages_score_lower_than_unusual_ones(model_and_reference):
    model, reference = model_and_reference
    rng = np.random.default_rng(0)
    scores = {}
    for seed in range(4):  # held-out seeds: the reference used 700000 and up
        image = generate_page(seed, width=SIZE[0], height=SIZE[1]).image
        scores.setdefault("generated", []).append(gap_score(image, model, reference, tile=TILE, tiles=TILES)["score"])
        for kind in ("inverted", "blurred", "noisy", "odd strokes"):
            result = gap_score(unusual(image, kind, rng), model, reference, tile=TILE, tiles=TILES)
            scores.setdefault(kind, []).append(result["score"])
    generated = np.array(scores["generated"])
    for kind in ("inverted", "blurred", "odd strokes"):
        # Typical unusual pages score above every generated page, and none scores below a typical one.
        assert np.median(scores[kind]) > generated.max(), (kind, scores)
        assert min(scores[kind]) > np.median(generated), (kind, scores)
    # The generator adds scan noise itself, so heavy noise is only partly outside it: higher on average.
    assert np.mean(scores["noisy"]) > generated.mean(), scores
    assert np.median(generated) <= reference.score_q95 + 1.0


def test_score_fields_and_determinism(model_and_reference):
    model, reference = model_and_reference
    image = generate_page(3, width=SIZE[0], height=SIZE[1]).image
    a = gap_score(image, model, reference, tile=TILE, tiles=TILES)
    b = gap_score(image.copy(), model, reference, tile=TILE, tiles=TILES)
    assert a["score"] == b["score"] and a["level"] in ("low", "medium", "high")
    assert {"feature_ratio", "pixel_ratio", "entropy", "entropy_ratio", "tiles"} <= set(a)
    assert 0.0 <= a["entropy"] <= 1.0 and a["tiles"] >= 1


def test_tiles_avoid_blank_paper():
    page = np.full((400, 400), 255, np.uint8)
    page[300:, 300:] = 0
    assert choose_tiles(page, 100, 1) == [(300, 300)]
    assert len(choose_tiles(page, 100, 16)) == 1  # only one tile has any ink
    assert choose_tiles(np.full((50, 60), 255, np.uint8), 100, 4) == [(0, 0)]


def test_reference_is_stored_beside_the_weights_and_checked(tmp_path, model_and_reference):
    model, reference = model_and_reference
    weights = tmp_path / "w.safetensors"
    save_weights(model, weights)
    reference = type(reference)(**{**reference.__dict__, "weights_sha256": read_card(weights)["sha256"]})
    npz_path, json_path = save_reference(reference, weights)
    assert (npz_path, json_path) == reference_paths(weights)
    loaded = load_reference(weights)
    np.testing.assert_allclose(loaded.features.precision, reference.features.precision)
    assert loaded.score_q95 == pytest.approx(reference.score_q95)

    inference_model, _, _ = load_model(weights)
    image = generate_page(5, width=SIZE[0], height=SIZE[1]).image
    attach_reference(inference_model, weights)
    report = gap_report(image, inference_model, weights)
    direct = gap_score(image, model, reference, tile=TILE, tiles=TILES)
    assert report["score"] is not None and report["reference"] == json_path.name
    assert direct["score"] is not None

    document = json.loads(json_path.read_text())
    document["weights_sha256"] = "0" * 64
    json_path.write_text(json.dumps(document))
    with pytest.raises(ModelError, match="other weights"):
        load_reference(weights)
    document["format"] = "veerdesk-gap-reference/1"  # pixel descriptors measured another way
    json_path.write_text(json.dumps(document))
    with pytest.raises(ModelError, match="another VeerDesk version"):
        load_reference(weights)
    document["format"] = GAP_FORMAT
    json_path.write_text(json.dumps(document))
    npz_path.write_bytes(npz_path.read_bytes() + b"x")
    with pytest.raises(ModelError, match="SHA-256"):
        load_reference(weights)
    # The report never fails a digitize run: it says what is wrong instead.
    fresh, _, _ = load_model(weights)
    assert "SHA-256" in gap_report(image, fresh, weights)["error"]


def test_without_a_reference_only_the_entropy_is_reported(tmp_path, model_and_reference):
    model, _ = model_and_reference
    weights = tmp_path / "w.safetensors"
    save_weights(model, weights)
    fresh, _, _ = load_model(weights)
    report = gap_report(generate_page(1, width=SIZE[0], height=SIZE[1]).image, fresh, weights)
    assert report["score"] is None and "no reality-gap reference" in report["note"]
    assert 0.0 <= report["entropy"] <= 1.0


def test_digitize_report_carries_the_gap_score(tmp_path, model_and_reference):
    from veerdesk.cli import main
    from veerdesk.synth import write_page

    model, reference = model_and_reference
    weights = tmp_path / "w.safetensors"
    save_weights(model, weights)
    save_reference(type(reference)(**{**reference.__dict__, "weights_sha256": read_card(weights)["sha256"]}), weights)
    write_page(generate_page(7, width=SIZE[0], height=SIZE[1]), tmp_path, "sheet")
    report_path = tmp_path / "report.json"
    code = main(
        [
            "digitize",
            str(tmp_path / "sheet.png"),
            "--layout",
            str(tmp_path / "sheet.layout.json"),
            "-o",
            str(tmp_path / "out.las"),
            "--weights",
            str(weights),
            "--device",
            "cpu",
            "--report",
            str(report_path),
        ]
    )
    assert code == 0
    gap = json.loads(report_path.read_text())["reality_gap"]
    assert gap["score"] is not None and gap["level"] in ("low", "medium", "high")
    assert gap["reference"] == "w.gap.json"


def test_pixel_look_ignores_the_paper_tint_but_not_blur():
    from veerdesk.ml.gap import pixel_descriptor

    tile = generate_page(3, width=SIZE[0], height=SIZE[1]).image[:384, :384]
    tinted = np.round(tile.astype(np.float32) * 0.7).astype(np.uint8)  # the same strokes on darker paper
    np.testing.assert_allclose(pixel_descriptor(tinted), pixel_descriptor(tile), atol=0.05)
    blurred = cv2.GaussianBlur(tile, (0, 0), 2.0)
    assert np.abs(pixel_descriptor(blurred) - pixel_descriptor(tile)).max() > 0.3
