"""Small asyncio helpers shared by every manager."""

from __future__ import annotations

import asyncio
import contextlib

# How often a cancel is repeated for a task that swallowed it. Python 3.11's asyncio.wait_for
# loses a cancel that arrives while its inner await is completing (CPython gh-86296, fixed in
# 3.12), so a loop built on it may go round once more instead of ending.
_RECANCEL_S = 0.5


async def cancel_and_wait(*tasks: asyncio.Task[object] | None) -> None:
    """Cancels the tasks (None entries are skipped) and waits until each has finished, so a
    manager's stop() returns only once nothing it started still runs. A task that swallowed the
    cancel is cancelled again until it ends."""
    live = [task for task in tasks if task is not None]
    for task in live:
        task.cancel()
    for task in live:
        while not task.done():
            await asyncio.wait({task}, timeout=_RECANCEL_S)
            if not task.done():
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
