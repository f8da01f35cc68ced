"""NotifyManager: watches the box's conditions and sends a notice when one starts.

Sources are plain callables returning the conditions true *now* as :class:`Notice`\\ s with stable
keys (a problem id, "init-done:<drive>", "update:<from>-<to>"); a notice goes out on the rising edge
of its key only, so a lasting problem is reported once, and again only after it cleared. The set of
active keys is kept on disk (atomically), so a restart neither repeats old notices nor forgets one
that started while the box was down. While notifications are off the keys are still tracked, so
switching them on does not send a flood of old news.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

from appliance.aio import cancel_and_wait
from appliance.errors import ServiceError
from appliance.events import EventBus
from appliance.notify import config as cfg
from appliance.notify.channels import Notice, SendError, send_mail, send_webhook
from appliance.notify.service import Delivery
from appliance.system.files import atomic_write_json

log = logging.getLogger(__name__)

ACTIVE_FILE = "notify-active.json"
MAX_KEYS = 1000
RECENT = 20
Source = Callable[[], list[Notice]]


class NotifyManager:
    def __init__(self, state_dir: Path, bus: EventBus, sources: list[Source], recheck: float = 15.0) -> None:
        self.path = Path(state_dir) / cfg.NOTIFY_FILE
        self.active_path = Path(state_dir) / ACTIVE_FILE
        self.bus = bus
        self.sources = sources
        self.recheck = recheck
        self.config = cfg.load(self.path)
        self._active: set[str] | None = self._load_active()
        self._recent: list[Delivery] = []
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def _load_active(self) -> set[str] | None:
        try:
            keys = json.loads(self.active_path.read_text())
        except (FileNotFoundError, ValueError):
            return None  # first start (or a damaged file): learn the present without sending it
        return {k for k in keys if isinstance(k, str)} if isinstance(keys, list) else None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="notify")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        async with self.bus.subscribe() as events:
            while True:
                try:
                    await self.evaluate()
                except Exception:  # a broken source must not end notifications for good
                    log.exception("notifications")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(events.get(), self.recheck)
                await asyncio.sleep(1.0)  # coalesce bursts of events into one look

    async def evaluate(self) -> list[Notice]:
        """Looks at every source once; sends (if switched on) what started since the last look."""
        current: dict[str, Notice] = {}
        for source in self.sources:
            for notice in source():
                current.setdefault(notice.key, notice)
        previous, self._active = self._active, set(list(current)[:MAX_KEYS])
        if previous != self._active:
            await asyncio.to_thread(atomic_write_json, self.active_path, sorted(self._active))
        if previous is None:
            return []
        started = [n for k, n in current.items() if k not in previous]
        if self.config.enabled:
            for notice in started:
                await self._send(notice)
        return started

    async def _send(self, notice: Notice) -> list[Delivery]:
        out = []
        for channel in self.config.channels:
            try:
                if channel == "webhook":
                    if self._session is None:  # a test send before start()
                        self._session = aiohttp.ClientSession()
                    await send_webhook(self._session, self.config.webhook_url, notice)
                else:
                    await send_mail(self.config, notice)
                out.append(Delivery(channel, True, "sent", notice.title, time.time()))
            except SendError as exc:
                log.warning("notification %r over %s failed: %s", notice.title, channel, exc)
                out.append(Delivery(channel, False, str(exc), notice.title, time.time()))
        self._recent = (out[::-1] + self._recent)[:RECENT]
        return out

    # ---- NotifyService
    def settings(self) -> dict[str, Any]:
        return self.config.public()

    async def update(self, change: Mapping[str, Any]) -> dict[str, Any]:
        async with self._lock:
            try:
                new = cfg.check(self.config, change)
            except cfg.NotifyConfigError as exc:
                raise ServiceError(str(exc), "invalid") from exc
            await asyncio.to_thread(cfg.save, self.path, new)
            self.config = new
        return new.public()

    async def test(self) -> list[Delivery]:
        if not self.config.channels:
            raise ServiceError("give a notification URL or a mail server first", "invalid")
        return await self._send(Notice("test", "Test notification",
                                       "This is a test from your Smeshbox. Notifications work."))

    def recent(self) -> list[Delivery]:
        return list(self._recent)
