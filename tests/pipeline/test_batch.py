import csv
import shutil

import lasio
import pytest

from veerdesk.cli import main

from .conftest import draw_sheet


def read_status(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def folder(tmp_path, sheet):
    image, layout_path, layout, _ = sheet
    src = tmp_path / "scans"
    src.mkdir()
    for i in range(3):
        draw_sheet(src / f"s{i}.png", layout, seed=i)
    (src / "broken.png").write_bytes(b"not an image at all")
    return src, layout_path


def test_folder_batch_is_resumable_and_survives_a_bad_sheet(folder, tmp_path, fake_weights, capsys):
    src, layout_path = folder
    out = tmp_path / "las"
    argv = ["batch", str(src), "--layout", str(layout_path), "--out", str(out), "--device", "cpu"]
    assert main(argv) == 1  # one sheet failed, the others were done
    rows = {r["image"].rsplit("/", 1)[-1]: r for r in read_status(out / "batch-status.csv")}
    assert set(rows) == {"broken.png", "s0.png", "s1.png", "s2.png"}
    assert rows["broken.png"]["status"] == "error" and "broken.png" in rows["broken.png"]["message"]
    assert all(rows[f"s{i}.png"]["status"] == "ok" for i in range(3))
    assert float(rows["s0.png"]["seconds"]) >= 0
    for i in range(3):
        assert lasio.read(out / f"s{i}.las").keys() == ["DEPT", "GR", "ILD"]
    assert not (out / "broken.las").exists()
    err = capsys.readouterr().err
    assert "[1/4]" in err and "1 failed" in err

    # Re-run: finished sheets are skipped, the bad one is tried again.
    (out / "s1.las").unlink()  # a lost output is redone even though its row says ok
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("skipped") >= 2 and "s1.png ok" in err and "s0.png skipped" in err

    # Fix the bad sheet; now everything is done and a re-run only skips.
    shutil.copy(src / "s0.png", src / "broken.png")
    assert main(argv) == 0
    assert main(argv) == 0
    assert "4 skipped" in capsys.readouterr().err
    assert {r["status"] for r in read_status(out / "batch-status.csv")} == {"skipped"}
    assert main(argv) == 0  # skipped rows still count as finished
    assert "4 skipped" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 0
    assert "4 ok" in capsys.readouterr().err


def test_manifest_batch_with_per_row_layouts(tmp_path, sheet, fake_weights, capsys):
    image, layout_path, layout, _ = sheet
    manifest = tmp_path / "jobs.csv"
    manifest.write_text(
        "image,layout,output\n"
        f"{image.name},{layout_path.name},out/a.las\n"
        f"{image.name},missing.json,out/b.las\n"
    )
    assert main(["batch", str(manifest), "--device", "cpu"]) == 1
    rows = read_status(tmp_path / "jobs.status.csv")
    assert [r["status"] for r in rows] == ["ok", "error"]
    assert (tmp_path / "out" / "a.las").is_file() and not (tmp_path / "out" / "b.las").exists()
    assert "missing.json" in capsys.readouterr().err


def test_a_manifest_row_writing_over_its_own_scan_fails_alone_and_the_scan_survives(tmp_path, sheet, fake_weights):
    image, layout_path, _, _ = sheet
    scan = image.read_bytes()
    manifest = tmp_path / "jobs.csv"
    manifest.write_text("image,layout,output\n"
                        f"{image.name},{layout_path.name},{image.name}\n"
                        f"{image.name},{layout_path.name},out/a.las\n")
    assert main(["batch", str(manifest), "--device", "cpu"]) == 1
    rows = read_status(tmp_path / "jobs.status.csv")
    assert [r["status"] for r in rows] == ["error", "ok"]
    assert "is the scan itself" in rows[0]["message"]
    assert image.read_bytes() == scan


def test_folder_without_layouts_uses_sidecars(tmp_path, sheet, fake_weights):
    image, layout_path, layout, _ = sheet
    src = tmp_path / "side"
    src.mkdir()
    draw_sheet(src / "x.png", layout)
    shutil.copy(layout_path, src / "x.layout.json")
    assert main(["batch", str(src), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "x.las").is_file()


def test_batch_source_must_exist(tmp_path, fake_weights, capsys):
    assert main(["batch", str(tmp_path / "none"), "--out", str(tmp_path)]) == 1
    assert "not found" in capsys.readouterr().err


def test_folder_mode_skips_derived_masks(tmp_path):
    from veerdesk.pipeline.batch import sheets_from_folder

    for name in ("a.png", "a.mask.png", "a.ids.png", "a.confidence.png"):
        (tmp_path / name).write_bytes(b"x")
    sheets = sheets_from_folder(tmp_path, tmp_path / "out", None)
    assert [s.image.name for s in sheets] == ["a.png"]
