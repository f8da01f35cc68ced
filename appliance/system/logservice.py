"""The logs download (``appliance.web.services.LogsService``): the daemon's rotating log files in
``<state>/logs`` plus, when the machine has a journal, ``journal.txt`` — a journald export made on
request in a worker thread (:mod:`appliance.system.journal_export`).

File names go through :class:`appliance.web.services.LogDirectory`'s checks (strict name pattern,
resolved path must stay in the folder), so path traversal is refused in one place.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from appliance.system.journal_export import EXPORT_NAME, JournalError, JournalExport
from appliance.web.services import LogDirectory, ServiceError


class ApplianceLogs:
    """``names()`` / ``async path(name)``. ``journal`` None (or without a journal) hides
    ``journal.txt``; whether a journal exists is decided once, so ``names()`` stays cheap."""

    def __init__(self, folder: str | os.PathLike[str], journal: JournalExport | None = None) -> None:
        self.files = LogDirectory(folder)
        self.journal = journal if journal is not None and journal.available() else None
        self._exporting = asyncio.Lock()  # one journalctl at a time, however often the page asks

    def names(self) -> list[str]:
        names = [n for n in self.files.names() if n != EXPORT_NAME and self._servable(n)]
        return [EXPORT_NAME, *names] if self.journal is not None else names

    def _servable(self, name: str) -> bool:
        # LogDirectory lists a symlink that points out of the folder, though path() refuses it
        try:
            self.files._resolve(name)
        except ServiceError:
            return False
        return True

    async def path(self, name: str) -> Path:
        if name != EXPORT_NAME:
            return await self.files.path(name)
        if self.journal is None:
            raise ServiceError("this box has no journal to export", "not_found")
        async with self._exporting:
            try:
                return await asyncio.to_thread(self.journal.export)
            except JournalError as exc:
                raise ServiceError(f"journal export failed: {exc}", "unavailable") from exc
