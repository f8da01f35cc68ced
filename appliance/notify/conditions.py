"""The conditions worth a notice, each a :data:`~appliance.notify.manager.Source`: the problems of
the status summary (drive unplugged or failing, a missed PoET registration or ATX, a proof over its
budget, ...), PoST data finished or stalled, under-voltage, and the result of an update."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from appliance.jobs.model import JobSnapshot, JobState
from appliance.notify.channels import Notice
from appliance.status.summary import StatusSummary

STALL_SECONDS = 15 * 60.0  # an init that writes no label for this long is stuck, not slow


def problems(summary: Callable[[], StatusSummary]) -> Callable[[], list[Notice]]:
    def source() -> list[Notice]:
        # an unused drive is a suggestion, not news worth a message
        return [Notice(f"problem:{p.id}", p.reason, f"{p.reason}.\nWhat to do: {p.remedy}.",
                       "high" if p.severity == "error" else "default")
                for p in summary().needs if not p.id.endswith(":offered")]
    return source


def init_progress(jobs: Callable[[], Sequence[JobSnapshot]],
                  now: Callable[[], float] = time.monotonic) -> Callable[[], list[Notice]]:
    seen: dict[str, tuple[int, float]] = {}  # drive → (position, when it last moved)

    def source() -> list[Notice]:
        out = []
        t = now()
        for j in jobs():
            if j.state in (JobState.READY, JobState.PROVING) and j.total:
                out.append(Notice(f"init-done:{j.drive_id}:{j.total}", "PoST data ready",
                                  f"The PoST data on drive {j.drive_id} is complete "
                                  f"({j.total * 16 / 2**30:.2f} GiB); the box smeshes with it now."))
            if j.state is JobState.INITIALIZING:
                pos, since = seen.get(j.drive_id, (-1, t))
                if j.position != pos:
                    seen[j.drive_id] = (j.position, t)
                elif t - since > STALL_SECONDS:
                    out.append(Notice(f"init-stalled:{j.drive_id}", "PoST data not progressing",
                                      f"No PoST data was written to drive {j.drive_id} for "
                                      f"{STALL_SECONDS / 60:.0f} minutes. Check the drive and the box's "
                                      "temperature on the dashboard.", "high"))
            else:
                seen.pop(j.drive_id, None)
        return out
    return source


def undervoltage(flag: Callable[[], bool]) -> Callable[[], list[Notice]]:
    def source() -> list[Notice]:
        if not flag():
            return []
        return [Notice("undervoltage", "Power supply too weak",
                       "The box reports under-voltage. Use the official power supply (5 V / 3 A for a "
                       "Pi 4, 5 A for a Pi 5); drives and proofs can fail otherwise.", "high")]
    return source


def update_result(last: Callable[[], tuple[str, str, str, str] | None]) -> Callable[[], list[Notice]]:
    """``last()``: (from version, to version, outcome, reason) of the latest update, or None."""
    def source() -> list[Notice]:
        found = last()
        if found is None:
            return []
        old, new, outcome, reason = found
        text = f"Update {old} → {new}: {outcome}." + (f" {reason}" if reason else "")
        return [Notice(f"update:{old}:{new}:{outcome}", f"Update {outcome}", text,
                       "default" if outcome == "success" else "high")]
    return source
