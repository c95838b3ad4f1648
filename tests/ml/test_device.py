import pytest
import torch

from veerdesk.core.errors import ModelError
from veerdesk.ml.device import describe_device, resolve_device, supports_bf16


def test_auto_follows_cuda_availability(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"


def test_missing_gpu_and_unknown_device_are_clear_errors(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelError, match="no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(ModelError, match="unknown device 'tpu7'"):
        resolve_device("tpu7")


def test_cpu_description_and_bf16_answer():
    cpu = resolve_device("cpu")
    assert describe_device(cpu) == "CPU"
    assert isinstance(supports_bf16(cpu), bool)
