"""Health check: an init job that stopped (``error``) or that makes no progress while it should."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from appliance.health.model import Finding, Severity
from appliance.jobs.model import JobSnapshot, JobState

#: an initializing job whose durable position has not moved for this long is stalled
STALL_AFTER = 900.0


class JobCheck:
    def __init__(self, snapshot: Callable[[], Iterable[JobSnapshot]], stall_after: float = STALL_AFTER,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.snapshot, self.stall_after, self.clock = snapshot, stall_after, clock
        self._moved: dict[str, tuple[int, float]] = {}  # drive -> (position, when it last changed)

    def __call__(self) -> list[Finding]:
        now = self.clock()
        found = []
        seen = set()
        for job in self.snapshot():
            seen.add(job.drive_id)
            if job.state is JobState.ERROR:
                found.append(Finding(
                    f"init-stopped:{job.drive_id}", "jobs", Severity.ERROR,
                    f"PoST init on drive {job.drive_id[:8]} stopped: {job.reason}",
                    "it resumes by itself once the cause is gone (space freed, drive replugged); "
                    "otherwise follow the message on the Drives card"))
                continue
            position, since = self._moved.get(job.drive_id, (-1, now))
            if job.position != position or job.state is not JobState.INITIALIZING:
                self._moved[job.drive_id] = (job.position, now)
            elif now - since >= self.stall_after:
                found.append(Finding(
                    f"init-stalled:{job.drive_id}", "jobs", Severity.WARNING,
                    f"PoST init on drive {job.drive_id[:8]} has written nothing for {now - since:.0f} s",
                    "check the drive's cable and power; the logs say more", restart_helps=True))
        for gone in set(self._moved) - seen:
            del self._moved[gone]
        return found
