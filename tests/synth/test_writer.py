import json

import cv2
import lasio
import numpy as np

from veerdesk.core.layout import load_layout
from veerdesk.synth import generate_page, write_page
from veerdesk.synth.writer import NULL


def test_written_page_reads_back(tmp_path):
    page = generate_page(21, width=600, height=800)
    paths = write_page(page, tmp_path / "out", "p21")
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "p21.png", "p21.mask.png", "p21.ids.png", "p21.layout.json", "p21.las", "p21.style.json"}
    assert np.array_equal(cv2.imread(str(paths["image"]), cv2.IMREAD_UNCHANGED), page.image)
    assert np.array_equal(cv2.imread(str(paths["mask"]), cv2.IMREAD_UNCHANGED), page.mask)
    assert np.array_equal(cv2.imread(str(paths["ids"]), cv2.IMREAD_UNCHANGED), page.curve_ids)
    assert load_layout(paths["layout"]) == page.layout
    assert json.loads(paths["style"].read_text())["seed"] == 21

    las = lasio.read(str(paths["las"]))
    grid = page.layout.depth_grid()
    assert float(las.well["NULL"].value) == NULL
    assert np.allclose(las.index, grid)
    assert las.curves[0].unit == page.layout.depth.unit
    for mnemonic, truth in page.truth.items():
        values = las[mnemonic]
        assert np.array_equal(np.isnan(values), np.isnan(truth))
        ok = np.isfinite(truth)
        assert np.allclose(values[ok], truth[ok], rtol=1e-8, atol=1e-8)
    assert not list(tmp_path.glob("out/.*tmp")), "no temporary files left behind"
