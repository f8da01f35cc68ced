"""The box's senses and its place on the LAN, as the start list makes them: the hw manager (real
I2C on a box, a simulated panel with ``--dev``), host networking and the setup button (only on
the image), the mDNS announcement, and the OLED's status screen kept in step with the box."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.discovery import DiscoveryConfig, DiscoveryManager
from appliance.hw import HwConfig, HwManager
from appliance.system.files import atomic_write_text
from appliance.system.reset import ResetService

if TYPE_CHECKING:
    from appliance.composition.box import Box
    from appliance.config import StateLayout
    from appliance.hostnet.service import HostNetManager
    from appliance.hw.button import SetupButton

log = logging.getLogger(__name__)

#: installed by the OS image (image/overlay): NetworkManager is the box's, the appliance manages it
BOX_NETWORK_CONF = Path("/etc/NetworkManager/conf.d/smeshbox.conf")
GPIO_CHIP = Path("/dev/gpiochip0")
SCREEN_TASK = "oled-status"


def box_short_id(layout: StateLayout) -> str:
    """Six hex digits naming this box on the LAN ("Smeshbox 3fa9c2"), stable across restarts."""
    path = layout.root / "box-id"
    with contextlib.suppress(FileNotFoundError):
        text = path.read_text().strip()
        if len(text) == 6 and all(c in "0123456789abcdef" for c in text):
            return text
    short = secrets.token_hex(3)
    atomic_write_text(path, short + "\n")
    return short


def hw_manager(box: Box) -> HwManager:
    config = (HwConfig(i2c_bus=None, simulate_display=True, display_png=box.layout.root / "oled.png")
              if box.options.dev else HwConfig())
    return HwManager(box.bus, config)


def manages_network(box: Box) -> bool:
    """The box's network is ours to manage only on the image, which hands NetworkManager to the
    appliance with this file; a developer's machine (or --dev) keeps its own network alone."""
    return not box.options.dev and BOX_NETWORK_CONF.exists()


def _notice(box: Box, lines: tuple[str, ...], qr: str = "") -> None:
    box.hw.set_status(notice=lines, qr=qr)


def host_network(box: Box) -> HostNetManager:
    """NetworkManager, the setup hotspot and portal, and the clock check."""
    from appliance.hostnet.service import HostNetManager

    return HostNetManager(box.layout.root, box_short_id(box.layout), notice=functools.partial(_notice, box))


def setup_button(box: Box, hostnet: HostNetManager) -> SetupButton | None:
    """Short press: the setup hotspot; a long hold: a factory reset that keeps the identity keys
    (the drives' PoST data stays usable). None where the board has no GPIO."""
    from appliance.hw.button import SetupButton, gpiod_chip

    if not GPIO_CHIP.exists():
        return None
    reset = ResetService(box.layout.root, on_restart=box.on_restart)
    return SetupButton(gpiod_chip(str(GPIO_CHIP)), hostnet.open_setup,
                       functools.partial(reset.factory_reset, keep_identities=True),
                       functools.partial(_notice, box))


def box_name(box: Box) -> str:
    """The name the person chose in Settings ("smeshbox" until then): http://NAME.local."""
    return box.settings.current.hostname or "smeshbox"


async def start_discovery(box: Box) -> DiscoveryManager:
    """The mDNS announcement. Only the box announces (its unit passes --announce): mDNS from a
    developer's machine or a test run would reach a real LAN. A box without a LAN still smeshes;
    the page shows why it is not found."""
    discovery = DiscoveryManager(
        DiscoveryConfig(box_short_id(box.layout), box.config.listen_port,
                        interfaces=None if box.options.announce else (), host_name=box_name(box)),
        box.bus,
    )
    try:
        await box.lifecycle.start(discovery)
    except Exception as exc:
        log.error("mDNS announcement failed: %s", exc)
    return discovery


class StatusScreen:
    """Keeps the OLED's status screen (name, IP, URL as QR, state) in step with the box, as a
    supervised task: a drawing error must not leave the screen stale."""

    def __init__(self, box: Box) -> None:
        self.box = box

    async def start(self) -> None:
        self.box.tasks.start(SCREEN_TASK, "hw", self._run)

    async def stop(self) -> None:
        await self.box.tasks.stop(SCREEN_TASK)

    async def _run(self) -> None:
        async with self.box.bus.subscribe() as events:
            while True:
                self.draw()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(events.get(), 15.0)
                await asyncio.sleep(1.0)  # coalesce bursts of progress events into one redraw

    def draw(self) -> None:
        box, config = self.box, self.box.config
        found = box.discovery.snapshot()
        ip = found.addresses[0] if found.addresses else ""
        host = found.hostname.rstrip(".") if found.hostname else ""
        port = "" if config.listen_port == 80 else f":{config.listen_port}"
        url = f"http://{host or ip or config.listen_host}{port}/"
        running = [j for j in box.jobs.snapshot() if j.state.value == "initializing"]
        if running:
            done = sum(j.position for j in running) / max(1, sum(j.total for j in running))
            state = f"init {100 * done:.0f}%"
        else:
            state = "smeshing" if box.node.snapshot().running else "setup"
        box.hw.set_status(name=found.name or "Smeshbox", ip=ip, url=url, state=state)
