"""Client of the gateway: the full node that syncs, gossips and keeps the mesh for the light node.

The API follows go-spacemesh's node-split "Node Service" (node.md §4.2): positioning/last ATX,
ATX lookup with its grade, ``POST /poet`` (PoetProofMessage), ``POST /publish/{ax1,pp1}`` (raw
SCALE), epoch info (beacon, total weight) and proposal templates (votes, mesh hash, txs).
Ids travel as hex, message bodies as SCALE; replies are bounded and decoded strictly.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from appliance.node.http import RemoteProtocolError, field, hex_field, parse_json_object, request, uint_field
from appliance.node.wire import (
    HASH20_SIZE,
    HASH_SIZE,
    MAX_VOTES,
    ActivationTxV1,
    ActivationTxV2,
    PoetProofMessage,
    Proposal,
    Vote,
    Votes,
)

MAX_REPLY = 256 << 10
MAX_TEMPLATE_REPLY = 4 << 20  # up to 3 x 10,000 votes (ballot.go Votes `scale:"max=10000"`)
MAX_TXS = 1000


@dataclass(frozen=True)
class AtxInfo:
    atx_id: bytes
    publish_epoch: int
    smesher_id: bytes
    sequence: int
    num_units: int
    grade: str
    received_at: float


@dataclass(frozen=True)
class EpochInfo:
    epoch: int
    beacon: bytes
    total_weight: int
    active_set_hash: bytes


@dataclass(frozen=True)
class ProposalTemplate:
    layer: int
    opinion_hash: bytes
    mesh_hash: bytes
    votes: Votes  # the tortoise's diff against its base ballot; the opinion hash is computed from it
    tx_ids: tuple[bytes, ...]


class GatewayClient:
    def __init__(self, session: aiohttp.ClientSession, url: str, timeout: float = 10.0) -> None:
        self.session = session
        self.url = url.rstrip("/")
        self.timeout = timeout

    async def _get(self, path: str, allow_404: bool = False, max_bytes: int = MAX_REPLY) -> dict | None:
        url = f"{self.url}{path}"
        status, body = await request(
            self.session,
            "GET",
            url,
            timeout=self.timeout,
            max_bytes=max_bytes,
            ok_statuses=(200, 404) if allow_404 else (200,),
        )
        if status == 404:
            return None
        return parse_json_object(url, body)

    async def _post(self, path: str, data: bytes) -> dict:
        url = f"{self.url}{path}"
        _, body = await request(
            self.session, "POST", url, data=data, timeout=self.timeout, max_bytes=MAX_REPLY
        )
        return parse_json_object(url, body)

    async def positioning_atx(self, publish_epoch: int) -> bytes:
        obj = await self._get(f"/activation/positioning_atx/{publish_epoch}")
        return hex_field(self.url, obj, "atx_id", HASH_SIZE)

    async def atx(self, atx_id: bytes) -> AtxInfo | None:
        obj = await self._get(f"/activation/atx/{atx_id.hex()}", allow_404=True)
        return None if obj is None else self._atx_info(obj)

    async def last_atx(self, node_id: bytes) -> AtxInfo | None:
        obj = await self._get(f"/activation/last_atx/{node_id.hex()}", allow_404=True)
        return None if obj is None else self._atx_info(obj)

    def _atx_info(self, obj: dict) -> AtxInfo:
        u = self.url
        grade = field(u, obj, "grade", str)
        if grade not in ("good", "acceptable", "evil"):
            raise RemoteProtocolError(u, f"unknown ATX grade {grade[:20]!r}")
        return AtxInfo(
            hex_field(u, obj, "atx_id", HASH_SIZE),
            uint_field(u, obj, "publish_epoch", (1 << 32) - 1),
            hex_field(u, obj, "smesher_id", HASH_SIZE),
            uint_field(u, obj, "sequence"),
            uint_field(u, obj, "num_units", (1 << 32) - 1),
            grade,
            float(field(u, obj, "received_at", (int, float))),
        )

    async def store_poet_proof(self, message: PoetProofMessage) -> bytes:
        obj = await self._post("/poet", message.to_bytes())
        return hex_field(self.url, obj, "ref", HASH_SIZE)

    async def publish_atx(self, atx: ActivationTxV1 | ActivationTxV2) -> AtxInfo:
        obj = await self._post("/publish/ax1", atx.to_bytes())
        info = self._atx_info(obj)
        if info.atx_id != atx.id():
            raise RemoteProtocolError(self.url, "gateway acknowledged another ATX id")
        return info

    async def epoch(self, epoch: int) -> EpochInfo | None:
        obj = await self._get(f"/epoch/{epoch}", allow_404=True)
        if obj is None:
            return None
        u = self.url
        return EpochInfo(
            epoch,
            hex_field(u, obj, "beacon", 4),
            uint_field(u, obj, "total_weight"),
            hex_field(u, obj, "active_set_hash", HASH_SIZE),
        )

    async def proposal_template(self, layer: int, node_id: bytes) -> ProposalTemplate:
        obj = await self._get(f"/proposal/template/{layer}/{node_id.hex()}", max_bytes=MAX_TEMPLATE_REPLY)
        u = self.url
        txs = field(u, obj, "tx_ids", list)
        if len(txs) > MAX_TXS:
            raise RemoteProtocolError(u, "too many transactions in the template")
        tx_ids = []
        for tx in txs:
            tx_ids.append(hex_field(u, {"tx": tx}, "tx", HASH_SIZE))
        return ProposalTemplate(
            layer,
            hex_field(u, obj, "opinion_hash", HASH_SIZE),
            hex_field(u, obj, "mesh_hash", HASH_SIZE),
            self._votes(field(u, obj, "votes", dict)),
            tuple(tx_ids),
        )

    def _votes(self, obj: dict) -> Votes:
        u = self.url

        def items(name: str) -> list:
            value = field(u, obj, name, list)
            if len(value) > MAX_VOTES:
                raise RemoteProtocolError(u, f"{len(value)} {name} votes exceed {MAX_VOTES}")
            return value

        def vote(item: object) -> Vote:
            return Vote(
                hex_field(u, item, "id", HASH20_SIZE),
                uint_field(u, item, "layer", (1 << 32) - 1),
                uint_field(u, item, "height"),
            )

        abstain = items("abstain")
        return Votes(
            hex_field(u, obj, "base", HASH20_SIZE),
            tuple(vote(v) for v in items("support")),
            tuple(vote(v) for v in items("against")),
            tuple(uint_field(u, {"layer": v}, "layer", (1 << 32) - 1) for v in abstain),
        )

    async def publish_proposal(self, proposal: Proposal) -> bytes:
        obj = await self._post("/publish/pp1", proposal.to_bytes())
        got = hex_field(self.url, obj, "proposal_id", HASH20_SIZE)
        if got != proposal.id():
            raise RemoteProtocolError(self.url, "gateway acknowledged another proposal id")
        return got
