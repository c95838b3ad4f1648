"""The Ray engine gives the local batch's outputs, status rows and resume behaviour (local Ray, two workers)."""

import csv

import lasio
import numpy as np
import pytest
import torch
from conftest import draw_sheet

from veerdesk.cli import main
from veerdesk.ml.model import ModelConfig, build_model
from veerdesk.ml.weights import save_weights

ray = pytest.importorskip("ray")

INK_CONFIG = ModelConfig(channels=(4, 8, 8, 8, 8), attention_heads=2)


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
def scans(tmp_path, sheet):
    _, layout_path, layout, _ = sheet
    src = tmp_path / "scans"
    src.mkdir()
    for i in range(3):
        draw_sheet(src / f"s{i}.png", layout, seed=i)
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


def test_ray_batch_matches_the_local_batch(scans, tmp_path, local_ray, capsys):
    src, layout_path = scans
    weights = ink_veernet_weights(tmp_path / "ink.safetensors")
    common = ["--layout", str(layout_path), "--weights", str(weights), "--device", "cpu"]
    assert main(["batch", str(src), "--out", str(tmp_path / "local"), *common]) == 0
    assert main(["batch", str(src), "--out", str(tmp_path / "ray"), "--engine", "ray", *common]) == 0
    err = capsys.readouterr().err
    assert "ray: 2 cpu workers" in err and "3 ok" in err

    for i in range(3):
        a = lasio.read(tmp_path / "local" / f"s{i}.las")
        b = lasio.read(tmp_path / "ray" / f"s{i}.las")
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
