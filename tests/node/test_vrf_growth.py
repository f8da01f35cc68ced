"""Which VRF nonce an ATX stands on: the initial one, the previous one, or — when NumUnits grew —
the PoST data's nonce searched over the larger label count (``handler_v1.go`` ``needRecheck``)."""

from __future__ import annotations

import pytest

from appliance.node import smesher as smesher_mod
from appliance.node.state import StateStore


class _Bare(smesher_mod.Smesher):
    def __init__(self, store: StateStore) -> None:  # only the state document is needed here
        self.store = store


@pytest.fixture
def bare(tmp_path) -> _Bare:
    s = _Bare(StateStore(tmp_path, b"\x01" * 32))
    s.doc["initial_post"] = {"vrf_nonce": 11}
    s.doc["last_atx"] = {"num_units": 4, "vrf_nonce": 11}
    return s


def test_initial_uses_the_initial_nonce(bare):
    assert bare._vrf_nonce_for({"num_units": 4}, initial=True) == (11, True)


def test_the_data_nonce_is_attached_when_it_changed(bare):
    assert bare._vrf_nonce_for({"num_units": 4, "data_vrf_nonce": 11}, initial=False) == (11, False)
    assert bare._vrf_nonce_for({"num_units": 4, "data_vrf_nonce": 99}, initial=False) == (99, True)
    assert bare._vrf_nonce_for({"num_units": 4, "data_vrf_nonce": None}, initial=False) == (11, False)


def test_growth_takes_the_data_nonce_for_the_new_size(bare):
    assert bare._vrf_nonce_for({"num_units": 6, "data_vrf_nonce": 99}, initial=False) == (99, True)
    # the same nonce is still the data's best for the larger size: the handler re-checks it anyway
    assert bare._vrf_nonce_for({"num_units": 6, "data_vrf_nonce": 11}, initial=False) == (11, False)
    with pytest.raises(smesher_mod._Expired, match="no VRF nonce"):
        bare._vrf_nonce_for({"num_units": 6, "data_vrf_nonce": None}, initial=False)
