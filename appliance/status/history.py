"""Every epoch of an identity, misses included.

The node records the epochs it worked on; an epoch it never reached (box off, drive unplugged,
node stopped) has no record at all, and a history drawn from records alone hides exactly the
failures a person must see. :func:`with_misses` fills every gap between the identity's first epoch
and the last finished one with a ``missed`` entry and a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

NOT_RUN = "no ATX was made for this epoch: the box, the drive or the node was not running in time"


class EpochRecord(Protocol):
    """Read-only (the node's records are frozen dataclasses)."""

    @property
    def epoch(self) -> int: ...
    @property
    def grade(self) -> str: ...
    @property
    def published_at(self) -> float | None: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class EpochEntry:
    epoch: int  # the publish epoch of the ATX
    grade: str  # "good" | "acceptable" | "evil" | "missed" | "pending"
    published_at: float | None = None
    reason: str = ""  # why it was missed (empty otherwise)


def with_misses(records: Sequence[EpochRecord], current_epoch: int, limit: int = 24) -> list[EpochEntry]:
    """``records`` (any order) plus a ``missed`` entry for each epoch without one, from the first
    recorded epoch up to ``current_epoch - 1`` (the current epoch may still come); the newest
    ``limit`` epochs, oldest first."""
    known = {r.epoch: r for r in records}
    if not known:
        return []
    last = max(max(known), current_epoch - 1)
    out = []
    for epoch in range(max(min(known), last - limit + 1), last + 1):
        rec = known.get(epoch)
        if rec is None:
            out.append(EpochEntry(epoch, "missed", None, NOT_RUN))
        else:
            reason = (rec.reason or "no reason was recorded") if rec.grade == "missed" else ""
            out.append(EpochEntry(epoch, rec.grade, rec.published_at, reason))
    return out
