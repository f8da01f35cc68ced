"""HwManager on a real loop: sensors from a fake sysfs tree, the simulated panel saved as PNG,
events on the bus, recovery when the panel appears, power-off on stop."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from appliance.events import EventBus, Topic
from appliance.hw import HwConfig, HwManager, HwSnapshot, SimulatedBus, SimulatedSSD1306

WAIT = 10.0  # generous bound on waiting for an event; never a speed assertion


async def next_hw(queue: asyncio.Queue, predicate) -> HwSnapshot:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(WAIT):
        while True:
            event = await queue.get()
            if event.topic is Topic.HW and predicate(event.data):
                return event.data


async def test_manager_reads_sensors_draws_screen_and_publishes(sysfs: Path, put, tmp_path: Path) -> None:
    bus = EventBus()
    png = tmp_path / "oled.png"
    config = HwConfig(sysfs_root=sysfs, interval_s=0.05, simulate_display=True, display_png=png)
    manager = HwManager(bus, config)
    async with bus.subscribe() as queue:
        await manager.start()
        try:
            snap = manager.snapshot()
            assert snap.cpu_temp_c == pytest.approx(51.234)
            assert snap.display.kind == "simulated" and snap.display.ok and snap.display.frames == 1
            assert not snap.throttled and not snap.undervoltage
            assert (await queue.get()).data == snap
            assert json.loads(json.dumps(dataclasses.asdict(snap)))["sensors"]["fans"][0]["rpm"] == 2900

            manager.set_status(name="Smeshbox 3fa9", ip="192.0.2.7", url="http://192.0.2.7/", state="ready")
            snap = await next_hw(queue, lambda s: s.status.url == "http://192.0.2.7/")
            assert snap.display.frames == 2 and snap.status.temperature_c == pytest.approx(51.234)
            with Image.open(png) as img:
                assert [r.text.lower() for r in zxingcpp.read_barcodes(img)] == ["http://192.0.2.7/"]

            put(sysfs, "sys/class/thermal/thermal_zone0/temp", "67000")
            put(sysfs, "sys/devices/platform/soc/soc:firmware/get_throttled", "50005")
            snap = await next_hw(queue, lambda s: s.cpu_temp_c == 67.0)
            assert snap.throttled and snap.undervoltage and snap.display.frames == 3
            sim = manager.simulated_panel
            assert sim is not None
            panel = sim.devices[0x3C]
            assert panel.display_on
        finally:
            await manager.stop()
    assert not panel.display_on and sim.closed  # powered off and the bus closed on stop


async def test_missing_panel_is_reported_then_recovers(sysfs: Path) -> None:
    simbus = SimulatedBus(devices={})  # nothing answers at 0x3C yet
    events = EventBus()
    manager = HwManager(events, HwConfig(sysfs_root=sysfs, interval_s=0.05), bus_factory=lambda: simbus)
    async with events.subscribe() as queue:
        await manager.start()
        try:
            snap = manager.snapshot()
            assert snap.display.kind == "ssd1306" and not snap.display.ok
            assert "0x3c" in (snap.display.error or "")
            assert snap.cpu_temp_c is not None  # sensors work without a panel
            simbus.devices[0x3C] = SimulatedSSD1306()  # the panel is plugged in
            snap = await next_hw(queue, lambda s: s.display.ok)
            assert snap.display.error is None and snap.display.frames == 1
            assert simbus.devices[0x3C].display_on
        finally:
            await manager.stop()


async def test_no_panel_configured_and_no_i2c_device(tmp_path: Path) -> None:
    for config, kind in (
        (HwConfig(sysfs_root=tmp_path, i2c_bus=None), "none"),
        (HwConfig(sysfs_root=tmp_path, i2c_bus=250), "ssd1306"),  # /dev/i2c-250 does not exist
    ):
        manager = HwManager(EventBus(), config)
        await manager.start()
        snap = manager.snapshot()
        await manager.stop()
        assert snap.display.kind == kind and snap.cpu_temp_c is None
        if kind == "ssd1306":
            assert not snap.display.ok and "/dev/i2c-250 is missing" in (snap.display.error or "")


async def test_set_status_rejects_unknown_fields(tmp_path: Path) -> None:
    manager = HwManager(EventBus(), HwConfig(sysfs_root=tmp_path, i2c_bus=None))
    with pytest.raises(TypeError):
        manager.set_status(colour="red")
    assert manager.snapshot().status.name == "Smeshbox"
