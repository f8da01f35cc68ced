"""The status summary's typed shape and the provider interface a mode of the box implements.

The web layer renders exactly this; a mode (the built-in light node, or a post-service for a
person's own node) supplies it through :class:`SummaryProvider`. Problems use the same shape as the
box's health report (``id, component, severity, reason, remedy, since``) so the page shows both in
one list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

State = Literal["earning", "preparing", "waiting", "stopped", "trouble"]
Severity = Literal["warning", "error"]


@dataclass(frozen=True)
class Problem:
    id: str  # stable, so the page (and notifications) can tell a new problem from an old one
    component: str
    severity: Severity
    reason: str
    remedy: str
    since: float  # unix seconds


@dataclass(frozen=True)
class NextEvent:
    what: str  # in words: "PoST data ready", "next proof window opens", "next reward"
    at: float | None  # unix seconds; None when not known yet
    detail: str = ""  # how the time was found, e.g. "measured: 3 drives share 1,200 labels/s"


@dataclass(frozen=True)
class IdentityEarning:
    node_id: str  # hex
    drive: str  # the drive holding its PoST data, in words ("" if unknown)
    earned_smidge: int
    rewards: int


@dataclass(frozen=True)
class StatusSummary:
    mode: str  # "light-node", ...
    state: State
    headline: str  # "Earning", "Preparing", "Not earning"
    why: str  # one plain sentence
    next: list[NextEvent] = field(default_factory=list)  # soonest first
    earned_smidge: int = 0
    earned_known: bool = False  # False: nobody has answered yet (not the same as 0 earned)
    earned_note: str = ""
    identities: list[IdentityEarning] = field(default_factory=list)
    needs: list[Problem] = field(default_factory=list)


class SummaryProvider(Protocol):
    def summary(self) -> StatusSummary:
        """Cached, cheap: called from the event loop on every update."""
