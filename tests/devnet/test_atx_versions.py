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
    async for h in running_harness(tmp_path, DevnetConfig.of(atx_v2_from_epoch=None)):
        yield h


async def test_v1_network_and_growth_carries_a_new_vrf_nonce(v1_harness, tmp_path):
    h = v1_harness
    manager, (ident,) = await h.node()
    await wait_for(lambda: h.atxs(ident.node_id), 120, "the initial ATX")
    # the identity's data grows from 2 to 4 units (re-initialised bigger: same labels, a nonce
    # searched over all of them)
    bigger = make_dataset(tmp_path / "grown", ident, h.devnet, num_units=4)
    provider = manager._smeshers[ident.node_id].provider
    provider.datasets[ident.node_id] = bigger
    gw = h.devnet.gateway

    def grown() -> bool:
        return any(r.declared_units == 4 for r in gw.state.atxs.values() if r.smesher_id == ident.node_id)

    await wait_for(grown, 120, "an ATX of the grown data")

    def one_more() -> bool:
        epochs = [r.publish_epoch for r in gw.state.atxs.values() if r.smesher_id == ident.node_id]
        grown_epoch = min(r.publish_epoch for r in gw.state.atxs.values() if r.declared_units == 4)
        return any(e > grown_epoch for e in epochs)

    await wait_for(one_more, 120, "one more ATX on the grown data")
    records = sorted(
        (r for r in gw.state.atxs.values() if r.smesher_id == ident.node_id), key=lambda r: r.publish_epoch
    )
    assert {r.atx.version for r in records} == {1} and not gw.state.malfeasance
    first_grown = next(i for i, r in enumerate(records) if r.declared_units == 4)
    assert records[first_grown + 1].publish_epoch == records[first_grown].publish_epoch + 1
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
    assert all(r.grade == "good" for r in records[first_grown - 1 :])


async def test_switch_to_v2_mid_chain(v1_harness):
    """The network schedules v2 two epochs after our first ATX: the node's configuration and the
    gateway's switch together (as an upgrade of every node would), and the chain runs across it."""
    h = v1_harness
    manager, (ident,) = await h.node()
    await wait_for(lambda: h.atxs(ident.node_id), 120, "the initial ATX")
    switch = min(h.atxs(ident.node_id)) + 2
    h.devnet.gateway.settings.atx_v2_from_epoch = switch
    smesher = manager._smeshers[ident.node_id]
    smesher.config = smesher.config.with_chain(atx_v2_from_epoch=switch)
    await wait_for(lambda: switch in h.atxs(ident.node_id), 120, "the first ATX after the switch")
    gw = h.devnet.gateway
    last, before = (gw.state.atxs[i] for i in gw.state.by_smesher[ident.node_id][-1:-3:-1])
    assert (before.atx.version, last.atx.version) == (1, 2) and last.publish_epoch == switch
    assert last.prev_atx == before.atx_id and last.atx.previous_atxs == [before.atx_id]
    assert h.atxs(ident.node_id)[switch] == "good"
    assert smesher.store.doc["epochs"][str(switch)]["atx_version"] == 2
