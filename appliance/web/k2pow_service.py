"""``python -m appliance k2pow-service``: post-rs's k2pow-service HTTP protocol, served by a helper
PC so a box's prover can hand it the RandomX work (spacemeshos/post-rs@a2d155a k2pow-service/README.md):

* ``GET /`` → 200 (health);
* ``GET /job/{miner}/{nonce_group}/{challenge}/{difficulty}`` (hex 32 B, u8, hex 8 B, hex 32 B) →
  201 while the job is created / running, 200 with the u64 pow as text when done, 500 with the
  reason if it failed, 429 if the worker is busy with another job; malformed parameters → 400.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from aiohttp import web

from appliance.peers.k2pow_jobs import Job, JobManager, TooManyJobs

MANAGER = web.AppKey("k2pow_jobs", JobManager)


def _hex(text: str, size: int, what: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{what} is not hex") from None
    if len(value) != size:
        raise web.HTTPBadRequest(text=f"{what} must be {size} bytes")
    return value


async def health(_request: web.Request) -> web.Response:
    return web.Response(text="{ 'message': 'ok' }")  # the official service's exact body


async def job(request: web.Request) -> web.Response:
    info = request.match_info
    try:
        group = int(info["nonce_group"])
    except ValueError:
        raise web.HTTPBadRequest(text="nonce_group is not a number") from None
    if not 0 <= group <= 255:
        raise web.HTTPBadRequest(text="nonce_group must be 0..255")
    wanted = Job(
        _hex(info["miner"], 32, "miner"),
        group,
        _hex(info["challenge"], 8, "challenge"),
        _hex(info["difficulty"], 32, "difficulty"),
    )
    try:
        status, body = request.app[MANAGER].get_or_create(wanted)
    except TooManyJobs:
        return web.Response(status=429, text="")
    code = {"created": 201, "in_progress": 201, "done": 200, "failed": 500}[status]
    return web.Response(status=code, text=body)


def k2pow_app(manager: JobManager) -> web.Application:
    app = web.Application(client_max_size=1024)
    app[MANAGER] = manager
    app.router.add_get("/", health)
    app.router.add_get("/job/{miner}/{nonce_group}/{challenge}/{difficulty}", job)
    return app


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bind-address", default="0.0.0.0:3000")
    parser.add_argument("--cores", type=int, default=0, help="0: every core")
    parser.add_argument("--randomx-mode", choices=["fast", "light"], default=None)


async def _serve(args: argparse.Namespace) -> int:
    host, _, port = args.bind_address.rpartition(":")
    manager = JobManager(
        args.cores or os.cpu_count() or 1, None if args.randomx_mode is None else args.randomx_mode == "fast"
    )
    runner = web.AppRunner(k2pow_app(manager), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host or "0.0.0.0", int(port)).start()
    print(f"k2pow-service on http://{host}:{runner.addresses[0][1]}", file=sys.stderr, flush=True)
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    manager.stop()
    await runner.cleanup()
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_serve(args))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
