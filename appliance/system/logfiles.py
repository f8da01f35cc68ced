"""The daemon's own log files under ``<state>/logs``: a size-capped rotating set (``smeshbox.log``,
``smeshbox.log.1`` .. ``.N``) kept *in addition* to journald/stderr, so a person can download the
box's recent history from the phone even when the journal is volatile or absent.

Power-cut safety: files are only ever appended to, and rotation is a chain of renames (each atomic,
the folder fsynced after it), so a cut at any moment leaves every earlier line intact — at worst the
last, unsynced line is short, or one rotation step is missing from the numbering. WARNING and worse
are fsynced at once (they are what a person needs after a crash); the rest reach the card with the
kernel's writeback. The total is capped at ``max_bytes * (backups + 1)`` so the SD card never fills.

Writes happen on a :class:`logging.handlers.QueueListener` thread, never on the event loop.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import logging.handlers
import os
import queue
from pathlib import Path

from appliance.system.files import fsync_dir

LOG_NAME = "smeshbox.log"
MAX_BYTES = 1024 * 1024
BACKUPS = 3
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class DurableRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """``RotatingFileHandler`` that fsyncs the file before it is rotated away, fsyncs the folder after
    the renames, fsyncs records at WARNING and above, and creates files with mode 0640."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int = MAX_BYTES,
                 backups: int = BACKUPS) -> None:
        if max_bytes < 1024 or backups < 1:
            raise ValueError("a rotating log needs max_bytes >= 1024 and at least one backup")
        self.folder = Path(path).parent
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        if record.levelno >= logging.WARNING and self.stream is not None:
            with contextlib.suppress(OSError, ValueError):
                os.fsync(self.stream.fileno())

    def doRollover(self) -> None:
        if self.stream is not None:
            with contextlib.suppress(OSError, ValueError):
                self.stream.flush()
                os.fsync(self.stream.fileno())
        super().doRollover()
        fsync_dir(self.folder)


class LogFile:
    """The rotating file behind a queue: ``handler`` goes on the root logger, the listener thread does
    the writing. ``close()`` drains the queue and closes the file (also registered with atexit)."""

    def __init__(self, folder: str | os.PathLike[str], max_bytes: int = MAX_BYTES, backups: int = BACKUPS,
                 name: str = LOG_NAME) -> None:
        self.path = Path(folder) / name
        self.file_handler = DurableRotatingFileHandler(self.path, max_bytes, backups)
        self.file_handler.setFormatter(logging.Formatter(FILE_FORMAT))
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self.handler = logging.handlers.QueueHandler(self._queue)
        self._listener: logging.handlers.QueueListener | None = logging.handlers.QueueListener(
            self._queue, self.file_handler, respect_handler_level=True
        )
        self._listener.start()
        atexit.register(self.close)

    def close(self) -> None:
        if self._listener is None:
            return
        self._listener.stop()
        self._listener = None
        self.file_handler.close()
        atexit.unregister(self.close)
