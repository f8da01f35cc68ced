"""The devnet gateway: a fake full node that validates what the light node publishes like a node would.

ATXs (``POST /publish/ax1``) are decoded and checked as go-spacemesh ``activation/handler_v1.go``
does: id, signature with the GenesisID prefix, publish epoch, positioning ATX, the initial/non-initial
rules, the chain (previous ATX and sequence), the referenced PoET proof (stored earlier with
``POST /poet``) and our membership in it, the PoST proof with the real verifier, the VRF nonce, and
the grading window. A second ATX for the same publish epoch is recorded as malfeasance (409).
Proposals (``POST /publish/pp1``) are checked for signatures, the ATX they ride on, and VRF
eligibility of every claimed slot; two different proposals for one layer are malfeasance too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from appliance.devnet._web import Reject as _Reject
from appliance.devnet._web import fault_middleware, json_handler
from appliance.devnet.faults import GatewayFaults
from appliance.devnet.rewards import LayerLedger
from appliance.node import ecvrf, eligibility, merkle
from appliance.node.clock import LayerClock, TimeSource
from appliance.node.scale import ScaleError
from appliance.node.wire import EMPTY_ID, ActivationTxV1, PoetProofMessage, Proposal, VrfMessage, blake

MAX_BODY = 1 << 20

PostVerifier = Callable[..., None]


@dataclass
class GatewaySettings:
    genesis_id: bytes
    golden_atx: bytes
    poet_pubkeys: tuple[bytes, ...]
    labels_per_unit: int
    scrypt_n: int
    k1: int
    k2: int
    pow_difficulty: bytes
    min_num_units: int = 1
    tick_size: int = 1
    layer_avg_size: int = 50
    min_active_set_weight: int = 1


@dataclass
class AtxRecord:
    atx: ActivationTxV1
    received_at: float
    grade: str
    num_units: int  # effective
    ticks: int
    vrf_nonce: int
    gossip_count: int = 1  # times it arrived; nodes regossip until the target epoch
    last_received_at: float = 0.0  # the latest of those arrivals

    @property
    def weight(self) -> int:
        return self.num_units * self.ticks


@dataclass
class Malfeasance:
    smesher_id: bytes
    kind: str  # "double-atx" | "double-proposal"
    detail: str


@dataclass
class GatewayState:
    atxs: dict[bytes, AtxRecord] = field(default_factory=dict)
    by_smesher: dict[bytes, list[bytes]] = field(default_factory=dict)
    poet_proofs: dict[bytes, PoetProofMessage] = field(default_factory=dict)
    proposals: dict[tuple[bytes, int], Proposal] = field(default_factory=dict)
    malfeasance: list[Malfeasance] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


class DevnetGateway:
    def __init__(
        self,
        clock: LayerClock,
        time: TimeSource,
        settings: GatewaySettings,
        post_verifier: PostVerifier | None = None,
    ) -> None:
        self.clock = clock
        self.time = time
        self.settings = settings
        self.state = GatewayState()
        self.faults = GatewayFaults()
        self._verify_post = post_verifier or _real_post_verifier
        self.admin_hooks: dict[str, Callable[[Any], Awaitable[Any]]] = {}
        self.ledger = LayerLedger(clock.config.layers_per_epoch)  # rewards by the network's formula

    # ---- HTTP
    def app(self) -> web.Application:
        app = web.Application(
            client_max_size=MAX_BODY, middlewares=[fault_middleware(self.faults, lambda m: {"error": m})]
        )
        r = app.router
        r.add_get("/v1/clock", self._wrap(self._clock))
        r.add_get("/activation/positioning_atx/{epoch}", self._wrap(self._positioning))
        r.add_get("/activation/last_atx/{node_id}", self._wrap(self._last_atx))
        r.add_get("/activation/atx/{atx_id}", self._wrap(self._atx))
        r.add_post("/poet", self._wrap(self._store_poet))
        r.add_post("/publish/ax1", self._wrap(self._publish_atx))
        r.add_post("/publish/pp1", self._wrap(self._publish_proposal))
        r.add_get("/epoch/{epoch}", self._wrap(self._epoch))
        r.add_get("/proposal/template/{layer}/{node_id}", self._wrap(self._template))
        r.add_post("/admin/{what}", self._admin)
        r.add_get("/admin/report", self._wrap(self._report))
        r.add_get("/rewards/{node_id}", self._wrap(self._rewards))
        return app

    def _wrap(self, fn):
        def remember(exc: _Reject) -> None:
            if exc.status == 400:
                self.state.rejected.append(exc.message)

        return json_handler(fn, lambda exc: {"error": exc.message}, remember)

    async def _admin(self, request: web.Request) -> web.Response:
        hook = self.admin_hooks.get(request.match_info["what"])
        if hook is None:
            return web.json_response({"error": "unknown admin action"}, status=404)
        try:
            body = json.loads(await request.read() or b"{}")
            return web.json_response(await hook(body) or {})
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    async def _report(self, request: web.Request) -> dict[str, Any]:
        return self.report()

    def report(self) -> dict[str, Any]:
        return {
            "atxs": [
                {
                    "atx_id": i.hex(),
                    "smesher_id": r.atx.smesher_id.hex(),
                    "publish_epoch": r.atx.publish_epoch,
                    "grade": r.grade,
                    "weight": r.weight,
                    "received_at": r.received_at,
                    "gossip_count": r.gossip_count,
                    "last_received_at": r.last_received_at or r.received_at,
                }
                for i, r in self.state.atxs.items()
            ],
            "proposals": [{"smesher_id": s.hex(), "layer": layer} for (s, layer) in self.state.proposals],
            "malfeasance": [
                {"smesher_id": m.smesher_id.hex(), "kind": m.kind, "detail": m.detail}
                for m in self.state.malfeasance
            ],
            "rejected": self.state.rejected[-50:],
        }

    async def _clock(self, request: web.Request) -> dict[str, Any]:
        cfg = self.clock.config
        return {
            "genesis": cfg.genesis,
            "layer_duration": cfg.layer_duration,
            "layers_per_epoch": cfg.layers_per_epoch,
            "current_layer": self.clock.layer_at(self.time.now()),
        }

    def _info(self, rec: AtxRecord) -> dict[str, Any]:
        ch = rec.atx.inner.challenge
        return {
            "atx_id": rec.atx.id().hex(),
            "publish_epoch": ch.publish_epoch,
            "smesher_id": rec.atx.smesher_id.hex(),
            "sequence": ch.sequence,
            "num_units": rec.num_units,
            "grade": rec.grade,
            "received_at": rec.received_at,
            "weight": rec.weight,
        }

    async def _positioning(self, request: web.Request) -> dict[str, Any]:
        epoch = _int(request.match_info["epoch"])
        best = None
        for rec in self.state.atxs.values():
            if rec.atx.publish_epoch < epoch and (
                best is None or rec.atx.publish_epoch > best.atx.publish_epoch
            ):
                best = rec
        return {"atx_id": (best.atx.id() if best else self.settings.golden_atx).hex()}

    async def _last_atx(self, request: web.Request) -> dict[str, Any]:
        ids = self.state.by_smesher.get(_hex(request.match_info["node_id"], 32), [])
        if not ids:
            raise _Reject(404, "no ATX for this identity")
        return self._info(self.state.atxs[ids[-1]])

    async def _atx(self, request: web.Request) -> dict[str, Any]:
        rec = self.state.atxs.get(_hex(request.match_info["atx_id"], 32))
        if rec is None:
            raise _Reject(404, "unknown ATX")
        return self._info(rec)

    async def _store_poet(self, request: web.Request) -> dict[str, Any]:
        try:
            msg = PoetProofMessage.from_bytes(await request.read())
        except ScaleError as exc:
            raise _Reject(400, f"malformed PoetProofMessage: {exc}") from None
        if msg.poet_service_id not in self.settings.poet_pubkeys:
            raise _Reject(400, "PoET service id is not a known PoET")
        if not msg.round_id.isdigit():
            raise _Reject(400, "round id is not a number")
        ref = msg.proof.ref()
        self.state.poet_proofs[ref] = msg
        return {"ref": ref.hex()}

    # ---- ATX validation (activation/handler_v1.go)
    async def _publish_atx(self, request: web.Request) -> dict[str, Any]:
        received_at = self.time.now()
        try:
            atx = ActivationTxV1.from_bytes(await request.read())
        except (ScaleError, ValueError) as exc:
            raise _Reject(400, f"malformed ATX: {exc}") from None
        atx_id = atx.id()
        if not atx.verify_signature(self.settings.genesis_id):
            raise _Reject(400, "invalid ATX signature")
        if atx_id in self.state.atxs:  # republishing the same ATX is harmless
            known = self.state.atxs[atx_id]
            known.gossip_count += 1
            known.last_received_at = received_at
            return self._info(known)
        # two validly signed ATXs for one publish epoch (or one previous ATX) are a malfeasance proof,
        # whatever else is wrong with the second one
        same_epoch = [
            i
            for i in self.state.by_smesher.get(atx.smesher_id, [])
            if self.state.atxs[i].atx.publish_epoch == atx.publish_epoch
            or self.state.atxs[i].atx.inner.challenge.prev_atx == atx.inner.challenge.prev_atx
        ]
        if same_epoch:
            self.state.malfeasance.append(
                Malfeasance(
                    atx.smesher_id, "double-atx", f"publish epoch {atx.publish_epoch}: {atx_id.hex()}"
                )
            )
            raise _Reject(409, "malfeasance: a second ATX for the same publish epoch / previous ATX")
        rec = await asyncio.to_thread(self._validate_atx, atx, received_at)
        self.state.atxs[atx_id] = rec
        self.state.by_smesher.setdefault(atx.smesher_id, []).append(atx_id)
        return self._info(rec)

    def _validate_atx(self, atx: ActivationTxV1, received_at: float) -> AtxRecord:
        s = self.settings
        inner = atx.inner
        ch = inner.challenge
        if not atx.verify_signature(s.genesis_id):
            raise _Reject(400, "invalid ATX signature")
        current = self.clock.epoch_at(received_at)
        if ch.publish_epoch > current + 1:
            raise _Reject(400, f"publish epoch {ch.publish_epoch} is in the future (current {current})")
        if received_at >= self.clock.publish_deadline(ch.publish_epoch):
            raise _Reject(400, f"ATX for publish epoch {ch.publish_epoch} arrived after the epoch ended")
        if ch.positioning_atx != s.golden_atx:
            pos = self.state.atxs.get(ch.positioning_atx)
            if pos is None:
                raise _Reject(400, "unknown positioning ATX")
            if pos.atx.publish_epoch >= ch.publish_epoch:
                raise _Reject(400, "positioning ATX is not older than this ATX")
        if inner.num_units < s.min_num_units:
            raise _Reject(400, f"num units {inner.num_units} below the minimum {s.min_num_units}")
        if ch.is_initial:
            if not (ch.initial_post and ch.commitment_atx and inner.node_id and inner.vrf_nonce is not None):
                raise _Reject(400, "initial ATX lacks initial post, commitment ATX, node id or VRF nonce")
            if ch.sequence != 0 or inner.node_id != atx.smesher_id:
                raise _Reject(400, "initial ATX must have sequence 0 and node id = smesher id")
            if self.state.by_smesher.get(atx.smesher_id):
                raise _Reject(400, "initial ATX for an identity that already has ATXs")
            self._post_ok(
                ch.initial_post, EMPTY_ID, atx.smesher_id, ch.commitment_atx, inner.num_units, "initial"
            )
            commitment, vrf_nonce, num_units = ch.commitment_atx, inner.vrf_nonce, inner.num_units
            self._vrf_nonce_ok(atx.smesher_id, commitment, vrf_nonce, num_units)
        else:
            if ch.initial_post or ch.commitment_atx or inner.node_id:
                raise _Reject(400, "non-initial ATX carries initial-only fields")
            ids = self.state.by_smesher.get(atx.smesher_id, [])
            if not ids or ids[-1] != ch.prev_atx:
                raise _Reject(400, "previous ATX is not this identity's last ATX")
            prev = self.state.atxs[ch.prev_atx]
            if ch.sequence != prev.atx.inner.challenge.sequence + 1:
                raise _Reject(400, "sequence does not follow the previous ATX")
            first = self.state.atxs[ids[0]].atx
            commitment = first.inner.challenge.commitment_atx
            vrf_nonce = prev.vrf_nonce
            if inner.vrf_nonce is not None:
                self._vrf_nonce_ok(atx.smesher_id, commitment, inner.vrf_nonce, inner.num_units)
                vrf_nonce = inner.vrf_nonce
            num_units = min(prev.atx.inner.num_units, inner.num_units)
        nipost = inner.nipost
        if nipost is None or nipost.post is None or nipost.post_metadata is None:
            raise _Reject(400, "ATX has no NIPoST")
        if nipost.post_metadata.labels_per_unit != s.labels_per_unit:
            raise _Reject(400, "labels per unit differ from the network's")
        ref = nipost.post_metadata.challenge
        poet = self.state.poet_proofs.get(ref)
        if poet is None:
            raise _Reject(400, "referenced PoET proof is unknown (POST /poet first)")
        if not merkle.verify(
            ch.hash(), nipost.membership.leaf_index, nipost.membership.nodes, poet.statement
        ):
            raise _Reject(400, "NIPoST membership proof does not prove our challenge in the PoET statement")
        self._post_ok(nipost.post, ref, atx.smesher_id, commitment, inner.num_units, "NIPoST")
        return AtxRecord(
            atx,
            received_at,
            self.clock.grade(ch.publish_epoch, received_at),
            num_units,
            poet.proof.leaf_count // s.tick_size,
            vrf_nonce,
        )

    def _post_ok(
        self, post, challenge: bytes, node_id: bytes, commitment: bytes, num_units: int, what: str
    ) -> None:
        s = self.settings
        try:
            self._verify_post(
                post,
                node_id=node_id,
                commitment_atx_id=commitment,
                challenge=challenge,
                num_units=num_units,
                labels_per_unit=s.labels_per_unit,
                scrypt_n=s.scrypt_n,
                k1=s.k1,
                k2=s.k2,
                pow_difficulty=s.pow_difficulty,
                min_num_units=s.min_num_units,
            )
        except ValueError as exc:
            raise _Reject(400, f"invalid {what} PoST proof: {exc}") from None

    def _vrf_nonce_ok(self, node_id: bytes, commitment: bytes, nonce: int, num_units: int) -> None:
        from appliance.post.verifier import VerifyError, verify_vrf_nonce

        try:
            verify_vrf_nonce(
                node_id, commitment, nonce, num_units * self.settings.labels_per_unit, self.settings.scrypt_n
            )
        except VerifyError as exc:
            raise _Reject(400, f"invalid VRF nonce: {exc}") from None

    async def _rewards(self, request: web.Request) -> dict[str, Any]:
        node_id = _hex(request.match_info["node_id"], 32)
        self.ledger.settle(self.state.proposals, self.state.atxs, self.clock.layer_at(self.time.now()))
        return {"rewards": [{"layer": r.layer, "coinbase": r.coinbase.hex(), "total_reward": r.total_reward,
                             "layer_reward": r.layer_reward} for r in self.ledger.of(node_id)]}

    # ---- epochs and proposals
    def beacon(self, epoch: int) -> bytes:
        return blake(b"devnet-beacon" + self.settings.genesis_id + epoch.to_bytes(4, "little"))[:4]

    def active_set(self, epoch: int) -> list[AtxRecord]:
        """ATXs targeting ``epoch`` with a good grade (honest active set)."""
        return [r for r in self.state.atxs.values() if r.atx.publish_epoch == epoch - 1 and r.grade == "good"]

    async def _epoch(self, request: web.Request) -> dict[str, Any]:
        epoch = _int(request.match_info["epoch"])
        if self.time.now() < self.clock.epoch_start(epoch) - 4 * self.clock.config.network_delay:
            raise _Reject(404, "epoch info not final yet")
        active = self.active_set(epoch)
        ids = sorted(r.atx.id() for r in active)
        return {
            "beacon": self.beacon(epoch).hex(),
            "total_weight": sum(r.weight for r in active),
            "active_set_hash": blake(b"".join(ids)).hex(),
        }

    async def _template(self, request: web.Request) -> dict[str, Any]:
        layer = _int(request.match_info["layer"])
        _hex(request.match_info["node_id"], 32)
        return {
            "opinion_hash": blake(b"devnet-opinion" + layer.to_bytes(4, "little")).hex(),
            "mesh_hash": blake(b"devnet-mesh" + layer.to_bytes(4, "little")).hex(),
            "base_ballot": bytes(20).hex(),
            "tx_ids": [],
        }

    async def _publish_proposal(self, request: web.Request) -> dict[str, Any]:
        now = self.time.now()
        try:
            proposal = Proposal.from_bytes(await request.read())
        except (ScaleError, ValueError) as exc:
            raise _Reject(400, f"malformed proposal: {exc}") from None
        ballot = proposal.ballot
        key = (ballot.smesher_id, ballot.inner.layer)
        seen = self.state.proposals.get(key)
        if seen is not None and seen.to_bytes() == proposal.to_bytes():
            return {"proposal_id": proposal.id().hex()}
        await asyncio.to_thread(self._validate_proposal, proposal, now)
        if seen is not None:
            self.state.malfeasance.append(
                Malfeasance(ballot.smesher_id, "double-proposal", f"layer {key[1]}")
            )
            raise _Reject(409, "malfeasance: a second, different proposal for this layer")
        self.state.proposals[key] = proposal
        return {"proposal_id": proposal.id().hex()}

    def _validate_proposal(self, proposal: Proposal, now: float) -> None:
        from appliance.node.wire import verify_proposal

        ballot = proposal.ballot
        layer = ballot.inner.layer
        lpe = self.clock.config.layers_per_epoch
        epoch = layer // lpe
        if not verify_proposal(proposal, self.settings.genesis_id):
            raise _Reject(400, "invalid ballot or proposal signature")
        if (
            not self.clock.layer_start(layer) - self.clock.config.layer_duration
            <= now
            < self.clock.layer_start(layer + 1)
        ):
            raise _Reject(400, f"proposal for layer {layer} is not timely")
        rec = self.state.atxs.get(ballot.inner.atx_id)
        if rec is None or rec.atx.smesher_id != ballot.smesher_id or rec.atx.publish_epoch != epoch - 1:
            raise _Reject(400, "ballot's ATX is unknown, another identity's, or for another epoch")
        if rec not in self.active_set(epoch):
            raise _Reject(400, "ballot's ATX is not in the active set (grade)")
        total = sum(r.weight for r in self.active_set(epoch))
        slots = eligibility.num_slots(
            rec.weight, self.settings.min_active_set_weight, total, self.settings.layer_avg_size, lpe
        )
        data = ballot.inner.epoch_data
        if data is None or data.beacon != self.beacon(epoch) or data.eligibility_count != slots:
            raise _Reject(400, "ballot lacks epoch data with the right beacon and eligibility count")
        if not ballot.eligibility_proofs:
            raise _Reject(400, "ballot has no eligibility proofs")
        for proof in ballot.eligibility_proofs:
            if proof.j >= slots:
                raise _Reject(400, f"eligibility counter {proof.j} >= slots {slots}")
            msg = VrfMessage(self.beacon(epoch), epoch, rec.vrf_nonce, proof.j).to_bytes()
            if not ecvrf.verify(ballot.smesher_id, proof.sig, msg):
                raise _Reject(400, f"invalid VRF proof for counter {proof.j}")
            if eligibility.layer_of(proof.sig, epoch, lpe) != layer:
                raise _Reject(400, f"counter {proof.j} is not eligible in layer {layer}")


def _real_post_verifier(post, *, k1: int, k2: int, pow_difficulty: bytes, **kwargs: Any) -> None:
    from appliance.post.proof import Proof, ProofConfig
    from appliance.post.verifier import verify_proof

    verify_proof(
        Proof(post.nonce, post.indices, post.pow), config=ProofConfig(k1, k2, pow_difficulty), **kwargs
    )


def _int(text: str) -> int:
    if not text.isdigit() or len(text) > 10:
        raise _Reject(400, "expected a number")
    return int(text)


def _hex(text: str, size: int) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise _Reject(400, "expected hex") from None
    if len(raw) != size:
        raise _Reject(400, f"expected {size} bytes")
    return raw
