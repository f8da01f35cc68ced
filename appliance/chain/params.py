"""``ChainParams``: every fact of a Spacemesh chain the box needs, checked when it is made.

A chain fact is one every node of the network must agree on — the address prefix, the genesis, the
clock, the PoET round timing, the PoST parameters proofs are checked against. Machine knobs (threads,
nonces, file sizes) and the person's reward address are not chain facts and live elsewhere.
The field names follow go-spacemesh's config (``config/mainnet.go``), in seconds and plain ints.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from typing import Any

U32_MAX = (1 << 32) - 1


class ChainError(ValueError):
    """Chain parameters that cannot be used; the message names the field (and the file)."""


@dataclass(frozen=True)
class PoetServer:
    """A PoET service of the chain: its URL and pinned ed25519 key (None accepts any: dev only)."""

    url: str
    pubkey: bytes | None = None


@dataclass(frozen=True)
class ChainParams:
    name: str
    hrp: str  # bech32 prefix of addresses (go-spacemesh NetworkHRP)
    genesis_time: float  # unix seconds of layer 0
    genesis_extra_data: str
    golden_atx: bytes  # go-spacemesh GenesisConfig.GoldenATX(): blake3(unix time ‖ extra data)
    layer_duration: float  # seconds
    layers_per_epoch: int
    # PoET round timing (go-spacemesh POET section) and the ATX grading unit (ATXGradeDelay)
    phase_shift: float
    cycle_gap: float
    grace_period: float
    network_delay: float
    # PoST (go-spacemesh POST section; scrypt N from the init options every dataset is made with)
    labels_per_unit: int
    scrypt_n: int
    k1: int
    k2: int
    k3: int
    pow_difficulty: bytes  # the unscaled k2pow target, 32 bytes big-endian
    min_num_units: int
    max_num_units: int
    # weights and sizes of the mesh
    tick_size: int
    layer_avg_size: int
    min_active_set_weight: int
    # the first publish epoch whose ATXs are v2 (go-spacemesh ``AtxVersions``); None: v1 only
    atx_v2_from_epoch: int | None = None

    def __post_init__(self) -> None:
        for name, value in _ints(self):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ChainError(f"{name}: a whole number, got {value!r}")
        for name in ("genesis_time", "layer_duration", "phase_shift", "cycle_gap", "grace_period",
                     "network_delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                raise ChainError(f"{name}: a number of seconds, got {value!r}")
        if not self.name or not isinstance(self.name, str):
            raise ChainError("name: a non-empty string")
        if not isinstance(self.hrp, str) or not 1 <= len(self.hrp) <= 83 or not self.hrp.isascii() \
                or not self.hrp.isalnum() or self.hrp != self.hrp.lower():
            raise ChainError(f"hrp: 1-83 lower-case letters or digits, got {self.hrp!r}")
        if not isinstance(self.genesis_extra_data, str):
            raise ChainError("genesis_extra_data: a string")
        for name, value in (("golden_atx", self.golden_atx), ("pow_difficulty", self.pow_difficulty)):
            if not isinstance(value, bytes) or len(value) != 32:
                raise ChainError(f"{name}: 32 bytes (64 hex characters)")
        if self.genesis_time < 0 or self.layer_duration <= 0 or self.layers_per_epoch <= 0:
            raise ChainError("need genesis_time >= 0, layer_duration > 0 and layers_per_epoch > 0")
        epoch = self.layer_duration * self.layers_per_epoch
        if not 0 < self.cycle_gap < epoch or not 0 <= self.phase_shift < 2 * epoch:
            raise ChainError("cycle_gap must be within an epoch and phase_shift not negative")
        if self.grace_period < 0 or self.network_delay < 0:
            raise ChainError("grace_period and network_delay must not be negative")
        if self.scrypt_n < 2 or self.scrypt_n & (self.scrypt_n - 1):
            raise ChainError(f"scrypt_n must be a power of two (2 or more), got {self.scrypt_n}")
        if not 0 < self.labels_per_unit <= 1 << 48:
            raise ChainError(f"labels_per_unit must be 1 to 2^48, got {self.labels_per_unit}")
        if not 0 < self.k1 < self.k2 <= U32_MAX or not 0 < self.k3 <= self.k2:
            raise ChainError(f"need 0 < k1 < k2 < 2^32 and 0 < k3 <= k2, got {self.k1}/{self.k2}/{self.k3}")
        if not 1 <= self.min_num_units <= self.max_num_units <= U32_MAX:
            raise ChainError("need 1 <= min_num_units <= max_num_units < 2^32")
        if min(self.tick_size, self.layer_avg_size, self.min_active_set_weight) <= 0:
            raise ChainError("tick_size, layer_avg_size and min_active_set_weight must be positive")
        if self.atx_v2_from_epoch is not None and (
            isinstance(self.atx_v2_from_epoch, bool) or not isinstance(self.atx_v2_from_epoch, int)
            or not 0 <= self.atx_v2_from_epoch <= U32_MAX
        ):
            raise ChainError("atx_v2_from_epoch: an epoch number or null")

    @property
    def epoch_duration(self) -> float:
        return self.layer_duration * self.layers_per_epoch

    def atx_version(self, publish_epoch: int) -> int:
        """go-spacemesh's handler picks the ATX decoder by publish epoch (``activation/handler.go``
        ``determineVersion``)."""
        if self.atx_v2_from_epoch is not None and publish_epoch >= self.atx_v2_from_epoch:
            return 2
        return 1

    def at_genesis(self, genesis_time: float) -> ChainParams:
        """This chain started at ``genesis_time`` (its golden ATX follows, as go-spacemesh derives it)."""
        return dataclasses.replace(self, genesis_time=genesis_time,
                                   golden_atx=golden_atx_of(genesis_time, self.genesis_extra_data))

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["golden_atx"] = self.golden_atx.hex()
        data["pow_difficulty"] = self.pow_difficulty.hex()
        return data

    def replace(self, changes: dict[str, Any], where: str = "chain") -> ChainParams:
        """This chain with ``changes`` (JSON values: bytes as hex) applied; unknown keys refused."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ChainError(f"{where}: unknown field(s) {unknown}")
        values = dict(changes)
        for name in ("golden_atx", "pow_difficulty"):
            if name in values:
                values[name] = _hex32(where, name, values[name])
        try:
            return dataclasses.replace(self, **values)
        except ChainError as exc:
            raise ChainError(f"{where}: {exc}") from exc


def _ints(chain: ChainParams) -> list[tuple[str, Any]]:
    return [(f.name, getattr(chain, f.name)) for f in dataclasses.fields(chain)
            if f.type == "int" and f.name != "atx_v2_from_epoch"]


def _hex32(where: str, name: str, value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str) or len(value) != 64:
        raise ChainError(f"{where}: {name}: 64 hex characters")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise ChainError(f"{where}: {name}: 64 hex characters") from exc


def poets_to_json(poets: tuple[PoetServer, ...]) -> list[dict[str, str | None]]:
    return [{"url": p.url, "pubkey": base64.b64encode(p.pubkey).decode() if p.pubkey else None}
            for p in poets]


def poets_from_json(raw: Any, where: str) -> tuple[PoetServer, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise ChainError(f"{where}: poets: a list of {{url, pubkey}} objects")
    found = []
    for item in raw:
        url, key = item.get("url"), item.get("pubkey")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ChainError(f"{where}: poets: each needs an http(s) url, got {url!r}")
        if set(item) - {"url", "pubkey"}:
            raise ChainError(f"{where}: poets: unknown field(s) {sorted(set(item) - {'url', 'pubkey'})}")
        try:
            pubkey = base64.b64decode(key, validate=True) if key else None
        except (binascii.Error, TypeError, ValueError) as exc:
            raise ChainError(f"{where}: poets: pubkey of {url} is not base64") from exc
        if pubkey is not None and len(pubkey) != 32:
            raise ChainError(f"{where}: poets: pubkey of {url} must be 32 bytes")
        found.append(PoetServer(url, pubkey))
    return tuple(found)


def golden_atx_of(genesis_time: float, extra_data: str) -> bytes:
    """go-spacemesh ``config/genesis.go`` ``GoldenATX``: blake3 of the decimal unix time then the
    extra data (spacemeshos/go-spacemesh @ cc65f271f3e21b519532f2924ab227ccf352c2de)."""
    import blake3

    return blake3.blake3(str(int(genesis_time)).encode() + extra_data.encode()).digest()
