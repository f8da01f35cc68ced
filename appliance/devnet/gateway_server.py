"""The devnet gateway: a fake full node that validates what the light node publishes like a node would.

It decodes with its own reading of the Go structs (:mod:`appliance.devnet.gowire`), never with the
light node's codec, so one mistake cannot pass both. ATXs (``POST /publish/ax1``) are decoded as v1
or v2 by publish epoch (``activation/handler.go`` ``determineVersion``) and checked as
``handler_v1.go`` / ``handler_v2.go`` do: id, signature with the GenesisID prefix, publish epoch,
positioning ATX, the initial/non-initial rules, the chain, the referenced PoET proof (stored earlier
with ``POST /poet``) and our membership in it, the PoST proof with the real verifier, the VRF nonce
(again whenever NumUnits grew), and the grading window. A second ATX for the same publish epoch is
recorded as malfeasance (409). Proposals (``POST /publish/pp1``) are checked for signatures, the
ATX they ride on, the reference-ballot rules, the opinion hash the tortoise recomputes from the
vote diff (:mod:`appliance.devnet.tortoise`) and the VRF eligibility of every claimed slot; two
different proposals for one layer are malfeasance too. Rules cite go-spacemesh @ cc65f271.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import nacl.exceptions
import nacl.signing
from aiohttp import web

from appliance.devnet import gowire, tortoise
from appliance.devnet._web import Reject as _Reject
from appliance.devnet._web import fault_middleware, json_handler
from appliance.devnet.faults import GatewayFaults
from appliance.devnet.gowire import GoAtxV1, GoAtxV2, GoBallot, GoPoetProofMessage, GoProposal, WireError, b3
from appliance.devnet.rewards import LayerLedger
from appliance.node import ecvrf
from appliance.node.clock import LayerClock, TimeSource

MAX_BODY = 1 << 20
EMPTY = bytes(32)
DOMAIN_ATX, DOMAIN_PROPOSAL, DOMAIN_BALLOT = 0, 1, 2  # signing/signer.go domains

PostVerifier = Callable[..., None]


def _verify(genesis_id: bytes, domain: int, pubkey: bytes, message: bytes, signature: bytes) -> bool:
    """``EdVerifier.Verify``: ed25519 over GenesisID[:20] ‖ domain ‖ message (signing/signer.go)."""
    try:
        nacl.signing.VerifyKey(pubkey).verify(genesis_id + bytes([domain]) + message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


def _vrf_message(beacon: bytes, epoch: int, nonce: int, counter: int) -> bytes:
    """``MustSerializeVRFMessage`` (proposals/util.go): VrfMessage{Type compact16 = EligibilityVoting
    (3), Beacon [4], Epoch compact32, Nonce compact64, Counter compact32}."""
    c = gowire.compact_bytes
    return c(3) + beacon + c(epoch) + c(nonce) + c(counter)


def num_eligible_slots(weight: int, min_weight: int, total: int, committee: int, layers: int) -> int:
    """``GetNumEligibleSlots`` (proposals/util/util.go): max(1, w·committee·layers / max(min, total))."""
    if total == 0:
        raise _Reject(400, "zero total weight")
    return max(1, weight * committee * layers // max(min_weight, total))


def eligible_layer(epoch: int, layers: int, vrf_sig: bytes) -> int:
    """``CalcEligibleLayer``: epoch's first layer + LE64(vrfSig[:8]) mod layers per epoch."""
    return epoch * layers + int.from_bytes(vrf_sig[:8], "little") % layers


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
    atx_v2_from_epoch: int | None = None


@dataclass
class StoredAtx:
    atx: GoAtxV1 | GoAtxV2
    atx_id: bytes
    received_at: float
    grade: str
    num_units: int  # effective
    ticks: int
    vrf_nonce: int
    sequence: int
    prev_atx: bytes
    declared_units: int
    commitment_atx: bytes
    gossip_count: int = 1  # times it arrived; nodes regossip until the target epoch
    last_received_at: float = 0.0  # the latest of those arrivals

    @property
    def weight(self) -> int:
        return self.num_units * self.ticks

    @property
    def publish_epoch(self) -> int:
        return self.atx.publish_epoch

    @property
    def smesher_id(self) -> bytes:
        return self.atx.smesher_id


@dataclass
class BallotRecord:
    ballot: GoBallot
    votes: list[tortoise.LayerVote]
    eligibility_count: int | None  # set on reference ballots
    beacon: bytes | None


@dataclass
class Malfeasance:
    smesher_id: bytes
    kind: str  # "double-atx" | "double-proposal"
    detail: str


@dataclass
class GatewayState:
    atxs: dict[bytes, StoredAtx] = field(default_factory=dict)
    by_smesher: dict[bytes, list[bytes]] = field(default_factory=dict)
    poet_proofs: dict[bytes, GoPoetProofMessage] = field(default_factory=dict)
    proposals: dict[tuple[bytes, int], GoProposal] = field(default_factory=dict)
    ballots: dict[bytes, BallotRecord] = field(default_factory=dict)
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
                    "smesher_id": r.smesher_id.hex(),
                    "publish_epoch": r.publish_epoch,
                    "version": r.atx.version,
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

    def _info(self, rec: StoredAtx) -> dict[str, Any]:
        return {
            "atx_id": rec.atx_id.hex(),
            "publish_epoch": rec.publish_epoch,
            "smesher_id": rec.smesher_id.hex(),
            "sequence": rec.sequence,
            "num_units": rec.num_units,
            "grade": rec.grade,
            "received_at": rec.received_at,
            "weight": rec.weight,
        }

    async def _positioning(self, request: web.Request) -> dict[str, Any]:
        epoch = _int(request.match_info["epoch"])
        best = None
        for rec in self.state.atxs.values():
            if rec.publish_epoch < epoch and (best is None or rec.publish_epoch > best.publish_epoch):
                best = rec
        return {"atx_id": (best.atx_id if best else self.settings.golden_atx).hex()}

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
            msg = gowire.decode_poet_proof_message(await request.read())
        except WireError as exc:
            raise _Reject(400, f"malformed PoetProofMessage: {exc}") from None
        if msg.service_id not in self.settings.poet_pubkeys:
            raise _Reject(400, "PoET service id is not a known PoET")
        if not msg.round_id.isdigit():
            raise _Reject(400, "round id is not a number")
        ref = msg.ref()
        self.state.poet_proofs[ref] = msg
        return {"ref": ref.hex()}

    # ---- ATX validation (activation/handler.go, handler_v1.go, handler_v2.go)
    def decode_atx(self, blob: bytes) -> GoAtxV1 | GoAtxV2:
        version = gowire.atx_version(blob, self.settings.atx_v2_from_epoch)
        try:
            return gowire.decode_atx_v2(blob) if version == 2 else gowire.decode_atx_v1(blob)
        except WireError as exc:
            raise _Reject(400, f"malformed ATX (v{version}): {exc}") from None

    async def _publish_atx(self, request: web.Request) -> dict[str, Any]:
        received_at = self.time.now()
        atx = self.decode_atx(await request.read())
        atx_id = atx.id()
        if not _verify(
            self.settings.genesis_id, DOMAIN_ATX, atx.smesher_id, atx.signed_message(), atx.signature
        ):
            raise _Reject(400, "invalid ATX signature")
        if atx_id in self.state.atxs:  # republishing the same ATX is harmless
            known = self.state.atxs[atx_id]
            known.gossip_count += 1
            known.last_received_at = received_at
            return self._info(known)
        prev_atx = _prev_of(atx)
        # two validly signed ATXs for one publish epoch (or one previous ATX) are a malfeasance proof,
        # whatever else is wrong with the second one
        same_epoch = [
            i
            for i in self.state.by_smesher.get(atx.smesher_id, [])
            if self.state.atxs[i].publish_epoch == atx.publish_epoch
            or self.state.atxs[i].prev_atx == prev_atx
        ]
        if same_epoch:
            self.state.malfeasance.append(
                Malfeasance(
                    atx.smesher_id, "double-atx", f"publish epoch {atx.publish_epoch}: {atx_id.hex()}"
                )
            )
            raise _Reject(409, "malfeasance: a second ATX for the same publish epoch / previous ATX")
        rec = await asyncio.to_thread(self._validate_atx, atx, atx_id, received_at)
        self.state.atxs[atx_id] = rec
        self.state.by_smesher.setdefault(atx.smesher_id, []).append(atx_id)
        return self._info(rec)

    def _validate_atx(self, atx: GoAtxV1 | GoAtxV2, atx_id: bytes, received_at: float) -> StoredAtx:
        current = self.clock.epoch_at(received_at)
        if atx.publish_epoch > current + 1:
            raise _Reject(400, f"publish epoch {atx.publish_epoch} is in the future (current {current})")
        if received_at >= self.clock.publish_deadline(atx.publish_epoch):
            raise _Reject(400, f"ATX for publish epoch {atx.publish_epoch} arrived after the epoch ended")
        self._positioning_ok(atx.publish_epoch, atx.positioning_atx)
        if isinstance(atx, GoAtxV2):
            return self._validate_v2(atx, atx_id, received_at)
        return self._validate_v1(atx, atx_id, received_at)

    def _positioning_ok(self, publish: int, positioning: bytes) -> None:
        if positioning == EMPTY:
            raise _Reject(400, "empty positioning atx")
        if positioning != self.settings.golden_atx:
            pos = self.state.atxs.get(positioning)
            if pos is None:
                raise _Reject(400, "unknown positioning ATX")
            if pos.publish_epoch >= publish:
                raise _Reject(400, "positioning ATX is not older than this ATX")

    def _previous(self, smesher: bytes, prev_atx: bytes) -> StoredAtx:
        ids = self.state.by_smesher.get(smesher, [])
        if not ids or ids[-1] != prev_atx:
            raise _Reject(400, "previous ATX is not this identity's last ATX")
        return self.state.atxs[prev_atx]

    def _membership(self, ref: bytes, challenge_hash: bytes, leaf_index: int, nodes: list[bytes]) -> int:
        """``Validator.PoetMembership``: the proof stored under ``ref`` and our challenge under its
        statement; returns the proof's leaf count."""
        poet = self.state.poet_proofs.get(ref)
        if poet is None:
            raise _Reject(400, "referenced PoET proof is unknown (POST /poet first)")
        if gowire.path_root(challenge_hash, leaf_index, nodes) != poet.statement:
            raise _Reject(400, "NIPoST membership proof does not prove our challenge in the PoET statement")
        return poet.leaf_count

    def _validate_v1(self, atx: GoAtxV1, atx_id: bytes, received_at: float) -> StoredAtx:
        s = self.settings
        if atx.num_units < s.min_num_units:
            raise _Reject(400, f"num units {atx.num_units} below the minimum {s.min_num_units}")
        if atx.prev_atx == EMPTY:
            if not (atx.initial_post and atx.commitment_atx and atx.node_id and atx.vrf_nonce is not None):
                raise _Reject(400, "initial ATX lacks initial post, commitment ATX, node id or VRF nonce")
            if atx.sequence != 0 or atx.node_id != atx.smesher_id:
                raise _Reject(400, "initial ATX must have sequence 0 and node id = smesher id")
            if self.state.by_smesher.get(atx.smesher_id):
                raise _Reject(400, "initial ATX for an identity that already has ATXs")
            self.check_post(
                atx.initial_post, EMPTY, atx.smesher_id, atx.commitment_atx, atx.num_units, "initial"
            )
            commitment, vrf_nonce, num_units = atx.commitment_atx, atx.vrf_nonce, atx.num_units
            self._vrf_nonce_ok(atx.smesher_id, commitment, vrf_nonce, num_units)
        else:
            if atx.initial_post or atx.commitment_atx or atx.node_id:
                raise _Reject(400, "non-initial ATX carries initial-only fields")
            prev = self._previous(atx.smesher_id, atx.prev_atx)
            if atx.sequence != prev.sequence + 1:
                raise _Reject(400, "sequence does not follow the previous ATX")
            commitment = prev.commitment_atx
            vrf_nonce = prev.vrf_nonce
            # validateNonInitialAtx: needRecheck = VRFNonce != nil || NumUnits > previous.NumUnits
            if atx.vrf_nonce is not None or atx.num_units > prev.num_units:
                vrf_nonce = atx.vrf_nonce if atx.vrf_nonce is not None else prev.vrf_nonce
                self._vrf_nonce_ok(atx.smesher_id, commitment, vrf_nonce, atx.num_units)
            # the previous ATX's *declared* units (atxs.Units), not its effective ones (handler_v1.go)
            num_units = min(prev.declared_units, atx.num_units)
        if atx.membership_nodes is None or atx.post is None or atx.post_challenge is None:
            raise _Reject(400, "ATX has no NIPoST")
        if atx.labels_per_unit != s.labels_per_unit:
            raise _Reject(400, "labels per unit differ from the network's")
        leaves = self._membership(
            atx.post_challenge, atx.challenge_hash(), atx.leaf_index, atx.membership_nodes
        )
        self.check_post(atx.post, atx.post_challenge, atx.smesher_id, commitment, atx.num_units, "NIPoST")
        return StoredAtx(
            atx, atx_id, received_at, self.clock.grade(atx.publish_epoch, received_at), num_units,
            leaves // s.tick_size, vrf_nonce, atx.sequence, atx.prev_atx, atx.num_units, commitment,
        )  # fmt: skip

    def _validate_v2(self, atx: GoAtxV2, atx_id: bytes, received_at: float) -> StoredAtx:
        """``HandlerV2.syntacticallyValidate`` + ``syntacticallyValidateDeps`` for a solo identity
        (the devnet has no marriages: a merged ATX is refused)."""
        s = self.settings
        if atx.marriages or atx.marriage_atx is not None:
            raise _Reject(400, "merged ATXs and marriages are not supported on the devnet")
        if len(atx.niposts) != 1:
            raise _Reject(400, "solo atx must have one nipost")
        nipost = atx.niposts[0]
        if len(nipost.posts) != 1:
            raise _Reject(400, "solo atx must have one post")
        sub = nipost.posts[0]
        if sub.prev_atx_index != 0 or sub.marriage_index != 0:
            raise _Reject(400, "solo atx post must have prevATXIndex 0 (and marriage index 0)")
        if sub.num_units < s.min_num_units:
            raise _Reject(400, f"num units {sub.num_units} below the minimum {s.min_num_units}")
        if atx.initial_post is not None:
            if atx.commitment_atx in (None, EMPTY):
                raise _Reject(400, "initial atx missing commitment atx")
            if atx.previous_atxs:
                raise _Reject(400, "initial atx must not have previous atxs")
            if self.state.by_smesher.get(atx.smesher_id):
                raise _Reject(400, "initial ATX for an identity that already has ATXs")
            commitment = atx.commitment_atx
            self._vrf_nonce_ok(atx.smesher_id, commitment, atx.vrf_nonce, sub.num_units)
            self.check_post(atx.initial_post, EMPTY, atx.smesher_id, commitment, sub.num_units, "initial")
            prev_atx, sequence, num_units = EMPTY, 0, sub.num_units
        else:
            if len(atx.previous_atxs) != 1:
                raise _Reject(400, "solo atx must have one previous atx")
            prev_atx = atx.previous_atxs[0]
            if prev_atx in (EMPTY, s.golden_atx):
                raise _Reject(400, "previous atx[0] is empty or the golden ATX")
            prev = self._previous(atx.smesher_id, prev_atx)
            if prev.publish_epoch >= atx.publish_epoch:
                raise _Reject(400, "previous atx is too new")
            commitment, sequence = prev.commitment_atx, prev.sequence + 1
            num_units = min(prev.declared_units, sub.num_units)  # validatePreviousAtx: atxs.Units
        leaves = self._membership(
            nipost.challenge, atx.challenge_hash(prev_atx), sub.membership_leaf_index, nipost.membership_nodes
        )
        self.check_post(sub.post, nipost.challenge, atx.smesher_id, commitment, sub.num_units, "NIPoST")
        if atx.initial_post is None:  # every non-initial v2 ATX proves its nonce for TotalNumUnits
            self._vrf_nonce_ok(atx.smesher_id, commitment, atx.vrf_nonce, atx.total_num_units)
        return StoredAtx(
            atx, atx_id, received_at, self.clock.grade(atx.publish_epoch, received_at), num_units,
            leaves // s.tick_size, atx.vrf_nonce, sequence, prev_atx, sub.num_units, commitment,
        )  # fmt: skip

    def check_post(
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
        self.ledger.settle(self.state.proposals, self.state.atxs, self.state.ballots,
                           self.clock.layer_at(self.time.now()))
        return {"rewards": [{"layer": r.layer, "coinbase": r.coinbase.hex(), "total_reward": r.total_reward,
                             "layer_reward": r.layer_reward} for r in self.ledger.of(node_id)]}

    # ---- epochs and proposals
    def beacon(self, epoch: int) -> bytes:
        return b3(b"devnet-beacon" + self.settings.genesis_id + epoch.to_bytes(4, "little"))[:4]

    def active_set(self, epoch: int) -> list[StoredAtx]:
        """ATXs targeting ``epoch`` with a good grade (honest active set)."""
        return [r for r in self.state.atxs.values() if r.publish_epoch == epoch - 1 and r.grade == "good"]

    async def _epoch(self, request: web.Request) -> dict[str, Any]:
        epoch = _int(request.match_info["epoch"])
        if self.time.now() < self.clock.epoch_start(epoch) - 4 * self.clock.config.network_delay:
            raise _Reject(404, "epoch info not final yet")
        return {
            "beacon": self.beacon(epoch).hex(),
            "total_weight": sum(r.weight for r in self.active_set(epoch)),
            "active_set_hash": self.active_set_hash(epoch).hex(),
        }

    def active_set_hash(self, epoch: int) -> bytes:
        """``EpochActiveSet`` hash: blake3 over the sorted ATX ids of the set (handler.go handleSet)."""
        return b3(b"".join(sorted(r.atx_id for r in self.active_set(epoch))))

    @property
    def mesh(self) -> tortoise.Mesh:
        return tortoise.Mesh(self.settings.genesis_id, 2 * self.clock.config.layers_per_epoch - 1)

    def _base_for(self, layer: int) -> tuple[bytes, int, list[tortoise.LayerVote]]:
        """The newest ballot before ``layer`` (any smesher) as base, or the empty base at genesis."""
        best: BallotRecord | None = None
        for rec in self.state.ballots.values():
            if rec.ballot.layer < layer and (best is None or rec.ballot.layer > best.ballot.layer):
                best = rec
        if best is None:
            return bytes(20), self.mesh.effective_genesis, []
        return best.ballot.id(), best.ballot.layer, best.votes

    async def _template(self, request: web.Request) -> dict[str, Any]:
        layer = _int(request.match_info["layer"])
        _hex(request.match_info["node_id"], 32)
        base_id, base_layer, base_votes = self._base_for(layer)
        support, against, abstain = self.mesh.diff(base_votes, base_layer, layer)
        votes = tortoise.decode_votes(base_votes, base_layer, layer, support, against, abstain)

        def enc(items):
            return [{"id": b.hex(), "layer": lid, "height": h} for b, lid, h in items]

        return {
            "opinion_hash": tortoise.opinion(votes).hex(),
            "mesh_hash": b3(b"devnet-mesh" + layer.to_bytes(4, "little")).hex(),
            "votes": {
                "base": base_id.hex(),
                "support": enc(support),
                "against": enc(against),
                "abstain": abstain,
            },
            "tx_ids": [],
        }

    async def _publish_proposal(self, request: web.Request) -> dict[str, Any]:
        now = self.time.now()
        blob = await request.read()
        try:
            proposal = gowire.decode_proposal(blob)
        except WireError as exc:
            raise _Reject(400, f"malformed proposal: {exc}") from None
        ballot = proposal.ballot
        key = (ballot.smesher_id, ballot.layer)
        seen = self.state.proposals.get(key)
        if seen is not None and seen.inner + seen.signature == blob:
            return {"proposal_id": proposal.id().hex()}
        record = await asyncio.to_thread(self._validate_proposal, proposal, now)
        if seen is not None:
            self.state.malfeasance.append(
                Malfeasance(ballot.smesher_id, "double-proposal", f"layer {key[1]}")
            )
            raise _Reject(409, "malfeasance: a second, different proposal for this layer")
        self.state.proposals[key] = proposal
        self.state.ballots[ballot.id()] = record
        return {"proposal_id": proposal.id().hex()}

    def _validate_proposal(self, proposal: GoProposal, now: float) -> BallotRecord:
        s = self.settings
        ballot = proposal.ballot
        layer = ballot.layer
        lpe = self.clock.config.layers_per_epoch
        epoch = layer // lpe
        if not _verify(
            s.genesis_id, DOMAIN_BALLOT, ballot.smesher_id, ballot.signed_message(), ballot.signature
        ):
            raise _Reject(400, "invalid ballot signature")
        if not _verify(
            s.genesis_id, DOMAIN_PROPOSAL, ballot.smesher_id, proposal.signed_message(), proposal.signature
        ):
            raise _Reject(400, "invalid proposal signature")
        if (
            not self.clock.layer_start(layer) - self.clock.config.layer_duration
            <= now
            < self.clock.layer_start(layer + 1)
        ):
            raise _Reject(400, f"proposal for layer {layer} is not timely")
        rec = self.state.atxs.get(ballot.atx_id)
        if rec is None or rec.smesher_id != ballot.smesher_id or rec.publish_epoch != epoch - 1:
            raise _Reject(400, "ballot's ATX is unknown, another identity's, or for another epoch")
        if rec not in self.active_set(epoch):
            raise _Reject(400, "ballot's ATX is not in the active set (grade)")
        beacon, count = self._ballot_epoch_data(ballot, rec, epoch)
        votes = self._opinion_ok(ballot)
        if not ballot.eligibilities:
            raise _Reject(400, "ballot has no eligibility proofs")
        last = -1
        for j, sig in ballot.eligibilities:  # eligibility_validator.go CheckEligibility
            if j >= count:
                raise _Reject(400, f"eligibility counter {j} >= slots {count}")
            if j <= last:
                raise _Reject(400, f"proofs are out of order: {j} <= {last}")
            last = j
            if not ecvrf.verify(ballot.smesher_id, sig, _vrf_message(beacon, epoch, rec.vrf_nonce, j)):
                raise _Reject(400, f"invalid VRF proof for counter {j}")
            if eligible_layer(epoch, lpe, sig) != layer:
                raise _Reject(400, f"counter {j} is not eligible in layer {layer}")
        is_ref = ballot.epoch_data is not None
        return BallotRecord(ballot, votes, count if is_ref else None, beacon if is_ref else None)

    def _ballot_epoch_data(self, ballot: GoBallot, rec: StoredAtx, epoch: int) -> tuple[bytes, int]:
        """Reference ballots carry the epoch data, the others point at one (``handler.go``
        ``checkBallotDataIntegrity``, ``eligibility_validator.go`` ``validateReference`` /
        ``validateSecondary``)."""
        lpe = self.clock.config.layers_per_epoch
        if ballot.ref_ballot == bytes(20):
            if ballot.epoch_data is None:
                raise _Reject(400, "missing epoch data")
            active_hash, beacon, count = ballot.epoch_data
            if beacon == bytes(4):
                raise _Reject(400, "missing beacon")
            active = self.active_set(epoch)
            if active_hash != self.active_set_hash(epoch):  # getActiveSetWeight: the set must be known
                raise _Reject(400, "ballot names an unknown active set")
            slots = num_eligible_slots(
                rec.weight, self.settings.min_active_set_weight, sum(r.weight for r in active),
                self.settings.layer_avg_size, lpe,
            )  # fmt: skip
            if beacon != self.beacon(epoch) or count != slots:
                raise _Reject(400, "ballot's epoch data has the wrong beacon or eligibility count")
            return beacon, count
        if ballot.epoch_data is not None:
            raise _Reject(400, "epoch data in non-first ballot")
        ref = self.state.ballots.get(ballot.ref_ballot)
        if ref is None or ref.eligibility_count is None or ref.beacon is None:
            raise _Reject(400, "ref ballot is missing or is not a reference ballot")
        if ref.ballot.atx_id != ballot.atx_id:
            raise _Reject(400, "ballot should be sharing atx with a reference ballot")
        if ref.ballot.smesher_id != ballot.smesher_id:
            raise _Reject(400, "mismatched smesher id with refballot")
        if ref.ballot.layer // lpe != ballot.layer // lpe:
            raise _Reject(400, "ballot targets another epoch than its ref ballot")
        return ref.beacon, ref.eligibility_count

    def _opinion_ok(self, ballot: GoBallot) -> list[tortoise.LayerVote]:
        """``Tortoise.DecodeBallot``: rebuild the opinion from the base ballot and the diff."""
        if ballot.base == bytes(20):
            base_layer, base_votes = self.mesh.effective_genesis, []
        else:
            base = self.state.ballots.get(ballot.base)
            if base is None:
                raise _Reject(400, "dangling base ballot")
            base_layer, base_votes = base.ballot.layer, base.votes
        if base_layer >= ballot.layer:
            raise _Reject(400, "votes should be encoded with a base ballot from previous layers")
        try:
            votes = tortoise.decode_votes(
                base_votes,
                base_layer,
                ballot.layer,
                [(v.block, v.layer, v.height) for v in ballot.support],
                [(v.block, v.layer, v.height) for v in ballot.against],
                ballot.abstain,
            )
        except tortoise.VoteError as exc:
            raise _Reject(400, f"conflicting exceptions: {exc}") from None
        if tortoise.opinion(votes) != ballot.opinion_hash:
            raise _Reject(400, "computed opinion hash doesn't match the signed one")
        return votes


def _prev_of(atx: GoAtxV1 | GoAtxV2) -> bytes:
    if isinstance(atx, GoAtxV1):
        return atx.prev_atx
    return atx.previous_atxs[0] if atx.previous_atxs else EMPTY


def _real_post_verifier(post, *, k1: int, k2: int, pow_difficulty: bytes, **kwargs: Any) -> None:
    """post-rs's verifier (``appliance.post``) on a decoded PoST proof {nonce, indices, pow}."""
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
