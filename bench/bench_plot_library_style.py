"""Recovered-curve accuracy on well-log plots drawn with matplotlib: a third renderer, in styles neither our
generator nor bench_foreign_style.py draws.

A petrophysicist who scripts a log plot gets what this bench draws: one matplotlib axes per track sharing
the depth axis, every curve on its own x scale (a twin axis), matplotlib's own line styles ('-', '--', ':',
'-.'), whose dash patterns scale with the pen width, so their gaps are about 1.6 pen widths: tighter than
anything our generator draws. Anti-aliased Agg strokes, grey grids with minor lines, tick labels and curve
names in the margins. The curves are the bundled wells' real ones (as in bench_foreign_style.py). Five
house styles:

- ``mpl default``: black pens, one scale shown per track;
- ``mpl twin headers``: every curve's scale as its own labelled axis above the track (the petrophysics
  header), colour labels;
- ``mpl filled``: the first curve of a linear track shaded to the track edge (a translucent colour fill),
  colour pens;
- ``mpl 1-bit``: black pens, thresholded to black and white;
- ``mpl colour``: colour pens (tab10), scanned to grey by luminance.

The layout comes from the axes' own transforms (track edges, two depth ties), so it is exact. Each page goes
through the product path (``veerdesk.pipeline.digitize`` with its defaults). Prints per house and per curve
style the median R² (log tracks in log10), the share of curves with R² ≥ 0.9 and ≥ 0.99, and coverage.

    python bench/bench_plot_library_style.py [--pages 30] [--seed 0] [--weights A.safetensors ...] [--save DIR]

Needs matplotlib (in the ``dev`` and ``bench`` extras); the product does not.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_foreign_style import WELLS, group_figures, load_well, nice_range, save_pages, score_pages  # noqa: E402

from veerdesk.core.layout import Layout  # noqa: E402
from veerdesk.pipeline.digitize import load_inference_model  # noqa: E402

HOUSE_STYLES = ("mpl default", "mpl twin headers", "mpl filled", "mpl 1-bit", "mpl colour")
LINE_STYLES = {"solid": "-", "dashed": "--", "dotted": ":", "dashdot": "-."}
COLOUR_PENS = ("black", "black", "black", "tab:blue", "tab:red", "tab:green", "tab:orange", "tab:purple",
               "tab:brown")
FILL_COLOURS = ("khaki", "lightgreen", "yellow", "lightgrey", "gold")
# The card's note on its pages (bench/export_shipped_model.py, bench/refresh_card_eval.py).
CARD_NOTE = "not used for selection; pages 0-29 motivated stage 14"
SEED_OFFSET = 10_000  # pages draw from their own random streams, apart from bench_foreign_style's


def render_page(seed: int, house: str) -> tuple[np.ndarray, Layout, dict[str, np.ndarray]]:
    """(pixels, layout, truth on the layout's depth grid) of one matplotlib page in ``house`` style."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    rng = np.random.default_rng(SEED_OFFSET + seed)
    well = str(rng.choice(list(WELLS)))
    step, curves = load_well(well)
    dpi = float(rng.uniform(90, 200))
    fig_w, fig_h = float(rng.uniform(7, 12)), float(rng.uniform(14, 24))
    n = int(fig_h * dpi * 0.8 / float(rng.uniform(1.2, 4.0)))  # 1.2-4 page rows per LAS sample
    length = min(len(v) for v in curves.values())
    first = int(rng.integers(0, max(1, length - n)))
    n = min(n, length - first)
    depth = np.arange(first, first + n) * step + 1000.0
    available = [c for c in WELLS[well] if c[0] in curves and np.isfinite(curves[c[0]][first:first + n]).mean() > 0.8]
    rng.shuffle(available)
    fig, axes = plt.subplots(1, int(rng.integers(2, 5)), figsize=(fig_w, fig_h), dpi=dpi, sharey=True, squeeze=False)
    fig.subplots_adjust(left=float(rng.uniform(0.08, 0.14)), right=0.97, top=float(rng.uniform(0.86, 0.93)),
                        bottom=0.04, wspace=float(rng.uniform(0.0, 0.25)))
    pens = COLOUR_PENS if house in ("mpl colour", "mpl filled") else ("black",)
    plan: list[tuple[object, bool, list[dict]]] = []
    truth: dict[str, np.ndarray] = {}
    for ax in axes[0]:
        logs = [c for c in available if c[2]]
        log = bool(logs) and rng.random() < 0.4
        picks = (logs if log else [c for c in available if not c[2]])[: int(rng.integers(1, 4))]
        if not picks:
            ax.set_visible(False)
            continue
        available = [c for c in available if c not in picks]
        ranges = [nice_range(curves[p[0]][first:first + n], log) for p in picks]
        if log:  # one log grid per track: every curve on the same decades
            ranges = [(min(r[0] for r in ranges), max(r[1] for r in ranges))] * len(picks)
        styles = [str(s) for s in rng.choice(list(LINE_STYLES), size=len(picks), replace=False)]
        entries = []
        for k, ((mnemonic, unit, _), (left, right), style) in enumerate(zip(picks, ranges, styles, strict=True)):
            axis = ax if k == 0 else ax.twiny()  # every curve its own x scale
            if rng.random() < 0.2 and not log:
                left, right = right, left  # reversed scale (neutron, sonic)
            # Off-scale values are drawn along the track edge, and the truth is what is drawn.
            values = np.clip(curves[mnemonic][first:first + n], min(left, right), max(left, right))
            colour = str(rng.choice(pens))
            axis.plot(values, depth, LINE_STYLES[style], color=colour, lw=float(rng.uniform(0.7, 2.2)))
            if log:
                axis.set_xscale("log")
            axis.set_xlim(left, right)
            if house == "mpl twin headers":
                axis.spines["top"].set_position(("outward", 28 * k))
                axis.set_xlabel(f"{mnemonic} ({unit})", color=colour)
                axis.xaxis.set_label_position("top")
                axis.xaxis.tick_top()
            elif k == 0:
                axis.set_xlabel(mnemonic)
            else:
                axis.set_xticks([])
                axis.xaxis.set_minor_locator(NullLocator())
                for spine in axis.spines.values():
                    spine.set_visible(False)
            if house == "mpl filled" and k == 0 and not log and rng.random() < 0.8:
                axis.fill_betweenx(depth, values, left, color=str(rng.choice(FILL_COLOURS)),
                                   alpha=float(rng.uniform(0.3, 0.8)), lw=0)
            truth[mnemonic] = values
            entries.append({"mnemonic": mnemonic, "unit": unit, "left": left, "right": right, "style": style})
        ax.grid(True, which="major", color=str(rng.choice(["lightgrey", "grey", "0.85"])), lw=float(rng.uniform(0.4, 1.0)))
        if log:
            ax.grid(True, which="minor", color="0.9", lw=0.4)
        elif rng.random() < 0.5:
            ax.minorticks_on()
            ax.grid(True, which="minor", color="0.92", lw=0.3)
        ax.set_ylim(depth[-1], depth[0])
        plan.append((ax, log, entries))
    axes[0][0].set_ylabel("Depth (m)")
    fig.suptitle(f"Well {well}", fontsize=10)
    fig.canvas.draw()
    width, height = fig.canvas.get_width_height()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    # Display coordinates count from the bottom: row = height - y. Taken before the figure is closed.
    first_ax = plan[0][0]
    x_any = first_ax.get_xlim()[0]
    ties = [[float(height - first_ax.transData.transform((x_any, d))[1]), float(d)] for d in (depth[0], depth[-1])]
    tracks = []
    for ax, log, entries in plan:
        box = ax.get_window_extent()
        tracks.append({"x0": float(box.x0), "x1": float(box.x1), "scale": "log" if log else "linear",
                       "curves": entries})
    plt.close(fig)
    pixels = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.uint8)
    if house == "mpl 1-bit":
        pixels = np.where(pixels < 160, 0, 255).astype(np.uint8)
    layout = Layout.from_dict({"version": 1, "well": {"name": f"PLOT {seed}"},
                               "depth": {"unit": "M", "ties": ties, "step": float(step)}, "tracks": tracks})
    grid = layout.depth_grid()
    truth = {m: np.interp(grid, depth, v, left=np.nan, right=np.nan) for m, v in truth.items()}
    return pixels, layout, truth


def plot_pages(seed: int, count: int) -> list[tuple[str, np.ndarray, Layout, dict[str, np.ndarray]]]:
    """(house style, pixels, layout, truth) of ``count`` pages from ``seed``, the house styles in turn."""
    return [(HOUSE_STYLES[(seed + i) % len(HOUSE_STYLES)],
             *render_page(seed + i, HOUSE_STYLES[(seed + i) % len(HOUSE_STYLES)])) for i in range(count)]


def plot_eval(model, seed: int, count: int, note: str) -> dict:
    """The model card's ``plot_eval`` section: pages ``seed``.. of this bench through the digitize path, per
    house style, per curve style and for all curves."""
    rows = score_pages(model, plot_pages(seed, count))
    groups = {"all curves": rows} | {name: [r for r in rows if r[0] == name] for name in HOUSE_STYLES} \
        | {style: [r for r in rows if r[1] == style] for style in sorted(LINE_STYLES)}
    return {
        "about": f"bench/bench_plot_library_style.py pages seeds {seed}-{seed + count - 1} ({note}), through veerdesk's"
                 " digitize path with its defaults: the bundled wells' real curves plotted with matplotlib (twin-axis"
                 " tracks, pen-scaled dash patterns, fills, 1-bit, colour pens), a renderer neither the generator nor"
                 " bench_foreign_style.py uses.",
        "groups": group_figures(groups),
    }


def upscaled(pages, factor: float) -> list[tuple[str, np.ndarray, Layout, dict[str, np.ndarray]]]:
    """The pages as a scan at ``factor`` times the resolution: pixels resized (cubic), layout columns and
    depth-tie rows scaled; the truth is unchanged (it lives on the depth grid)."""
    import cv2

    out = []
    for house, pixels, layout, truth in pages:
        data = layout.to_dict()
        data["depth"]["ties"] = [[y * factor, depth] for y, depth in data["depth"]["ties"]]
        for track in data["tracks"]:
            track["x0"], track["x1"] = track["x0"] * factor, track["x1"] * factor
        big = cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        out.append((house, big, Layout.from_dict(data), truth))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", nargs="*", default=[str(ROOT / "resources/models/veernet-small.safetensors")])
    parser.add_argument("--save", default=None, help="write the pages (PNG + layout JSON) into this folder")
    parser.add_argument("--upscale", type=float, default=1.0,
                        help="resize every page by this factor (a high-resolution scan: pens and grid lines that "
                             "many times wider)")
    parser.add_argument("--scale", nargs="*", default=["auto"],
                        help="digitize's input scales to compare (auto, 0.5, 1, 2), each in turn")
    args = parser.parse_args()
    pages = plot_pages(args.seed, args.pages)
    if args.upscale != 1.0:
        pages = upscaled(pages, args.upscale)
    if args.save:
        save_pages(pages, Path(args.save), "plot", args.seed)
    print(f"{len(pages)} pages, {sum(len(p[3]) for p in pages)} curves, house styles: {', '.join(HOUSE_STYLES)}")
    for weights, scale in [(w, s) for w in args.weights for s in args.scale]:
        model, _ = load_inference_model(weights)
        groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
        start = time.perf_counter()
        for house, style, r2, cov in score_pages(model, pages, scale):
            for name in ("all", house, style):
                groups[name].append((r2, cov))
        print(f"\n{weights}, --scale {scale} ({time.perf_counter() - start:.0f} s)")
        for name in ("all", *HOUSE_STYLES, *sorted(LINE_STYLES)):
            rows = groups.get(name)
            if rows:
                r2 = np.array([r for r, _ in rows])
                print(f"  {name:18s} n={len(rows):3d} median R² {np.median(r2):7.3f}  ≥0.9 {np.mean(r2 >= 0.9):4.0%}"
                      f"  ≥0.99 {np.mean(r2 >= 0.99):4.0%}  coverage {np.median([c for _, c in rows]):.3f}")


if __name__ == "__main__":
    main()
