"""Small asyncio helpers shared by every manager."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)

#: How long a cancelled task may take to end before it is cancelled again. Python 3.11's
#: asyncio.wait_for loses a cancel that arrives while its inner await is completing (CPython
#: gh-86296, fixed in 3.12), so a loop built on it may go on instead of ending. The wait is long
#: because a task may legitimately spend a while in its own cleanup (waiting for a thread to stop),
#: which a second cancel would cut short.
RECANCEL_AFTER_S = 10.0


async def cancel_and_wait(
    *tasks: asyncio.Task[object] | None, recancel_after: float = RECANCEL_AFTER_S
) -> None:
    """Cancels the tasks (None entries are skipped) and waits until each has finished, so a
    manager's stop() returns only once nothing it started still runs. A task still running
    ``recancel_after`` seconds after a cancel has swallowed it (or is slow to clean up) and is
    cancelled again, with a warning naming it. A cancel of the caller itself is not swallowed."""
    live = [task for task in tasks if task is not None]
    for task in live:
        task.cancel()
    for task in live:
        while not task.done():
            await asyncio.wait({task}, timeout=recancel_after)
            if not task.done():
                log.warning("task %s did not end %.0f s after it was cancelled: cancelling it again",
                            task.get_name(), recancel_after)
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
