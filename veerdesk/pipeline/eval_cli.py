"""`veerdesk eval`: the ml layer's evaluation with the real tracer plugged in, so recovered-curve R² and
coverage are reported beside the pixel metrics (ml may not import inference; this layer may)."""

from __future__ import annotations

import argparse


def run_eval(args: argparse.Namespace) -> int:
    from veerdesk.inference import trace_curves
    from veerdesk.ml.cli_entry import run_eval as run_ml_eval

    return run_ml_eval(args, tracer=trace_curves)
