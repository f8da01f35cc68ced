"""A tiny in-process publish/subscribe bus: managers publish typed state changes, the web layer
streams them to the page (SSE) without polling. Lives on the event loop; publishing from a thread
goes through ``publish_threadsafe``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    topic: str  # "drives", "jobs", "node", "hw", "ota", ...
    data: Any = None


@dataclass
class EventBus:
    queue_size: int = 256
    _subscribers: set[asyncio.Queue[Event]] = field(default_factory=set)
    _loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, topic: str, data: Any = None) -> None:
        event = Event(topic, data)
        for queue in list(self._subscribers):
            if queue.full():  # a slow reader loses the oldest event, never blocks the publisher
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    def publish_threadsafe(self, topic: str, data: Any = None) -> None:
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
