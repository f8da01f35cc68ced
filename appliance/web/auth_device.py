"""Known devices: a browser that has once given the right admin password carries a signed device
token (an HttpOnly cookie), and its later password checks draw on that device's own budget and go
ahead of every unknown client in the limiter's line (:mod:`appliance.web.auth_limit`).

This is what keeps the owner in when an attacker on the LAN can use many addresses (IPv6 privacy
addresses, a NAT shared with the owner): budgets per address cannot tell the owner's phone from
the attacker, a token only the right password earns can. A token proves nothing else — it never
replaces the password or the session — so a stolen one gains the thief a place in a line, no more.

The signing key is 32 random bytes in ``<web state>/device-key`` (0600, written atomically on first
use); a factory reset erases it with the rest of the web state, which forgets every device.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from pathlib import Path

from appliance.system.files import atomic_write_bytes

KEY_FILE = "device-key"
KEY_SIZE = 32
_ID_CHARS = 22  # token_urlsafe(16)
_MAC_CHARS = 32


class DeviceTokens:
    def __init__(self, state_dir: str | Path) -> None:
        self.path = Path(state_dir) / KEY_FILE
        self._key: bytes | None = self._read()

    def _read(self) -> bytes | None:
        try:
            key = self.path.read_bytes()
        except FileNotFoundError:
            return None
        # A damaged key only forgets the devices (they are asked nothing more than the password).
        return key if len(key) == KEY_SIZE else None

    async def issue(self) -> str:
        """A new device token (creates the key on first use, in a worker thread: it fsyncs)."""
        if self._key is None:
            key = secrets.token_bytes(KEY_SIZE)
            await asyncio.to_thread(atomic_write_bytes, self.path, key, 0o600)
            self._key = key
        device = secrets.token_urlsafe(16)
        return f"{device}.{self._mac(self._key, device)}"

    def check(self, token: str | None) -> str | None:
        """The device id a token names, or None unless this box signed it."""
        if self._key is None or not token or len(token) != _ID_CHARS + 1 + _MAC_CHARS:
            return None
        device, _, mac = token.partition(".")
        if not hmac.compare_digest(mac.encode(), self._mac(self._key, device).encode()):
            return None
        return device

    @staticmethod
    def _mac(key: bytes, device: str) -> str:
        return hmac.new(key, device.encode(), hashlib.sha256).hexdigest()[:_MAC_CHARS]
