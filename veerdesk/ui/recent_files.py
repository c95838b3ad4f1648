"""The recently opened scans and projects, kept as JSON in the user's state folder."""

from __future__ import annotations

import json
from pathlib import Path

from veerdesk.core import project as projects
from veerdesk.core.atomic import atomic_write_text
from veerdesk.core.errors import VeerDeskError

MAX_RECENT = 10


class RecentFiles:
    """Recently opened scans and projects, kept in the user's state folder."""

    def __init__(self) -> None:
        self.path = projects.state_dir() / "recent.json"

    def load(self) -> list[str]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
            return [p for p in data if isinstance(p, str)][:MAX_RECENT]
        except (OSError, ValueError):
            return []

    def add(self, path: str) -> list[str]:
        items = [str(Path(path).absolute())] + [p for p in self.load() if p != str(Path(path).absolute())]
        items = items[:MAX_RECENT]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(items, indent=1), keep_backup=False)
        except (OSError, VeerDeskError):
            pass  # a recent-files list is a convenience, never an error
        return items
