"""Health check: the node supervisor in trouble, an identity that cannot smesh, a missed epoch.

A smesher that crashed is reported by the supervision check (``task-down:*``); this one covers
what the node itself says about its state."""

from __future__ import annotations

from collections.abc import Callable

from appliance.health.model import Finding, Severity
from appliance.node.supervisor import SupervisorStatus


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
            last = ident.atx_history[-1] if ident.atx_history else None
            if last is not None and last.grade == "missed":
                found.append(Finding(f"epoch-missed:{ident.node_id}", "node", Severity.WARNING,
                                     f"identity {short} missed publish epoch {last.epoch}: "
                                     f"{last.reason or 'no ATX'}",
                                     "the next epoch is tried by itself; keep the box online and "
                                     "its drives plugged in"))
        return found

    return check
