"""Supervision of the daemon's long-running tasks: restart with backoff, report while down.

Every task that must keep running for the box to earn (each smesher, each init job, the node-mode
PoST service) is started through a :class:`Supervisor`. When its coroutine raises, the supervisor
records *why* and *since when* (``down()``, which the health object turns into problems), waits
with exponential backoff and starts a fresh coroutine from the same factory. A task that then runs
for ``healthy_after`` seconds counts as recovered: its backoff starts small again. ``poke()`` cuts
the current wait short — the owner calls it when the likely cause cleared (a drive came back, space
was freed), so recovery does not wait out a long backoff.

A coroutine that *returns* is finished (its work is done) and is not restarted. Cancellation is the
owner's stop, never a failure. Like Erlang/OTP's supervisors, this never tries to understand an
error: the task's own code handles what it can; what escapes it is a crash to restart from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from appliance.aio import cancel_and_wait

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Waits of ``initial · factor^k`` seconds, at most ``maximum``."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0

    def delay(self, failures: int) -> float:
        return min(self.maximum, self.initial * self.factor ** max(0, failures - 1))


@dataclass(frozen=True)
class TaskDown:
    """A supervised task that is not running right now, and why."""

    name: str
    component: str  # "node", "jobs", ... — where a person looks
    reason: str  # the last failure, in words
    since: float  # unix seconds the task went down (its first failure in a row)
    failures: int  # failures in a row
    retry_at: float  # unix seconds of the next attempt
    outside: bool = False  # the cause lies outside the daemon (a drive gone): restarting it cannot help


class SupervisedTask:
    """One supervised coroutine factory; see the module docstring."""

    def __init__(self, name: str, component: str, factory: Callable[[], Awaitable[None]],
                 backoff: Backoff, healthy_after: float,
                 on_change: Callable[[], None] | None = None,
                 outside: Callable[[BaseException], bool] | None = None) -> None:
        self.name, self.component, self.factory = name, component, factory
        self.outside = outside or (lambda exc: False)
        self.cause_outside = False
        self.backoff, self.healthy_after = backoff, healthy_after
        self.on_change = on_change or (lambda: None)
        self.failures = 0
        self.restarts = 0
        self.reason = ""
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.finished = False
        self._in_run = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name=f"supervised-{self.name}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    def poke(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done() and self.down_since is None

    def down(self) -> TaskDown | None:
        if self.down_since is None:
            return None
        return TaskDown(self.name, self.component, self.reason, self.down_since, self.failures, self.retry_at,
                        self.cause_outside)

    async def _loop(self) -> None:
        while True:
            started = time.monotonic()
            self._in_run = True
            try:
                await self.factory()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any escape is a crash to restart from
                self._in_run = False
                if time.monotonic() - started >= self.healthy_after:
                    self.failures = 0  # it ran well for a while: a fresh run of failures
                self.failures += 1
                self.reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                self.cause_outside = self.outside(exc)
                if self.down_since is None:
                    self.down_since = time.time()
                delay = self.backoff.delay(self.failures)
                self.retry_at = time.time() + delay
                log.error("%s stopped (%s); restarting in %.1f s", self.name, self.reason, delay,
                          exc_info=exc if self.failures == 1 else None)
                self.on_change()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                self.restarts += 1
                # Shown as down until the new run has lasted a moment: a crash loop stays visible.
                asyncio.get_running_loop().call_later(min(1.0, self.healthy_after), self._maybe_up,
                                                      self.restarts)
                continue
            self.finished = True
            self.down_since = None
            self.on_change()
            return

    def _maybe_up(self, run: int) -> None:
        if run == self.restarts and self._in_run and self.down_since is not None:
            self.down_since, self.reason = None, ""
            log.info("%s is running again (restart %d)", self.name, self.restarts)
            self.on_change()


class Supervisor:
    """The registry of supervised tasks, by name. ``down()`` feeds the health object."""

    def __init__(self, backoff: Backoff | None = None, healthy_after: float = 30.0,
                 on_change: Callable[[], None] | None = None) -> None:
        self.backoff = backoff or Backoff()
        self.healthy_after = healthy_after
        self._listeners: list[Callable[[], None]] = [on_change] if on_change else []
        self._tasks: dict[str, SupervisedTask] = {}

    def add_listener(self, listener: Callable[[], None]) -> None:
        """``listener()`` is called whenever a task goes down or comes back up."""
        self._listeners.append(listener)

    def start(self, name: str, component: str, factory: Callable[[], Awaitable[None]],
              backoff: Backoff | None = None,
              outside: Callable[[BaseException], bool] | None = None) -> SupervisedTask:
        """Runs ``factory()`` under supervision; a task of the same name is replaced. ``outside(exc)``
        tells failures whose cause lies outside the daemon (a drive unplugged), which a restart of
        the daemon cannot cure, so they never starve the systemd watchdog."""
        old = self._tasks.get(name)
        if old is not None and old.running:
            raise RuntimeError(f"{name} is already supervised and running")
        if old is not None and old._task is not None:
            old._task.cancel()  # down or finished: the new factory replaces it
        task = SupervisedTask(name, component, factory, backoff or self.backoff, self.healthy_after,
                              self._changed, outside)
        self._tasks[name] = task
        task.start()
        return task

    async def stop(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            await task.stop()

    async def stop_all(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            await task.stop()

    def get(self, name: str) -> SupervisedTask | None:
        return self._tasks.get(name)

    def poke(self, component: str | None = None) -> None:
        """The cause of failures may have cleared: retry now (every task, or one component's)."""
        for task in self._tasks.values():
            if component is None or task.component == component:
                task.poke()

    def down(self) -> list[TaskDown]:
        return [d for t in self._tasks.values() if (d := t.down()) is not None]

    def _changed(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:  # a listener's bug must not stop the supervision
                log.exception("supervision listener")
