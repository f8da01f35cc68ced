"""cancel_and_wait ends a task even when the task swallowed the first cancel (as Python 3.11's
asyncio.wait_for can), and still reports a task's own failure."""

from __future__ import annotations

import asyncio

import pytest

from appliance.aio import cancel_and_wait


async def test_a_task_that_swallows_one_cancel_still_ends() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # what a lost cancel looks like from outside: the loop goes on

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(cancel_and_wait(task, None, recancel_after=0.2))
    done, _ = await asyncio.wait({waiter}, timeout=30)  # a deadline for a hang, not a speed check
    try:
        assert waiter in done, "cancel_and_wait waited on a task that had swallowed its cancel"
        assert task.cancelled() and swallowed == 1
    finally:
        task.cancel()
        waiter.cancel()


async def test_cleanup_after_a_cancel_is_not_cut_short() -> None:
    cleaned = asyncio.Event()

    async def careful() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0.3)  # e.g. waiting for its worker thread to stop
            cleaned.set()
            raise

    task = asyncio.create_task(careful())
    await asyncio.sleep(0)
    await cancel_and_wait(task, recancel_after=5)
    assert cleaned.is_set() and task.cancelled()


async def test_a_failure_is_not_hidden() -> None:
    async def broken() -> None:
        raise ValueError("boom")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="boom"):
        await cancel_and_wait(task)
