"""Each PoET/gateway fault of the devnet: the node recovers, or reports the missed epoch precisely."""

from __future__ import annotations

import asyncio

import pytest

from appliance.node.clock import ManualTime

from .conftest import wait_for

pytestmark = pytest.mark.slow


def _epoch(manager, node_id, n):
    return manager._smeshers[node_id].store.doc["epochs"].get(str(n), {})


async def test_poet_down_and_5xx_are_retried_independently(harness):
    devnet = harness.devnet
    devnet.poets[0].faults.down = True
    devnet.poets[1].faults.error_5xx = True
    manager, (ident,) = await harness.node()
    # poet1 recovers inside the registration window; poet0 stays down
    await wait_for(
        lambda: devnet.time.now() >= devnet.clock.challenge_fix_time(1) + 0.3, 30, "registration started"
    )
    devnet.poets[1].faults.error_5xx = False
    await wait_for(lambda: 1 in harness.atxs(ident.node_id), 30, "ATX for epoch 1")
    assert harness.atxs(ident.node_id)[1] == "good"
    regs = _epoch(manager, ident.node_id, 1)["registrations"]
    assert regs[devnet.poet_urls[1]]["round_id"] and regs[devnet.poet_urls[1]]["attempts"] >= 2
    assert "round_id" not in regs[devnet.poet_urls[0]] and "connection" in regs[devnet.poet_urls[0]]["error"]


async def test_missing_member_and_late_proof_pick_the_usable_poet(harness):
    devnet = harness.devnet
    manager, (ident,) = await harness.node()
    devnet.poets[0].faults.missing_members = [ident.node_id.hex()]
    devnet.poets[1].faults.late_proof = 1.0
    await wait_for(lambda: 1 in harness.atxs(ident.node_id), 30, "ATX for epoch 1")
    ep = _epoch(manager, ident.node_id, 1)
    assert ep["selected"]["poet"] == devnet.poet_urls[1]
    assert "missing" in ep["member_errors"][devnet.poet_urls[0]]
    assert harness.atxs(ident.node_id)[1] == "good"


async def test_all_members_missing_is_a_precise_miss_then_the_next_epoch_works(harness):
    devnet = harness.devnet
    manager, (ident,) = await harness.node()
    for poet in devnet.poets:
        poet.faults.missing_members = [ident.node_id.hex()]
    await wait_for(lambda: _epoch(manager, ident.node_id, 1).get("phase") == "expired", 30, "epoch 1 missed")
    assert "missing from the round's members" in _epoch(manager, ident.node_id, 1)["reason"]
    for poet in devnet.poets:
        poet.faults.missing_members = []
    await wait_for(lambda: 2 in harness.atxs(ident.node_id), 30, "initial ATX in epoch 2")

    def node_saw_it() -> bool:  # the gateway stores the ATX a moment before the node records the reply
        history = manager.snapshot().identities[0].atx_history
        return len(history) > 1 and history[1].grade != "pending"

    await wait_for(node_saw_it, 30, "the node's record of the published ATX")
    history = manager.snapshot().identities[0].atx_history
    assert (history[0].epoch, history[0].grade) == (1, "missed") and "members" in history[0].reason
    assert (history[1].epoch, history[1].grade) == (2, "good")


async def test_gateway_down_until_the_deadline_misses_precisely_and_chain_continues(harness):
    devnet = harness.devnet
    manager, (ident,) = await harness.node()
    await wait_for(lambda: 1 in harness.atxs(ident.node_id), 30, "ATX for epoch 1")
    await wait_for(
        lambda: _epoch(manager, ident.node_id, 2).get("phase") == "registered", 30, "epoch 2 registered"
    )
    devnet.gateway.faults.down = True
    await wait_for(lambda: _epoch(manager, ident.node_id, 2).get("phase") == "expired", 30, "epoch 2 missed")
    assert "gave up at the deadline" in _epoch(manager, ident.node_id, 2)["reason"]
    devnet.gateway.faults.down = False
    # epoch 3's registration window closed while we waited for epoch 2's deadline: the next one is 4
    await wait_for(lambda: 4 in harness.atxs(ident.node_id), 40, "ATX for epoch 4")
    assert 3 not in harness.atxs(ident.node_id)
    state = devnet.gateway.state
    third = state.atxs[state.by_smesher[ident.node_id][-1]]
    first = state.by_smesher[ident.node_id][0]
    assert third.prev_atx == first and third.sequence == 1
    assert not state.malfeasance


async def test_unsynced_clock_means_no_action_until_synced(harness):
    devnet = harness.devnet
    node_time = ManualTime(synced=False)
    manager, (ident,) = await harness.node(time_source=node_time)
    await wait_for(lambda: devnet.time.now() >= devnet.clock.poet_round_start(1) + 1, 30, "round 1 started")
    assert sum(p.submissions for p in devnet.poets) == 0
    assert "clock" in manager.snapshot().identities[0].status
    node_time.set_synced(True)
    await wait_for(lambda: 2 in harness.atxs(ident.node_id), 40, "ATX for epoch 2")
    assert "1" not in manager._smeshers[ident.node_id].store.doc["epochs"]


async def test_clock_jump_forward_expires_with_reason(harness):
    devnet = harness.devnet
    node_time = ManualTime()
    manager, (ident,) = await harness.node(time_source=node_time)
    await wait_for(
        lambda: _epoch(manager, ident.node_id, 1).get("phase") == "registered", 30, "epoch 1 registered"
    )
    node_time.jump(devnet.clock_config.epoch_duration)  # the node's clock leaps past the proof deadline
    await wait_for(lambda: _epoch(manager, ident.node_id, 1).get("phase") == "expired", 20, "epoch 1 expired")
    assert "deadline" in _epoch(manager, ident.node_id, 1)["reason"]
    node_time.jump(-devnet.clock_config.epoch_duration)
    await asyncio.sleep(0)
    await wait_for(lambda: len(harness.atxs(ident.node_id)) >= 1, 40, "an ATX after the clock came back")


async def test_slow_poet_times_out_and_the_other_carries_the_epoch(harness):
    devnet = harness.devnet
    devnet.poets[0].faults.slow = 5.0  # longer than the node's request timeout
    manager, (ident,) = await harness.node()
    await wait_for(lambda: 1 in harness.atxs(ident.node_id), 40, "ATX for epoch 1")
    regs = _epoch(manager, ident.node_id, 1)["registrations"]
    assert "no reply within" in regs[devnet.poet_urls[0]]["error"]
    assert regs[devnet.poet_urls[1]]["round_id"] and harness.atxs(ident.node_id)[1] == "good"
