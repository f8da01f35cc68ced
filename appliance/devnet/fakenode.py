"""A go-spacemesh node as a post-service sees it: the ``grpc-post-listener`` and what drives it.

Built on the real spacemeshos/api protos (``appliance.node.proto``) and behaving as
spacemeshos/go-spacemesh @ cc65f271f3e21b519532f2924ab227ccf352c2de does:

* ``api/grpcserver/post_service.go`` ``Register``: refused with FAILED_PRECONDITION ("connection
  not allowed: node has no coinbase set in config") until connections are allowed; otherwise it
  first sends a ``MetadataRequest``, expects a ``MetadataResponse`` with metadata, then registers
  the stream under that node id — a second registration of the same id is refused with "post
  service already registered" — and forwards one command at a time, one response each.
* ``api/grpcserver/post_client.go``: ``Info`` and ``Proof``; ``Proof`` repeats ``GenProof`` every
  ``query_interval`` (2 s) while the answer is OK without a proof, fails on ERROR/UNSPECIFIED, and
  checks the answered challenge.
* ``activation/nipost.go`` ``NIPostBuilder.Proof``: waits (polling every 2 s) while the identity's
  post-service is not connected, and retries when the connection drops mid-request.
* ``activation/activation.go`` ``BuildInitialPost``: the first proof of an identity is for the zero
  challenge, needs a VRF nonce in the metadata, and is validated (``PostV2``) before it is kept.

Every proof is checked with :mod:`appliance.post.verifier` against the *node's* PoST parameters, as
the node's validator uses its own config, not what the service claims. It also answers the public
``ActivationService.Highest`` (the ATX new PoST data should commit to).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from appliance.chain import DEVNET
from appliance.node.proto.spacemesh.v1 import (
    activation_pb2_grpc,
    activation_types_pb2,
    post_pb2_grpc,
    post_types_pb2,
    types_pb2,
)
from appliance.node.proto.spacemesh.v2alpha1 import activation_pb2 as v2_activation
from appliance.node.proto.spacemesh.v2alpha1 import activation_pb2_grpc as v2_activation_grpc
from appliance.node.proto.spacemesh.v2alpha1 import (
    network_pb2,
    network_pb2_grpc,
    node_pb2,
    node_pb2_grpc,
    reward_pb2,
    reward_pb2_grpc,
)

log = logging.getLogger(__name__)

ZERO_CHALLENGE = bytes(32)  # post-rs/go-spacemesh shared.ZeroChallenge


class PostClientClosed(Exception):
    """activation.ErrPostClientClosed: the post-service's stream ended."""


class ProofRejected(Exception):
    """The post-service answered with an error, or a proof the node does not accept."""


@dataclass(frozen=True)
class NodePostConfig:
    """The node's PoST parameters (its ``post`` config section) used to validate proofs."""

    k1: int
    k2: int
    pow_difficulty: bytes
    labels_per_unit: int
    scrypt_n: int
    min_num_units: int = 1


@dataclass
class IdentityRecord:
    node_id: bytes
    registrations: int = 0
    metadata: post_types_pb2.Metadata | None = None
    initial_post_at: float | None = None
    proofs: list[bytes] = field(default_factory=list)  # challenges with an accepted proof
    errors: list[str] = field(default_factory=list)
    atxs: list[tuple[bytes, int, int]] = field(default_factory=list)  # (ATX id, publish epoch, units)
    rewards: list[tuple[int, int]] = field(default_factory=list)  # (layer, smidge)


@dataclass
class _Command:
    request: post_types_pb2.NodeRequest
    answer: asyncio.Future[post_types_pb2.ServiceResponse]


class _Connection:
    """grpcserver.postClient: one registered stream, one command at a time."""

    def __init__(self, query_interval: float) -> None:
        self.queue: asyncio.Queue[_Command] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.query_interval = query_interval
        self._lock = asyncio.Lock()

    async def send(self, request: post_types_pb2.NodeRequest) -> post_types_pb2.ServiceResponse:
        async with self._lock:
            if self.closed.is_set():
                raise PostClientClosed
            command = _Command(request, asyncio.get_running_loop().create_future())
            await self.queue.put(command)
            closed = asyncio.ensure_future(self.closed.wait())
            try:
                await asyncio.wait({command.answer, closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                closed.cancel()
            if not command.answer.done():
                command.answer.cancel()
                raise PostClientClosed
            return command.answer.result()

    async def info(self) -> post_types_pb2.Metadata:
        response = await self.send(post_types_pb2.NodeRequest(metadata=post_types_pb2.MetadataRequest()))
        if response.WhichOneof("kind") != "metadata":
            raise ProofRejected(f"unexpected response of type: {response.WhichOneof('kind')}")
        if not response.metadata.HasField("meta"):
            raise ProofRejected("post metadata is nil")
        return response.metadata.meta

    async def proof(self, challenge: bytes) -> post_types_pb2.GenProofResponse:
        request = post_types_pb2.NodeRequest(gen_proof=post_types_pb2.GenProofRequest(challenge=challenge))
        while True:
            response = await self.send(request)
            if response.WhichOneof("kind") != "gen_proof":
                raise ProofRejected(f"unexpected response of type: {response.WhichOneof('kind')}")
            answer = response.gen_proof
            if answer.status == post_types_pb2.GEN_PROOF_STATUS_ERROR:
                raise ProofRejected("error generating proof")
            if answer.status != post_types_pb2.GEN_PROOF_STATUS_OK:
                raise ProofRejected(f"unspecified error generating proof: {answer.status}")
            if answer.HasField("proof"):
                break
            await asyncio.sleep(self.query_interval)
        if not answer.HasField("metadata"):
            raise ProofRejected("proof metadata is nil")
        if answer.metadata.challenge != challenge:
            raise ProofRejected(f"unexpected challenge: {answer.metadata.challenge.hex()}")
        if not answer.metadata.HasField("meta"):
            raise ProofRejected("post metadata is nil")
        return answer


class FakeNode(post_pb2_grpc.PostServiceServicer, activation_pb2_grpc.ActivationServiceServicer):
    LAYERS_PER_EPOCH = 10  # of the devnet node's public API answers
    REWARD_PER_UNIT = 1_000_000  # smidge per unit per epoch: a devnet figure, not mainnet's

    def __init__(
        self,
        post: NodePostConfig,
        allow_connections: bool = True,
        query_interval: float = 2.0,
        highest_atx: bytes | None = None,
    ) -> None:
        self.epoch = 1
        self.post = post
        self.allow_connections = allow_connections
        self.query_interval = query_interval
        self.highest_atx = highest_atx
        self.identities: dict[bytes, IdentityRecord] = {}
        self._connections: dict[bytes, _Connection] = {}
        self._server: grpc.aio.Server | None = None
        self.port = 0
        self.registered = asyncio.Condition()
        self._smesher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ serving

    async def start(self, host: str = "127.0.0.1", port: int = 0, tls: ServerTls | None = None) -> str:
        """Serves the post listener (and ActivationService) on ``host:port``; returns host:port."""
        self._server = grpc.aio.server()
        post_pb2_grpc.add_PostServiceServicer_to_server(self, self._server)
        activation_pb2_grpc.add_ActivationServiceServicer_to_server(self, self._server)
        public = _PublicV2(self)
        v2_activation_grpc.add_ActivationServiceServicer_to_server(public, self._server)
        reward_pb2_grpc.add_RewardServiceServicer_to_server(public, self._server)
        node_pb2_grpc.add_NodeServiceServicer_to_server(public, self._server)
        network_pb2_grpc.add_NetworkServiceServicer_to_server(public, self._server)
        address = f"{host}:{port}"
        if tls is None:
            self.port = self._server.add_insecure_port(address)
        else:
            self.port = self._server.add_secure_port(address, tls.credentials())
        await self._server.start()
        return f"{host}:{self.port}"

    def start_smeshing(self, interval: float) -> None:
        """Plays the node's smeshing for ``./dev run``: an initial post for every identity that
        registers, then a NIPoST proof for a new challenge every ``interval`` seconds (the node's
        PoET round ending)."""
        self._smesher = asyncio.create_task(self._smesh(interval), name="fake-node-smesher")

    async def _smesh(self, interval: float) -> None:
        import hashlib

        round_id, next_round = 0, asyncio.get_running_loop().time() + interval
        retry: dict[bytes, float] = {}
        while True:
            now = asyncio.get_running_loop().time()
            for node_id in list(self._connections):  # a new identity gets its initial post at once
                due = self.identities[node_id].initial_post_at is None and retry.get(node_id, 0) <= now
                if due and not await self._smesh_one(node_id, ZERO_CHALLENGE, interval):
                    retry[node_id] = now + interval  # as the node, try again later, not in a loop
            if asyncio.get_running_loop().time() >= next_round:
                round_id += 1
                next_round += interval
                challenge = hashlib.blake2b(f"devnet-round-{round_id}".encode(), digest_size=32).digest()
                for node_id in list(self._connections):
                    await self._smesh_one(node_id, challenge, interval)
            async with self.registered:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.registered.wait(), 1.0)

    async def _smesh_one(self, node_id: bytes, challenge: bytes, interval: float) -> bool:
        what = "initial post" if challenge == ZERO_CHALLENGE else "NIPoST proof"
        try:
            if challenge == ZERO_CHALLENGE:
                await self.build_initial_post(node_id, timeout=interval * 4)
            else:
                answer = await self.proof(node_id, challenge, timeout=interval * 4)
                self.publish(node_id, answer.metadata.meta.num_units)
            log.info("fake node: %s of %s accepted", what, node_id.hex()[:12])
            return True
        except (ProofRejected, TimeoutError) as exc:
            log.warning("fake node: %s of %s failed: %s", what, node_id.hex()[:12], exc or "timeout")
            return False

    async def stop(self) -> None:
        """The node goes away (all streams end), as on a restart."""
        if self._smesher is not None:
            self._smesher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._smesher
            self._smesher = None
        if self._server is not None:
            await self._server.stop(None)
            self._server = None
        for connection in self._connections.values():
            connection.closed.set()
        self._connections.clear()

    def connected(self, node_id: bytes) -> bool:
        return node_id in self._connections

    def drop(self, node_id: bytes) -> None:
        """Ends one post-service's stream from the node's side (a dropped connection)."""
        connection = self._connections.get(node_id)
        if connection is not None:
            connection.closed.set()

    async def wait_registered(self, node_id: bytes, timeout: float) -> None:
        async with self.registered:
            await asyncio.wait_for(self.registered.wait_for(lambda: self.connected(node_id)), timeout)

    # ------------------------------------------------------------ PostService.Register

    async def Register(self, request_iterator, context):
        if not self.allow_connections:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "connection not allowed: node has no coinbase set in config",
            )
        await context.write(post_types_pb2.NodeRequest(metadata=post_types_pb2.MetadataRequest()))
        response = await context.read()
        if response is grpc.aio.EOF:
            return
        if response.WhichOneof("kind") != "metadata":
            await context.abort(
                grpc.StatusCode.UNKNOWN, f"expected metadata response, got {response.WhichOneof('kind')}"
            )
        if not response.metadata.HasField("meta"):
            await context.abort(grpc.StatusCode.UNKNOWN, "expected metadata, got empty response")
        meta = response.metadata.meta
        node_id = bytes(meta.node_id[:32]).ljust(32, b"\0")  # types.BytesToNodeID
        if node_id in self._connections:
            await context.abort(grpc.StatusCode.UNKNOWN, "post service already registered")
        connection = self._connections[node_id] = _Connection(self.query_interval)
        record = self.identities.setdefault(node_id, IdentityRecord(node_id))
        record.registrations += 1
        record.metadata = meta
        log.info("fake node: post service registered for %s", node_id.hex())
        async with self.registered:
            self.registered.notify_all()
        try:
            while not connection.closed.is_set():
                command = asyncio.ensure_future(connection.queue.get())
                closed = asyncio.ensure_future(connection.closed.wait())
                await asyncio.wait({command, closed}, return_when=asyncio.FIRST_COMPLETED)
                closed.cancel()
                if not command.done():
                    command.cancel()
                    break
                cmd = command.result()
                await context.write(cmd.request)
                answer = await context.read()
                if answer is grpc.aio.EOF:
                    break
                cmd.answer.set_result(answer)
        finally:
            connection.closed.set()
            if self._connections.get(node_id) is connection:
                del self._connections[node_id]
        if not context.done():
            await context.abort(grpc.StatusCode.UNAVAILABLE, "connection dropped by the node")

    # ------------------------------------------------------------ ActivationService.Highest

    async def Highest(self, request, context):
        if self.highest_atx is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no ATX yet")
        atx = types_pb2.Activation(id=types_pb2.ActivationId(id=self.highest_atx))
        return activation_types_pb2.HighestResponse(atx=atx)

    async def Get(self, request, context):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not served by the devnet node")

    # ------------------------------------------------------------ the node's smeshing side

    async def proof(
        self, node_id: bytes, challenge: bytes, timeout: float = 600.0
    ) -> post_types_pb2.GenProofResponse:
        """NIPostBuilder.Proof: a validated proof from the identity's post-service."""
        return await asyncio.wait_for(self._proof(node_id, challenge), timeout)

    async def _proof(self, node_id: bytes, challenge: bytes) -> post_types_pb2.GenProofResponse:
        record = self.identities.setdefault(node_id, IdentityRecord(node_id))
        while True:
            connection = self._connections.get(node_id)
            if connection is None:
                await asyncio.sleep(self.query_interval)  # "post service not connected - waiting"
                continue
            try:
                answer = await connection.proof(challenge)
            except PostClientClosed:
                continue
            except ProofRejected as exc:
                record.errors.append(str(exc))
                raise
            try:
                await asyncio.to_thread(self.validate, node_id, challenge, answer)
            except ProofRejected as exc:
                record.errors.append(str(exc))
                raise
            record.proofs.append(challenge)
            return answer

    async def build_initial_post(
        self, node_id: bytes, timeout: float = 600.0
    ) -> post_types_pb2.GenProofResponse:
        """Builder.BuildInitialPost: the zero-challenge proof, which must carry the VRF nonce."""
        answer = await self.proof(node_id, ZERO_CHALLENGE, timeout)
        if not answer.metadata.meta.HasField("nonce"):
            raise ProofRejected("initial PoST is invalid: missing VRF nonce. Check your PoST data")
        self.identities[node_id].initial_post_at = time.time()
        return answer

    def publish(self, node_id: bytes, num_units: int) -> None:
        """The ATX the node would publish with a NIPoST proof, and the next epoch's reward for it."""
        import hashlib

        self.epoch += 1
        record = self.identities.setdefault(node_id, IdentityRecord(node_id))
        atx_id = hashlib.blake2b(node_id + self.epoch.to_bytes(4, "little"), digest_size=32).digest()
        record.atxs.append((atx_id, self.epoch, num_units))
        record.rewards.append(((self.epoch + 1) * self.LAYERS_PER_EPOCH, num_units * self.REWARD_PER_UNIT))

    def validate(self, node_id: bytes, challenge: bytes, answer: post_types_pb2.GenProofResponse) -> None:
        """The node's PostV2 validation, with the node's own parameters."""
        from appliance.post.proof import Proof, ProofConfig
        from appliance.post.verifier import VerifyError, verify_proof

        meta = answer.metadata.meta
        if bytes(meta.node_id) != node_id:
            raise ProofRejected(f"proof is for identity {bytes(meta.node_id).hex()}, not {node_id.hex()}")
        if meta.num_units < self.post.min_num_units:
            raise ProofRejected(
                f"{meta.num_units} units is below the node's minimum {self.post.min_num_units}"
            )
        try:
            verify_proof(
                Proof(answer.proof.nonce, bytes(answer.proof.indices), answer.proof.pow),
                node_id=node_id,
                commitment_atx_id=bytes(meta.commitment_atx_id),
                challenge=challenge,
                num_units=meta.num_units,
                labels_per_unit=self.post.labels_per_unit,
                config=ProofConfig(self.post.k1, self.post.k2, self.post.pow_difficulty),
                scrypt_n=self.post.scrypt_n,
            )
        except (VerifyError, ValueError) as exc:
            raise ProofRejected(f"invalid post: {exc}") from exc


@dataclass(frozen=True)
class ServerTls:
    """The node's ``grpc-tls-*`` settings: its certificate and key, and the CA its clients must use."""

    ca_cert: Path
    cert: Path
    key: Path

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key.read_bytes(), self.cert.read_bytes())],
            root_certificates=self.ca_cert.read_bytes(),
            require_client_auth=True,
        )


class _PublicV2(
    v2_activation_grpc.ActivationServiceServicer,
    reward_pb2_grpc.RewardServiceServicer,
    node_pb2_grpc.NodeServiceServicer,
    network_pb2_grpc.NetworkServiceServicer,
):
    """The node's public v2alpha1 API (spacemeshos/api spacemesh/v2alpha1) over what it recorded."""

    def __init__(self, node: FakeNode) -> None:
        self.node = node

    async def Status(self, request, context):
        layer = self.node.epoch * FakeNode.LAYERS_PER_EPOCH
        return node_pb2.NodeStatusResponse(
            connected_peers=3, status=node_pb2.NodeStatusResponse.SYNC_STATUS_SYNCED,
            latest_layer=layer, applied_layer=layer, processed_layer=layer, current_layer=layer,
        )  # fmt: skip

    async def Info(self, request, context):
        return network_pb2.NetworkInfoResponse(
            hrp=DEVNET.hrp,
            layers_per_epoch=FakeNode.LAYERS_PER_EPOCH,
            labels_per_unit=self.node.post.labels_per_unit,
        )

    async def List(self, request, context):
        if isinstance(request, reward_pb2.RewardRequest):
            record = self.node.identities.get(bytes(request.smesher))
            rows = sorted(record.rewards if record else [], reverse=request.sort_order == 1)
            limit = request.limit or len(rows)
            return reward_pb2.RewardList(
                rewards=[
                    reward_pb2.Reward(
                        layer=layer,
                        total=total,
                        layer_reward=total,
                        smesher=bytes(request.smesher),
                        coinbase="stest1devnet",
                    )
                    for layer, total in rows[:limit]
                ]
            )
        found = []
        for smesher in request.smesher_id:
            record = self.node.identities.get(bytes(smesher))
            for atx_id, epoch, units in record.atxs if record else []:
                found.append(
                    v2_activation.Activation(
                        id=atx_id,
                        smesher_id=bytes(smesher),
                        publish_epoch=epoch,
                        num_units=units,
                        weight=units * 1000,
                    )
                )
        return v2_activation.ActivationList(activations=found[: request.limit or len(found)])

    async def Highest(self, request, context):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "the devnet node answers Highest on spacemesh.v1")

    async def ActivationsCount(self, request, context):
        return v2_activation.ActivationsCountResponse(
            count=sum(len(r.atxs) for r in self.node.identities.values())
        )
