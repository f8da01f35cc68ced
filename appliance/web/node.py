"""The node card of the web API: adapts the light node's :class:`SupervisorStatus` (and each
identity's :class:`IdentityStatus`) to the web layer's view dataclasses. Holds no logic of the
node's; the missed epochs are filled in by ``appliance.status.history``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.status.history import with_misses
from appliance.web import services as ws

if TYPE_CHECKING:
    from appliance.node.lightnode import IdentityStatus
    from appliance.node.supervisor import NodeSupervisor, SupervisorStatus


def node_view(status: SupervisorStatus) -> ws.NodeView:
    """The node card: one status line and every identity (one per drive) in detail."""
    node = status.node
    if node is None:
        return ws.NodeView(epoch=0, layer=0, status=status.reason)
    identities = [identity_view(ident) for ident in node.identities]
    line = identities[0].status if len(identities) == 1 else status.reason
    if not node.clock_synced:
        line = f"waiting for the clock to sync; {line}"
    return ws.NodeView(epoch=node.epoch, layer=node.layer, status=line, identities=identities)


def identity_view(ident: IdentityStatus) -> ws.IdentityView:
    line = f"{ident.status} — {ident.error}" if ident.error else ident.status
    return ws.IdentityView(
        node_id=ident.node_id, status=line,
        poet_registrations=[ws.PoetRegistration(r.poet, r.round_id, r.round_end)
                            for r in ident.poet_registrations],
        last_proof_seconds=ident.last_proof_seconds,
        cycle_gap_budget_seconds=ident.cycle_gap_budget_seconds,
        atx_history=[ws.AtxRecord(a.epoch, a.grade, a.published_at, a.reason)
                     for a in with_misses(ident.atx_history, ident.epoch)],
        next_deadline=ident.next_deadline, next_deadline_what=ident.next_deadline_what,
        eligible_layers=list(ident.eligible_layers), proposals_published=ident.proposals_published,
    )


class NodeCard:
    """``appliance.web.services.NodeService`` over the light node's supervisor."""

    def __init__(self, supervisor: NodeSupervisor) -> None:
        self.supervisor = supervisor

    def snapshot(self) -> ws.NodeView:
        return node_view(self.supervisor.snapshot())
