"""systemd integration of a ``Type=notify`` service: READY/STATUS/STOPPING and the watchdog ping.

Uses systemd-python's ``systemd.daemon.notify`` when ``NOTIFY_SOCKET`` is set; outside systemd every
call is a no-op, so the daemon code never branches on "are we under systemd". When the binding is
missing (a dev machine without libsystemd) the datagram protocol is spoken directly — it is one
``sendto`` of ``KEY=VALUE`` lines to the socket named by ``NOTIFY_SOCKET``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

from appliance.aio import cancel_and_wait

try:  # the only import of systemd in the appliance (see docs/ARCHITECTURE.md)
    from systemd import daemon as _sd_daemon
except ImportError:  # pragma: no cover - depends on the machine
    _sd_daemon = None

log = logging.getLogger(__name__)


def _send_raw(state: str) -> bool:
    path = os.environ.get("NOTIFY_SOCKET", "")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.sendto(state.encode(), address)
    return True


class Notifier:
    """Talks to the service manager. ``enabled`` is False outside systemd."""

    def __init__(self) -> None:
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        self._watchdog_task: asyncio.Task[None] | None = None

    def notify(self, state: str) -> None:
        if not self.enabled:
            return
        try:
            if _sd_daemon is not None:
                _sd_daemon.notify(state)
            else:
                _send_raw(state)
        except OSError as exc:  # the manager went away; never let that take the daemon down
            log.warning("sd_notify failed: %s", exc)

    def ready(self, status: str = "running") -> None:
        self.notify(f"READY=1\nSTATUS={status}")

    def status(self, text: str) -> None:
        self.notify(f"STATUS={text}")

    def stopping(self) -> None:
        self.notify("STOPPING=1")

    @staticmethod
    def watchdog_interval() -> float | None:
        """Half of ``WATCHDOG_USEC`` (the systemd recommendation), None when no watchdog is asked for."""
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid.isdigit() and int(pid) != os.getpid()):
            return None
        try:
            return max(int(usec) / 1e6 / 2, 0.05)
        except ValueError:
            return None

    def start_watchdog(self, healthy: Callable[[], bool] | None = None) -> None:
        """Pings WATCHDOG=1 from the event loop: a hung loop stops the pings and systemd restarts us.
        ``healthy()`` (the health object) is asked before each ping: while it says False no ping is
        sent, so a daemon that runs but cannot do its work is restarted too."""
        interval = self.watchdog_interval()
        if not self.enabled or interval is None or self._watchdog_task is not None:
            return
        self._watchdog_task = asyncio.get_running_loop().create_task(self._ping(interval, healthy))

    async def _ping(self, interval: float, healthy: Callable[[], bool] | None = None) -> None:
        starved = False
        while True:
            if healthy is None or healthy():
                self.notify("WATCHDOG=1")
                starved = False
            elif not starved:
                log.error("health: a problem a restart may cure has lasted; not feeding the watchdog")
                starved = True
            await asyncio.sleep(interval)

    async def stop_watchdog(self) -> None:
        task, self._watchdog_task = self._watchdog_task, None
        await cancel_and_wait(task)
