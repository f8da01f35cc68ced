"""Logging setup: journald when running under systemd, stderr otherwise.

systemd sets ``JOURNAL_STREAM`` (device:inode of stderr) for services whose stderr goes to the
journal; when it matches our stderr and the journal binding exists, records go to journald with
their level and logger name as structured fields. Anything else logs plain lines to stderr.
"""

from __future__ import annotations

import logging
import os
import sys

try:
    from systemd import journal as _journal
except ImportError:  # pragma: no cover - depends on the machine
    _journal = None

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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


def setup_logging(level: int = logging.INFO) -> str:
    """Configures the root logger once; returns "journald" or "stderr"."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if _journal is not None and under_journald():
        handler: logging.Handler = _journal.JournalHandler(SYSLOG_IDENTIFIER="smeshbox")
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        target = "journald"
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        target = "stderr"
    root.addHandler(handler)
    root.setLevel(level)
    return target
