"""What the page can do with node mode: read and change its settings, upload the TLS files, hand
each identity's key to the node (and take one back), and fill the commitment ATX from the node.

The identity hand-off: in node mode the node signs everything, so it must hold each identity's key
— go-spacemesh loads every ``*.key`` in ``<data-dir>/identities/`` (``node/node_identities.go`` @
spacemeshos/go-spacemesh cc65f271f3e21b519532f2924ab227ccf352c2de: hex of the 64-byte ed25519
private key, any name except ``local.key``, which marks the single supervised identity). The box
offers exactly that file; a key uploaded back must belong to the dataset it is given for.

Refusals are :class:`appliance.errors.ServiceError` with a sentence a person can act on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from appliance.errors import ServiceError
from appliance.events import EventBus, Topic
from appliance.node.identity import Identity, IdentityError, IdentityStore, parse_key_text
from appliance.node.nodemode import NodeModeError, NodeModeStore, preset_views
from appliance.node.remote import Datasets, NodeModeSupervisor

EARNINGS_TTL = 30.0
WHERE_TO_LOOK = (
    "Rewards and ATXs are recorded by your node: see its wallet (smapp) or a Spacemesh explorer for these "
    "identities, or enter the node's public API address (grpc-public-listener) to see them here."
)
SUPERVISED_KEY = "local.key"  # go-spacemesh refuses it next to other keys (remote smeshing)
ONE_PLACE = (
    "One identity must never run in two places: if this key smeshes anywhere else (another node, "
    "another box, the built-in light node) both are penalised and the identity is lost."
)


def _node_id(text: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != 32:
        raise ServiceError(f"{text[:80]!r} is not an identity (64 hex characters)", "invalid")
    return value


class NodeModeService:
    def __init__(
        self,
        bus: EventBus,
        store: NodeModeStore,
        supervisor: NodeModeSupervisor,
        identities: IdentityStore,
        datasets: Datasets,
        apply_commitment: Callable[[str], None] | None = None,
        default_commitment: str = "",
        adopt_identity: Callable[[str, Identity], Awaitable[None]] | None = None,
    ) -> None:
        self.bus = bus
        self.store = store
        self.supervisor = supervisor
        self.identities = identities
        self.datasets = datasets
        self.apply_commitment = apply_commitment  # new datasets commit to this ATX (the jobs' settings)
        self.default_commitment = default_commitment
        # re-plans an unfinished dataset for another identity (the jobs' part, from the composition)
        self.adopt_identity = adopt_identity
        self._earnings: tuple[object, float, dict[str, Any]] | None = None
        self._apply_commitment()

    def _apply_commitment(self) -> None:
        """Node mode's commitment ATX for new datasets while node mode is chosen, else the box's."""
        config = self.store.current
        if self.apply_commitment is not None:
            chosen = config.commitment_atx_id if config.mode == "node" else ""
            self.apply_commitment(chosen or self.default_commitment)

    def view(self) -> dict[str, Any]:
        config = self.store.current
        status = self.supervisor.snapshot()
        return {
            "mode": config.mode,
            "chosen": config.chosen,
            "node_address": config.node_address,
            "public_api": config.public_api,
            "preset": config.preset,
            "custom": dataclasses.asdict(config.custom) if config.custom else None,
            "tls_domain": config.tls_domain,
            "tls": status.tls,
            "presets": preset_views(self.store),
            "commitment_atx_id": config.commitment_atx_id or self.default_commitment,
            "reason": status.reason,
            "warning": ONE_PLACE,
            "next_proof_expected_at": self.store.preset(config).next_proof_at(time.time()),
            "identities": [
                {
                    "node_id": ident.service.node_id,
                    "name": ident.name,
                    "drive_id": ident.drive_id,
                    "key_file": self._key_name(ident.name, ident.service.node_id),
                    **{k: v for k, v in dataclasses.asdict(ident.service).items() if k not in ("node_id",)},
                    "connected": ident.service.connected,
                }
                for ident in status.identities
            ],
        }

    async def update(self, change: dict[str, Any]) -> dict[str, Any]:
        try:
            await self.store.update(change)
        except NodeModeError as exc:
            raise ServiceError(str(exc), "invalid") from exc
        self._apply_commitment()
        self.bus.publish(Topic.NODEMODE_SETTINGS)
        self.supervisor.poke()
        return self.view()

    async def set_tls(self, files: dict[str, bytes] | None) -> dict[str, Any]:
        try:
            await self.store.set_tls(files)
        except NodeModeError as exc:
            raise ServiceError(str(exc), "invalid") from exc
        self.bus.publish(Topic.NODEMODE_SETTINGS)
        self.supervisor.poke()
        return self.view()

    # ------------------------------------------------------------ the identity hand-off

    @staticmethod
    def _key_name(name: str, node_id_hex: str) -> str:
        file = f"{name}.key"
        return f"smeshbox-{node_id_hex[:12]}.key" if file == SUPERVISED_KEY else file

    def _dataset(self, node_id: bytes) -> tuple[str, str]:
        for nid, name, drive in self.datasets():
            if nid == node_id:
                return name, drive
        raise ServiceError(f"no drive on this box holds a dataset for identity {node_id.hex()}", "not_found")

    async def key_file(self, node_id_hex: str) -> tuple[str, bytes]:
        """(file name, content) of the identity's go-spacemesh key file."""
        node_id = _node_id(node_id_hex)
        name, _ = self._dataset(node_id)
        identity = await asyncio.to_thread(self.identities.find, node_id)
        if identity is None:
            raise ServiceError(
                f"this box has no key for identity {node_id.hex()} (the node holds it)", "not_found"
            )
        return self._key_name(name, node_id.hex()), (identity.key_file_text() + "\n").encode()

    async def adopt_key(self, node_id_hex: str, text: str) -> dict[str, Any]:
        """Takes an identity's key from the node for a dataset on the box. The dataset's own key is
        simply confirmed; another identity's key makes the dataset for that identity — only while
        the data is this box's unfinished work, and never for an identity another drive already
        holds. Anything else is refused and nothing is written."""
        node_id = _node_id(node_id_hex)
        name, drive = self._dataset(node_id)
        try:
            identity = parse_key_text(text, name, "uploaded key")
        except IdentityError as exc:
            raise ServiceError(str(exc), "invalid") from exc
        if identity.node_id == node_id:
            existing = await asyncio.to_thread(self.identities.find, node_id)
            if existing is None:
                await asyncio.to_thread(self.identities.save, identity, True)
            return {"node_id": node_id.hex(), "name": name, "stored": existing is None, "replaced": False}
        for other, other_name, _ in self.datasets():
            if other == identity.node_id:
                raise ServiceError(
                    f"identity {other.hex()} is already the identity of {other_name}: {ONE_PLACE}", "conflict"
                )
        if self.adopt_identity is None:
            raise ServiceError(
                f"this key belongs to identity {identity.node_id.hex()}, but the dataset on the drive "
                f"was made for {node_id.hex()}; nothing was changed",
                "invalid",
            )
        await self.adopt_identity(drive, identity)
        self.supervisor.poke()
        return {"node_id": identity.node_id.hex(), "name": name, "stored": True, "replaced": True}

    # ------------------------------------------------------------ what the identities earned

    async def earnings(self) -> dict[str, Any]:
        """ATXs and rewards of every identity on the box, and the node's sync state, from the node's
        public API; without its address, where to look instead. Cached for a while: the dashboard
        asks often, the node's answers change once a layer."""
        from appliance.node.earnings import EarningsError, fetch_earnings

        public_api = self.store.current.public_api
        ids = [node_id for node_id, _, _ in self.datasets()]
        if not public_api:
            return {"available": False, "where": WHERE_TO_LOOK, "node": None}
        key = (public_api, tuple(ids))
        now = time.monotonic()
        if self._earnings is not None and self._earnings[0] == key and now - self._earnings[1] < EARNINGS_TTL:
            return self._earnings[2]
        try:
            found = await fetch_earnings(public_api, ids)
        except EarningsError as exc:
            return {"available": False, "where": f"{exc} {WHERE_TO_LOOK}", "node": None}
        answer = {
            "available": True,
            "where": f"from your node's public API at {public_api}",
            "node": dataclasses.asdict(found),
        }
        self._earnings = (key, now, answer)
        return answer

    # ------------------------------------------------------------ the commitment ATX

    async def commitment_from_node(self) -> dict[str, Any]:
        from appliance.node.publicapi import PublicApiError, highest_atx

        public_api = self.store.current.public_api
        if not public_api:
            raise ServiceError("enter the node's public API address (grpc-public-listener) first", "conflict")
        try:
            atx = await highest_atx(public_api)
        except PublicApiError as exc:
            raise ServiceError(str(exc), "unavailable") from exc
        return await self.update({"commitment_atx_id": atx.hex()})
