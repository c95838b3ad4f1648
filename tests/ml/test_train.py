import json
import re

import pytest
from ml_standin import TINY_MODEL, standin_stream

from veerdesk.core.errors import CancelledError, ModelError
from veerdesk.ml.train import TrainConfig, learning_rate, train
from veerdesk.ml.weights import load_model


def _config(**overrides) -> TrainConfig:
    base = dict(
        model=TINY_MODEL,
        crop=64,
        batch_size=2,
        val_crop=64,
        val_crops=2,
        val_every=3,
        log_every=2,
        checkpoint_every=4,
        loader_workers=0,
        warmup_steps=2,
        max_steps=5,
    )
    base.update(overrides)
    return TrainConfig(**base)


def _run(config, out, **kwargs):
    return list(train(config, out, minutes=10, stream_factory=standin_stream, **kwargs))


def test_training_logs_checkpoints_and_saves_weights(tmp_path):
    events = _run(_config(), tmp_path)
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert {"step", "validation", "checkpoint"} <= set(kinds)
    assert events[-1].step == 5
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [entry["kind"] for entry in log] == kinds
    assert "f1_solid" in next(entry for entry in log if entry["kind"] == "step")
    model, _, card = load_model(tmp_path / "best.safetensors")
    assert card["steps"] >= 3
    load_model(tmp_path / "latest.safetensors")


def test_training_resumes_from_checkpoint(tmp_path):
    _run(_config(max_steps=4), tmp_path)
    events = _run(_config(max_steps=7), tmp_path)
    assert events[0].values["resumed_from"] == "checkpoint at step 4"
    assert events[0].step == 4
    assert events[-1].step == 7


def test_closing_the_generator_keeps_a_checkpoint(tmp_path):
    run = train(_config(max_steps=100, checkpoint_every=1000), tmp_path, minutes=10, stream_factory=standin_stream)
    for event in run:
        if event.kind == "step" and event.step >= 2:
            break
    run.close()
    events = _run(_config(max_steps=3), tmp_path)
    assert events[0].step == 2


def test_resume_with_another_model_is_refused(tmp_path):
    _run(_config(max_steps=1), tmp_path)
    other = TINY_MODEL.__class__(channels=(4, 4, 8, 8, 8), attention_heads=2)
    with pytest.raises(ModelError, match="different model configuration"):
        _run(_config(model=other), tmp_path)


def test_init_from_weights(tmp_path):
    _run(_config(max_steps=3), tmp_path / "a")
    events = _run(_config(max_steps=2), tmp_path / "b", init=tmp_path / "a" / "latest.safetensors")
    assert events[0].values["resumed_from"].startswith("weights")


def test_training_seeds_cannot_overlap_evaluation_seeds():
    with pytest.raises(ModelError, match="train_seed"):
        _config(train_seed=5)
    with pytest.raises(ModelError, match="val_seed"):
        _config(val_seed=2_000_000)


def test_learning_rate_warms_up_then_decays():
    config = _config(lr=1.0, min_lr_ratio=0.1, warmup_steps=10)
    assert learning_rate(config, 0.0, 0) == pytest.approx(0.1)
    assert learning_rate(config, 0.0, 50) == pytest.approx(1.0)
    assert learning_rate(config, 0.5, 50) == pytest.approx(0.55)
    assert learning_rate(config, 1.0, 50) == pytest.approx(0.1)


def test_training_with_a_loader_worker_process(tmp_path):
    # The worker is spawned (a forked one can deadlock in OpenCV's thread pool); the factory must pickle.
    events = _run(_config(max_steps=2, loader_workers=1), tmp_path)
    assert events[-1].step == 2


def test_cancel_flag_stops_training_and_keeps_a_checkpoint(tmp_path):
    steps_seen = []

    def cancel() -> bool:
        return len(steps_seen) >= 1

    run = train(
        _config(max_steps=100, checkpoint_every=1000, log_every=1),
        tmp_path,
        minutes=10,
        stream_factory=standin_stream,
        cancel=cancel,
    )
    with pytest.raises(CancelledError):
        for event in run:
            if event.kind == "step":
                steps_seen.append(event.step)
    assert (tmp_path / "checkpoint.pt").exists()
    assert _run(_config(max_steps=2), tmp_path)[0].step == 1


def test_resume_after_a_generator_change_revalidates_and_resets_best(tmp_path, monkeypatch):
    import veerdesk.ml.train as train_module

    monkeypatch.setattr(train_module, "synth_crop_stream", lambda seed, crop, **_: standin_stream(seed, crop))
    monkeypatch.setattr(train_module, "generator_fingerprint", lambda: "old")
    list(train(_config(max_steps=3), tmp_path, minutes=10))
    monkeypatch.setattr(train_module, "generator_fingerprint", lambda: "new")
    events = list(train(_config(max_steps=4), tmp_path, minutes=10))
    assert [e.kind for e in events[:2]] == ["start", "validation"]
    assert events[1].values["improved"] is True
    _, _, card = load_model(tmp_path / "latest.safetensors")
    assert [s["sha256"] for s in card["generator_sources"]] == ["old", "new"]


def test_training_records_its_device_and_refuses_a_missing_gpu(tmp_path, monkeypatch):
    events = _run(_config(device="cpu"), tmp_path / "cpu")
    assert events[0].values["device"] == "cpu"
    card = json.loads((tmp_path / "cpu" / "latest.json").read_text())["card"]
    assert card["train_config"]["device"] == "cpu"

    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelError, match="no CUDA GPU"):
        _run(_config(device="cuda"), tmp_path / "cuda")
    assert not (tmp_path / "cuda" / "checkpoint.pt").exists()
    with pytest.raises(ModelError, match="device must be"):
        _config(device="gpu")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("batch_size", 0, "batch_size must be a whole number ≥ 1, not 0"),  # once: a run that never finished a step
    ("crop", 0, "crop must be a whole number ≥ 32, not 0"),  # once: a RuntimeError deep inside a convolution
    ("val_every", 2.5, "val_every must be a whole number ≥ 1, not 2.5"),
    ("max_steps", 0, "max_steps must be a whole number ≥ 1 (or absent), not 0"),
    ("lr", -1, "lr must be a number > 0, not -1"),  # once: torch's "Invalid learning rate"
    ("lr", "fast", "lr must be a number > 0, not 'fast'"),
    ("weight_decay", -0.1, "weight_decay must be a number ≥ 0"),
    ("min_lr_ratio", 2.0, "min_lr_ratio must lie in [0, 1]"),
    ("loader_workers", -1, "loader_workers must be a whole number ≥ 0"),
])
def test_a_bad_training_setting_is_refused_by_name_before_anything_runs(key, value, message):
    with pytest.raises(ModelError, match=re.escape(message)):
        TrainConfig.from_dict({key: value})


def test_every_shipped_training_config_loads():
    from pathlib import Path

    from veerdesk.ml.data import TRAIN_SEED_MIN
    from veerdesk.ml.train import load_train_config

    configs = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.json"))
    assert configs
    for path in configs:
        config = load_train_config(path)
        assert config.train_seed >= TRAIN_SEED_MIN > config.val_seed, path.name
        assert config.device in ("auto", "cpu", "cuda"), path.name


def test_the_configs_that_continue_the_shipped_weights_describe_them():
    # README's "continue training" command and scripts/gpu-train.sh's finetune config must match the
    # weights in resources/models, or --init refuses them.
    from pathlib import Path

    from veerdesk.ml.model import ModelConfig
    from veerdesk.ml.train import load_train_config
    from veerdesk.ml.weights import default_weights_path, read_card

    root = Path(__file__).resolve().parents[2]
    shipped = ModelConfig.from_dict(read_card(default_weights_path())["config"])
    for name in ("train-small-stage5-5class.json", "train-gpu-finetune.json", "train-gpu-balanced.json",
                 "train-gpu-stage6.json", "train-gpu-stage6b.json",
                 "train-small-stage7-cpu.json", "train-small-stage8-cpu.json", "train-small-stage8a-cpu.json",
                 "train-gpu-stage9.json", "train-gpu-stage9s.json", "train-gpu-stage9b.json", "train-gpu-stage9c.json",
                 "train-gpu-stage10.json", "train-gpu-stage10i.json", "train-gpu-stage11.json"):
        assert load_train_config(root / "configs" / name).model == shipped, name


def test_accumulated_steps_see_every_micro_batch_and_frozen_norms_keep_their_statistics(tmp_path):
    import torch

    from veerdesk.ml.model import build_model
    from veerdesk.ml.weights import save_weights

    seen = []

    def counting_stream(seed, crop):
        stream = standin_stream(seed, crop)
        while True:
            seen.append(1)
            yield next(stream)

    start = build_model(TINY_MODEL)
    save_weights(start, tmp_path / "start.safetensors", card={})
    config = _config(max_steps=3, accumulate=3, freeze_norm_stats=True, val_every=100, checkpoint_every=100)
    events = list(train(config, tmp_path / "run", minutes=10, stream_factory=counting_stream,
                        init=tmp_path / "start.safetensors"))
    assert events[-1].step == 3
    # 3 optimizer steps x 3 micro-batches x batch 2 crops, plus the 2 validation crops.
    assert len(seen) >= 3 * 3 * 2 + 2
    trained, _, card = load_model(tmp_path / "run" / "latest.safetensors", inference=False)
    assert card["batch_size"] == 6
    norms = [(name, b) for name, b in trained.state_dict().items() if name.endswith("running_mean")]
    before = dict(start.state_dict())
    assert norms and all(torch.equal(b, before[name]) for name, b in norms)
    with pytest.raises(ModelError, match="accumulate"):
        _config(accumulate=0)


def test_snapshots_keep_every_checkpoint_and_the_coarse_share_reaches_the_generator(tmp_path, monkeypatch):
    import veerdesk.ml.train as train_module

    shares = []

    def recording_stream(seed, crop, classes=3, coarse_share=0.0, coarse_levels="sheet", plotter_share=0.0,
                         family_share=0.0):
        shares.append((coarse_share, plotter_share, family_share))
        return standin_stream(seed, crop)

    monkeypatch.setattr(train_module, "synth_crop_stream", recording_stream)
    config = _config(max_steps=4, checkpoint_every=2, keep_snapshots=True, coarse_share=0.3, plotter_share=0.2,
                     family_share=0.1)
    events = list(train(config, tmp_path, minutes=10))
    assert events[-1].step == 4
    assert shares and set(shares) == {(0.3, 0.2, 0.1)}  # validation crops and training crops alike
    snapshots = sorted(p.name for p in tmp_path.glob("step-*.safetensors"))
    assert snapshots == ["step-000002.safetensors", "step-000004.safetensors"]
    _, _, card = load_model(tmp_path / snapshots[0])
    assert card["steps"] == 2 and "30% of them coarse captures" in card["generator"]
    assert "20% with plotting-software dashes" in card["generator"] and "10% with curve families" in card["generator"]
    with pytest.raises(ModelError, match="coarse_share"):
        _config(coarse_share=-0.1)
    with pytest.raises(ModelError, match="plotter_share"):
        _config(plotter_share=1.5)
    with pytest.raises(ModelError, match="family_share"):
        _config(family_share=2.0)
    with pytest.raises(ModelError, match="coarse_levels must be one of sheet, window"):
        _config(coarse_levels="page")


def test_a_loader_worker_failing_while_stopping_is_reported_not_raised():
    import pytest

    from veerdesk.ml.train import stop_loader_workers

    class AbortingWorkers:
        def _shutdown_workers(self):
            raise RuntimeError("DataLoader worker (pid 1) is killed by signal: Aborted.")

    class QuietWorkers:
        stopped = False

        def _shutdown_workers(self):
            self.stopped = True

    with pytest.warns(RuntimeWarning, match="weights were saved first"):
        assert "Aborted" in stop_loader_workers(AbortingWorkers())
    quiet = QuietWorkers()
    assert stop_loader_workers(quiet) is None and quiet.stopped
    assert stop_loader_workers(iter([])) is None  # in-process batches have no workers to stop
