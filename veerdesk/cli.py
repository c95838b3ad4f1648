"""Command line: wiring only. Each subcommand hands its parsed arguments to the layer that owns it.

Implementations are imported lazily so ``veerdesk --help`` and ``veerdesk info`` start fast and never
load torch or Qt.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from veerdesk import __version__
from veerdesk.core.errors import VeerDeskError

# subcommand -> "module:function" taking the argparse Namespace and returning an exit code (or None).
ENTRY_POINTS = {
    "info": "veerdesk.core.info_cli:run_info",
    "synth": "veerdesk.synth.cli_entry:run_synth",
    "train": "veerdesk.ml.cli_entry:run_train",
    "eval": "veerdesk.pipeline.eval_cli:run_eval",
    "digitize": "veerdesk.pipeline.cli_entry:run_digitize",
    "batch": "veerdesk.pipeline.cli_entry:run_batch",
    "open": "veerdesk.ui.launch:run_open",
    "demo": "veerdesk.app:run_demo",
    "finetune": "veerdesk.ml.finetune:run_finetune",
}


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="print size, mode, dpi and page count of a scan")
    p.add_argument("image")
    p.add_argument("--page", type=int, default=1, help="1-based page number for multipage TIFF/PDF (default 1)")
    p.add_argument("--pdf-dpi", type=float, default=200.0)


def _add_synth(sub) -> None:
    p = sub.add_parser("synth", help="draw synthetic log pages with masks, layouts and truth LAS")
    p.add_argument("--count", type=int, default=4)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", default=None, help="page width range MIN:MAX in px")
    p.add_argument("--height", default=None, help="page height range MIN:MAX in px")
    p.add_argument("--crop", type=int, default=None, help="write random crops of this size instead of pages")
    p.add_argument("--contact-sheet", default=None, help="also draw a grid of samples to this PNG")


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train the segmentation model on generated pages")
    p.add_argument("--config", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--minutes", type=float, default=None, help="stop after this wall-clock budget")
    p.add_argument("--init", default=None, help="start from these weights")


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="evaluate weights on held-out generated pages")
    p.add_argument("--weights", default=None)
    p.add_argument("--pages", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, help="also write the metrics to this JSON file")


def _add_digitize(sub) -> None:
    p = sub.add_parser("digitize", help="scan + layout -> LAS")
    p.add_argument("image")
    p.add_argument("--layout", required=True)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--weights", default=None)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--masks", default=None, help="folder for class and confidence masks")
    p.add_argument("--report", default=None, help="JSON report with coverage, confidence and timings")
    p.add_argument("--page", type=int, default=1)
    _add_inference_options(p)


def _add_inference_options(p) -> None:
    # Literal choices: the CLI must not import torch (veerdesk.inference) just to build its parser.
    p.add_argument("--tta", choices=("flip", "none"), default="flip",
                   help="test-time augmentation: 'flip' averages the page and its mirror image (default; "
                        "about twice the model time, recovers more faint curve pixels), 'none' one pass")
    p.add_argument("--scale", choices=("auto", "0.5", "1", "2"), default="auto",
                   help="input scale: 'auto' (default) probes a few tiles and runs the page enlarged 2x (4x the "
                        "model time) unless the model reads it surely at 1x or loses its pens at 2x, then looks "
                        "again at the other scale at tracks whose curves lost their style, and at every track shrunk "
                        "by half, keeping the view whose traces lie on more of their own ink; '1' (fastest) or '2' "
                        "force it; '0.5' shrinks the whole page by half, for high-resolution scans (pens and grid "
                        "lines 3 px wide or more)")


def _add_batch(sub) -> None:
    p = sub.add_parser("batch", help="digitize many sheets (folder or manifest CSV), resumable")
    p.add_argument("source", help="folder of images or a manifest CSV with columns image,layout,output")
    p.add_argument("--layout", default=None, help="one layout for every sheet")
    p.add_argument("--out", default=None, help="output folder (folder mode)")
    p.add_argument("--weights", default=None)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--status", default=None, help="status CSV (default: <out>/batch-status.csv)")
    p.add_argument("--force", action="store_true", help="redo sheets already finished")
    p.add_argument("--engine", choices=("local", "ray"), default="local")
    p.add_argument("--address", default=None, help="Ray cluster address (with --engine ray)")
    _add_inference_options(p)


def _add_open(sub) -> None:
    p = sub.add_parser("open", help="open the desktop app")
    p.add_argument("image", nargs="?")
    p.add_argument("--layout", default=None)
    p.add_argument("--project", default=None)
    p.add_argument("--weights", default=None)
    p.add_argument("--run", action="store_true", help="run the model after opening")
    p.add_argument("--screenshot", default=None, help="save a screenshot to this PNG and exit")
    p.add_argument("--offscreen", action="store_true", help="no window (with --screenshot)")


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="open the bundled sample in the app, or digitize it headless without a display")
    p.add_argument("--headless", action="store_true", help="skip the app even when a display exists")
    p.add_argument("--out", default=None, help="folder for the headless outputs (default: ./veerdesk-demo)")


def _add_finetune(sub) -> None:
    p = sub.add_parser("finetune", help="fine-tune weights on reviewed project files (corrections as labels)")
    p.add_argument("--projects", required=True, help="folder with reviewed .vdproj files (searched recursively)")
    p.add_argument("--weights", required=True, help="weights to start from")
    p.add_argument("--out", required=True, help="new weights file (.safetensors); its card and hash go beside it")
    p.add_argument("--steps", type=int, default=None, help="optimizer steps (default 200)")
    p.add_argument("--minutes", type=float, default=None, help="stop the steps after this wall-clock budget")
    p.add_argument("--holdout", type=float, default=None, help="share of projects held out for metrics (0.25)")
    p.add_argument("--real-fraction", type=float, default=None, help="share of real crops per batch (0.34)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--crop", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--gap-pages", type=int, default=None,
                   help="also build the reality-gap reference for the new weights from this many generated pages")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="veerdesk",
        description="Digitize curves from scanned paper well logs.",
    )
    parser.add_argument("--version", action="version", version=f"veerdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_info, _add_synth, _add_train, _add_eval, _add_digitize, _add_batch, _add_open, _add_demo,
                _add_finetune):
        add(sub)
    return parser


def _resolve(command: str) -> Callable[[argparse.Namespace], int | None]:
    module_name, func_name = ENTRY_POINTS[command].split(":")
    return getattr(importlib.import_module(module_name), func_name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        result = _resolve(args.command)(args)
    except VeerDeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
