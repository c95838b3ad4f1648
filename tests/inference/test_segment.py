import numpy as np
import pytest
import torch
from fake_models import InkModel
from torch import nn

from veerdesk.core.errors import CancelledError, ModelError
from veerdesk.inference import segment
from veerdesk.inference.segment import SegmentationResult, TileDone, choose_settings, run_segmentation, segment_page


class SmallConv(nn.Module):
    """A random 3-layer conv net with a 7-px receptive radius (well inside the margin)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.Conv2d(8, 8, 5, padding=2), nn.ReLU(),
                                 nn.Conv2d(8, 3, 7, padding=3))

    def forward(self, x):
        return self.net(1.0 - x)


def page(h=300, w=260, seed=0):
    rng = np.random.default_rng(seed)
    pixels = np.full((h, w), 255, np.uint8)
    pixels[rng.integers(0, h, 400), rng.integers(0, w, 400)] = 0
    pixels[:, 100:103] = 20
    return pixels


def test_pointwise_model_is_reproduced_exactly_by_the_tiles():
    pixels = page()
    result = run_segmentation(pixels, InkModel().eval(), tile=64, margin=8, device="cpu", precision="fp32")
    assert result.class_map.dtype == np.uint8 and result.class_map.shape == pixels.shape
    assert np.array_equal(result.class_map, (pixels < 128).astype(np.uint8))
    assert result.confidence.dtype == np.uint8 and result.confidence.min() > 200


def test_tiles_are_seamless_for_a_conv_net():
    pixels = page(seed=3)
    model = SmallConv().eval()
    tiled = run_segmentation(pixels, model, tile=64, margin=12, device="cpu", precision="fp32", skip_paper=False,
                             tta="none")
    with torch.no_grad():
        logits = model(torch.from_numpy(pixels).float()[None, None] / 255.0)
    whole = logits[0].argmax(0).numpy().astype(np.uint8)
    assert np.mean(tiled.class_map == whole) > 0.999
    prob = torch.softmax(logits[0], 0).max(0).values.numpy() * 255
    assert np.abs(tiled.confidence.astype(float) - prob).max() <= 1.01


def test_flip_averages_the_page_and_its_mirror_image():
    pixels = page(seed=3)
    model = SmallConv().eval()
    tiled = run_segmentation(pixels, model, tile=64, margin=12, device="cpu", precision="fp32", skip_paper=False,
                             tta="flip")
    x = torch.from_numpy(pixels).float()[None, None] / 255.0
    with torch.no_grad():
        probs = (torch.softmax(model(x), 1) + torch.softmax(model(x.flip(3)), 1).flip(3))[0] / 2
    assert np.mean(tiled.class_map == probs.argmax(0).numpy()) > 0.999
    assert np.abs(tiled.confidence.astype(float) - probs.max(0).values.numpy() * 255).max() <= 1.01
    assert tiled.extra["tta"] == "flip"
    # A model that is not mirror-symmetric labels differently with and without the mirrored view.
    single = run_segmentation(pixels, model, tile=64, margin=12, device="cpu", precision="fp32", skip_paper=False,
                              tta="none")
    assert not np.array_equal(single.confidence, tiled.confidence)


def test_unknown_tta_is_refused():
    with pytest.raises(ValueError, match="test-time augmentation"):
        run_segmentation(page(seed=3), SmallConv().eval(), device="cpu", tta="rotate")


def test_progress_events_then_result_and_blank_tiles_skipped():
    pixels = np.full((200, 200), 255, np.uint8)
    pixels[10:20, 10:20] = 0
    events = list(segment_page(pixels, InkModel().eval(), tile=64, margin=8, device="cpu"))
    tiles, result = events[:-1], events[-1]
    assert all(isinstance(e, TileDone) for e in tiles) and isinstance(result, SegmentationResult)
    assert [e.done for e in tiles] == list(range(1, len(tiles) + 1))
    assert all(e.total == len(tiles) for e in tiles)
    assert result.skipped_tiles == sum(e.skipped for e in tiles) == len(tiles) - 1
    first = tiles[0]
    y0, x0, y1, x1 = first.rect
    assert first.class_tile.shape == (y1 - y0, x1 - x0) and first.class_tile[12, 12] == 1
    assert (result.class_map[40:, 40:] == 0).all() and (result.confidence[40:, 40:] == 255).all()


def test_cancel_stops_between_tiles():
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(CancelledError):
        list(segment_page(page(), InkModel().eval(), tile=64, margin=8, device="cpu", cancel=cancel))
    assert len(calls) == 3


def test_large_pages_use_a_memory_mapped_class_map(monkeypatch):
    monkeypatch.setattr(segment, "MEMMAP_PIXELS", 1000)
    result = run_segmentation(page(), InkModel().eval(), tile=128, margin=8, device="cpu")
    assert isinstance(result.class_map, np.memmap) and isinstance(result.confidence, np.memmap)
    assert np.array_equal(result.class_map, (page() < 128).astype(np.uint8))


def test_bf16_path_gives_the_same_classes_on_clear_input():
    pixels = page(seed=5)
    result = run_segmentation(pixels, InkModel().eval(), tile=64, margin=8, device="cpu", precision="bf16")
    assert result.precision == "bf16"
    assert np.array_equal(result.class_map, (pixels < 128).astype(np.uint8))


def test_device_choice():
    assert choose_settings("cpu", "fp32").device.type == "cpu"
    if not torch.cuda.is_available():
        assert choose_settings("auto").device.type == "cpu"
        with pytest.raises(ModelError, match="CUDA"):
            choose_settings("cuda")


class WideStrokeModel(nn.Module):
    """Labels ink as curve only where the stroke is at least 3 px wide (a horizontal erosion): blind to
    2-px pens at 1x, sure of them at 2x. Stands for the trained model on low-resolution scans."""

    def forward(self, x):
        ink = 1.0 - x
        eroded = -torch.nn.functional.max_pool2d(-ink, (1, 3), 1, (0, 1))
        curve = 12.0 * eroded - 6.0
        return torch.cat([-curve, curve, torch.full_like(x, -8.0)], dim=1)


class UnsureInkModel(nn.Module):
    """Labels mostly-dark pixels as curve at either scale, but never more than about 90 % sure."""

    def forward(self, x):
        curve = 1.1 * torch.tanh(20.0 * (0.5 - x))
        return torch.cat([-curve, curve, torch.full_like(x, -6.0)], dim=1)


class NarrowStrokeModel(nn.Module):
    """Labels ink as curve only where the stroke is at most 2 px wide across (3 ink pixels in a row make
    it paper): sure of 2-px pens at 1x, blind to them at 2x. Stands for the trained model on pages whose
    pens are already as wide as training saw."""

    def forward(self, x):
        ink = (1.0 - x).clamp(0.0, 1.0)
        core = -torch.nn.functional.max_pool2d(-ink, (1, 3), 1, (0, 1))  # ink with ink on both sides
        wide = torch.nn.functional.max_pool2d(core, (1, 3), 1, (0, 1))  # within a 3-px-wide stretch
        curve = 12.0 * (ink - wide).clamp(0.0, 1.0) - 6.0
        return torch.cat([-curve, curve, torch.full_like(x, -8.0)], dim=1)


def thin_pen_page():
    pixels = np.full((256, 256), 255, np.uint8)
    for x in (40, 120, 200):
        pixels[:, x : x + 2] = 0
    return pixels


def test_scale_2_is_the_enlarged_page_pooled_back():
    pixels = page(seed=3)
    model = SmallConv().eval()
    tiled = run_segmentation(pixels, model, tile=64, margin=12, device="cpu", precision="fp32", skip_paper=False,
                             tta="none", scale="2")
    x = torch.from_numpy(pixels).float()[None, None] / 255.0
    with torch.no_grad():
        big = torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        probs = torch.nn.functional.avg_pool2d(torch.softmax(model(big), 1), 2)[0]
    assert np.mean(tiled.class_map == probs.argmax(0).numpy()) > 0.999
    assert tiled.extra["scale"] == 2 and tiled.extra["scale_probe"] is None


def test_scale_half_is_the_shrunk_page_interpolated_back():
    pixels = page(seed=3)
    model = SmallConv().eval()
    tiled = run_segmentation(pixels, model, tile=128, margin=16, device="cpu", precision="fp32", skip_paper=False,
                             tta="none", scale="0.5")
    x = torch.from_numpy(pixels).float()[None, None] / 255.0
    with torch.no_grad():
        small = torch.nn.functional.interpolate(x, scale_factor=0.5, mode="area")
        probs = torch.nn.functional.interpolate(torch.softmax(model(small), 1), size=pixels.shape, mode="bilinear",
                                                align_corners=False)[0]
    assert tiled.class_map.shape == pixels.shape
    assert np.mean(tiled.class_map == probs.argmax(0).numpy()) > 0.99
    assert tiled.extra["scale"] == 0.5 and tiled.extra["scale_probe"] is None


def test_auto_scale_enlarges_only_pages_whose_pens_the_model_misses():
    thin = run_segmentation(thin_pen_page(), WideStrokeModel().eval(), tile=128, margin=8, device="cpu",
                            precision="fp32", tta="none")
    assert thin.extra["scale_mode"] == "auto" and thin.extra["scale"] == 2
    assert (thin.class_map[:, 39:43] == 1).any(axis=1).all()  # the 2-px pen is found in every row
    assert thin.extra["scale_probe"]["curve_pixel_ratio"] is None  # none at 1x; JSON has no infinity
    forced = run_segmentation(thin_pen_page(), WideStrokeModel().eval(), tile=128, margin=8, device="cpu",
                              precision="fp32", tta="none", scale="1")
    assert forced.class_map.max() == 0
    # A model that loses the pens once they are enlarged (they are already as wide as it knows): stays at 1x.
    narrow = run_segmentation(thin_pen_page(), NarrowStrokeModel().eval(), tile=128, margin=8, device="cpu",
                              precision="fp32", tta="none")
    assert narrow.extra["scale"] == 1 and narrow.extra["scale_probe"]["tiles"] >= 1
    assert narrow.extra["scale_probe"]["curve_pixel_ratio"] < 0.8
    assert (narrow.class_map[:, 40:42] == 1).all()
    # One already sure of them at 1x: no second look.
    plain = run_segmentation(thin_pen_page(), InkModel().eval(), tile=128, margin=8, device="cpu",
                             precision="fp32", tta="none")
    assert plain.extra["scale"] == 1 and plain.extra["scale_probe"]["confidence_1x"] >= 0.95
    # One that finds them at 1x but doubts them, and does as well enlarged: enlarged (a faint pen on tinted
    # paper, which the trained model reads far better at 2x).
    unsure = run_segmentation(thin_pen_page(), UnsureInkModel().eval(), tile=128, margin=8, device="cpu",
                              precision="fp32", tta="none")
    assert unsure.extra["scale"] == 2 and unsure.extra["scale_probe"]["confidence_1x"] < 0.95


def test_auto_scale_leaves_a_page_without_curves_at_1x():
    blank = np.full((256, 256), 255, np.uint8)
    blank[100:104, :] = 0  # a ruled line, which the model calls paper at both scales
    result = run_segmentation(blank, NarrowStrokeModel().eval(), tile=128, margin=8, device="cpu",
                              precision="fp32", tta="none", skip_paper=False)
    assert result.extra["scale"] == 1


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="input scale"):
        run_segmentation(page(seed=3), SmallConv().eval(), device="cpu", scale="3")
