"""Start weights for a five-class model from four-class ones: the dash-dot class begins as a copy of the
dashed (non-solid) class, so training starts from the parent's behaviour (dash-dot and dashed tie; argmax
keeps dashed) and only has to learn to tell a dash-dot curve from a dashed one.

    python bench/add_dashdot_class.py PARENT.safetensors OUT.safetensors
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veerdesk.core.classes import CLASS_SCHEMES, DASHDOT, NON_SOLID  # noqa: E402
from veerdesk.ml.model import ModelConfig, build_model  # noqa: E402
from veerdesk.ml.weights import load_model, save_weights  # noqa: E402


def main(parent: str, out: str) -> None:
    model, config, card = load_model(parent, inference=False)
    if config.class_names != CLASS_SCHEMES[4]:
        raise SystemExit(f"{parent} is not a four-class model")
    wider = build_model(ModelConfig.from_dict({**config.to_dict(), "classes": 5, "class_names": list(CLASS_SCHEMES[5])}))
    state, target = model.state_dict(), wider.state_dict()
    per_class = config.stem_stride**2  # the head predicts every sub-pixel of each stem cell per class
    for name, value in state.items():
        if name.startswith("head.classify."):
            grown = target[name].clone()
            grown[: value.shape[0]] = value
            dashed = value[NON_SOLID * per_class : (NON_SOLID + 1) * per_class]
            grown[DASHDOT * per_class : (DASHDOT + 1) * per_class] = dashed
            target[name] = grown
        else:
            target[name] = value
    wider.load_state_dict(target)
    save_weights(wider, out, card={"parent": parent, "parent_card_steps": card.get("steps"),
                                   "note": "dash-dot class initialised as a copy of dashed"})
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
