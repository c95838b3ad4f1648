"""`veerdesk batch --engine ray [--address ADDR]`: the local batch, spread over a Ray cluster.

Same sheets (folder or manifest), same LAS files, same status CSV and the same resume rules as
:mod:`veerdesk.pipeline.batch`: the driver (this process) decides what is finished, validates layouts,
writes every LAS and rewrites the status file atomically after every sheet, so a crash or Ctrl-C leaves
it consistent and a re-run picks up where it stopped. Ray actors only do the heavy part: each holds the
model (loaded once) and turns an image + layout into traces. One actor per GPU when the cluster has
GPUs (and ``--device`` is not ``cpu``), else ``CPUs // cpus_per_worker`` CPU actors.

The weights travel to the actors as bytes (checked against their SHA-256 there), so workers need only
VeerDesk and the scans: by default actors read the images by path (shared storage); with
``VEERDESK_RAY_SHIP_IMAGES=1`` the driver sends the image bytes instead. Environment knobs:
``VEERDESK_RAY_WORKERS`` (number of CPU actors), ``VEERDESK_RAY_CPUS_PER_WORKER`` (default 2; also the
actor's torch threads), ``VEERDESK_RAY_SHIP_IMAGES``.

Ray is an optional extra (``pip install 'veerdesk[ray]'``); nothing here imports it until used.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from veerdesk.core.curves import CurveTrace
from veerdesk.core.errors import CancelledError, ModelError, VeerDeskError
from veerdesk.pipeline import batch
from veerdesk.pipeline.batch import Sheet, SheetDone

DEFAULT_CPUS_PER_WORKER = 2


def import_ray():
    try:
        import ray
    except ImportError as exc:
        raise VeerDeskError(
            "the Ray engine needs Ray, an optional extra: pip install 'veerdesk[ray]' (or 'ray>=2.9'); "
            "or run with --engine local"
        ) from exc
    return ray


def _env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise VeerDeskError(f"{name} must be a whole number, not {raw!r}") from exc
    if value < 1:
        raise VeerDeskError(f"{name} must be at least 1")
    return value


# --------------------------------------------------------------------------- the worker (runs in actors)
class SheetWorker:
    """Holds the model; turns one sheet into traces. Wrapped with ``ray.remote`` at run time."""

    def __init__(self, weights: dict[str, Any], device: str, threads: int, tta: str | None = None,
                 scale: str | None = None) -> None:
        import torch

        import veerdesk.inference.segment as segment

        torch.set_num_threads(max(1, threads))
        # segment_page sizes its thread pool to the whole machine; an actor owns only `threads` cores of it.
        segment.default_threads = lambda: max(1, threads)
        self.device = device
        self.tta = tta
        self.scale = scale
        self.folder = tempfile.TemporaryDirectory(prefix="veerdesk-ray-")
        path = Path(self.folder.name) / weights["name"]
        path.write_bytes(weights["data"])
        path.with_suffix(".json").write_bytes(weights["card"])
        from veerdesk.pipeline.digitize import load_inference_model

        self.model, self.info = load_inference_model(path, device)

    def where(self) -> dict[str, Any]:
        import socket

        return {"host": socket.gethostname(), "pid": os.getpid(), "device": self.device}

    def digitize(self, index: int, image: str, layout: dict[str, Any], image_bytes: bytes | None = None) -> dict:
        from veerdesk.core.image import load_page
        from veerdesk.core.layout import Layout
        from veerdesk.pipeline.digitize import digitize, run_to_result

        start = time.perf_counter()
        local = image
        try:
            if image_bytes is not None:
                local = str(Path(self.folder.name) / f"sheet{Path(image).suffix}")
                Path(local).write_bytes(image_bytes)
            page = load_page(local)
            result = run_to_result(digitize(page, Layout.from_dict(layout), device=self.device, model=self.model,
                                                  tta=self.tta, scale=self.scale))
            traces = {name: (t.depth, t.value, t.confidence) for name, t in result.traces.items()}
            return {"index": index, "status": "ok", "message": "", "traces": traces,
                    "seconds": time.perf_counter() - start}
        except CancelledError:
            raise
        except VeerDeskError as exc:
            message = str(exc)
        except Exception as exc:  # one bad sheet must never stop the batch (same rule as the local engine)
            message = f"unexpected {type(exc).__name__}: {exc}"
        if local != image:
            message = message.replace(local, image)
        return {"index": index, "status": "error", "message": message, "traces": None,
                "seconds": time.perf_counter() - start}


# --------------------------------------------------------------------------- the driver
def _weights_payload(weights: str | os.PathLike | None) -> dict[str, Any]:
    from veerdesk.ml.weights import card_path, default_weights_path

    path = Path(weights) if weights is not None else default_weights_path()
    if not path.is_file():
        raise ModelError(f"model weights {path} not found")
    card = card_path(path)
    if not card.is_file():
        raise ModelError(f"model card {card} is missing; weights cannot be checked without it")
    return {"name": path.name, "data": path.read_bytes(), "card": card.read_bytes()}


def _row(sheet: Sheet, status: str, message: str, seconds: float) -> dict[str, str]:
    return {"image": str(sheet.image), "output": str(sheet.output), "status": status,
            "message": " ".join(message.split()), "seconds": f"{seconds:.2f}"}


def _ordered(status: dict[str, dict[str, str]], sheets: list[Sheet]) -> dict[str, dict[str, str]]:
    """Rows of other runs first (file order), then this batch's sheets in sheet order, as the local
    engine writes them whatever order the actors finish in."""
    mine = [str(s.output) for s in sheets]
    mine_set = set(mine)
    out = {k: v for k, v in status.items() if k not in mine_set}
    out.update({k: status[k] for k in mine if k in status})
    return out


def plan_workers(ray, device: str, workers: int | None, cpus_per_worker: int, pending: int) -> tuple[int, dict, str]:
    """(actor count, actor resource options, actor device) for this cluster."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if device != "cpu" and gpus >= 1:
        return max(1, min(gpus, pending)), {"num_gpus": 1, "num_cpus": 1}, "cuda"
    if device == "cuda":
        raise ModelError("--device cuda was requested but the Ray cluster has no GPUs; use --device cpu or auto")
    cpus = max(1, int(resources.get("CPU", 1)))
    count = workers or max(1, cpus // cpus_per_worker)
    return max(1, min(count, pending)), {"num_cpus": cpus_per_worker}, "cpu"


def run_ray_sheets(
    sheets: list[Sheet],
    status_path: Path,
    *,
    weights: str | os.PathLike | None = None,
    device: str = "auto",
    address: str | None = None,
    workers: int | None = None,
    cpus_per_worker: int = DEFAULT_CPUS_PER_WORKER,
    ship_images: bool = False,
    force: bool = False,
    cancel: Callable[[], bool] | None = None,
    info: dict[str, Any] | None = None,
    tta: str | None = None,
    scale: str | None = None,
) -> Iterator[SheetDone]:
    """Digitize ``sheets`` on Ray; yields a :class:`SheetDone` per sheet (skipped and failed-early sheets
    first, then in the order the actors finish). ``info`` (optional) receives the actors' placement;
    ``tta`` is the test-time augmentation and ``scale`` the input scale (None = the defaults)."""
    from veerdesk.export.las import write_las

    ray = import_ray()
    status = batch.read_status(status_path)
    total = len(sheets)
    layouts: dict[Path, Any] = {}
    pending: list[tuple[int, Sheet, Any]] = []

    def record(sheet: Sheet, state: str, message: str, seconds: float) -> None:
        status[str(sheet.output)] = _row(sheet, state, message, seconds)
        batch.write_status(status_path, _ordered(status, sheets))

    for index, sheet in enumerate(sheets, start=1):
        if cancel is not None and cancel():
            raise CancelledError("the batch was cancelled; finished sheets are kept and listed in the status file")
        if not force and batch.is_finished(sheet, status):
            record(sheet, "skipped", "already finished", 0.0)
            yield SheetDone(index, total, sheet, "skipped", "already finished", 0.0)
            continue
        start = time.perf_counter()
        try:
            layout = batch.load_sheet_layout(sheet, layouts)
            batch.refuse_overwriting_sheet_inputs(sheet)
            sheet.output.parent.mkdir(parents=True, exist_ok=True)
        except VeerDeskError as exc:
            record(sheet, "error", str(exc), time.perf_counter() - start)
            yield SheetDone(index, total, sheet, "error", str(exc), time.perf_counter() - start)
            continue
        except OSError as exc:
            message = f"unexpected {type(exc).__name__}: {exc}"
            record(sheet, "error", message, time.perf_counter() - start)
            yield SheetDone(index, total, sheet, "error", message, time.perf_counter() - start)
            continue
        pending.append((index, sheet, layout))
    if not pending:
        return

    payload = _weights_payload(weights)
    started_here = not ray.is_initialized()
    if started_here:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     logging_level="ERROR", configure_logging=True)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            target = address or "a local Ray instance"
            raise VeerDeskError(f"cannot connect to {target}: {exc}") from exc
    actors = []
    try:
        count, options, actor_device = plan_workers(ray, device, workers, cpus_per_worker, len(pending))
        threads = 1 if actor_device == "cuda" else int(options["num_cpus"])
        remote_worker = ray.remote(SheetWorker)
        actors = [remote_worker.options(**options).remote(payload, actor_device, threads, tta, scale)
                  for _ in range(count)]
        if info is not None:
            info["workers"] = ray.get([a.where.remote() for a in actors])
        from ray.util import ActorPool

        pool = ActorPool(actors)
        by_index = {index: (sheet, layout) for index, sheet, layout in pending}

        def dispatch(actor, job):
            # Called when an actor is free, so shipped images are read one at a time, not all up front.
            index, image, layout_dict = job
            data = Path(image).read_bytes() if ship_images and Path(image).is_file() else None
            return actor.digitize.remote(index, image, layout_dict, data)

        for index, sheet, layout in pending:
            pool.submit(dispatch, (index, str(sheet.image), layout.to_dict()))
        while pool.has_next():
            if cancel is not None and cancel():
                raise CancelledError("the batch was cancelled; finished sheets are kept and listed in the status file")
            try:
                result = pool.get_next_unordered()
            except ray.exceptions.RayActorError as exc:
                raise VeerDeskError(
                    f"a Ray worker died ({exc}); the finished sheets are recorded, re-run the batch to do the rest"
                ) from exc
            sheet, layout = by_index[result["index"]]
            state, message = result["status"], result["message"]
            seconds = result["seconds"]
            if state == "ok":
                t0 = time.perf_counter()
                try:
                    traces = {name: CurveTrace(name, np.asarray(d), np.asarray(v), np.asarray(c))
                              for name, (d, v, c) in result["traces"].items()}
                    write_las(sheet.output, layout, traces)
                except VeerDeskError as exc:
                    state, message = "error", str(exc)
                except Exception as exc:
                    state, message = "error", f"unexpected {type(exc).__name__}: {exc}"
                seconds += time.perf_counter() - t0
            record(sheet, state, message, seconds)
            yield SheetDone(result["index"], total, sheet, state, message, seconds)
    finally:
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)
        if started_here:
            ray.shutdown()


def run_batch_ray(args: argparse.Namespace) -> int:
    """``veerdesk batch --engine ray``: progress lines on stderr like the local engine; exit 1 if any failed."""
    import_ray()
    sheets, status_path = batch.collect_sheets(args)
    info: dict[str, Any] = {}
    start = time.perf_counter()
    events = run_ray_sheets(
        sheets, status_path, weights=args.weights, device=args.device, address=getattr(args, "address", None),
        workers=_env_int("VEERDESK_RAY_WORKERS", None),
        cpus_per_worker=_env_int("VEERDESK_RAY_CPUS_PER_WORKER", DEFAULT_CPUS_PER_WORKER) or DEFAULT_CPUS_PER_WORKER,
        ship_images=os.environ.get("VEERDESK_RAY_SHIP_IMAGES", "") not in ("", "0"),
        force=args.force, info=info, tta=args.tta, scale=args.scale,
    )
    announced = False

    def announce_workers(_done: SheetDone) -> None:
        nonlocal announced
        if info.get("workers") and not announced:
            hosts = sorted({w["host"] for w in info["workers"]})
            print(f"ray: {len(info['workers'])} {info['workers'][0]['device']} workers on {', '.join(hosts)}",
                  file=sys.stderr)
            announced = True

    return batch.report_sheets(events, status_path, start, before_each=announce_workers)
