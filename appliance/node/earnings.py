"""What each identity earned, asked from the person's node on its public API (v2alpha1).

spacemeshos/api @ 17a6abbeffb7a5da55bb56d4248cad509f6d76cf ``spacemesh/v2alpha1``:
``NodeService.Status`` (sync state and layers), ``NetworkService.Info`` (layers per epoch),
``ActivationService.List`` filtered by ``smesher_id`` (the identity's ATXs) and
``RewardService.List`` filtered by ``smesher``, newest first. go-spacemesh serves them on its
``grpc-public-listener`` (``api/grpcserver/config.go`` @ cc65f271f3e21b519532f2924ab227ccf352c2de:
node_v2alpha1, network_v2alpha1, activation_v2alpha1 and reward_v2alpha1 are public by default).
Every answer is bounded: a hostile node cannot make the box keep more than ``LIMIT`` records each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from appliance.node.proto.spacemesh.v2alpha1 import (
    activation_pb2,
    activation_pb2_grpc,
    network_pb2,
    network_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
    reward_pb2,
    reward_pb2_grpc,
    v2alpha1_pb2,
)

LIMIT = 20  # records per identity: the last few epochs' ATXs and rewards
TIMEOUT = 10.0
SYNC = {0: "unknown", 1: "offline", 2: "syncing", 3: "synced"}


class EarningsError(RuntimeError):
    """The node's public API did not answer; the message says what to check."""


@dataclass(frozen=True)
class NodeAtx:
    id: str
    publish_epoch: int
    num_units: int
    weight: int


@dataclass(frozen=True)
class RewardRecord:
    layer: int
    total: int  # smidge
    coinbase: str


@dataclass(frozen=True)
class IdentityEarnings:
    node_id: str
    atxs: list[NodeAtx] = field(default_factory=list)
    rewards: list[RewardRecord] = field(default_factory=list)
    total_smidge: int = 0  # of the rewards listed


@dataclass(frozen=True)
class NodeEarnings:
    sync: str
    current_layer: int
    applied_layer: int
    connected_peers: int
    layers_per_epoch: int
    identities: list[IdentityEarnings]


async def fetch_earnings(public_api: str, node_ids: list[bytes], timeout: float = TIMEOUT) -> NodeEarnings:
    target = public_api.removeprefix("http://")
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            status = await node_pb2_grpc.NodeServiceStub(channel).Status(
                node_pb2.NodeStatusRequest(), timeout=timeout
            )
            info = await network_pb2_grpc.NetworkServiceStub(channel).Info(
                network_pb2.NetworkInfoRequest(), timeout=timeout
            )
            activations = activation_pb2_grpc.ActivationServiceStub(channel)
            rewards = reward_pb2_grpc.RewardServiceStub(channel)
            found = []
            for node_id in node_ids:
                atxs = await activations.List(
                    activation_pb2.ActivationRequest(smesher_id=[node_id], limit=LIMIT), timeout=timeout
                )
                paid = await rewards.List(
                    reward_pb2.RewardRequest(smesher=node_id, limit=LIMIT, sort_order=v2alpha1_pb2.DESC),
                    timeout=timeout,
                )
                found.append(_identity(node_id, atxs, paid))
        except grpc.aio.AioRpcError as exc:
            raise EarningsError(
                f"the node's public API at {target} did not answer ({exc.code().name}: {exc.details()}); "
                "is grpc-public-listener on this address, with the v2alpha1 services enabled?"
            ) from exc
    return NodeEarnings(
        sync=SYNC.get(status.status, "unknown"), current_layer=status.current_layer,
        applied_layer=status.applied_layer, connected_peers=status.connected_peers,
        layers_per_epoch=info.layers_per_epoch, identities=found,
    )  # fmt: skip


def _identity(
    node_id: bytes, atxs: activation_pb2.ActivationList, paid: reward_pb2.RewardList
) -> IdentityEarnings:
    mine_atxs = [a for a in list(atxs.activations)[:LIMIT] if bytes(a.smesher_id) == node_id]
    mine_rewards = [r for r in list(paid.rewards)[:LIMIT] if bytes(r.smesher) == node_id]
    records = sorted(
        (NodeAtx(bytes(a.id).hex(), a.publish_epoch, a.num_units, a.weight) for a in mine_atxs),
        key=lambda a: a.publish_epoch, reverse=True,
    )  # fmt: skip
    paid_records = [RewardRecord(r.layer, r.total, r.coinbase[:100]) for r in mine_rewards]
    return IdentityEarnings(node_id.hex(), records, paid_records, sum(r.total for r in paid_records))
