"""pyudev's netlink monitor bridged into asyncio.

``source="udev"`` when udevd runs (events arrive after udev rules, with ``ID_*`` properties),
``"kernel"`` otherwise (raw kernel uevents: enough to see add/change/remove; facts come from sysfs
and ``blkid``). pyudev's ``MonitorObserver`` thread hands each event to the loop with
``call_soon_threadsafe`` — the loop never blocks on the netlink socket.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import pyudev

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockEvent:
    action: str  # "add", "change", "remove", ...
    name: str  # kernel name, "sdb1"
    devtype: str  # "disk" or "partition"
    properties: dict[str, str]


def udevd_running() -> bool:
    return os.path.exists("/run/udev/control")


def udev_properties(name: str) -> dict[str, str]:
    """The udev database's properties of a device (empty without udevd)."""
    if not udevd_running():
        return {}
    try:
        return dict(pyudev.Devices.from_name(pyudev.Context(), "block", name).properties)
    except (pyudev.DeviceNotFoundError, OSError, ValueError):
        return {}


class BlockMonitor:
    def __init__(self, callback: Callable[[BlockEvent], None]) -> None:
        self._callback = callback
        self._observer: pyudev.MonitorObserver | None = None
        self.source = "udev" if udevd_running() else "kernel"

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        context = pyudev.Context()
        monitor = pyudev.Monitor.from_netlink(context, source=self.source)
        monitor.filter_by("block")

        def on_device(device: pyudev.Device) -> None:  # runs in the observer thread
            event = BlockEvent(
                action=device.action or "", name=device.sys_name, devtype=device.device_type or "",
                properties=dict(device.properties),
            )
            loop.call_soon_threadsafe(self._callback, event)

        self._observer = pyudev.MonitorObserver(monitor, callback=on_device, name="smeshbox-udev")
        self._observer.start()
        log.info("watching block devices (%s events)", self.source)

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.send_stop()
            observer.join(timeout=5)
