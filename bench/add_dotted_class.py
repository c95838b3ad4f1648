"""Start weights for a four-class model from three-class ones: the dotted class begins as a copy of the
non-solid class, so training starts from the parent's behaviour (dotted and non-solid tie; argmax keeps
non-solid) and only has to learn to tell dots from dashes.

    python bench/add_dotted_class.py PARENT.safetensors OUT.safetensors
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veerdesk.core.classes import CLASS_SCHEMES, DOTTED, NON_SOLID  # noqa: E402
from veerdesk.ml.model import ModelConfig, build_model  # noqa: E402
from veerdesk.ml.weights import load_model, save_weights  # noqa: E402


def main(parent: str, out: str) -> None:
    model, config, card = load_model(parent, inference=False)
    if config.class_names != CLASS_SCHEMES[3]:
        raise SystemExit(f"{parent} is not a three-class model")
    wider = build_model(ModelConfig.from_dict({**config.to_dict(), "classes": 4, "class_names": list(CLASS_SCHEMES[4])}))
    state, target = model.state_dict(), wider.state_dict()
    per_class = config.stem_stride**2  # the head predicts every sub-pixel of each stem cell per class
    for name, value in state.items():
        if name.startswith("head.classify."):
            grown = target[name].clone()
            grown[: value.shape[0]] = value
            grown[DOTTED * per_class : (DOTTED + 1) * per_class] = value[NON_SOLID * per_class : (NON_SOLID + 1) * per_class]
            target[name] = grown
        else:
            target[name] = value
    wider.load_state_dict(target)
    save_weights(wider, out, card={"parent": parent, "parent_card_steps": card.get("steps"),
                                   "note": "dotted class initialised as a copy of non-solid"})
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
