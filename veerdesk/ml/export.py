"""Export a training run's weights for shipping: held-out evaluation + model card (JSON and markdown).

    python -m veerdesk.ml.export --run runs/train1 --out resources/models/veernet-small.safetensors \
        [--which best|latest] [--pages 8] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

from veerdesk.core.atomic import atomic_write_text
from veerdesk.core.classes import CLASS_SCHEMES
from veerdesk.core.errors import ModelError, VeerDeskError
from veerdesk.ml.evaluate import DEFAULT_PAGE_SIZE, evaluate_pages, format_report
from veerdesk.ml.model import CLASS_NAMES, count_parameters
from veerdesk.ml.provenance import generator_fingerprint
from veerdesk.ml.weights import load_model, save_weights

TARGETS = (
    ("strict F1 solid", ("pixel", "solid", "f1"), 0.85),
    ("strict F1 non-solid", ("pixel", "non-solid", "f1"), 0.85),
    ("tolerant F1 solid", ("pixel", "solid", "tolerant_f1"), 0.95),
    ("tolerant F1 non-solid", ("pixel", "non-solid", "tolerant_f1"), 0.95),
    ("strict F1 background", ("pixel", "background", "f1"), 0.99),
    ("median R² all curves (issue 6)", ("curves_by_group", "all curves", "median_r2"), 0.99),
    ("median coverage all curves (issue 6)", ("curves_by_group", "all curves", "median_coverage"), 0.95),
    ("median R² solid curves", ("curves_by_group", "style solid", "median_r2"), 0.99),
    ("median R² dashed curves", ("curves_by_group", "style dashed", "median_r2"), 0.97),
    ("median R² dotted curves", ("curves_by_group", "style dotted", "median_r2"), 0.97),
    ("median R² dash-dot curves", ("curves_by_group", "style dashdot", "median_r2"), 0.97),
)


def target_lines(heldout: dict[str, Any]) -> list[str]:
    """One markdown line per target: measured value, goal, met or not."""
    lines = []
    for name, keys, goal in TARGETS:
        value: Any = heldout
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            lines.append(f"- {name}: not measured (goal ≥ {goal})")
        else:
            lines.append(f"- {name}: {value:.3f} (goal ≥ {goal}) — {'met' if value >= goal else 'NOT met'}")
    return lines


# Groups that split a section's curves another way than by house style: listed after the house styles.
SPLIT_GROUPS = ("in a same-style pair", "own style", "with a backup scale", "no backup scale",
                "dashdot", "dashed", "dotted", "solid")


def ordered_groups(groups: dict[str, Any]) -> list[str]:
    """A section's groups in the order the card shows them, whatever order the JSON file keeps them in (it is
    written with sorted keys): all curves, the house styles by name, then the other splits."""
    houses = sorted(g for g in groups if g != "all curves" and g not in SPLIT_GROUPS)
    return [g for g in ("all curves", *houses, *SPLIT_GROUPS) if g in groups]


def foreign_lines(foreign: dict[str, Any] | None,
                  title: str = "Pages from a renderer that is not our generator") -> list[str]:
    """The card's section on pages drawn by a renderer that is not our generator (bench_foreign_style.py)."""
    if not foreign:
        return []
    lines = [f"## {title}", "", foreign.get("about", ""), "", "```"]
    groups = foreign.get("groups", {})
    width = max([16, *(len(group) for group in groups)])
    for group in ordered_groups(groups):
        row = groups[group]
        lines.append(f"{group:{width}s} n={row['curves']:<4d} median R² {row['median_r2']:.4f} coverage "
                     f"{row['median_coverage']:.3f}  R² ≥ 0.9: {row['share_r2_0.9']:.0%}, ≥ 0.99: {row['share_r2_0.99']:.0%}")
    return [*lines, "```", ""]


def model_card_markdown(name: str, card: dict[str, Any], digest: str, class_names: tuple[str, ...] = CLASS_NAMES) -> str:
    heldout = card.get("heldout_eval", {})
    if tuple(class_names) == CLASS_SCHEMES[4]:
        labels = ["labelling each pixel background / solid curve / dashed or dash-dot curve / dotted curve.",
                  "Scores below fold dotted into non-solid, as the seed's three classes (and the truth) have it."]
    elif tuple(class_names) == CLASS_SCHEMES[5]:
        labels = ["labelling each pixel background / solid curve / dashed curve / dotted curve / dash-dot curve.",
                  "Scores below fold dotted and dash-dot into non-solid, as the seed's three classes (and the",
                  "truth) have it."]
    else:
        labels = [f"labelling each pixel {' / '.join(class_names)} (non-solid: dashed, dotted, dash-dot)."]
    lines = [
        f"# {name}",
        "",
        "VeerNet-small: residual encoder-decoder (space-to-depth stem, 5 levels, BatchNorm, one transformer",
        "layer at the bottleneck, sub-pixel head)",
        *labels,
        "Trained only on VeerDesk's synthetic generator.",
        "",
        f"- SHA-256 of the weights: `{digest}`",
        f"- Parameters: {card.get('parameters')}",
        f"- Generator: {card.get('generator')}",
        f"- Generator source SHA-256 per training segment: {card.get('generator_sources') or 'not recorded'}",
        f"- Generator source SHA-256 for the held-out pages: {card.get('heldout_generator_sha256')}",
        f"- Training seeds: {card.get('train_seed_range')}",
        f"- Validation during training: {card.get('validation')}",
        f"- Steps: {card.get('steps')} × batch {card.get('batch_size')} crops of {card.get('crop')} px",
        f"- Wall time: {card.get('wall_time_s')} s; precision {card.get('precision')}",
        f"- Hardware: {card.get('hardware')}",
        f"- Exported: {card.get('exported')}",
        *([f"- Lineage: {card['lineage']}"] if card.get("lineage") else []),
        *[f"- Held-out figures re-measured {r.get('date')} (weights unchanged): {r.get('why')}"
          for r in card.get("reevaluated", [])],
        "",
        "## Held-out synthetic evaluation",
        "",
        "```",
        format_report(heldout) if heldout else "(not evaluated)",
        "```",
        "",
        "## Targets (issue 5) on held-out synthetic pages",
        "",
        *target_lines(heldout),
        "",
        f"Selection between checkpoints: {json.dumps(card.get('selection'))}" if card.get("selection") else "",
        "",
        *foreign_lines(card.get("foreign_eval")),
        *foreign_lines(card.get("foreign_eval_same_style"), "Two curves of one style in a track, on that renderer's pages"),
        *foreign_lines(card.get("foreign_eval_wrap"), "Curves that wrap onto a backup scale, on that renderer's pages"),
        *foreign_lines(card.get("foreign_eval_dense"), "Compressed depth scales (correlation logs), on that renderer's pages"),
        *foreign_lines(card.get("plot_eval"), "Pages plotted with matplotlib (a third renderer)"),
        "Synthetic scores say the model learned the task on the generator's distribution; they do not",
        "measure real scans (see the reality-gap note in docs).",
        "",
    ]
    return "\n".join(lines)


def export_run(
    run_dir: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    which: str = "best",
    pages: int = 8,
    seed: int = 0,
    width: int = DEFAULT_PAGE_SIZE[0],
    height: int = DEFAULT_PAGE_SIZE[1],
    page_factory=None,
    segmenter=None,
    tracer=None,
    card_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate ``run_dir/<which>.safetensors`` on held-out pages and write it to ``out_path`` with its card."""
    source = Path(run_dir) / f"{which}.safetensors"
    if not source.is_file():
        raise ModelError(f"no {which} weights in {run_dir}; has the run validated at least once?")
    model, config, card = load_model(source, inference=False)
    inference_model, _, _ = load_model(source, inference=True)
    heldout = evaluate_pages(
        inference_model,
        pages=pages,
        seed=seed,
        width=width,
        height=height,
        page_factory=page_factory,
        segmenter=segmenter,
        tracer=tracer,
    )
    card = dict(card)
    card["heldout_eval"] = heldout
    if page_factory is None:
        card["heldout_generator_sha256"] = generator_fingerprint()
    card["parameters"] = count_parameters(model)
    card["exported"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    card["exported_from"] = str(source)
    card.update(card_extra or {})
    document = save_weights(model, out_path, card=card)
    atomic_write_text(
        Path(out_path).with_suffix(".md"),
        model_card_markdown(Path(out_path).name, card, document["sha256"], config.class_names),
        keep_backup=False,
    )
    return card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m veerdesk.ml.export", description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="training run folder")
    parser.add_argument("--out", required=True, help="target .safetensors path (card written beside it)")
    parser.add_argument("--which", choices=("best", "latest"), default="best")
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        card = export_run(args.run, args.out, which=args.which, pages=args.pages, seed=args.seed)
    except VeerDeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(format_report(card["heldout_eval"]))
    print(json.dumps({"out": args.out, "steps": card.get("steps")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
