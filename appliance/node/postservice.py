"""The box as the post-service of a person's own go-spacemesh node (post-rs's ``service`` binary).

The node (its ``grpc-post-listener``) is the gRPC *server* of ``spacemesh.v1.PostService/Register``;
the post-service dials it and answers every ``NodeRequest`` on the stream with one
``ServiceResponse``. Behaviour follows spacemeshos/post-rs @ a2d155a2a1c13c59559737634262b67686e503b1,
``service/src/client.rs`` and ``service/src/service.rs``:

* ``Metadata`` is answered with the dataset's metadata; post-rs loads it once at start, so when
  the drive is pulled later the node still gets the metadata it was given before.
* ``GenProof{challenge}`` is *polled* (go-spacemesh's ``api/grpcserver/post_client.go`` asks again
  every 2 s): the first call starts proving in the background and answers OK without a proof, the
  same challenge while proving answers OK without a proof, a different one is an ERROR ("proof
  generation is in progress for a different challenge"), a challenge that is not 32 bytes is an
  ERROR ("invalid challenge format"); once done, OK with the proof — verified here first, as post-rs
  does before handing it out — and its ``ProofMetadata``. A failed proof is answered ERROR once and
  the service is idle again (post-rs would keep answering the old error until restarted).
* a request without a kind gets a ``GenProof`` ERROR, as post-rs sends.
* the channel keeps HTTP/2 alive as post-rs's tonic endpoint does (ping every 10 min, 20 s timeout).

Proving outlives the connection: when the node restarts mid-proof it polls the same challenge again
and gets the proof that kept running. The service never gives up on its own (unless
``max_retries`` connection attempts in a row failed, post-rs's ``--max-retries``): it waits for
complete data before registering, and reconnects after any failure — after
``reconnect_interval`` at first, doubling while the node stays away, up to a minute.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import grpc

from appliance.aio import cancel_and_wait
from appliance.node.post_provider import PostInfo, PostProvider, PostUnavailable
from appliance.node.proto.spacemesh.v1 import post_pb2_grpc
from appliance.node.proto.spacemesh.v1 import post_types_pb2 as pb
from appliance.node.wire import PostV1

log = logging.getLogger(__name__)

ProofVerifier = Callable[[PostV1, bytes, PostInfo], None]
#: post-rs's tonic endpoint: ``http2_keep_alive_interval(10 min)``, ``keep_alive_timeout(20 s)``
KEEPALIVE_OPTIONS = (("grpc.keepalive_time_ms", 600_000), ("grpc.keepalive_timeout_ms", 20_000))
MAX_BACKOFF = 60.0
CHALLENGE_SIZE = 32


class MaxRetriesReached(RuntimeError):
    """``max_retries`` connection attempts in a row failed (post-rs: "max retries (N) reached")."""


class NodeProtocolError(RuntimeError):
    """The node sent what the PostService protocol does not allow."""


class EndpointError(ValueError):
    """The node address (or its TLS pairing) cannot be used; the message says why."""


@dataclass(frozen=True)
class TlsFiles:
    """mTLS as post-rs's ``--ca-cert/--cert/--key/--domain``: the CA that signed the node's
    certificate, this service's client certificate and key, and the name to check the node's
    certificate against (the address's host when None)."""

    ca_cert: Path
    cert: Path
    key: Path
    domain: str | None = None


@dataclass(frozen=True)
class Endpoint:
    target: str  # host:port for grpc
    host: str
    secure: bool


def parse_endpoint(address: str, tls: bool) -> Endpoint:
    """``http://HOST:PORT`` (or ``https://`` with TLS, or a bare ``HOST:PORT``) as post-rs accepts."""
    text = address.strip()
    parts = urlsplit(text if "://" in text else f"http://{text}")
    if parts.scheme not in ("http", "https"):
        raise EndpointError(
            f"{address!r}: unknown client protocol {parts.scheme!r} (use http:// or https://)"
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or parts.path not in ("", "/"):
        raise EndpointError(f"{address!r} is not an address like http://192.168.1.20:9094")
    if parts.scheme == "https" and not tls:
        raise EndpointError("client protocol set to https but tls configuration not provided")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return Endpoint(f"{host}:{port}", parts.hostname, tls)


def channel_for(endpoint: Endpoint, tls: TlsFiles | None) -> grpc.aio.Channel:
    options: list[tuple[str, object]] = list(KEEPALIVE_OPTIONS)
    if tls is None:
        return grpc.aio.insecure_channel(endpoint.target, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.ca_cert.read_bytes(),
        private_key=tls.key.read_bytes(),
        certificate_chain=tls.cert.read_bytes(),
    )
    if tls.domain:
        options.append(("grpc.ssl_target_name_override", tls.domain))
    return grpc.aio.secure_channel(endpoint.target, credentials, options=options)


def explain(exc: grpc.aio.AioRpcError, target: str) -> str:
    """A sentence a person can act on for a failed Register stream."""
    code, details = exc.code(), (exc.details() or "").strip()
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        # go-spacemesh api/grpcserver/post_service.go: Register refuses until smeshing is set up
        return (
            f"the node at {target} refuses post-services: {details or 'smeshing not started'}. "
            "Set smeshing-coinbase in the node's config (smeshing-start: true) and restart it."
        )
    if "already registered" in details:
        return (
            f"the node at {target} already has a post-service for this identity. One identity must "
            "never run in two places: stop the other post-service first."
        )
    if code == grpc.StatusCode.UNAVAILABLE:
        low = details.lower()
        if "ssl" in low or "handshake" in low or "certificate" in low or "tls" in low:
            return f"TLS with the node at {target} failed (check the CA, certificate and key): {details}"
        return (
            f"cannot reach the node at {target} (is it running, with grpc-post-listener on this "
            f"address and port?): {details}"
        )
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return f"{target} is not a go-spacemesh post listener (PostService is not served there)"
    return f"the node at {target} ended the connection: {code.name} {details}"


@dataclass(frozen=True)
class ProvingProgress:
    nonce_start: int
    nonce_end: int
    stage: str  # "k2pow" | "scan"
    position: int
    total: int


@dataclass(frozen=True)
class ServiceStatus:
    """One identity's post-service, for the log, the API and the operator endpoint."""

    node_id: str
    address: str
    phase: str  # "waiting for data" | "connecting" | "connected" | "retrying" | "stopped"
    state: str  # post-rs operator state: "Idle" | "Proving" | "DoneProving"
    message: str = ""  # the last problem, as a sentence; "" when all is well
    challenge: str | None = None  # hex, while proving or done
    progress: ProvingProgress | None = None
    proofs_delivered: int = 0
    last_proof_at: float | None = None
    last_proof_challenge: str | None = None
    last_request_at: float | None = None
    next_attempt_at: float | None = None

    @property
    def connected(self) -> bool:
        return self.phase == "connected"


def operator_status(status: ServiceStatus) -> object:
    """post-rs's operator ``GET /status`` JSON (``service/src/operator.rs``: serde's external enum
    tagging, ``Range`` as start/end, position in bytes of PoST data already checked)."""
    if status.state == "Proving":
        progress = status.progress
        nonces = (
            {"start": progress.nonce_start, "end": progress.nonce_end} if progress else {"start": 0, "end": 0}
        )
        position = progress.position * 16 if progress and progress.stage == "scan" else 0
        return {"Proving": {"nonces": nonces, "position": position}}
    return status.state


@dataclass
class _Job:
    challenge: bytes
    task: asyncio.Task[tuple[PostV1, PostInfo]]


class PostService:
    """One identity's post-service connection to one node."""

    def __init__(
        self,
        address: str,
        node_id: bytes,
        provider: PostProvider,
        verifier: ProofVerifier,
        reconnect_interval: float = 5.0,
        tls: TlsFiles | None = None,
        max_retries: int | None = None,
        on_change: Callable[[ServiceStatus], None] | None = None,
    ) -> None:
        self.endpoint = parse_endpoint(address, tls is not None)
        self.address = address
        self.node_id = node_id
        self.provider = provider
        self.verify = verifier
        self.reconnect_interval = reconnect_interval
        self.tls = tls
        self.max_retries = max_retries
        self.on_change = on_change
        self._status = ServiceStatus(node_id.hex(), address, "stopped", "Idle")
        self._info: PostInfo | None = None
        self._job: _Job | None = None
        self._runner: asyncio.Task[None] | None = None
        self._talked = False  # the node asked something on the current stream
        self._progress: ProvingProgress | None = None  # set by the proving thread

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name=f"post-service-{self.node_id.hex()[:8]}")

    async def stop(self) -> None:
        job, self._job = self._job, None
        runner = self._runner
        if runner is not None and runner.done() and not runner.cancelled():
            runner.exception()  # gave up (max retries): already reported through wait()
            runner = None
        await cancel_and_wait(runner, job.task if job else None)
        self._update(phase="stopped", next_attempt_at=None)

    async def wait(self) -> None:
        """Until the service gives up (only with ``max_retries``); raises MaxRetriesReached then."""
        assert self._runner is not None
        await self._runner

    def status(self) -> ServiceStatus:
        progress = self._progress if self._status.state == "Proving" else None
        return replace(self._status, progress=progress) if progress is not None else self._status

    @property
    def connected(self) -> bool:
        return self._status.connected

    def _update(self, **change: object) -> None:
        new = replace(self._status, **change)  # type: ignore[arg-type]
        if new != self._status:
            self._status = new
            if self.on_change is not None:
                self.on_change(new)

    # ------------------------------------------------------------ the connection

    async def _run(self) -> None:
        failures = 0  # attempts in a row that got no request from the node
        while True:
            self._info = await self._wait_for_data()
            self._update(phase="connecting", next_attempt_at=None)
            self._talked = False
            try:
                await self.serve_once()
                reason = f"the node at {self.endpoint.target} closed the connection"
            except grpc.aio.AioRpcError as exc:
                reason = explain(exc, self.endpoint.target)
            except NodeProtocolError as exc:
                reason = str(exc)
            except (OSError, ValueError) as exc:  # unreadable TLS files
                reason = f"cannot set up the connection to {self.endpoint.target}: {exc}"
            except Exception as exc:  # never die: anything unforeseen is reported and retried
                log.exception("post-service %s", self.node_id.hex()[:8])
                reason = f"unexpected error with the node at {self.endpoint.target}: {exc}"
            talked = self._talked
            failures = 0 if talked else failures + 1
            if self.max_retries is not None and failures > self.max_retries:
                self._update(phase="stopped", message=reason)
                raise MaxRetriesReached(f"max retries ({self.max_retries}) reached: {reason}")
            delay = min(
                self.reconnect_interval * 2 ** max(0, failures - 1), max(self.reconnect_interval, MAX_BACKOFF)
            )
            delay = max(delay, 0.05)  # --reconnect-interval-s 0 must not spin
            log.info("post-service %s: %s; reconnecting in %.0f s", self.node_id.hex()[:8], reason, delay)
            self._update(phase="retrying", message=reason, next_attempt_at=time.time() + delay)
            await asyncio.sleep(delay)

    async def _wait_for_data(self) -> PostInfo:
        """Registers only with complete data: the node would otherwise ask for proofs it cannot get."""
        while True:
            try:
                return await self.provider.info(self.node_id)
            except PostUnavailable as exc:
                self._update(phase="waiting for data", message=f"not connecting yet: {exc}")
            await asyncio.sleep(self.reconnect_interval)

    async def serve_once(self) -> bool:
        """One Register stream: answers the node until it closes the stream. True if it asked anything."""
        async with channel_for(self.endpoint, self.tls) as channel:
            call = post_pb2_grpc.PostServiceStub(channel).Register()
            while True:
                request = await call.read()
                if request is grpc.aio.EOF:
                    await call.done_writing()
                    return self._talked
                if not isinstance(request, pb.NodeRequest):  # grpc could not parse what the node sent
                    call.cancel()
                    raise NodeProtocolError(
                        f"the node at {self.endpoint.target} sent something that is not a NodeRequest "
                        "(a different protocol or a corrupt stream)"
                    )
                if not self._talked:
                    self._talked = True
                    log.info("post-service %s: connected to %s", self.node_id.hex()[:8], self.endpoint.target)
                    self._update(phase="connected", message="")
                self._update(last_request_at=time.time())
                await call.write(await self.handle(request))

    # ------------------------------------------------------------ the answers

    async def handle(self, request: pb.NodeRequest) -> pb.ServiceResponse:
        kind = request.WhichOneof("kind")
        if kind == "metadata":
            return pb.ServiceResponse(metadata=pb.MetadataResponse(meta=_meta(await self._metadata())))
        if kind == "gen_proof":
            return pb.ServiceResponse(gen_proof=await self._gen_proof(request.gen_proof.challenge))
        self._problem("the node sent a request without a kind (a newer node?); answered with an error")
        return pb.ServiceResponse(gen_proof=_error())

    async def _metadata(self) -> PostInfo:
        try:
            self._info = await self.provider.info(self.node_id)
        except PostUnavailable as exc:
            if self._info is None:
                raise
            log.warning(
                "post-service %s: %s; answering with the metadata read before", self.node_id.hex()[:8], exc
            )
        assert self._info is not None
        return self._info

    async def _gen_proof(self, challenge: bytes) -> pb.GenProofResponse:
        job = self._job
        if job is not None and not job.task.done():
            if job.challenge != challenge:
                return self._refuse(
                    "proof generation is in progress for a different challenge "
                    f"(current: {job.challenge.hex()}, requested: {challenge.hex()})"
                )
            return pb.GenProofResponse(status=pb.GEN_PROOF_STATUS_OK)
        if job is not None:
            self._job = None
            if job.challenge == challenge:
                return self._finished(job)
            log.info(
                "post-service %s: dropping an unfetched proof for %s; the node asks for %s",
                self.node_id.hex()[:8],
                job.challenge.hex(),
                challenge.hex(),
            )
        if len(challenge) != CHALLENGE_SIZE:
            return self._refuse(
                f"invalid challenge format: {len(challenge)} bytes, expected {CHALLENGE_SIZE}"
            )
        info = self._info
        if info is None:  # pragma: no cover - the stream only opens with data
            return self._refuse("no PoST data")
        log.info(
            "post-service %s: starting proof generation for challenge %s",
            self.node_id.hex()[:8],
            challenge.hex(),
        )
        self._job = _Job(
            challenge, asyncio.create_task(self._prove(challenge, info), name="post-service-prove")
        )
        self._job.task.add_done_callback(lambda _t: self._update(state="DoneProving", progress=None))
        self._update(state="Proving", challenge=challenge.hex(), progress=None, message="")
        return pb.GenProofResponse(status=pb.GEN_PROOF_STATUS_OK)

    def _finished(self, job: _Job) -> pb.GenProofResponse:
        self._update(state="Idle", challenge=None)
        exc = job.task.exception()
        if exc is not None:
            return self._refuse(f"proof generation failed: {exc}")
        post, info = job.task.result()
        self._update(
            proofs_delivered=self._status.proofs_delivered + 1,
            last_proof_at=time.time(),
            last_proof_challenge=job.challenge.hex(),
        )
        log.info(
            "post-service %s: proof for %s handed to the node", self.node_id.hex()[:8], job.challenge.hex()
        )
        return pb.GenProofResponse(
            status=pb.GEN_PROOF_STATUS_OK,
            proof=pb.Proof(nonce=post.nonce, indices=post.indices, pow=post.pow),
            metadata=pb.ProofMetadata(challenge=job.challenge, meta=_meta(info)),
        )

    def _refuse(self, reason: str) -> pb.GenProofResponse:
        self._problem(reason)
        return _error()

    def _problem(self, reason: str) -> None:
        log.error("post-service %s: %s", self.node_id.hex()[:8], reason)
        self._update(message=reason)

    async def _prove(self, challenge: bytes, info: PostInfo) -> tuple[PostV1, PostInfo]:
        def progress(p: object) -> None:  # called from the proving thread: one assignment, no locks
            self._progress = ProvingProgress(p.nonce_start, p.nonce_end, p.stage, p.position, p.total)  # type: ignore[attr-defined]

        self._progress = None

        prove = self.provider.prove
        if "progress" in inspect.signature(prove).parameters:
            post = await prove(self.node_id, challenge, progress=progress)  # type: ignore[call-arg]
        else:
            post = await prove(self.node_id, challenge)
        await asyncio.to_thread(self.verify, post, challenge, info)  # never hand out a bad proof
        return post, info


def _error() -> pb.GenProofResponse:
    return pb.GenProofResponse(status=pb.GEN_PROOF_STATUS_ERROR)


def _meta(info: PostInfo) -> pb.Metadata:
    meta = pb.Metadata(
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
