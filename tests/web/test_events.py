"""Live updates: the Server-Sent Events stream over a real connection."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import aiohttp
import jsonschema

from appliance.events import Topic
from appliance.web.openapi import SCHEMAS
from tests.web.conftest import Api, World
from tests.web.fakes import GIB

SECTION_SCHEMAS = {"node": "Node", "box": "Box", "update": "Update", "settings": "Settings",
                   "summary": "Summary"}


async def next_event(resp: aiohttp.ClientResponse) -> tuple[str, Any]:
    name, data = "", ""
    while True:
        line = (await asyncio.wait_for(resp.content.readline(), 10)).decode()
        if line == "":
            raise EOFError("stream ended")
        line = line.rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data += line[6:]
        elif line == "" and name:
            return name, json.loads(data)


def valid(section: str, value: Any) -> None:
    schema = {"components": {"schemas": SCHEMAS}}
    if section == "drives":
        schema |= {"type": "array", "items": {"$ref": "#/components/schemas/Drive"}}
    else:
        schema |= {"$ref": f"#/components/schemas/{SECTION_SCHEMAS[section]}"}
    jsonschema.Draft202012Validator(schema).validate(value)


async def test_stream_sends_snapshot_then_sections(admin: Api, world: World) -> None:
    resp = await admin.client.get("/api/v1/events")
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/event-stream"
    name, snap = await next_event(resp)
    assert name == "snapshot" and set(snap) == {"drives", "node", "box", "update", "settings", "summary"}
    for section, value in snap.items():
        valid(section, value)
    world.node.set(epoch=99)
    assert await next_event(resp) == (
        "node",
        json.loads(json.dumps(dataclasses.asdict(world.node.snapshot()))),
    )
    name, summary = await next_event(resp)  # the top card follows every drives/node/box change
    assert name == "summary" and summary["headline"] == "Earning"
    valid("summary", summary)
    await world.drives.allocate("usb-WD_Elements_WX12A3456", 8 * GIB)  # published as Topic.JOBS
    name, drives = await next_event(resp)
    assert name == "drives" and drives[1]["job"]["state"] == "initializing"
    valid("drives", drives)
    world.bus.publish(Topic.DISCOVERY)  # ignored: the page only gets documented sections
    world.box.set(throttled=True)
    assert (await next_event(resp))[0] == "summary"
    name, box = await next_event(resp)
    assert name == "box" and box["throttled"] is True
    resp.close()


async def test_stream_needs_a_session_and_ends_on_logout(admin: Api, world: World) -> None:
    anonymous = aiohttp.ClientSession()
    try:
        resp = await anonymous.get(admin.client.make_url("/api/v1/events"))
        assert resp.status == 401
    finally:
        await anonymous.close()
    resp = await admin.client.get("/api/v1/events")
    await next_event(resp)
    assert (await admin.call("POST", "/api/v1/auth/logout"))[0] == 204
    world.node.set(epoch=100)  # the stream notices on its next wake-up that the session is gone
    try:
        while True:
            name, _ = await next_event(resp)
            assert name in ("node", "summary")
    except (EOFError, aiohttp.ClientPayloadError):
        pass


async def test_server_shutdown_ends_streams(admin: Api, world: World) -> None:
    resp = await admin.client.get("/api/v1/events")
    await next_event(resp)
    await admin.client.server.close()  # runs on_shutdown → the stream task is cancelled
    try:
        await next_event(resp)
        raise AssertionError("the stream should have ended")
    except (EOFError, aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError):
        pass
