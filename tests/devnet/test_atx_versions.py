"""ATX versions per network: a network still on v1, one that switches to v2 mid-chain, and PoST
data that grows — the next ATX carries a VRF nonce valid for the larger label count
(``handler_v1.go`` ``validateNonInitialAtx``) and the weight grows only one epoch later."""

from __future__ import annotations

import pytest

from appliance.devnet.devnet import DevnetConfig
from appliance.node import wire
from appliance.post.metadata import read_metadata

from .conftest import make_dataset, running_harness, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
async def v1_harness(tmp_path):
    async for h in running_harness(tmp_path, DevnetConfig(atx_v2_from_epoch=None)):
        yield h


async def test_v1_network_and_growth_carries_a_new_vrf_nonce(v1_harness, tmp_path):
    h = v1_harness
    manager, (ident,) = await h.node()
    await wait_for(lambda: 1 in h.atxs(ident.node_id), 60, "the initial ATX")
    # the identity's data grows from 2 to 4 units (re-initialised bigger: same labels, a nonce
    # searched over all of them)
    bigger = make_dataset(tmp_path / "grown", ident, h.devnet, num_units=4)
    provider = manager._smeshers[ident.node_id].provider
    provider.datadirs[ident.node_id] = bigger
    gw = h.devnet.gateway

    def grown() -> bool:
        return any(r.declared_units == 4 for r in gw.state.atxs.values() if r.smesher_id == ident.node_id)

    await wait_for(grown, 60, "an ATX of the grown data")
    await wait_for(lambda: len(h.atxs(ident.node_id)) >= 3, 60, "one more ATX on the grown data")
    records = sorted(
        (r for r in gw.state.atxs.values() if r.smesher_id == ident.node_id), key=lambda r: r.publish_epoch
    )
    assert {r.atx.version for r in records} == {1} and not gw.state.malfeasance
    first_grown = next(i for i, r in enumerate(records) if r.declared_units == 4)
    assert records[first_grown].num_units == 2  # growth counts one epoch later
    assert records[first_grown + 1].num_units == 4
    # the grown ATX stands on the grown data's nonce (attached when it changed, as the Go builder
    # does); the gateway re-checked it against 4 units' labels either way (``needRecheck``)
    new_nonce = read_metadata(bigger).nonce
    old_nonce = records[first_grown - 1].vrf_nonce
    atx = wire.ActivationTxV1.from_bytes(records[first_grown].atx.blob)
    assert atx.inner.vrf_nonce == (new_nonce if new_nonce != old_nonce else None)
    assert records[first_grown].vrf_nonce == records[first_grown + 1].vrf_nonce == new_nonce
    later = wire.ActivationTxV1.from_bytes(records[first_grown + 1].atx.blob)
    assert later.inner.vrf_nonce is None  # unchanged since the previous ATX: not repeated
    assert all(g == "good" for g in h.atxs(ident.node_id).values())


@pytest.fixture
async def switching_harness(tmp_path):
    async for h in running_harness(tmp_path, DevnetConfig(atx_v2_from_epoch=2)):
        yield h


async def test_switch_to_v2_mid_chain(switching_harness):
    h = switching_harness
    manager, (ident,) = await h.node()
    await wait_for(lambda: {1, 2} <= set(h.atxs(ident.node_id)), 60, "ATXs for epochs 1 and 2")
    gw = h.devnet.gateway
    first, second = (gw.state.atxs[i] for i in gw.state.by_smesher[ident.node_id][:2])
    assert (first.atx.version, second.atx.version) == (1, 2)
    assert second.prev_atx == first.atx_id and second.atx.previous_atxs == [first.atx_id]
    assert h.atxs(ident.node_id)[1] == h.atxs(ident.node_id)[2] == "good"
    doc = manager._smeshers[ident.node_id].store.doc
    assert [doc["epochs"][k]["atx_version"] for k in ("1", "2")] == [1, 2]
