"""The single-instance lock: two daemons must never run on the same state directory.

An exclusive, non-blocking ``fcntl.flock`` on ``<state>/lock``. The kernel drops it when the holder
dies (even on ``kill -9``), so a stale lock file never blocks a restart; the file holds the holder's
pid only so the refusal message can name it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class AlreadyRunningError(RuntimeError):
    """Another process holds the lock; ``pid`` is the holder's pid when known."""

    def __init__(self, path: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"another Smeshbox daemon ({who}) is already running on this state directory "
            f"({path.parent}); stop it first or use another --state-dir"
        )
        self.path = path
        self.pid = pid


class InstanceLock:
    """``with InstanceLock(state_dir):`` holds the lock for the block (or ``acquire``/``release``)."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.path = Path(state_dir) / "lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise AlreadyRunningError(self.path, pid) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip() or 0) or None
    except (OSError, ValueError):
        return None
