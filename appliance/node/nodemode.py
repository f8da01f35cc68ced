"""How the box earns, and the settings of "with my Spacemesh node" (node mode).

Two ways: the built-in light node (``"light"``, needs a gateway) or node mode (``"node"``): each
drive's dataset is one identity served to the person's own go-spacemesh node as a post-service
(:mod:`appliance.node.postservice`). This module owns node mode's settings — the node's post
listener, its optional public API (for the commitment ATX and the earnings), the PoST network
parameters from a preset, and the mTLS files — in ``<state>/nodemode/``: one JSON file written
atomically, the TLS files beside it with mode 0600. A bad value changes nothing.

The mainnet preset is the chain's (``appliance.chain.MAINNET``, go-spacemesh's ``config/mainnet.go``),
whose PoST numbers are also post-rs service's defaults.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance import chain as chains
from appliance.chain import ChainParams
from appliance.system.files import atomic_write_bytes, atomic_write_json

if TYPE_CHECKING:
    from appliance.post.proof import ProofConfig

MODES = ("light", "node")
CONFIG_FILE = "config.json"
TLS_FILES = ("ca_cert", "cert", "key")
MAX_PEM = 64 * 1024
U32_MAX = (1 << 32) - 1


class NodeModeError(ValueError):
    """A rejected node-mode setting; the message names the field and says what is wrong."""


@dataclass(frozen=True)
class NetworkPreset:
    """The PoST parameters a node checks proofs against (its ``post`` config section)."""

    name: str
    k1: int
    k2: int
    pow_difficulty: str  # hex, 32 bytes
    scrypt_n: int
    labels_per_unit: int
    min_num_units: int
    max_num_units: int = U32_MAX
    default_address: str = ""  # a node this preset comes with (the devnet's), else ""
    default_public_api: str = ""
    # the network's clock and PoET timing, to say when the node will next ask for a proof (0 = unknown)
    genesis: float = 0.0  # unix seconds
    epoch_seconds: float = 0.0  # layer duration x layers per epoch
    phase_shift: float = 0.0
    cycle_gap: float = 0.0

    def next_proof_at(self, now: float) -> float | None:
        """When the next PoET round ends — the node asks for its NIPoST proof right after.
        go-spacemesh ``activation/nipost.go`` (@ cc65f271): ``curPoetRoundEnd =
        LayerToTime(PublishEpoch.FirstLayer()) + PhaseShift - CycleGap``."""
        if self.epoch_seconds <= 0 or self.genesis <= 0:
            return None
        offset = self.phase_shift - self.cycle_gap
        k = max(1, math.floor((now - self.genesis - offset) / self.epoch_seconds) + 1)
        return self.genesis + k * self.epoch_seconds + offset

    def proof_config(self) -> ProofConfig:
        from appliance.post.proof import ProofConfig

        return ProofConfig(self.k1, self.k2, bytes.fromhex(self.pow_difficulty))

    @classmethod
    def from_chain(cls, chain: ChainParams, **extra: Any) -> NetworkPreset:
        """The preset of a known chain (``appliance.chain``): its PoST parameters and PoET timing."""
        values: dict[str, Any] = dict(
            name=chain.name, k1=chain.k1, k2=chain.k2, pow_difficulty=chain.pow_difficulty.hex(),
            scrypt_n=chain.scrypt_n, labels_per_unit=chain.labels_per_unit, min_num_units=chain.min_num_units,
            max_num_units=chain.max_num_units, genesis=chain.genesis_time, epoch_seconds=chain.epoch_duration,
            phase_shift=chain.phase_shift, cycle_gap=chain.cycle_gap,
        )  # fmt: skip
        return cls(**{**values, **extra})


MAINNET = NetworkPreset.from_chain(chains.MAINNET)


@dataclass(frozen=True)
class NodeModeConfig:
    mode: str = "light"
    node_address: str = ""  # the node's grpc-post-listener, http://HOST:PORT
    public_api: str = ""  # the node's grpc-public-listener HOST:PORT ("" = unknown)
    preset: str = "mainnet"
    custom: NetworkPreset | None = None  # the "custom" preset's values
    tls_domain: str = ""
    chosen: bool = False  # the person picked a mode (onboarding asks until then)
    commitment_atx_id: str = ""  # what new datasets commit to in node mode ("" = the box's default)


@dataclass(frozen=True)
class TlsPaths:
    ca_cert: Path
    cert: Path
    key: Path
    domain: str | None


def _int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise NodeModeError(f"{name}: a whole number from {low} to {high}")
    return value


def check_preset(raw: Any) -> NetworkPreset:
    """A custom preset as the person typed it, checked like post-rs checks its flags."""
    if not isinstance(raw, dict):
        raise NodeModeError(
            "custom: an object with k1, k2, pow_difficulty, scrypt_n, labels_per_unit, min_num_units"
        )
    pow_hex = raw.get("pow_difficulty")
    if (
        not isinstance(pow_hex, str)
        or len(pow_hex) != 64
        or any(c not in "0123456789abcdefABCDEF" for c in pow_hex)
    ):
        raise NodeModeError("custom pow_difficulty: 64 hex characters")
    scrypt_n = _int("custom scrypt_n", raw.get("scrypt_n"), 2, 1 << 31)
    if scrypt_n & (scrypt_n - 1):
        raise NodeModeError("custom scrypt_n: a power of two")
    k1 = _int("custom k1", raw.get("k1"), 1, U32_MAX)
    k2 = _int("custom k2", raw.get("k2"), 2, U32_MAX)
    min_units = _int("custom min_num_units", raw.get("min_num_units"), 1, U32_MAX)
    max_units = _int("custom max_num_units", raw.get("max_num_units", U32_MAX), min_units, U32_MAX)
    labels = _int("custom labels_per_unit", raw.get("labels_per_unit"), 1, 1 << 48)
    timing = {}
    for name in ("genesis", "epoch_seconds", "phase_shift", "cycle_gap"):  # optional: for "next proof"
        value = raw.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e11:
            raise NodeModeError(f"custom {name}: seconds, 0 or more")
        timing[name] = float(value)
    return NetworkPreset("custom", k1, k2, pow_hex.lower(), scrypt_n, labels, min_units, max_units, **timing)


def check_address(value: Any) -> str:
    from appliance.node.postservice import EndpointError, parse_endpoint

    if not isinstance(value, str) or len(value) > 300:
        raise NodeModeError("Node address: text like http://192.168.1.20:9094")
    if not value.strip():
        return ""
    try:
        parse_endpoint(value, tls=True)
    except EndpointError as exc:
        raise NodeModeError(f"Node address: {exc}") from exc
    return value.strip()


def check_public_api(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 300:
        raise NodeModeError("Public API: HOST:PORT of the node's grpc-public-listener")
    text = value.strip().removeprefix("http://")
    if not text:
        return ""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 or "/" in text:
        raise NodeModeError(
            "Public API: HOST:PORT of the node's grpc-public-listener, e.g. 192.168.1.20:9092"
        )
    return text


class NodeModeStore:
    """The node-mode settings in memory (cheap reads) and on disk (atomic writes)."""

    def __init__(
        self,
        directory: str | Path,
        presets: dict[str, NetworkPreset] | None = None,
        default_preset: str = "mainnet",
    ) -> None:
        self.dir = Path(directory)
        self.presets = {"mainnet": MAINNET, **(presets or {})}
        self._lock = asyncio.Lock()
        self.current = self._load()
        if not (self.dir / CONFIG_FILE).exists() and default_preset in self.presets:
            self.current = replace(self.current, preset=default_preset)  # --dev: the devnet's node

    def _load(self) -> NodeModeConfig:
        try:
            raw = json.loads((self.dir / CONFIG_FILE).read_text())
        except FileNotFoundError:
            return NodeModeConfig()
        except ValueError as exc:
            raise NodeModeError(f"{self.dir / CONFIG_FILE} is damaged: {exc}") from exc
        if not isinstance(raw, dict):
            raise NodeModeError(f"{self.dir / CONFIG_FILE} is damaged: not an object")
        known = {k: raw[k] for k in asdict(NodeModeConfig()) if k in raw}
        if known.get("custom") is not None:
            known["custom"] = check_preset(known["custom"])
        return NodeModeConfig(**known)

    def preset(self, config: NodeModeConfig | None = None) -> NetworkPreset:
        config = config or self.current
        if config.preset == "custom" and config.custom is not None:
            return config.custom
        return self.presets.get(config.preset, MAINNET)

    def tls(self) -> TlsPaths | None:
        paths = [self.dir / "tls" / f"{name}.pem" for name in TLS_FILES]
        if not all(p.is_file() for p in paths):
            return None
        return TlsPaths(*paths, domain=self.current.tls_domain or None)

    def validate(self, change: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in change.items():
            if key == "mode":
                if value not in MODES:
                    raise NodeModeError(f"mode: one of {', '.join(MODES)}")
                out[key] = value
                out["chosen"] = True
            elif key == "node_address":
                out[key] = check_address(value)
            elif key == "public_api":
                out[key] = check_public_api(value)
            elif key == "preset":
                if value not in (*self.presets, "custom"):
                    raise NodeModeError(f"preset: one of {', '.join((*self.presets, 'custom'))}")
                out[key] = value
            elif key == "custom":
                out[key] = check_preset(value)
            elif key == "commitment_atx_id":
                if (
                    not isinstance(value, str)
                    or len(value) not in (0, 64)
                    or any(c not in "0123456789abcdefABCDEF" for c in value)
                ):
                    raise NodeModeError("Commitment ATX: 64 hex characters (an ATX id), or empty")
                out[key] = value.lower()
            elif key == "tls_domain":
                if not isinstance(value, str) or len(value) > 253 or any(c.isspace() for c in value):
                    raise NodeModeError("TLS domain: a host name")
                out[key] = value
            else:
                raise NodeModeError(f"{key}: not a node-mode setting")
        if (
            out.get("preset", self.current.preset) == "custom"
            and out.get("custom", self.current.custom) is None
        ):
            raise NodeModeError("preset: give the custom values first")
        return out

    async def update(self, change: dict[str, Any]) -> NodeModeConfig:
        checked = self.validate(change)
        async with self._lock:
            new = replace(self.current, **checked)
            await asyncio.to_thread(self._write, new)
            self.current = new
        return new

    def _write(self, config: NodeModeConfig) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.dir / CONFIG_FILE, asdict(config))

    async def set_tls(self, files: dict[str, bytes] | None) -> None:
        """Stores the three PEM files (0600), or removes them with None. Checked before writing:
        each must be PEM of the right kind, so a wrong upload changes nothing."""
        if files is None:
            for name in TLS_FILES:
                (self.dir / "tls" / f"{name}.pem").unlink(missing_ok=True)
            return
        if set(files) != set(TLS_FILES):
            raise NodeModeError("TLS: upload all three of the CA certificate, the certificate and the key")
        for name, data in files.items():
            if len(data) > MAX_PEM:
                raise NodeModeError(f"TLS {name}: too large for a PEM file")
            kind = b"PRIVATE KEY-----" if name == "key" else b"CERTIFICATE-----"
            if b"-----BEGIN " not in data or kind not in data:
                raise NodeModeError(
                    f"TLS {name}: not a PEM {'private key' if name == 'key' else 'certificate'}"
                )
        await asyncio.to_thread(self._write_tls, files)

    def _write_tls(self, files: dict[str, bytes]) -> None:
        folder = self.dir / "tls"
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        for name, data in files.items():
            atomic_write_bytes(folder / f"{name}.pem", data, mode=0o600)


def preset_views(store: NodeModeStore) -> list[dict[str, Any]]:
    return [asdict(p) for p in store.presets.values()]
