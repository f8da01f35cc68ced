"""HealthMonitor: runs the registered checks, keeps each problem's ``since``, derives the status.

Checks are plain callables (:data:`appliance.health.model.Check`) added by name, so a feature
brings its own (the clock check, node mode's PoST service) without touching this module. They read
in-memory snapshots and are cheap: a report runs them all, on demand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from appliance.health.model import Check, Finding, HealthReport, Problem, Severity, Status

log = logging.getLogger(__name__)

#: how long a problem a restart can cure may last before the watchdog is starved
WATCHDOG_GRACE = 600.0


class HealthMonitor:
    def __init__(self, clock: Callable[[], float] = time.time,
                 watchdog_grace: float = WATCHDOG_GRACE) -> None:
        self.clock = clock
        self.watchdog_grace = watchdog_grace
        self._checks: dict[str, Check] = {}
        self._since: dict[str, float] = {}
        self._started = False
        self._last: list[tuple[Finding, float]] = []

    def add_check(self, name: str, check: Check) -> None:
        """Registers (or replaces) the check called ``name``."""
        self._checks[name] = check

    def remove_check(self, name: str) -> None:
        self._checks.pop(name, None)

    def mark_started(self) -> None:
        """Every manager is up: the status leaves ``starting``."""
        self._started = True

    def _findings(self) -> list[Finding]:
        found: list[Finding] = []
        for name, check in list(self._checks.items()):
            try:
                found.extend(check())
            except Exception as exc:  # a broken check is itself a problem, never a crash
                log.exception("health check %s", name)
                found.append(Finding(f"health-check-{name}", "daemon", Severity.WARNING,
                                     f"the {name} health check failed: {exc}",
                                     "download the logs and report this"))
        return found

    def report(self) -> HealthReport:
        now = self.clock()
        findings = {f.id: f for f in self._findings()}
        self._since = {key: self._since.get(key, now) for key in findings}
        self._last = [(f, self._since[f.id]) for f in findings.values()]
        problems = tuple(sorted(
            (Problem(f.id, f.component, f.severity, f.reason, f.remedy, self._since[f.id])
             for f in findings.values()),
            key=lambda p: (p.severity != Severity.ERROR, p.since, p.id)))
        if not self._started:
            status = Status.STARTING
        elif any(p.severity == Severity.ERROR for p in problems):
            status = Status.FAILING
        elif problems:
            status = Status.DEGRADED
        else:
            status = Status.OK
        return HealthReport(status, problems)

    def watchdog_ok(self) -> bool:
        """False once a problem a restart can cure has lasted ``watchdog_grace`` seconds: the daemon
        then stops feeding the systemd watchdog and systemd restarts it. An unplugged drive or a
        weak power supply never qualifies — a restart cannot fix those."""
        self.report()
        now = self.clock()
        return not any(f.restart_helps and now - since >= self.watchdog_grace for f, since in self._last)
