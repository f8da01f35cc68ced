"""Mode B: the box as a post-service for the user's own go-spacemesh node (post-rs ``service/``).

The box dials the node's ``spacemesh.v1.PostService/Register`` stream and answers each request:
``Metadata`` with the PoST metadata of its data; ``GenProof{challenge}`` is *polled* — the first call
starts proving in the background and answers OK without a proof, later calls with the same
challenge answer OK-without-proof until it is done, then OK with the proof (which the box verified
itself first) and its metadata; a different challenge while busy is an ERROR. The identity key
stays on the node. The connection is retried every ``reconnect_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import grpc

from appliance.node.post_provider import PostInfo, PostProvider, PostUnavailable
from appliance.node.proto import post_pb2, post_pb2_grpc
from appliance.node.wire import PostV1

log = logging.getLogger(__name__)

ProofVerifier = Callable[[PostV1, bytes, PostInfo], None]


class PostService:
    def __init__(
        self,
        target: str,
        node_id: bytes,
        provider: PostProvider,
        verifier: ProofVerifier,
        reconnect_interval: float = 5.0,
        credentials: grpc.ChannelCredentials | None = None,
    ) -> None:
        self.target = target
        self.node_id = node_id
        self.provider = provider
        self.verify = verifier
        self.reconnect_interval = reconnect_interval
        self.credentials = credentials
        self.state = "Idle"  # "Idle" | "Proving" | "DoneProving" (post-rs operator API)
        self.connected = False
        self._challenge: bytes | None = None
        self._task: asyncio.Task[tuple[PostV1, PostInfo]] | None = None
        self._runner: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="post-service")

    async def stop(self) -> None:
        for task in (self._runner, self._task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _run(self) -> None:
        while True:
            try:
                await self.serve_once()
            except grpc.aio.AioRpcError as exc:
                log.info("post-service: node %s unavailable (%s)", self.target, exc.code().name)
            self.connected = False
            await asyncio.sleep(self.reconnect_interval)

    async def serve_once(self) -> None:
        """One connection: answer the node's requests until it closes the stream."""
        if self.credentials is not None:
            channel = grpc.aio.secure_channel(self.target, self.credentials)
        else:
            channel = grpc.aio.insecure_channel(self.target)
        async with channel:
            call = post_pb2_grpc.PostServiceStub(channel).Register()
            self.connected = True
            while True:
                request = await call.read()
                if request is grpc.aio.EOF:
                    await call.done_writing()
                    return
                await call.write(await self.handle(request))

    async def handle(self, request: post_pb2.NodeRequest) -> post_pb2.ServiceResponse:
        kind = request.WhichOneof("kind")
        if kind == "metadata":
            info = await self.provider.info(self.node_id)
            return post_pb2.ServiceResponse(metadata=post_pb2.MetadataResponse(meta=_meta(info)))
        if kind == "gen_proof":
            return post_pb2.ServiceResponse(gen_proof=await self._gen_proof(request.gen_proof.challenge))
        log.warning("post-service: unknown request kind %r", kind)
        return post_pb2.ServiceResponse(gen_proof=_error())

    async def _gen_proof(self, challenge: bytes) -> post_pb2.GenProofResponse:
        if len(challenge) != 32:
            return _error()
        if self._task is not None and self._challenge != challenge:
            if not self._task.done():
                return _error()  # busy with another challenge
            self._task = None
        if self._task is None:
            try:
                info = await self.provider.info(self.node_id)
            except PostUnavailable:
                return _error()
            self._challenge = challenge
            self._task = asyncio.create_task(self._prove(challenge, info))
            self.state = "Proving"
            return post_pb2.GenProofResponse(status=post_pb2.GEN_PROOF_STATUS_OK)
        if not self._task.done():
            return post_pb2.GenProofResponse(status=post_pb2.GEN_PROOF_STATUS_OK)
        task, self._task, self._challenge = self._task, None, None
        self.state = "DoneProving"
        if task.exception() is not None:
            log.error("post-service: proving failed: %s", task.exception())
            return _error()
        post, info = task.result()
        return post_pb2.GenProofResponse(
            status=post_pb2.GEN_PROOF_STATUS_OK,
            proof=post_pb2.Proof(nonce=post.nonce, indices=post.indices, pow=post.pow),
            metadata=post_pb2.ProofMetadata(challenge=challenge, meta=_meta(info)),
        )

    async def _prove(self, challenge: bytes, info: PostInfo) -> tuple[PostV1, PostInfo]:
        post = await self.provider.prove(self.node_id, challenge)
        await asyncio.to_thread(self.verify, post, challenge, info)  # never hand out a bad proof
        return post, info


def _error() -> post_pb2.GenProofResponse:
    return post_pb2.GenProofResponse(status=post_pb2.GEN_PROOF_STATUS_ERROR)


def _meta(info: PostInfo) -> post_pb2.Metadata:
    meta = post_pb2.Metadata(
        node_id=info.node_id,
        commitment_atx_id=info.commitment_atx_id,
        num_units=info.num_units,
        labels_per_unit=info.labels_per_unit,
    )
    if info.vrf_nonce is not None:
        meta.nonce = info.vrf_nonce
    return meta


def post_verifier(proof_config: object, scrypt_n: int) -> ProofVerifier:
    """A verifier over ``appliance.post.verifier`` for proofs of this box's data."""

    def verify(post: PostV1, challenge: bytes, info: PostInfo) -> None:
        from appliance.post.proof import Proof
        from appliance.post.verifier import verify_proof

        verify_proof(
            Proof(post.nonce, post.indices, post.pow),
            node_id=info.node_id,
            commitment_atx_id=info.commitment_atx_id,
            challenge=challenge,
            num_units=info.num_units,
            labels_per_unit=info.labels_per_unit,
            config=proof_config,
            scrypt_n=scrypt_n,
        )

    return verify
