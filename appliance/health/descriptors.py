"""Health check: the process running out of file descriptors (a connection flood, a leak)."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable

from appliance.health.model import Finding, Severity


def open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def descriptor_check(count: Callable[[], int] = open_descriptors,
                     limit: Callable[[], int] = lambda: resource.getrlimit(resource.RLIMIT_NOFILE)[0],
                     warn_at: float = 0.8) -> Callable[[], list[Finding]]:
    def check() -> list[Finding]:
        used, soft = count(), limit()
        if soft <= 0 or used < warn_at * soft:
            return []
        return [Finding("descriptors", "daemon", Severity.ERROR if used >= 0.95 * soft else Severity.WARNING,
                        f"{used} of {soft} file descriptors in use",
                        "something holds many connections open; the box restarts itself if it lasts",
                        restart_helps=True)]

    return check
