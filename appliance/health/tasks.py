"""Health check: supervised tasks that are down (crashed, waiting to be restarted)."""

from __future__ import annotations

import time
from collections.abc import Callable

from appliance.health.model import Finding, Severity
from appliance.supervision import Supervisor

#: a task down this long after repeated restarts counts as one a daemon restart may cure
CRASH_LOOP_FAILURES = 5


def task_check(supervisor: Supervisor, clock: Callable[[], float] = time.time) -> Callable[[], list[Finding]]:
    def check() -> list[Finding]:
        found = []
        for down in supervisor.down():
            wait = max(0.0, down.retry_at - clock())
            found.append(Finding(
                f"task-down:{down.name}", down.component, Severity.ERROR,
                f"{down.name} stopped ({down.reason}); restart {down.failures} is in {wait:.0f} s",
                "it restarts by itself when the cause clears (a drive back, space freed); "
                "the logs say more", restart_helps=down.failures >= CRASH_LOOP_FAILURES and not down.outside))
        return found

    return check
