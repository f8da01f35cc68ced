"""Configuration of the light node: the chain (:class:`appliance.chain.ChainParams`), where its
services are (PoETs, gateway), the smesher's reward address and the node's own patience.

Nothing network-specific is decided here (node.md §3.3): the chain's facts come whole from
``appliance.chain`` — a preset and ``network.json``, or the devnet. Loaded from JSON with typed errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from appliance.chain import ChainError, ChainParams, ChainSetup, PoetServer
from appliance.chain.params import poets_from_json, poets_to_json
from appliance.node.address import ADDRESS_LENGTH
from appliance.node.clock import ClockConfig, ClockError
from appliance.node.signing import genesis_id

__all__ = ["NodeConfig", "NodeConfigError", "PoetServer"]


class NodeConfigError(ValueError):
    pass


@dataclass(frozen=True)
class NodeConfig:
    chain: ChainParams
    poets: tuple[PoetServer, ...]
    gateway_url: str
    coinbase: bytes  # the person's reward address: not a chain fact
    request_timeout: float = 10.0
    retry_interval: float = 5.0
    keep_epochs: int = 8  # epoch records kept in the state file
    # A published ATX is gossiped again this often until its target epoch starts (go-spacemesh:
    # 2 h), so peers that missed it (partitions, restarts) still count our weight.
    regossip_interval: float = 7200.0
    # Reading a mainnet PoET proof (millions of members, hundreds of MB) takes a while on a home link.
    proof_timeout: float = 900.0

    def __post_init__(self) -> None:
        if not isinstance(self.chain, ChainParams):
            raise NodeConfigError("chain must be ChainParams")
        if len(self.coinbase) != ADDRESS_LENGTH:
            raise NodeConfigError("coinbase must be a 24-byte address")
        if not self.poets:
            raise NodeConfigError("at least one PoET server is needed")
        if min(self.retry_interval, self.regossip_interval) <= 0:
            raise NodeConfigError("retry_interval and regossip_interval must be positive")
        try:
            self.clock  # noqa: B018 - the node's own clock checks, made once here
        except ClockError as exc:
            raise NodeConfigError(f"invalid clock: {exc}") from exc

    @property
    def clock(self) -> ClockConfig:
        """The chain's timing as the node's clock arithmetic takes it."""
        c = self.chain
        return ClockConfig(c.genesis_time, c.layer_duration, c.layers_per_epoch, c.phase_shift, c.cycle_gap,
                           c.grace_period, c.network_delay)

    @property
    def hrp(self) -> str:
        return self.chain.hrp

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
        return genesis_id(int(self.chain.genesis_time), self.chain.genesis_extra_data)

    @classmethod
    def from_setup(cls, setup: ChainSetup, coinbase: bytes) -> NodeConfig:
        """The node for the chain and services ``network.json`` names, smeshing to ``coinbase``."""
        return dataclasses.replace(cls(setup.chain, setup.poets, setup.gateway_url, coinbase), **setup.node)

    def with_chain(self, **changes: Any) -> NodeConfig:
        """This config on the chain with ``changes`` (a network upgrade, in tests)."""
        return dataclasses.replace(self, chain=dataclasses.replace(self.chain, **changes))

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["chain"] = self.chain.to_json()
        data["coinbase"] = self.coinbase.hex()
        data["poets"] = poets_to_json(self.poets)
        return data

    @staticmethod
    def from_json(data: Any) -> NodeConfig:
        if not isinstance(data, dict):
            raise NodeConfigError("node config must be a JSON object")
        try:
            values = dict(data)
            chain = values.pop("chain")
            if not isinstance(chain, dict) or chain.get("name") is None:
                raise NodeConfigError("chain: an object with every chain field")
            from appliance.chain import PRESETS

            base = PRESETS.get(chain["name"], PRESETS["mainnet"])
            values["chain"] = base.replace(chain, "chain")
            values["coinbase"] = bytes.fromhex(values["coinbase"])
            values["poets"] = poets_from_json(values["poets"], "poets")
            return NodeConfig(**values)
        except (KeyError, TypeError, ValueError, ChainError) as exc:
            if isinstance(exc, NodeConfigError):
                raise
            raise NodeConfigError(f"invalid node config: {exc}") from exc
