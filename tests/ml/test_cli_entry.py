import argparse
import json

import pytest
from ml_standin import TINY_MODEL

from veerdesk.core.errors import ModelError
from veerdesk.ml.cli_entry import run_eval, run_train


def test_run_train_streams_the_real_generator_and_prints_progress(tmp_path, capsys):
    pytest.importorskip("veerdesk.synth.crops")
    config = {
        "model": TINY_MODEL.to_dict(),
        "crop": 64,
        "batch_size": 2,
        "val_crop": 64,
        "val_crops": 2,
        "val_every": 2,
        "log_every": 1,
        "checkpoint_every": 2,
        "loader_workers": 0,
        "max_steps": 2,
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    args = argparse.Namespace(config=str(config_path), out=str(tmp_path / "run"), minutes=None, init=None)
    assert run_train(args) == 0
    out = capsys.readouterr().out
    assert "step      2" in out and "validation F1" in out
    assert (tmp_path / "run" / "latest.safetensors").exists()


def test_run_eval_reports_missing_weights(tmp_path):
    args = argparse.Namespace(weights=str(tmp_path / "none.safetensors"), pages=1, seed=0, json=None)
    with pytest.raises(ModelError, match="not found"):
        run_eval(args)
