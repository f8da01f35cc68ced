"""A tiny in-process publish/subscribe bus: managers publish that their state changed, the web layer
streams it to the page (SSE) without polling. Lives on the event loop; publishing from a thread goes
through ``publish_threadsafe``.

Topics are a closed set (:class:`Topic`). An event says *what* changed; readers that need the state
ask the manager's ``snapshot()``. Only where someone reads the state at the moment of the change
(the progress of an init or an update, a sensor reading) does the event carry that manager's typed
snapshot — never a dict copy of it. Domains that need to act on one precise fact (a dataset became
ready or was lost) get a typed listener from its owner instead of filtering this stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum


class Topic(StrEnum):
    """Who changed. The values are the wire names the page's event stream is keyed on."""

    DRIVES = "drives"  # no payload: read DriveManager.snapshot()
    JOBS = "jobs"  # list[JobSnapshot] at the moment of the change (progress included)
    NODE = "node"  # the IdentityStatus that changed (LightNode), or none (NodeSupervisor.snapshot())
    NODEMODE = "nodemode"  # no payload: read NodeModeSupervisor.snapshot()
    NODEMODE_SETTINGS = "nodemode-settings"  # no payload: node mode's settings changed
    SETTINGS = "settings"  # the new appliance.settings.Settings
    HW = "hw"  # the new HwSnapshot
    OTA = "ota"  # the OtaSnapshot at the moment of the change (phase, bytes downloaded)
    DISCOVERY = "discovery"  # the new DiscoverySnapshot


@dataclass(frozen=True)
class Event:
    topic: Topic
    data: object = None


@dataclass
class EventBus:
    queue_size: int = 256
    _subscribers: set[asyncio.Queue[Event]] = field(default_factory=set)
    _loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, topic: Topic, data: object = None) -> None:
        event = Event(Topic(topic), data)
        for queue in list(self._subscribers):
            if queue.full():  # a slow reader loses the oldest event, never blocks the publisher
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    def publish_threadsafe(self, topic: Topic, data: object = None) -> None:
        if self._loop is None:
            raise RuntimeError("EventBus.bind(loop) was not called")
        self._loop.call_soon_threadsafe(self.publish, topic, data)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self.queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
