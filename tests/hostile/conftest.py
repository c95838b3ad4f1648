"""Fixtures for the hostile-input tests."""

from __future__ import annotations

import pytest
from hostile_helpers import CliResult

from veerdesk.cli import main


@pytest.fixture
def run_cli(capsys):
    """Run ``veerdesk ARGS`` in-process; any exception other than SystemExit fails the test by itself."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse errors
            code = exc.code if isinstance(exc.code, int) else 2
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def good_inputs(tmp_path_factory):
    """A valid tiny scan and layout, so a hostile input can be tested on its own in `veerdesk digitize`."""
    import json

    from hostile_corpus import _log_like, good_layout
    from PIL import Image

    folder = tmp_path_factory.mktemp("good-inputs")
    image = folder / "sheet.png"
    Image.fromarray(_log_like()).save(image)
    layout = folder / "sheet.layout.json"
    layout.write_text(json.dumps(good_layout()))
    return {"image": image, "layout": layout, "folder": folder}


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """A valid, untrained, very small weights pair (safetensors + card); None until the weights module exists."""
    weights = pytest.importorskip("veerdesk.ml.weights")
    from veerdesk.ml.model import ModelConfig, build_model

    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    weights.save_weights(build_model(ModelConfig(channels=(8, 16), blocks=(1, 1), attention_layers=0)), path)
    return path
