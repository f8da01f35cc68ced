"""The admin account of the box: one password (argon2id via pynacl, stored atomically in the state
folder), server-side sessions with a CSRF token each, and login rate limiting.

Hashing and verifying are deliberately slow (that is the point of argon2id), so they run in a worker
thread, one at a time: a flood of login attempts can neither block the loop nor make the box allocate
many argon2 buffers at once. Failed attempts are limited per client and for the whole box, and a
locked-out client is refused *before* any hashing happens. Sessions live in memory: a restart asks
the person to log in again, which is the safe default for a box anyone on the LAN can reach.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash

from appliance.system.files import atomic_write_json

MAX_SESSIONS = 64  # bounded memory: the oldest session goes first
MIN_PASSWORD = 8
MAX_PASSWORD = 256
AUTH_FILE = "auth.json"


class AuthError(Exception):
    """A refused credential or session; ``reason`` is safe to show."""


class PasswordPolicyError(AuthError):
    pass


class WrongPasswordError(AuthError):
    pass


class RateLimitedError(AuthError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many failed attempts; try again in {math.ceil(retry_after)} s")
        self.retry_after = retry_after


class AlreadySetError(AuthError):
    pass


class NotSetError(AuthError):
    pass


def check_policy(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise PasswordPolicyError(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")


@dataclass
class Session:
    token_hash: bytes
    csrf: str
    created: float
    last_seen: float


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class RateLimiter:
    """After ``free`` failures a client waits ``base`` seconds, doubling per further failure up to
    ``cap``; a success clears it. A box-wide budget stops guessing spread over many addresses."""

    def __init__(
        self,
        clock: Callable[[], float],
        free: int = 5,
        base: float = 30.0,
        cap: float = 900.0,
        global_per_minute: int = 30,
    ) -> None:
        self.clock, self.free, self.base, self.cap = clock, free, base, cap
        self.global_per_minute = global_per_minute
        self._clients: dict[str, _Failures] = {}
        self._recent: list[float] = []

    def check(self, client: str) -> None:
        now = self.clock()
        entry = self._clients.get(client)
        if entry is not None and entry.locked_until > now:
            raise RateLimitedError(entry.locked_until - now)
        self._recent = [t for t in self._recent if now - t < 60.0]
        if len(self._recent) >= self.global_per_minute:
            raise RateLimitedError(60.0 - (now - self._recent[0]))

    def failed(self, client: str) -> None:
        now = self.clock()
        self._recent.append(now)
        entry = self._clients.setdefault(client, _Failures())
        entry.count += 1
        if entry.count >= self.free:
            entry.locked_until = now + min(self.cap, self.base * 2 ** (entry.count - self.free))
        if len(self._clients) > 10_000:  # bounded memory under an address-spraying flood
            self._clients.pop(next(iter(self._clients)))

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)


class Auth:
    """The password file, the sessions and the limiter. ``clock`` is injectable so expiry and
    lock-out are tested without sleeping."""

    def __init__(
        self,
        state_dir: str | Path,
        clock: Callable[[], float] = time.monotonic,
        idle_timeout: float = 12 * 3600.0,
        max_age: float = 7 * 24 * 3600.0,
        opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ) -> None:
        self.path = Path(state_dir) / AUTH_FILE
        self.clock = clock
        self.idle_timeout, self.max_age = idle_timeout, max_age
        self.opslimit, self.memlimit = opslimit, memlimit
        self.limiter = RateLimiter(clock)
        self._sessions: dict[bytes, Session] = {}
        self._hash_lock = asyncio.Lock()
        self._hash: bytes | None = self._load()

    def _load(self) -> bytes | None:
        try:
            data = json.loads(self.path.read_text())
            return data["password_hash"].encode()
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Never fall back to "no password" (that would re-open onboarding to anyone on the LAN).
            raise AuthError(f"{self.path} is damaged ({exc}); restore it or factory-reset") from exc

    def reload(self) -> None:
        """Re-reads the password file: for a second process (the diagnostics page) that must
        follow a password the daemon changed. Blocking (one small read)."""
        self._hash = self._load()

    @property
    def password_set(self) -> bool:
        return self._hash is not None

    async def _hash_password(self, password: str) -> bytes:
        async with self._hash_lock:
            return await asyncio.to_thread(
                nacl.pwhash.argon2id.str, password.encode(), opslimit=self.opslimit, memlimit=self.memlimit
            )

    async def _verify(self, client: str, password: str) -> None:
        """Checks ``password`` under the limiter; raises RateLimitedError / WrongPasswordError."""
        if self._hash is None:
            raise NotSetError("no admin password is set yet")
        self.limiter.check(client)
        stored = self._hash
        ok = isinstance(password, str) and len(password) <= MAX_PASSWORD
        if ok:
            async with self._hash_lock:
                ok = await asyncio.to_thread(_argon2_verify, stored, password.encode())
        if not ok:
            self.limiter.failed(client)
            raise WrongPasswordError("wrong password")
        self.limiter.succeeded(client)

    async def _store(self, password: str) -> None:
        new_hash = await self._hash_password(password)
        await asyncio.to_thread(atomic_write_json, self.path, {"password_hash": new_hash.decode()}, 0o600)
        self._hash = new_hash

    async def set_initial_password(self, password: str) -> tuple[str, Session]:
        """Onboarding's first step: only while no password exists. Returns a new session."""
        check_policy(password)
        if self._hash is not None:
            raise AlreadySetError("the admin password is already set; log in instead")
        await self._store(password)
        return self._new_session()

    async def login(self, client: str, password: str) -> tuple[str, Session]:
        await self._verify(client, password)
        return self._new_session()

    async def change_password(self, client: str, token: str, old: str, new: str) -> None:
        """Changes the password and ends every *other* session."""
        check_policy(new)
        await self._verify(client, old)
        await self._store(new)
        keep = _digest(token)
        self._sessions = {k: v for k, v in self._sessions.items() if k == keep}

    def _new_session(self) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        while len(self._sessions) >= MAX_SESSIONS:
            self._sessions.pop(min(self._sessions, key=lambda k: self._sessions[k].last_seen))
        session = Session(_digest(token), secrets.token_urlsafe(32), now, now)
        self._sessions[session.token_hash] = session
        return token, session

    def session(self, token: str | None, touch: bool = True) -> Session | None:
        """The live session for a cookie value, or None if missing/expired. ``touch`` counts this as
        activity (a live-update stream checks without keeping an idle session alive)."""
        if not token or len(token) > 128:
            return None
        key = _digest(token)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self.clock()
        if now - session.last_seen > self.idle_timeout or now - session.created > self.max_age:
            del self._sessions[key]
            return None
        if touch:
            session.last_seen = now
        return session

    def logout(self, token: str | None) -> None:
        if token:
            self._sessions.pop(_digest(token), None)

    def end_all_sessions(self) -> None:
        self._sessions.clear()

    @staticmethod
    def csrf_ok(session: Session, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(session.csrf.encode(), presented.encode())


def _digest(token: str) -> bytes:
    # Only hashes of tokens are kept, so a memory dump or log of the table cannot be replayed.
    return hashlib.sha256(token.encode()).digest()


def _argon2_verify(stored: bytes, password: bytes) -> bool:
    try:
        return nacl.pwhash.verify(stored, password)
    except nacl.exceptions.InvalidkeyError:
        return False
