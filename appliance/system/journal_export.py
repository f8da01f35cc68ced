"""A plain-text export of the daemon's journal (``journalctl -u smeshbox --no-pager -o short-iso``),
made on request for the logs download.

It runs in the calling (worker) thread, streams journalctl's output and keeps only the newest
``max_bytes`` (whole lines, with a note that older lines were left out), so a journal of months
can neither fill memory nor the disk; a watchdog timer kills a journalctl that hangs. The result is
written atomically to ``<export_dir>/journal.txt``, so a download in progress keeps reading the
previous export while a new one replaces it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from appliance.system.files import atomic_write_bytes

EXPORT_NAME = "journal.txt"
MAX_EXPORT_BYTES = 4 * 1024 * 1024
#: where a running journald keeps its socket and (persistent) files
JOURNAL_PLACES = (Path("/run/systemd/journal/socket"), Path("/var/log/journal"), Path("/run/log/journal"))
TRUNCATED = b"-- older journal lines left out: the export keeps the newest %d bytes --\n"


class JournalError(Exception):
    """journalctl is missing, failed, or took too long; the message says which."""


class JournalExport:
    """Exports the journal of ``unit``. ``directory`` reads journal files from a folder instead of
    the system journal (``journalctl --directory``), which is also how the tests feed it real
    journal files."""

    def __init__(self, unit: str = "smeshbox", *, directory: str | os.PathLike[str] | None = None,
                 journalctl: str = "journalctl", export_dir: str | os.PathLike[str] | None = None,
                 max_bytes: int = MAX_EXPORT_BYTES, timeout: float = 60.0) -> None:
        if max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024")
        self.unit, self.max_bytes, self.timeout = unit, max_bytes, timeout
        self.directory = Path(directory) if directory is not None else None
        self.journalctl = shutil.which(journalctl)
        self._export_dir = Path(export_dir) if export_dir is not None else None

    def available(self) -> bool:
        """Whether there is a journal to export: journalctl is installed and journal files exist."""
        if self.journalctl is None:
            return False
        if self.directory is not None:
            return self.directory.is_dir()
        return any(place.exists() for place in JOURNAL_PLACES)

    def command(self) -> list[str]:
        cmd = [self.journalctl or "journalctl", "-u", self.unit, "--no-pager", "-o", "short-iso"]
        if self.directory is not None:
            cmd.insert(1, f"--directory={self.directory}")
        return cmd

    @property
    def export_dir(self) -> Path:
        if self._export_dir is None:
            self._export_dir = Path(tempfile.mkdtemp(prefix="smeshbox-journal-"))  # 0700, ours alone
        self._export_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self._export_dir

    def export(self) -> Path:
        """Blocking: runs journalctl and returns the path of the fresh export."""
        if not self.available():
            raise JournalError("there is no journal on this machine")
        data = self._run()
        target = self.export_dir / EXPORT_NAME
        atomic_write_bytes(target, data, mode=0o600)
        return target

    def _run(self) -> bytes:
        with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty stderr cannot stall us
            code, output = self._stream(errors)
            errors.seek(0)
            err = errors.read(64 * 1024)
        if code < 0:
            raise JournalError(f"journalctl took longer than {self.timeout:.0f}s and was stopped")
        if code != 0:
            reason = err.decode(errors="replace").strip().splitlines()
            raise JournalError(f"journalctl failed ({code}): {reason[-1] if reason else 'no message'}")
        return output

    def _stream(self, errors: object) -> tuple[int, bytes]:
        try:
            proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=errors,  # type: ignore[arg-type]
                                    stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise JournalError(f"cannot run journalctl: {exc.strerror or exc}") from exc
        room = self.max_bytes - len(TRUNCATED % self.max_bytes)
        timer = threading.Timer(self.timeout, proc.kill)
        timer.start()
        kept, dropped = bytearray(), False
        try:
            assert proc.stdout is not None
            while chunk := proc.stdout.read(64 * 1024):
                kept += chunk
                if len(kept) > self.max_bytes:
                    del kept[: len(kept) - room]
                    dropped = True
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if dropped:  # start at a whole line, say what is missing
            kept = bytearray(TRUNCATED % self.max_bytes) + kept[kept.find(b"\n") + 1:]
        return code, bytes(kept)
