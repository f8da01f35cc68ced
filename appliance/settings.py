"""The person's settings: reward address, PoET and gateway servers, host name, and whether
onboarding is done. One JSON file in the state folder, written atomically; every change is checked
first and published on the EventBus (``Topic.SETTINGS``) so the node and discovery pick it up.

Who reads what: the reward address is the light node's coinbase; PoET servers and the gateway
replace the network's in the light node's client config (``NodeConfig.with_servers``: only the
network's own, key-pinned PoETs; the node supervisor restarts the node with them); the box name is
the mDNS host name (``NAME.local``, announced again at once by the discovery manager).

A bad value changes nothing: :meth:`SettingsStore.update` validates the whole change before writing.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from appliance.events import EventBus, Topic
from appliance.system.files import atomic_write_json

SETTINGS_FILE = "settings.json"
_HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_SERVERS = 8
# How each setting is named in messages (the page shows them next to the field).
LABELS = {
    "reward_address": "Reward address",
    "poet_servers": "PoET servers",
    "gateways": "Gateway",
    "hostname": "Box name",
}


class SettingsError(ValueError):
    """A rejected setting; the message names the field and says what is wrong."""


@dataclass(frozen=True)
class Settings:
    reward_address: str = ""
    poet_servers: list[str] = field(default_factory=list)
    gateways: list[str] = field(default_factory=list)
    hostname: str = "smeshbox"
    onboarded: bool = False


def _check_urls(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_SERVERS:
        raise SettingsError(f"{LABELS[name]}: a list of at most {MAX_SERVERS} URLs")
    out = []
    for url in value:
        parts = urlsplit(url) if isinstance(url, str) and len(url) <= 512 else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(f"{LABELS[name]}: {url!r} is not an http(s) URL")
        out.append(url)
    return out


def check_hostname(value: Any) -> str:
    if not isinstance(value, str) or not _HOSTNAME.match(value):
        raise SettingsError(
            "Box name: 1 to 63 lower-case letters, digits or '-', not starting or ending with '-'"
        )
    return value


class SettingsStore:
    """Holds the current :class:`Settings` in memory (cheap reads) and on disk (atomic writes)."""

    def __init__(
        self, state_dir: str | Path, parse_address: Callable[[str], bytes], bus: EventBus | None = None
    ) -> None:
        self.path = Path(state_dir) / SETTINGS_FILE
        self.parse_address = parse_address
        self.bus = bus
        self._lock = asyncio.Lock()
        self.current = self._load()

    def _load(self) -> Settings:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return Settings()
        except ValueError as exc:
            raise SettingsError(f"{self.path} is damaged: {exc}") from exc
        known = {k: raw[k] for k in asdict(Settings()) if isinstance(raw, dict) and k in raw}
        return Settings(**known)

    def validate(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """Returns the checked change; raises SettingsError naming the first bad field."""
        out: dict[str, Any] = {}
        for key, value in change.items():
            if key == "reward_address":
                if not isinstance(value, str):
                    raise SettingsError("Reward address: must be text")
                try:
                    self.parse_address(value.strip())
                except ValueError as exc:
                    raise SettingsError(f"Reward address: {exc}") from exc
                out[key] = value.strip()
            elif key == "poet_servers":
                out[key] = _check_urls(key, value)
            elif key == "gateways":
                out[key] = _check_urls(key, value)
                if len(out[key]) > 1:  # NodeConfig has one gateway; a second would do nothing
                    raise SettingsError("Gateway: the light node talks to one gateway; give one URL "
                                        "(or none to use the network's)")
            elif key == "hostname":
                out[key] = check_hostname(value)
            else:
                raise SettingsError(f"{key}: not a setting")
        return out

    async def update(self, change: Mapping[str, Any]) -> Settings:
        checked = self.validate(change)
        return await self._commit(**checked)

    async def mark_onboarded(self, reward_needed: bool = True) -> Settings:
        """``reward_needed`` is False in node mode: the person's node holds the coinbase."""
        if reward_needed and not self.current.reward_address:
            raise SettingsError("Reward address: set one before finishing set-up")
        return await self._commit(onboarded=True)

    async def _commit(self, **checked: Any) -> Settings:
        async with self._lock:
            new = replace(self.current, **checked)
            await asyncio.to_thread(atomic_write_json, self.path, asdict(new))
            self.current = new
        if self.bus is not None:
            self.bus.publish(Topic.SETTINGS, new)
        return new
