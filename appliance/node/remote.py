"""Node mode on the box: one post-service per drive's dataset, all registered with the person's node.

Every dataset is one identity and one registration (go-spacemesh's 1:N setup: the node holds each
identity's key under ``data/identities/`` and the post-service of each connects on its own stream).
This supervisor keeps a :class:`~appliance.node.postservice.PostService` running for every identity
on the box's drives while node mode is chosen and a node address is set: it adds one when a drive
appears, stops one whose drive is gone from the box, and restarts them all when the address, the
TLS files or the network preset change. Data that is still being initialised is fine — each
service waits for its data before it registers — and proving pre-empts init through the box's
PoST provider (``JobsPostProvider``).

Its own state (why nothing runs, and each identity's connection) is in ``snapshot()``; changes are
published on the EventBus as ``Topic.NODEMODE``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.aio import cancel_and_wait
from appliance.events import EventBus, Topic
from appliance.node.nodemode import NetworkPreset, NodeModeStore
from appliance.node.post_provider import PostProvider
from appliance.node.postservice import PostService, ServiceStatus, TlsFiles, post_verifier
from appliance.node.reconcile import reconcile_forever

log = logging.getLogger(__name__)
#: events after which the supervisor looks again
WAKE_TOPICS = frozenset((Topic.JOBS, Topic.DRIVES, Topic.NODEMODE_SETTINGS))

#: (node id, identity name, drive id) of every dataset on the box's drives
Datasets = Callable[[], list[tuple[bytes, str, str]]]


@dataclass(frozen=True)
class RemoteIdentity:
    name: str
    drive_id: str
    service: ServiceStatus


@dataclass(frozen=True)
class NodeModeStatus:
    mode: str
    active: bool
    reason: str  # why nothing runs, or what runs
    node_address: str = ""
    public_api: str = ""
    preset: str = ""
    tls: bool = False
    identities: list[RemoteIdentity] = field(default_factory=list)


@dataclass(frozen=True)
class _Wanted:
    address: str
    tls: TlsFiles | None
    preset: NetworkPreset


class NodeModeSupervisor:
    def __init__(
        self,
        bus: EventBus,
        store: NodeModeStore,
        provider_for: Callable[[NetworkPreset], PostProvider],
        datasets: Datasets,
        reconnect_interval: float = 5.0,
    ) -> None:
        self.bus = bus
        self.store = store
        self.provider_for = provider_for
        self.datasets = datasets
        self.reconnect_interval = reconnect_interval
        self._services: dict[bytes, tuple[PostService, str, str]] = {}
        self._wanted: _Wanted | None = None
        self._reason = "starting"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="nodemode-supervisor")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._stop_all()

    def poke(self) -> None:
        self._wake.set()

    def active(self) -> bool:
        """Node mode is chosen: the light node must not smesh the same identities."""
        return self.store.current.mode == "node"

    def snapshot(self) -> NodeModeStatus:
        config = self.store.current
        identities = [
            RemoteIdentity(name, drive, svc.status()) for svc, name, drive in self._services.values()
        ]
        return NodeModeStatus(
            mode=config.mode, active=bool(self._services), reason=self._reason,
            node_address=config.node_address, public_api=config.public_api, preset=config.preset,
            tls=self.store.tls() is not None, identities=identities,
        )  # fmt: skip

    async def _run(self) -> None:
        await reconcile_forever(
            self.bus, WAKE_TOPICS, self._wake, self._reconcile,
            lambda exc: self._set_reason(f"node mode error: {exc}"), "nodemode-supervisor",
        )  # fmt: skip

    def _publish(self) -> None:
        self.bus.publish(Topic.NODEMODE)

    def _set_reason(self, reason: str) -> None:
        if reason != self._reason:
            self._reason = reason
            log.info("node mode: %s", reason)
        self._publish()

    async def _reconcile(self) -> None:
        config = self.store.current
        if config.mode != "node":
            await self._stop_all()
            self._set_reason("the box earns with its built-in light node")
            return
        preset = self.store.preset(config)
        address = config.node_address or preset.default_address
        if not address:
            await self._stop_all()
            self._set_reason("enter your node's post listener address (grpc-post-listener) in Settings")
            return
        paths = self.store.tls()
        tls = TlsFiles(paths.ca_cert, paths.cert, paths.key, paths.domain) if paths else None
        wanted = _Wanted(address, tls, preset)
        if wanted != self._wanted:
            await self._stop_all()
            self._wanted = wanted
        datasets = {node_id: (name, drive) for node_id, name, drive in self.datasets()}
        for node_id in [n for n in self._services if n not in datasets]:
            service, name, _ = self._services.pop(node_id)
            log.info("node mode: %s left the box; its post-service stops", name)
            await service.stop()
        provider = None
        for node_id, (name, drive) in datasets.items():
            if node_id in self._services:
                continue
            provider = provider or self.provider_for(wanted.preset)
            service = PostService(
                wanted.address, node_id, provider,
                post_verifier(wanted.preset.proof_config(), wanted.preset.scrypt_n),
                reconnect_interval=self.reconnect_interval, tls=tls,
                on_change=lambda _status: self._publish(),
            )  # fmt: skip
            self._services[node_id] = (service, name, drive)
            await service.start()
        count = len(self._services)
        self._set_reason(
            f"serving {count} identit{'y' if count == 1 else 'ies'} to the node at {wanted.address}"
            if count
            else "waiting for a drive: each drive's dataset is one identity for your node"
        )

    async def _stop_all(self) -> None:
        services, self._services = self._services, {}
        self._wanted = None
        for service, _, _ in services.values():
            await service.stop()
