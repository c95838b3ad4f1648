"""ONNX Runtime vs torch for VeerNet-small tiles on CPU: agreement, MP/s, installed size (issue #8).

    python bench/bench_onnx.py [--weights W] [--tile 768] [--threads 2,1] [--rounds 6] [--tiles 4] [--no-int8]

Needs the optional extra: ``pip install -e ".[onnx]"`` (onnxruntime, onnx, onnxscript); without
onnxruntime it says so and exits 0.

1. Loads the weights as the app does (``load_model``: BatchNorm folded) and exports them with
   ``torch.onnx.export(dynamo=True)`` to a temp dir, with dynamic H/W axes (checked on a second shape).
2. Agreement on real tiles (the most inked ``tile`` × ``tile`` window of ``veerdesk.synth.generate_page``
   pages): max |logit difference| against torch fp32, the fraction of pixels whose argmax class matches
   torch fp32 (all pixels, and the pixels torch fp32 calls a curve), and curve F1 against the truth mask.
3. Throughput on one such tile (``segment.py``'s tile size), per thread count, rounds interleaved (every
   path once per round, so background load hits all paths alike): torch fp32 (channels_last), torch bf16
   autocast (the app's choice where the CPU has native bf16, see ``segment.choose_settings``), ORT fp32
   (graph optimisation ALL) and ORT int8 (dynamic, and static QDQ calibrated on other pages; unless
   ``--no-int8``). Best and median MP/s, ratio to torch bf16, and megapixels per CPU-second.
4. Installed size of the onnxruntime and torch packages (sum of the files under their site-packages dirs).

Prints figures only; no timing is asserted. On a shared machine compare the ratios, not the MP/s: with
other load, torch's 2-thread runs can be several times slower than 1-thread runs (see bench_model.py).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NEEDED = ("onnxruntime", "onnx", "onnxscript")


def package_megabytes(name: str) -> float:
    """Bytes of every file under an installed package's directory, in MB (10^6)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return float("nan")
    total = 0
    for root in spec.submodule_search_locations:
        for folder, _, files in os.walk(root):
            total += sum(os.path.getsize(os.path.join(folder, f)) for f in files
                         if not os.path.islink(os.path.join(folder, f)))
    return total / 1e6


def real_tile(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``size`` × ``size`` window of a generated page with the most ink; (uint8 image, truth mask)."""
    from veerdesk.synth import generate_page

    page = generate_page(seed, width=max(1600, size), height=max(2400, size))
    h, w = page.image.shape
    best, best_ink = (0, 0), -1.0
    for y in range(0, h - size + 1, size // 2):
        for x in range(0, w - size + 1, size // 2):
            ink = float((page.mask[y : y + size, x : x + size] > 0).mean())
            if ink > best_ink:
                best, best_ink = (y, x), ink
    y, x = best
    return (np.ascontiguousarray(page.image[y : y + size, x : x + size]),
            np.ascontiguousarray(page.mask[y : y + size, x : x + size]))


def export(model, path: str, size: int, stride: int) -> str:
    """Export with dynamic H/W; falls back to a fixed ``size`` × ``size`` input. Returns a description."""
    import torch

    x = torch.rand(1, 1, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dims = {2: torch.export.Dim("height", min=stride, max=16384),
                    3: torch.export.Dim("width", min=stride, max=16384)}
            torch.onnx.export(model, (x,), path, input_names=["image"], output_names=["logits"], dynamo=True,
                              dynamic_shapes={"image": dims}, external_data=False, verbose=False)
            return "dynamic H, W"
        except Exception as exc:  # noqa: BLE001 - any exporter failure means: try a fixed shape
            print(f"dynamic-shape export failed ({type(exc).__name__}: {str(exc)[:200]}); exporting {size}x{size}")
            torch.onnx.export(model, (x,), path, input_names=["image"], output_names=["logits"], dynamo=True,
                              external_data=False, verbose=False)
            return f"fixed {size}x{size}"


def ort_session(path: str, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def quantize(fp32_path: str, folder: str, calibration: list[np.ndarray]) -> dict[str, str]:
    """int8 variants of the fp32 model: dynamic (weights int8, activations quantised per run) and static QDQ
    (activation ranges calibrated on ``calibration`` tiles). A variant that fails is reported and skipped."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_dynamic,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"image": x} for x in calibration])

        def get_next(self):
            return next(self.items, None)

    pre = os.path.join(folder, "veernet-pre.onnx")
    out = {}
    try:
        quant_pre_process(fp32_path, pre, skip_symbolic_shape=True)
    except Exception as exc:  # noqa: BLE001
        print(f"quant_pre_process failed ({type(exc).__name__}: {exc}); quantising the raw export")
        pre = fp32_path
    jobs = {
        "ORT int8 dynamic": lambda p: quantize_dynamic(pre, p, weight_type=QuantType.QUInt8),
        "ORT int8 static QDQ": lambda p: quantize_static(pre, p, Reader(), quant_format=QuantFormat.QDQ,
                                                         activation_type=QuantType.QUInt8,
                                                         weight_type=QuantType.QInt8, per_channel=True),
    }
    for name, job in jobs.items():
        path = os.path.join(folder, name.replace(" ", "-") + ".onnx")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                job(path)
            out[name] = path
        except Exception as exc:  # noqa: BLE001
            print(f"{name}: quantisation failed ({type(exc).__name__}: {str(exc)[:200]})")
    return out


def agreement(logits: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """(max |diff|, argmax agreement on all pixels, on pixels the reference calls a curve)."""
    a, b = logits[0].argmax(0), reference[0].argmax(0)
    curve = b > 0
    return (float(np.abs(logits - reference).max()), float((a == b).mean()),
            float((a[curve] == b[curve]).mean()) if curve.any() else float("nan"))


def curve_f1(logits: np.ndarray, truth: np.ndarray, tolerance: int = 2) -> float:
    """Curve-vs-background F1 against the generator's truth mask, a pixel counting as matched when the other
    side has a curve pixel within ``tolerance`` px (the truth is a thin drawn line; strict pixel F1 mostly
    measures sub-pixel offsets)."""
    import cv2

    predicted = (logits[0].argmax(0) > 0).astype(np.uint8)
    actual = (truth > 0).astype(np.uint8)
    kernel = np.ones((2 * tolerance + 1, 2 * tolerance + 1), np.uint8)
    if not predicted.any() or not actual.any():
        return float("nan")
    precision = float((predicted & cv2.dilate(actual, kernel)).sum() / predicted.sum())
    recall = float((actual & cv2.dilate(predicted, kernel)).sum() / actual.sum())
    return 2 * precision * recall / max(1e-12, precision + recall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None, help="default: the shipped weights ($VEERDESK_WEIGHTS)")
    parser.add_argument("--tile", type=int, default=None, help="default: segment.DEFAULT_TILE")
    parser.add_argument("--threads", default=f"{min(2, os.cpu_count() or 1)},1",
                        help="comma-separated thread counts to time (default: 2,1)")
    parser.add_argument("--rounds", type=int, default=6, help="timed rounds (every path once per round)")
    parser.add_argument("--seed", type=int, default=1, help="generate_page seed of the first agreement tile")
    parser.add_argument("--tiles", type=int, default=4, help="agreement tiles (one per generated page)")
    parser.add_argument("--no-int8", action="store_true", help="skip the quantised ORT variants")
    args = parser.parse_args()

    missing = []
    for name in NEEDED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        print(f"bench_onnx: {', '.join(missing)} not installed; nothing to measure. "
              'Install the optional extra: pip install -e ".[onnx]"')
        sys.exit(0)

    import onnxruntime as ort
    import torch

    from veerdesk.inference.segment import DEFAULT_TILE, choose_settings, cpu_supports_bf16
    from veerdesk.ml.weights import default_weights_path, load_model

    tile = args.tile or DEFAULT_TILE
    threads = [int(t) for t in args.threads.split(",")]
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; {os.cpu_count()} CPUs; "
          f"threads {threads}; torch {torch.__version__}, onnxruntime {ort.__version__}; "
          f"native bf16: {cpu_supports_bf16()}")
    weights = Path(args.weights) if args.weights else default_weights_path()
    model, config, _ = load_model(weights)  # eval, BatchNorm folded, channels_last weights: as the app runs it

    with tempfile.TemporaryDirectory(prefix="veerdesk-onnx-") as folder:
        fp32_path = os.path.join(folder, "veernet-small.onnx")
        t0 = time.perf_counter()
        shapes = export(model, fp32_path, tile, config.stride)
        print(f"export ({shapes}): {time.perf_counter() - t0:.1f} s, {os.path.getsize(fp32_path) / 1e6:.2f} MB")
        model_files = {"ORT fp32": fp32_path}

        # A second shape checks the dynamic axes (a multiple of the stride: the exported graph has no padding
        # branch, so a torch-free caller pads to a multiple of config.stride itself).
        if shapes.startswith("dynamic"):
            other = (tile - config.stride, tile // 2 + config.stride)
            x = torch.rand(1, 1, *other)
            with torch.inference_mode():
                ref = model(x).numpy()
            try:
                out = ort_session(fp32_path, threads[0]).run(None, {"image": x.numpy()})[0]
                print(f"dynamic axes: {other[0]}x{other[1]} runs, max |diff| {np.abs(out - ref).max():.2e}")
            except Exception as exc:  # noqa: BLE001
                print(f"dynamic axes: {other[0]}x{other[1]} fails ({type(exc).__name__})")

        tiles = [real_tile(tile, args.seed + i) for i in range(args.tiles)]
        inputs = [(image.astype(np.float32) / 255.0)[None, None] for image, _ in tiles]
        if not args.no_int8:
            # Calibrated on other pages than the ones the agreement is measured on.
            calibration = [(real_tile(tile, args.seed + 1000 + i)[0].astype(np.float32) / 255.0)[None, None]
                           for i in range(3)]
            t0 = time.perf_counter()
            for name, path in quantize(fp32_path, folder, calibration).items():
                model_files[name] = path
                print(f"{name}: {os.path.getsize(path) / 1e6:.2f} MB")
            print(f"quantisation: {time.perf_counter() - t0:.1f} s")

        fp32_settings, bf16_settings = choose_settings("cpu", "fp32"), choose_settings("cpu", "bf16")

        def torch_path(settings):
            autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings.autocast_dtype is not None)

            def run(x: np.ndarray) -> np.ndarray:
                inp = torch.from_numpy(x)
                if settings.channels_last:
                    inp = inp.contiguous(memory_format=torch.channels_last)
                with torch.inference_mode(), autocast:
                    return model(inp).float().numpy()

            return run

        def all_paths(n_threads: int) -> dict:
            torch.set_num_threads(n_threads)
            paths = {"torch fp32": torch_path(fp32_settings), "torch bf16 autocast": torch_path(bf16_settings)}
            for name, path in model_files.items():
                session = ort_session(path, n_threads)
                paths[name] = (lambda s: lambda x: s.run(None, {"image": x})[0])(session)
            return paths

        # Agreement (the first call of each path is also its warm-up).
        paths = all_paths(threads[0])
        references = [paths["torch fp32"](x) for x in inputs]
        curve_px = sum(int((r[0].argmax(0) > 0).sum()) for r in references)
        print(f"\nagreement against torch fp32 on {len(tiles)} {tile}x{tile} tiles (the most inked window of "
              f"generate_page({args.seed}..{args.seed + len(tiles) - 1}); {curve_px} px torch fp32 calls a curve); "
              "'curve F1': curve vs background against the truth mask, 2 px tolerance:")
        print(f"  {'path':<22}{'max |dlogit|':>13}{'argmax all':>12}{'argmax curve':>14}{'curve F1':>10}")
        for name, run in paths.items():
            diffs, same, same_curve, f1 = [], 0.0, 0.0, []
            for x, reference, (_, truth) in zip(inputs, references, tiles, strict=True):
                logits = run(x)
                diff, agree, _ = agreement(logits, reference)
                curve = reference[0].argmax(0) > 0
                diffs.append(diff)
                same += agree * reference[0, 0].size
                same_curve += float((logits[0].argmax(0)[curve] == reference[0].argmax(0)[curve]).sum())
                f1.append(curve_f1(logits, truth))
            total = sum(r[0, 0].size for r in references)
            print(f"  {name:<22}{max(diffs):>13.2e}{same / total:>12.6f}{same_curve / max(1, curve_px):>14.6f}"
                  f"{np.nanmean(f1):>10.4f}")

        # Throughput, interleaved; CPU seconds per call too (the process's, all threads): on a shared
        # machine wall time swings with the other jobs, CPU time much less.
        mp = tile * tile / 1e6
        x_time = inputs[0]
        for n_threads in threads:
            paths = all_paths(n_threads)
            for run in paths.values():
                run(x_time)  # warm-up at this thread count
            wall: dict[str, list[float]] = {name: [] for name in paths}
            cpu: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(args.rounds):
                for name, run in paths.items():
                    t0, c0 = time.perf_counter(), time.process_time()
                    run(x_time)
                    wall[name].append(time.perf_counter() - t0)
                    cpu[name].append(time.process_time() - c0)
            base = min(wall["torch bf16 autocast"])
            print(f"\nthroughput, {tile}x{tile} tile, {args.rounds} interleaved rounds, {n_threads} thread(s), "
                  f"load average {os.getloadavg()[0]:.2f} (ratio = best time of torch bf16 / best time of the path; "
                  "> 1 is faster than the app's path):")
            print(f"  {'path':<22}{'best MP/s':>10}{'median MP/s':>13}{'ratio':>7}{'MP/CPU-s':>10}")
            for name, ts in wall.items():
                print(f"  {name:<22}{mp / min(ts):>10.2f}{mp / statistics.median(ts):>13.2f}{base / min(ts):>7.2f}"
                      f"{mp / statistics.median(cpu[name]):>10.2f}")

    sizes = {name: package_megabytes(name) for name in ("torch", "onnxruntime", "onnx", "onnxscript")}
    print("\ninstalled size (site-packages dirs): " + ", ".join(f"{k} {v:.0f} MB" for k, v in sizes.items()))
    print(f"  onnxruntime / torch: {sizes['onnxruntime'] / sizes['torch']:.2f} "
          "(onnx and onnxscript are needed only to export, not to run)")
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
