"""DiscoveryManager: announces the box over mDNS with python-zeroconf's asyncio API.

Two services share one instance label, "Smeshbox <short id>": ``_smeshbox._tcp`` (TXT: version, node,
api) for our own tools and ``_http._tcp`` (TXT: path) for any network browser. Each is probed with
``allow_name_change``, so a second box with the same label becomes "Smeshbox <id>-2"; the name
actually taken is in ``snapshot()`` for the UI. The SRV target is the box's host name:
``host_name.local`` (``smeshbox.local``, as the README promises) when nobody else on the LAN answers
for it — or only this box's own OS responder (avahi) does — else ``host_name-2.local`` and so on;
without a ``host_name`` a per-instance ``smeshbox-<id>.local`` (renamed along with the label).

The announced addresses follow the network: a netlink watcher (plus a slow poll as a fallback)
re-reads the interfaces, moves zeroconf's sockets with ``async_update_interfaces`` and re-announces
the new A records; when the last address goes away the services are withdrawn until one comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field, replace
from typing import Literal

from zeroconf import AddressResolverIPv4, IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from appliance import __version__
from appliance.aio import cancel_and_wait
from appliance.discovery.interfaces import (
    DiscoveryError,
    Interface,
    addresses_of,
    choose_interfaces,
    list_interfaces,
)
from appliance.discovery.netwatch import NetlinkWatcher
from appliance.events import EventBus, Topic
from appliance.settings import Settings

log = logging.getLogger(__name__)
SMESHBOX_TYPE = "_smeshbox._tcp.local."
HTTP_TYPE = "_http._tcp.local."
SHORT_ID = re.compile(r"^[0-9A-Za-z]{1,16}$")
MAX_LABEL = 63  # DNS label limit, in UTF-8 bytes
MAX_HOST_TRIES = 9
HOST_QUERY_MS = 1500  # a free name is one nobody answers within this (three mDNS queries)

State = Literal["stopped", "starting", "announced", "no_network", "failed"]


@dataclass(frozen=True)
class DiscoveryConfig:
    node_id_short: str  # e.g. the first 6 hex digits of the node id
    port: int  # the web UI/API port
    version: str = __version__
    api_path: str = "/api/v1"
    interfaces: tuple[str, ...] | None = None  # explicit interface names; None = every LAN one
    label_prefix: str = "Smeshbox"
    # The name a person types (README: http://smeshbox.local): taken when free on the LAN (or held
    # by this box's own OS responder), else "<name>-2", "-3", ...; None: a per-instance host name.
    host_name: str | None = None
    poll_s: float = 30.0  # fallback re-scan when netlink is unavailable or misses something
    settle_s: float = 0.3  # addresses arrive in bursts (DHCP): re-scan once it is quiet

    def validate(self) -> None:
        if not SHORT_ID.match(self.node_id_short):
            raise DiscoveryError(f"node id short {self.node_id_short!r} must be 1-16 letters/digits")
        if not 1 <= self.port <= 65535:
            raise DiscoveryError(f"port {self.port} outside 1..65535")
        if not self.api_path.startswith("/"):
            raise DiscoveryError(f"api path {self.api_path!r} must start with '/'")
        if len(self.label.encode()) > MAX_LABEL - 4:  # room for a "-NN" rename suffix
            raise DiscoveryError(f"instance name {self.label!r} is too long for a DNS label")
        if "." in self.label_prefix or not self.label_prefix.strip():
            raise DiscoveryError(f"label prefix {self.label_prefix!r} must be non-empty, without dots")

    @property
    def label(self) -> str:
        return f"{self.label_prefix} {self.node_id_short}"


@dataclass(frozen=True)
class DiscoverySnapshot:
    state: State = "stopped"
    requested_name: str = ""
    name: str = ""  # the instance label actually taken on the LAN (shown in the UI)
    http_name: str = ""
    renamed: bool = False
    hostname: str = ""  # e.g. "smeshbox-3fa9c2.local"
    port: int = 0
    interfaces: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    error: str | None = None


def host_label(instance_label: str) -> str:
    """ "Smeshbox 3fa9c2-2" → "smeshbox-3fa9c2-2" (a valid host name label)."""
    return re.sub(r"[^a-z0-9-]+", "-", instance_label.lower()).strip("-")


def _instance_label(info: AsyncServiceInfo) -> str:
    return info.name[: -len(info.type) - 1]


class DiscoveryManager:
    def __init__(self, config: DiscoveryConfig, events: EventBus | None = None) -> None:
        config.validate()
        self.config = config
        self.events = events
        self._zc: AsyncZeroconf | None = None
        self._infos: list[AsyncServiceInfo] = []
        self._snapshot = DiscoverySnapshot(requested_name=config.label, port=config.port)
        self._changed = asyncio.Event()
        self._watcher: NetlinkWatcher | None = None
        self._task: asyncio.Task[None] | None = None
        self._settings_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # -- public -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Announces on the current interfaces (probing takes about a second) and keeps following
        address changes. Raises DiscoveryError for an explicit interface that does not exist."""
        if self._task is not None:
            return
        self._set(state="starting")
        # Subscribe before the first scan so a change during the ~1 s of probing is not missed.
        self._watcher = NetlinkWatcher(self._changed)
        if not self._watcher.start():
            log.warning("netlink unavailable: following address changes every %.0f s", self.config.poll_s)
        try:
            await self._reconcile()
        except DiscoveryError as exc:  # configuration: retrying cannot help
            self._watcher.stop()
            self._watcher = None
            self._set(state="failed", error=str(exc))
            raise
        except OSError as exc:  # e.g. a socket that cannot bind yet: keep following, retry on change
            log.warning("mDNS announce failed: %s", exc)
            self._set(state="failed", error=str(exc))
        self._task = asyncio.create_task(self._follow(), name="discovery-follow")
        if self.events is not None and self.config.host_name:
            self._settings_task = asyncio.create_task(self._follow_settings(), name="discovery-settings")

    async def set_host_name(self, host_name: str) -> None:
        """The person renamed the box (Settings "Box name"): withdraw the old name (goodbyes) and
        announce ``host_name.local`` — or the first free ``host_name-N.local`` — from now on."""
        if host_name == self.config.host_name:
            return
        config = replace(self.config, host_name=host_name)
        config.validate()
        async with self._lock:
            self.config = config
            await self._close()
        self._changed.set()  # _follow announces again (no zeroconf open: a fresh probe)

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task, self._settings_task)
        self._settings_task = None
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        async with self._lock:
            await self._close()
        self._set(state="stopped", interfaces=[], addresses=[])

    def snapshot(self) -> DiscoverySnapshot:
        return self._snapshot

    # -- internals --------------------------------------------------------------------------------

    def _set(self, **changes: object) -> None:
        snap = replace(self._snapshot, **changes)  # type: ignore[arg-type]
        if snap != self._snapshot:
            self._snapshot = snap
            if self.events is not None:
                self.events.publish(Topic.DISCOVERY, snap)

    async def _follow_settings(self) -> None:
        assert self.events is not None
        async with self.events.subscribe() as queue:
            while True:
                event = await queue.get()
                if event.topic is Topic.SETTINGS and isinstance(event.data, Settings):
                    try:
                        await self.set_host_name(event.data.hostname)
                    except DiscoveryError as exc:  # the settings store checked it; keep the old name
                        log.error("box name %r: %s", event.data.hostname, exc)

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.config.poll_s)
            await asyncio.sleep(self.config.settle_s)
            self._changed.clear()
            try:
                await self._reconcile()
            except Exception as exc:  # keep following: the next change may fix it
                log.exception("discovery re-announce failed")
                self._set(state="failed", error=str(exc))

    async def _reconcile(self) -> None:
        async with self._lock:
            available = await asyncio.to_thread(list_interfaces)
            chosen = choose_interfaces(available, self.config.interfaces)
            addresses = addresses_of(chosen)
            if addresses == self._snapshot.addresses and self._zc is not None:
                return
            if not addresses:
                await self._close()
                self._set(state="no_network", interfaces=[], addresses=[], error=None)
                return
            if self._zc is None:
                await self._announce(chosen, addresses)
            else:
                await self._move(chosen, addresses)

    def _info(self, type_: str, label: str, server: str, addresses: list[str]) -> AsyncServiceInfo:
        if type_ == SMESHBOX_TYPE:
            properties = {"version": self.config.version, "node": self.config.node_id_short,
                          "api": self.config.api_path}  # fmt: skip
        else:
            properties = {"path": "/"}
        return AsyncServiceInfo(
            type_, f"{label}.{type_}", port=self.config.port, properties=properties, server=server,
            parsed_addresses=addresses,
        )  # fmt: skip

    async def _announce(self, chosen: list[Interface], addresses: list[str]) -> None:
        zc = AsyncZeroconf(interfaces=addresses, ip_version=IPVersion.V4Only)
        self._zc = zc
        try:
            # Probe the _smeshbox name first: the host name follows the label it ends up with, so
            # two boxes renamed apart also get distinct host names (zeroconf does not probe hosts).
            smeshbox = self._info(SMESHBOX_TYPE, self.config.label, "probe.local.", addresses)
            await zc.zeroconf.async_check_service(smeshbox, allow_name_change=True)
            label = _instance_label(smeshbox)
            server = await self._free_host(zc, addresses) or f"{host_label(label)}.local."
            smeshbox = self._info(SMESHBOX_TYPE, label, server, addresses)
            http = self._info(HTTP_TYPE, label, server, addresses)
            await zc.zeroconf.async_check_service(http, allow_name_change=True)
            self._infos = [smeshbox, http]
            # Already probed above: register without a second round of probes.
            for info in self._infos:
                await zc.async_register_service(info, cooperating_responders=True)
        except BaseException:
            await self._close()
            raise
        self._set(
            state="announced", name=label, http_name=_instance_label(http),
            renamed=label != self.config.label, hostname=server.rstrip("."),
            interfaces=[i.name for i in chosen], addresses=addresses, error=None,
        )  # fmt: skip

    async def _free_host(self, zc: AsyncZeroconf, addresses: list[str]) -> str | None:
        """The first of ``name.local``, ``name-2.local``, ... that nobody else answers for. A name
        answered with this box's own addresses (the OS's mDNS responder, avahi on the image, holds
        the same name) counts as ours: identical records are no conflict (RFC 6762 §9)."""
        base = self.config.host_name
        if not base:
            return None
        for n in range(1, MAX_HOST_TRIES + 1):
            name = f"{base}.local." if n == 1 else f"{base}-{n}.local."
            resolver = AddressResolverIPv4(name)
            if not await resolver.async_request(zc.zeroconf, HOST_QUERY_MS):
                return name  # nobody answered: free
            if set(resolver.parsed_addresses(IPVersion.V4Only)) & set(addresses):
                return name
            log.info("%s is taken on the LAN by %s", name.rstrip("."),
                     ", ".join(resolver.parsed_addresses(IPVersion.V4Only)))
        return None

    async def _move(self, chosen: list[Interface], addresses: list[str]) -> None:
        assert self._zc is not None
        await self._zc.async_update_interfaces(addresses)
        moved = []
        for old in self._infos:
            info = self._info(old.type, _instance_label(old), old.server or "", addresses)
            await self._zc.async_update_service(info)
            moved.append(info)
        self._infos = moved
        self._set(interfaces=[i.name for i in chosen], addresses=addresses, state="announced", error=None)

    async def _close(self) -> None:
        zc, self._zc = self._zc, None
        self._infos = []
        if zc is not None:
            await zc.async_close()  # sends goodbyes for every registered service
