"""Mode B: a gRPC server playing go-spacemesh's side of PostService/Register drives the box's
post-service through Metadata and polled GenProof, and verifies the proof it gets."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from appliance.node.identity import generate
from appliance.node.post_provider import DirectPostProvider
from appliance.node.postservice import PostService, post_verifier
from appliance.node.proto import post_pb2, post_pb2_grpc

SCRYPT_N = 2


@pytest.fixture
def dataset(tmp_path):
    from appliance.post.initializer import Initializer
    from appliance.post.metadata import PostMetadata
    from appliance.post.proof import ProofConfig

    me = generate("me")
    meta = PostMetadata(me.node_id, b"\x0a" * 32, labels_per_unit=256, num_units=2, max_file_size=4096)
    Initializer(tmp_path / "data", meta, scrypt_n=SCRYPT_N).run()
    config = ProofConfig(8, 12, b"\xff" * 32)
    provider = DirectPostProvider(
        {me.node_id: tmp_path / "data"}, config, nonces=16, scrypt_n=SCRYPT_N, fast_mode=False
    )
    return me, provider, config


class GatedProvider:
    """Holds proving until the test opens the gate, so "still proving" is observed for certain."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.gate = asyncio.Event()

    async def info(self, node_id):
        return await self.inner.info(node_id)

    async def prove(self, node_id, challenge):
        await self.gate.wait()
        return await self.inner.prove(node_id, challenge)


class FakeNode(post_pb2_grpc.PostServiceServicer):
    """The node side: sends requests on the stream and records the answers."""

    def __init__(self, script) -> None:
        self.script = script
        self.done = asyncio.Event()
        self.result = None

    async def Register(self, request_iterator, context):
        try:
            self.result = await self.script(context)
        finally:
            self.done.set()


async def _serve(node: FakeNode):
    server = grpc.aio.server()
    post_pb2_grpc.add_PostServiceServicer_to_server(node, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, f"127.0.0.1:{port}"


async def test_metadata_and_polled_proof(dataset):
    me, inner, config = dataset
    provider = GatedProvider(inner)
    challenge = b"\x42" * 32

    async def script(context):
        await context.write(post_pb2.NodeRequest(metadata=post_pb2.MetadataRequest()))
        meta = (await context.read()).metadata.meta
        await context.write(post_pb2.NodeRequest(gen_proof=post_pb2.GenProofRequest(challenge=challenge)))
        first = (await context.read()).gen_proof
        await context.write(post_pb2.NodeRequest(gen_proof=post_pb2.GenProofRequest(challenge=b"\x01" * 32)))
        busy = (await context.read()).gen_proof
        await context.write(post_pb2.NodeRequest(gen_proof=post_pb2.GenProofRequest(challenge=challenge)))
        running = (await context.read()).gen_proof
        provider.gate.set()
        while True:
            await context.write(post_pb2.NodeRequest(gen_proof=post_pb2.GenProofRequest(challenge=challenge)))
            answer = (await context.read()).gen_proof
            if answer.HasField("proof") or answer.status != post_pb2.GEN_PROOF_STATUS_OK:
                break
            await asyncio.sleep(0.05)
        return meta, first, busy, running, answer

    node = FakeNode(script)
    server, target = await _serve(node)
    service = PostService(
        target, me.node_id, provider, post_verifier(config, SCRYPT_N), reconnect_interval=0.1
    )
    await service.start()
    try:
        await asyncio.wait_for(node.done.wait(), 120)
    finally:
        await service.stop()
        await server.stop(None)
    meta, first, busy, running, answer = node.result
    assert meta.node_id == me.node_id and meta.num_units == 2 and meta.labels_per_unit == 256
    assert meta.HasField("nonce")
    assert first.status == post_pb2.GEN_PROOF_STATUS_OK and not first.HasField("proof")
    assert busy.status == post_pb2.GEN_PROOF_STATUS_ERROR  # another challenge while proving
    assert running.status == post_pb2.GEN_PROOF_STATUS_OK and not running.HasField("proof")
    assert answer.status == post_pb2.GEN_PROOF_STATUS_OK and answer.metadata.challenge == challenge
    # the node verifies the proof with the real verifier, as go-spacemesh would
    from appliance.post.proof import Proof
    from appliance.post.verifier import verify_proof

    verify_proof(
        Proof(answer.proof.nonce, answer.proof.indices, answer.proof.pow),
        node_id=me.node_id,
        commitment_atx_id=b"\x0a" * 32,
        challenge=challenge,
        num_units=2,
        labels_per_unit=256,
        config=config,
        scrypt_n=SCRYPT_N,
    )


async def test_bad_challenge_and_reconnect(dataset):
    me, provider, config = dataset
    calls = []

    async def script(context):
        await context.write(post_pb2.NodeRequest(gen_proof=post_pb2.GenProofRequest(challenge=b"short")))
        calls.append((await context.read()).gen_proof.status)
        return calls

    node = FakeNode(script)
    server, target = await _serve(node)
    await server.stop(None)  # node down first: the service keeps retrying
    service = PostService(
        target, me.node_id, provider, post_verifier(config, SCRYPT_N), reconnect_interval=0.1
    )
    await service.start()
    await asyncio.sleep(0.3)
    assert not service.connected
    server = grpc.aio.server()
    post_pb2_grpc.add_PostServiceServicer_to_server(node, server)
    server.add_insecure_port(target)
    await server.start()
    try:
        await asyncio.wait_for(node.done.wait(), 30)
    finally:
        await service.stop()
        await server.stop(None)
    assert calls == [post_pb2.GEN_PROOF_STATUS_ERROR]
