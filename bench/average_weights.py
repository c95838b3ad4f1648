"""Usage: python bench/average_weights.py OUT_DIR WEIGHTS [WEIGHTS ...]

Uniform average of checkpoints of one network (a "model soup" of one training trajectory): every
parameter and BatchNorm running statistic is the mean over the inputs. Writes OUT_DIR/latest.safetensors
with the first input's card plus an ``averaged_from`` list (paths and SHA-256), so the result can be
selected and exported like a run's checkpoint (bench/export_shipped_model.py). Checkpoints far apart on
different trajectories do not average well; this is meant for checkpoints of one run.

Measured once (selection pages 500-531, product path): averaging stage 6's step-1,600 and last checkpoints
and stage 6b's last gave median recovered R² 0.71 (coverage 0.889), stage 6's and 6b's last 0.69 (0.897),
against 0.74 (0.880) for the step-1,600 checkpoint alone, which stayed shipped.
"""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veerdesk.ml.weights import load_model, save_weights, sha256_of  # noqa: E402


def main(out_dir: str, paths: list[str]) -> None:
    models = [load_model(p, inference=False) for p in paths]
    first, config, card = models[0]
    if any(c != config for _, c, _ in models[1:]):
        raise SystemExit("the checkpoints describe different networks")
    states = [m.state_dict() for m, _, _ in models]
    averaged = {}
    for key, value in states[0].items():
        if value.is_floating_point():
            averaged[key] = torch.stack([s[key].float() for s in states]).mean(0).to(value.dtype)
        else:  # counters (num_batches_tracked): keep the first
            averaged[key] = value
    first.load_state_dict(averaged)
    card = dict(card)
    card["averaged_from"] = [{"path": p, "sha256": sha256_of(p)} for p in paths]
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    document = save_weights(first, Path(out_dir) / "latest.safetensors", card=card)
    print(f"wrote {out_dir}/latest.safetensors (SHA-256 {document['sha256']}) from {len(paths)} checkpoints")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2:])
