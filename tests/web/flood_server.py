"""A web server for the slow-client flood test, in its own process so it can have a small descriptor
limit of its own (as the box's unit has ``LimitNOFILE``): ``python flood_server.py NOFILE TOTAL
PER_CLIENT IDLE`` (IDLE bounds headers and bodies alike) prints its port and serves until its stdin
closes. A limit of 0 means no guard bound (what the box had before): the same flood then exhausts
the descriptors."""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from appliance.web import _http, create_app
from appliance.web.app import serve
from appliance.web.connections import ConnectionLimits
from tests.web.conftest import make_world


async def main(nofile: int, total: int, per_client: int, idle: float) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    _http.BODY_TIMEOUT = idle  # the test waits for the body deadline too
    with tempfile.TemporaryDirectory() as tmp:
        world = make_world(Path(tmp))
        limits = ConnectionLimits(total or 1 << 30, per_client or 1 << 30, idle)
        runner = await serve(create_app(world.services, auth=world.auth), "127.0.0.1", 0, limits)
        print(runner.addresses[0][1], flush=True)
        await asyncio.to_thread(sys.stdin.read)
        await runner.cleanup()


if __name__ == "__main__":
    nofile, total, per_client, idle = sys.argv[1:5]
    asyncio.run(main(int(nofile), int(total), int(per_client), float(idle)))
