"""The loop every node supervisor runs: reconcile now, then again whenever an event on one of its
topics arrives (drives, jobs, settings changed) or ``period`` seconds pass; a failing reconcile is
logged and reported, never ends the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from appliance.aio import cancel_and_wait
from appliance.events import EventBus, Topic

log = logging.getLogger(__name__)


async def reconcile_forever(
    bus: EventBus,
    topics: frozenset[Topic],
    wake: asyncio.Event,
    reconcile: Callable[[], Awaitable[None]],
    on_error: Callable[[Exception], None],
    name: str,
    period: float = 30.0,
) -> None:
    async with bus.subscribe() as events:
        forward = asyncio.create_task(_forward(events, topics, wake), name=f"{name}-events")
        try:
            while True:
                try:
                    await reconcile()
                except Exception as exc:  # keep supervising; the reason is shown to the person
                    log.exception(name)
                    on_error(exc)
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), period)
        finally:
            await cancel_and_wait(forward)


async def _forward(events: asyncio.Queue, topics: frozenset[Topic], wake: asyncio.Event) -> None:
    while True:
        event = await events.get()
        if event.topic in topics:
            wake.set()
