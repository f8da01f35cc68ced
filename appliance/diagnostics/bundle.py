"""The support bundle: one .tar.gz a person can send — the diagnostics report, the daemon's logs,
versions, health, and the configuration with every secret removed (:mod:`.redact`).

Only named files go in: never the identity keys, the password file, TLS or update keys. Each log
file is capped (its last ``LOG_CAP`` bytes), so the bundle stays small on a box that logged a
lot; built in memory in a worker thread.
"""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

from appliance.diagnostics.collect import Report, tail_lines
from appliance.diagnostics.redact import REMOVED, redact_json, redact_text

LOG_CAP = 1024 * 1024
#: configuration files (relative to the state folder) that go in, redacted
CONFIG_FILES = ("config.json", "network.json", "drives.json", "web/settings.json", "hotspot.json",
                "ota/state.json")


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _config(path: Path) -> bytes | None:
    try:
        raw = path.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        value: Any = redact_json(json.loads(raw))
    except ValueError:  # a damaged file is worth seeing too, as text with pairs redacted
        return redact_text(raw).encode()
    return (json.dumps(value, indent=2) + "\n").encode()


def build(state_dir: Path, report: Report) -> bytes:
    """Blocking: the bundle's bytes."""
    now = report.taken_at or time.time()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, value in (("report", dataclasses.asdict(report)), ("health", report.health),
                            ("versions", report.versions)):
            data = (json.dumps(redact_json(value), indent=2) + "\n").encode()
            _add(tar, f"smeshbox-support/{name}.json", data, now)
        for name in CONFIG_FILES:
            data = _config(state_dir / name)
            if data is not None:
                _add(tar, f"smeshbox-support/config/{name}", data, now)
        logs = state_dir / "logs"
        if logs.is_dir():
            for path in sorted(logs.iterdir()):
                if path.is_file() and not path.is_symlink():
                    lines = tail_lines(path, lines=1 << 30, max_bytes=LOG_CAP)
                    text = "\n".join(redact_text(line) for line in lines) + "\n"
                    _add(tar, f"smeshbox-support/logs/{path.name}", text.encode(), now)
        _add(tar, "smeshbox-support/README.txt",
             f"Smeshbox support bundle. Secrets are replaced by {REMOVED}; identity keys and the "
             "admin password are never included.\n".encode(), now)
    return buf.getvalue()
