import argparse

import veerdesk.ml.cli_entry as ml_cli
from veerdesk.inference import trace_curves
from veerdesk.pipeline.eval_cli import run_eval


def test_eval_plugs_in_the_real_tracer(monkeypatch):
    seen = {}

    def fake(args, *, segmenter=None, tracer=None):
        seen["tracer"] = tracer
        return 0

    monkeypatch.setattr(ml_cli, "run_eval", fake)
    assert run_eval(argparse.Namespace(weights=None, pages=1, seed=0, json=None)) == 0
    assert seen["tracer"] is trace_curves
