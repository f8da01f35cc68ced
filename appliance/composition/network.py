"""Which chain the node smeshes on: the built-in devnet with ``--dev``, ``<state>/network.json``
on a box; and what new datasets commit to on it."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.config import PostSettings, StateLayout
from appliance.node.config import NodeConfig, NodeConfigError
from appliance.system.files import atomic_write_json

if TYPE_CHECKING:
    from appliance.devnet.devnet import Devnet
    from appliance.node.clock import TimeSource
    from appliance.post.proof import ProofConfig

log = logging.getLogger(__name__)

NETWORK_FILE = "network.json"
DEVNET_FILE = "devnet.json"
#: the dev devnet's epoch: long enough to watch, short enough to see several in one sitting
DEV_TIME_SCALE = 6.0


@dataclass
class Network:
    """Where the node smeshes: ``node_config(coinbase)`` or None while unconfigured."""

    hrp: str
    node_state_dir: Path
    build: Callable[[bytes], NodeConfig | None] | None = None
    proof_config: ProofConfig | None = None  # None = mainnet defaults
    commitment_atx_id: str | None = None  # what new datasets commit to (the golden ATX on a devnet)
    devnet: Devnet | None = None  # with --dev
    time_source: TimeSource | None = None
    default_coinbase: bytes | None = None  # smesh to this until a reward address is set (devnet only)

    def node_config(self, coinbase: bytes) -> NodeConfig | None:
        return self.build(coinbase) if self.build else None


def box_network(layout: StateLayout) -> Network:
    """The network from ``<state>/network.json`` (a NodeConfig without the coinbase)."""
    path = layout.root / NETWORK_FILE

    def build(coinbase: bytes) -> NodeConfig | None:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            log.error("%s is not valid JSON: %s", path, exc)
            return None
        if not isinstance(data, dict):
            log.error("%s: expected a JSON mapping ({...})", path)
            return None
        try:
            return NodeConfig.from_json({**data, "coinbase": coinbase.hex()})
        except NodeConfigError as exc:
            log.error("%s: %s", path, exc)
            return None

    hrp, golden = "sm", None
    with contextlib.suppress(FileNotFoundError, ValueError, AttributeError):
        data = json.loads(path.read_text())
        hrp, golden = str(data.get("hrp", hrp)), data.get("golden_atx")
    return Network(hrp=hrp, node_state_dir=layout.root / "node", build=build,
                   commitment_atx_id=golden if isinstance(golden, str) and len(golden) == 64 else None)


def dev_network(layout: StateLayout, labels_per_unit: int, scrypt_n: int,
                time_scale: float = DEV_TIME_SCALE) -> Network:
    """The built-in devnet, in process, sized like the --dev drives' PoST data.

    The genesis time is kept in the state folder so the golden ATX — which the dev datasets commit
    to — survives restarts. The devnet itself keeps its chain in memory, so the node's devnet state
    starts fresh with every run (its first ATX is an initial one again)."""
    from appliance.devnet.devnet import Devnet, DevnetConfig

    record = layout.root / DEVNET_FILE
    try:
        genesis = float(json.loads(record.read_text())["genesis"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        genesis = float(int(time.time()) + 5)
        atomic_write_json(record, {"genesis": genesis})
    base = DevnetConfig()
    scaled = {
        name: getattr(base, name) * time_scale
        for name in ("layer_duration", "phase_shift", "cycle_gap", "grace_period", "network_delay")
    }
    devnet = Devnet(DevnetConfig(**scaled, genesis=genesis, labels_per_unit=labels_per_unit,
                                 scrypt_n=scrypt_n, hrp="sm"))
    state = layout.root / "node-devnet"
    shutil.rmtree(state, ignore_errors=True)  # the devnet forgot its chain: so must the node
    return Network(
        hrp=devnet.config.hrp, node_state_dir=state,
        build=lambda coinbase: devnet.node_config(coinbase=coinbase) if devnet.gateway_url else None,
        proof_config=devnet.proof_config(), commitment_atx_id=devnet.golden_atx.hex(),
        devnet=devnet, time_source=devnet.time,
        default_coinbase=bytes(4) + hashlib.blake2b(b"smeshbox-devnet-coinbase", digest_size=20).digest(),
    )


def post_settings_for(post: PostSettings, network: Network) -> PostSettings:
    """New datasets commit to the network's golden ATX (the devnet's with --dev), so the network
    accepts their proofs."""
    if network.commitment_atx_id is None:
        return post
    return dataclasses.replace(post, commitment_atx_id=network.commitment_atx_id)
