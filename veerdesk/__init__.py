"""VeerDesk: digitize curves from scanned paper well logs."""

import os as _os

__version__ = "0.1.0"

# torch's OpenMP threads spin while they wait for work by default. When another process (or our own UI
# thread) holds a core, the spinning threads fight the one doing the work: tiled inference on the 2-core
# machine fell to 1-2 MP/s, against 3-5 MP/s with passive waiting (1.5-2.9x; bench/bench_threads.py).
# On an idle machine passive waiting costs about 20 %. A desktop is rarely idle, and a 2-4x collapse is
# worse than a 20 % loss, so passive it is. It must be set before torch loads its OpenMP runtime; a
# user's own setting (OMP_WAIT_POLICY=ACTIVE for a dedicated batch machine) wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
