"""The setup button on a GPIO line (libgpiod's Python ``gpiod``; imported only in this package).

A short press opens the setup hotspot; holding it ``hold_s`` (10 s) starts the factory reset. The
screen says what will happen *before* it happens: at the press ("release: Wi-Fi setup / hold 10 s:
factory reset"), then a countdown once the press is too long to be a short one, and "factory reset
now" as the reset starts. Releasing during the countdown cancels it, and the screen says so.

A thread blocks in ``wait_edge_events`` and hands each edge to the loop; durations come from the
kernel's event timestamps (CLOCK_MONOTONIC), so a busy loop cannot turn a short press into a long
one. The line is requested with the pull-up and active-low a button to ground needs, and with the
kernel's debounce. A chip that cannot be opened is reported in :meth:`SetupButton.snapshot` and
retried, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import gpiod
from gpiod.line import Bias, Direction, Edge

from appliance.aio import cancel_and_wait

log = logging.getLogger(__name__)

CONSUMER = "smeshbox-setup-button"
EdgeType = gpiod.EdgeEvent.Type


class LineRequest(Protocol):
    def wait_edge_events(self, timeout: timedelta | float | None = None) -> bool: ...
    def read_edge_events(self, max_events: int | None = None) -> list[gpiod.EdgeEvent]: ...
    def release(self) -> None: ...


class Chip(Protocol):
    """Something that hands out line requests: a real chip path (see :func:`gpiod_chip`) or
    :class:`appliance.hw.simgpio.SimulatedChip`."""

    def request_lines(self, config: dict[int, gpiod.LineSettings], consumer: str | None = None
                      ) -> LineRequest: ...


class _GpiodChip:
    def __init__(self, path: str) -> None:
        self.path = path

    def request_lines(self, config: dict[int, gpiod.LineSettings], consumer: str | None = None
                      ) -> LineRequest:
        return gpiod.request_lines(self.path, config=config, consumer=consumer)  # type: ignore[arg-type]


def gpiod_chip(path: str = "/dev/gpiochip0") -> Chip:
    return _GpiodChip(path)


def button_settings(debounce_ms: int = 30) -> gpiod.LineSettings:
    return gpiod.LineSettings(direction=Direction.INPUT, edge_detection=Edge.BOTH, bias=Bias.PULL_UP,
                              active_low=True, debounce_period=timedelta(milliseconds=debounce_ms))


@dataclass(frozen=True)
class ButtonConfig:
    offset: int = 17  # BCM GPIO17, pin 11 on the Pi header
    short_max_s: float = 3.0  # a release before this is a short press
    hold_s: float = 10.0
    debounce_ms: int = 30
    retry_s: float = 30.0


@dataclass(frozen=True)
class ButtonSnapshot:
    ok: bool = False
    error: str | None = None
    presses: int = 0


Notice = Callable[[tuple[str, ...]], None]  # shows lines on the screen; () clears


class SetupButton:
    def __init__(self, chip: Chip, on_short: Callable[[], Awaitable[object]],
                 on_hold: Callable[[], Awaitable[object]], notice: Notice,
                 config: ButtonConfig | None = None) -> None:
        self.chip = chip
        self.on_short, self.on_hold, self.notice = on_short, on_hold, notice
        self.config = config or ButtonConfig()
        self._snapshot = ButtonSnapshot()
        self._stop = threading.Event()
        self._reader: asyncio.Task[None] | None = None
        self._countdown: asyncio.Task[None] | None = None
        self._actions: set[asyncio.Task[object]] = set()
        self._pressed_at: int | None = None
        self._held = False

    def snapshot(self) -> ButtonSnapshot:
        return self._snapshot

    async def start(self) -> None:
        self._stop.clear()
        self._reader = asyncio.create_task(self._run(), name="setup-button")

    async def stop(self) -> None:
        self._stop.set()
        await cancel_and_wait(self._reader, self._countdown, *self._actions)
        self._reader = self._countdown = None

    # -- the reader thread ------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            try:
                request = await asyncio.to_thread(
                    self.chip.request_lines, {self.config.offset: button_settings(self.config.debounce_ms)},
                    CONSUMER)
            except (OSError, ValueError) as exc:
                self._snapshot = ButtonSnapshot(False, f"setup button line unavailable: {exc}",
                                                self._snapshot.presses)
                log.warning("%s; retrying in %g s", self._snapshot.error, self.config.retry_s)
                await asyncio.sleep(self.config.retry_s)
                continue
            self._snapshot = ButtonSnapshot(True, None, self._snapshot.presses)
            try:
                await asyncio.to_thread(self._read, request, loop)
            except OSError as exc:  # the chip went away under us: report, then request it again
                self._snapshot = ButtonSnapshot(False, f"setup button line lost: {exc}",
                                                self._snapshot.presses)
                await asyncio.sleep(self.config.retry_s)

    def _read(self, request: LineRequest, loop: asyncio.AbstractEventLoop) -> None:
        """Blocking: forwards edges until stop (checked every 0.2 s); releases the line itself,
        so a cancelled task never releases it under a thread still waiting on it."""
        try:
            while not self._stop.is_set():
                if request.wait_edge_events(0.2):
                    for event in request.read_edge_events():
                        with contextlib.suppress(RuntimeError):  # the loop closed while stopping
                            loop.call_soon_threadsafe(self._edge, event.event_type, event.timestamp_ns)
        finally:
            with contextlib.suppress(Exception):
                request.release()

    # -- on the loop ------------------------------------------------------------------------------

    def _edge(self, kind: EdgeType, ts_ns: int) -> None:
        if kind == EdgeType.RISING_EDGE:  # logical: the button went down
            self._pressed_at, self._held = ts_ns, False
            self._snapshot = ButtonSnapshot(True, None, self._snapshot.presses + 1)
            self.notice(("Setup button", "Release: Wi-Fi setup",
                         f"Hold {self.config.hold_s:g} s: factory", "reset (keys are kept)"))
            self._countdown = asyncio.create_task(self._count_down(), name="setup-button-hold")
            return
        if self._pressed_at is None:
            return  # a release whose press we did not see (started while held)
        held_s = (ts_ns - self._pressed_at) / 1e9
        self._pressed_at = None
        countdown, self._countdown = self._countdown, None
        if countdown is not None:
            countdown.cancel()
        if self._held:
            return  # the reset already started
        if held_s < self.config.short_max_s:
            self.notice(("Opening Wi-Fi setup…",))
            self._act(self.on_short)
        else:
            self.notice(("Factory reset", "cancelled"))
            self._act(self._clear_later)

    async def _count_down(self) -> None:
        cfg = self.config
        await asyncio.sleep(cfg.short_max_s)
        left = cfg.hold_s - cfg.short_max_s
        while left > 0:
            self.notice(("Keep holding:", f"factory reset in {left:.0f} s", "Release to cancel",
                         "(identity keys are kept)"))
            step = min(1.0, left)
            await asyncio.sleep(step)
            left -= step
        self._held = True
        self.notice(("Factory reset now", "Identity keys and", "drive data are kept", "Restarting…"))
        self._act(self.on_hold)

    async def _clear_later(self) -> None:
        await asyncio.sleep(3.0)
        self.notice(())

    def _act(self, action: Callable[[], Awaitable[object]]) -> None:
        async def run() -> object:
            try:
                return await action()
            except Exception:
                log.exception("setup button action failed")
                return None

        task = asyncio.create_task(run())
        self._actions.add(task)
        task.add_done_callback(self._actions.discard)
