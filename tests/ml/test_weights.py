import json

import pytest
import torch
from ml_standin import TINY_MODEL

from veerdesk.core.errors import ModelError
from veerdesk.ml.model import ModelConfig, build_model
from veerdesk.ml.weights import WEIGHTS_ENV, card_path, default_weights_path, load_model, save_weights


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build_model(TINY_MODEL).eval()
    path = tmp_path / "m.safetensors"
    save_weights(model, path, card={"steps": 7})
    return model, path


def test_round_trip_gives_the_same_predictions(saved):
    model, path = saved
    loaded, config, card = load_model(path)
    assert config == TINY_MODEL
    assert card == {"steps": 7}
    x = torch.rand(1, 1, 37, 61)
    with torch.no_grad():
        assert torch.allclose(model(x), loaded(x), atol=1e-4)


def test_tampered_weights_are_refused(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="do not match their card"):
        load_model(path)


def test_card_describing_another_network_is_refused(saved):
    _, path = saved
    document = json.loads(card_path(path).read_text())
    document["config"]["channels"] = [8, 8, 8, 8, 8]
    card_path(path).write_text(json.dumps(document))
    with pytest.raises(ModelError, match="do not fit their configuration"):
        load_model(path)


def test_expected_configuration_mismatch_names_the_difference(saved):
    _, path = saved
    with pytest.raises(ModelError, match=r"channels is \[4, 8, 8, 8, 8\], expected \[16"):
        load_model(path, expected=ModelConfig())


def test_other_classes_are_refused(tmp_path):
    config = ModelConfig(channels=TINY_MODEL.channels, attention_heads=2, classes=2, class_names=("bg", "ink"))
    path = tmp_path / "two.safetensors"
    save_weights(build_model(config), path)
    with pytest.raises(ModelError, match="predicts classes"):
        load_model(path)


def test_missing_files_are_reported(saved, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "nothing.safetensors")
    _, path = saved
    card_path(path).unlink()
    with pytest.raises(ModelError, match="card .* is missing"):
        load_model(path)


def test_default_path_follows_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    assert default_weights_path().parts[-3:] == ("resources", "models", "veernet-small.safetensors")
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "w.safetensors"))
    assert default_weights_path() == tmp_path / "w.safetensors"


def test_a_four_class_model_loads_and_other_class_names_are_refused(tmp_path):
    from veerdesk.core.classes import CLASS_SCHEMES

    config = ModelConfig(channels=TINY_MODEL.channels, attention_heads=2, classes=4, class_names=CLASS_SCHEMES[4])
    save_weights(build_model(config), tmp_path / "four.safetensors")
    model, loaded, _ = load_model(tmp_path / "four.safetensors")
    assert loaded.class_names == ("background", "solid", "dashed", "dotted")
    odd = ModelConfig(channels=TINY_MODEL.channels, attention_heads=2, classes=4,
                      class_names=("background", "solid", "dotted", "dashed"))
    save_weights(build_model(odd), tmp_path / "odd.safetensors")
    with pytest.raises(ModelError, match="predicts classes"):
        load_model(tmp_path / "odd.safetensors")


def test_a_five_class_model_loads(tmp_path):
    from veerdesk.core.classes import CLASS_SCHEMES

    config = ModelConfig(channels=TINY_MODEL.channels, attention_heads=2, classes=5, class_names=CLASS_SCHEMES[5])
    save_weights(build_model(config), tmp_path / "five.safetensors")
    _, loaded, _ = load_model(tmp_path / "five.safetensors")
    assert loaded.class_names[4] == "dash-dot"
