"""Saving and safely loading model weights.

Weights are stored as safetensors (no pickle, so a file cannot run code). Beside ``NAME.safetensors``
lives ``NAME.json``: the model configuration, the SHA-256 of the weights file, and the model card
(training recipe, metrics). Loading refuses a weights file whose hash does not match its card, or
whose configuration does not describe the network this version of VeerDesk builds.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from veerdesk.core.atomic import atomic_output, atomic_write_text
from veerdesk.core.classes import CLASS_SCHEMES
from veerdesk.core.errors import ModelError
from veerdesk.ml.model import ARCHITECTURE, ModelConfig, VeerNet, build_model, prepare_for_inference

WEIGHTS_ENV = "VEERDESK_WEIGHTS"
DEFAULT_WEIGHTS_NAME = "veernet-small.safetensors"
CARD_FORMAT = "veerdesk-model-card/1"


def default_weights_path() -> Path:
    """The shipped weights, or the file named by $VEERDESK_WEIGHTS."""
    override = os.environ.get(WEIGHTS_ENV)
    if override:
        return Path(override).expanduser()
    return Path(__file__).resolve().parents[2] / "resources" / "models" / DEFAULT_WEIGHTS_NAME


def card_path(weights_path: str | os.PathLike) -> Path:
    return Path(weights_path).with_suffix(".json")


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_weights(
    model: VeerNet, path: str | os.PathLike, *, card: dict[str, Any] | None = None, markdown: str | None = None
) -> dict[str, Any]:
    """Write ``path`` (safetensors), ``path.json`` (config + SHA-256 + card) and optionally ``path.md``.

    ``model`` must be in training form (BatchNorm not folded). Returns the JSON document written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    with atomic_output(path, suffix=".safetensors") as tmp:
        save_file(state, str(tmp), metadata={"architecture": model.config.architecture})
        digest = sha256_of(tmp)
    document = {
        "format": CARD_FORMAT,
        "weights_file": path.name,
        "sha256": digest,
        "config": model.config.to_dict(),
        "card": card or {},
    }
    atomic_write_text(card_path(path), json.dumps(document, indent=2, sort_keys=True) + "\n", keep_backup=False)
    if markdown is not None:
        atomic_write_text(path.with_suffix(".md"), markdown, keep_backup=False)
    return document


def _config_differences(found: ModelConfig, expected: ModelConfig) -> list[str]:
    a, b = found.to_dict(), expected.to_dict()
    return [f"{key} is {a[key]!r}, expected {b[key]!r}" for key in sorted(b) if key != "extra" and a[key] != b[key]]


def read_card(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON document beside ``path``, validated for shape (not yet against the weights)."""
    path = Path(path)
    json_path = card_path(path)
    if not json_path.is_file():
        raise ModelError(f"model card {json_path} is missing; weights cannot be checked without it")
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model card {json_path} is unreadable: {exc}") from exc
    except RecursionError as exc:
        raise ModelError(f"model card {json_path} is nested too deeply to be a model card") from exc
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict) or "sha256" not in document:
        raise ModelError(f"model card {json_path} has no 'config' or 'sha256' entry")
    return document


def load_model(
    path: str | os.PathLike | None = None,
    device: str = "cpu",
    *,
    expected: ModelConfig | None = None,
    inference: bool = True,
) -> tuple[VeerNet, ModelConfig, dict[str, Any]]:
    """Load weights after checking hash and configuration; returns ``(model, config, card)``.

    ``expected`` (optional) is the exact configuration the caller needs; otherwise the file only has to
    describe a VeerNet with the known classes. With ``inference=True`` the model is in eval mode with
    BatchNorm folded and channels-last layout (fast, not trainable); use ``inference=False`` to train on.
    """
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        raise ModelError(f"model weights {path} not found")
    document = read_card(path)
    actual_hash = sha256_of(path)
    if actual_hash != document["sha256"]:
        raise ModelError(
            f"model weights {path.name} do not match their card (SHA-256 {actual_hash[:12]}…, card says "
            f"{str(document['sha256'])[:12]}…); the file was changed or damaged"
        )
    config = ModelConfig.from_dict(document["config"])
    if config.architecture != ARCHITECTURE:
        raise ModelError(f"model {path.name} is a {config.architecture!r} network; VeerDesk needs {ARCHITECTURE!r}")
    if expected is not None:
        differences = _config_differences(config, expected)
        if differences:
            raise ModelError(f"model {path.name} has a different configuration: " + "; ".join(differences))
    elif config.class_names not in CLASS_SCHEMES.values():
        known = " or ".join(str(list(names)) for names in CLASS_SCHEMES.values())
        raise ModelError(f"model {path.name} predicts classes {list(config.class_names)}, VeerDesk needs {known}")
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError) as exc:
        raise ModelError(f"model weights {path.name} are unreadable: {exc}") from exc
    bad = [key for key, tensor in state.items() if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if bad:
        raise ModelError(f"model weights {path.name} contain NaN or infinite values (e.g. {bad[0]}); retrain or re-export")
    try:
        model = build_model(config)
    except ModelError:
        raise
    except (RuntimeError, ValueError, TypeError, ZeroDivisionError, MemoryError) as exc:
        raise ModelError(f"model {path.name}: its configuration cannot be built ({type(exc).__name__}: {exc})") from exc
    _check_state(model, state, path.name)
    model.load_state_dict(state, strict=True)
    model.to(device)
    if inference:
        prepare_for_inference(model)
    return model, config, document.get("card", {})


def _check_state(model: VeerNet, state: dict[str, torch.Tensor], name: str) -> None:
    wanted = model.state_dict()
    missing = sorted(set(wanted) - set(state))
    unexpected = sorted(set(state) - set(wanted))
    wrong_shape = [
        f"{key} {tuple(state[key].shape)} vs {tuple(wanted[key].shape)}"
        for key in sorted(set(wanted) & set(state))
        if state[key].shape != wanted[key].shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing tensors (e.g. {missing[0]})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
    if wrong_shape:
        problems.append(f"{len(wrong_shape)} tensors of the wrong shape (e.g. {wrong_shape[0]})")
    if problems:
        raise ModelError(f"model weights {name} do not fit their configuration: " + "; ".join(problems))
