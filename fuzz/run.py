"""Run one fuzz target with atheris (coverage-guided libFuzzer), or a plain mutation loop without it.

    python fuzz/run.py image   --runs 300             # short run (what the test suite does)
    python fuzz/run.py layout  --runs 20000 --stats out.json
    python fuzz/run.py project --seconds 600 --engine mutate

Exit status: 0 when every input either returned or raised a VeerDeskError; 1 on a crash (any other
exception), with the input saved under --artifacts; 2 on a hang (an input over --timeout seconds).
Crashes listed in ``known_defects.py`` are counted and reported, not fatal, unless --strict.
The statistics (inputs executed, outcomes, crashes by signature, hangs) are printed at the end and
written to --stats as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import known_defects  # noqa: E402  (after the path set-up)

EXIT_CRASH = 1
EXIT_HANG = 2


class Hang(Exception):
    pass


class Stats:
    """What happened, written as JSON on exit (atheris ends the process itself after its last run)."""

    def __init__(self, target: str, engine: str, path: Path | None) -> None:
        self.data = {"target": target, "engine": engine, "inputs": 0, "handled": 0,
                     "known_defects": Counter(), "crashes": 0, "hangs": 0, "seconds": 0.0}
        self.path = path
        self.started = time.monotonic()

    def write(self, *, show: bool = True) -> None:
        self.data["seconds"] = round(time.monotonic() - self.started, 1)
        data = dict(self.data, known_defects={" | ".join(k): v for k, v in self.data["known_defects"].items()})
        text = json.dumps(data, indent=2)
        if self.path is not None:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(text + "\n")
            os.replace(tmp, self.path)
        if show:
            print(f"fuzz stats: {text}", file=sys.stderr, flush=True)


def make_runner(target, stats: Stats, strict: bool, artifacts: Path, last: int = 0):
    """The per-input callback; ``last`` is the final input's number (libFuzzer exits without running atexit)."""
    from veerdesk.core.errors import VeerDeskError

    def run_one(data: bytes) -> None:
        stats.data["inputs"] += 1
        try:
            _run_one(data)
        finally:
            count = stats.data["inputs"]
            if count == last:
                stats.write()
            elif count % 100 == 0:
                stats.write(show=False)

    def _run_one(data: bytes) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                target(data)
        except VeerDeskError:
            stats.data["handled"] += 1
            return
        except Hang:
            raise
        except Exception as exc:  # noqa: BLE001 - anything else is exactly what we are looking for
            if not strict and known_defects.is_known(exc):
                stats.data["known_defects"][known_defects.signature(exc)] += 1
                return
            stats.data["crashes"] += 1
            _save(artifacts, "crash", data)
            print(f"CRASH {known_defects.signature(exc)}", file=sys.stderr)
            stats.write()
            raise
        stats.data["handled"] += 1

    return run_one


def _save(artifacts: Path, kind: str, data: bytes) -> Path:
    artifacts.mkdir(parents=True, exist_ok=True)
    path = artifacts / f"{kind}-{hashlib.sha1(data).hexdigest()[:16]}"
    path.write_bytes(data)
    print(f"saved {kind} input to {path}", file=sys.stderr)
    return path


# --------------------------------------------------------------------------- atheris engine
def run_atheris(atheris, run_one, seeds: list[bytes], args, stats: Stats) -> int:
    seed_dir = Path(tempfile.mkdtemp(prefix="veerdesk-fuzz-seeds-"))
    for data in seeds:
        (seed_dir / hashlib.sha1(data).hexdigest()).write_bytes(data)
    corpus = Path(args.corpus) if args.corpus else Path(tempfile.mkdtemp(prefix="veerdesk-fuzz-corpus-"))
    corpus.mkdir(parents=True, exist_ok=True)
    flags = [f"-timeout={args.timeout}", f"-max_len={args.max_len}", f"-rss_limit_mb={args.rss_limit_mb}",
             f"-artifact_prefix={args.artifacts}/", "-print_final_stats=1", f"-seed={args.seed}"]
    if args.runs:
        flags.append(f"-runs={args.runs}")
    if args.seconds:
        flags.append(f"-max_total_time={int(args.seconds)}")
    Path(args.artifacts).mkdir(parents=True, exist_ok=True)
    atheris.Setup([sys.argv[0], *flags, str(corpus), str(seed_dir)], run_one)
    atheris.Fuzz()  # never returns: libFuzzer exits (0 when done, non-zero on crash or timeout)
    return 0


# --------------------------------------------------------------------------- fallback engine
INTERESTING = [b"\x00", b"\xff", b"\x7f\xff\xff\xff", b"\xff\xff\xff\xff", b"\x80\x00\x00\x00", b"NaN",
               b"Infinity", b"-1", b"0", b"1e400", b"9" * 400, b"[", b"{", b"\"", b"null", b"true", b"[[[[",
               b"\\u0000", b"%PDF-", b"II*\x00", b"\x89PNG"]


def mutate(data: bytes, rng: random.Random, seeds: list[bytes], max_len: int) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        pos = rng.randrange(len(out) + 1)
        if op == 0 and out:
            out[min(pos, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif op == 2:
            out[pos:pos] = rng.choice(INTERESTING)
        elif op == 3 and out:
            end = min(len(out), pos + rng.randint(1, 64))
            del out[pos:end]
        elif op == 4 and out:
            start = rng.randrange(len(out))
            out[pos:pos] = out[start:start + rng.randint(1, 64)]
        elif op == 5:
            other = rng.choice(seeds)
            start = rng.randrange(len(other) + 1)
            out[pos:] = other[start:start + rng.randint(1, 256)] + out[pos:]
        elif op == 6 and len(out) >= 4:
            at = rng.randrange(len(out) - 3)
            out[at:at + 4] = rng.choice(INTERESTING[:5]).ljust(4, b"\x00")[:4]
    return bytes(out[:max_len])


def run_mutate(run_one, seeds: list[bytes], args, stats: Stats) -> int:
    rng = random.Random(args.seed)
    pool = list(seeds) or [b""]
    deadline = time.monotonic() + args.seconds if args.seconds else None

    def on_alarm(signum, frame):
        raise Hang()

    signal.signal(signal.SIGALRM, on_alarm)
    count = 0
    try:
        while True:
            if args.runs and count >= args.runs:
                break
            if deadline and time.monotonic() > deadline:
                break
            data = pool[count] if count < len(seeds) else mutate(rng.choice(pool), rng, pool, args.max_len)
            count += 1
            signal.alarm(args.timeout)
            try:
                run_one(data)
            except Hang:
                stats.data["hangs"] += 1
                _save(Path(args.artifacts), "timeout", data)
                return EXIT_HANG
            except Exception:
                traceback.print_exc()
                return EXIT_CRASH
            finally:
                signal.alarm(0)
            if count % 50 == 0 and len(pool) < 2000:
                pool.append(data)  # no coverage feedback: keep a sample of mutants as further parents
    finally:
        stats.write()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=("image", "layout", "project"))
    parser.add_argument("--runs", type=int, default=0, help="number of inputs (0: no limit)")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: no limit)")
    parser.add_argument("--engine", choices=("auto", "atheris", "mutate"), default="auto")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take before it is a hang")
    parser.add_argument("--max-len", type=int, default=65_536)
    parser.add_argument("--rss-limit-mb", type=int, default=3072)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", default=None, help="folder kept between runs (atheris only)")
    parser.add_argument("--artifacts", default=str(Path(tempfile.gettempdir()) / "veerdesk-fuzz-artifacts"))
    parser.add_argument("--stats", default=None, help="write the statistics to this JSON file")
    parser.add_argument("--strict", action="store_true", help="known defects count as crashes too")
    args = parser.parse_args(argv)
    if not args.runs and not args.seconds:
        parser.error("give --runs or --seconds")

    atheris = None
    if args.engine in ("auto", "atheris"):
        try:
            import atheris
        except ImportError:
            if args.engine == "atheris":
                parser.error("atheris is not installed (pip install atheris)")
    engine = "atheris" if atheris else "mutate"
    stats = Stats(args.target, engine, Path(args.stats) if args.stats else None)

    import targets

    if atheris:
        with atheris.instrument_imports(include=["veerdesk", "PIL", "zipfile", "json"]):
            targets.load()
    else:
        targets.load()
    if args.target not in targets.TARGETS:
        print(f"fuzz target '{args.target}' is not available yet (its module does not exist)", file=sys.stderr)
        return 0
    seeds = [s for s in targets.seeds(args.target) if len(s) <= args.max_len]
    run_one = make_runner(targets.TARGETS[args.target], stats, args.strict, Path(args.artifacts),
                          last=args.runs if atheris else 0)
    if atheris:
        return run_atheris(atheris, run_one, seeds, args, stats)
    try:
        return run_mutate(run_one, seeds, args, stats)
    finally:
        targets.cleanup()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    sys.exit(main())
