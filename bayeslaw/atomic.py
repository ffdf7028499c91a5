"""Atomic writes: a reader sees the old file (or directory) or the new one, never a part.

Every file bayeslaw writes goes through here: a temporary sibling is written in full, then
renamed over the target with :func:`os.replace` (atomic on POSIX within one filesystem).
Written files are world-readable (``0o644``), as a plain ``open(..., "w")`` would leave
them; :func:`tempfile.mkstemp` alone would make them private. Temporary siblings that a
killed writer left behind (older than :data:`STALE_AFTER_S`) are removed by the next write.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["atomic_directory", "write_bytes", "write_json", "write_text"]

#: Permissions of every written file.
FILE_MODE = 0o644
#: A temporary sibling older than this (seconds) was left by a killed writer: a write
#: takes well under a second once its content exists, so it is removed.
STALE_AFTER_S = 600.0


def _remove_stale(final: Path) -> None:
    """Remove temporary siblings of ``final`` that a killed writer left behind."""
    cutoff = time.time() - STALE_AFTER_S
    for leftover in final.parent.glob(f".{final.name}.*.tmp"):
        try:
            if leftover.lstat().st_mtime >= cutoff:
                continue
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        except OSError:
            continue


def write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` through a temporary sibling and :func:`os.replace`.

    Creates missing parent directories. Returns the target path.
    """
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) atomically; see :func:`write_bytes`."""
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: str | os.PathLike[str], payload: Mapping[str, Any] | list[Any]) -> Path:
    """Write ``payload`` as indented, key-sorted JSON atomically; see :func:`write_bytes`."""
    return write_text(target, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


@contextmanager
def atomic_directory(target: str | os.PathLike[str], *, replace_if: Any = None) -> Iterator[Path]:
    """Build a directory in a temporary sibling, then swap it into place at ``target``.

    Yields the temporary directory to fill. On a clean exit it replaces ``target``; on an
    exception the temporary directory is removed and ``target`` is left as it was.

    Parameters
    ----------
    target : path
    replace_if : callable, optional
        ``replace_if(target) -> bool`` for an existing, non-empty ``target``: whether it may
        be replaced. When it returns False, :class:`FileExistsError` is raised before
        anything is swapped. Default: any existing directory may be replaced.
    """
    final = Path(target).resolve()
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        _swap(tmp, final, replace_if)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap(tmp: Path, final: Path, replace_if: Any) -> None:
    if not final.exists():
        os.replace(tmp, final)
        return
    if not final.is_dir():
        raise FileExistsError(f"{final} exists and is not a directory")
    if replace_if is not None and any(final.iterdir()) and not replace_if(final):
        raise FileExistsError(f"{final} exists and may not be replaced")
    old = final.with_name(f".{final.name}.old.{os.getpid()}.tmp")
    os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
