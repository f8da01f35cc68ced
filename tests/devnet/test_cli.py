"""``python -m appliance devnet``: prints a usable node config, serves the admin API, stops cleanly."""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import aiohttp

from appliance.chain import load_chain
from appliance.node.config import NodeConfig


async def test_devnet_command(tmp_path):
    out = tmp_path / "node.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "appliance",
        "devnet",
        "--config-out",
        str(out),
        "--network-out",
        str(tmp_path / "network.json"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        lines = []
        while not lines or lines[-1] != "}":
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line, (await proc.stderr.read()).decode()
            lines.append(line.decode().rstrip("\n"))
        config = NodeConfig.from_json(json.loads("\n".join(lines)))
        assert NodeConfig.from_json(json.loads(out.read_text())) == config
        assert len(config.poets) == 2 and config.hrp == "stest"
        # a box pointed at this devnet (its network.json) gets the very same chain and servers
        setup = load_chain(tmp_path)
        assert setup.chain == config.chain and (setup.poets, setup.gateway_url) == (config.poets,
                                                                                  config.gateway_url)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{config.poets[0].url}/v1/info") as resp:
                assert resp.status == 200
            admin = f"{config.gateway_url}/admin"
            async with session.post(f"{admin}/faults", json={"poet0": {"down": True, "slow": 0.5}}) as resp:
                report = await resp.json()
                assert resp.status == 200 and report["poet0"]["down"] and report["poet0"]["slow"] == 0.5
            for bad in ({"poet9": {}}, {"gateway": {"down": "yes"}}, {"gateway": {"nope": True}}, [1]):
                async with session.post(f"{admin}/faults", json=bad) as resp:
                    assert resp.status == 400
            async with session.post(f"{admin}/clock", json={"jump": 5}) as resp:
                assert (await resp.json())["offset"] == 5
            async with session.post(f"{admin}/clock", json={"jump": "soon"}) as resp:
                assert resp.status == 400
            try:
                async with session.get(f"{config.poets[0].url}/v1/info") as resp:
                    status = resp.status
            except aiohttp.ClientError:
                status = None
            assert status != 200  # PoET 0 is "down"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
