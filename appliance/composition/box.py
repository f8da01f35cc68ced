"""The running box, typed: every manager the daemon made, after Home Assistant supervisor's
``CoreSys`` (``supervisor/coresys.py`` @ 090ef31e: one holder, each manager typed through
``TYPE_CHECKING`` imports, read before it exists → an error that says so).

:class:`Lifecycle` remembers what has started, so stopping undoes exactly that, newest first —
the start list in reverse, also when it broke off half way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, overload

if TYPE_CHECKING:
    from appliance.composition.network import Network
    from appliance.composition.node import NodeMode
    from appliance.composition.webapp import WebApp
    from appliance.config import DaemonConfig, StateLayout
    from appliance.discovery.manager import DiscoveryManager
    from appliance.drives.dev import DevDrives
    from appliance.drives.manager import DriveManager
    from appliance.events import EventBus
    from appliance.health.monitor import HealthMonitor
    from appliance.hostnet.service import HostNetManager
    from appliance.hw.button import SetupButton
    from appliance.hw.manager import HwManager
    from appliance.jobs.manager import JobManager
    from appliance.node.identity import IdentityStore
    from appliance.node.supervisor import NodeSupervisor
    from appliance.ota.manager import OtaManager
    from appliance.settings import SettingsStore
    from appliance.supervision import Supervisor

log = logging.getLogger(__name__)


class Stoppable(Protocol):
    async def stop(self) -> None: ...


class Manager(Stoppable, Protocol):
    async def start(self) -> None: ...


M = TypeVar("M", bound=Manager)
T = TypeVar("T")


class Lifecycle:
    """What has started, in order; :meth:`stop` stops it newest first."""

    def __init__(self) -> None:
        self._started: list[Stoppable] = []

    async def start(self, manager: M) -> M:
        await manager.start()
        self._started.append(manager)
        return manager

    @property
    def running(self) -> tuple[Stoppable, ...]:
        """What has started and not stopped yet, oldest first."""
        return tuple(self._started)

    def started(self, running: Stoppable) -> None:
        """For what starts itself (a server, the node-mode bundle): stop it with the rest."""
        self._started.append(running)

    async def stop(self) -> None:
        while self._started:
            running = self._started.pop()
            try:
                await running.stop()
            except Exception:  # one manager's failure must not leave the others running
                log.exception("stopping %s", type(running).__name__)


class Slot(Generic[T]):
    """A manager the start list makes: reading it before its line ran is a mistake in the order of
    the list, and fails saying so instead of handing out None (supervisor's ``coresys`` properties)."""

    def __set_name__(self, owner: type[Box], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, box: None, owner: type[Box]) -> Slot[T]: ...

    @overload
    def __get__(self, box: Box, owner: type[Box]) -> T: ...

    def __get__(self, box: Box | None, owner: type[Box]) -> Slot[T] | T:
        if box is None:
            return self
        try:
            value: T = vars(box)[self.name]
        except KeyError:
            raise RuntimeError(f"the box's {self.name} is read before the start list made it") from None
        return value

    def __set__(self, box: Box, value: T) -> None:
        vars(box)[self.name] = value


@dataclass(frozen=True)
class RunOptions:
    dev: bool = False  # the built-in devnet, file-backed drives, a simulated OLED
    web: bool = True  # serve the page and the API
    announce: bool = False  # mDNS on every LAN interface (the box's unit); otherwise on none


class Box:
    """Every manager of the running box. The core (bus, supervised tasks, health, jobs, drives) is
    made by ``bootstrap.initialize`` before anything starts; the rest by the start list
    (``bootstrap.start``), in the order the fields are listed here. ``None`` means this machine has
    none: no OS slot to update, no network of its own to manage, no GPIO, no web app."""

    settings: Slot[SettingsStore] = Slot()
    identities: Slot[IdentityStore] = Slot()
    nodemode: Slot[NodeMode] = Slot()
    node: Slot[NodeSupervisor] = Slot()
    hw: Slot[HwManager] = Slot()
    discovery: Slot[DiscoveryManager] = Slot()

    def __init__(self, *, layout: StateLayout, config: DaemonConfig, network: Network, options: RunOptions,
                 bus: EventBus, tasks: Supervisor, health: HealthMonitor, jobs: JobManager,
                 drives: DriveManager, dev_drives: DevDrives | None, web_connection_cap: int | None,
                 on_restart: Callable[[], None]) -> None:
        self.layout, self.config, self.network, self.options = layout, config, network, options
        self.bus, self.tasks, self.health = bus, tasks, health
        self.jobs, self.drives, self.dev_drives = jobs, drives, dev_drives
        self.web_connection_cap = web_connection_cap  # open web connections (appliance.system.limits)
        self.on_restart = on_restart  # the daemon's restart, after a factory reset
        self.lifecycle = Lifecycle()
        self.hostnet: HostNetManager | None = None  # on the image, which hands NetworkManager to us
        self.button: SetupButton | None = None  # where the board has GPIO
        self.ota: OtaManager | None = None  # where the image's release record exists
        self.web: WebApp | None = None  # unless --no-web
