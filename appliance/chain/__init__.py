"""The chain a box smeshes on, as one frozen value: :class:`ChainParams` (hrp, genesis, clock and
PoET timings, PoST parameters, ATX versions), its presets and the loader of ``<state>/network.json``.

Below every domain: post, jobs, node and the devnet take their chain facts from here and nowhere
else. The person's reward address (the coinbase) is not a chain fact and is not in here.
"""

from appliance.chain.load import ChainError, ChainSetup, load_chain, parse_chain
from appliance.chain.params import ChainParams, PoetServer
from appliance.chain.presets import DEVNET, MAINNET, PRESETS

__all__ = [
    "DEVNET",
    "MAINNET",
    "PRESETS",
    "ChainError",
    "ChainParams",
    "ChainSetup",
    "PoetServer",
    "load_chain",
    "parse_chain",
]
