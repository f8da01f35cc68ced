"""Small asyncio helpers shared by every manager."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(*tasks: asyncio.Task[object] | None) -> None:
    """Cancels the tasks (None entries are skipped) and waits until each has finished, so a
    manager's stop() returns only once nothing it started still runs."""
    live = [task for task in tasks if task is not None]
    for task in live:
        task.cancel()
    for task in live:
        with contextlib.suppress(asyncio.CancelledError):
            await task
