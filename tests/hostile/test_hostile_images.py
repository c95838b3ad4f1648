"""Every hostile image gives one clear ImageError (or loads, when it is odd but legitimate) — API and CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hostile_corpus import image_cases
from hostile_helpers import assert_cli_error, assert_user_error, cli_available, xfail_if_bug

from veerdesk.core.errors import ImageError
from veerdesk.core.image import load_page, probe_image

CASES = image_cases()
# Small budget: the bombs must be refused before decoding, not after allocating.
MAX_PIXELS = 4_000_000
PDF_DPI = 20


@pytest.fixture
def write_case(tmp_path):
    def write(case):
        path = tmp_path / case.filename
        path.write_bytes(case.data)
        return path

    return write


@pytest.mark.parametrize("case", xfail_if_bug(CASES))
def test_probe(case, write_case):
    path = write_case(case)
    if case.probe is None:
        info = probe_image(path, case.page, pdf_dpi=PDF_DPI)
        assert info.width > 0 and info.height > 0
        return
    with pytest.raises(ImageError) as exc_info:
        probe_image(path, case.page, pdf_dpi=PDF_DPI)
    assert_user_error(exc_info, case.probe, names=case.filename)


@pytest.mark.parametrize("case", xfail_if_bug(CASES))
def test_load(case, write_case):
    path = write_case(case)
    if case.load is None:
        page = load_page(path, case.page, max_pixels=MAX_PIXELS, pdf_dpi=PDF_DPI)
        assert page.pixels.dtype == np.uint8 and page.pixels.ndim == 2
        assert page.pixels.shape == (page.info.height, page.info.width)
        if case.mean is not None:
            assert abs(float(page.pixels.mean()) - case.mean) <= 2
        return
    with pytest.raises(ImageError) as exc_info:
        load_page(path, case.page, max_pixels=MAX_PIXELS, pdf_dpi=PDF_DPI)
    assert_user_error(exc_info, case.load, names=case.filename)


@pytest.mark.parametrize("case", xfail_if_bug([c for c in CASES if c.name.endswith("bomb-10-gigapixels")]))
def test_bombs_are_refused_under_the_default_budget(case, write_case):
    with pytest.raises(ImageError) as exc_info:
        load_page(write_case(case), case.page)
    assert_user_error(exc_info, ImageError, names=case.filename)


@pytest.mark.parametrize("case", xfail_if_bug(CASES))
def test_cli_info(case, write_case, run_cli):
    result = run_cli("info", write_case(case), "--page", case.page + 1, "--pdf-dpi", PDF_DPI)
    if case.probe is None:
        assert result.code == 0, result.err
        assert "size:" in result.out
    else:
        assert_cli_error(result, case.probe)


def test_cli_info_on_missing_file_and_folder(tmp_path, run_cli):
    assert_cli_error(run_cli("info", tmp_path / "nowhere.tif"), ImageError)
    assert_cli_error(run_cli("info", tmp_path), ImageError)


# The PDF bomb is 1.6 gigapixels at 200 dpi: a bomb only for the small test budget, not for digitize's default.
DIGITIZE_CASES = [c for c in CASES if c.load is not None and c.name != "pdf-bomb"]


@pytest.mark.skipif(not cli_available("digitize"), reason="`veerdesk digitize` lands with the pipeline issue")
@pytest.mark.parametrize("case", xfail_if_bug(DIGITIZE_CASES))
def test_cli_digitize(case, write_case, run_cli, good_inputs, tiny_weights, tmp_path):
    out = tmp_path / "out.las"
    result = run_cli("digitize", write_case(case), "--layout", good_inputs["layout"], "-o", out,
                     "--weights", tiny_weights, "--device", "cpu", "--page", case.page + 1)
    assert_cli_error(result, case.load)
    assert not out.exists()


# A few cases through a real process: exit status, stderr, and no traceback at the top level.
PROCESS_CASES = ["zero-byte", "text-named-tif", "pdf-truncated", "multipage-page-3-missing"]


@pytest.mark.parametrize("case", [c for c in CASES if c.name in PROCESS_CASES], ids=lambda c: c.name)
def test_cli_info_in_a_process(case, write_case):
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [sys.executable, "-m", "veerdesk.cli", "info", str(write_case(case)), "--page", str(case.page + 1)],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == ImageError.exit_code, proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
