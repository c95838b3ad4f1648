"""VeerDesk: digitize curves from scanned paper well logs."""

import os as _os

__version__ = "0.1.0"

# torch's OpenMP threads spin while they wait for work by default. When another process (or our own UI
# thread) holds a core, the spinning threads fight the one doing the work and tiled inference on a
# 2-core machine ran 4-5x slower (0.7-0.9 MP/s against 3.7-5.0 MP/s with passive waiting; see
# bench/bench_threads.py). It must be set before torch loads its OpenMP runtime; a user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
