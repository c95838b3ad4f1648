"""Project files and crash-recovery files.

A project (``*.vdproj``) is one zip archive, written atomically, holding:

- ``project.json`` — format tag and version, the image path (absolute and relative to the project), the
  layout, the curve names, review settings and the edit log (each command's ``to_dict``, with bulky model
  results summarised);
- ``traces.npz`` — per curve: depth, value, confidence and the per-sample reviewed flags;
- ``class_map.png`` / ``confidence.png`` — the model's masks, when present and asked for.

Recovery files are the same format (without masks) under the user's state folder, named by process id,
written every minute by the app and deleted on a clean exit; a leftover one from a process that is no
longer running means a crash, and the app offers it on start.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from veerdesk.core.atomic import atomic_output
from veerdesk.core.document import Document, SegmentationMasks, make_trace
from veerdesk.core.errors import LayoutError, ProjectError
from veerdesk.core.layout import Layout

PROJECT_FORMAT = "veerdesk-project"
PROJECT_VERSION = 1
PROJECT_SUFFIX = ".vdproj"
RECOVERY_PREFIX = "recovery-"
# A project's JSON part is small; anything bigger is not ours.
MAX_JSON_BYTES = 50_000_000


@dataclass
class ProjectData:
    document: Document
    edit_log: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    # For recovery files: where the user last saved the project (None if never saved).
    project_path: str | None = None
    saved_at: float | None = None


# --------------------------------------------------------------------------- writing
def _summarise(entry: dict[str, Any]) -> dict[str, Any]:
    # Model results are stored once, in traces.npz; the log only says which curves a run touched.
    if "traces" in entry and isinstance(entry["traces"], dict):
        entry = dict(entry, traces=sorted(entry["traces"]))
    return entry


def _png(array: np.ndarray) -> bytes:
    import cv2  # core may use opencv; imported here so reading JSON-only projects stays light

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(array, dtype=np.uint8), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover - cv2 only fails here on absurd shapes
        raise ProjectError("cannot encode the segmentation masks")
    return buf.tobytes()


def project_bytes_to(path: Path, doc: Document, *, edit_log: list[dict[str, Any]] | None = None,
                     settings: dict[str, Any] | None = None, project_path: str | None = None,
                     include_masks: bool = True) -> None:
    """Write the archive to ``path`` (a temp file from :func:`atomic_output`)."""
    names = list(doc.traces)
    meta = {
        "format": PROJECT_FORMAT,
        "version": PROJECT_VERSION,
        "saved_at": time.time(),
        "image_path": os.path.abspath(doc.image_path) if doc.image_path else None,
        "image_relative": _relative(doc.image_path, project_path),
        "layout": doc.layout.to_dict() if doc.layout is not None else None,
        "curves": names,
        "settings": settings or {},
        "project_path": project_path,
        "edits": [_summarise(e) for e in (edit_log or [])],
    }
    arrays: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        t = doc.traces[name]
        arrays[f"c{i}_depth"] = np.asarray(t.depth, dtype=np.float64)
        arrays[f"c{i}_value"] = np.asarray(t.value, dtype=np.float64)
        arrays[f"c{i}_confidence"] = np.asarray(t.confidence, dtype=np.float64)
        arrays[f"c{i}_reviewed"] = doc.reviewed_mask(name)
    npz = io.BytesIO()
    np.savez_compressed(npz, **arrays)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.json", json.dumps(meta, indent=1))
        zf.writestr("traces.npz", npz.getvalue())
        if include_masks and doc.masks is not None:
            # PNG is already compressed: store, do not deflate twice.
            zf.writestr(zipfile.ZipInfo("class_map.png"), _png(doc.masks.class_map))
            zf.writestr(zipfile.ZipInfo("confidence.png"), _png(doc.masks.confidence))


def _relative(image_path: str | None, project_path: str | None) -> str | None:
    if not image_path or not project_path:
        return None
    try:
        return os.path.relpath(os.path.abspath(image_path), os.path.dirname(os.path.abspath(project_path)))
    except ValueError:  # pragma: no cover - different drives on Windows
        return None


def save_project(path: str | os.PathLike, doc: Document, *, edit_log: list[dict[str, Any]] | None = None,
                 settings: dict[str, Any] | None = None, include_masks: bool = True) -> None:
    """Save atomically: the previous project file stays intact if anything fails."""
    target = Path(path)
    with atomic_output(target, keep_backup=True) as tmp:
        project_bytes_to(tmp, doc, edit_log=edit_log, settings=settings, project_path=str(target.absolute()),
                         include_masks=include_masks)


# --------------------------------------------------------------------------- reading
# Everything a damaged or tampered archive can make zipfile, zlib, json or numpy raise while we read it.
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, KeyError,
                   ValueError, TypeError, OSError, RecursionError, OverflowError)
MAX_PATH_CHARS = 4096


def load_project(path: str | os.PathLike) -> ProjectData:
    """Read a project; any damage gives one :class:`ProjectError` naming the file (never another exception)."""
    p = Path(path)
    if not p.is_file():
        raise ProjectError(f"project file not found: {p}")
    meta, npz_bytes, masks = _read_archive(p)
    if not isinstance(meta, dict) or meta.get("format") != PROJECT_FORMAT:
        raise ProjectError(f"{p} is not a VeerDesk project")
    if meta.get("version") != PROJECT_VERSION:
        raise ProjectError(f"{p} was written by a newer VeerDesk (project version {str(meta.get('version'))[:20]})")
    layout = None
    if meta.get("layout") is not None:
        try:
            layout = Layout.from_dict(meta["layout"])
        except LayoutError as exc:
            raise ProjectError(f"{p}: the stored layout is invalid: {exc}") from exc
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise ProjectError(f"{p}: the stored layout is damaged") from exc
    doc = Document(image_path=_resolve_image(meta, p), layout=layout, masks=masks)
    names = meta.get("curves") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ProjectError(f"{p}: the list of curves is damaged")
    if names:
        if npz_bytes is None:
            raise ProjectError(f"{p} lists curves but holds no trace data; the file is damaged")
        _read_traces(doc, names, npz_bytes, p)
    edits = meta.get("edits") if isinstance(meta.get("edits"), list) else []
    settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
    project_path = meta.get("project_path") if isinstance(meta.get("project_path"), str) else None
    saved_at = meta.get("saved_at") if isinstance(meta.get("saved_at"), (int, float)) else None
    return ProjectData(doc, edits, settings, project_path, saved_at)


def _read_archive(p: Path) -> tuple[object, bytes | None, SegmentationMasks | None]:
    try:
        with zipfile.ZipFile(p) as zf:
            info = zf.getinfo("project.json")
            if info.file_size > MAX_JSON_BYTES:
                raise ProjectError(f"{p} is not a VeerDesk project (project.json is implausibly large)")
            text = zf.read("project.json").decode("utf-8")
            meta = json.loads(text)
            names_in_zip = set(zf.namelist())
            npz_bytes = zf.read("traces.npz") if "traces.npz" in names_in_zip else None
            masks = _read_masks(zf, names_in_zip, p)
    except ProjectError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProjectError(f"{p}: the project description is damaged (not valid JSON text)") from exc
    except RecursionError as exc:
        raise ProjectError(f"{p}: the project description is nested too deeply to be a VeerDesk project") from exc
    except (NotImplementedError, RuntimeError) as exc:
        raise ProjectError(f"{p} uses zip compression or encryption VeerDesk does not write; not a project") from exc
    except PermissionError as exc:
        raise ProjectError(f"cannot read project {p}: permission denied") from exc
    except _ARCHIVE_ERRORS as exc:
        raise ProjectError(f"{p} is not a VeerDesk project or is damaged") from exc
    return meta, npz_bytes, masks


def _valid_path_text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_PATH_CHARS and "\x00" not in value


def _resolve_image(meta: dict[str, Any], project: Path) -> str | None:
    rel, path = meta.get("image_relative"), meta.get("image_path")
    for value in (rel, path):
        if value is not None and not _valid_path_text(value):
            raise ProjectError(f"{project}: the stored image path is not a valid file name")
    if rel is not None:
        try:
            candidate = (project.parent / rel).resolve()
            if candidate.exists():
                return str(candidate)
        except (OSError, ValueError, RuntimeError):
            pass  # fall back to the absolute path
    return path


def _read_traces(doc: Document, names: list[str], npz_bytes: bytes, p: Path) -> None:
    try:
        with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
            for i, name in enumerate(names):
                trace = make_trace(name, npz[f"c{i}_depth"], npz[f"c{i}_value"], npz[f"c{i}_confidence"])
                reviewed = npz[f"c{i}_reviewed"]
                if reviewed.shape != trace.depth.shape:
                    raise ProjectError(f"{p}: review flags of {name[:64]} do not match its depth samples")
                doc.set_trace(trace)
                doc.set_reviewed(name, reviewed)
    except ProjectError:
        raise
    except _ARCHIVE_ERRORS as exc:
        raise ProjectError(f"{p}: trace data is damaged") from exc


def _read_masks(zf: zipfile.ZipFile, names: set[str], p: Path) -> SegmentationMasks | None:
    if not {"class_map.png", "confidence.png"} <= names:
        return None
    import cv2

    arrays = []
    for name in ("class_map.png", "confidence.png"):
        data = np.frombuffer(zf.read(name), dtype=np.uint8)
        try:
            # OpenCV raises its own cv2.error (not ValueError) on empty or hostile buffers.
            img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
        except cv2.error:
            img = None
        if img is None or img.ndim != 2 or img.dtype != np.uint8:
            raise ProjectError(f"{p}: {name} is damaged")
        arrays.append(img)
    if arrays[0].shape != arrays[1].shape:
        raise ProjectError(f"{p}: the stored masks have different sizes")
    return SegmentationMasks(arrays[0], arrays[1])


# --------------------------------------------------------------------------- crash recovery
def state_dir() -> Path:
    """Where the app keeps recovery files and recent-file lists (``VEERDESK_STATE_DIR`` overrides)."""
    override = os.environ.get("VEERDESK_STATE_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "veerdesk"


def recovery_path(pid: int | None = None) -> Path:
    return state_dir() / "recovery" / f"{RECOVERY_PREFIX}{os.getpid() if pid is None else pid}{PROJECT_SUFFIX}"


def write_recovery(doc: Document, *, edit_log: list[dict[str, Any]] | None = None,
                   settings: dict[str, Any] | None = None, project_path: str | None = None,
                   pid: int | None = None) -> Path:
    """Write this session's recovery file (masks left out: they can be recomputed, edits cannot)."""
    target = recovery_path(pid)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(target) as tmp:
        project_bytes_to(tmp, doc, edit_log=edit_log, settings=settings, project_path=project_path,
                         include_masks=False)
    return target


def discard_recovery(pid: int | None = None) -> None:
    try:
        recovery_path(pid).unlink()
    except FileNotFoundError:
        pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's live process
        return True
    except OSError:  # pragma: no cover
        return False
    return True


@dataclass(frozen=True)
class RecoveryFile:
    path: Path
    pid: int
    modified: float


def find_recoveries() -> list[RecoveryFile]:
    """Recovery files left by VeerDesk sessions that are no longer running, newest first."""
    folder = state_dir() / "recovery"
    found = []
    if not folder.is_dir():
        return found
    for path in folder.glob(f"{RECOVERY_PREFIX}*{PROJECT_SUFFIX}"):
        try:
            pid = int(path.name[len(RECOVERY_PREFIX) : -len(PROJECT_SUFFIX)])
        except ValueError:
            continue
        if not _alive(pid):
            found.append(RecoveryFile(path, pid, path.stat().st_mtime))
    return sorted(found, key=lambda r: r.modified, reverse=True)


def adopt_recovery(recovery: RecoveryFile) -> ProjectData:
    """Load a crashed session's recovery file; the file is left in place until the user saves or discards."""
    return load_project(recovery.path)


def remove_recovery_file(recovery: RecoveryFile) -> None:
    try:
        recovery.path.unlink()
    except FileNotFoundError:
        pass


def remove_partial_recoveries() -> None:
    """Delete half-written recovery files of dead sessions.

    A session killed during an autosave leaves :func:`atomic_output`'s temp file
    (``.recovery-PID.vdproj.XXXX.tmp``) beside its last complete recovery file; nothing else ever
    removes it, and it can be megabytes.
    """
    folder = state_dir() / "recovery"
    if not folder.is_dir():
        return
    for path in folder.glob(f".{RECOVERY_PREFIX}*{PROJECT_SUFFIX}.*.tmp"):
        pid_text = path.name[len(RECOVERY_PREFIX) + 1 :].split(".", 1)[0]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            try:
                path.unlink()
            except OSError:
                pass
