"""Logging setup: journald when running under systemd, stderr otherwise — plus, when asked, the
size-capped rotating file under ``<state>/logs`` (:mod:`appliance.system.logfiles`).

systemd sets ``JOURNAL_STREAM`` (device:inode of stderr) for services whose stderr goes to the
journal; when it matches our stderr and the journal binding exists, records go to journald with
their level and logger name as structured fields. Anything else logs plain lines to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from appliance.system.logfiles import BACKUPS, MAX_BYTES, LogFile

try:
    from systemd import journal as _journal
except ImportError:  # pragma: no cover - depends on the machine
    _journal = None

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_log_file: LogFile | None = None


def under_journald() -> bool:
    stream = os.environ.get("JOURNAL_STREAM", "")
    if not stream or ":" not in stream:
        return False
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    dev, _, ino = stream.partition(":")
    return f"{st.st_dev}" == dev and f"{st.st_ino}" == ino


def setup_logging(level: int = logging.INFO, log_dir: str | os.PathLike[str] | None = None,
                  max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> str:
    """Configures the root logger (again, if called twice); returns "journald" or "stderr", with
    "+file" when ``log_dir`` is given. Pass ``log_dir`` only once the single-instance lock is held:
    two daemons must never rotate the same files."""
    global _log_file
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if _log_file is not None:
        _log_file.close()
        _log_file = None
    if _journal is not None and under_journald():
        handler: logging.Handler = _journal.JournalHandler(SYSLOG_IDENTIFIER="smeshbox")
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        target = "journald"
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        target = "stderr"
    root.addHandler(handler)
    if log_dir is not None:
        _log_file = LogFile(Path(log_dir), max_bytes, backups)
        root.addHandler(_log_file.handler)
        target += "+file"
    root.setLevel(level)
    return target
