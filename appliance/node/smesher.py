"""The smesher of one identity: the epoch state machine of node.md §4.4, durable and idempotent.

For each publish epoch N: fix the challenge (prev ATX, positioning ATX) at ``round start − grace``,
register it at every PoET (each retried on its own until the round starts), wait for the round end,
fetch proofs until the deadline and pick the one with most leaves that contains our challenge,
store it at the gateway, prove PoST on its reference, build/sign the ATX (write-once) and publish
it. In parallel it computes the VRF eligibility of each target epoch and publishes a proposal in
every eligible layer. All state lives in a :class:`~appliance.node.state.StateStore`; each step
checks the persisted phase first, so a restart at any point resumes without repeating a different
side effect. Nothing acts while the clock is not synced.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from appliance.aio import cancel_and_wait
from appliance.node import certifier, eligibility
from appliance.node.clock import LayerClock, TimeSource
from appliance.node.config import NodeConfig
from appliance.node.gateway_client import GatewayClient
from appliance.node.http import RemoteError, RemoteRejected
from appliance.node.identity import Identity
from appliance.node.poet_client import Certificate, FetchedProof, MemberMissingError, PoetClient
from appliance.node.post_provider import PostProvider, PostUnavailable
from appliance.node.state import SmesherRecords, StateStore
from appliance.node.wire import (
    EMPTY_ID,
    ActivationTxV1,
    ActivationTxV2,
    EpochData,
    InnerActivationTxV1,
    InnerBallot,
    MerkleProofV1,
    NIPostChallengeV1,
    NIPostChallengeV2,
    NiPostsV2,
    NIPostV1,
    PoetProof,
    PoetProofMessage,
    PostMetadataV1,
    PostV1,
    Proposal,
    SubPostV2,
    VotingEligibility,
    atx_from_bytes,
    sign_proposal,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
TERMINAL = ("published", "expired")


class _Expired(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _post_json(post: PostV1) -> dict[str, Any]:
    return {"nonce": post.nonce, "indices": post.indices.hex(), "pow": post.pow}


def _post_from(data: dict[str, Any]) -> PostV1:
    return PostV1(int(data["nonce"]), bytes.fromhex(data["indices"]), int(data["pow"]))


class Smesher:
    def __init__(
        self,
        identity: Identity,
        config: NodeConfig,
        store: StateStore,
        poets: list[PoetClient],
        gateway: GatewayClient,
        provider: PostProvider,
        time_source: TimeSource,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.identity = identity
        self.node_id = identity.node_id
        self.config = config
        self.store = store
        self.poets = poets
        self.gateway = gateway
        self.provider = provider
        self.time = time_source
        self.clock = LayerClock(config.clock)
        self.on_change = on_change or (lambda: None)
        self.genesis_id = config.genesis_id
        self.status = "starting"
        self.next_deadline: tuple[float, str] | None = None
        self.last_proof_seconds: float | None = None
        self.tick = min(1.0, config.clock.layer_duration / 4, config.retry_interval)
        self._gossiped_at: dict[int, float] = {}  # publish epoch -> last (re)gossip, network time

    @property
    def doc(self) -> dict[str, Any]:
        return self.store.doc

    def records(self) -> SmesherRecords:
        """What the node's status reads: typed records, not this smesher's document."""
        return self.store.records()

    # ---- helpers
    def _set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.on_change()

    async def _wait_synced(self) -> None:
        while not self.time.synced():
            self._set_status("waiting for the clock to be synchronised (NTP)")
            await asyncio.sleep(self.tick)

    async def _now(self) -> float:
        await self._wait_synced()
        return self.time.now()

    async def _sleep_until(self, when: float, what: str) -> None:
        self.next_deadline = (when, what)
        while True:
            now = await self._now()
            if now >= when:
                return
            await asyncio.sleep(min(when - now, self.tick))

    async def _retry(self, what: str, deadline: float, attempt: Callable[[], Awaitable[T]]) -> T:
        """Retries ``attempt`` on unavailable/protocol errors until ``deadline``; rejections propagate."""
        last = ""
        while True:
            now = await self._now()
            if now >= deadline:
                raise _Expired(f"{what}: gave up at the deadline ({last or 'no answer'})")
            try:
                return await attempt()
            except RemoteRejected:
                raise
            except RemoteError as exc:
                last = str(exc)
                self._set_status(f"{what}: retrying ({exc.reason})")
            await asyncio.sleep(min(self.config.retry_interval, max(0.0, deadline - now)))

    async def _commit(self, label: str) -> None:
        await self.store.commit(label)
        self.on_change()

    # ---- main loop
    async def run(self) -> None:
        short = self.node_id.hex()[:8]
        side = [
            asyncio.create_task(self._proposals_loop(), name=f"proposals-{short}"),
            asyncio.create_task(self._regossip_loop(), name=f"regossip-{short}"),
        ]
        try:
            await self._ensure_initial_post()
            while True:
                epoch = await self._next_publish_epoch()
                await self._run_epoch(epoch)
        finally:
            await cancel_and_wait(*side)

    async def _ensure_initial_post(self) -> None:
        if self.doc["initial_post"] or self.doc["last_atx"]:
            return
        while True:
            try:
                info = await self.provider.info(self.node_id)
                break
            except PostUnavailable as exc:
                self._set_status(f"waiting for PoST data: {exc}")
                await asyncio.sleep(self.config.retry_interval)
        if info.labels_per_unit != self.config.chain.labels_per_unit:
            raise RuntimeError("PoST data has another labels-per-unit than the network")
        if info.vrf_nonce is None:
            raise RuntimeError("PoST data has no VRF nonce (initialisation incomplete)")
        self._set_status("proving the initial PoST")
        started = time.monotonic()
        post = await self.provider.prove(self.node_id, EMPTY_ID)
        self.last_proof_seconds = time.monotonic() - started
        self.doc["initial_post"] = {
            **_post_json(post),
            "commitment_atx": info.commitment_atx_id.hex(),
            "num_units": info.num_units,
            "vrf_nonce": info.vrf_nonce,
        }
        await self._commit("initial_post")

    async def _next_publish_epoch(self) -> int:
        epochs = self.doc["epochs"]
        unfinished = sorted(int(k) for k, e in epochs.items() if e.get("phase") not in TERMINAL)
        if unfinished:
            return unfinished[0]
        now = await self._now()
        epoch = self.clock.first_registrable_epoch(now)
        if self.doc["last_atx"]:
            epoch = max(epoch, int(self.doc["last_atx"]["publish_epoch"]) + 1)
        while str(epoch) in epochs:
            epoch += 1
        return epoch

    async def _run_epoch(self, n: int) -> None:
        ep = self.store.epoch(n)
        steps: dict[str, Callable[[int, dict[str, Any]], Awaitable[None]]] = {
            "new": self._fix_challenge,
            "challenge_fixed": self._register,
            "registered": self._fetch_proof,
            "proof_selected": self._store_poet_proof,
            "poet_stored": self._prove,
            "nipost_ready": self._build_atx,
            "atx_signed": self._publish_atx,
        }
        while ep["phase"] not in TERMINAL:
            try:
                await steps[ep["phase"]](n, ep)
            except _Expired as exc:
                await self._expire(n, ep, exc.reason)
            except RemoteRejected as exc:
                await self._expire(n, ep, f"rejected by {exc.url}: {exc.reason}")
        self.store.prune(self.config.keep_epochs)

    async def _expire(self, n: int, ep: dict[str, Any], reason: str) -> None:
        log.warning("identity %s missed publish epoch %d: %s", self.node_id.hex()[:12], n, reason)
        ep.update(phase="expired", reason=reason, expired_at=self.time.now())
        await self._commit(f"expired:{n}")

    # ---- steps
    async def _prev_atx(self, deadline: float) -> dict[str, Any] | None:
        """The ATX our next challenge builds on; confirms ATXs whose publication is in doubt first."""
        for key, ep in sorted(self.doc["epochs"].items(), key=lambda kv: int(kv[0])):
            if ep.get("atx_id") and ep.get("phase") == "expired" and ep.get("publish_attempts"):
                atx_id = bytes.fromhex(ep["atx_id"])
                info = await self._retry("confirming an ATX", deadline, lambda a=atx_id: self.gateway.atx(a))
                if info is not None:  # it did reach the network: building on anything else is malfeasance
                    ep.update(
                        phase="published",
                        grade=info.grade,
                        received_at=info.received_at,
                        num_units_effective=info.num_units,
                    )
                    self._set_last_atx(int(key), ep, info.num_units)
                    await self._commit(f"confirmed:{key}")
        if self.doc["last_atx"] is None:
            info = await self._retry(
                "asking for our last ATX", deadline, lambda: self.gateway.last_atx(self.node_id)
            )
            if info is not None:
                vrf = (self.doc["initial_post"] or {}).get("vrf_nonce")
                self.doc["last_atx"] = {
                    "id": info.atx_id.hex(),
                    "publish_epoch": info.publish_epoch,
                    "sequence": info.sequence,
                    "num_units": info.num_units,
                    "vrf_nonce": vrf,
                }
                await self._commit("adopted_last_atx")
        return self.doc["last_atx"]

    def _set_last_atx(self, n: int, ep: dict[str, Any], num_units: int) -> None:
        prev = self.doc["last_atx"] or {}
        if "sequence" in ep:
            sequence = int(ep["sequence"])
        else:  # a record from before the ATX version was stored: always v1
            sequence = NIPostChallengeV1.from_bytes(bytes.fromhex(ep["challenge"])).sequence
        vrf = ep.get("vrf_nonce")
        if vrf is None:
            vrf = prev.get("vrf_nonce", (self.doc["initial_post"] or {}).get("vrf_nonce"))
        self.doc["last_atx"] = {
            "id": ep["atx_id"],
            "publish_epoch": n,
            "sequence": sequence,
            "num_units": num_units,
            "vrf_nonce": vrf,
        }

    async def _fix_challenge(self, n: int, ep: dict[str, Any]) -> None:
        self._set_status(f"waiting to fix the challenge for publish epoch {n}")
        await self._sleep_until(self.clock.challenge_fix_time(n), f"fix the PoET challenge (epoch {n})")
        deadline = self.clock.poet_round_start(n)
        prev = await self._prev_atx(deadline)
        positioning = await self._retry(
            "getting the positioning ATX", deadline, lambda: self.gateway.positioning_atx(n)
        )
        version = self.config.chain.atx_version(n)
        challenge: NIPostChallengeV1 | NIPostChallengeV2
        if prev is not None:
            if int(prev["publish_epoch"]) >= n:
                raise _Expired(f"already have an ATX for publish epoch {prev['publish_epoch']}")
            sequence = int(prev["sequence"]) + 1
            if version == 2:
                challenge = NIPostChallengeV2(n, bytes.fromhex(prev["id"]), positioning)
            else:
                challenge = NIPostChallengeV1(n, sequence, bytes.fromhex(prev["id"]), positioning)
        else:
            initial = self.doc["initial_post"]
            sequence = 0
            if version == 2:
                challenge = NIPostChallengeV2(n, EMPTY_ID, positioning, _post_from(initial))
            else:
                challenge = NIPostChallengeV1(
                    n, 0, EMPTY_ID, positioning, bytes.fromhex(initial["commitment_atx"]), _post_from(initial)
                )
        ep.update(
            phase="challenge_fixed",
            atx_version=version,
            sequence=sequence,
            challenge=challenge.to_bytes().hex(),
            challenge_hash=challenge.hash().hex(),
            registrations={p.url: {"attempts": 0} for p in self.poets},
            fixed_at=self.time.now(),
        )
        await self._commit(f"challenge_fixed:{n}")

    async def _register(self, n: int, ep: dict[str, Any]) -> None:
        deadline = self.clock.poet_round_start(n)
        self._set_status(f"registering at {len(self.poets)} PoET server(s) for publish epoch {n}")
        self.next_deadline = (deadline, f"PoET registration closes (epoch {n})")
        challenge_hash = bytes.fromhex(ep["challenge_hash"])
        await asyncio.gather(
            *(self._register_one(n, ep, poet, challenge_hash, deadline) for poet in self.poets)
        )
        for reg in ep["registrations"].values():
            if not reg.get("round_id") and "error" not in reg and reg.get("last_attempt_at"):
                # an attempt whose reply was lost (crash, timeout) may have registered us: the round it
                # went into follows from the attempt time, and the proof fetch will tell if we are in it
                round_id = self.clock.open_round_id(float(reg["last_attempt_at"]))
                reg.update(
                    round_id=str(round_id), round_end=self.clock.round_end_by_id(round_id), inferred=True
                )
        if not any(r.get("round_id") for r in ep["registrations"].values()):
            errors = "; ".join(f"{u}: {r.get('error', 'no answer')}" for u, r in ep["registrations"].items())
            raise _Expired(f"no PoET registration before the round started ({errors})")
        ep["phase"] = "registered"
        await self._commit(f"registered:{n}")

    async def _register_one(
        self, n: int, ep: dict[str, Any], poet: PoetClient, challenge_hash: bytes, deadline: float
    ) -> None:
        reg = ep["registrations"].setdefault(poet.url, {"attempts": 0})
        while not reg.get("round_id") and not reg.get("final"):
            now = await self._now()
            if now >= deadline:
                return
            reg["attempts"] += 1
            reg["last_attempt_at"] = now
            reg.pop("error", None)  # an attempt with no recorded outcome may have reached the PoET
            await self._commit(f"register_intent:{n}")  # recorded before it is attempted
            cert = await self._certificate(poet, reg, now)
            reg["auth"] = "certificate" if cert is not None else "pow"
            try:
                result = await poet.submit(
                    self.identity,
                    self.genesis_id,
                    challenge_hash,
                    self.clock.poet_proof_deadline(n),
                    now,
                    certificate=cert,
                )
            except RemoteRejected as exc:
                reg["error"] = exc.reason
                if cert is not None and exc.status == 401:
                    # ``reauthorize``: the PoET refused the certificate; forget it and use the PoW
                    self.doc.get("certificates", {}).pop(reg.get("certifier_key", ""), None)
                    reg["cert_refused"] = True
                elif exc.status != 429:  # invalid / too late / conflict: retrying cannot help
                    reg["final"] = True
                await self._commit(f"register_failed:{n}")
            except RemoteError as exc:
                reg["error"] = exc.reason
            else:
                reg.update(round_id=result.round_id, round_end=result.round_end)
                reg.pop("error", None)
                await self._commit(f"registered_at:{n}")
                return
            await asyncio.sleep(min(self.config.retry_interval, max(0.0, deadline - self.time.now())))

    async def _certificate(self, poet: PoetClient, reg: dict[str, Any], now: float) -> Certificate | None:
        """The certificate from the certifier this PoET names, cached per identity and certifier until
        it expires (go-spacemesh keeps it in ``localsql/certifier``); None means "do the PoW" — as in
        ``poetService.authorize``, every certifier failure falls back to it."""
        if reg.get("cert_refused") or not self.doc["initial_post"]:
            return None
        try:
            info = await poet.cached_info()
        except RemoteError as exc:
            reg["certifier_error"] = f"PoET info: {exc.reason}"
            return None
        if not info.certifier_url or info.certifier_pubkey is None:
            return None
        key = info.certifier_pubkey.hex()
        reg["certifier_key"] = key
        cached = self.doc.setdefault("certificates", {}).get(key)
        if cached is not None:
            issued = certifier.cert_from_json(cached)
            if issued.expiration is None or issued.expiration > now:
                return issued.certificate
        initial = self.doc["initial_post"]
        try:
            issued = await certifier.certify(
                poet.session,
                info.certifier_url,
                info.certifier_pubkey,
                self.node_id,
                bytes.fromhex(initial["commitment_atx"]),
                int(initial["num_units"]),
                _post_from(initial),
                now,
                timeout=self.config.request_timeout,
            )
        except RemoteError as exc:
            log.warning("certifier %s failed, falling back to PoW: %s", info.certifier_url, exc.reason)
            reg["certifier_error"] = exc.reason
            return None
        self.doc["certificates"][key] = certifier.cert_to_json(issued)
        await self._commit("certificate")
        return issued.certificate

    async def _fetch_proof(self, n: int, ep: dict[str, Any]) -> None:
        regs = {u: r for u, r in ep["registrations"].items() if r.get("round_id")}
        round_end = max(float(r["round_end"]) for r in regs.values())
        self._set_status(f"waiting for the PoET round to end (epoch {n})")
        await self._sleep_until(round_end, f"PoET round ends (epoch {n})")
        deadline = self.clock.poet_proof_deadline(n)
        self.next_deadline = (deadline, f"last moment to fetch the PoET proof (epoch {n})")
        self._set_status(f"fetching PoET proofs (epoch {n})")
        challenge_hash = bytes.fromhex(ep["challenge_hash"])
        found: dict[str, FetchedProof] = {}
        errors: dict[str, str] = {}
        clients = {p.url: p for p in self.poets if p.url in regs}
        first_at: float | None = None
        while True:
            now = await self._now()
            pending = [u for u in clients if u not in found and u not in errors]
            # once one proof is in hand, give the others a short grace, not the whole cycle gap
            if (
                not pending
                or now >= deadline
                or (first_at is not None and now >= first_at + 2 * self.config.retry_interval)
            ):
                break
            for url in pending:
                try:
                    proof = await clients[url].proof(regs[url]["round_id"], challenge_hash)
                except MemberMissingError:
                    errors[url] = "our challenge is missing from the round's members"
                    continue
                except RemoteError as exc:
                    ep["registrations"][url]["proof_error"] = exc.reason
                    continue
                if proof is not None:
                    found[url] = proof
                    first_at = first_at or now
            if pending and not found.keys() >= set(pending):
                await asyncio.sleep(min(self.config.retry_interval, max(0.0, deadline - now)))
        if not found:
            detail = "; ".join(f"{u}: {e}" for u, e in errors.items()) or "no proof before the deadline"
            raise _Expired(f"no usable PoET proof ({detail})")
        url, best = max(found.items(), key=lambda kv: kv[1].leaves)
        index, nodes = best.membership(challenge_hash)
        ep.update(
            phase="proof_selected",
            selected={
                "poet": url,
                "round_id": best.round_id,
                "service_id": best.service_pubkey.hex(),
                "proof": best.proof.to_bytes().hex(),
                "statement": best.statement.hex(),
                "leaf_index": index,
                "nodes": [x.hex() for x in nodes],
                "leaves": best.leaves,
                "ref": best.proof.ref().hex(),
            },
            member_errors=errors,
        )
        await self._commit(f"proof_selected:{n}")

    def _selected_proof(self, ep: dict[str, Any]) -> tuple[PoetProof, dict[str, Any]]:
        from appliance.node.scale import decode_all

        sel = ep["selected"]
        return decode_all(bytes.fromhex(sel["proof"]), PoetProof.read), sel

    async def _store_poet_proof(self, n: int, ep: dict[str, Any]) -> None:
        proof, sel = self._selected_proof(ep)
        message = PoetProofMessage(
            proof, bytes.fromhex(sel["service_id"]), sel["round_id"], bytes.fromhex(sel["statement"])
        )
        self._set_status(f"storing the PoET proof at the gateway (epoch {n})")
        ref = await self._retry(
            "storing the PoET proof",
            self.clock.publish_deadline(n),
            lambda: self.gateway.store_poet_proof(message),
        )
        if ref != proof.ref():
            raise _Expired("gateway stored the PoET proof under another reference")
        ep["phase"] = "poet_stored"
        await self._commit(f"poet_stored:{n}")

    async def _prove(self, n: int, ep: dict[str, Any]) -> None:
        _, sel = self._selected_proof(ep)
        deadline = self.clock.publish_deadline(n)
        self.next_deadline = (self.clock.good_deadline(n), f"ATX must be published (epoch {n})")
        self._set_status(f"proving PoST for publish epoch {n}")
        info = await self.provider.info(self.node_id)
        started = time.monotonic()
        try:
            async with asyncio.timeout(max(0.0, deadline - await self._now())):
                post = await self.provider.prove(self.node_id, bytes.fromhex(sel["ref"]))
        except TimeoutError:
            raise _Expired("PoST proving did not finish before the end of the publish epoch") from None
        self.last_proof_seconds = time.monotonic() - started
        ep.update(
            phase="nipost_ready",
            post=_post_json(post),
            num_units=info.num_units,
            data_vrf_nonce=info.vrf_nonce,
            proof_seconds=self.last_proof_seconds,
        )
        await self._commit(f"nipost_ready:{n}")

    def _vrf_nonce_for(self, ep: dict[str, Any], initial: bool) -> tuple[int, bool]:
        """The VRF nonce this ATX stands on, and whether it differs from the previous ATX's.

        As go-spacemesh's builder (``activation/activation.go`` ``createAtx``): the PoST data's own
        nonce, attached to a v1 ATX when it differs from the previous one (v2 always carries it). A
        nonce is only valid for the label count it was searched over, so when NumUnits grew the
        handler re-checks it against the new size (``handler_v1.go`` ``validateNonInitialAtx``:
        ``needRecheck``; ``handler_v2.go`` checks ``VRFNonceV2`` on ``TotalNumUnits`` every time) —
        the data's nonce is the one searched over its current size."""
        if initial:
            return int(self.doc["initial_post"]["vrf_nonce"]), True
        prev = self.doc["last_atx"] or {}
        prev_nonce = prev.get("vrf_nonce")
        data_nonce = ep.get("data_vrf_nonce")
        if data_nonce is None and int(ep["num_units"]) > int(prev.get("num_units") or 0):
            raise _Expired("PoST data grew but has no VRF nonce for its new size")
        nonce = data_nonce if data_nonce is not None else prev_nonce
        if nonce is None:
            raise _Expired("no VRF nonce known for this identity")
        return int(nonce), nonce != prev_nonce

    async def _build_atx(self, n: int, ep: dict[str, Any]) -> None:
        if not ep.get("atx"):  # write-once: an ATX signed for this epoch is never replaced
            _, sel = self._selected_proof(ep)
            version = int(ep.get("atx_version", 1))
            nodes = tuple(bytes.fromhex(x) for x in sel["nodes"])
            post = _post_from(ep["post"])
            ref = bytes.fromhex(sel["ref"])
            atx: ActivationTxV1 | ActivationTxV2
            if version == 2:
                challenge2 = NIPostChallengeV2.from_bytes(bytes.fromhex(ep["challenge"]))
                vrf_nonce, _ = self._vrf_nonce_for(ep, challenge2.is_initial)
                initial = None
                if challenge2.is_initial:
                    initial = (
                        bytes.fromhex(self.doc["initial_post"]["commitment_atx"]),
                        challenge2.initial_post,
                    )
                unsigned = ActivationTxV2(
                    n,
                    challenge2.positioning_atx,
                    self.config.coinbase,
                    initial,
                    () if challenge2.is_initial else (challenge2.prev_atx,),
                    (
                        NiPostsV2(
                            nodes, ref, (SubPostV2(0, 0, int(sel["leaf_index"]), post, int(ep["num_units"])),)
                        ),
                    ),
                    vrf_nonce,
                )
                atx = ActivationTxV2.sign(unsigned, self.identity, self.genesis_id)
            else:
                challenge = NIPostChallengeV1.from_bytes(bytes.fromhex(ep["challenge"]))
                nipost = NIPostV1(
                    MerkleProofV1(nodes, int(sel["leaf_index"])),
                    post,
                    PostMetadataV1(ref, self.config.chain.labels_per_unit),
                )
                vrf_nonce, changed = self._vrf_nonce_for(ep, challenge.is_initial)
                inner = InnerActivationTxV1(
                    challenge,
                    self.config.coinbase,
                    int(ep["num_units"]),
                    nipost,
                    None,
                    vrf_nonce if changed else None,
                )
                atx = ActivationTxV1.sign(inner, self.identity, self.genesis_id)
            ep.update(atx=atx.to_bytes().hex(), atx_id=atx.id().hex(), vrf_nonce=vrf_nonce)
        ep["phase"] = "atx_signed"
        await self._commit(f"atx_signed:{n}")

    async def _publish_atx(self, n: int, ep: dict[str, Any]) -> None:
        atx = atx_from_bytes(bytes.fromhex(ep["atx"]), int(ep.get("atx_version", 1)))
        deadline = self.clock.publish_deadline(n)
        self._set_status(f"publishing the ATX for epoch {n}")

        async def attempt():
            ep["publish_attempts"] = int(ep.get("publish_attempts", 0)) + 1
            await self._commit(f"publish_intent:{n}")  # recorded before it is attempted
            return await self.gateway.publish_atx(atx)

        info = await self._retry("publishing the ATX", deadline, attempt)
        ep.update(
            phase="published",
            grade=info.grade,
            received_at=info.received_at,
            published_at=self.time.now(),
            num_units_effective=info.num_units,
        )
        self._set_last_atx(n, ep, info.num_units)
        await self._commit(f"published:{n}")
        log.info(
            "identity %s published ATX %s for epoch %d (%s)",
            self.node_id.hex()[:12],
            ep["atx_id"][:12],
            n,
            info.grade,
        )

    # ---- regossip
    async def _regossip_loop(self) -> None:
        """Gossips each published ATX again every ``regossip_interval`` until its target epoch starts
        (node.md 4.4, PUBLISHED), so peers that missed it still count our weight. Republishing the same
        blob is idempotent; a failure is only logged, the next interval tries again. Not persisted: after
        a restart the first regossip simply comes at once."""
        while True:
            now = await self._now()
            for key, ep in list(self.doc["epochs"].items()):
                n = int(key)
                # A copy sent in the last tick before the target epoch would arrive after it has
                # begun, when it no longer counts: stop one tick early.
                if ep.get("phase") != "published" or now >= self.clock.epoch_start(n + 1) - self.tick:
                    continue
                last = self._gossiped_at.get(n, float(ep.get("published_at") or 0.0))
                if now - last < self.config.regossip_interval:
                    continue
                self._gossiped_at[n] = now
                try:
                    blob = bytes.fromhex(ep["atx"])
                    await self.gateway.publish_atx(atx_from_bytes(blob, int(ep.get("atx_version", 1))))
                except RemoteError as exc:
                    log.warning("regossip of the ATX for epoch %d failed: %s", n, exc.reason)
            await asyncio.sleep(self.tick)

    # ---- proposals
    async def _proposals_loop(self) -> None:
        while True:
            now = await self._now()
            current = self.clock.epoch_at(now)
            targets = sorted(
                int(k) + 1
                for k, e in self.doc["epochs"].items()
                if e.get("phase") == "published" and int(k) + 1 >= current
            )
            for target in targets:
                await self._eligibility(target)
                await self._publish_proposals(target)
            await asyncio.sleep(self.tick)

    async def _eligibility(self, target: int) -> None:
        if str(target) in self.doc["eligibility"]:
            return
        ep = self.doc["epochs"][str(target - 1)]
        info = await self.gateway_epoch(target)
        if info is None:
            return
        chain = self.config.chain
        weight = int(ep["num_units_effective"] if "num_units_effective" in ep else ep["num_units"]) * (
            int(ep["selected"]["leaves"]) // chain.tick_size
        )
        lpe = chain.layers_per_epoch
        slots = eligibility.num_slots(
            weight, chain.min_active_set_weight, info.total_weight, chain.layer_avg_size, lpe
        )
        vrf_nonce = int(
            (self.doc["last_atx"] or {}).get("vrf_nonce") or self.doc["initial_post"]["vrf_nonce"]
        )
        computed = await asyncio.to_thread(
            eligibility.compute_slots, self.identity.seed, info.beacon, target, vrf_nonce, slots, lpe
        )
        self.doc["eligibility"][str(target)] = {
            "atx_id": ep["atx_id"],
            "beacon": info.beacon.hex(),
            "active_set_hash": info.active_set_hash.hex(),
            "slots": slots,
            "proofs": [[s.counter, s.layer, s.proof.hex()] for s in computed],
        }
        await self._commit(f"eligibility:{target}")

    async def gateway_epoch(self, target: int):
        try:
            return await self.gateway.epoch(target)
        except RemoteError as exc:
            self._set_status(f"epoch {target} info unavailable: {exc.reason}")
            return None

    async def _publish_proposals(self, target: int) -> None:
        elig = self.doc["eligibility"].get(str(target))
        if elig is None:
            return
        for layer in sorted({int(p[1]) for p in elig["proofs"]}):
            record = self.doc["proposals"].get(str(layer))
            if record is not None and (record.get("published") or record.get("missed")):
                continue
            start, end = self.clock.layer_start(layer), self.clock.layer_start(layer + 1)
            now = await self._now()
            if now >= end:
                if record is None or not record.get("published"):
                    self.doc["proposals"][str(layer)] = {**(record or {}), "missed": True, "epoch": target}
                    await self._commit(f"proposal_missed:{layer}")
                continue
            self.next_deadline = (start, f"proposal for layer {layer}")
            await self._sleep_until(start, f"proposal for layer {layer}")
            if record is None:
                record = await self._build_proposal(target, layer, elig, end)
                if record is None:
                    continue
            proposal = Proposal.from_bytes(bytes.fromhex(record["blob"]))
            try:
                await self._retry(
                    "publishing a proposal", end, lambda p=proposal: self.gateway.publish_proposal(p)
                )
            except (_Expired, RemoteRejected) as exc:
                record["error"] = str(exc)
                record["missed"] = True
            else:
                record["published"] = True
                if proposal.ballot.inner.epoch_data is not None and not elig.get("ref_ballot"):
                    # later ballots of the epoch point at this one instead of repeating the epoch
                    # data, as go-spacemesh's proposal builder does (``ballot.RefBallot``)
                    elig["ref_ballot"] = proposal.ballot.id().hex()
            await self._commit(f"proposal:{layer}")

    async def _build_proposal(
        self, target: int, layer: int, elig: dict[str, Any], end: float
    ) -> dict[str, Any] | None:
        try:
            tmpl = await self._retry(
                "getting a proposal template",
                end,
                lambda: self.gateway.proposal_template(layer, self.node_id),
            )
        except (_Expired, RemoteRejected) as exc:
            self.doc["proposals"][str(layer)] = {"missed": True, "error": str(exc), "epoch": target}
            await self._commit(f"proposal_missed:{layer}")
            return None
        eligibilities = tuple(
            VotingEligibility(int(j), bytes.fromhex(sig))
            for j, lay, sig in elig["proofs"]
            if int(lay) == layer
        )
        atx_id = bytes.fromhex(elig["atx_id"])
        if elig.get("ref_ballot"):
            # proposals/eligibility_validator.go validateSecondary: same ATX, smesher and epoch as the ref
            inner = InnerBallot(layer, atx_id, tmpl.opinion_hash, bytes.fromhex(elig["ref_ballot"]))
        else:  # the epoch's first ballot carries the epoch data (handler.go checkBallotDataIntegrity)
            epoch_data = EpochData(
                bytes.fromhex(elig["active_set_hash"]), bytes.fromhex(elig["beacon"]), elig["slots"]
            )
            inner = InnerBallot(layer, atx_id, tmpl.opinion_hash, epoch_data=epoch_data)
        proposal = sign_proposal(
            self.identity,
            self.genesis_id,
            inner,
            tmpl.votes,
            eligibilities,
            tmpl.tx_ids,
            tmpl.mesh_hash,
        )
        record = {"blob": proposal.to_bytes().hex(), "published": False, "epoch": target}
        self.doc["proposals"][str(layer)] = record  # recorded (write-once) before it is published
        await self._commit(f"proposal_signed:{layer}")
        return record
