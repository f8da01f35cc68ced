"""A PoET whose proof reply is wrongly typed and cut off: the node records the protocol error, keeps
its state machine consistent and carries the epoch with the other PoET's proof."""

from __future__ import annotations

import pytest

from .conftest import wait_for

pytestmark = pytest.mark.slow


async def test_hostile_proof_reply_is_a_protocol_error_and_the_other_poet_carries(harness):
    devnet = harness.devnet
    manager, (ident,) = await harness.node()
    devnet.poets[0].faults.hostile_proof = True
    await wait_for(lambda: 1 in harness.atxs(ident.node_id), 40, "ATX for epoch 1")
    doc = manager._smeshers[ident.node_id].store.doc
    ep = doc["epochs"]["1"]
    assert ep["phase"] == "published" and ep["selected"]["poet"] == devnet.poet_urls[1]
    error = ep["registrations"][devnet.poet_urls[0]]["proof_error"]
    assert "members[] is not base64" in error or "not valid JSON" in error, error
    assert harness.atxs(ident.node_id)[1] == "good" and not devnet.gateway.state.malfeasance
