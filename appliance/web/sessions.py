"""The admin sessions of the web page, kept on disk so a restart of the box does not log the person
out (an open page reconnects by itself instead of hanging).

Only SHA-256 digests of the session tokens are stored (a copy of the file cannot be replayed as a
cookie), with each session's CSRF token and its created / last-seen times in wall-clock seconds.
The file is written atomically (``sessions.json``, mode 0600) off the event loop; "last seen" is
written at most once a minute per session, so a busy page does not wear the SD card. Expired
sessions are dropped when the file is read. Revoking (log out, password change, factory reset) is
written at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from appliance.system.files import atomic_write_json

log = logging.getLogger(__name__)

SESSIONS_FILE = "sessions.json"
TOUCH_WRITE_EVERY = 60.0  # seconds of "last seen" precision kept on disk


@dataclass
class Session:
    token_hash: bytes
    csrf: str
    created: float
    last_seen: float


class SessionStore:
    """A dict of token digest → :class:`Session` that mirrors itself to ``sessions.json``."""

    def __init__(self, state_dir: str | Path, clock: Callable[[], float], idle_timeout: float,
                 max_age: float) -> None:
        self.path = Path(state_dir) / SESSIONS_FILE
        self.clock = clock
        self.idle_timeout, self.max_age = idle_timeout, max_age
        self._sessions: dict[bytes, Session] = self._load()
        self._written_seen: dict[bytes, float] = {k: s.last_seen for k, s in self._sessions.items()}
        self._flush: asyncio.Task[None] | None = None
        self._dirty = False

    def _load(self) -> dict[bytes, Session]:
        try:
            raw = json.loads(self.path.read_text())
            items = raw["sessions"]
            sessions = {}
            for item in items:
                s = Session(bytes.fromhex(item["token_hash"]), str(item["csrf"]),
                            float(item["created"]), float(item["last_seen"]))
                if len(s.token_hash) == 32 and not self.expired(s):
                    sessions[s.token_hash] = s
            return sessions
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Losing sessions only means logging in again; never refuse to start over it.
            log.warning("%s is damaged (%s); everyone logs in again", self.path, exc)
            return {}

    def expired(self, s: Session) -> bool:
        now = self.clock()
        return now - s.last_seen > self.idle_timeout or now - s.created > self.max_age

    # ---- the dict the Auth uses
    def get(self, key: bytes) -> Session | None:
        return self._sessions.get(key)

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[bytes]:
        return iter(list(self._sessions))

    def add(self, session: Session) -> None:
        self._sessions[session.token_hash] = session
        self._changed()

    def remove(self, key: bytes) -> None:
        if self._sessions.pop(key, None) is not None:
            self._changed()

    def keep_only(self, keys: set[bytes]) -> None:
        before = len(self._sessions)
        self._sessions = {k: v for k, v in self._sessions.items() if k in keys}
        if len(self._sessions) != before:
            self._changed()

    def oldest(self) -> bytes:
        return min(self._sessions, key=lambda k: self._sessions[k].last_seen)

    def touched(self, session: Session) -> None:
        if session.last_seen - self._written_seen.get(session.token_hash, 0.0) >= TOUCH_WRITE_EVERY:
            self._changed()

    # ---- persistence
    def _document(self) -> dict[str, object]:
        items = [{**asdict(s), "token_hash": s.token_hash.hex()} for s in self._sessions.values()]
        return {"sessions": items}

    def _write(self) -> None:
        atomic_write_json(self.path, self._document(), 0o600)
        self._written_seen = {k: s.last_seen for k, s in self._sessions.items()}

    def _changed(self) -> None:
        self._dirty = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a script, a test): write now
            self._dirty = False
            self._write()
            return
        if self._flush is None or self._flush.done():
            self._flush = loop.create_task(self.flush(), name="sessions-flush")

    async def flush(self) -> None:
        """Writes pending changes (in a worker thread); returns once they are on disk."""
        while self._dirty:
            self._dirty = False
            doc = self._document()  # taken on the loop: the thread never sees the dict change
            seen = {k: s.last_seen for k, s in self._sessions.items()}
            try:
                await asyncio.to_thread(atomic_write_json, self.path, doc, 0o600)
            except OSError as exc:
                log.error("cannot save sessions to %s: %s", self.path, exc)
                return
            self._written_seen = seen

    async def aclose(self) -> None:
        if self._flush is not None:
            with contextlib.suppress(Exception):
                await self._flush
        await self.flush()
