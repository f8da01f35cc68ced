"""``python -m appliance.node.run``: the light node alone, for one or more identities with file-backed
PoST data (used by the crash harness and for manual runs against ``python -m appliance devnet``).

    python -m appliance.node.run --config node.json --state DIR --identities DIR \\
        --post NAME=DATADIR [--post ...] [--scrypt-n N --k1 K1 --k2 K2 --pow-difficulty HEX]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from pathlib import Path

from appliance.chain import MAINNET
from appliance.node.clock import SystemTime
from appliance.node.config import NodeConfig, NodeConfigError
from appliance.node.identity import IdentityError, IdentityStore
from appliance.node.lightnode import LightNode
from appliance.node.post_provider import DirectPostProvider


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m appliance.node.run")
    parser.add_argument("--config", required=True, type=Path, help="node config JSON (NodeConfig.to_json)")
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument("--identities", required=True, type=Path)
    parser.add_argument("--post", action="append", default=[], help="NAME=DATADIR (repeatable)")
    parser.add_argument("--scrypt-n", type=int, default=MAINNET.scrypt_n)
    parser.add_argument("--k1", type=int, default=26)
    parser.add_argument("--k2", type=int, default=37)
    parser.add_argument("--pow-difficulty", default=None, help="k2pow target, 64 hex digits")
    parser.add_argument("--nonces", type=int, default=288)
    parser.add_argument("--assume-synced", action="store_true", help="dev hosts without NTP")
    return parser


async def _main(args: argparse.Namespace) -> int:
    from appliance.post.proof import ProofConfig

    config = NodeConfig.from_json(json.loads(args.config.read_text()))
    store = IdentityStore(args.identities)
    datadirs = {}
    identities = []
    for item in args.post:
        name, _, datadir = item.partition("=")
        identity = store.load(name)
        identities.append(identity)
        datadirs[identity.node_id] = Path(datadir)
    pow_difficulty = (
        bytes.fromhex(args.pow_difficulty) if args.pow_difficulty else ProofConfig().pow_difficulty
    )
    provider = DirectPostProvider(
        datadirs, ProofConfig(args.k1, args.k2, pow_difficulty), args.nonces, 1, args.scrypt_n
    )
    manager = LightNode(config, args.state, provider, None, SystemTime(args.assume_synced), identities)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await manager.start()
    try:
        await stop.wait()
    finally:
        await manager.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    try:
        return asyncio.run(_main(args))
    except (NodeConfigError, IdentityError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
