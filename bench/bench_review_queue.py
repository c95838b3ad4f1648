"""How far to trust the review queue: does low confidence point at the wrongly traced samples?

Held-out generated pages are segmented through the product path (``segment_for_eval``, what ``veerdesk
digitize`` runs) and traced. A traced depth sample is *wrong* when it lies more than 5 % of the track
width from the truth curve (display columns, so a sample on the wrong wrap scale counts too). The queue
shows samples whose confidence is below 0.5 (the app's and the report's threshold). Printed: the share of
wrong samples, the share flagged, recall (wrong samples the queue shows) and precision (flagged samples
that are wrong), with all flags, with each one left out, and with none, in the same run. The flags:
``trace.flag_crossings`` (curves of one class group coming close), ``trace.flag_shared_ink`` (curves of
different class groups traced along the same ink) and ``trace.flag_border_riding`` (a trace running along
the track's border).

    python bench/bench_review_queue.py [--weights W] [--pages 8] [--seed 500]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import veerdesk.inference.trace as trace  # noqa: E402
from veerdesk.inference import segment_for_eval  # noqa: E402
from veerdesk.ml.weights import load_model  # noqa: E402
from veerdesk.synth import generate_page  # noqa: E402

LOW = 0.5
WRONG_SHARE_OF_WIDTH = 0.05


def tally(page, traces, counts: dict[str, int]) -> None:
    for _, track, curve in page.layout.curves():
        got = traces[curve.mnemonic]
        truth_x = track.display_columns(page.truth[curve.mnemonic], curve)
        got_x = track.display_columns(got.value, curve)
        present = got.present & np.isfinite(truth_x)
        wrong = present & (np.abs(truth_x - got_x) > WRONG_SHARE_OF_WIDTH * track.width)
        flagged = present & (got.confidence < LOW)
        counts["present"] += int(present.sum())
        counts["wrong"] += int(wrong.sum())
        counts["flagged"] += int(flagged.sum())
        counts["both"] += int((wrong & flagged).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--pages", type=int, default=8)
    parser.add_argument("--seed", type=int, default=500)
    args = parser.parse_args()
    model, _, _ = load_model(args.weights)
    classes = model.config.classes
    flags = ("flag_crossings", "flag_shared_ink", "flag_border_riding")
    originals = {name: getattr(trace, name) for name in flags}

    def off(*_args, **_kwargs) -> None:
        return None

    variants = {"all flags": set(flags)}
    variants.update({f"without {name[5:]}": set(flags) - {name} for name in flags})
    variants["none (baseline)"] = set()
    counts = {name: dict.fromkeys(("present", "wrong", "flagged", "both"), 0) for name in variants}
    try:
        for seed in range(args.seed, args.seed + args.pages):
            page = generate_page(seed, width=2000, height=3000)
            class_map, confidence = segment_for_eval(model, page.image)
            for name, used in variants.items():
                for flag in flags:
                    setattr(trace, flag, originals[flag] if flag in used else off)
                tally(page, trace.trace_curves(class_map, confidence, page.layout, classes=classes), counts[name])
            print(f"page {seed} done", file=sys.stderr)
    finally:
        for flag in flags:
            setattr(trace, flag, originals[flag])
    print(f"{args.pages} pages from seed {args.seed}; wrong = more than {WRONG_SHARE_OF_WIDTH:.0%} of the track "
          f"width off; flagged = confidence < {LOW}")
    for name, c in counts.items():
        n = max(c["present"], 1)
        print(f"  {name:26s} samples {c['present']:8d}  wrong {c['wrong'] / n:.3f}  flagged {c['flagged'] / n:.3f}  "
              f"recall {c['both'] / max(c['wrong'], 1):.3f}  precision {c['both'] / max(c['flagged'], 1):.3f}")


if __name__ == "__main__":
    main()
