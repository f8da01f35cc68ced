"""The status summary of the box in its own mode: it runs the light node and smeshes its drives.

Reads the cached snapshots of the drive manager, the job manager and the node supervisor (never
blocks) and answers in plain words. Times are honest: an init ETA is the labels still to write on
*every* drive divided by the rate measured across all of them right now (the drives share the
CPU, so a per-drive estimate would be too low), and it says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from appliance.drives.model import DriveSnapshot, DriveState
from appliance.jobs.model import JobSnapshot, JobState
from appliance.node.lightnode import IdentityStatus
from appliance.node.supervisor import SupervisorStatus
from appliance.status.history import with_misses
from appliance.status.summary import IdentityEarning, NextEvent, Problem, StatusSummary

SMIDGE_PER_SMH = 1_000_000_000
RECENT_EPOCHS = 2  # misses older than this are history, not something to act on


@dataclass
class LightNodeSummary:
    """:class:`~appliance.status.summary.SummaryProvider` for the light-node (and devnet) mode."""

    drives: Callable[[], Sequence[DriveSnapshot]]
    jobs: Callable[[], Sequence[JobSnapshot]]
    node: Callable[[], SupervisorStatus]
    now: Callable[[], float] = time.time
    mode: str = "light-node"
    _since: dict[str, float] = field(default_factory=dict)  # problem id → first seen

    def summary(self) -> StatusSummary:
        now = self.now()
        drives, jobs, sup = list(self.drives()), list(self.jobs()), self.node()
        node = sup.node
        idents = list(node.identities) if node else []
        names = {d.node_id: _drive_name(d) for d in drives if d.node_id}
        needs = self._stamp(now, [*_drive_problems(drives, jobs), *_node_problems(sup, idents, node)])
        earning = [i for i in idents if node and _active(i, node.epoch)]
        initializing = [j for j in jobs if j.state in (JobState.INITIALIZING, JobState.PAUSED)]
        nxt = _init_next(initializing, now)
        nxt += _node_next(idents, node, now)
        nxt.sort(key=lambda e: (e.at is None, e.at or 0))
        if earning:
            state, headline = "earning", "Earning"
            why = (f"{len(earning)} of {len(idents)} identities take part in epoch {node.epoch}"
                   if len(idents) > 1
                   else f"Taking part in epoch {node.epoch} with {_units(jobs)} of PoST data")
        elif any(p.severity == "error" for p in needs) and not initializing:
            state, headline, why = "trouble", "Not earning", needs[0].reason
        elif initializing:
            state, headline = "preparing", "Preparing"
            why = ("Writing PoST data to the drives; the box earns once it is complete "
                   "and its first ATX counts")
        elif idents:
            state, headline = "waiting", "Not earning yet"
            why = "The first ATX is on its way; rewards start in the epoch after it is published"
        elif not sup.running:
            state, headline, why = "stopped", "Not earning", _sentence(sup.reason)
        else:
            state, headline, why = "waiting", "Not earning yet", "Waiting for a drive with complete PoST data"
        checked = [i.rewards_checked_at for i in idents if i.rewards_checked_at]
        earned = sum(i.earned_smidge for i in idents)
        return StatusSummary(
            mode=self.mode, state=state, headline=headline, why=why, next=nxt[:3],
            earned_smidge=earned, earned_known=bool(checked),
            earned_note=(f"{sum(i.rewards_count for i in idents)} layer rewards, as the network reports them"
                         if checked else "the network has not answered yet"),
            identities=[IdentityEarning(i.node_id, names.get(i.node_id, ""), i.earned_smidge, i.rewards_count)
                        for i in idents],
            needs=needs,
        )

    def _stamp(self, now: float, found: list[Problem]) -> list[Problem]:
        """Keeps each problem's first-seen time while it lasts (a problem is not new every second)."""
        ids = {p.id for p in found}
        self._since = {k: v for k, v in self._since.items() if k in ids}
        out = []
        for p in found:
            since = self._since.setdefault(p.id, now)
            out.append(Problem(p.id, p.component, p.severity, p.reason, p.remedy, since))
        return sorted(out, key=lambda p: (p.severity != "error", p.since))


def _drive_name(d: DriveSnapshot) -> str:
    return f"{d.model or 'drive'} {d.serial}".strip()


def _units(jobs: Sequence[JobSnapshot]) -> str:
    total = sum(j.total for j in jobs if j.state in (JobState.READY, JobState.PROVING)) * 16
    return f"{total / 2**30:.1f} GiB" if total >= 2**30 else f"{total / 2**20:.0f} MiB"


def _sentence(text: str) -> str:
    return (text[:1].upper() + text[1:]) if text else ""


def _active(ident: IdentityStatus, epoch: int) -> bool:
    """An ATX published in the previous epoch with a good grade puts the identity in this epoch."""
    return any(a.epoch == epoch - 1 and a.grade == "good" for a in ident.atx_history)


def _init_next(initializing: Sequence[JobSnapshot], now: float) -> list[NextEvent]:
    if not initializing:
        return []
    left = sum(max(0, j.total - j.position) for j in initializing)
    rate = sum(j.labels_per_second for j in initializing if j.state is JobState.INITIALIZING)
    if rate <= 0:
        return [NextEvent("PoST data ready", None, "the speed is still being measured")]
    share = f"{len(initializing)} drives share" if len(initializing) > 1 else "measured at"
    return [NextEvent("PoST data ready", now + left / rate, f"{share} {rate:,.0f} labels/s")]


def _node_next(idents: Sequence[IdentityStatus], node: object, now: float) -> list[NextEvent]:
    out: list[NextEvent] = []
    rewards = [i.next_eligible_at for i in idents if i.next_eligible_at and i.next_eligible_at > now]
    if rewards:
        out.append(NextEvent("Next reward chance", min(rewards), "the box may propose a block in that layer"))
    deadlines = [(i.next_deadline, i.next_deadline_what) for i in idents if i.next_deadline]
    if deadlines:
        at, what = min(deadlines)
        out.append(NextEvent(_plain_step(what), at, _sentence(what)))
    pending = [a.epoch for i in idents for a in i.atx_history if a.grade == "pending"]
    if pending and node is not None and not rewards:
        start = node.epoch_started_at + (min(pending) + 1 - node.epoch) * node.epoch_seconds  # type: ignore[attr-defined]
        out.append(NextEvent(f"first rewards possible (epoch {min(pending) + 1})", start))
    return out


def _drive_problems(drives: Sequence[DriveSnapshot], jobs: Sequence[JobSnapshot]) -> list[Problem]:
    out = []
    if not drives:
        out.append(Problem("drives:none", "drives", "warning", "No drive is plugged in",
                           "Plug a USB drive into the box", 0.0))
    for d in drives:
        name = _drive_name(d)
        if d.state is DriveState.MISSING:
            out.append(Problem(f"drive:{d.id}:missing", "drives", "error", f"{name} is unplugged or failed",
                               "Plug it back in; its work resumes where it stopped", 0.0))
        elif d.state is DriveState.ERROR:
            out.append(Problem(f"drive:{d.id}:error", "drives", "error", f"{name}: {d.reason}",
                               "See the drive below", 0.0))
        elif d.state is DriveState.OFFERED:
            out.append(Problem(f"drive:{d.id}:offered", "drives", "warning",
                               f"{name} is plugged in but unused",
                               "Format it below to add space (this erases it), or unplug it", 0.0))
    for j in jobs:
        if j.state is JobState.ERROR:
            out.append(Problem(f"job:{j.drive_id}", "jobs", "error", j.reason or "PoST data cannot be used",
                               "See the drive below", 0.0))
    return out


def _node_problems(sup: SupervisorStatus, idents: Sequence[IdentityStatus], node: object) -> list[Problem]:
    out = []
    missed: dict[tuple[int, str], list[str]] = {}  # one problem per epoch and cause, not per identity
    if not sup.running and "reward address" in sup.reason:
        out.append(Problem("node:address", "node", "error", _sentence(sup.reason),
                           "Set a reward address in Settings", 0.0))
    epoch = node.epoch if node is not None else 0  # type: ignore[attr-defined]
    for i in idents:
        short = i.node_id[:8]
        if i.error:
            out.append(Problem(f"identity:{i.node_id}:error", "node", "error",
                               f"Identity {short}…: {i.error}",
                               "Download the logs in Settings and check the drive", 0.0))
        for a in with_misses(i.atx_history, epoch):
            if a.grade == "missed" and a.epoch >= epoch - RECENT_EPOCHS:
                missed.setdefault((a.epoch, _plain(a.reason or "no ATX in time")), []).append(short)
        budget, took = i.cycle_gap_budget_seconds, i.last_proof_seconds
        if budget and took is not None and took > budget:
            out.append(Problem(f"identity:{i.node_id}:slow-proof", "node", "error",
                               f"The last proof took {took:.3g} s of a {budget:.3g} s budget",
                               "Use less PoST space per box or a faster box; proofs run one after another",
                               0.0))
    for (ep, why), who in sorted(missed.items()):
        whom = f"Identity {who[0]}…" if len(who) == 1 else f"{len(who)} identities"
        out.append(Problem(f"missed:{ep}:{','.join(who)}", "node", "warning",
                           f"{whom} missed epoch {ep}: {why}",
                           "Keep the box powered and online; it tries again next epoch", 0.0))
    return out


# The node's deadlines in the person's words (the protocol's words stay in the detail line).
_STEPS = (("registration", "Signing up for the next proof round"),
          ("challenge", "Preparing the next proof round"),
          ("PoET proof", "Proof window: the box proves its space"),
          ("ATX must be published", "Its proof must reach the network"),
          ("proposal", "Next reward chance"))


def _plain_step(what: str) -> str:
    return next((plain for key, plain in _STEPS if key in what), _sentence(what))


def _plain(reason: str) -> str:
    """A miss's cause without the servers' own error text (that is in the logs)."""
    head, _, rest = reason.partition(" (")
    return head if "http" in rest or "Error" in rest else reason
