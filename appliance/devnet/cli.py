"""``python -m appliance devnet``: run the built-in devnet (PoET servers + validating gateway).

Prints the node configuration (JSON, for ``python -m appliance.node.run --config``) on stdout once
the servers listen (``--network-out`` also writes a box's ``network.json`` from the same chain),
then serves until SIGINT/SIGTERM. Faults and clock jumps go through the gateway's admin API:
``POST /admin/faults {"poet0": {"down": true}}``, ``POST /admin/clock {"jump": 5}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from appliance.devnet.devnet import Devnet, DevnetConfig


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="gateway port (PoETs on the next ones); 0 = any")
    parser.add_argument("--poets", type=int, default=2)
    parser.add_argument("--layer-duration", type=float, default=1.0)
    parser.add_argument("--layers-per-epoch", type=int, default=10)
    parser.add_argument("--config-out", default=None, help="also write the node config JSON to this file")
    parser.add_argument("--network-out", default=None,
                        help="also write a box's network.json for this devnet (appliance.chain.ChainSetup)")


async def _serve(args: argparse.Namespace) -> int:
    scale = args.layer_duration * args.layers_per_epoch / 10  # keep the default proportions
    config = DevnetConfig.of(
        layer_duration=args.layer_duration,
        layers_per_epoch=args.layers_per_epoch,
        poets=args.poets,
        phase_shift=6.0 * scale,
        cycle_gap=4.0 * scale,
        grace_period=1.0 * scale,
        network_delay=0.5 * scale,
    )
    devnet = Devnet(config)
    await devnet.start(args.host, args.port)
    node_config = json.dumps(devnet.node_config().to_json(), indent=2)
    if args.config_out:
        from appliance.system.files import atomic_write_text

        atomic_write_text(args.config_out, node_config + "\n")
    if args.network_out:
        from appliance.system.files import atomic_write_json

        atomic_write_json(args.network_out, devnet.setup().to_json())
    print(node_config, flush=True)
    print(f"devnet: gateway {devnet.gateway_url}, PoETs {', '.join(devnet.poet_urls)}", file=sys.stderr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await devnet.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.layer_duration <= 0 or args.layers_per_epoch < 4 or not 1 <= args.poets <= 16:
        print("error: need layer duration > 0, at least 4 layers per epoch and 1-16 PoETs", file=sys.stderr)
        return 2
    return asyncio.run(_serve(args))
