"""The top card's answers (appliance.status) from real snapshot types: history with every epoch,
misses included; earning / preparing / trouble in plain words; honest shared-CPU ETAs; problems
that keep their first-seen time."""

from __future__ import annotations

from appliance.drives.model import DriveSnapshot, DriveState
from appliance.jobs.model import JobSnapshot, JobState
from appliance.node.lightnode import AtxView, IdentityStatus, NodeStatus
from appliance.node.supervisor import SupervisorStatus
from appliance.status.history import NOT_RUN, with_misses
from appliance.status.lightnode import LightNodeSummary

NODE = "ab" * 32


def test_every_epoch_appears_with_misses_and_reasons() -> None:
    records = [AtxView(3, "good"), AtxView(4, "missed", reason="PoET proof lacks our challenge"),
               AtxView(7, "good"), AtxView(8, "pending")]
    rows = with_misses(records, current_epoch=8)
    assert [(r.epoch, r.grade) for r in rows] == [
        (3, "good"), (4, "missed"), (5, "missed"), (6, "missed"), (7, "good"), (8, "pending")]
    assert rows[1].reason == "PoET proof lacks our challenge" and rows[2].reason == NOT_RUN
    assert with_misses([], 9) == []
    # nothing recorded since epoch 3 and now epoch 10: epochs 4..9 are misses, 10 may still come
    rows = with_misses([AtxView(3, "good")], 10)
    assert [r.epoch for r in rows if r.grade == "missed"] == [4, 5, 6, 7, 8, 9]
    assert len(with_misses([AtxView(0, "good")], 100, limit=24)) == 24


def _ident(**kw: object) -> IdentityStatus:
    base: dict[str, object] = {"name": "a", "node_id": NODE, "epoch": 9, "layer": 95, "status": "ok"}
    return IdentityStatus(**{**base, **kw})  # type: ignore[arg-type]


def _summary(drives: list[DriveSnapshot], jobs: list[JobSnapshot], node: SupervisorStatus,
             now: float = 1000.0) -> LightNodeSummary:
    return LightNodeSummary(lambda: drives, lambda: jobs, lambda: node, now=lambda: now)


def test_preparing_with_the_shared_rate() -> None:
    drives = [DriveSnapshot("d1", DriveState.ACTIVE, model="T7", serial="S1"),
              DriveSnapshot("d2", DriveState.ACTIVE, model="T7", serial="S2")]
    jobs = [JobSnapshot("d1", JobState.INITIALIZING, position=0, total=6000, labels_per_second=100.0),
            JobSnapshot("d2", JobState.INITIALIZING, position=3000, total=6000, labels_per_second=50.0)]
    s = _summary(drives, jobs, SupervisorStatus(True, "waiting for a drive")).summary()
    assert s.state == "preparing" and s.headline == "Preparing"
    # 9000 labels left on both drives at 150 labels/s together: 60 s — not 30 s (d1 alone)
    assert s.next[0].what == "PoST data ready" and s.next[0].at == 1060.0
    assert "2 drives share 150 labels/s" in s.next[0].detail
    assert s.needs == [] and not s.earned_known


def test_earning_with_rewards_and_trouble_with_problems() -> None:
    drives = [DriveSnapshot("d1", DriveState.ACTIVE, model="T7", serial="S1", node_id=NODE),
              DriveSnapshot("d3", DriveState.OFFERED, model="Elements", serial="W9", reason="ext4 'X'")]
    jobs = [JobSnapshot("d1", JobState.READY, position=65536, total=65536)]
    ident = _ident(atx_history=[AtxView(6, "good"), AtxView(8, "good")], earned_smidge=2_500_000_000,
                   rewards_count=2, rewards_checked_at=990.0, next_eligible_at=1200.0,
                   last_proof_seconds=30.0, cycle_gap_budget_seconds=18.0)
    node = SupervisorStatus(True, "smeshing", NodeStatus(True, 9, 95, [ident], 900.0, 100.0))
    provider = _summary(drives, jobs, node)
    s = provider.summary()
    assert s.state == "earning" and "epoch 9" in s.why
    assert s.earned_smidge == 2_500_000_000 and s.earned_known and s.identities[0].drive == "T7 S1"
    assert s.next[0].what == "Next reward chance" and s.next[0].at == 1200.0
    ids = [p.id for p in s.needs]
    assert ids[0] == f"identity:{NODE}:slow-proof"  # errors first
    assert "30 s of a 18 s budget" in s.needs[0].reason
    assert f"missed:7:{NODE[:8]}" in ids  # the gap between epochs 6 and 8 is a miss
    assert "drive:d3:offered" in ids
    first = {p.id: p.since for p in s.needs}
    provider.now = lambda: 2000.0
    assert {p.id: p.since for p in provider.summary().needs} == first  # not new every second


def test_misses_are_grouped_and_plain() -> None:
    reason = "no PoET registration before the round started (http://127.0.0.1:1: connection failed: OSError)"
    idents = [_ident(node_id=c * 64, atx_history=[AtxView(8, "missed", reason=reason)]) for c in "abc"]
    node = SupervisorStatus(True, "smeshing", NodeStatus(True, 9, 95, idents, 900.0, 100.0))
    [p] = [p for p in _summary([], [], node).summary().needs if p.id.startswith("missed:")]
    assert p.reason == "3 identities missed epoch 8: no PoET registration before the round started"


def test_not_earning_says_why() -> None:
    drives = [DriveSnapshot("d1", DriveState.MISSING, model="T7", serial="S1")]
    no_address = SupervisorStatus(False, "waiting for a reward address (finish onboarding)")
    s = _summary(drives, [], no_address).summary()
    assert s.state == "trouble" and s.headline == "Not earning"
    assert {p.id for p in s.needs} == {"drive:d1:missing", "node:address"}
    bare = _summary([], [], SupervisorStatus(False, "no network configured")).summary()
    assert bare.needs[0].id == "drives:none"
    pending = _ident(atx_history=[AtxView(9, "pending")])
    node = SupervisorStatus(True, "smeshing", NodeStatus(True, 9, 95, [pending], 900.0, 100.0))
    s = _summary([], [JobSnapshot("d1", JobState.READY)], node).summary()
    assert s.state == "waiting"
    assert any(e.what == "first rewards possible (epoch 10)" and e.at == 1000.0 for e in s.next)
