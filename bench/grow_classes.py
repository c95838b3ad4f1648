"""Start weights for a network with one more class than its parent: the new class's head begins as a copy
of an existing class's, so training starts from the parent's behaviour (the two classes tie and argmax
keeps the old one) and only has to learn what tells them apart. Used by add_dotted_class.py (3 → 4
classes) and add_dashdot_class.py (4 → 5)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from veerdesk.core.classes import CLASS_SCHEMES  # noqa: E402
from veerdesk.ml.model import ModelConfig, build_model  # noqa: E402
from veerdesk.ml.weights import load_model, save_weights  # noqa: E402


def grow_head(parent: str, out: str, *, new_class: int, copy_of: int) -> None:
    model, config, card = load_model(parent, inference=False)
    classes = len(config.class_names)
    if config.class_names != CLASS_SCHEMES.get(classes) or classes + 1 not in CLASS_SCHEMES:
        raise SystemExit(f"{parent}: no scheme with one class more than {list(config.class_names)}")
    if new_class != classes:
        raise SystemExit(f"{parent} has {classes} classes: the new class would be {classes}, not {new_class}")
    names = CLASS_SCHEMES[classes + 1]
    wider = build_model(ModelConfig.from_dict({**config.to_dict(), "classes": classes + 1, "class_names": list(names)}))
    state, target = model.state_dict(), wider.state_dict()
    per_class = config.stem_stride**2  # the head predicts every sub-pixel of each stem cell per class
    for name, value in state.items():
        if name.startswith("head.classify."):
            grown = target[name].clone()
            grown[: value.shape[0]] = value
            grown[new_class * per_class : (new_class + 1) * per_class] = value[copy_of * per_class : (copy_of + 1) * per_class]
            target[name] = grown
        else:
            target[name] = value
    wider.load_state_dict(target)
    note = f"{names[new_class]} class initialised as a copy of {names[copy_of]}"
    save_weights(wider, out, card={"parent": parent, "parent_card_steps": card.get("steps"), "note": note})
    print(f"wrote {out}: {note}")
