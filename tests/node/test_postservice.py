"""The box as a post-service, driven by the devnet's go-spacemesh node (appliance/devnet/fakenode.py,
built on the real spacemeshos/api protos): registration with metadata first, the initial post for
the zero challenge, NIPoST proofs polled until done and checked with the real verifier, a node
restart mid-proof, a dropped stream, a node that refuses, mTLS, and every bad request."""

from __future__ import annotations

import asyncio
import datetime
import json
import urllib.request

import pytest

from appliance.devnet.fakenode import ZERO_CHALLENGE, FakeNode, NodePostConfig, ProofRejected, ServerTls
from appliance.node.identity import generate
from appliance.node.operator import OperatorServer
from appliance.node.post_provider import DirectPostProvider, PostUnavailable
from appliance.node.postservice import (
    EndpointError,
    MaxRetriesReached,
    PostService,
    TlsFiles,
    operator_status,
    parse_endpoint,
    post_verifier,
)
from appliance.node.proto.spacemesh.v1 import post_types_pb2 as pb

SCRYPT_N = 2
LABELS_PER_UNIT = 256
POLL = 0.05


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from appliance.post.initializer import Initializer
    from appliance.post.metadata import PostMetadata
    from appliance.post.proof import ProofConfig

    base = tmp_path_factory.mktemp("postservice")
    me = generate("me")
    meta = PostMetadata(me.node_id, b"\x0a" * 32, LABELS_PER_UNIT, num_units=2, max_file_size=4096)
    Initializer(base / "data", meta, scrypt_n=SCRYPT_N).run()
    return me.node_id, base / "data", ProofConfig(8, 12, b"\xff" * 32)


def _provider(dataset):
    node_id, datadir, config = dataset
    return DirectPostProvider({node_id: datadir}, config, nonces=16, scrypt_n=SCRYPT_N, fast_mode=False)


def _node(dataset, **kwargs) -> FakeNode:
    config = dataset[2]
    post = NodePostConfig(config.k1, config.k2, config.pow_difficulty, LABELS_PER_UNIT, SCRYPT_N)
    return FakeNode(post, query_interval=POLL, **kwargs)


def _service(dataset, address, provider=None, **kwargs) -> PostService:
    node_id, _, config = dataset
    return PostService(address, node_id, provider or _provider(dataset), post_verifier(config, SCRYPT_N),
                       reconnect_interval=0.05, **kwargs)


class Gated:
    """Holds proving until the test opens the gate, so "still proving" is observed for certain."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.gate = asyncio.Event()
        self.proofs = 0
        self.unplugged = False

    async def info(self, node_id):
        if self.unplugged:
            raise PostUnavailable("the drive with this identity's data is not plugged in")
        return await self.inner.info(node_id)

    async def prove(self, node_id, challenge, progress=None):
        if progress is not None:  # what the prover reports from its thread: pass 0, scanning
            from appliance.post.prover import ProveProgress

            await asyncio.to_thread(progress, ProveProgress(0, 0, 16, "scan", 100, 512))
        await self.gate.wait()
        self.proofs += 1
        if self.unplugged:
            raise PostUnavailable("the drive with this identity's data is not plugged in")
        return await self.inner.prove(node_id, challenge)


async def _until(predicate, timeout=30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_registration_initial_post_and_nipost_proof(dataset):
    node_id = dataset[0]
    node = _node(dataset)
    address = await node.start()
    service = _service(dataset, f"http://{address}")
    await service.start()
    try:
        await node.wait_registered(node_id, 30)
        record = node.identities[node_id]
        assert record.registrations == 1 and record.metadata.num_units == 2
        assert record.metadata.HasField("nonce")  # the VRF nonce the initial post needs
        initial = await node.build_initial_post(node_id, timeout=120)
        assert initial.metadata.challenge == ZERO_CHALLENGE and record.initial_post_at is not None
        nipost = await node.proof(node_id, b"\x42" * 32, timeout=120)
        assert nipost.metadata.challenge == b"\x42" * 32
        assert record.proofs == [ZERO_CHALLENGE, b"\x42" * 32]  # both checked by the real verifier
        status = service.status()
        assert status.connected and status.proofs_delivered == 2 and status.state == "Idle"
        assert status.last_proof_challenge == (b"\x42" * 32).hex()
    finally:
        await service.stop()
        await node.stop()


async def test_node_rejects_a_tampered_proof(dataset):
    node_id = dataset[0]
    node = _node(dataset)
    answer = pb.GenProofResponse(
        status=pb.GEN_PROOF_STATUS_OK,
        proof=pb.Proof(nonce=0, indices=b"\x00" * 12, pow=0),
        metadata=pb.ProofMetadata(challenge=b"\x01" * 32, meta=pb.Metadata(
            node_id=node_id, commitment_atx_id=b"\x0a" * 32, num_units=2, labels_per_unit=LABELS_PER_UNIT)),
    )
    with pytest.raises(ProofRejected, match="invalid post"):
        node.validate(node_id, b"\x01" * 32, answer)


async def test_polled_gen_proof_and_bad_requests(dataset):
    """The answers post-rs gives: in progress, busy with another challenge, wrong length, no kind."""
    gated = Gated(_provider(dataset))
    node = _node(dataset)
    address = await node.start()
    service = _service(dataset, address, gated)
    await service.start()
    node_id = dataset[0]
    try:
        await node.wait_registered(node_id, 30)

        def ask(challenge):
            return service.handle(pb.NodeRequest(gen_proof=pb.GenProofRequest(challenge=challenge)))

        short = (await ask(b"short")).gen_proof
        assert short.status == pb.GEN_PROOF_STATUS_ERROR
        assert "invalid challenge format" in service.status().message
        first = (await ask(b"\x07" * 32)).gen_proof
        assert first.status == pb.GEN_PROOF_STATUS_OK and not first.HasField("proof")
        assert service.status().state == "Proving"
        busy = (await ask(b"\x08" * 32)).gen_proof
        assert busy.status == pb.GEN_PROOF_STATUS_ERROR and "different challenge" in service.status().message
        again = (await ask(b"\x07" * 32)).gen_proof
        assert again.status == pb.GEN_PROOF_STATUS_OK and not again.HasField("proof")
        no_kind = await service.handle(pb.NodeRequest())
        assert no_kind.gen_proof.status == pb.GEN_PROOF_STATUS_ERROR
        assert gated.proofs == 0  # nothing started twice
        gated.gate.set()
        answer = await node.proof(node_id, b"\x07" * 32, timeout=120)  # the node polls the same job
        assert answer.metadata.meta.node_id == node_id and gated.proofs == 1
        assert service.connected  # bad requests never cost the connection
    finally:
        await service.stop()
        await node.stop()


async def test_node_restart_mid_proof_and_dropped_stream(dataset):
    node_id = dataset[0]
    gated = Gated(_provider(dataset))
    node = _node(dataset)
    address = await node.start()
    port = node.port
    service = _service(dataset, f"http://{address}", gated)
    await service.start()
    try:
        await node.wait_registered(node_id, 30)
        asking = asyncio.create_task(node.proof(node_id, b"\x11" * 32, timeout=120))
        await _until(lambda: service.status().state == "Proving")
        asking.cancel()
        await node.stop()  # the node restarts while the box proves
        await _until(lambda: not service.connected)
        node = _node(dataset)
        await node.start(port=port)
        gated.gate.set()
        await node.wait_registered(node_id, 30)
        answer = await node.proof(node_id, b"\x11" * 32, timeout=120)
        assert answer.metadata.challenge == b"\x11" * 32 and gated.proofs == 1  # the proof kept running
        node.drop(node_id)  # the stream breaks: the service registers again
        await _until(lambda: node.identities[node_id].registrations == 2)
        await node.proof(node_id, b"\x12" * 32, timeout=120)
        assert service.status().proofs_delivered == 2
    finally:
        await service.stop()
        await node.stop()


async def test_refusal_second_registration_and_max_retries(dataset):
    node_id = dataset[0]
    node = _node(dataset, allow_connections=False)
    address = await node.start()
    service = _service(dataset, address)
    await service.start()
    twin = None
    try:
        await _until(lambda: "smeshing-coinbase" in service.status().message)
        assert not node.connected(node_id) and service.status().phase == "retrying"
        node.allow_connections = True
        await node.wait_registered(node_id, 30)
        twin = _service(dataset, address)  # the same identity from a second place
        await twin.start()
        await _until(lambda: "never run in two places" in twin.status().message)
        assert node.identities[node_id].registrations == 1
    finally:
        await service.stop()
        if twin is not None:
            await twin.stop()
        await node.stop()
    gone = _service(dataset, address, max_retries=2)  # nobody listens any more
    await gone.start()
    with pytest.raises(MaxRetriesReached, match=r"max retries \(2\) reached: cannot reach the node"):
        await asyncio.wait_for(gone.wait(), 30)
    await gone.stop()


async def test_waits_for_data_and_survives_an_unplugged_drive(dataset):
    node_id = dataset[0]
    gated = Gated(_provider(dataset))
    gated.unplugged = True
    gated.gate.set()
    node = _node(dataset)
    address = await node.start()
    service = _service(dataset, address, gated)
    await service.start()
    try:
        await _until(lambda: service.status().phase == "waiting for data")
        await asyncio.sleep(0.2)
        assert not node.connected(node_id)  # no registration without complete data
        gated.unplugged = False
        await node.wait_registered(node_id, 30)
        gated.unplugged = True  # pulled while connected: metadata as read before, proofs fail cleanly
        info = await node._connections[node_id].info()
        assert bytes(info.node_id) == node_id
        with pytest.raises(ProofRejected, match="error generating proof"):
            await node.proof(node_id, b"\x21" * 32, timeout=60)
        assert "not plugged in" in service.status().message and service.connected
        gated.unplugged = False  # plugged back: the next proof works
        await node.proof(node_id, b"\x22" * 32, timeout=120)
    finally:
        await service.stop()
        await node.stop()


def _certs(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def make(name, issuer_key=None, issuer_name=None, ca=False):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name or subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        cert = builder.sign(issuer_key or key, hashes.SHA256())
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return key, cert, key_pem, cert.public_bytes(serialization.Encoding.PEM)

    files = {}
    for label in ("good", "other"):
        ca_key, ca_cert, _, ca_pem = make(f"{label} CA", ca=True)
        files[label] = {"ca": ca_pem}
        for who in ("node", "box"):
            _, _, key_pem, cert_pem = make("localhost", ca_key, ca_cert.subject)
            files[label][who] = (key_pem, cert_pem)
    for label, group in files.items():
        for item, value in group.items():
            if item == "ca":
                (tmp_path / f"{label}-ca.pem").write_bytes(value)
            else:
                (tmp_path / f"{label}-{item}.key").write_bytes(value[0])
                (tmp_path / f"{label}-{item}.pem").write_bytes(value[1])
    return {path.name: path for path in tmp_path.iterdir()}


async def test_mutual_tls(dataset, tmp_path):
    node_id = dataset[0]
    p = _certs(tmp_path)
    node = _node(dataset)
    await node.start("127.0.0.1", tls=ServerTls(p["good-ca.pem"], p["good-node.pem"], p["good-node.key"]))
    address = f"https://localhost:{node.port}"
    stranger = _service(dataset, address,
                        tls=TlsFiles(p["other-ca.pem"], p["other-box.pem"], p["other-box.key"]))
    await stranger.start()
    service = _service(dataset, address, tls=TlsFiles(p["good-ca.pem"], p["good-box.pem"], p["good-box.key"],
                                                      domain="localhost"))
    try:
        await _until(lambda: stranger.status().phase == "retrying")
        assert stranger.status().message.startswith(f"TLS with the node at localhost:{node.port} failed")
        assert not node.connected(node_id)
        await stranger.stop()
        await service.start()
        await node.wait_registered(node_id, 30)
        assert service.connected
    finally:
        await service.stop()
        await stranger.stop()
        await node.stop()


def test_endpoint_parsing():
    assert parse_endpoint("http://192.168.1.20:9094", False).target == "192.168.1.20:9094"
    assert parse_endpoint("node.lan:9094", False).target == "node.lan:9094"
    assert parse_endpoint("https://[::1]:9094", True).target == "[::1]:9094"
    for bad, why in [("ftp://x:1", "unknown client protocol"), ("http://x", "not an address"),
                     ("http://x:99999", "not an address"), ("https://x:1", "tls configuration not provided"),
                     ("http://x:1/path", "not an address")]:
        with pytest.raises(EndpointError, match=why):
            parse_endpoint(bad, False)


async def test_operator_status_endpoint(dataset):
    """post-rs's operator JSON (service/src/operator.rs): "Idle", {"Proving": ...}, "DoneProving"."""
    gated = Gated(_provider(dataset))
    service = _service(dataset, "127.0.0.1:1", gated)
    server = OperatorServer("127.0.0.1", 0, lambda: operator_status(service.status()))
    server.start()

    def fetch(path="/status"):
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as reply:
            return json.loads(reply.read())

    try:
        assert await asyncio.to_thread(fetch) == "Idle"
        service._info = await gated.info(dataset[0])
        await service.handle(pb.NodeRequest(gen_proof=pb.GenProofRequest(challenge=b"\x05" * 32)))
        await _until(lambda: service.status().progress is not None)
        proving = {"Proving": {"nonces": {"start": 0, "end": 16}, "position": 100 * 16}}  # bytes checked
        assert await asyncio.to_thread(fetch) == proving
        gated.gate.set()
        await _until(lambda: service.status().state == "DoneProving", 120)
        assert await asyncio.to_thread(fetch) == "DoneProving"
        with pytest.raises(urllib.error.HTTPError):
            await asyncio.to_thread(fetch, "/other")
    finally:
        server.stop()
        await service.stop()



async def test_garbage_from_the_node_and_a_server_that_is_not_a_node(dataset):
    """A node that sends bytes that are no NodeRequest, and a gRPC server without PostService: a clear
    reason, retries, and the service keeps running."""
    import grpc

    async def garbage(request_iterator, context):
        yield b"\xff\xff\xff\xff not protobuf"

    handler = grpc.method_handlers_generic_handler(
        "spacemesh.v1.PostService", {"Register": grpc.stream_stream_rpc_method_handler(garbage)})
    hostile = grpc.aio.server()
    hostile.add_generic_rpc_handlers((handler,))
    port = hostile.add_insecure_port("127.0.0.1:0")
    empty = grpc.aio.server()
    other = empty.add_insecure_port("127.0.0.1:0")
    await hostile.start()
    await empty.start()
    first = _service(dataset, f"127.0.0.1:{port}")
    second = _service(dataset, f"127.0.0.1:{other}")
    await first.start()
    await second.start()
    try:
        await _until(lambda: first.status().phase == "retrying" and second.status().phase == "retrying")
        assert "sent something that is not a NodeRequest" in first.status().message
        assert "is not a go-spacemesh post listener" in second.status().message
        await asyncio.sleep(0.3)
        assert not first._runner.done() and not second._runner.done()  # still trying
    finally:
        await first.stop()
        await second.stop()
        await hostile.stop(None)
        await empty.stop(None)
