"""The box card of the web API: the hw sensors, each drive's health, uptime and the name the box
took on the LAN, from the hw, drives and discovery managers' snapshots."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from appliance import __version__
from appliance.web import services as ws

if TYPE_CHECKING:
    from appliance.discovery.manager import DiscoveryManager
    from appliance.drives.manager import DriveManager
    from appliance.hw.manager import HwManager


@dataclass
class BoxCard:
    """``appliance.web.services.BoxService``; ``discovery`` is None where mDNS did not start."""

    hw: HwManager | None
    drives: DriveManager
    discovery: DiscoveryManager | None
    hostname: str = field(default_factory=socket.gethostname)

    def snapshot(self) -> ws.BoxView:
        shot = self.hw.snapshot() if self.hw is not None else None
        disks = [
            ws.DiskHealth(d.model or d.id, d.state.value not in ("error", "missing"), d.reason)
            for d in self.drives.snapshot()
        ]
        name = self.hostname
        if self.discovery is not None:
            found = self.discovery.snapshot()
            name = found.hostname or found.name or name
        return ws.BoxView(
            version=__version__, uptime_seconds=_uptime(),
            cpu_temp_c=shot.cpu_temp_c if shot else None,
            throttled=bool(shot and shot.throttled), undervoltage=bool(shot and shot.undervoltage),
            disks=disks, hostname=name,
        )


def _uptime() -> float:
    try:
        return float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
