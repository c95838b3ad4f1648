import json

import cv2
import numpy as np
import pytest
from ml_standin import TINY_MODEL, standin_stream

from veerdesk.core.document import Document, make_trace
from veerdesk.core.errors import ModelError, ProjectError
from veerdesk.core.project import save_project
from veerdesk.ml.finetune import (
    IGNORE,
    FinetuneSettings,
    find_projects,
    finetune,
    load_corrected_sheet,
    masked_loss,
    rasterize_corrections,
    split_projects,
    weights_digest,
)
from veerdesk.ml.losses import LossConfig
from veerdesk.ml.model import build_model
from veerdesk.ml.weights import load_model, save_weights, sha256_of
from veerdesk.synth import generate_page


def _corrected_project(folder, seed, *, reviewed=True, size=(260, 340)):
    """A clean generated sheet whose traces are the truth, saved as a reviewed project."""
    page = generate_page(seed, width=size[0], height=size[1], clean=True)
    image = folder / f"sheet{seed}.png"
    cv2.imwrite(str(image), page.image)
    grid = page.layout.depth_grid()
    doc = Document(image_path=str(image), layout=page.layout)
    for name, truth in page.truth.items():
        doc.set_trace(make_trace(name, grid, truth, np.where(np.isfinite(truth), 0.9, 0.0)))
        doc.set_reviewed(name, np.isfinite(truth) if reviewed else np.zeros(grid.shape, bool))
    path = folder / f"sheet{seed}.vdproj"
    save_project(path, doc)
    return path, page


@pytest.fixture
def tiny_weights(tmp_path):
    import torch

    torch.manual_seed(0)
    path = tmp_path / "base.safetensors"
    save_weights(build_model(TINY_MODEL), path, card={"steps": 0})
    return path


def test_rasterized_corrections_follow_the_drawn_curves(tmp_path):
    path, page = _corrected_project(tmp_path, 4, size=(400, 520))
    sheet = load_corrected_sheet(path)
    valid = sheet.labels != IGNORE
    labelled = (sheet.labels > 0) & valid
    truth = (page.mask > 0) & valid
    assert truth.sum() > 100
    # Nearly every drawn curve pixel is labelled, and labels lie on or right beside drawn curves.
    assert (labelled & truth).sum() / truth.sum() > 0.8
    near_truth = cv2.dilate(truth.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert (labelled & near_truth).sum() / labelled.sum() > 0.8
    # Classes follow the curve styles (crossing curves may swap a few pixels).
    for c in (1, 2):
        both = (sheet.labels == c) & (page.mask > 0) & valid
        assert np.mean(page.mask[both] == c) > 0.95
    # Outside the tracks nothing is claimed.
    x_min = min(min(t.x0, t.x1) for t in page.layout.tracks)
    assert np.all(sheet.labels[:, : max(0, int(x_min) - 3)] == IGNORE)
    assert all(1.0 <= w <= 15.0 for w in sheet.stroke_widths.values())


def test_unreviewed_doubtful_rows_are_ignored():
    layout_dict = {
        "version": 1,
        "depth": {"unit": "M", "ties": [[0, 0], [100, 100]], "step": 1},
        "tracks": [{"x0": 10, "x1": 50, "curves": [{"mnemonic": "GR", "unit": "API", "left": 0, "right": 40}]}],
    }
    from veerdesk.core.layout import Layout

    layout = Layout.from_dict(layout_dict)
    pixels = np.full((100, 60), 255, np.uint8)
    pixels[:, 30] = 0  # GR = 20 everywhere
    depth = layout.depth_grid()
    value = np.full(depth.shape, 20.0)
    confidence = np.full(depth.shape, 0.9)
    confidence[40:60] = 0.2  # doubtful stretch...
    reviewed = np.zeros(depth.shape, bool)
    reviewed[50:60] = True  # ...of which the lower half was looked at
    trace = make_trace("GR", depth, value, confidence)
    labels, anchors, samples, _ = rasterize_corrections(pixels, layout, {"GR": trace}, {"GR": reviewed})
    assert np.all(labels[42:48, 8:52] == IGNORE)
    assert labels[20, 30] == 1 and labels[55, 30] == 1 and labels[20, 20] == 0
    assert np.all(labels[:, :5] == IGNORE)
    assert len(anchors) and np.all((anchors[:, 0] >= 49) & (anchors[:, 0] <= 61))


def test_masked_loss_ignores_unlabelled_pixels():
    import torch

    logits = torch.randn(1, 3, 8, 8)
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, :, 3] = 1
    base = masked_loss(logits, target, LossConfig())
    noisy = target.clone()
    noisy[0, :4] = IGNORE
    changed_logits = logits.clone()
    changed_logits[0, :, :4] = 100.0 * torch.randn(3, 4, 8)  # whatever happens where nothing is known
    assert torch.isfinite(masked_loss(changed_logits, noisy, LossConfig()))
    assert masked_loss(changed_logits, noisy, LossConfig()) == pytest.approx(
        float(masked_loss(logits, noisy, LossConfig()))
    )
    assert float(base) > 0
    assert float(masked_loss(logits, torch.full_like(target, IGNORE), LossConfig())) == 0.0


def test_split_is_deterministic_and_keeps_both_sides(tmp_path):
    paths = [tmp_path / f"p{i}.vdproj" for i in range(5)]
    train, held = split_projects(paths, 0.25)
    assert len(held) == 1 and len(train) == 4 and set(train) | set(held) == set(paths)
    assert split_projects(list(reversed(paths)), 0.25)[1] == held
    assert split_projects(paths[:1], 0.25) == (paths[:1], [])


def test_finetune_on_two_corrected_projects_changes_the_weights(tmp_path, tiny_weights):
    projects = tmp_path / "projects"
    projects.mkdir()
    _corrected_project(projects, 11)
    _corrected_project(projects, 12)
    _corrected_project(projects, 13, reviewed=False)  # never reviewed: skipped
    assert len(find_projects(projects)) == 3
    out = tmp_path / "tuned.safetensors"
    settings = FinetuneSettings(steps=4, batch_size=2, crop=64, threads=1, synth_check_crops=2, bf16=False)
    events = list(finetune(projects, tiny_weights, out, settings, stream_factory=standin_stream))
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and {"before", "after"} <= set(kinds)
    start = events[0].values
    assert len(start["train_sheets"]) == 1 and len(start["heldout_sheets"]) == 1
    assert any("not reviewed" in s for s in start["skipped"])

    base, _, _ = load_model(tiny_weights, inference=False)
    tuned, config, card = load_model(out, inference=False)
    assert config == TINY_MODEL
    assert weights_digest(tuned) != weights_digest(base)
    assert card["parent_sha256"] == sha256_of(tiny_weights)
    assert card["finetune"]["steps"] == 4
    for key in ("metrics_before", "metrics_after"):
        assert 0.0 <= card[key]["heldout"]["curve_f1"] <= 1.0
        assert "synthetic_curve_f1" in card[key]
    document = json.loads(out.with_suffix(".json").read_text())
    assert document["sha256"] == sha256_of(out)
    assert "Held-out sheets" in out.with_suffix(".md").read_text()


def test_finetune_refuses_to_overwrite_its_parent_and_needs_reviews(tmp_path, tiny_weights):
    with pytest.raises(ModelError):
        next(finetune(tmp_path, tiny_weights, tiny_weights))
    projects = tmp_path / "unreviewed"
    projects.mkdir()
    _corrected_project(projects, 21, reviewed=False)
    with pytest.raises(ProjectError, match="no reviewed projects"):
        next(finetune(projects, tiny_weights, tmp_path / "x.safetensors"))


def test_finetune_command_line(tmp_path, tiny_weights, capsys):
    from veerdesk.cli import main

    projects = tmp_path / "projects"
    projects.mkdir()
    _corrected_project(projects, 31)
    _corrected_project(projects, 32)
    out = tmp_path / "cli.safetensors"
    argv = [
        "finetune",
        "--projects",
        str(projects),
        "--weights",
        str(tiny_weights),
        "--out",
        str(out),
        "--steps",
        "2",
        "--batch-size",
        "2",
        "--crop",
        "64",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "held-out curve F1" in captured.out and "generator crops curve F1" in captured.out
    assert load_model(out)[2]["finetune"]["steps"] == 2
    assert (
        main(["finetune", "--projects", str(tmp_path / "nowhere"), "--weights", str(tiny_weights), "--out", str(out)])
        == 6
    )  # ProjectError
