"""NodeSupervisor: keeps the light node running for the box.

The daemon knows things the node does not: which drives hold complete PoST data (and so which
identities can smesh), what reward address the person entered, which network the box is on. This
supervisor turns those into a running :class:`~appliance.node.lightnode.LightNode`:

* it starts the node once a network config and a reward address are known (never invents one),
* feeds it every identity whose data is complete, as drives complete or are plugged in (it is the
  job manager's dataset listener: told only when a dataset becomes ready or is lost),
* restarts it when the reward address or the network changes (the epoch state machine is durable,
  so a restart continues where it stopped).

Its own state (why the node is not running) is part of ``snapshot()`` so the page can say it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.aio import cancel_and_wait
from appliance.events import EventBus, Topic
from appliance.node.address import parse_address
from appliance.node.clock import TimeSource
from appliance.node.config import NodeConfig, NodeConfigError
from appliance.node.identity import Identity
from appliance.node.lightnode import LightNode, NodeStatus
from appliance.node.post_provider import PostProvider
from appliance.node.reconcile import reconcile_forever
from appliance.supervision import Supervisor

log = logging.getLogger(__name__)
#: events after which the supervisor looks again. Drives and jobs are not among them: their events
#: arrive twice a second per drive while init runs; what the node needs from them — a dataset that
#: can prove appeared or went away — comes through ``dataset_ready``/``dataset_lost``
#: (``JobManager.add_dataset_listener``), so ``network.json`` and the key files are re-read only then.
WAKE_TOPICS = frozenset((Topic.SETTINGS, Topic.NODEMODE_SETTINGS))

#: builds the node config for a coinbase, or None while the box has no network configured
NetworkSource = Callable[[bytes], NodeConfig | None]
#: the person's PoET servers and gateways (Settings); empty lists keep the network's
ServerChoice = Callable[[], tuple[Sequence[str], Sequence[str]]]


@dataclass(frozen=True)
class SupervisorStatus:
    running: bool
    reason: str  # why the node is not running, or what it runs
    node: NodeStatus | None = None


class NodeSupervisor:
    def __init__(
        self,
        bus: EventBus,
        state_dir: Path,
        provider: PostProvider,
        network: NetworkSource,
        hrp: str,
        reward_address: Callable[[], str],
        identities: Callable[[], Awaitable[list[Identity]]],
        time_source: TimeSource | None = None,
        default_coinbase: bytes | None = None,
        tasks: Supervisor | None = None,
        paused: Callable[[], str | None] | None = None,
        servers: ServerChoice | None = None,
    ) -> None:
        self.bus = bus
        self.state_dir = state_dir
        self.provider = provider
        self.network = network
        self.hrp = hrp
        self.reward_address = reward_address
        self.identities = identities
        self.time_source = time_source
        # --dev only: smesh "out of the box" to the devnet's address until the person sets theirs
        self.default_coinbase = default_coinbase
        # why the light node must not run now (node mode: the person's node smeshes these identities)
        self.paused = paused
        self.servers = servers
        self._manager: LightNode | None = None
        self._config: NodeConfig | None = None
        self._reason = "starting"
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        #: restarts each smesher after a crash; the health object reads who is down from it
        self.tasks = tasks or Supervisor()
        self.tasks.add_listener(self.poke)
        self._ready: set[bytes] = set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="node-supervisor")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._stop_manager()

    def snapshot(self) -> SupervisorStatus:
        manager = self._manager
        return SupervisorStatus(manager is not None, self._reason, manager.snapshot() if manager else None)

    def poke(self) -> None:
        """Something the node depends on changed (a dataset, settings, a task): reconcile soon."""
        self._wake.set()

    # -- appliance.jobs.model.DatasetListener -----------------------------------------------------

    def dataset_ready(self, drive_id: str, node_id: bytes) -> None:
        self.poke()

    def dataset_lost(self, drive_id: str) -> None:
        self.poke()

    async def _run(self) -> None:
        await reconcile_forever(
            self.bus, WAKE_TOPICS, self._wake, self._reconcile,
            lambda exc: self._set_reason(f"node error: {exc}"), "node-supervisor",
        )  # fmt: skip

    def _set_reason(self, reason: str) -> None:
        if reason != self._reason:
            self._reason = reason
            log.info("node: %s", reason)
            self.bus.publish(Topic.NODE)

    def _wanted_config(self) -> NodeConfig | None:
        address = self.reward_address().strip()
        if not address and self.default_coinbase is not None:
            return self._with_servers(self.network(self.default_coinbase))
        if not address:
            self._set_reason("waiting for a reward address (finish onboarding)")
            return None
        try:
            coinbase = parse_address(address, self.hrp)
        except ValueError as exc:
            self._set_reason(f"the reward address cannot be used on this network: {exc}")
            return None
        config = self.network(coinbase)
        if config is None:
            self._set_reason("no network configured (network.json in the state folder)")
        return self._with_servers(config)

    def _with_servers(self, config: NodeConfig | None) -> NodeConfig | None:
        """A changed choice makes a different config, so the node restarts with it (_reconcile)."""
        if config is None or self.servers is None:
            return config
        poets, gateways = self.servers()
        try:
            return config.with_servers(poets, gateways)
        except NodeConfigError as exc:  # the settings store validates; a hand-edited file may not be
            self._set_reason(f"the servers in Settings cannot be used: {exc}")
            return None

    async def _reconcile(self) -> None:
        why = self.paused() if self.paused is not None else None
        if why:  # never smesh an identity the person's node smeshes too
            await self._stop_manager()
            self._set_reason(why)
            return
        config = self._wanted_config()
        if config is None:
            await self._stop_manager()
            return
        if self._manager is not None and config != self._config:
            log.info("node: network or reward address changed; restarting the node")
            await self._stop_manager()
        if self._manager is None:
            self._manager = LightNode(config, self.state_dir, self.provider, self.bus, self.time_source,
                                        supervisor=self.tasks)
            self._config = config
            await self._manager.start()
        ready = await self.identities()
        for identity in ready:
            await self._manager.add_identity(identity)
        ready_ids = {i.node_id for i in ready}
        if ready_ids - self._ready:
            self._manager.poke()  # a drive came back: a smesher that crashed without it retries now
        self._ready = ready_ids
        count = len(self._manager.snapshot().identities)
        down = self._manager.down()
        reason = (
            f"smeshing with {count} identit{'y' if count == 1 else 'ies'}"
            if count
            else "waiting for a drive with complete PoST data"
        )
        if down:
            reason = (f"smeshing with {count - len(down)} of {count} identities; "
                      f"{len(down)} stopped, restarting ({down[0].reason})")
        if not self.reward_address().strip():
            reason += " (rewards go to the devnet's default address until you set yours)"
        self._set_reason(reason)

    async def _stop_manager(self) -> None:
        if self._manager is not None:
            await self._manager.stop()
            self._manager = None
            self._config = None
