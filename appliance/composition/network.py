"""Which chain the node smeshes on: the built-in devnet with ``--dev``, ``<state>/network.json``
on a box; and what new datasets commit to on it."""

from __future__ import annotations

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

from appliance.chain import MAINNET, ChainParams, ChainSetup
from appliance.config import PostSettings, StateLayout
from appliance.node.config import NodeConfig
from appliance.post.proof import ProofConfig
from appliance.system.files import atomic_write_json

if TYPE_CHECKING:
    from appliance.devnet.devnet import Devnet
    from appliance.node.clock import TimeSource

log = logging.getLogger(__name__)

DEVNET_FILE = "devnet.json"
#: the dev devnet's epoch: long enough to watch, short enough to see several in one sitting
DEV_TIME_SCALE = 6.0


@dataclass
class Network:
    """Where the node smeshes: ``node_config(coinbase)`` or None while unconfigured."""

    chain: ChainParams  # the one source of the chain's facts (post, jobs, node, addresses)
    node_state_dir: Path
    build: Callable[[bytes], NodeConfig | None] | None = None
    devnet: Devnet | None = None  # with --dev
    time_source: TimeSource | None = None
    default_coinbase: bytes | None = None  # smesh to this until a reward address is set (devnet only)

    @property
    def hrp(self) -> str:
        return self.chain.hrp

    @property
    def proof_config(self) -> ProofConfig:
        return ProofConfig.from_chain(self.chain)

    @property
    def commitment_atx_id(self) -> str:
        """What new datasets commit to: the chain's golden ATX."""
        return self.chain.golden_atx.hex()

    def node_config(self, coinbase: bytes) -> NodeConfig | None:
        return self.build(coinbase) if self.build else None


def box_network(layout: StateLayout, setup: ChainSetup) -> Network:
    """The network ``<state>/network.json`` names (``appliance.chain.load_chain``, read once)."""

    def build(coinbase: bytes) -> NodeConfig | None:
        if not setup.has_services:
            return None
        return NodeConfig.from_setup(setup, coinbase)

    return Network(chain=setup.chain, node_state_dir=layout.root / "node", build=build)


def dev_network(layout: StateLayout, time_scale: float = DEV_TIME_SCALE) -> Network:
    """The built-in devnet, in process, with PoST sized for the --dev drives.

    The genesis time is kept in the state folder so the golden ATX — which the dev datasets commit
    to — survives restarts. The devnet itself keeps its chain in memory, so the node's devnet state
    starts fresh with every run (its first ATX is an initial one again)."""
    from appliance.devnet.devnet import Devnet, DevnetConfig
    from appliance.drives.dev import DEV_LABELS_PER_UNIT, DEV_SCRYPT_N

    record = layout.root / DEVNET_FILE
    try:
        genesis = float(json.loads(record.read_text())["genesis"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        genesis = float(int(time.time()) + 5)
        atomic_write_json(record, {"genesis": genesis})
    base = DevnetConfig().chain
    scaled = {
        name: getattr(base, name) * time_scale
        for name in ("layer_duration", "phase_shift", "cycle_gap", "grace_period", "network_delay")
    }
    devnet = Devnet(DevnetConfig.of(**scaled, genesis=genesis, labels_per_unit=DEV_LABELS_PER_UNIT,
                                    scrypt_n=DEV_SCRYPT_N, hrp=MAINNET.hrp))
    state = layout.root / "node-devnet"
    shutil.rmtree(state, ignore_errors=True)  # the devnet forgot its chain: so must the node
    return Network(
        chain=devnet.chain, node_state_dir=state,
        build=lambda coinbase: devnet.node_config(coinbase=coinbase) if devnet.gateway_url else None,
        devnet=devnet, time_source=devnet.time,
        default_coinbase=bytes(4) + hashlib.blake2b(b"smeshbox-devnet-coinbase", digest_size=20).digest(),
    )


def post_settings_for(post: PostSettings, network: Network) -> PostSettings:
    """New datasets commit to the network's golden ATX (the devnet's with --dev), so the network
    accepts their proofs."""
    return dataclasses.replace(post, commitment_atx_id=network.commitment_atx_id)
