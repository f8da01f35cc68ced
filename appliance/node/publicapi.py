"""Questions to the person's node on its public gRPC API (``grpc-public-listener``, default port
9092 in go-spacemesh's ``api/grpcserver/config.go`` @ cc65f271f3e21b519532f2924ab227ccf352c2de).

``highest_atx``: ``spacemesh.v1.ActivationService.Highest`` — the ATX that new PoST data should
commit to, as post-rs's postcli documentation advises for a node-split setup.
"""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from appliance.node.proto.spacemesh.v1 import activation_pb2_grpc

TIMEOUT = 10.0


class PublicApiError(RuntimeError):
    """The node's public API did not answer usefully; the message says what to check."""


async def highest_atx(public_api: str, timeout: float = TIMEOUT) -> bytes:
    target = public_api.removeprefix("http://")
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            reply = await activation_pb2_grpc.ActivationServiceStub(channel).Highest(
                empty_pb2.Empty(), timeout=timeout
            )
        except grpc.aio.AioRpcError as exc:
            raise PublicApiError(
                f"the node's public API at {target} did not answer ActivationService.Highest "
                f"({exc.code().name}: {exc.details()}); is grpc-public-listener on this address?"
            ) from exc
    atx_id = bytes(reply.atx.id.id)
    if len(atx_id) != 32:
        raise PublicApiError(f"the node at {target} answered an ATX id of {len(atx_id)} bytes, not 32")
    return atx_id
