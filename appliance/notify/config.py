"""The person's notification settings: one JSON file, written atomically, checked before it is.

The SMTP password is kept (the box must log in to send) but never given back: the API only says
whether one is set, and an empty password in a change keeps the stored one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from appliance.system.files import atomic_write_json

NOTIFY_FILE = "notify.json"
_EMAIL = re.compile(r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,190}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")


class NotifyConfigError(ValueError):
    """A rejected setting; the message names the field."""


@dataclass(frozen=True)
class NotifyConfig:
    enabled: bool = False  # the person's consent: nothing is sent while False
    webhook_url: str = ""  # ntfy topic URL or any endpoint taking POST text/plain
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    mail_to: str = ""

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("smtp_password")
        out["smtp_password_set"] = bool(self.smtp_password)
        return out

    @property
    def channels(self) -> list[str]:
        return [name for name, on in (("webhook", self.webhook_url), ("email", self.smtp_host)) if on]


def check(current: NotifyConfig, change: Mapping[str, Any]) -> NotifyConfig:
    """The new config, or NotifyConfigError naming the first bad field."""
    values = asdict(current)
    for key, value in change.items():
        if key not in values:
            raise NotifyConfigError(f"{key}: not a notification setting")
        kind = type(values[key])
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise NotifyConfigError(f"{key}: must be {kind.__name__}")
        if key == "smtp_password" and value == "":
            continue  # keep the stored password
        values[key] = value.strip() if isinstance(value, str) and key != "smtp_password" else value
    new = NotifyConfig(**values)
    if new.webhook_url:
        parts = urlsplit(new.webhook_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(new.webhook_url) > 512:
            raise NotifyConfigError("Notification URL: an http(s) URL such as https://ntfy.sh/your-topic")
    if new.smtp_host:
        if not _HOST.match(new.smtp_host):
            raise NotifyConfigError("Mail server: a host name or address")
        if not 0 < new.smtp_port < 65536:
            raise NotifyConfigError("Mail server port: 1 to 65535")
        for name, label in (("mail_from", "From"), ("mail_to", "To")):
            if not _EMAIL.match(getattr(new, name)):
                raise NotifyConfigError(f"{label}: an e-mail address such as box@example.org")
    if new.enabled and not new.channels:
        raise NotifyConfigError("Give a notification URL or a mail server before switching notifications on")
    return new


def load(path: Path) -> NotifyConfig:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return NotifyConfig()
    except ValueError as exc:
        raise NotifyConfigError(f"{path} is damaged: {exc}") from exc
    if not isinstance(raw, dict):
        raise NotifyConfigError(f"{path} is damaged: not an object")
    return check(NotifyConfig(), {k: v for k, v in raw.items() if k in asdict(NotifyConfig())})


def save(path: Path, config: NotifyConfig) -> None:
    atomic_write_json(path, asdict(config), 0o600)  # holds the SMTP password
