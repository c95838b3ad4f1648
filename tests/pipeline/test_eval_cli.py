import argparse

import veerdesk.ml.cli_entry as ml_cli
from veerdesk.inference import segment_for_eval, trace_curves
from veerdesk.pipeline.eval_cli import run_eval


def test_eval_plugs_in_the_products_segmentation_and_tracer(monkeypatch):
    seen = {}

    def fake(args, *, segmenter=None, tracer=None):
        seen["tracer"], seen["segmenter"] = tracer, segmenter
        return 0

    monkeypatch.setattr(ml_cli, "run_eval", fake)
    assert run_eval(argparse.Namespace(weights=None, pages=1, seed=0, json=None)) == 0
    assert seen["tracer"] is trace_curves
    assert seen["segmenter"] is segment_for_eval


def test_segment_for_eval_is_the_tiled_product_path():
    import numpy as np

    from veerdesk.ml.model import ModelConfig, build_model, prepare_for_inference

    model = prepare_for_inference(build_model(ModelConfig(channels=(4, 8, 8, 8, 8), attention_heads=2)))
    pixels = np.full((70, 90), 255, np.uint8)
    pixels[30:33, :] = 0
    classes, confidence = segment_for_eval(model, pixels)
    assert classes.shape == confidence.shape == pixels.shape
    assert classes.dtype == confidence.dtype == np.uint8
