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


def test_the_markdown_card_shows_foreign_pages_only_when_measured():
    from veerdesk.ml.export import model_card_markdown

    row = {"curves": 12, "median_r2": 0.9981, "median_coverage": 0.99, "share_r2_0.9": 0.75, "share_r2_0.99": 0.5}
    card = {"foreign_eval": {"about": "pages of another renderer", "groups": {"all curves": row, "coarse scan": row}}}
    text = model_card_markdown("w.safetensors", card, "0" * 64)
    assert "## Pages from a renderer that is not our generator" in text
    assert "coarse scan      n=12   median R² 0.9981 coverage 0.990  R² ≥ 0.9: 75%, ≥ 0.99: 50%" in text
    assert "not our generator" not in model_card_markdown("w.safetensors", {}, "0" * 64)
    assert "Two curves of one style" not in text
    card["foreign_eval_same_style"] = {"about": "pairs", "groups": {"in a same-style pair": row}}
    text = model_card_markdown("w.safetensors", card, "0" * 64)
    assert "## Two curves of one style in a track, on that renderer's pages" in text
    assert "in a same-style pair n=12   median R² 0.9981" in text
    assert "wrap onto a backup scale" not in text
    card["foreign_eval_wrap"] = {"about": "wraps", "groups": {"with a backup scale": row}}
    text = model_card_markdown("w.safetensors", card, "0" * 64)
    assert "## Curves that wrap onto a backup scale, on that renderer's pages" in text
    assert "with a backup scale n=12   median R² 0.9981" in text
    assert "Compressed depth scales" not in text
    card["foreign_eval_dense"] = {"about": "squeezed", "groups": {"tinted paper": row}}
    text = model_card_markdown("w.safetensors", card, "0" * 64)
    assert "## Compressed depth scales (correlation logs), on that renderer's pages" in text
    assert "tinted paper     n=12   median R² 0.9981" in text
    assert "matplotlib" not in text
    card["plot_eval"] = {"about": "plots", "groups": {"mpl 1-bit": row}}
    text = model_card_markdown("w.safetensors", card, "0" * 64)
    assert "## Pages plotted with matplotlib (a third renderer)" in text
    assert "mpl 1-bit        n=12   median R² 0.9981" in text
    # Read back from the JSON file (sorted keys), a section still shows all curves, houses, then splits.
    card["plot_eval"] = {"about": "plots", "groups": {"dashed": row, "mpl default": row, "all curves": row,
                                                      "mpl 1-bit": row}}
    text = model_card_markdown("w.safetensors", card, "0" * 64)
    assert [line.split(" n=")[0].strip() for line in text.split("## Pages plotted with matplotlib")[1].splitlines()
            if " n=" in line] == ["all curves", "mpl 1-bit", "mpl default", "dashed"]
    # A measured section without groups renders its header, not a crash.
    card["foreign_eval_same_style"] = {"about": "pairs", "groups": {}}
    assert "## Two curves of one style" in model_card_markdown("w.safetensors", card, "0" * 64)


def test_the_markdown_card_says_when_and_why_its_figures_were_re_measured():
    from veerdesk.ml.export import model_card_markdown

    card = {"reevaluated": [{"date": "2026-11-28", "why": "gaps bridged along the dashes"}]}
    text = model_card_markdown("w.safetensors", card, "0" * 64)
    assert "- Held-out figures re-measured 2026-11-28 (weights unchanged): gaps bridged along the dashes" in text
    assert "re-measured" not in model_card_markdown("w.safetensors", {}, "0" * 64)
