"""What each identity has earned: the layer rewards the gateway reports for it.

A light node keeps no state of accounts; its full-node peer (the gateway) does, as go-spacemesh's
``RewardService.List`` filters rewards by smesher (``api/grpcserver/v2alpha1/reward.go`` @
cc65f271f3e21b519532f2924ab227ccf352c2de: layer, coinbase, total and layer reward). The watcher asks
``GET /rewards/{node_id}`` once a layer per identity, keeps the last good answer, and never lets a
bad or missing reply erase what was already shown (an unreachable gateway leaves the totals as they
were and says since when they are stale).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from appliance.node.http import RemoteError, RemoteProtocolError, parse_json_object, request, uint_field
from appliance.node.http import field as json_field

log = logging.getLogger(__name__)

MAX_REPLY = 1 << 20
MAX_REWARDS = 20_000  # a year of mainnet layers with one eligibility each, and then some


@dataclass(frozen=True)
class RewardRecord:
    layer: int
    total_reward: int  # smidge
    layer_reward: int  # smidge (the subsidy part)
    coinbase: str  # hex


@dataclass(frozen=True)
class Earnings:
    """One identity's rewards as last reported; ``checked_at`` is 0 until the first answer."""

    total_smidge: int = 0
    count: int = 0
    last_layer: int | None = None
    recent: list[RewardRecord] = field(default_factory=list)  # the newest few, newest first
    checked_at: float = 0.0
    error: str = ""


def parse_rewards(url: str, body: bytes) -> list[RewardRecord]:
    obj = parse_json_object(url, body)
    items = json_field(url, obj, "rewards", list)
    if len(items) > MAX_REWARDS:
        raise RemoteProtocolError(url, f"more than {MAX_REWARDS} rewards in one reply")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise RemoteProtocolError(url, "a reward is not an object")
        coinbase = json_field(url, item, "coinbase", str)
        if any(isinstance(item.get(k), bool) for k in ("layer", "total_reward", "layer_reward")):
            raise RemoteProtocolError(url, "a reward amount is true/false, not a number")
        out.append(RewardRecord(uint_field(url, item, "layer", (1 << 32) - 1),
                                uint_field(url, item, "total_reward"),
                                uint_field(url, item, "layer_reward"), coinbase[:64]))
    return out


class RewardsWatcher:
    """Polls the gateway for every identity ``node_ids()`` names; ``earnings(node_id)`` is cached."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        gateway_url: str,
        node_ids: Callable[[], list[bytes]],
        now: Callable[[], float],
        interval: float,
        timeout: float = 10.0,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.url = gateway_url.rstrip("/")
        self.node_ids = node_ids
        self.now = now
        self.interval = interval
        self.timeout = timeout
        self.on_change = on_change
        self._earnings: dict[bytes, Earnings] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="rewards-watcher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def earnings(self, node_id: bytes) -> Earnings:
        return self._earnings.get(node_id, Earnings())

    async def _run(self) -> None:
        while True:
            for node_id in list(self.node_ids()):
                try:
                    await self.check(node_id)
                except Exception:  # a bug here must not stop the counting for good
                    log.exception("checking rewards of %s", node_id.hex()[:12])
            await asyncio.sleep(self.interval)

    async def check(self, node_id: bytes) -> Earnings:
        url = f"{self.url}/rewards/{node_id.hex()}"
        before = self.earnings(node_id)
        try:
            _, body = await request(self.session, "GET", url, timeout=self.timeout, max_bytes=MAX_REPLY)
            records = parse_rewards(url, body)
        except RemoteError as exc:
            after = Earnings(before.total_smidge, before.count, before.last_layer, before.recent,
                             before.checked_at, str(exc))
        else:
            records.sort(key=lambda r: r.layer, reverse=True)
            after = Earnings(sum(r.total_reward for r in records), len(records),
                             records[0].layer if records else None, records[:10], self.now())
        self._earnings[node_id] = after
        if after != before and self.on_change is not None:
            self.on_change()
        return after
