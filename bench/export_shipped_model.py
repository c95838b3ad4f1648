"""Usage: python bench/export_shipped_model.py [RUN] [OUT] [EXTRA.json] [--candidates PATH ...]

Choose the weights to ship and export them with a held-out card.

- **Selection**: the share of recovered curves with R² >= 0.9, averaged over two page sets, both through
  the product's own segmentation and tracer: 32 generated pages (seeds 500-531, 2000x3000) and 30 pages of
  bench_foreign_style.py's independent renderer (seeds 0-29), so that weights are chosen for pages our
  generator draws *and* for pages it never drew. Ties: the generated pages' median R². When the weights
  shipped now (OUT) are among the candidates they are the incumbent: a challenger replaces them only when a
  paired bootstrap over pages puts it ahead with probability >= 0.8 (``veerdesk.ml.selection``; stage 11h
  replaced stage 9 on a lead of 0.5 points, which the card pages then reversed). Candidates are RUN's
  best and latest checkpoints, plus any --candidates (e.g. the weights shipped now, so that a run that does
  not beat them is not exported, or checkpoints of other runs, snapshots ``step-NNNNNN`` included). A
  winning checkpoint of another run folder is exported from that folder; if the shipped weights win,
  nothing is exported.

  Until stage 9 the rule was the generated pages' median R² alone. That median sits where the R²
  distribution is steepest (half the curves are near 1, many fall between -1 and 0.9), so a few curves
  swing it: a paired bootstrap over pages put stage 9's difference from stage 6 anywhere in
  [-0.39, +0.05], while the share >= 0.9 moved within [-0.05, +0.02]. And the shipped stage 6 had itself
  been chosen on these pages as the best of four, which flatters it there (on the 24 card pages, which
  chose nothing, stage 9 is ahead).
- **Card** (seeds 0-23, 24 pages): pixel scores and recovered curves of the winner (``veerdesk eval --pages
  24 --seed 0`` reproduces it), and its recovered curves on 30 foreign pages the selection did not see
  (seeds 30-59; ``python bench/bench_foreign_style.py --pages 30 --seed 30`` reproduces them), and on 40
  same-style foreign pages (``--same-style``, seeds 0-39: two pens of one style per track, told apart by
  weight; drawn differently from the default pages of those seeds), and on 40 wrap pages (``--wrap``, seeds
  0-39: half the curves on linear scales wrap onto a backup scale), and on 30 pages plotted with matplotlib
  (``bench_plot_library_style.py``, seeds 30-59; its pages 0-29 motivated stage 14). EXTRA.json, if given, is merged into the card (lineage the run folder does
  not know, e.g. how its start weights were made); its optional ``lineage_by_run`` maps a run folder to
  the lineage text of weights exported from it.

Selection pages and card pages never overlap, and both lie below the training seeds.
"""
import json
import os
import sys

import numpy as np
import torch
from bench_foreign_style import foreign_eval, foreign_pages, score_pages
from bench_plot_library_style import CARD_NOTE as PLOT_NOTE
from bench_plot_library_style import plot_eval

from veerdesk.inference import segment_for_eval, trace_curves
from veerdesk.ml.evaluate import evaluate_pages, format_report
from veerdesk.ml.export import export_run
from veerdesk.ml.selection import SWITCH_CONFIDENCE, choose_weights, selection_score
from veerdesk.ml.weights import load_model

SELECTION_SEED, SELECTION_PAGES = 500, 32
FOREIGN_SEED, FOREIGN_PAGES = 0, 30
CARD_PAGES = 24
PLOT_SEED, PLOT_PAGES = 30, 30  # bench_plot_library_style.py pages for the card
SAME_STYLE_PAGES = 40
WRAP_PAGES = 40

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
foreign = foreign_pages(FOREIGN_SEED, FOREIGN_PAGES)
scores, by_page = {}, {}
for name, path in candidates.items():
    model, _, card = load_model(path)
    report = evaluate_pages(model, pages=SELECTION_PAGES, seed=SELECTION_SEED, segmenter=segment_for_eval,
                            tracer=trace_curves, per_page=True)
    summary = report["curves_by_group"]["all curves"]
    foreign_by_page = [[r2 for _, _, r2, _ in score_pages(model, [page])] for page in foreign]
    foreign_r2 = np.array([r2 for page in foreign_by_page for r2 in page])
    generated_by_page = [[np.nan if r2 is None else r2 for r2 in page] for page in report["r2_by_page"]]
    by_page[name] = [generated_by_page, foreign_by_page]
    scores[name] = {"steps": card.get("steps"), "median_r2": summary["median_r2"],
                    "share_r2_0.9": summary.get("share_r2_0.9"), "median_coverage": summary["median_coverage"],
                    "strict_f1_solid": report["pixel"]["solid"]["f1"],
                    "strict_f1_non_solid": report["pixel"]["non-solid"]["f1"],
                    "foreign_curves": int(foreign_r2.size), "foreign_median_r2": float(np.median(foreign_r2)),
                    "foreign_share_r2_0.9": float(np.mean(foreign_r2 >= 0.9))}
    scores[name]["selection_score"] = selection_score(by_page[name])
    print(name, scores[name], flush=True)
incumbent = next((name for name, path in candidates.items() if os.path.abspath(path) == os.path.abspath(out)), None)
chosen, comparisons = choose_weights(by_page, incumbent, tiebreak={k: v["median_r2"] for k, v in scores.items()})
for name, comparison in comparisons.items():
    scores[name]["against_incumbent"] = comparison
print(json.dumps({"chosen": chosen, "incumbent": incumbent, "against_incumbent": comparisons}))
chosen_path = candidates[chosen]
which = os.path.basename(chosen_path).removesuffix(".safetensors")
if os.path.abspath(chosen_path) == os.path.abspath(out):
    print(f"{chosen} is not a run checkpoint (the shipped weights?): nothing exported")
    sys.exit(0)
run = os.path.dirname(chosen_path)
lineage_by_run = extra.pop("lineage_by_run", {})
if run in lineage_by_run:
    extra["lineage"] = lineage_by_run[run]
winner = load_model(chosen_path)[0]
# The winner on foreign pages the selection did not see (seeds 30-59), through the product path.
extra["foreign_eval"] = foreign_eval(winner, FOREIGN_SEED + FOREIGN_PAGES, FOREIGN_PAGES, "not used for selection")
# Two pens of one style per track, told apart by weight: pages the selection never sees.
extra["foreign_eval_same_style"] = foreign_eval(winner, 0, SAME_STYLE_PAGES, "not used for selection",
                                                same_style=True)
# Half the curves wrapping onto a backup scale: pages the selection never sees either.
extra["foreign_eval_wrap"] = foreign_eval(winner, 0, WRAP_PAGES, "not used for selection", wrap=True)
# The default pages' depth scales squeezed to a correlation log's (0.6-1.4 rows per sample): the same seeds.
extra["foreign_eval_dense"] = foreign_eval(winner, FOREIGN_SEED + FOREIGN_PAGES, FOREIGN_PAGES, "not used for selection",
                                           dense=True)
extra["plot_eval"] = plot_eval(winner, PLOT_SEED, PLOT_PAGES, PLOT_NOTE)
extra |= {"selection": {"rule": "highest mean of the shares of curves with R² >= 0.9 on generated pages seeds "
                                 f"{SELECTION_SEED}-{SELECTION_SEED + SELECTION_PAGES - 1} (2000x3000) and on "
                                 f"bench_foreign_style.py pages seeds {FOREIGN_SEED}-{FOREIGN_SEED + FOREIGN_PAGES - 1}"
                                 " (ties: the generated pages' median R²), through the product's segmentation "
                                 "and tracer; the shipped weights, when a candidate, are kept unless a paired "
                                 f"page bootstrap puts a challenger ahead with probability >= {SWITCH_CONFIDENCE}",
                        "scores": scores, "chosen": chosen}}
card = export_run(run, out, which=which, pages=CARD_PAGES, seed=0, segmenter=segment_for_eval, tracer=trace_curves,
                  card_extra=extra)
print(format_report(card["heldout_eval"]))
print(json.dumps({"chosen": chosen, "steps": card["steps"]}))
