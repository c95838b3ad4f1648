"""veerdesk makes torch's OpenMP threads wait passively unless the user chose otherwise (see
veerdesk/__init__.py and bench/bench_threads.py for why)."""

import os
import subprocess
import sys

import pytest

PROBE = "import veerdesk, os; print(os.environ['OMP_WAIT_POLICY'])"


@pytest.mark.parametrize("given,expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_wait_policy_is_passive_unless_set(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given:
        env["OMP_WAIT_POLICY"] = given
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_policy_is_set_before_torch_loads():
    # The OpenMP runtime reads the variable once, when torch loads it: importing veerdesk's inference
    # must not pull torch in before the package has set it.
    code = "import sys, veerdesk; assert 'torch' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
