"""A short fuzz run of each reader in CI, and checks that the harness really catches crashes and hangs.

The long runs (>= 10,000 inputs each) are documented in docs/RELIABILITY.md.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import pytest

from veerdesk.core.errors import LayoutError

ROOT = Path(__file__).resolve().parents[2]
RUN_PY = ROOT / "fuzz" / "run.py"
SHORT_RUNS = 300


def _load_runner():
    sys.path.insert(0, str(RUN_PY.parent))
    spec = importlib.util.spec_from_file_location("veerdesk_fuzz_run", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


runner = _load_runner()


@pytest.mark.parametrize("target", ["image", "layout", "project"])
def test_short_fuzz_run(target, tmp_path):
    stats = tmp_path / "stats.json"
    # TMPDIR: the harness's scratch files, seeds and corpus stay inside this test's folder.
    env = dict(os.environ, PYTHONWARNINGS="ignore", TMPDIR=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, str(RUN_PY), target, "--runs", str(SHORT_RUNS), "--timeout", "10",
         "--stats", str(stats), "--artifacts", str(tmp_path / "artifacts")],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    tail = (proc.stdout + proc.stderr)[-4000:]
    if "is not available yet" in proc.stderr:
        pytest.skip(f"the {target} reader does not exist yet")
    assert proc.returncode == 0, tail
    result = json.loads(stats.read_text())
    assert result["inputs"] >= SHORT_RUNS, result
    assert result["crashes"] == 0 and result["hangs"] == 0, tail


def _stats():
    return runner.Stats("selftest", "mutate", None)


def test_runner_lets_veerdesk_errors_pass_and_stops_on_anything_else(tmp_path):
    def target(data: bytes) -> None:
        if data == b"refuse":
            raise LayoutError("refused")
        if data == b"crash":
            raise KeyError("boom")

    stats = _stats()
    run_one = runner.make_runner(target, stats, strict=False, artifacts=tmp_path)
    run_one(b"fine")
    run_one(b"refuse")
    with pytest.raises(KeyError):
        run_one(b"crash")
    assert stats.data["inputs"] == 3 and stats.data["handled"] == 2 and stats.data["crashes"] == 1
    assert [p.read_bytes() for p in tmp_path.glob("crash-*")] == [b"crash"]


def test_known_defects_are_counted_unless_strict(tmp_path, monkeypatch):
    def target(data: bytes) -> None:
        raise ZeroDivisionError("pretend defect")

    signature = runner.known_defects.signature
    try:
        target(b"")
    except ZeroDivisionError as exc:
        key = signature(exc)
    assert key[0] == "ZeroDivisionError" and key[2] == "target"
    monkeypatch.setitem(runner.known_defects.KNOWN_DEFECTS, key, "selftest")
    stats = _stats()
    runner.make_runner(target, stats, strict=False, artifacts=tmp_path)(b"x")
    assert stats.data["known_defects"][key] == 1 and stats.data["crashes"] == 0
    with pytest.raises(ZeroDivisionError):
        runner.make_runner(target, _stats(), strict=True, artifacts=tmp_path)(b"x")


def test_mutation_engine_reports_a_hang(tmp_path):
    def slow_target(data: bytes) -> None:
        if data == b"slow":
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # a Python-level infinite loop, interrupted by the alarm
                pass

    stats = _stats()
    run_one = runner.make_runner(slow_target, stats, strict=False, artifacts=tmp_path)
    args = Namespace(seed=1, seconds=0, runs=5, timeout=1, max_len=64, artifacts=str(tmp_path))
    assert runner.run_mutate(run_one, [b"ok", b"slow"], args, stats) == runner.EXIT_HANG
    assert stats.data["hangs"] == 1
    assert [p.read_bytes() for p in tmp_path.glob("timeout-*")] == [b"slow"]


def test_mutations_stay_within_the_length_limit():
    import random

    rng = random.Random(3)
    seeds = [b"{\"version\": 1}", b"II*\x00" + bytes(100)]
    for _ in range(500):
        assert len(runner.mutate(rng.choice(seeds), rng, seeds, 64)) <= 64
