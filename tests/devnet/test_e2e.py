"""End to end: NodeManager + devnet + real tiny PoST data, checked by the gateway's own validation."""

from __future__ import annotations

import asyncio
import dataclasses

import aiohttp
import pytest

from appliance.devnet.rewards import first_effective_genesis, subsidy_at_layer
from appliance.events import EventBus
from appliance.node import eligibility
from appliance.node.wire import ActivationTxV1, Proposal, sign_proposal

from .conftest import wait_for

pytestmark = pytest.mark.slow


async def test_three_good_epochs_and_every_eligible_proposal(harness):
    manager, idents = await harness.node(count=2)
    bus = EventBus()
    manager.bus = bus
    events: list = []

    async def collect() -> None:
        async with bus.subscribe() as queue:
            while True:
                events.append(await queue.get())

    collector = asyncio.create_task(collect())
    devnet = harness.devnet
    gw = devnet.gateway
    clock = devnet.clock

    def done() -> bool:
        return clock.epoch_at(devnet.time.now()) >= 4 and all(
            {1, 2, 3} <= set(harness.atxs(i.node_id)) for i in idents
        )

    await wait_for(done, 90, "three published ATXs per identity and the end of epoch 3")
    assert not gw.state.malfeasance
    # every ATX was gossiped again while it mattered, and no more once its target epoch had started
    for record in gw.state.atxs.values():
        target_start = clock.epoch_start(record.atx.publish_epoch + 1)
        if record.received_at < target_start - 1.0:  # published early enough to leave room
            assert record.gossip_count >= 2, gw.report()
        assert record.last_received_at < target_start, gw.report()
    lpe = devnet.config.layers_per_epoch
    for ident in idents:
        grades = harness.atxs(ident.node_id)
        assert [grades[e] for e in (1, 2, 3)] == ["good", "good", "good"], gw.report()
        # the eligible layers, computed independently from the gateway's view of the network
        for target in (2, 3):
            active = gw.active_set(target)
            mine = next(r for r in active if r.atx.smesher_id == ident.node_id)
            slots = eligibility.num_slots(
                mine.weight,
                devnet.config.min_active_set_weight,
                sum(r.weight for r in active),
                devnet.config.layer_avg_size,
                lpe,
            )
            expected = {
                s.layer
                for s in eligibility.compute_slots(
                    ident.seed, gw.beacon(target), target, mine.vrf_nonce, slots, lpe
                )
            }
            published = {layer for (smesher, layer) in gw.state.proposals if smesher == ident.node_id}
            assert expected <= published, (target, expected, published)
    # rewards by the network's formula: each ended layer with proposals pays its whole subsidy to
    # them (less floor rounding), and each identity's status shows what the gateway reports for it
    def earned(node_id: bytes) -> int:
        return sum(r.total_reward for r in gw.ledger.of(node_id))

    await wait_for(lambda: all(s.earned_smidge and s.earned_smidge == earned(bytes.fromhex(s.node_id))
                               for s in manager.snapshot().identities), 10, "the rewards in the node status")
    now_layer = clock.layer_at(devnet.time.now())
    layers = {layer for (_, layer) in gw.state.proposals if layer < now_layer}
    gw.ledger.settle(gw.state.proposals, gw.state.atxs, now_layer)  # as GET /rewards does
    genesis = first_effective_genesis(lpe)
    assert layers and min(layers) >= genesis
    for layer in layers:
        paid = sum(r.total_reward for i in idents for r in gw.ledger.of(i.node_id) if r.layer == layer)
        assert subsidy_at_layer(layer - genesis) - 2 <= paid <= subsidy_at_layer(layer - genesis), layer
    status = manager.snapshot()
    assert status.clock_synced and len(status.identities) == 2
    for ident_status in status.identities:
        assert [a.grade for a in ident_status.atx_history[:3]] == ["good"] * 3
        assert ident_status.proposals_published >= 2 and ident_status.eligible_layers
        assert ident_status.last_proof_seconds is not None
    collector.cancel()
    assert {e.topic for e in events} == {"node"} and len(events) > 10
    assert {e.data["node_id"] for e in events} == {i.node_id.hex() for i in idents}
    await manager.stop()  # the node is done; replay the last ATX's moment for the hostile publishes
    await _hostile_publishes(harness, idents[0])


async def _hostile_publishes(harness, ident) -> None:
    """The gateway validates like a node: tampered, unproven and double ATXs are refused."""
    gw = harness.devnet.gateway
    url = harness.devnet.gateway_url
    record = gw.state.atxs[gw.state.by_smesher[ident.node_id][-1]]
    last = record.atx
    gid = harness.devnet.genesis_id
    harness.devnet.time.jump(record.received_at - harness.devnet.time.now())

    async def publish(blob: bytes) -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.post(f"{url}/publish/ax1", data=blob) as resp:
            return resp.status, (await resp.json())["error"] if resp.status != 200 else ""

    flipped = bytearray(last.to_bytes())
    flipped[-1] ^= 1
    assert await publish(bytes(flipped)) == (400, "invalid ATX signature")
    assert (await publish(b"\x00" * 10))[0] == 400
    assert (await publish(last.to_bytes())) == (200, "")  # republishing the same ATX is harmless
    # an ATX that passes the double-publish check (new publish epoch, built on the last ATX)
    nxt = dataclasses.replace(
        last.inner.challenge,
        publish_epoch=last.publish_epoch + 1,
        sequence=last.inner.challenge.sequence + 1,
        prev_atx=last.id(),
    )
    base = dataclasses.replace(last.inner, challenge=nxt)
    status, error = await publish(ActivationTxV1.sign(base, ident, gid).to_bytes())
    assert status == 400 and "membership proof" in error  # our challenge changed: not in the PoET round
    nipost = last.inner.nipost
    unproven = dataclasses.replace(
        base,
        nipost=dataclasses.replace(
            nipost, post_metadata=dataclasses.replace(nipost.post_metadata, challenge=b"\x09" * 32)
        ),
    )
    status, error = await publish(ActivationTxV1.sign(unproven, ident, gid).to_bytes())
    assert status == 400 and "PoET proof is unknown" in error
    # the PoST proof itself goes through the real verifier
    first = gw.state.atxs[gw.state.by_smesher[ident.node_id][0]].atx
    commitment = first.inner.challenge.commitment_atx
    ref = nipost.post_metadata.challenge
    gw._post_ok(nipost.post, ref, ident.node_id, commitment, last.inner.num_units, "NIPoST")
    tampered = dataclasses.replace(nipost.post, indices=bytes(len(nipost.post.indices)))
    with pytest.raises(Exception, match="invalid NIPoST PoST proof"):
        gw._post_ok(tampered, ref, ident.node_id, commitment, last.inner.num_units, "NIPoST")
    harness.devnet.time.jump(harness.devnet.clock.publish_deadline(4) - harness.devnet.time.now())
    status, error = await publish(ActivationTxV1.sign(base, ident, gid).to_bytes())
    assert status == 400 and "after the epoch ended" in error  # an expired deadline
    other_coinbase = dataclasses.replace(last.inner, coinbase=bytes(4) + b"\x05" * 20)
    status, error = await publish(ActivationTxV1.sign(other_coinbase, ident, gid).to_bytes())
    assert status == 409 and "malfeasance" in error
    assert [m.kind for m in gw.state.malfeasance][-1] == "double-atx"
    await _hostile_proposals(harness, ident)


async def _hostile_proposals(harness, ident) -> None:
    """Ballots: a forged VRF proof is refused; a second, different proposal for a layer is malfeasance."""
    gw = harness.devnet.gateway
    gid = harness.devnet.genesis_id
    (layer, proposal) = next((k[1], p) for k, p in gw.state.proposals.items() if k[0] == ident.node_id)
    harness.devnet.time.jump(harness.devnet.clock.layer_start(layer) - harness.devnet.time.now())
    ballot = proposal.ballot

    async def publish(p: Proposal) -> tuple[int, str]:
        url = f"{harness.devnet.gateway_url}/publish/pp1"
        async with aiohttp.ClientSession() as session, session.post(url, data=p.to_bytes()) as resp:
            return resp.status, (await resp.json()).get("error", "")

    assert (await publish(proposal))[0] == 200  # the same proposal again is harmless
    forged = tuple(dataclasses.replace(e, sig=bytes(80)) for e in ballot.eligibility_proofs)
    status, error = await publish(
        sign_proposal(ident, gid, ballot.inner, ballot.votes, forged, proposal.tx_ids, proposal.mesh_hash)
    )
    assert status == 400 and "VRF" in error
    other_layer = dataclasses.replace(ballot.inner, layer=layer + 1)
    status, error = await publish(
        sign_proposal(
            ident, gid, other_layer, ballot.votes, ballot.eligibility_proofs, (), proposal.mesh_hash
        )
    )
    assert status == 400
    status, error = await publish(
        sign_proposal(
            ident,
            gid,
            ballot.inner,
            ballot.votes,
            ballot.eligibility_proofs,
            (b"\x01" * 32,),
            proposal.mesh_hash,
        )
    )
    assert status == 409 and "malfeasance" in error
    assert gw.state.malfeasance[-1].kind == "double-proposal"
