"""Training on streamed synthetic crops, as a generator of progress events.

    python -m veerdesk.ml.train --config configs/train-small.json --out runs/train1 --minutes 95 \
        [--init resources/models/veernet-small.safetensors] [--export resources/models/veernet-small.safetensors]

``train`` yields :class:`TrainEvent` s (start, step, validation, checkpoint, done) so the CLI can draw
progress and the app could drive and cancel it (close the generator, or pass ``cancel``). The run folder
holds ``log.jsonl`` (one JSON object per event), ``checkpoint.pt`` (model + optimizer + schedule, written
atomically, loaded with ``weights_only=True``), ``best.safetensors`` (best validation curve F1) and
``latest.safetensors`` (each with its ``.json`` card). A run folder with a checkpoint is resumed.

The learning rate follows the wall clock, not a step count: warm-up, then cosine decay over the
minutes asked for, so a run that must stop at a deadline still ends with a small learning rate. On
resume the schedule spans the time already spent plus the new budget.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from veerdesk.core.atomic import atomic_output
from veerdesk.core.errors import CancelledError, ModelError, VeerDeskError
from veerdesk.ml.data import (
    TRAIN_SEED_MIN,
    BatchStream,
    StreamFactory,
    fixed_crops,
    synth_crop_stream,
)
from veerdesk.ml.device import describe_device, resolve_device, supports_bf16
from veerdesk.ml.losses import LossConfig, SegmentationLoss
from veerdesk.ml.metrics import SegmentationScores
from veerdesk.ml.model import ModelConfig, VeerNet, build_model
from veerdesk.ml.provenance import generator_fingerprint
from veerdesk.ml.weights import load_model, save_weights
from veerdesk.synth.crops import COARSE_LEVELS

CHECKPOINT_NAME = "checkpoint.pt"


# Below this a crop holds too little page for the encoder's five levels to mean anything.
MIN_CROP = 32


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole(value: Any, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    crop: int = 256
    batch_size: int = 8
    lr: float = 2e-3
    min_lr_ratio: float = 0.02
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    grad_clip: float = 1.0
    train_seed: int = TRAIN_SEED_MIN
    val_seed: int = 900_000
    val_crop: int = 384
    val_crops: int = 16
    val_every: int = 250
    log_every: int = 10
    checkpoint_every: int = 200
    bf16: bool | None = None  # None: use bf16 autocast when the device has native bf16
    device: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
    channels_last: bool = True
    threads: int = 1  # 2 threads on a loaded 2-core machine were 4-6x slower (OpenMP spinning)
    loader_workers: int = 1
    flips: bool = True
    max_steps: int | None = None
    # Micro-batches summed into one optimizer step: a 2-core CPU fits batch 6, but continuing weights a GPU
    # trained at batch 32 needs a comparable effective batch, or the noisier steps undo part of that training.
    accumulate: int = 1
    # Keep BatchNorm's running statistics as loaded (fine-tuning on small batches): small-batch statistics
    # are noisy, and the statistics inference uses would drift with them.
    freeze_norm_stats: bool = False
    # Share of training and validation crops drawn as coarse captures (sub-pixel pens of low-dpi scans;
    # see veerdesk.synth.crops). 0 reproduces the crops of earlier stages.
    coarse_share: float = 0.0
    # Where a 1-bit coarse capture takes its threshold's levels: "sheet" or "window" (stage 9's first version).
    coarse_levels: str = "sheet"
    # Share of crops whose broken-style curves take pen-scaled plotting-software dash patterns
    # (veerdesk.synth.variety.use_plotter_dashes). 0 reproduces the crops of earlier stages.
    plotter_share: float = 0.0
    # Share of crops whose tracks draw curve families: later curves follow the first closely (deep / medium /
    # shallow resistivity lying on top of each other). 0 reproduces the crops of earlier stages.
    family_share: float = 0.0
    # Also keep the weights of every checkpoint as step-NNNNNN.safetensors: checkpoints are selected by
    # recovered-curve R² on whole pages afterwards, which the validation F1 only loosely predicts.
    keep_snapshots: bool = False

    def __post_init__(self) -> None:
        # A bad value must fail here with its name, not later inside torch (a 0-px crop reached a convolution,
        # a batch of 0 crops never finished a step).
        for name, least in (("crop", MIN_CROP), ("val_crop", MIN_CROP), ("batch_size", 1), ("val_crops", 1),
                            ("val_every", 1), ("log_every", 1), ("checkpoint_every", 1), ("threads", 1),
                            ("loader_workers", 0), ("warmup_steps", 0)):
            if not _is_whole(getattr(self, name), least):
                raise ModelError(f"{name} must be a whole number ≥ {least}, not {getattr(self, name)!r}")
        if self.max_steps is not None and not _is_whole(self.max_steps, 1):
            raise ModelError(f"max_steps must be a whole number ≥ 1 (or absent), not {self.max_steps!r}")
        for name in ("lr", "grad_clip"):
            if not _is_number(getattr(self, name)) or not getattr(self, name) > 0:
                raise ModelError(f"{name} must be a number > 0, not {getattr(self, name)!r}")
        if not _is_number(self.weight_decay) or self.weight_decay < 0:
            raise ModelError(f"weight_decay must be a number ≥ 0, not {self.weight_decay!r}")
        for name in ("min_lr_ratio", "coarse_share", "plotter_share", "family_share"):
            if not _is_number(getattr(self, name)) or not 0.0 <= getattr(self, name) <= 1.0:
                raise ModelError(f"{name} must lie in [0, 1], not {getattr(self, name)!r}")
        if self.coarse_levels not in COARSE_LEVELS:
            raise ModelError(f"coarse_levels must be one of {', '.join(COARSE_LEVELS)}, not {self.coarse_levels!r}")
        if not isinstance(self.accumulate, int) or self.accumulate < 1:
            raise ModelError(f"accumulate must be a whole number ≥ 1, not {self.accumulate!r}")
        if self.train_seed < TRAIN_SEED_MIN:
            raise ModelError(f"train_seed must be ≥ {TRAIN_SEED_MIN} (lower seeds are held out for evaluation)")
        if self.val_seed >= TRAIN_SEED_MIN:
            raise ModelError(f"val_seed must be < {TRAIN_SEED_MIN} so validation never sees training pages")
        if not isinstance(self.device, str) or not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise ModelError(f"device must be 'auto', 'cpu' or 'cuda[:N]', not {self.device!r}")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        kwargs = dict(d)
        kwargs.pop("comment", None)
        if "model" in kwargs:
            kwargs["model"] = ModelConfig.from_dict(kwargs["model"])
        if "loss" in kwargs:
            kwargs["loss"] = LossConfig.from_dict(kwargs["loss"])
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ModelError(f"invalid training configuration: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        d = asdict(self)
        d["model"] = self.model.to_dict()
        d["loss"] = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.loss).items()}
        return d


def load_train_config(source: str | os.PathLike | dict | TrainConfig) -> TrainConfig:
    if isinstance(source, TrainConfig):
        return source
    if isinstance(source, dict):
        return TrainConfig.from_dict(source)
    path = Path(source)
    try:
        return TrainConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"training configuration {path} is unreadable: {exc}") from exc


@dataclass(frozen=True)
class TrainEvent:
    """``kind``: start, step, validation, checkpoint, done. ``values`` holds the numbers of the event."""

    kind: str
    step: int
    elapsed_s: float
    budget_s: float
    values: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "step": self.step,
            "elapsed_s": round(self.elapsed_s, 2),
            "budget_s": round(self.budget_s, 2),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **self.values,
            **({"message": self.message} if self.message else {}),
        }


def set_training_mode(model: torch.nn.Module, config: TrainConfig) -> None:
    """Training mode, with BatchNorm layers left in eval mode (running statistics fixed) when the config
    freezes them; their scale and shift still train."""
    model.train()
    if config.freeze_norm_stats:
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.eval()


def learning_rate(config: TrainConfig, progress: float, steps_since_warmup_start: int) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine from ``lr`` to ``lr * min_lr_ratio`` over time."""
    warm = min(1.0, (steps_since_warmup_start + 1) / max(1, config.warmup_steps))
    floor = config.lr * config.min_lr_ratio
    cosine = floor + (config.lr - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, progress))))
    return cosine * warm


def use_bf16(config: TrainConfig, device: torch.device | None = None) -> bool:
    if config.bf16 is not None:
        return config.bf16
    return supports_bf16(device or torch.device("cpu"))


def hardware_description(device: torch.device | None = None) -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    where = f"{describe_device(device)} + " if device is not None and device.type != "cpu" else ""
    return f"{where}{cpu}, {os.cpu_count()} logical cores, torch {torch.__version__}, Python {platform.python_version()}"


@torch.no_grad()
def validate(model: VeerNet, images: torch.Tensor, masks: torch.Tensor, *, bf16: bool, chunk: int = 4) -> dict:
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    scores = SegmentationScores(model.config.class_names)
    for i in range(0, len(images), chunk):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(images[i : i + chunk].to(device))
        pred = logits.argmax(1).to(torch.uint8).cpu().numpy()
        for p, t in zip(pred, masks[i : i + chunk].numpy().astype(np.uint8), strict=True):
            scores.update(p, t)
    model.train(was_training)
    return {"curve_f1": scores.curve_f1(), "classes": scores.summary()}


def _batch_f1(logits: torch.Tensor, target: torch.Tensor, class_names) -> dict[str, float]:
    scores = SegmentationScores(class_names)
    pred = logits.detach().argmax(1).to(torch.uint8).cpu().numpy()
    for p, t in zip(pred, target.cpu().numpy().astype(np.uint8), strict=True):
        scores.update(p, t)
    return {f"f1_{name}": round(s["f1"], 4) for name, s in scores.summary().items()}


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    with atomic_output(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for damaged files
        raise ModelError(f"training checkpoint {path} is unreadable: {exc}") from exc


def run_card(
    config: TrainConfig, state: dict[str, Any], extra: dict[str, Any] | None = None, device: torch.device | None = None
) -> dict[str, Any]:
    """What the weights saved from this run say about how they were made."""
    card = {
        "generator": "veerdesk.synth.CropStream(seed, crop=...) — streamed crops of synthetic pages"
        + (f", {config.coarse_share:.0%} of them coarse captures" if config.coarse_share else "")
        + (f", {config.plotter_share:.0%} with plotting-software dashes" if config.plotter_share else "")
        + (f", {config.family_share:.0%} with curve families" if config.family_share else ""),
        "train_seed_range": f"CropStream seeds ≥ {config.train_seed} (training never uses seeds < {TRAIN_SEED_MIN})",
        "validation": f"{config.val_crops} crops of {config.val_crop} px from CropStream seed {config.val_seed}",
        "crop": config.crop,
        "batch_size": config.batch_size * config.accumulate,
        "steps": state["step"],
        "samples_seen": state["step"] * config.batch_size * config.accumulate,
        "wall_time_s": round(state["elapsed_s"], 1),
        "hardware": hardware_description(device),
        "precision": "bf16 autocast" if use_bf16(config, device) else "fp32",
        "best_validation_curve_f1": state.get("best_score"),
        "best_step": state.get("best_step"),
        "generator_sources": state.get("generator_sources", []),
        "train_config": config.to_dict(),
    }
    card.update(extra or {})
    return card


def train(
    config_source: str | os.PathLike | dict | TrainConfig,
    out_dir: str | os.PathLike,
    *,
    minutes: float = 60.0,
    init: str | os.PathLike | None = None,
    stream_factory: StreamFactory | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Iterator[TrainEvent]:
    """Train until the time budget (or ``max_steps``) is spent; yields progress events."""
    config = load_train_config(config_source)
    # The generator's masks in the model's class scheme (a partial is picklable for spawned loader workers).
    factory = stream_factory or functools.partial(
        synth_crop_stream, classes=config.model.classes, coarse_share=config.coarse_share,
        coarse_levels=config.coarse_levels, plotter_share=config.plotter_share, family_share=config.family_share,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, config.threads))
    torch.manual_seed(config.train_seed)
    device = resolve_device(config.device)
    bf16 = use_bf16(config, device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop size: let cuDNN pick its fastest kernels once
    budget_s = max(0.0, minutes * 60.0)
    log_path = out / "log.jsonl"
    checkpoint_path = out / CHECKPOINT_NAME

    # On the device before the optimizer exists: a resumed optimizer state is then loaded onto it too.
    model = build_model(config.model).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    state: dict[str, Any] = {
        "step": 0,
        "elapsed_s": 0.0,
        "schedule_s": budget_s,
        "warmup_start_step": 0,
        "best_score": None,
        "best_step": None,
        "generator_sources": [],
    }
    resumed_from = None
    if checkpoint_path.exists():
        saved = _load_checkpoint(checkpoint_path)
        saved_config = ModelConfig.from_dict(saved["model_config"])
        if saved_config != config.model:
            raise ModelError(f"checkpoint in {out} was made with a different model configuration; use a new --out")
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        for key in state:
            state[key] = saved["state"].get(key, state[key])
        # The cosine now spans the time already spent plus this run's budget.
        state["schedule_s"] = state["elapsed_s"] + budget_s
        resumed_from = f"checkpoint at step {state['step']}"
    elif init is not None:
        initial, _, _ = load_model(init, expected=config.model, inference=False)
        model.load_state_dict(initial.state_dict())
        resumed_from = f"weights {init}"
    generator_changed = False
    if stream_factory is None:
        # Which generator code fed which steps (the generator evolves between resumed runs).
        sources = list(state["generator_sources"])
        fingerprint = generator_fingerprint()
        generator_changed = bool(sources) and sources[-1]["sha256"] != fingerprint
        state["generator_sources"] = sources + [{"from_step": state["step"], "sha256": fingerprint}]
    if generator_changed:
        # The validation crops now come from other generator code: old scores are not comparable, so the
        # resumed model is re-validated at once and becomes the new reference "best".
        state["best_score"] = None

    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    set_training_mode(model, config)
    loss_fn = SegmentationLoss(config.loss, config.model.classes).to(device)
    val_images, val_masks = fixed_crops(factory, config.val_seed, config.val_crop, config.val_crops)
    if config.channels_last:
        val_images = val_images.contiguous(memory_format=torch.channels_last)

    # Each (re)start reads a fresh part of the training seed range.
    dataset = BatchStream(
        factory, config.train_seed + state["step"], config.crop, config.batch_size, flips=config.flips
    )
    if config.loader_workers > 0:
        # "spawn": a forked worker can deadlock in OpenCV's/OpenMP's thread pools that the parent already started.
        loader: Any = torch.utils.data.DataLoader(
            dataset,
            batch_size=None,
            num_workers=config.loader_workers,
            prefetch_factor=4,
            multiprocessing_context="spawn",
            pin_memory=device.type == "cuda",
        )
    else:
        loader = dataset

    def log(event: TrainEvent) -> TrainEvent:
        with open(log_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(event.to_dict()) + "\n")
        return event

    def checkpoint() -> None:
        _save_checkpoint(
            checkpoint_path,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "model_config": config.model.to_dict(),
                "train_config": json.dumps(config.to_dict()),
                "state": dict(state),
            },
        )

    start_elapsed = state["elapsed_s"]
    t0 = time.monotonic()

    def elapsed() -> float:
        return start_elapsed + time.monotonic() - t0

    yield log(
        TrainEvent(
            "start",
            state["step"],
            elapsed(),
            budget_s,
            {"bf16": bf16, "device": str(device), "threads": torch.get_num_threads(), "resumed_from": resumed_from},
            f"training {config.model.architecture} for {minutes:g} min"
            + (f", resuming from {resumed_from}" if resumed_from else ""),
        )
    )
    if generator_changed:
        yield log(_validation_event(model, val_images, val_masks, bf16, state, config, out, elapsed, budget_s))
    finished_normally = False
    loss_sum, loss_terms_sum, loss_count = 0.0, {}, 0
    last_checkpoint_step = state["step"]
    batches = None
    try:
        batches = iter(loader)
        while True:
            state["elapsed_s"] = elapsed()
            if state["elapsed_s"] - start_elapsed >= budget_s:
                break
            if config.max_steps is not None and state["step"] >= config.max_steps:
                break
            if cancel is not None and cancel():
                raise CancelledError("training was cancelled; the last checkpoint is kept")
            progress = state["elapsed_s"] / state["schedule_s"] if state["schedule_s"] > 0 else 1.0
            lr = learning_rate(config, progress, state["step"] - state["warmup_start_step"])
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            for _ in range(config.accumulate):
                x, y = next(batches)
                x = x.to(device, non_blocking=True)
                y = y.to(device, non_blocking=True)
                if config.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    logits = model(x)
                loss, terms = loss_fn(logits, y, x)
                if not torch.isfinite(loss):
                    raise ModelError(f"training diverged at step {state['step']} (loss {float(loss)}); lower lr")
                (loss / config.accumulate).backward()
                # Logged losses are means over every micro-batch, not the last one's.
                loss_sum += float(loss.detach())
                loss_count += 1
                for name, value in terms.items():
                    loss_terms_sum[name] = loss_terms_sum.get(name, 0.0) + value
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            state["step"] += 1

            if state["step"] % config.log_every == 0:
                values = {
                    "loss": round(loss_sum / loss_count, 5),
                    **{name: round(v / loss_count, 5) for name, v in loss_terms_sum.items()},
                    "lr": lr,
                    **_batch_f1(logits.float(), y, config.model.class_names),
                }
                loss_sum, loss_terms_sum, loss_count = 0.0, {}, 0
                yield log(TrainEvent("step", state["step"], elapsed(), budget_s, values))

            if state["step"] % config.val_every == 0:
                yield log(_validation_event(model, val_images, val_masks, bf16, state, config, out, elapsed, budget_s))

            if state["step"] % config.checkpoint_every == 0:
                state["elapsed_s"] = elapsed()
                checkpoint()
                # The newest weights, loadable (and exportable) while the run goes on.
                save_weights(model, out / "latest.safetensors", card=run_card(config, state, device=device))
                if config.keep_snapshots:
                    snapshot = out / f"step-{state['step']:06d}.safetensors"
                    save_weights(model, snapshot, card=run_card(config, state, device=device))
                last_checkpoint_step = state["step"]
                yield log(TrainEvent("checkpoint", state["step"], elapsed(), budget_s, {"path": str(checkpoint_path)}))
        finished_normally = True
    finally:
        # Runs on normal end, on errors and when the consumer closes the generator (cancel):
        # never lose more than the steps since the last checkpoint.
        state["elapsed_s"] = elapsed()
        if state["step"] != last_checkpoint_step or not checkpoint_path.exists():
            checkpoint()
        if not finished_normally:
            save_weights(model, out / "latest.safetensors", card=run_card(config, state, device=device))
        stop_loader_workers(batches)
        batches = None

    event = _validation_event(model, val_images, val_masks, bf16, state, config, out, elapsed, budget_s)
    yield log(event)
    save_weights(model, out / "latest.safetensors", card=run_card(config, state, device=device))
    yield log(
        TrainEvent(
            "done",
            state["step"],
            elapsed(),
            budget_s,
            {"best_score": state["best_score"], "best_step": state["best_step"], "out": str(out)},
            f"finished after {state['step']} steps; best validation curve F1 {state['best_score']}",
        )
    )


def stop_loader_workers(batches: Any) -> str | None:
    """Stop a DataLoader iterator's workers now rather than at interpreter exit; returns the error, if any.

    On 16-core GPU machines a worker sometimes aborts while it stops ("terminate called without an active
    exception", then "DataLoader worker ... is killed by signal: Aborted"), at exit and when stopped
    early alike. By then the weights are saved, so the error is reported as a warning instead of raised:
    raised, it skipped the run's final validation and its last save.
    """
    shutdown = getattr(batches, "_shutdown_workers", None)
    if not callable(shutdown):
        return None
    try:
        shutdown()
    except RuntimeError as exc:
        warnings.warn(f"a data loader worker failed while stopping (the weights were saved first): {exc}",
                      RuntimeWarning, stacklevel=2)
        return str(exc)
    return None


def _validation_event(model, images, masks, bf16, state, config, out, elapsed, budget_s) -> TrainEvent:
    result = validate(model, images, masks, bf16=bf16)
    set_training_mode(model, config)  # validate() restores plain training mode, which would unfreeze norms
    score = result["curve_f1"]
    improved = state["best_score"] is None or score > state["best_score"]
    if improved:
        state["best_score"], state["best_step"] = score, state["step"]
        device = next(model.parameters()).device
        save_weights(model, out / "best.safetensors", card=run_card(config, state, device=device))
    values = {
        "curve_f1": round(score, 4),
        "improved": improved,
        **{
            f"{metric}_{name}": round(s[metric], 4)
            for name, s in result["classes"].items()
            for metric in ("f1", "iou", "tolerant_f1")
        },
    }
    return TrainEvent("validation", state["step"], elapsed(), budget_s, values)


def format_event(event: TrainEvent) -> str:
    """One human-readable progress line."""
    head = f"[{event.elapsed_s / 60:6.1f}/{event.budget_s / 60:.0f} min] step {event.step:6d}"
    v = event.values
    if event.kind == "step":
        f1 = " ".join(f"{k[3:]}={v[k]:.3f}" for k in v if k.startswith("f1_"))
        return f"{head} loss {v['loss']:.4f} lr {v['lr']:.2e} batch F1 {f1}"
    if event.kind == "validation":
        f1 = " ".join(f"{k[3:]}={v[k]:.3f}" for k in v if k.startswith("f1_"))
        tol = " ".join(f"{k[12:]}={v[k]:.3f}" for k in v if k.startswith("tolerant_f1_"))
        return f"{head} validation F1 {f1} | tolerant {tol}" + (" *best*" if v["improved"] else "")
    if event.kind == "checkpoint":
        return f"{head} checkpoint saved"
    return f"{head} {event.message}"


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m veerdesk.ml.train", description="Train VeerNet on synthetic crops."
    )
    parser.add_argument("--config", required=True, help="training configuration JSON")
    parser.add_argument("--out", required=True, help="run folder (resumed when it holds a checkpoint)")
    parser.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget of this run")
    parser.add_argument("--init", default=None, help="start from these weights (ignored when resuming)")
    parser.add_argument("--export", default=None, help="after training, evaluate and write weights + card here")
    parser.add_argument("--export-pages", type=int, default=8, help="held-out pages for the exported card")
    args = parser.parse_args(argv)
    # `kill PID` (SIGTERM) unwinds like Ctrl-C, so the training generator saves a last checkpoint.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        for event in train(args.config, args.out, minutes=args.minutes, init=args.init):
            print(format_event(event), flush=True)
        if args.export:
            from veerdesk.ml.export import export_run

            card = export_run(args.out, args.export, pages=args.export_pages)
            print(json.dumps(card.get("heldout_eval", {}), indent=2), flush=True)
    except VeerDeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
