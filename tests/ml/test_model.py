import pytest
import torch
from ml_standin import TINY_MODEL

from veerdesk.core.errors import ModelError
from veerdesk.ml.model import ModelConfig, build_model, count_parameters, fold_batchnorm


@pytest.mark.parametrize("shape", [(1, 1, 37, 61), (2, 1, 64, 32), (1, 1, 1, 1)])
def test_forward_keeps_any_size(shape):
    model = build_model(TINY_MODEL).eval()
    with torch.no_grad():
        out = model(torch.rand(shape))
    assert out.shape == (shape[0], 3, shape[2], shape[3])
    assert out.dtype == torch.float32


def test_bf16_autocast_forward_runs():
    model = build_model(TINY_MODEL).eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.rand(1, 1, 37, 61))
    assert out.shape == (1, 3, 37, 61)
    assert torch.isfinite(out.float()).all()


def test_padding_does_not_leak_into_prediction():
    # A tile padded internally must give the same logits as the same content padded with paper by hand.
    model = build_model(TINY_MODEL).eval()
    x = torch.rand(1, 1, 37, 61)
    padded = torch.ones(1, 1, 64, 64)
    padded[..., :37, :61] = x
    with torch.no_grad():
        assert torch.allclose(model(x), model(padded)[..., :37, :61], atol=1e-5)


def test_rejects_wrong_channel_count():
    with pytest.raises(ModelError, match="expects"):
        build_model(TINY_MODEL)(torch.rand(1, 3, 32, 32))


def test_config_round_trips_through_json():
    config = ModelConfig(channels=(8, 8, 16, 16, 32), blocks=(1, 2, 1, 1, 1), norm="group")
    assert ModelConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"channels": (8, 8), "blocks": (1, 1, 1)}, "blocks has 3"),
        ({"norm": "layer"}, "norm"),
        ({"classes": 4}, "class names"),
    ],
)
def test_invalid_config_is_refused(kwargs, words):
    with pytest.raises(ModelError, match=words):
        ModelConfig(**kwargs)


def test_unknown_config_key_is_refused():
    with pytest.raises(ModelError, match="unknown keys: colour"):
        ModelConfig.from_dict({**ModelConfig().to_dict(), "colour": 1})


def test_batchnorm_folding_preserves_output():
    model = build_model(TINY_MODEL)
    model.train()
    for _ in range(3):  # give BatchNorm non-trivial running statistics
        model(torch.rand(4, 1, 64, 64))
    model.eval()
    x = torch.rand(1, 1, 40, 50)
    with torch.no_grad():
        before = model(x)
        fold_batchnorm(model)
        after = model(x)
    assert torch.allclose(before, after, atol=1e-4)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def test_default_model_is_small():
    # Shipped weights must stay a few MB (float32).
    assert count_parameters(build_model(ModelConfig())) * 4 < 4_000_000
