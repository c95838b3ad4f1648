"""Entry points for ``veerdesk train``, ``veerdesk eval`` and ``veerdesk export-model`` (wired in cli.py).

Each takes the parsed argparse namespace, prints progress, and returns the exit code; VeerDeskError
propagates so the CLI prints ``error: <message>`` with the error's exit code.

The ml layer may not import ``veerdesk.inference``; cli.py passes ``segmenter``/``tracer`` in, e.g.
``run_eval(args, tracer=veerdesk.inference.trace_curves)`` so the report includes recovered-curve
R² and coverage, and ``segmenter=lambda model, pixels: ...`` wrapping ``run_segmentation`` so the
numbers are those of the real pipeline (default: the plain tiler in veerdesk.ml.evaluate).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from veerdesk.core.atomic import atomic_write_text

DEFAULT_MINUTES = 60.0  # the learning-rate schedule needs a time budget


def run_train(args: Any) -> int:
    """args.config, args.out, args.minutes (None: 60), args.init (optional)."""
    from veerdesk.ml.train import format_event, train

    minutes = DEFAULT_MINUTES if getattr(args, "minutes", None) is None else float(args.minutes)
    for event in train(args.config, args.out, minutes=minutes, init=getattr(args, "init", None)):
        print(format_event(event), flush=True)
    return 0


def run_eval(args: Any, *, segmenter=None, tracer=None) -> int:
    """args.weights (None = shipped), args.pages, args.seed, args.json (optional output path)."""
    from veerdesk.ml.evaluate import evaluate, format_report

    def progress(done: int, total: int) -> None:
        print(f"page {done}/{total}", file=sys.stderr, flush=True)

    report = evaluate(
        getattr(args, "weights", None),
        pages=int(args.pages),
        seed=int(args.seed),
        segmenter=segmenter,
        tracer=tracer,
        progress=progress,
    )
    print(format_report(report))
    json_path = getattr(args, "json", None)
    if json_path:
        atomic_write_text(json_path, json.dumps(report, indent=2) + "\n", keep_backup=False)
    return 0


def run_export(args: Any, *, segmenter=None, tracer=None) -> int:
    """args.run, args.out, args.which ('best'|'latest'), args.pages, args.seed."""
    from veerdesk.ml.evaluate import format_report
    from veerdesk.ml.export import export_run

    card = export_run(
        args.run,
        args.out,
        which=getattr(args, "which", "best"),
        pages=int(args.pages),
        seed=int(args.seed),
        segmenter=segmenter,
        tracer=tracer,
    )
    print(format_report(card["heldout_eval"]))
    return 0
