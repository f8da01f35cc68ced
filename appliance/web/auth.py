"""The admin account of the box: one password (argon2id via pynacl, stored atomically in the state
folder), server-side sessions with a CSRF token each, and login rate limiting.

Hashing and verifying are deliberately slow (that is the point of argon2id), so they run in a worker
thread, one at a time: a flood of login attempts can neither block the loop nor make the box allocate
many argon2 buffers at once. Failed attempts are limited per client, counted atomically, and a
locked-out client is refused *before* any hashing happens; guessing spread over many addresses slows
the checks down instead of locking the owner out (:mod:`appliance.web.auth_limit`). Sessions are kept on
disk (:mod:`appliance.web.sessions`: digests only, expiring, revocable), so a restart does not log out.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import nacl.exceptions
import nacl.pwhash

from appliance.system.files import atomic_write_json
from appliance.web.auth_device import DeviceTokens
from appliance.web.auth_limit import LoginLimiter
from appliance.web.auth_limit import RateLimitedError as _RateLimited
from appliance.web.sessions import Session as Session
from appliance.web.sessions import SessionStore

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


class RateLimitedError(_RateLimited, AuthError):
    """Refused by the limiter before any password check (see :mod:`appliance.web.auth_limit`)."""


class AlreadySetError(AuthError):
    pass


class NotSetError(AuthError):
    pass


def check_policy(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise PasswordPolicyError(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
    if _encoded(password) is None:
        raise PasswordPolicyError("the password holds text that is not valid Unicode")


def _encoded(password: object) -> bytes | None:
    """UTF-8 bytes of a password, or None for anything that is not storable text (a lone surrogate)."""
    try:
        return password.encode() if isinstance(password, str) else None
    except UnicodeEncodeError:
        return None




class Auth:
    """The password file, the sessions and the limiter. ``clock`` is injectable so expiry and
    lock-out are tested without sleeping."""

    def __init__(
        self,
        state_dir: str | Path,
        clock: Callable[[], float] | None = None,
        idle_timeout: float = 12 * 3600.0,
        max_age: float = 7 * 24 * 3600.0,
        opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ) -> None:
        self.path = Path(state_dir) / AUTH_FILE
        self.clock = clock or time.monotonic
        self.idle_timeout, self.max_age = idle_timeout, max_age
        self.opslimit, self.memlimit = opslimit, memlimit
        self.limiter = LoginLimiter(self.clock)
        self.devices = DeviceTokens(self.path.parent)
        self._claimed = False  # onboarding's first password is being stored (see set_initial_password)
        # sessions outlive the process: wall-clock times (an injected clock drives both in tests)
        self._sessions = SessionStore(state_dir, clock or time.time, idle_timeout, max_age)
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
        raw = _encoded(password)
        if raw is None:
            raise PasswordPolicyError("the password holds text that is not valid Unicode")
        async with self._hash_lock:
            return await asyncio.to_thread(
                nacl.pwhash.argon2id.str, raw, opslimit=self.opslimit, memlimit=self.memlimit
            )

    async def verify(self, client: str, password: str, device: str | None = None) -> None:
        """Checks the admin password under the limiter (login, password change, key export);
        ``device`` is the client's device token, if it has one (see appliance.web.auth_device).
        Raises NotSetError / RateLimitedError / WrongPasswordError."""
        if self._hash is None:
            raise NotSetError("no admin password is set yet")
        try:
            # counted before the first await: atomic
            attempt = self.limiter.reserve(client, self.devices.check(device))
        except _RateLimited as exc:
            raise RateLimitedError(exc.retry_after) from None
        ok = False
        try:
            async with self.limiter.turn(attempt), self._hash_lock:
                stored, raw = self._hash, _encoded(password)
                if raw is not None and len(password) <= MAX_PASSWORD:
                    ok = await asyncio.to_thread(_argon2_verify, stored, raw)
        except _RateLimited as exc:  # the waiting line was full and this attempt stood worst
            self.limiter.release(attempt)
            raise RateLimitedError(exc.retry_after) from None
        except BaseException:
            self.limiter.release(attempt)
            raise
        self.limiter.finish(attempt, ok)
        if not ok:
            raise WrongPasswordError("wrong password")

    async def _store(self, password: str) -> None:
        new_hash = await self._hash_password(password)
        await asyncio.to_thread(atomic_write_json, self.path, {"password_hash": new_hash.decode()}, 0o600)
        self._hash = new_hash

    async def set_initial_password(self, password: str) -> tuple[str, Session]:
        """Onboarding's first step: only while no password exists. Returns a new session."""
        check_policy(password)
        if self._hash is not None or self._claimed:
            raise AlreadySetError("the admin password is already set; log in instead")
        # Claimed in the same step as the check, before hashing yields to the loop: of two racing
        # first requests exactly one stores its password and gets a session.
        self._claimed = True
        try:
            await self._store(password)
        finally:
            self._claimed = False
        return await self._saved(self._new_session())

    async def login(self, client: str, password: str, device: str | None = None) -> tuple[str, Session]:
        await self.verify(client, password, device)
        return await self._saved(self._new_session())

    async def _saved(self, made: tuple[str, Session]) -> tuple[str, Session]:
        await self._sessions.flush()  # on disk before the cookie is handed out
        return made

    async def change_password(
        self, client: str, token: str, old: str, new: str, device: str | None = None
    ) -> None:
        """Changes the password and ends every *other* session."""
        check_policy(new)
        await self.verify(client, old, device)
        await self._store(new)
        self._sessions.keep_only({_digest(token)})
        await self._sessions.flush()

    def _new_session(self) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = self._sessions.clock()
        while len(self._sessions) >= MAX_SESSIONS:
            self._sessions.remove(self._sessions.oldest())
        session = Session(_digest(token), secrets.token_urlsafe(32), now, now)
        self._sessions.add(session)
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
        if self._sessions.expired(session):
            self._sessions.remove(key)
            return None
        if touch:
            session.last_seen = self._sessions.clock()
            self._sessions.touched(session)
        return session

    def logout(self, token: str | None) -> None:
        if token:
            self._sessions.remove(_digest(token))

    async def end_other_sessions(self, token: str) -> int:
        """Logs out every other device (a lost phone); returns how many sessions remain (1)."""
        self._sessions.keep_only({_digest(token)})
        await self._sessions.flush()
        return len(self._sessions)

    def session_count(self) -> int:
        return len(self._sessions)

    def end_all_sessions(self) -> None:
        self._sessions.keep_only(set())

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
