from ml_standin import TINY_MODEL, standin_page, standin_stream

from veerdesk.ml.export import export_run
from veerdesk.ml.train import TrainConfig, train
from veerdesk.ml.weights import card_path, load_model


def test_export_writes_checked_weights_with_a_card_and_markdown(tmp_path):
    config = TrainConfig(
        model=TINY_MODEL, crop=64, batch_size=2, val_crop=64, val_crops=2, val_every=2, loader_workers=0, max_steps=2
    )
    list(train(config, tmp_path / "run", minutes=5, stream_factory=standin_stream))
    target = tmp_path / "ship" / "veernet-test.safetensors"
    card = export_run(tmp_path / "run", target, pages=2, width=64, height=96, page_factory=standin_page)
    _, _, loaded_card = load_model(target)
    assert loaded_card["steps"] == 2 == card["steps"]
    assert loaded_card["heldout_eval"]["pages"] == 2
    assert "hardware" in loaded_card and "train_seed_range" in loaded_card
    markdown = target.with_suffix(".md").read_text()
    assert loaded_card["parameters"] > 0 and "SHA-256" in markdown
    assert card_path(target).exists()
