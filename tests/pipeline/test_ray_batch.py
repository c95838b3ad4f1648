"""The Ray engine gives the local batch's outputs, status rows and resume behaviour (local Ray, two workers)."""

import csv
import json

import cv2
import lasio
import numpy as np
import pytest
import torch

from veerdesk.cli import main
from veerdesk.core.layout import Layout
from veerdesk.ml.model import ModelConfig, build_model
from veerdesk.ml.weights import save_weights

ray = pytest.importorskip("ray")

INK_CONFIG = ModelConfig(channels=(4, 8, 8, 8, 8), attention_heads=2)
LAYOUT = {
    "version": 1,
    "well": {"name": "RAY 1"},
    "depth": {"unit": "FT", "ties": [[10, 2000], [290, 2070]], "step": 0.5},
    "tracks": [
        {"x0": 20, "x1": 120, "curves": [{"mnemonic": "GR", "unit": "GAPI", "left": 0, "right": 150}]},
        {"x0": 140, "x1": 240, "scale": "log",
         "curves": [{"mnemonic": "ILD", "unit": "OHMM", "left": 0.2, "right": 2000}]},
    ],
}


def draw_scan(path, layout: Layout, seed: int) -> None:
    """A 300×260 scan with GR and ILD drawn in black (self-contained: conftest module names collide)."""
    image = np.full((300, 260), 255, np.uint8)
    depth = layout.depth_grid()
    y = layout.depth.row_at_depth(depth)
    phase = np.random.default_rng(seed).uniform(0, 6)
    for _, track, curve in layout.curves():
        f = 0.5 + 0.35 * np.sin((depth - depth[0]) / 9.0 + phase)
        values = 10 ** (np.log10(0.5) + f * 3) if track.scale == "log" else curve.left + f * (curve.right - curve.left)
        x = track.column_at_value(values, curve.scale)
        pts = np.round(np.stack([x - 0.5, y - 0.5], 1) * 16).astype(np.int32)
        cv2.polylines(image, [pts], False, 0, 2, lineType=cv2.LINE_8, shift=4)
    cv2.imwrite(str(path), image)


def ink_veernet_weights(path):
    """Real VeerNet weights whose head passes each sub-pixel's ink straight to the classes: dark = solid.

    Actors load weights from a file (monkeypatching does not reach other processes), so the stand-in
    for trained weights must be a genuine weights file.
    """
    torch.manual_seed(0)
    model = build_model(INK_CONFIG)
    c0 = INK_CONFIG.channels[0]
    with torch.no_grad():
        mix = model.head.mix[0]
        mix.weight.zero_()
        for k in range(4):  # the 2×2 sub-pixels of each stem cell
            mix.weight[k, c0 + k, 1, 1] = 1.0
        classify = model.head.classify
        classify.weight.zero_()
        classify.bias.zero_()
        for k in range(4):
            classify.weight[0 * 4 + k, k] = -8.0
            classify.bias[0 * 4 + k] = 4.0
            classify.weight[1 * 4 + k, k] = 8.0
            classify.bias[1 * 4 + k] = -4.0
            classify.bias[2 * 4 + k] = -6.0
    save_weights(model, path, card={"purpose": "test: ink is solid curve"})
    return path


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def scans(tmp_path):
    layout_path = tmp_path / "sheet.layout.json"
    layout_path.write_text(json.dumps(LAYOUT))
    src = tmp_path / "scans"
    src.mkdir()
    for i in range(3):
        draw_scan(src / f"s{i}.png", Layout.from_dict(LAYOUT), seed=i)
    return src, layout_path


@pytest.fixture(scope="module")
def ray_instance():
    # One local instance for the module: starting Ray takes seconds.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture
def local_ray(ray_instance, monkeypatch):
    monkeypatch.setenv("VEERDESK_RAY_WORKERS", "2")
    monkeypatch.setenv("VEERDESK_RAY_CPUS_PER_WORKER", "1")


def test_ray_batch_matches_the_local_batch(scans, tmp_path, local_ray, capsys, monkeypatch):
    src, layout_path = scans
    weights = ink_veernet_weights(tmp_path / "ink.safetensors")
    common = ["--layout", str(layout_path), "--weights", str(weights), "--device", "cpu"]
    assert main(["batch", str(src), "--out", str(tmp_path / "local"), *common]) == 0
    assert main(["batch", str(src), "--out", str(tmp_path / "ray"), "--engine", "ray", *common]) == 0
    err = capsys.readouterr().err
    assert "ray: 2 cpu workers" in err and "3 ok" in err
    # Workers that cannot see the scans get their bytes from the driver.
    monkeypatch.setenv("VEERDESK_RAY_SHIP_IMAGES", "1")
    assert main(["batch", str(src), "--out", str(tmp_path / "shipped"), "--engine", "ray", *common]) == 0

    for i in range(3):
        a = lasio.read(tmp_path / "local" / f"s{i}.las")
        for other in ("ray", "shipped"):
            b = lasio.read(tmp_path / other / f"s{i}.las")
            assert a.keys() == b.keys() == ["DEPT", "GR", "ILD"]
            for key in a.keys():
                np.testing.assert_array_equal(a[key], b[key])
        assert np.isfinite(a["GR"]).mean() > 0.8  # the ink model really traced something
    local_rows = read_rows(tmp_path / "local" / "batch-status.csv")
    ray_rows = read_rows(tmp_path / "ray" / "batch-status.csv")
    strip = [(r["image"], r["output"].rsplit("/", 1)[-1], r["status"], r["message"]) for r in local_rows]
    assert strip == [(r["image"], r["output"].rsplit("/", 1)[-1], r["status"], r["message"]) for r in ray_rows]


def test_ray_batch_resumes_and_records_bad_sheets(scans, tmp_path, local_ray, capsys):
    src, layout_path = scans
    (src / "broken.png").write_bytes(b"not an image")
    weights = ink_veernet_weights(tmp_path / "ink.safetensors")
    out = tmp_path / "out"
    argv = ["batch", str(src), "--out", str(out), "--layout", str(layout_path), "--weights", str(weights),
            "--device", "cpu", "--engine", "ray"]
    assert main(argv) == 1
    rows = {r["image"].rsplit("/", 1)[-1]: r for r in read_rows(out / "batch-status.csv")}
    assert [name for name in rows] == ["broken.png", "s0.png", "s1.png", "s2.png"]  # sheet order
    assert rows["broken.png"]["status"] == "error" and "broken.png" in rows["broken.png"]["message"]
    assert all(rows[f"s{i}.png"]["status"] == "ok" for i in range(3))
    capsys.readouterr()

    (out / "s1.las").unlink()
    (src / "broken.png").unlink()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "s0.png skipped" in err and "s1.png ok" in err and "1 ok" in err and "2 skipped" in err
    assert (out / "s1.las").is_file()


def test_missing_ray_is_a_clear_error(monkeypatch, tmp_path, scans):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("no ray here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    src, layout_path = scans
    code = main(["batch", str(src), "--out", str(tmp_path / "o"), "--layout", str(layout_path), "--engine", "ray"])
    assert code == 1


class FakeCluster:
    def __init__(self, **resources):
        self.resources = resources

    def cluster_resources(self):
        return self.resources


def test_one_actor_per_gpu_else_cpu_actors():
    from veerdesk.core.errors import ModelError
    from veerdesk.pipeline.ray_batch import plan_workers

    gpus = FakeCluster(CPU=32, GPU=4)
    assert plan_workers(gpus, "auto", None, 2, pending=100) == (4, {"num_gpus": 1, "num_cpus": 1}, "cuda")
    assert plan_workers(gpus, "auto", None, 2, pending=3)[0] == 3  # never more actors than sheets
    assert plan_workers(gpus, "cpu", None, 4, pending=100) == (8, {"num_cpus": 4}, "cpu")
    cpus = FakeCluster(CPU=6)
    assert plan_workers(cpus, "auto", None, 2, pending=100) == (3, {"num_cpus": 2}, "cpu")
    assert plan_workers(cpus, "auto", 5, 1, pending=100) == (5, {"num_cpus": 1}, "cpu")
    with pytest.raises(ModelError, match="no GPUs"):
        plan_workers(cpus, "cuda", None, 2, pending=1)
