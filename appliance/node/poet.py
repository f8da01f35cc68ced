"""Client of a PoET server's HTTP/JSON API (poet ``rpc/api/v1/api.proto`` via grpc-gateway).

Registration signs ``GenesisID ‖ 0x04 ‖ challengeHash`` and authorises with the PoW from
``/v1/pow_params`` (RIPEMD-256, solved in a thread). Proofs are decoded strictly and checked: the
server key must be the pinned one, the membership root must be the proof's statement, and our
challenge must be a member — otherwise the reply is a :class:`~appliance.node.http.RemoteProtocolError`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import aiohttp

from appliance.node import merkle, pow, signing
from appliance.node.http import (
    RemoteProtocolError,
    b64,
    b64_field,
    b64_value,
    field,
    parse_duration,
    parse_json_object,
    request,
    uint_field,
)
from appliance.node.identity import Identity
from appliance.node.wire import PoetProof

MAX_MEMBERS = 1 << 16
MAX_PROOF_BYTES = 8 << 20
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
class FetchedProof:
    round_id: str
    proof: PoetProof
    members: tuple[bytes, ...]
    leaves: int
    service_pubkey: bytes

    @property
    def statement(self) -> bytes:
        return merkle.root(self.members)

    def membership(self, challenge_hash: bytes) -> tuple[int, list[bytes]]:
        try:
            index = self.members.index(challenge_hash)
        except ValueError:
            raise MemberMissingError("", "our challenge is not among the round's members") from None
        return index, merkle.prove(self.members, index)


class PoetClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        service_pubkey: bytes | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.service_pubkey = service_pubkey
        self.timeout = timeout

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
        self, identity: Identity, genesis_id: bytes, challenge_hash: bytes, deadline: float, now: float
    ) -> Registration:
        """Registers ``challenge_hash``; idempotent at the PoET for the same challenge."""
        pow_challenge, difficulty = await self.pow_params()
        nonce = await asyncio.to_thread(
            pow.find_pow_nonce, pow_challenge, identity.node_id, challenge_hash, difficulty
        )
        signature = signing.sign(identity, genesis_id, signing.Domain.POET, challenge_hash)
        body = {
            "nonce": str(nonce),
            "powParams": {"challenge": b64(pow_challenge), "difficulty": difficulty},
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
        """The round's proof, or None while it is not ready (404)."""
        url = f"{self.url}/v1/proofs/{round_id}"
        status, body = await request(
            self.session, "GET", url, timeout=self.timeout, max_bytes=MAX_PROOF_BYTES, ok_statuses=(200, 404)
        )
        if status == 404:
            return None
        obj = parse_json_object(url, body)
        pubkey = b64_field(url, obj, "pubkey", 32)
        self._check_pubkey(url, pubkey)
        outer = field(url, obj, "proof", dict)
        inner = field(url, outer, "proof", dict)
        members = field(url, outer, "members", list)
        if not members or len(members) > MAX_MEMBERS:
            raise RemoteProtocolError(url, f"{len(members)} members is out of range")
        leaves_list = field(url, inner, "provenLeaves", list)
        nodes_list = field(url, inner, "proofNodes", list)
        if len(leaves_list) > 150 or len(nodes_list) > 5400:
            raise RemoteProtocolError(url, "proof has too many leaves or nodes")
        leaves = uint_field(url, outer, "leaves")
        proof = PoetProof(
            b64_field(url, inner, "root", 32),
            tuple(b64_value(url, x, "provenLeaves[]", 32) for x in leaves_list),
            tuple(b64_value(url, x, "proofNodes[]", 32) for x in nodes_list),
            leaves,
        )
        fetched = FetchedProof(
            round_id, proof, tuple(b64_value(url, m, "members[]", 32) for m in members), leaves, pubkey
        )
        if challenge_hash is not None and challenge_hash not in fetched.members:
            raise MemberMissingError(url, "our challenge is not among the round's members")
        return fetched

    def _check_pubkey(self, url: str, pubkey: bytes) -> None:
        if self.service_pubkey is not None and pubkey != self.service_pubkey:
            raise RemoteProtocolError(url, "PoET answered with another service key than the pinned one")
