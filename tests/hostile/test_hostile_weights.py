"""Tampered, damaged or mismatched weights are refused with one ModelError saying what is wrong — API and CLI."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from hostile_corpus import weights_cases
from hostile_helpers import assert_cli_error, assert_user_error, cli_available, xfail_if_bug

from veerdesk.core.errors import ModelError

weights = pytest.importorskip("veerdesk.ml.weights")

CASES = weights_cases()


@pytest.fixture
def make_hostile(tiny_weights, tmp_path):
    """Copy the valid tiny weights pair and apply a case's damage; returns the weights path."""

    def make(case):
        path = tmp_path / "hostile.safetensors"
        data = tiny_weights.read_bytes()
        if case.weights is not None:
            data = case.weights(data)
        path.write_bytes(data)
        card = json.loads(weights.card_path(tiny_weights).read_text())
        if case.resign:
            card["sha256"] = hashlib.sha256(data).hexdigest()
        if case.card is not None:
            card = case.card(card)
        text = card if isinstance(card, str) else json.dumps(card)
        weights.card_path(path).write_text(text)
        return path

    return make


def test_the_untouched_pair_loads(tiny_weights, tmp_path):
    copy = tmp_path / "copy.safetensors"
    shutil.copy(tiny_weights, copy)
    shutil.copy(weights.card_path(tiny_weights), weights.card_path(copy))
    model, config, _card = weights.load_model(copy, "cpu")
    assert config.channels == (8, 16)


@pytest.mark.parametrize("case", xfail_if_bug(CASES))
def test_load_model(case, make_hostile):
    path = make_hostile(case)
    with pytest.raises(ModelError) as exc_info:
        weights.load_model(path, "cpu")
    assert_user_error(exc_info, case.error)


def test_missing_weights_and_missing_card(tiny_weights, tmp_path):
    with pytest.raises(ModelError) as exc_info:
        weights.load_model(tmp_path / "none.safetensors", "cpu")
    assert_user_error(exc_info, ModelError, names="none.safetensors")
    lonely = tmp_path / "lonely.safetensors"
    shutil.copy(tiny_weights, lonely)
    with pytest.raises(ModelError) as exc_info:
        weights.load_model(lonely, "cpu")
    assert_user_error(exc_info, ModelError, names="lonely.json")


def test_a_mismatch_says_what_differs(tiny_weights):
    from veerdesk.ml.model import ModelConfig

    with pytest.raises(ModelError) as exc_info:
        weights.load_model(tiny_weights, "cpu", expected=ModelConfig(channels=(8, 24), blocks=(1, 1),
                                                                      attention_layers=0))
    assert_user_error(exc_info, ModelError)
    assert "channels" in str(exc_info.value) and "24" in str(exc_info.value)


@pytest.mark.skipif(not cli_available("digitize"), reason="`veerdesk digitize` lands with the pipeline issue")
@pytest.mark.parametrize("case", xfail_if_bug(CASES))
def test_cli_digitize(case, make_hostile, run_cli, good_inputs, tmp_path):
    out = tmp_path / "out.las"
    result = run_cli("digitize", good_inputs["image"], "--layout", good_inputs["layout"], "-o", out,
                     "--weights", make_hostile(case), "--device", "cpu")
    assert_cli_error(result, case.error)
    assert not out.exists()
