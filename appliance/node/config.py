"""Configuration of the light node: the network (genesis, clock, PoETs, gateway) and the smesher.

Nothing network-specific is hard-coded (node.md §3.3): mainnet values are only defaults of the
clock parameters, and the devnet writes its own config. Loaded from JSON with typed errors.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from appliance.node.address import ADDRESS_LENGTH
from appliance.node.clock import ClockConfig, ClockError
from appliance.node.signing import genesis_id


class NodeConfigError(ValueError):
    pass


@dataclass(frozen=True)
class PoetServer:
    url: str
    pubkey: bytes | None = None  # pinned ed25519 service key; None accepts any (dev only)


@dataclass(frozen=True)
class NodeConfig:
    clock: ClockConfig
    genesis_extra_data: str
    golden_atx: bytes
    poets: tuple[PoetServer, ...]
    gateway_url: str
    coinbase: bytes
    labels_per_unit: int
    hrp: str = "sm"
    tick_size: int = 9_331_200
    layer_avg_size: int = 50
    min_active_set_weight: int = 1_000_000
    request_timeout: float = 10.0
    retry_interval: float = 5.0
    keep_epochs: int = 8  # epoch records kept in the state file
    # A published ATX is gossiped again this often until its target epoch starts (go-spacemesh:
    # 2 h), so peers that missed it (partitions, restarts) still count our weight.
    regossip_interval: float = 7200.0
    # The first publish epoch whose ATXs are v2: go-spacemesh's handler picks the decoder by publish
    # epoch (``activation/handler.go`` ``determineVersion``, ``AtxVersions``); v1.8 set it to 45 on
    # mainnet. None keeps v1 for networks that never switched.
    atx_v2_from_epoch: int | None = None
    # Reading a mainnet PoET proof (millions of members, hundreds of MB) takes a while on a home link.
    proof_timeout: float = 900.0

    def atx_version(self, publish_epoch: int) -> int:
        if self.atx_v2_from_epoch is not None and publish_epoch >= self.atx_v2_from_epoch:
            return 2
        return 1

    def __post_init__(self) -> None:
        if len(self.golden_atx) != 32:
            raise NodeConfigError("golden_atx must be 32 bytes")
        if len(self.coinbase) != ADDRESS_LENGTH:
            raise NodeConfigError("coinbase must be a 24-byte address")
        if not self.poets:
            raise NodeConfigError("at least one PoET server is needed")
        if self.atx_v2_from_epoch is not None and (
            isinstance(self.atx_v2_from_epoch, bool) or not 0 <= self.atx_v2_from_epoch < 1 << 32
        ):
            raise NodeConfigError("atx_v2_from_epoch must be an epoch number or null")
        if min(self.labels_per_unit, self.tick_size, self.retry_interval, self.regossip_interval) <= 0:
            raise NodeConfigError(
                "labels_per_unit, tick_size, retry_interval and regossip_interval must be positive"
            )

    def with_servers(self, poets: Sequence[str], gateways: Sequence[str]) -> NodeConfig:
        """The person's choice of servers (Settings) over the network's: the PoET servers replace the
        network's list, the gateway replaces the network's; empty lists keep the network's.

        A PoET is known by its key: go-spacemesh configures each as ``PoetServer{Address, Pubkey}``
        (``common/types/poet.go`` @ cc65f271f3e21b519532f2924ab227ccf352c2de) and registers under
        that key, so on a network that pins keys only its own PoET servers can be chosen (and
        reordered); a URL it does not name is refused with the reason, never used unpinned."""
        for url in (*poets, *gateways):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise NodeConfigError(f"{url!r} is not an http(s) URL")
        pinned = {p.url.rstrip("/"): p.pubkey for p in self.poets}
        pins = any(key is not None for key in pinned.values())
        for url in poets:
            if pins and url.rstrip("/") not in pinned:
                raise NodeConfigError(
                    f"PoET {url} is not one of this network's ({', '.join(pinned)}); each PoET is "
                    "known by its pinned key, so only those can be chosen")
        chosen = tuple(PoetServer(url, pinned.get(url.rstrip("/"))) for url in poets) or self.poets
        gateway = gateways[0] if gateways else self.gateway_url
        return dataclasses.replace(self, poets=chosen, gateway_url=gateway)

    @property
    def genesis_id(self) -> bytes:
        return genesis_id(int(self.clock.genesis), self.genesis_extra_data)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["golden_atx"] = self.golden_atx.hex()
        data["coinbase"] = self.coinbase.hex()
        data["poets"] = [
            {"url": p.url, "pubkey": base64.b64encode(p.pubkey).decode() if p.pubkey else None}
            for p in self.poets
        ]
        return data

    @staticmethod
    def from_json(data: Any) -> NodeConfig:
        if not isinstance(data, dict):
            raise NodeConfigError("node config must be a JSON object")
        try:
            values = dict(data)
            values["clock"] = ClockConfig(**values["clock"])
            values["golden_atx"] = bytes.fromhex(values["golden_atx"])
            values["coinbase"] = bytes.fromhex(values["coinbase"])
            values["poets"] = tuple(
                PoetServer(
                    p["url"], base64.b64decode(p["pubkey"], validate=True) if p.get("pubkey") else None
                )
                for p in values["poets"]
            )
            return NodeConfig(**values)
        except (KeyError, TypeError, ValueError, binascii.Error, ClockError) as exc:
            raise NodeConfigError(f"invalid node config: {exc}") from exc
