"""Where a model's data came from: a fingerprint of the generator's source code."""

from __future__ import annotations

import hashlib
from pathlib import Path


def generator_fingerprint() -> str | None:
    """SHA-256 over the generator's source files: which generator made a model's data and eval pages."""
    try:
        import veerdesk.synth as synth
    except ImportError:
        return None
    digest = hashlib.sha256()
    for path in sorted(Path(synth.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
