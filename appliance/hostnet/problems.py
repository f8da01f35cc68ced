"""What the host-networking checks report to the box's health object: one :class:`Problem` per thing
that is wrong, in the health API's shape (``id, component, severity, reason, remedy, since``)."""

from __future__ import annotations

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
