"""Atomic, durable file writes: temp file in the same folder, fsync, rename, fsync the folder.

Everything the appliance persists (config, metadata, node state, identities) goes through here, so a
power cut leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Makes a rename or create inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Replaces ``path`` with ``data`` atomically and durably, with permissions ``mode``."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(target.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str, mode: int = 0o644) -> None:
    atomic_write_bytes(path, text.encode(), mode)


def atomic_write_json(
    path: str | os.PathLike[str], value: Any, mode: int = 0o644, indent: int | None = 2
) -> None:
    atomic_write_text(path, json.dumps(value, indent=indent, sort_keys=False) + "\n", mode)


#: the temp files of :func:`atomic_write_bytes` (".<name>.<mkstemp suffix>.tmp")
_TEMP_RE = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp$")


def remove_stale_temp_files(root: str | os.PathLike[str], skip: tuple[Path, ...] = ()) -> list[Path]:
    """Deletes the temp files a kill -9 or a power cut left inside ``root`` (recursively, but not
    below ``skip`` — e.g. mounted drives); returns what was removed. Call it only while no writer
    runs (the daemon holds its instance lock): a temp file is never the only copy of anything."""
    removed = []
    skipped = {Path(p).resolve() for p in skip}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if (here / d).resolve() not in skipped and not (here / d).is_mount()]
        for name in files:
            if _TEMP_RE.match(name):
                with contextlib.suppress(FileNotFoundError):
                    (here / name).unlink()
                    removed.append(here / name)
    return removed
