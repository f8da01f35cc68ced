"""Where the OTA domain finds things on the box. Defaults match image/ (read-only root under
/usr/lib/smeshbox, writable state on the data partition); tests point every path at a tmp folder."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from appliance.ota.errors import ManifestError
from appliance.ota.manifest import parse_version


@dataclass(frozen=True)
class OtaConfig:
    release_file: Path = Path("/usr/lib/smeshbox/release.json")  # this root's version/compatible
    keys_dir: Path = Path("/usr/lib/smeshbox/ota-keys")  # trusted ed25519 public keys (*.pub)
    state_dir: Path = Path("/var/lib/smeshbox/ota")  # records: pending install, results, epoch
    download_dir: Path = Path("/data/ota")  # bundles being downloaded (resumable)
    settings_file: Path = Path("/etc/smeshbox/ota.json")  # {"update_url": ...} (on data)
    update_url: str | None = None  # URL of release.json; None = read settings_file
    api_url: str = "http://127.0.0.1:80"
    space_margin: int = 16 * 1024 * 1024  # kept free beyond the bundle itself
    gate_timeout: float = 180.0  # seconds the health gate waits for the appliance to come up
    request_timeout: float = 30.0
    reboot_command: tuple[str, ...] = ("systemctl", "reboot")
    rauc_command: tuple[str, ...] = ("rauc",)
    daemon_unit: str = "smeshbox.service"
    # Whether the gate must reach the web API; None = when appliance.composition is in this build.
    require_api: bool | None = None

    @classmethod
    def from_env(cls) -> OtaConfig:
        """Defaults overridden by ``SMESHBOX_OTA_*`` environment variables (used by the unit/tests)."""
        config = cls()
        env = os.environ
        paths = {
            "release_file": "SMESHBOX_OTA_RELEASE_FILE",
            "keys_dir": "SMESHBOX_OTA_KEYS_DIR",
            "state_dir": "SMESHBOX_OTA_STATE_DIR",
            "download_dir": "SMESHBOX_OTA_DOWNLOAD_DIR",
            "settings_file": "SMESHBOX_OTA_SETTINGS",
        }
        changes: dict[str, Any] = {k: Path(env[v]) for k, v in paths.items() if v in env}
        if "SMESHBOX_OTA_URL" in env:
            changes["update_url"] = env["SMESHBOX_OTA_URL"]
        if "SMESHBOX_OTA_API_URL" in env:
            changes["api_url"] = env["SMESHBOX_OTA_API_URL"]
        if "SMESHBOX_OTA_GATE_TIMEOUT" in env:
            changes["gate_timeout"] = float(env["SMESHBOX_OTA_GATE_TIMEOUT"])
        return replace(config, **changes)

    def resolved_update_url(self) -> str | None:
        if self.update_url:
            return self.update_url
        try:
            settings = json.loads(self.settings_file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ManifestError(f"{self.settings_file} is unreadable: {exc}") from exc
        url = settings.get("update_url") if isinstance(settings, dict) else None
        return url if isinstance(url, str) and url else None


@dataclass(frozen=True)
class RunningRelease:
    """What the booted root says about itself (written by image/build)."""

    version: str
    compatible: str
    security_epoch: int = 0

    @classmethod
    def load(cls, path: Path) -> RunningRelease:
        try:
            value = json.loads(path.read_text())
            release = cls(
                str(value["version"]), str(value["compatible"]), int(value.get("security_epoch", 0))
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ManifestError(f"running release file {path} is unreadable: {exc}") from exc
        parse_version(release.version)
        return release
