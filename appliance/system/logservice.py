"""The logs download (``appliance.web.services.LogsService``): the daemon's rotating log files in
``<state>/logs`` plus, when the machine has a journal, ``journal.txt`` — a journald export made on
request in a worker thread (:mod:`appliance.system.journal_export`).

File names go through :class:`LogDirectory`'s checks (strict name pattern, resolved path must stay
in the folder), so path traversal is refused in one place.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from appliance.errors import ServiceError
from appliance.system.journal_export import EXPORT_NAME, JournalError, JournalExport

_LOG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class LogDirectory:
    """An ``appliance.web.services.LogsService`` over the regular files of one folder. Names are
    checked against a strict pattern *and* the resolved path must stay inside the folder (symlinks
    included), so no name can reach outside it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def names(self) -> list[str]:
        try:
            return sorted(p.name for p in self.root.iterdir() if p.is_file() and _LOG_NAME.match(p.name))
        except FileNotFoundError:
            return []

    async def path(self, name: str) -> Path:
        return await asyncio.to_thread(self._resolve, name)

    def _resolve(self, name: str) -> Path:
        if not _LOG_NAME.match(name):
            raise ServiceError(f"{name!r} is not a log name", "invalid")
        path = (self.root / name).resolve()
        if path.parent != self.root or not path.is_file():
            raise ServiceError(f"no log named {name!r}", "not_found")
        return path



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
