"""`veerdesk digitize` and `veerdesk batch`: argument handling and progress on stderr.

The work itself is :func:`veerdesk.pipeline.digitize.digitize` (shared with the app) and
:mod:`veerdesk.pipeline.batch`. Errors are :class:`VeerDeskError` subclasses; ``veerdesk.cli`` prints them.
"""

from __future__ import annotations

import argparse
import sys
import time

from veerdesk.core.atomic import refuse_overwriting_inputs
from veerdesk.core.errors import VeerDeskError
from veerdesk.core.image import load_page
from veerdesk.core.layout import load_layout
from veerdesk.pipeline.digitize import (
    DigitizeResult,
    Progress,
    check_layout_fits,
    digitize,
    load_inference_model,
    run_to_result,
)


class StderrProgress:
    """One updating line on a terminal; a line per 10 % step otherwise (logs stay readable)."""

    def __init__(self, prefix: str = "", stream=None) -> None:
        self.stream = stream or sys.stderr
        self.prefix = prefix
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_decile = -1
        self.last_stage = ""

    def __call__(self, event: Progress) -> None:
        percent = int(round(100 * event.fraction))
        line = f"{self.prefix}{event.message} ({percent}%)"
        if self.tty:
            self.stream.write("\r\033[K" + line)
            if event.stage == "done":
                self.stream.write("\n")
            self.stream.flush()
            return
        decile = percent // 10
        if decile != self.last_decile or event.stage != self.last_stage:
            self.stream.write(line + "\n")
            self.stream.flush()
            self.last_decile, self.last_stage = decile, event.stage


def _summary(result: DigitizeResult) -> str:
    parts = [f"{name} {info['coverage'] * 100:.0f}%" for name, info in result.report["curves"].items()]
    seconds = result.timings["total_s"]
    return f"{len(result.traces)} curves in {seconds:.1f} s on {result.report['device']} (coverage: {', '.join(parts)})"


def run_digitize(args: argparse.Namespace) -> int:
    from veerdesk.pipeline.outputs import check_output_folder, write_result

    # Cheap checks first, so a typo fails in a second rather than after the model has run.
    if args.page < 1:
        raise VeerDeskError(f"--page counts from 1 (the first page of a TIFF or PDF), got {args.page}")
    layout = load_layout(args.layout)
    inputs = {"scan": args.image, "layout": args.layout}
    check_output_folder(args.output, "LAS output")
    refuse_overwriting_inputs(args.output, inputs, "LAS output")
    if args.report:
        check_output_folder(args.report, "report")
        refuse_overwriting_inputs(args.report, inputs | {"LAS output": args.output}, "report")
    model, model_info = load_inference_model(args.weights, args.device)
    page = load_page(args.image, page=args.page - 1)
    check_layout_fits(layout, page.height, page.width)
    progress = StderrProgress()
    result = run_to_result(digitize(page, layout, device=args.device, model=model, tta=args.tta,
                                    scale=args.scale), progress)
    result.report["model"] = {k: v for k, v in model_info.items() if k != "card"}
    if args.report:
        from veerdesk.ml.gap import gap_report

        result.report["reality_gap"] = gap_report(page.pixels, model, model_info.get("weights"))
    write_result(result, args.output, masks=args.masks, report=args.report)
    print(f"wrote {args.output}: {_summary(result)}", file=sys.stderr)
    for warning in result.report["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def run_batch(args: argparse.Namespace) -> int:
    from veerdesk.pipeline import batch
    from veerdesk.pipeline.outputs import write_result

    if args.engine == "ray":
        from veerdesk.pipeline.ray_batch import run_batch_ray

        return run_batch_ray(args)
    if args.engine != "local":
        raise VeerDeskError(f"unknown batch engine {args.engine!r}; use --engine local or ray")
    sheets, status_path = batch.collect_sheets(args)
    from veerdesk.inference.segment import resolve_device

    resolve_device(args.device)  # a missing GPU is one error for the batch, not one per sheet
    model, _ = load_inference_model(args.weights, args.device)
    layouts: dict = {}

    def process(sheet: batch.Sheet) -> None:
        layout = batch.load_sheet_layout(sheet, layouts)
        batch.refuse_overwriting_sheet_inputs(sheet)
        sheet.output.parent.mkdir(parents=True, exist_ok=True)
        page = load_page(sheet.image)
        result = run_to_result(digitize(page, layout, device=args.device, model=model, tta=args.tta,
                                        scale=args.scale))
        write_result(result, sheet.output)

    start = time.perf_counter()
    return batch.report_sheets(batch.run_sheets(sheets, status_path, process, force=args.force), status_path, start)
