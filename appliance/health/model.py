"""Problems as data: what a check finds (:class:`Finding`), what the health object reports
(:class:`Problem`, :class:`HealthReport`) and its JSON shape for ``GET /api/v1/health``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    WARNING = "warning"  # the box still earns, maybe less well; a person should look
    ERROR = "error"  # something the box needs is not working


class Status(StrEnum):
    OK = "ok"
    STARTING = "starting"  # the daemon has not finished starting its managers
    DEGRADED = "degraded"  # warnings only
    FAILING = "failing"  # at least one error


@dataclass(frozen=True)
class Finding:
    """One problem as a check sees it now. ``id`` is stable while the same problem lasts (it keys
    ``since``); ``restart_helps`` marks problems a daemon restart can cure (descriptors exhausted,
    a task that keeps crashing): the systemd watchdog is starved once one of them lasts."""

    id: str
    component: str
    severity: Severity
    reason: str
    remedy: str
    restart_helps: bool = False


@dataclass(frozen=True)
class Problem:
    id: str
    component: str
    severity: Severity
    reason: str
    remedy: str
    since: float  # unix seconds the problem was first seen (in this run)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "component": self.component, "severity": self.severity.value,
                "reason": self.reason, "remedy": self.remedy, "since": self.since}


@dataclass(frozen=True)
class HealthReport:
    status: Status
    problems: tuple[Problem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "problems": [p.to_json() for p in self.problems]}

    def by_component(self, component: str) -> list[Problem]:
        return [p for p in self.problems if p.component == component]


#: a check: called on every report, returns what it finds now (it reads in-memory snapshots only)
Check = Callable[[], Iterable[Finding]]
