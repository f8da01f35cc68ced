"""The node's rewards watcher against a real HTTP server: totals from the gateway's answer, and a
hostile or absent gateway never erasing what was already known."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from appliance.node.rewards import RewardsWatcher

NODE = b"\x07" * 32


async def test_totals_and_hostile_replies(aiohttp_server: Any) -> None:
    replies: list[Any] = [
        {"rewards": [{"layer": 25, "coinbase": "ab" * 24, "total_reward": 1000, "layer_reward": 1000},
                     {"layer": 31, "coinbase": "ab" * 24, "total_reward": "2500", "layer_reward": "2500"}]},
        {"rewards": [{"layer": -1, "coinbase": "ab", "total_reward": 1, "layer_reward": 1}]},  # negative
        "not an object",
        {"rewards": [{"layer": 2, "coinbase": "ab", "total_reward": True, "layer_reward": 1}]},  # bool
    ]
    asked: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        asked.append(request.match_info["node_id"])
        if not replies:
            return web.json_response({"error": "down"}, status=503)
        return web.json_response(replies.pop(0))

    app = web.Application()
    app.router.add_get("/rewards/{node_id}", handler)
    server = await aiohttp_server(app)
    changes: list[int] = []
    async with aiohttp.ClientSession() as session:
        watcher = RewardsWatcher(session, str(server.make_url("/")), lambda: [NODE], lambda: 123.0,
                                 interval=60, timeout=2, on_change=lambda: changes.append(1))
        first = await watcher.check(NODE)
        assert (first.total_smidge, first.count, first.last_layer, first.checked_at) == (3500, 2, 31, 123.0)
        assert first.error == "" and [x.layer for x in first.recent] == [31, 25]
        for _ in range(4):  # three malformed replies, then a 503: the known totals stay
            after = await watcher.check(NODE)
            assert (after.total_smidge, after.count, after.checked_at) == (3500, 2, 123.0)
            assert after.error
        assert "server error 503" in watcher.earnings(NODE).error
    assert asked[0] == NODE.hex() and changes
