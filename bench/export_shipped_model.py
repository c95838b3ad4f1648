"""Usage: python bench/export_shipped_model.py [RUN] [OUT] [EXTRA.json]

Pick best vs latest of runs/train1 on selection pages (seeds 500-503), export the winner with a
held-out card (seeds 0-7, with recovered-curve R² through veerdesk.inference.trace_curves). EXTRA.json, if
given, is merged into the card (lineage the run folder does not know, e.g. how its start weights were made)."""
import json
import os
import sys

import torch

from veerdesk.inference import trace_curves
from veerdesk.ml.evaluate import evaluate_pages, format_report
from veerdesk.ml.export import export_run
from veerdesk.ml.weights import load_model

run = sys.argv[1] if len(sys.argv) > 1 else "runs/train1"
out = sys.argv[2] if len(sys.argv) > 2 else "resources/models/veernet-small.safetensors"
scores = {}
torch.set_num_threads(1)
for which in ("best", "latest"):
    if not os.path.exists(f"{run}/{which}.safetensors"):
        continue
    model, _, card = load_model(f"{run}/{which}.safetensors")
    report = evaluate_pages(model, pages=4, seed=500)
    f1 = [report["pixel"][c]["f1"] for c in ("solid", "non-solid")]
    scores[which] = {"steps": card["steps"], "strict_f1_solid": f1[0], "strict_f1_non_solid": f1[1], "mean": sum(f1) / 2}
    print(which, scores[which], flush=True)
chosen = max(scores, key=lambda k: scores[k]["mean"])
extra = json.load(open(sys.argv[3], encoding="utf-8")) if len(sys.argv) > 3 else {}
extra |= {"selection": {"rule": "higher mean strict curve F1 on pages seeds 500-503 (2000x3000)", "scores": scores, "chosen": chosen}}
card = export_run(run, out, which=chosen, pages=8, seed=0, tracer=trace_curves, card_extra=extra)
print(format_report(card["heldout_eval"]))
print(json.dumps({"chosen": chosen, "steps": card["steps"]}))
