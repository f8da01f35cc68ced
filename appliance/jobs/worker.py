"""Blocking work in a dedicated low-priority thread, awaited from asyncio.

Linux keeps nice values and scheduling policies per thread and threads inherit them from their
creator, so lowering this thread (``SCHED_IDLE`` when allowed, else nice 19) also lowers every
thread the initializer spawns from it — the web UI, the node and proving always win the CPU.
A dedicated thread (not the shared default executor) so the lowered priority never leaks into
unrelated work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


def lower_current_thread(nice: int = 19, idle: bool = True) -> str:
    """Lowers the calling thread; returns what was applied ("SCHED_IDLE", "nice 19", or "")."""
    if idle and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "SCHED_IDLE"
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, nice))
        return f"nice {max(current, nice)}"
    except OSError:
        return ""


def start_low_priority(fn: Callable[[], T], name: str, idle: bool = True) -> asyncio.Future[T]:
    """Runs ``fn`` in a new lowered thread; the returned future completes with its result.

    Cancelling an awaiting task does not stop the thread (it may be writing to a drive): callers
    stop the work through its own stop event and await the future to know it has let go.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(ok: bool, value: object) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)  # type: ignore[arg-type]
        else:
            future.set_exception(value)  # type: ignore[arg-type]

    def main() -> None:
        lower_current_thread(idle=idle)
        try:
            result: object = fn()
        except BaseException as exc:  # handed to the awaiting coroutine, never lost
            loop.call_soon_threadsafe(deliver, False, exc)
        else:
            loop.call_soon_threadsafe(deliver, True, result)

    thread = threading.Thread(target=main, name=name, daemon=True)
    thread.start()
    return future
