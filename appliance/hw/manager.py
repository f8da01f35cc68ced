"""HwManager: the box's senses on the event loop. Polls the sensors (in a thread), keeps the OLED's
status screen current, and publishes every change on the EventBus under topic "hw".

The panel is optional: a missing ``/dev/i2c-N`` or a NACK at the panel's address is reported in the
snapshot (and retried on the next tick), never fatal. ``simulate_display`` drives the simulated
panel instead and saves each frame as a PNG, so a dev machine can look at the screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from appliance.aio import cancel_and_wait
from appliance.events import EventBus, Topic
from appliance.hw.screen import DisplayStatus, image_to_frame, render_status
from appliance.hw.sensors import SensorReading, read_sensors
from appliance.hw.simbus import SimulatedBus
from appliance.hw.ssd1306 import DEFAULT_ADDRESS, SSD1306, AddressingMode, DisplayError, SMBusLike

log = logging.getLogger(__name__)

DisplayKind = Literal["ssd1306", "simulated", "none"]


@dataclass(frozen=True)
class HwConfig:
    sysfs_root: Path = Path("/")
    interval_s: float = 5.0
    i2c_bus: int | None = 1  # /dev/i2c-1 on a Pi; None = no panel
    address: int = DEFAULT_ADDRESS
    mode: AddressingMode = "horizontal"
    rotate180: bool = False
    simulate_display: bool = False
    display_png: Path | None = None  # where the simulated panel's picture is saved


@dataclass(frozen=True)
class DisplayState:
    kind: DisplayKind = "none"
    ok: bool = False
    error: str | None = None
    frames: int = 0


@dataclass(frozen=True)
class HwSnapshot:
    sensors: SensorReading = field(default_factory=SensorReading)
    display: DisplayState = field(default_factory=DisplayState)
    status: DisplayStatus = field(default_factory=DisplayStatus)
    cpu_temp_c: float | None = None
    throttled: bool = False
    undervoltage: bool = False


def _open_smbus(number: int) -> SMBusLike:
    import smbus2  # imported lazily: dev machines without i2c-dev never need it loaded

    return smbus2.SMBus(number)


class HwManager:
    def __init__(
        self,
        events: EventBus,
        config: HwConfig | None = None,
        bus_factory: Callable[[], SMBusLike] | None = None,
    ) -> None:
        self.events = events
        self.config = config or HwConfig()
        self._bus_factory = bus_factory
        self._bus: SMBusLike | None = None
        self._panel: SSD1306 | None = None
        self._snapshot = HwSnapshot()
        self._status = DisplayStatus()
        self._shown: DisplayStatus | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- public -----------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        await self._tick()  # the first snapshot is there before start() returns
        self._task = asyncio.create_task(self._run(), name="hw-manager")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._panel is not None:
            with contextlib.suppress(DisplayError):
                await asyncio.to_thread(self._panel.power, False)
        close = getattr(self._bus, "close", None)
        if close is not None:
            await asyncio.to_thread(close)
        self._bus = self._panel = None

    def snapshot(self) -> HwSnapshot:
        return self._snapshot

    def set_status(self, **changes: object) -> None:
        """Updates what the screen shows (name, ip, url, state); redrawn promptly, not next tick."""
        self._status = dataclasses.replace(self._status, **changes)  # type: ignore[arg-type]
        self._wake.set()

    @property
    def simulated_panel(self) -> SimulatedBus | None:
        return self._bus if isinstance(self._bus, SimulatedBus) else None

    # -- internals --------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.interval_s)
            self._wake.clear()
            try:
                await self._tick()
            except Exception:  # a bug in one tick must not end the senses for good
                log.exception("hw tick failed")

    async def _tick(self) -> None:
        reading = await asyncio.to_thread(read_sensors, self.config.sysfs_root)
        status = dataclasses.replace(self._status, temperature_c=reading.cpu_temp_c)
        display = await asyncio.to_thread(self._draw, status)
        throttling = reading.throttling
        snap = HwSnapshot(
            sensors=reading,
            display=display,
            status=status,
            cpu_temp_c=reading.cpu_temp_c,
            throttled=bool(throttling and (throttling.throttled or throttling.freq_capped)),
            undervoltage=reading.undervoltage,
        )
        if snap != self._snapshot:
            self._snapshot = snap
            self.events.publish(Topic.HW, snap)

    def _kind(self) -> DisplayKind:
        if self.config.simulate_display:
            return "simulated"
        return "ssd1306" if self.config.i2c_bus is not None or self._bus_factory else "none"

    def _open_panel(self) -> SSD1306 | None:
        kind = self._kind()
        if kind == "none":
            return None
        if self._bus is None:
            if self._bus_factory is not None:
                self._bus = self._bus_factory()
            elif kind == "simulated":
                self._bus = SimulatedBus()
            else:
                assert self.config.i2c_bus is not None
                device = Path(f"/dev/i2c-{self.config.i2c_bus}")
                if not device.exists():
                    raise DisplayError(f"{device} is missing (i2c not enabled?)")
                self._bus = _open_smbus(self.config.i2c_bus)
        panel = SSD1306(self._bus, self.config.address, self.config.mode, self.config.rotate180)
        panel.init()
        return panel

    def _draw(self, status: DisplayStatus) -> DisplayState:
        """Blocking: (re)opens the panel if needed and uploads the screen when it changed."""
        previous = self._snapshot.display
        kind = self._kind()
        try:
            if self._panel is None:
                self._panel = self._open_panel()
                self._shown = None
            if self._panel is None:
                return DisplayState(kind="none")
            if status == self._shown:
                return dataclasses.replace(previous, kind=kind, ok=True, error=None)
            self._panel.show(image_to_frame(render_status(status)))
            self._shown = status
            sim = self.simulated_panel
            if sim is not None and self.config.display_png is not None:
                next(iter(sim.devices.values())).save_png(self.config.display_png)
            return DisplayState(kind=kind, ok=True, frames=previous.frames + 1)
        except (DisplayError, OSError) as exc:
            self._panel = None  # re-init on the next tick: the panel may have been re-plugged
            return DisplayState(kind=kind, ok=False, error=str(exc), frames=previous.frames)
