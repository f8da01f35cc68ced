"""Runs inside a network namespace (``ip netns exec NS python _ns_node.py ...``) for the mDNS tests.

``announce``: a tiny aiohttp server on the port plus a DiscoveryManager; prints the snapshot as one
JSON line once announced, then answers stdin commands ("snapshot", "wait-address A", "wait-state S",
"wait-hostname H", "rename NAME" — the Settings change the daemon publishes) with a JSON line
each, and stops cleanly (goodbye packets) at EOF.
``browse``: finds boxes, fetches each one's health endpoint through its resolved address, prints
one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys

import aiohttp
from aiohttp import web

from appliance.discovery import DiscoveryConfig, DiscoveryManager, find_smeshboxes
from appliance.events import EventBus, Topic
from appliance.settings import Settings

WAITS = {
    "wait-address": lambda snap, arg: arg in snap["addresses"],
    "wait-state": lambda snap, arg: snap["state"] == arg,
    "wait-hostname": lambda snap, arg: snap["hostname"] == arg and snap["state"] == "announced",
}


def emit(value: object) -> None:
    print(json.dumps(value), flush=True)


async def announce(args: argparse.Namespace) -> None:
    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "tag": args.tag})

    app = web.Application()
    app.router.add_get("/api/v1/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", args.port).start()
    interfaces = tuple(args.interfaces.split(",")) if args.interfaces else None
    config = DiscoveryConfig(args.short, args.port, interfaces=interfaces, settle_s=0.1,
                             host_name=args.host_name or None)
    bus = EventBus()
    manager = DiscoveryManager(config, bus)
    await manager.start()
    emit(dataclasses.asdict(manager.snapshot()))
    loop = asyncio.get_running_loop()
    try:
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).split():
            if line[0] == "rename":
                bus.publish(Topic.SETTINGS, Settings(hostname=line[1]))
            if line[0] in WAITS:
                async with asyncio.timeout(20):
                    while not WAITS[line[0]](dataclasses.asdict(manager.snapshot()), line[1]):
                        await asyncio.sleep(0.05)
            emit(dataclasses.asdict(manager.snapshot()))
    finally:
        await manager.stop()
        await runner.cleanup()


async def browse(args: argparse.Namespace) -> None:
    interfaces = args.interfaces.split(",") if args.interfaces else None
    boxes = await find_smeshboxes(interfaces, timeout=args.timeout, want=args.want)
    out = []
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for box in boxes:
            async with session.get(f"{box.api_url}/health") as response:
                health = await response.json()
            out.append(dataclasses.asdict(box) | {"health": health})
    emit(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("announce")
    a.add_argument("--short", required=True)
    a.add_argument("--port", type=int, required=True)
    a.add_argument("--tag", default="")
    a.add_argument("--interfaces", default="")
    a.add_argument("--host-name", default="")
    b = sub.add_parser("browse")
    b.add_argument("--want", type=int, default=1)
    b.add_argument("--timeout", type=float, default=10.0)
    b.add_argument("--interfaces", default="")
    args = parser.parse_args()
    asyncio.run(announce(args) if args.command == "announce" else browse(args))


if __name__ == "__main__":
    main()
