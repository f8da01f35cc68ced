"""Health check: the node supervisor in trouble, an identity that cannot smesh, a smesher that is
stalled (its next deadline lies more than ``STALL_EPOCHS`` epochs in the past while it runs: a step
that never returns), a missed epoch.

A smesher that crashed is reported by the supervision check (``task-down:*``); this one covers
what the node itself says about its state."""

from __future__ import annotations

from collections.abc import Callable

from appliance.health.model import Finding, Severity
from appliance.node.lightnode import IdentityStatus, NodeStatus
from appliance.node.supervisor import SupervisorStatus

STALL_EPOCHS = 2.0


def node_check(snapshot: Callable[[], SupervisorStatus]) -> Callable[[], list[Finding]]:
    def check() -> list[Finding]:
        status = snapshot()
        found = []
        if status.reason.startswith("node error"):
            found.append(Finding("node-error", "node", Severity.ERROR, status.reason,
                                 "the node retries by itself; the logs say more", restart_helps=True))
        for ident in status.node.identities if status.node else []:
            short = ident.node_id[:12]
            if ident.status == "not running" and ident.error:
                found.append(Finding(f"identity-stopped:{ident.node_id}", "node", Severity.ERROR,
                                     f"identity {short} does not smesh: {ident.error}",
                                     "the logs say more; its key and PoST data are untouched"))
            stalled = _stalled(ident, status.node)
            if stalled is not None:
                found.append(stalled)
            last = ident.atx_history[-1] if ident.atx_history else None
            if last is not None and last.grade == "missed":
                found.append(Finding(f"epoch-missed:{ident.node_id}", "node", Severity.WARNING,
                                     f"identity {short} missed publish epoch {last.epoch}: "
                                     f"{last.reason or 'no ATX'}",
                                     "the next epoch is tried by itself; keep the box online and "
                                     "its drives plugged in"))
        return found

    return check


def _stalled(ident: IdentityStatus, node: NodeStatus) -> Finding | None:
    if ident.down_since is not None or ident.next_deadline is None or not node.epoch_seconds \
            or not node.clock_synced:
        return None
    late = node.now - ident.next_deadline
    if late <= STALL_EPOCHS * node.epoch_seconds:
        return None
    what = ident.next_deadline_what or "its next step"
    return Finding(f"smesher-stalled:{ident.node_id}", "node", Severity.ERROR,
                   f"identity {ident.node_id[:12]} is stalled: {what} was due {late:.0f} s ago "
                   f"({ident.status})", "the box restarts itself if it lasts; the logs say more",
                   restart_helps=True)
