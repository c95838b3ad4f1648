"""Usage: python bench/export_shipped_model.py [RUN] [OUT] [EXTRA.json] [--candidates PATH ...]

Choose the weights to ship and export them with a held-out card.

- **Selection** (seeds 500-531, 32 pages of 2000x3000): median recovered-curve R² through the product's
  tiled segmentation and tracer, ties broken by the share of curves with R² >= 0.9. Candidates are RUN's
  best and latest checkpoints, plus any --candidates (e.g. the weights shipped now, so that a run that does
  not beat them is not exported, or checkpoints of other runs). A winning checkpoint of another run folder
  (``DIR/best.safetensors`` or ``DIR/latest.safetensors``) is exported from that folder; if the shipped
  weights win, nothing is exported.
- **Card** (seeds 0-23, 24 pages): pixel scores and recovered curves of the winner (``veerdesk eval --pages
  24 --seed 0`` reproduces it). EXTRA.json, if given, is merged into the card (lineage the run folder does
  not know, e.g. how its start weights were made); its optional ``lineage_by_run`` maps a run folder to
  the lineage text of weights exported from it.

Selection pages and card pages never overlap, and both lie below the training seeds.
"""
import json
import os
import sys

import torch

from veerdesk.inference import segment_for_eval, trace_curves
from veerdesk.ml.evaluate import evaluate_pages, format_report
from veerdesk.ml.export import export_run
from veerdesk.ml.weights import load_model

SELECTION_SEED, SELECTION_PAGES = 500, 32
CARD_PAGES = 24

# Positional arguments come before --candidates (a candidate may be the OUT path itself: the shipped weights).
cut = sys.argv.index("--candidates") if "--candidates" in sys.argv else len(sys.argv)
args, extra_candidates = sys.argv[1:cut], sys.argv[cut + 1:]
run = args[0] if len(args) > 0 else "runs/train1"
out = args[1] if len(args) > 1 else "resources/models/veernet-small.safetensors"
extra = json.load(open(args[2], encoding="utf-8")) if len(args) > 2 else {}
torch.set_num_threads(min(2, os.cpu_count() or 1))

candidates = {which: f"{run}/{which}.safetensors" for which in ("best", "latest")
              if os.path.exists(f"{run}/{which}.safetensors")}
candidates |= {path: path for path in extra_candidates}
scores = {}
for name, path in candidates.items():
    model, _, card = load_model(path)
    report = evaluate_pages(model, pages=SELECTION_PAGES, seed=SELECTION_SEED, segmenter=segment_for_eval,
                            tracer=trace_curves)
    summary = report["curves_by_group"]["all curves"]
    scores[name] = {"steps": card.get("steps"), "median_r2": summary["median_r2"],
                    "share_r2_0.9": summary.get("share_r2_0.9"), "median_coverage": summary["median_coverage"],
                    "strict_f1_solid": report["pixel"]["solid"]["f1"],
                    "strict_f1_non_solid": report["pixel"]["non-solid"]["f1"]}
    print(name, scores[name], flush=True)
chosen = max(scores, key=lambda k: (round(scores[k]["median_r2"], 3), scores[k]["share_r2_0.9"] or 0.0))
print(json.dumps({"chosen": chosen}))
chosen_path = candidates[chosen]
which = os.path.basename(chosen_path).removesuffix(".safetensors")
if which not in ("best", "latest") or os.path.abspath(chosen_path) == os.path.abspath(out):
    print(f"{chosen} is not a run checkpoint (the shipped weights?): nothing exported")
    sys.exit(0)
run = os.path.dirname(chosen_path)
lineage_by_run = extra.pop("lineage_by_run", {})
if run in lineage_by_run:
    extra["lineage"] = lineage_by_run[run]
extra |= {"selection": {"rule": f"highest median recovered-curve R² (ties: share >= 0.9) on pages seeds "
                                 f"{SELECTION_SEED}-{SELECTION_SEED + SELECTION_PAGES - 1} (2000x3000) through "
                                 "the product's tiled segmentation and tracer",
                        "scores": scores, "chosen": chosen}}
card = export_run(run, out, which=which, pages=CARD_PAGES, seed=0, segmenter=segment_for_eval, tracer=trace_curves,
                  card_extra=extra)
print(format_report(card["heldout_eval"]))
print(json.dumps({"chosen": chosen, "steps": card["steps"]}))
