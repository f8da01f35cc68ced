"""HostNetManager: the host-networking domain on the daemon's loop — the NetworkManager client, the
setup flow (hotspot, captive DNS), and the periodic clock and network checks whose problems the
box's health object reads (:meth:`HostNetManager.problems`).

NetworkManager that is missing or restarting is not fatal: the manager reconnects with backoff and
reports "network-manager-down" meanwhile; the flow's own watch keeps the promise that the box ends
up reachable once NetworkManager is back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.aio import cancel_and_wait
from appliance.health.model import Finding
from appliance.hostnet.checks import NetworkCheck
from appliance.hostnet.clock import ClockCheck, ClockState, read_clock
from appliance.hostnet.credentials import HotspotCredentials, load_or_create
from appliance.hostnet.nm import NetworkError, NetworkManagerClient, NetworkState
from appliance.hostnet.setup import SetupConfig, SetupError, SetupFlow, SetupStatus, screen_notice

log = logging.getLogger(__name__)

Notice = Callable[[tuple[str, ...], str], None]  # (lines, QR payload) for the screen; () clears


@dataclass(frozen=True)
class HostNetConfig:
    bus_address: str | None = None  # None: the system bus
    setup: SetupConfig = field(default_factory=SetupConfig)
    check_s: float = 30.0
    reconnect_max_s: float = 60.0


OVERRIDES_FILE = "hostnet.json"
_TUNABLE = ("grace_s", "check_s", "idle_close_s", "join_timeout_s", "linger_s")


def setup_overrides(state_dir: Path, base: SetupConfig) -> SetupConfig:
    """Blocking: ``<state>/hostnet.json`` may set the flow's timings (a support engineer, or a
    test that cannot wait two minutes); anything else in it, or a bad value, is ignored with a
    warning — a typo must not take the network away."""
    path = state_dir / OVERRIDES_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return base
    except (OSError, ValueError) as exc:
        log.warning("%s ignored: %s", path, exc)
        return base
    if not isinstance(data, dict):
        log.warning("%s ignored: not a JSON object", path)
        return base
    changes = {}
    for key, value in data.items():
        if key in _TUNABLE and isinstance(value, int | float) and not isinstance(value, bool) \
                and 0 < value <= 86400:
            changes[key] = float(value)
        else:
            log.warning("%s: %s=%r ignored", path, key, value)
    return dataclasses.replace(base, **changes)


class HostNetManager:
    def __init__(self, state_dir: Path, box_id: str, config: HostNetConfig | None = None,
                 notice: Notice | None = None) -> None:
        self.state_dir = state_dir
        self.box_id = box_id
        self.config = config or HostNetConfig()
        self.notice = notice
        self.credentials: HotspotCredentials | None = None
        self.nm: NetworkManagerClient | None = None
        self.flow: SetupFlow | None = None
        self._clock_check = ClockCheck()
        self._net_check: NetworkCheck | None = None
        self._clock = ClockState(None, error="not read yet")
        self._net: NetworkState | None = None
        self._net_error = "not read yet"
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.credentials = await asyncio.to_thread(load_or_create, self.state_dir, self.box_id)
        self.config = dataclasses.replace(
            self.config, setup=await asyncio.to_thread(setup_overrides, self.state_dir, self.config.setup))
        self._net_check = NetworkCheck(self.credentials.ssid)
        self._task = asyncio.create_task(self._run(), name="hostnet")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.flow is not None:
            await self.flow.stop()
        if self.nm is not None:
            await self.nm.close()
        self.flow = self.nm = None

    # -- what others read -------------------------------------------------------------------------

    def problems(self) -> list[Finding]:
        """Clock and network problems as health findings (see :mod:`appliance.health.model`)."""
        setup = self.flow.status() if self.flow is not None else SetupStatus()
        network = self._net_check.problems(self._net, setup, self._net_error) if self._net_check else []
        return self._clock_check.problems(self._clock) + network

    def clock(self) -> ClockState:
        return self._clock

    def network(self) -> NetworkState | None:
        return self._net

    async def open_setup(self) -> SetupStatus:
        """The setup button: opens the hotspot now."""
        if self.flow is None:
            status = SetupStatus(state="unavailable", reason=self._net_error)
        else:
            status = await self.flow.open()
        self._on_setup(status)  # replaces the button's "opening…" even when nothing changed
        return status

    # -- the captive portal's port (appliance.web.portal.SetupPort) ------------------------------

    def status(self) -> SetupStatus:
        return self.flow.status() if self.flow is not None else SetupStatus()

    def touch(self) -> None:
        if self.flow is not None:
            self.flow.touch()

    async def join(self, ssid: bytes, password: str | None) -> SetupStatus:
        if self.flow is None:
            raise SetupError("the setup hotspot is not open")
        return await self.flow.join(ssid, password)

    async def rescan(self) -> SetupStatus:
        if self.flow is None:
            raise SetupError("the setup hotspot is not open")
        return await self.flow.rescan()

    # -- internals --------------------------------------------------------------------------------

    def _on_setup(self, status: SetupStatus) -> None:
        if self.notice is not None and self.credentials is not None:
            lines, qr = screen_notice(status, self.credentials)
            self.notice(lines, qr)

    async def _connect(self) -> None:
        assert self.credentials is not None
        delay = 1.0
        while True:
            try:
                self.nm = await NetworkManagerClient.connect(self.config.bus_address)
                self._net = await self.nm.state()
                break
            except NetworkError as exc:
                if self.nm is not None:
                    await self.nm.close()
                    self.nm = None
                self._net, self._net_error = None, exc.reason
                log.warning("NetworkManager: %s; retrying in %.0f s", exc.reason, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.reconnect_max_s)
        self.flow = SetupFlow(self.nm, self.credentials, self.config.setup, on_change=self._on_setup)
        await self.flow.start()

    async def _run(self) -> None:
        await self._connect()
        assert self.nm is not None
        while True:
            self._clock = await read_clock(self.config.bus_address)
            try:
                self._net, self._net_error = await self.nm.state(), ""
            except NetworkError as exc:
                self._net, self._net_error = None, exc.reason
            await asyncio.sleep(self.config.check_s)
