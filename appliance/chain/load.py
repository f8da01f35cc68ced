"""``<state>/network.json``: which chain this box smeshes on, read once at start.

The file names a preset and overrides any of its fields; it also says where the chain's services
are (PoET servers, the gateway) and may tune the light node's patience::

    {"preset": "mainnet", "poets": [{"url": "https://…", "pubkey": "<base64>"}],
     "gateway_url": "https://…", "labels_per_unit": 4294967296, "request_timeout": 10}

No file is mainnet without services (datasets can be made; the node waits for a gateway). A file
that cannot be used — not JSON, an unknown key, a bad value — is a :class:`ChainError` naming the
file and the field: a box must not make a dataset for one chain and prove for another. The older
form (a node config without the coinbase, timings under ``"clock"``) is still read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.chain.params import (
    ChainError,
    ChainParams,
    PoetServer,
    golden_atx_of,
    poets_from_json,
    poets_to_json,
)
from appliance.chain.presets import MAINNET, PRESETS

NETWORK_FILE = "network.json"
#: the light node's patience, not chain facts, but set per network (a devnet answers in milliseconds)
NODE_KNOBS: dict[str, type] = {
    "request_timeout": float, "retry_interval": float, "keep_epochs": int, "regossip_interval": float,
    "proof_timeout": float,
}  # fmt: skip
#: the older file's ``clock`` member -> the chain's field names
_CLOCK_FIELDS = {"genesis": "genesis_time", "layer_duration": "layer_duration",
                 "layers_per_epoch": "layers_per_epoch", "phase_shift": "phase_shift",
                 "cycle_gap": "cycle_gap", "grace_period": "grace_period", "network_delay": "network_delay"}
__all__ = ["NETWORK_FILE", "ChainError", "ChainSetup", "load_chain", "parse_chain"]


@dataclass(frozen=True)
class ChainSetup:
    """The chain and where its services are: what ``network.json`` says."""

    chain: ChainParams = MAINNET
    poets: tuple[PoetServer, ...] = ()
    gateway_url: str = ""
    node: dict[str, float | int] = field(default_factory=dict)  # NODE_KNOBS given in the file

    @property
    def has_services(self) -> bool:
        """The light node can smesh: a gateway and at least one PoET are known."""
        return bool(self.gateway_url and self.poets)

    def to_json(self) -> dict[str, Any]:
        """The ``network.json`` form (every chain field written out, so a preset's later change
        never moves a running network)."""
        data: dict[str, Any] = {"preset": self.chain.name if self.chain.name in PRESETS else MAINNET.name}
        data.update(self.chain.to_json())
        if self.poets:
            data["poets"] = poets_to_json(self.poets)
        if self.gateway_url:
            data["gateway_url"] = self.gateway_url
        data.update(self.node)
        return data


def parse_chain(data: Any, where: str = NETWORK_FILE) -> ChainSetup:
    """A ChainSetup from the JSON object ``data``; refuses anything it does not know."""
    if not isinstance(data, dict):
        raise ChainError(f"{where}: expected a JSON object")
    values = dict(data)
    if "coinbase" in values:
        raise ChainError(f"{where}: coinbase: the reward address is the person's, set on the page, "
                         "not a fact of the chain")
    clock = values.pop("clock", None)
    if clock is not None:
        if not isinstance(clock, dict) or set(clock) - set(_CLOCK_FIELDS):
            raise ChainError(f"{where}: clock: an object with {sorted(_CLOCK_FIELDS)}")
        values.update({_CLOCK_FIELDS[k]: v for k, v in clock.items()})
    preset_name = values.pop("preset", MAINNET.name)
    preset = PRESETS.get(preset_name) if isinstance(preset_name, str) else None
    if preset is None:
        raise ChainError(f"{where}: preset: one of {sorted(PRESETS)}, got {preset_name!r}")
    poets = poets_from_json(values.pop("poets"), where) if "poets" in values else ()
    gateway = values.pop("gateway_url", "")
    if not isinstance(gateway, str) or (gateway and not gateway.startswith(("http://", "https://"))):
        raise ChainError(f"{where}: gateway_url: an http(s) URL, got {gateway!r}")
    node = {name: _knob(where, name, values.pop(name)) for name in NODE_KNOBS if name in values}
    if "golden_atx" not in values and ("genesis_time" in values or "genesis_extra_data" in values):
        # another genesis is another golden ATX: never keep the preset's by accident
        values["golden_atx"] = golden_atx_of(
            _number(where, "genesis_time", values.get("genesis_time", preset.genesis_time)),
            str(values.get("genesis_extra_data", preset.genesis_extra_data)),
        )
    chain = preset.replace(values, where)
    return ChainSetup(chain, poets, gateway, node)


def load_chain(state_dir: Path) -> ChainSetup:
    """``<state_dir>/network.json`` parsed; mainnet without services when there is no file."""
    path = Path(state_dir) / NETWORK_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        return ChainSetup()
    except (OSError, UnicodeDecodeError) as exc:
        raise ChainError(f"{path}: cannot be read ({exc})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ChainError(f"{path}: not valid JSON ({exc})") from exc
    return parse_chain(data, str(path))


def _number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ChainError(f"{where}: {name}: a number, got {value!r}")
    return float(value)


def _knob(where: str, name: str, value: Any) -> float | int:
    number = _number(where, name, value)
    if number <= 0 or (NODE_KNOBS[name] is int and number != int(number)):
        kind = "whole number" if NODE_KNOBS[name] is int else "number"
        raise ChainError(f"{where}: {name}: a positive {kind}, got {value!r}")
    return NODE_KNOBS[name](number)

