"""Paired helpers and their credentials: one-time pairing codes, per-helper API tokens (stored only
as SHA-256 digests) and broker users, persisted atomically in ``helpers.json``.

A code is short enough to type (or scan from a QR), valid for ``CODE_TTL`` seconds, used once, and
burnt after ``MAX_TRIES`` wrong guesses. Revoking a helper deletes its token and its Redis user
(Redis drops its connections), so a removed PC is refused by both the API and the broker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from appliance.peers.redisd import RedisServer, queue_name
from appliance.system.files import atomic_write_json

CODE_TTL = 600.0
MAX_TRIES = 5
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed from a phone
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class PairingError(PermissionError):
    """The code is wrong, expired or used, or the name is not acceptable."""


@dataclass(frozen=True)
class Credentials:
    """What a helper receives once: its name, API token and broker user."""

    helper: str
    token: str
    broker_user: str
    broker_password: str
    broker_host: str
    broker_port: int
    queue: str
    ca_pem: str


@dataclass(frozen=True)
class PairingCode:
    code: str
    expires_in: float


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Pairing:
    """The box's registry of helpers (see module docstring)."""

    def __init__(self, state_dir: Path | str, redis: RedisServer, advertised_host: str | None = None) -> None:
        self.path = Path(state_dir) / "helpers.json"
        self.redis = redis
        self.advertised_host = advertised_host or redis.host
        self._lock = threading.Lock()
        self._code: tuple[str, float] | None = None
        self._tries = 0
        self._helpers: dict[str, str] = self._load()

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text())
        return {str(k): str(v) for k, v in data.get("helpers", {}).items()}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.path, {"version": 1, "helpers": self._helpers}, mode=0o600)

    def new_code(self) -> PairingCode:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        with self._lock:
            self._code, self._tries = (code, time.monotonic() + CODE_TTL), 0
        return PairingCode(code, CODE_TTL)

    def pair(self, code: str, name: str) -> Credentials:
        if not NAME.match(name):
            raise PairingError("a helper name is 1-32 lowercase letters, digits or dashes")
        with self._lock:
            current = self._code
            if current is None or time.monotonic() > current[1]:
                raise PairingError("no pairing code is active; make a new one on the box's page")
            if not hmac.compare_digest(code.strip().upper().replace("-", ""), current[0]):
                self._tries += 1
                if self._tries >= MAX_TRIES:
                    self._code = None
                raise PairingError("wrong pairing code")
            self._code = None
            token, password = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
            self.redis.set_helper(name, password)
            self._helpers[name] = _digest(token)
            self._save()
        ca_pem = self.redis.address.ca_file.read_text()
        return Credentials(
            name, token, name, password, self.advertised_host, self.redis.port, queue_name(name), ca_pem
        )

    def authenticate(self, token: str) -> str | None:
        digest = _digest(token)
        with self._lock:
            for name, stored in self._helpers.items():
                if hmac.compare_digest(stored, digest):
                    return name
        return None

    def revoke(self, name: str) -> bool:
        with self._lock:
            if self._helpers.pop(name, None) is None:
                return False
            self._save()
        self.redis.remove_helper(name)
        return True

    def helpers(self) -> list[str]:
        with self._lock:
            return sorted(self._helpers)


def credentials_json(creds: Credentials) -> dict[str, object]:
    return asdict(creds)
