"""Client of a PoET server's HTTP/JSON API (poet ``rpc/api/v1/api.proto`` via grpc-gateway).

Registration signs ``GenesisID ‖ 0x04 ‖ challengeHash`` and authorises with a certificate from the
certifier the PoET names in ``/v1/info`` when the caller has one, else with the PoW from
``/v1/pow_params`` (RIPEMD-256, solved in a thread) — go-spacemesh ``activation/poet.go``
``authorize``. Proofs are streamed (:mod:`appliance.node.poet_stream`: mainnet rounds hold millions
of members) and checked: the server key must be the pinned one and our challenge must be a member —
otherwise the reply is a :class:`~appliance.node.http.RemoteProtocolError`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass

import aiohttp

from appliance.node import poet_pow, signing
from appliance.node.http import (
    RemoteProtocolError,
    RemoteUnavailable,
    b64,
    b64_field,
    field,
    parse_duration,
    parse_json_object,
    raise_for_status,
    request,
    uint_field,
)
from appliance.node.identity import Identity
from appliance.node.poet_stream import read_proof
from appliance.node.wire import PoetProof

# A mainnet round holds about one member per identity (~47 bytes of JSON each); 2^25 members is
# many times today's network and still only ~1.6 GB of reply, which is streamed, never held.
MAX_MEMBERS = 1 << 25
MAX_PROOF_BYTES = 2 << 30
INFO_CACHE_TTL = 300.0  # config/mainnet.go POET.InfoCacheTTL: 5 min
MAX_POW_DIFFICULTY = 40  # bits; more would take the board days: treat as a hostile server


class MemberMissingError(RemoteProtocolError):
    """The PoET's proof does not contain our challenge."""


@dataclass(frozen=True)
class PoetInfo:
    service_pubkey: bytes
    phase_shift: float
    cycle_gap: float
    certifier_url: str | None = None
    certifier_pubkey: bytes | None = None


@dataclass(frozen=True)
class Registration:
    round_id: str
    round_end: float  # unix seconds (the server answers with a duration; we anchor it to our clock)


@dataclass(frozen=True)
class Certificate:
    """A certifier's ``OpaqueCert`` (poet ``shared/cert.go``): SCALE ``CertOnWire`` and its signature."""

    data: bytes
    signature: bytes


@dataclass(frozen=True)
class FetchedProof:
    round_id: str
    proof: PoetProof
    leaves: int
    service_pubkey: bytes
    statement: bytes  # the membership root, computed while streaming
    leaf_index: int | None  # of our challenge, when one was asked for
    nodes: tuple[bytes, ...]  # its membership proof
    member_count: int

    def membership(self, challenge_hash: bytes) -> tuple[int, list[bytes]]:
        if self.leaf_index is None:
            raise MemberMissingError("", "our challenge is not among the round's members")
        return self.leaf_index, list(self.nodes)


class PoetClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        service_pubkey: bytes | None = None,
        timeout: float = 10.0,
        proof_timeout: float = 900.0,
    ) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.service_pubkey = service_pubkey
        self.timeout = timeout
        self.proof_timeout = proof_timeout
        self._info: tuple[float, PoetInfo] | None = None

    async def cached_info(self, ttl: float = INFO_CACHE_TTL) -> PoetInfo:
        """``/v1/info`` at most every ``ttl`` seconds (go-spacemesh ``PoetConfig.InfoCacheTTL``)."""
        if self._info is None or time.monotonic() - self._info[0] > ttl:
            self._info = (time.monotonic(), await self.info())
        return self._info[1]

    async def info(self) -> PoetInfo:
        url = f"{self.url}/v1/info"
        _, body = await request(self.session, "GET", url, timeout=self.timeout, max_bytes=64 << 10)
        obj = parse_json_object(url, body)
        pubkey = b64_field(url, obj, "servicePubkey", 32)
        self._check_pubkey(url, pubkey)
        cert = obj.get("certifier")
        info = PoetInfo(
            pubkey,
            parse_duration(url, obj.get("phaseShift"), "phaseShift"),
            parse_duration(url, obj.get("cycleGap"), "cycleGap"),
        )
        if isinstance(cert, dict):
            info = PoetInfo(
                info.service_pubkey,
                info.phase_shift,
                info.cycle_gap,
                field(url, cert, "url", str),
                b64_field(url, cert, "pubkey", 32),
            )
        return info

    async def pow_params(self) -> tuple[bytes, int]:
        url = f"{self.url}/v1/pow_params"
        _, body = await request(self.session, "GET", url, timeout=self.timeout, max_bytes=64 << 10)
        params = field(url, parse_json_object(url, body), "powParams", dict)
        difficulty = uint_field(url, params, "difficulty", 255)
        if difficulty > MAX_POW_DIFFICULTY:
            raise RemoteProtocolError(url, f"PoW difficulty {difficulty} is unreasonable")
        return b64_field(url, params, "challenge", max_size=64), difficulty

    async def submit(
        self,
        identity: Identity,
        genesis_id: bytes,
        challenge_hash: bytes,
        deadline: float,
        now: float,
        certificate: Certificate | None = None,
    ) -> Registration:
        """Registers ``challenge_hash``; idempotent at the PoET for the same challenge. With a
        ``certificate`` no PoW is done (``SubmitRequest.certificate``); without, the PoW is."""
        signature = signing.sign(identity, genesis_id, signing.Domain.POET, challenge_hash)
        body: dict = {}
        if certificate is not None:
            body["certificate"] = {"data": b64(certificate.data), "signature": b64(certificate.signature)}
        else:
            pow_challenge, difficulty = await self.pow_params()
            nonce = await asyncio.to_thread(
                poet_pow.find_pow_nonce, pow_challenge, identity.node_id, challenge_hash, difficulty
            )
            body["nonce"] = str(nonce)
            body["powParams"] = {"challenge": b64(pow_challenge), "difficulty": difficulty}
        body |= {
            "prefix": b64(genesis_id + bytes([signing.Domain.POET])),
            "challenge": b64(challenge_hash),
            "pubkey": b64(identity.node_id),
            "signature": b64(signature),
            "deadline": dt.datetime.fromtimestamp(deadline, dt.UTC).isoformat().replace("+00:00", "Z"),
        }
        url = f"{self.url}/v1/submit"
        _, reply = await request(
            self.session, "POST", url, json_body=body, timeout=self.timeout, max_bytes=64 << 10
        )
        obj = parse_json_object(url, reply)
        round_id = field(url, obj, "roundId", str)
        if not round_id.isdigit() or len(round_id) > 20:
            raise RemoteProtocolError(url, "roundId is not a round number")
        return Registration(round_id, now + parse_duration(url, obj.get("roundEnd"), "roundEnd"))

    async def proof(self, round_id: str, challenge_hash: bytes | None = None) -> FetchedProof | None:
        """The round's proof, or None while it is not ready (404); streamed, see ``poet_stream``."""
        url = f"{self.url}/v1/proofs/{round_id}"
        try:
            async with asyncio.timeout(self.proof_timeout):
                async with self.session.get(url, allow_redirects=False) as resp:
                    if resp.status == 404:
                        return None
                    if resp.status != 200:
                        raise_for_status(url, resp.status, await resp.content.read(64 << 10))
                    if resp.content_length is not None and resp.content_length > MAX_PROOF_BYTES:
                        raise RemoteProtocolError(url, f"reply of {resp.content_length} bytes is too large")
                    streamed = await read_proof(
                        url, resp.content, challenge_hash, MAX_PROOF_BYTES, MAX_MEMBERS
                    )
        except TimeoutError as exc:
            raise RemoteUnavailable(url, f"proof not read within {self.proof_timeout:g} s") from exc
        except aiohttp.ClientError as exc:
            raise RemoteUnavailable(url, f"connection failed: {exc.__class__.__name__}") from exc
        assert streamed.pubkey is not None and streamed.leaves is not None
        self._check_pubkey(url, streamed.pubkey)
        if challenge_hash is not None and streamed.leaf_index is None:
            raise MemberMissingError(url, "our challenge is not among the round's members")
        proof = PoetProof(
            streamed.root, tuple(streamed.proven_leaves), tuple(streamed.proof_nodes), streamed.leaves
        )
        return FetchedProof(
            round_id,
            proof,
            streamed.leaves,
            streamed.pubkey,
            streamed.statement,
            streamed.leaf_index,
            tuple(streamed.nodes),
            streamed.member_count,
        )

    def _check_pubkey(self, url: str, pubkey: bytes) -> None:
        if self.service_pubkey is not None and pubkey != self.service_pubkey:
            raise RemoteProtocolError(url, "PoET answered with another service key than the pinned one")
