"""LightNode: runs one :class:`~appliance.node.smesher.Smesher` per identity for the daemon.

``start()``/``stop()`` own the HTTP session and the tasks; each smesher runs under an
:class:`appliance.supervision.Supervisor`: when it dies (its drive went away mid-proof, EMFILE, a
bug) it is rebuilt from its durable state and restarted with backoff, and reported as down until
then. ``snapshot()`` returns typed, JSON-ready
status per identity (epoch, PoET registrations, last proof time, ATX history with grades, next
deadline, eligible layers, proposals); every change is published on the EventBus as topic "node".
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from appliance.events import EventBus, Topic
from appliance.node.clock import LayerClock, SystemTime, TimeSource
from appliance.node.config import NodeConfig
from appliance.node.gateway_client import GatewayClient
from appliance.node.identity import Identity
from appliance.node.poet_client import PoetClient
from appliance.node.post_provider import PostProvider, PostUnavailable
from appliance.node.rewards import RewardsWatcher
from appliance.node.smesher import Smesher
from appliance.node.state import StateStore
from appliance.supervision import Supervisor, TaskDown

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoetRegistrationView:
    poet: str
    round_id: str
    round_end: float


@dataclass(frozen=True)
class AtxView:
    epoch: int
    grade: str  # "good" | "acceptable" | "evil" | "missed" | "pending"
    atx_id: str = ""
    published_at: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class IdentityStatus:
    name: str
    node_id: str
    epoch: int
    layer: int
    status: str
    poet_registrations: list[PoetRegistrationView] = field(default_factory=list)
    last_proof_seconds: float | None = None
    cycle_gap_budget_seconds: float | None = None
    atx_history: list[AtxView] = field(default_factory=list)
    next_deadline: float | None = None
    next_deadline_what: str = ""
    eligible_layers: list[int] = field(default_factory=list)
    proposals_published: int = 0
    proposals_missed: int = 0
    error: str = ""
    down_since: float | None = None  # unix seconds its smesher stopped; None while it runs
    earned_smidge: int = 0  # layer rewards the gateway reports for this identity
    rewards_count: int = 0
    last_reward_layer: int | None = None
    rewards_checked_at: float = 0.0  # 0: not asked successfully yet
    next_eligible_at: float | None = None  # start of the next layer this identity may propose in


@dataclass(frozen=True)
class NodeStatus:
    clock_synced: bool
    epoch: int
    layer: int
    identities: list[IdentityStatus] = field(default_factory=list)
    epoch_started_at: float = 0.0  # unix seconds: when the current epoch began
    epoch_seconds: float = 0.0  # the network's epoch length (how late "stalled" is)
    now: float = 0.0  # the node's clock when the snapshot was taken


def _cause_outside(exc: BaseException) -> bool:
    """A smesher that stopped because its PoST data is not there (drive unplugged or failing) waits
    for the drive, not for a daemon restart."""
    drive_gone = (errno.EIO, errno.ENODEV, errno.ENXIO, errno.ENOENT, errno.ESHUTDOWN)
    return isinstance(exc, PostUnavailable) or (isinstance(exc, OSError) and exc.errno in drive_gone)


class LightNode:
    def __init__(
        self,
        config: NodeConfig,
        state_dir: Path,
        post_provider: PostProvider,
        bus: EventBus | None = None,
        time_source: TimeSource | None = None,
        identities: list[Identity] | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.config = config
        self.state_dir = Path(state_dir)
        self.provider = post_provider
        self.bus = bus
        self.time = time_source or SystemTime()
        self.clock = LayerClock(config.clock)
        self._identities: list[Identity] = list(identities or [])
        self._smeshers: dict[bytes, Smesher] = {}
        self._errors: dict[bytes, str] = {}
        self._session: aiohttp.ClientSession | None = None
        self.supervisor = supervisor or Supervisor()
        self._supervised: set[str] = set()
        self._rewards: RewardsWatcher | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.config.request_timeout)
        )
        self._rewards = RewardsWatcher(
            self._session, self.config.gateway_url, lambda: list(self._smeshers), self.time.now,
            interval=self.config.clock.layer_duration, timeout=self.config.request_timeout,
            on_change=lambda: [self._changed(nid) for nid in list(self._smeshers)],
        )
        self._rewards.start()
        for identity in self._identities:
            self._launch(identity)

    async def stop(self) -> None:
        if self._rewards is not None:
            await self._rewards.stop()
        for name in list(self._supervised):
            await self.supervisor.stop(name)
        self._supervised.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def add_identity(self, identity: Identity) -> None:
        """Starts smeshing for a new identity (e.g. a drive whose PoST data just completed)."""
        if identity.node_id in self._smeshers:
            return
        self._identities.append(identity)
        if self._session is not None:
            self._launch(identity)

    def _launch(self, identity: Identity) -> None:
        assert self._session is not None
        try:
            self._smeshers[identity.node_id] = self._smesher(identity)
        except Exception as exc:  # a state we must not guess about: report it, do not smesh
            self._errors[identity.node_id] = str(exc)
            log.error("not smeshing for %s: %s", identity.node_id.hex()[:12], exc)
            return
        name = self._task_name(identity.node_id)
        self._supervised.add(name)
        self.supervisor.start(name, "node", lambda: self._run_smesher(identity), outside=_cause_outside)

    @staticmethod
    def _task_name(node_id: bytes) -> str:
        return f"smesher-{node_id.hex()[:12]}"

    def _smesher(self, identity: Identity) -> Smesher:
        assert self._session is not None
        store = StateStore(self.state_dir, identity.node_id)
        poets = [
            PoetClient(self._session, p.url, p.pubkey, self.config.request_timeout, self.config.proof_timeout)
            for p in self.config.poets
        ]
        gateway = GatewayClient(self._session, self.config.gateway_url, self.config.request_timeout)
        return Smesher(
            identity,
            self.config,
            store,
            poets,
            gateway,
            self.provider,
            self.time,
            on_change=lambda nid=identity.node_id: self._changed(nid),
        )

    async def _run_smesher(self, identity: Identity) -> None:
        """One run of the identity's smesher. After a crash the smesher is rebuilt from its durable
        state (as after a daemon restart): the in-memory copy may hold a half-done step."""
        node_id = identity.node_id
        smesher = self._smeshers.get(node_id)
        if smesher is None or smesher.status == "crashed":
            smesher = self._smesher(identity)
            self._smeshers[node_id] = smesher
        self._errors.pop(node_id, None)
        try:
            await smesher.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            smesher.status = "crashed"
            self._errors[node_id] = f"smesher stopped: {exc}"
            self._changed(node_id)
            raise

    def down(self) -> list[TaskDown]:
        """The smeshers that are not running right now (crashed, waiting to restart)."""
        return [d for d in self.supervisor.down() if d.name in self._supervised]

    def poke(self) -> None:
        """A cause of a smesher's crash may have cleared (a drive came back): retry now."""
        for name in self._supervised:
            task = self.supervisor.get(name)
            if task is not None:
                task.poke()

    def _changed(self, node_id: bytes) -> None:
        if self.bus is not None:
            status = self.identity_status(node_id)
            if status is not None:
                self.bus.publish(Topic.NODE, status)

    def identity_status(self, node_id: bytes) -> IdentityStatus | None:
        smesher = self._smeshers.get(node_id)
        now = self.time.now()
        if smesher is None:
            return None
        records = smesher.records()
        regs: list[PoetRegistrationView] = []
        history: list[AtxView] = []
        for ep in records.epochs:
            if ep.phase == "published":
                history.append(AtxView(ep.epoch, ep.grade, ep.atx_id, ep.published_at))
            elif ep.phase == "expired":
                history.append(AtxView(ep.epoch, "missed", ep.atx_id, None, ep.reason))
            else:
                history.append(AtxView(ep.epoch, "pending", ep.atx_id))
                regs = [PoetRegistrationView(r.url, r.round_id, r.round_end) for r in ep.registrations]
        eligible = list(records.eligible_layers)
        deadline = smesher.next_deadline
        cfg = self.config.clock
        task = self.supervisor.get(self._task_name(node_id))
        down = task.down() if task is not None else None
        status = smesher.status
        if down is not None:
            wait = max(0.0, down.retry_at - time.time())
            status = f"stopped ({down.reason}); restarting in {wait:.0f} s"
        earned = self._rewards.earnings(node_id) if self._rewards is not None else None
        layer_now = self.clock.layer_at(now)
        upcoming = [layer for layer in eligible if layer > layer_now]
        return IdentityStatus(
            name=smesher.identity.name,
            node_id=node_id.hex(),
            epoch=self.clock.epoch_at(now),
            layer=self.clock.layer_at(now),
            status=status,
            poet_registrations=regs,
            last_proof_seconds=smesher.last_proof_seconds,
            cycle_gap_budget_seconds=cfg.cycle_gap - cfg.grace_period,
            atx_history=history,
            next_deadline=deadline[0] if deadline else None,
            next_deadline_what=deadline[1] if deadline else "",
            eligible_layers=eligible,
            proposals_published=records.proposals_published,
            proposals_missed=records.proposals_missed,
            error=self._errors.get(node_id, ""),
            down_since=down.since if down is not None else None,
            earned_smidge=earned.total_smidge if earned else 0,
            rewards_count=earned.count if earned else 0,
            last_reward_layer=earned.last_layer if earned else None,
            rewards_checked_at=earned.checked_at if earned else 0.0,
            next_eligible_at=self.clock.layer_start(upcoming[0]) if upcoming else None,
        )

    def snapshot(self) -> NodeStatus:
        now = self.time.now()
        statuses = [s for nid in self._smeshers if (s := self.identity_status(nid)) is not None]
        for identity in self._identities:
            if identity.node_id not in self._smeshers:
                statuses.append(
                    IdentityStatus(
                        identity.name,
                        identity.node_id.hex(),
                        self.clock.epoch_at(now),
                        self.clock.layer_at(now),
                        "not running",
                        error=self._errors.get(identity.node_id, ""),
                    )
                )
        epoch = self.clock.epoch_at(now)
        return NodeStatus(self.time.synced(), epoch, self.clock.layer_at(now), statuses,
                          epoch_started_at=self.clock.epoch_start(epoch),
                          epoch_seconds=self.config.clock.epoch_duration, now=now)
