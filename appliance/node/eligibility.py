"""Ballot eligibility: how many slots an ATX earns and in which layers (proposals/util/util.go).

slots = max(1, weight · LayerAvgSize · LayersPerEpoch // max(MinimalActiveSetWeight, totalWeight));
slot j's layer = epoch · LayersPerEpoch + LE64(vrf_proof[:8]) mod LayersPerEpoch, where the VRF proof
signs scale(VrfMessage{EligibilityVoting, beacon, epoch, vrf_nonce, j}).
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.node import ecvrf
from appliance.node.wire import VrfMessage


@dataclass(frozen=True)
class Slot:
    counter: int
    layer: int
    proof: bytes  # 80-byte VRF proof


def num_slots(
    weight: int, min_weight: int, total_weight: int, committee_size: int, layers_per_epoch: int
) -> int:
    return max(1, weight * committee_size * layers_per_epoch // max(min_weight, total_weight, 1))


def layer_of(proof: bytes, epoch: int, layers_per_epoch: int) -> int:
    return epoch * layers_per_epoch + int.from_bytes(proof[:8], "little") % layers_per_epoch


def compute_slots(
    seed: bytes, beacon: bytes, epoch: int, vrf_nonce: int, slots: int, layers_per_epoch: int
) -> list[Slot]:
    """Every slot of the epoch, proven with the identity's key (CPU-bound: call from a thread)."""
    out = []
    for j in range(slots):
        proof = ecvrf.prove(seed, VrfMessage(beacon, epoch, vrf_nonce, j).to_bytes())
        out.append(Slot(j, layer_of(proof, epoch, layers_per_epoch), proof))
    return out
