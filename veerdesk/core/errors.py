"""One error hierarchy whose messages are written for the person using VeerDesk.

Every failure a user can cause (a bad file, a malformed layout, a cancelled run) is raised as a
subclass of :class:`VeerDeskError`; the CLI prints the message on one line and exits with
``exit_code``; the app shows it in a dialog and keeps running.
"""

from __future__ import annotations


class VeerDeskError(Exception):
    """Base class: a problem the user can understand and act on."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # One line: the CLI prints it verbatim after "error: ".
        super().__init__(" ".join(str(message).split()))

    @property
    def message(self) -> str:
        return str(self)


class ImageError(VeerDeskError):
    """An image cannot be opened: unreadable, truncated, unsupported or too large."""

    exit_code = 3


class LayoutError(VeerDeskError):
    """A layout JSON is malformed or inconsistent; the message names the key."""

    exit_code = 4


class ModelError(VeerDeskError):
    """Weights are missing, tampered with, or do not match the expected model."""

    exit_code = 5


class ProjectError(VeerDeskError):
    """A project file cannot be read or written."""

    exit_code = 6


class ExportError(VeerDeskError):
    """Writing an output file (LAS, masks, report) failed; the previous file is intact."""

    exit_code = 7


class CancelledError(VeerDeskError):
    """Long work was cancelled by the user; nothing was changed."""

    exit_code = 130
