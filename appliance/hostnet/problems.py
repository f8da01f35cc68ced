"""What the host-networking checks report to the box's health object: one :class:`Problem` per thing
that is wrong, in the health API's shape (``id, component, severity, reason, remedy, since``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["warning", "error"]


@dataclass(frozen=True)
class Problem:
    id: str  # stable, so the health object can tell a known problem from a new one
    component: str  # "clock" | "network"
    severity: Severity
    reason: str  # what is wrong, a sentence for the person
    remedy: str  # what to do about it
    since: float  # unix time the problem was first seen


class Episodes:
    """Remembers since when each problem id has been present; an id that went away and came back
    starts a new episode."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self.wall = wall
        self._since: dict[str, float] = {}

    def problems(self, found: list[tuple[str, str, Severity, str, str]]) -> list[Problem]:
        """``found``: (id, component, severity, reason, remedy) of what is wrong now."""
        now = self.wall()
        ids = {f[0] for f in found}
        self._since = {k: v for k, v in self._since.items() if k in ids}
        return [Problem(pid, component, severity, reason, remedy, self._since.setdefault(pid, now))
                for pid, component, severity, reason, remedy in found]
