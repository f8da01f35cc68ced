"""The setup hotspot's name and password: ``Smeshbox-Setup-XXXX`` (the end of the box's id, the
same one its LAN name carries) and a random per-box WPA2 password, made once and kept in the state
folder (written atomically, mode 0600) so the card printed by the OLED stays true across restarts.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from appliance.system.files import atomic_write_json

FILE = "hotspot.json"
# No 0/O, 1/l/I: the password is read off a small screen and typed on a phone.
ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
LENGTH = 12  # 60 bits: far beyond what a WPA2 handshake capture can be brute-forced for in setup time


@dataclass(frozen=True)
class HotspotCredentials:
    ssid: str
    password: str

    def wifi_qr(self) -> str:
        """The Wi-Fi join payload phones' cameras understand (``WIFI:S:…;T:WPA;P:…;;``)."""
        return f"WIFI:S:{_escape(self.ssid)};T:WPA;P:{_escape(self.password)};;"


def _escape(text: str) -> str:
    for char in "\\;,:\"":
        text = text.replace(char, "\\" + char)
    return text


def load_or_create(state_dir: Path, box_id: str) -> HotspotCredentials:
    """Blocking: the box's hotspot credentials; a missing or damaged file gets a new password."""
    ssid = f"Smeshbox-Setup-{box_id[-4:].upper()}"
    path = Path(state_dir) / FILE
    try:
        password = json.loads(path.read_text())["password"]
        if isinstance(password, str) and len(password) == LENGTH and set(password) <= set(ALPHABET):
            return HotspotCredentials(ssid, password)
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        pass
    password = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    atomic_write_json(path, {"password": password}, mode=0o600)
    return HotspotCredentials(ssid, password)
