"""Usage: python bench/refresh_card_eval.py --why TEXT [--generated-only] [--same-style SEED:COUNT] [--wrap SEED:COUNT]
       [--dense SEED:COUNT [--dense-only]] [--plot SEED:COUNT [--plot-only]] [WEIGHTS]

Re-measure a model card's held-out figures for the weights as they are, after a change to the digitize
path (tracer, segmentation) that moves them. The weights file and its SHA-256 stay untouched.

- ``heldout_eval``: the card's generated pages, with the seeds and page size it names. ``veerdesk eval
  --pages N --seed S`` must go on reproducing the card, so this is re-measured whenever the tracer changes.
- ``foreign_eval`` (and ``foreign_eval_same_style`` / ``foreign_eval_wrap`` / ``foreign_eval_dense``, or
  with ``--same-style`` / ``--wrap`` / ``--dense SEED:COUNT`` on those pages; ``--dense-only`` measures that
  section alone):
  bench_foreign_style.py's pages named in the card, through the product path. With
  ``--generated-only`` (after a change to the generator alone: the foreign renderer draws its pages by
  itself) it is left as it was.
- ``plot_eval``: bench_plot_library_style.py's matplotlib pages (``--plot SEED:COUNT``, or the card's own
  pages when it has the section). ``--plot-only`` measures that section alone, to add it to a card whose other
  figures are current.
- ``selection`` is left as measured when the weights were chosen: it records that choice, made with the
  tracer of its day.

Each refresh is appended to the card's ``reevaluated`` list (date, reason), and the markdown card is
rendered again. WEIGHTS defaults to the shipped ``resources/models/veernet-small.safetensors``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foreign_style import foreign_eval  # noqa: E402

from veerdesk.core.atomic import atomic_write_text  # noqa: E402
from veerdesk.inference import segment_for_eval, trace_curves  # noqa: E402
from veerdesk.ml.evaluate import evaluate_pages, format_report  # noqa: E402
from veerdesk.ml.export import model_card_markdown  # noqa: E402
from veerdesk.ml.model import ModelConfig  # noqa: E402
from veerdesk.ml.provenance import generator_fingerprint  # noqa: E402
from veerdesk.ml.weights import card_path, default_weights_path, load_model, read_card  # noqa: E402


def card_pages(card: dict, section: str) -> tuple[int, int, str]:
    """(first seed, page count, note) of the foreign pages a card section names in its ``about``."""
    seeds = re.search(r"seeds (\d+)-(\d+) \(([^)]*)\)", card[section]["about"])
    if seeds is None:
        raise SystemExit(f"the card's {section} does not name its page seeds; re-export instead")
    first, last = int(seeds.group(1)), int(seeds.group(2))
    return first, last - first + 1, seeds.group(3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="?", default=None)
    parser.add_argument("--why", required=True, help="what changed in the digitize path")
    parser.add_argument("--generated-only", action="store_true",
                        help="re-measure the generated pages only (the generator changed, the digitize path did not)")
    parser.add_argument("--wrap", metavar="SEED:COUNT", default=None,
                        help="(re)measure the card's foreign_eval_wrap on these bench_foreign_style.py --wrap pages"
                             " (otherwise it is re-measured on its own pages, if the card has it)")
    parser.add_argument("--same-style", metavar="SEED:COUNT", default=None,
                        help="(re)measure the card's foreign_eval_same_style on these bench_foreign_style.py "
                             "--same-style pages (otherwise it is re-measured on its own pages with foreign_eval)")
    parser.add_argument("--dense", metavar="SEED:COUNT", default=None,
                        help="(re)measure the card's foreign_eval_dense on these bench_foreign_style.py --dense pages"
                             " (otherwise it is re-measured on its own pages, if the card has it)")
    parser.add_argument("--dense-only", action="store_true", help="measure foreign_eval_dense alone (needs --dense)")
    parser.add_argument("--plot", metavar="SEED:COUNT", default=None,
                        help="(re)measure the card's plot_eval on these bench_plot_library_style.py pages")
    parser.add_argument("--plot-only", action="store_true", help="measure plot_eval alone (needs --plot)")
    args = parser.parse_args()
    if args.plot_only and not args.plot:
        parser.error("--plot-only needs --plot SEED:COUNT")
    if args.dense_only and not args.dense:
        parser.error("--dense-only needs --dense SEED:COUNT")
    if args.dense_only and args.plot_only:
        parser.error("--dense-only and --plot-only each measure one section alone: run them one after the other")
    torch.set_num_threads(2)
    weights = Path(args.weights) if args.weights else default_weights_path()
    document = read_card(weights)
    card = document["card"]
    model, _, _ = load_model(weights)  # checks the hash and the config before anything is measured

    if not args.dense_only and (args.plot or ("plot_eval" in card and not args.generated_only)):
        from bench_plot_library_style import CARD_NOTE, plot_eval

        first, count = (int(v) for v in args.plot.split(":")) if args.plot else card_pages(card, "plot_eval")[:2]
        card["plot_eval"] = plot_eval(model, first, count, CARD_NOTE)
    heldout = None
    if args.dense_only:
        first, count = (int(v) for v in args.dense.split(":"))
        card["foreign_eval_dense"] = foreign_eval(model, first, count, "not used for selection", dense=True)
    elif not args.plot_only:
        heldout = refresh_generated_and_foreign(card, model, args)
    card.setdefault("reevaluated", []).append({"date": time.strftime("%Y-%m-%d", time.gmtime()), "why": args.why})

    atomic_write_text(card_path(weights), json.dumps(document, indent=2, sort_keys=True) + "\n", keep_backup=False)
    class_names = ModelConfig.from_dict(document["config"]).class_names
    atomic_write_text(weights.with_suffix(".md"),
                      model_card_markdown(weights.name, card, document["sha256"], class_names), keep_backup=False)
    if heldout is not None:
        print(format_report(heldout))
    for section in ("foreign_eval", "foreign_eval_dense", "plot_eval"):
        print(section, json.dumps(card.get(section, {}).get("groups", {}).get("all curves", {})))


def refresh_generated_and_foreign(card: dict, model, args: argparse.Namespace) -> dict:
    """Re-measure the card's generated pages and (unless ``--generated-only``) its foreign sections."""
    old = card["heldout_eval"]
    width, height = old["page_size"]
    heldout = evaluate_pages(model, pages=old["pages"], seed=old["seeds"][0], width=width, height=height,
                             segmenter=segment_for_eval, tracer=trace_curves)
    card["heldout_eval"] = heldout
    card["heldout_generator_sha256"] = generator_fingerprint()  # the pages are drawn anew: say by which generator
    if "foreign_eval" in card and not args.generated_only:
        first, count, note = card_pages(card, "foreign_eval")
        card["foreign_eval"] = foreign_eval(model, first, count, note)
    # The variant foreign sections: re-measured on the pages asked for, else on their own pages if the card has them.
    for section, asked, kind in (("foreign_eval_same_style", args.same_style, {"same_style": True}),
                                 ("foreign_eval_wrap", args.wrap, {"wrap": True}),
                                 ("foreign_eval_dense", args.dense, {"dense": True})):
        if asked:
            first, count = (int(v) for v in asked.split(":"))
        elif section in card and not args.generated_only:
            first, count, _ = card_pages(card, section)
        else:
            continue
        card[section] = foreign_eval(model, first, count, "not used for selection", **kind)
    return heldout


if __name__ == "__main__":
    main()
