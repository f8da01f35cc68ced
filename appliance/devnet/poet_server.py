"""A PoET server for the devnet with the real HTTP/JSON shapes (poet ``rpc/api/v1`` via grpc-gateway).

Round arithmetic is poet's ``server/config.go`` over the devnet clock; ``/v1/submit`` checks the
ed25519 signature over ``prefix ‖ challenge``, the RIPEMD-256 PoW or a certifier's certificate, the
deadline (400, too late), conflicts (409) and capacity (429); the proof of a finished round commits
to the real membership tree of its members (blake3, 0x01 node prefix). The proof of sequential work
itself is *simulated*: ``leaves`` grows with the round length and the PoSW root is a hash of the
statement — no node here verifies PoSW (the gateway checks membership and the reference instead).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from typing import Any

import blake3
import nacl.signing
from aiohttp import web

from appliance.devnet import gowire
from appliance.devnet._web import Reject as _Reject
from appliance.devnet._web import fault_middleware, json_handler
from appliance.devnet.faults import PoetFaults
from appliance.node import poet_pow, signing
from appliance.node.clock import LayerClock, TimeSource
from appliance.node.http import format_duration

MAX_BODY = 64 << 10
_GRPC_CODES = {400: 3, 401: 16, 404: 5, 409: 6, 429: 8}  # grpc-gateway puts the gRPC code in the body


@dataclass
class Round:
    round_id: int
    members: dict[bytes, bytes] = field(default_factory=dict)  # node_id -> challenge hash


@dataclass
class PoetSettings:
    pow_difficulty: int = 4
    max_members: int = 1024
    leaves_per_second: int = 1000
    certifier_pubkey: bytes | None = None
    certifier_url: str | None = None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(obj: dict[str, Any], name: str, size: int | None = None, max_size: int = 64) -> bytes:
    value = obj.get(name)
    if not isinstance(value, str) or len(value) > 4 * max_size:
        raise _Reject(400, f"{name}: expected base64 bytes")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Reject(400, f"{name}: invalid base64") from None
    if size is not None and len(raw) != size:
        raise _Reject(400, f"{name}: expected {size} bytes")
    return raw


class DevnetPoet:
    def __init__(self, clock: LayerClock, time: TimeSource, settings: PoetSettings | None = None) -> None:
        self.clock = clock
        self.time = time
        self.settings = settings or PoetSettings()
        self.key = nacl.signing.SigningKey.generate()
        self.pow_challenge = os.urandom(32)
        self.rounds: dict[int, Round] = {}
        self.faults = PoetFaults()
        self.submissions = 0

    @property
    def pubkey(self) -> bytes:
        return bytes(self.key.verify_key)

    def app(self) -> web.Application:
        app = web.Application(
            client_max_size=MAX_BODY,
            middlewares=[fault_middleware(self.faults, lambda m: {"code": 14, "message": m})],
        )
        app.router.add_get("/v1/info", self._wrap(self._info))
        app.router.add_get("/v1/pow_params", self._wrap(self._pow_params))
        app.router.add_post("/v1/submit", self._wrap(self._submit))
        app.router.add_get("/v1/proofs/{round_id}", self._wrap(self._proof))
        return app

    def _wrap(self, fn):
        inner = json_handler(fn, lambda exc: {"code": _GRPC_CODES.get(exc.status, 2), "message": exc.message})

        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                return await inner(request)
            except _HostileReply:  # a 200 whose body is wrongly typed and then simply stops
                resp = web.StreamResponse()
                await resp.prepare(request)
                await resp.write(b'{"proof": {"members": [12345, "')
                return resp

        return handler

    async def _info(self, request: web.Request) -> dict[str, Any]:
        cfg = self.clock.config
        info: dict[str, Any] = {
            "servicePubkey": _b64(self.pubkey),
            "phaseShift": format_duration(cfg.phase_shift),
            "cycleGap": format_duration(cfg.cycle_gap),
        }
        if self.settings.certifier_pubkey is not None:
            info["certifier"] = {
                "url": self.settings.certifier_url or "",
                "pubkey": _b64(self.settings.certifier_pubkey),
            }
        return info

    async def _pow_params(self, request: web.Request) -> dict[str, Any]:
        return {
            "powParams": {"difficulty": self.settings.pow_difficulty, "challenge": _b64(self.pow_challenge)}
        }

    async def _submit(self, request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            raise _Reject(400, "body is not JSON") from None
        if not isinstance(body, dict):
            raise _Reject(400, "body must be an object")
        prefix = _unb64(body, "prefix", max_size=64)
        challenge = _unb64(body, "challenge", 32)
        pubkey = _unb64(body, "pubkey", 32)
        signature = _unb64(body, "signature", 64)
        if not signing.verify_raw(pubkey, prefix + challenge, signature):
            raise _Reject(400, "invalid signature")
        if "certificate" in body:
            self._check_certificate(body, pubkey)
        else:
            self._check_pow(body, pubkey, challenge)
        deadline = _parse_time(body.get("deadline"))
        now = self.time.now()
        round_id = max(0, self.clock.open_round_id(now))  # poet has no rounds before genesis
        end = self.clock.round_end_by_id(round_id)
        if end > deadline:
            raise _Reject(400, f"too late to register: round {round_id} ends after the deadline")
        rnd = self.rounds.setdefault(round_id, Round(round_id))
        existing = rnd.members.get(pubkey)
        if existing is not None and existing != challenge:
            raise _Reject(409, "a different challenge is already registered for this node in this round")
        if existing is None:
            if len(rnd.members) >= self.settings.max_members:
                raise _Reject(429, "round is full")
            rnd.members[pubkey] = challenge
        self.submissions += 1
        return {"roundId": str(round_id), "roundEnd": format_duration(max(0.0, end - now))}

    def _check_pow(self, body: dict[str, Any], pubkey: bytes, challenge: bytes) -> None:
        params = body.get("powParams")
        if not isinstance(params, dict) or _unb64(params, "challenge") != self.pow_challenge:
            raise _Reject(400, "PoW params do not match the current ones")
        if params.get("difficulty") != self.settings.pow_difficulty:
            raise _Reject(400, "PoW difficulty does not match")
        nonce = body.get("nonce")
        if isinstance(nonce, str) and nonce.isdigit() and len(nonce) <= 20:
            nonce = int(nonce)
        if not isinstance(nonce, int) or isinstance(nonce, bool):
            raise _Reject(400, "nonce must be an unsigned integer")
        difficulty = self.settings.pow_difficulty
        if not poet_pow.verify_pow(self.pow_challenge, pubkey, challenge, nonce, difficulty):
            raise _Reject(400, "invalid proof of work")

    def _check_certificate(self, body: dict[str, Any], pubkey: bytes) -> None:
        cert = body.get("certificate")
        if self.settings.certifier_pubkey is None or not isinstance(cert, dict):
            raise _Reject(401, "certificates are not accepted here")
        data = _unb64(cert, "data", max_size=128)
        sig = _unb64(cert, "signature", 64)
        if not signing.verify_raw(self.settings.certifier_pubkey, data, sig):
            raise _Reject(401, "invalid certificate signature")
        try:
            cert_pubkey, expiration = gowire.decode_certificate(data)
        except gowire.WireError:
            raise _Reject(401, "malformed certificate") from None
        if cert_pubkey != pubkey:
            raise _Reject(401, "certificate is for another identity")
        if expiration is not None and expiration < self.time.now():
            raise _Reject(401, "certificate expired")

    async def _proof(self, request: web.Request) -> dict[str, Any]:
        text = request.match_info["round_id"]
        if not text.isdigit() or len(text) > 20:
            raise _Reject(400, "round id must be a number")
        rnd = self.rounds.get(int(text))
        if rnd is None or not rnd.members:
            raise _Reject(404, "round not found")
        end = self.clock.round_end_by_id(rnd.round_id)
        if self.time.now() < end + self.faults.late_proof:
            raise _Reject(404, "proof not ready")
        if self.faults.hostile_proof:
            raise _HostileReply()
        missing = {bytes.fromhex(x) for x in self.faults.missing_members if _is_hex(x)}
        # a stand-in for the other smeshers of a real round, so proofs are never trivially one leaf
        others = [blake3.blake3(b"devnet-member" + rnd.round_id.to_bytes(8, "little")).digest()]
        members = sorted([*others, *(c for node, c in rnd.members.items() if node not in missing)])
        statement = gowire.tree_root(members)
        duration = end - self.clock.round_start_by_id(rnd.round_id)
        leaves = max(1, int(duration * self.settings.leaves_per_second))
        posw_root = blake3.blake3(b"devnet-posw" + statement + leaves.to_bytes(8, "little")).digest()
        proven = [blake3.blake3(posw_root + bytes([i])).digest() for i in range(3)]
        nodes = [blake3.blake3(statement + bytes([i])).digest() for i in range(5)]
        return {
            "proof": {
                "proof": {
                    "root": _b64(posw_root),
                    "provenLeaves": [_b64(x) for x in proven],
                    "proofNodes": [_b64(x) for x in nodes],
                },
                "members": [_b64(m) for m in members],
                "leaves": str(leaves),
            },
            "pubkey": _b64(self.pubkey),
        }


class _HostileReply(Exception):
    """Raised by a handler to send the ``hostile_proof`` fault's broken reply."""


def encode_certificate(pubkey: bytes, expiration: int | None) -> bytes:
    return gowire.encode_certificate(pubkey, expiration)


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def _parse_time(value: Any) -> float:
    if not isinstance(value, str) or len(value) > 40:
        raise _Reject(400, "deadline must be an RFC 3339 timestamp")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Reject(400, "deadline must be an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise _Reject(400, "deadline needs a time zone")
    return parsed.timestamp()
