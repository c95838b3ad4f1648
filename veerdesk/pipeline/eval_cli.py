"""`veerdesk eval`: the ml layer's evaluation with the product's tiled segmentation and real tracer plugged
in, so recovered-curve R² and coverage are reported beside the pixel metrics and describe what
`veerdesk digitize` does (ml may not import inference; this layer may)."""

from __future__ import annotations

import argparse


def run_eval(args: argparse.Namespace) -> int:
    from veerdesk.inference import segment_for_eval, trace_curves
    from veerdesk.ml.cli_entry import run_eval as run_ml_eval

    return run_ml_eval(args, segmenter=segment_for_eval, tracer=trace_curves)
