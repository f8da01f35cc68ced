"""The setup button over the simulated GPIO chip (libgpiod's interface, the kernel's semantics):
short press → hotspot, long hold → the screen counts down, then the factory reset; a medium press
cancels; bounces and a busy or missing line are handled."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import gpiod
import pytest
from gpiod.line import Edge, Value

from appliance.hw.button import ButtonConfig, SetupButton, button_settings
from appliance.hw.simgpio import SimulatedChip

LINE = 17
FAST = ButtonConfig(offset=LINE, short_max_s=0.15, hold_s=0.6, debounce_ms=10, retry_s=0.05)


class Recorder:
    def __init__(self) -> None:
        self.short = 0
        self.hold = 0
        self.screens: list[tuple[str, ...]] = []

    async def on_short(self) -> None:
        self.short += 1

    async def on_hold(self) -> None:
        # the screen must already say what is happening when the reset starts
        assert self.screens and "Factory reset now" in self.screens[-1]
        self.hold += 1


async def until(check, timeout: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


@pytest.fixture
async def rig():
    chip, rec = SimulatedChip(), Recorder()
    button = SetupButton(chip, rec.on_short, rec.on_hold, rec.screens.append, FAST)
    await button.start()
    await until(lambda: button.snapshot().ok)
    yield chip, rec, button
    await button.stop()


async def test_short_press_opens_setup(rig) -> None:  # type: ignore[no-untyped-def]
    chip, rec, button = rig
    chip.press(LINE)
    await asyncio.sleep(0.05)
    chip.lift(LINE)
    await until(lambda: rec.short == 1)
    assert rec.hold == 0 and button.snapshot().presses == 1
    assert "Release: Wi-Fi setup" in rec.screens[0]  # said before anything happened


async def test_ten_second_hold_counts_down_then_resets(rig) -> None:  # type: ignore[no-untyped-def]
    chip, rec, _button = rig
    chip.press(LINE)
    await until(lambda: rec.hold == 1)
    chip.lift(LINE)
    await asyncio.sleep(0.1)
    assert rec.short == 0 and rec.hold == 1
    countdown = [s for s in rec.screens if s and s[0] == "Keep holding:"]
    assert countdown and "Release to cancel" in countdown[0]
    assert rec.screens.index(countdown[0]) < rec.screens.index(next(s for s in rec.screens
                                                                     if "Factory reset now" in s))


async def test_medium_press_cancels_and_says_so(rig) -> None:  # type: ignore[no-untyped-def]
    chip, rec, _button = rig
    chip.press(LINE)
    await until(lambda: any(s and s[0] == "Keep holding:" for s in rec.screens))
    chip.lift(LINE)
    await until(lambda: ("Factory reset", "cancelled") in rec.screens)
    await asyncio.sleep(FAST.hold_s)
    assert rec.hold == 0 and rec.short == 0


async def test_contact_bounce_is_not_a_press(rig) -> None:  # type: ignore[no-untyped-def]
    chip, rec, button = rig
    for _ in range(3):
        now = time.monotonic_ns()
        chip.set_physical(LINE, 0, now)
        chip.set_physical(LINE, 1, now + 2_000_000)  # 2 ms blip: shorter than the debounce
    await asyncio.sleep(0.2)
    assert rec.short == 0 and button.snapshot().presses == 0


async def test_a_missing_chip_is_reported_and_retried() -> None:
    class Flaky(SimulatedChip):
        fails = 2

        def request_lines(self, config, consumer=None):  # type: ignore[no-untyped-def]
            if self.fails:
                self.fails -= 1
                raise FileNotFoundError(2, "No such file or directory", "/dev/gpiochip0")
            return super().request_lines(config, consumer)

    chip, rec = Flaky(), Recorder()
    button = SetupButton(chip, rec.on_short, rec.on_hold, rec.screens.append, FAST)
    await button.start()
    try:
        await until(lambda: button.snapshot().error is not None)
        assert "unavailable" in (button.snapshot().error or "")
        await until(lambda: button.snapshot().ok)
        chip.press(LINE)
        await asyncio.sleep(0.05)
        chip.lift(LINE)
        await until(lambda: rec.short == 1)
    finally:
        await button.stop()


def test_simulated_chip_keeps_the_kernel_semantics() -> None:
    chip = SimulatedChip()
    req = chip.request_lines({LINE: button_settings(debounce_ms=0)}, "test")
    assert req.get_value(LINE) == Value.INACTIVE  # pulled up, active-low: not pressed
    with pytest.raises(OSError, match="busy"):
        chip.request_lines({LINE: button_settings()}, "other")
    chip.press(LINE)
    assert req.wait_edge_events(timedelta(seconds=1))
    (event,) = req.read_edge_events()
    assert event.event_type == gpiod.EdgeEvent.Type.RISING_EDGE and event.line_offset == LINE
    assert req.get_value(LINE) == Value.ACTIVE
    chip.lift(LINE)
    assert req.wait_edge_events(1.0)
    assert [e.event_type for e in req.read_edge_events()] == [gpiod.EdgeEvent.Type.FALLING_EDGE]
    assert not req.wait_edge_events(0.05)
    req.release()
    with pytest.raises(gpiod.RequestReleasedError):
        req.read_edge_events()
    rising_only = chip.request_lines({LINE: gpiod.LineSettings(edge_detection=Edge.RISING)}, "x")
    chip.press(LINE)  # without active_low the falling voltage is a falling edge: not reported
    chip.lift(LINE)
    assert [e.event_type for e in rising_only.read_edge_events()] == [gpiod.EdgeEvent.Type.RISING_EDGE]
