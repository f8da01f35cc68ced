"""Hostile PoET/gateway replies, and state files the node must refuse: clear typed errors, bounded memory."""

from __future__ import annotations

import asyncio
import base64
import json

import aiohttp
import pytest
from aiohttp import web

from appliance.node.gateway_client import GatewayClient
from appliance.node.http import RemoteProtocolError, RemoteRejected, RemoteUnavailable
from appliance.node.identity import generate
from appliance.node.poet_client import MemberMissingError, PoetClient
from appliance.node.state import StateCorruptError, StateStore, StateVersionError


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


KEY = b"\x07" * 32
GOOD_PROOF = {
    "proof": {
        "proof": {"root": _b64(b"\x01" * 32), "provenLeaves": [], "proofNodes": []},
        "members": [_b64(b"\x02" * 32)],
        "leaves": "100",
    },
    "pubkey": _b64(KEY),
}

CASES = {
    "not-json": (200, b"<html>hello</html>"),
    "list": (200, b"[1, 2]"),
    "wrong-type": (200, json.dumps({"servicePubkey": 5, "phaseShift": "1s", "cycleGap": "1s"}).encode()),
    "bad-b64": (200, json.dumps({"servicePubkey": "!!!", "phaseShift": "1s", "cycleGap": "1s"}).encode()),
    "short-key": (
        200,
        json.dumps({"servicePubkey": _b64(b"x"), "phaseShift": "1s", "cycleGap": "1s"}).encode(),
    ),
    "bad-duration": (
        200,
        json.dumps({"servicePubkey": _b64(KEY), "phaseShift": "1 day", "cycleGap": "1s"}).encode(),
    ),
    "huge": (200, b"{" + b" " * (2 << 20) + b"}"),
    "server-error": (500, b'{"message": "boom"}'),
    "pow-too-hard": (200, json.dumps({"powParams": {"difficulty": 200, "challenge": _b64(b"c")}}).encode()),
    "proof-other-member": (200, json.dumps(GOOD_PROOF).encode()),
    "proof-too-many-members": (
        200,
        json.dumps(
            {**GOOD_PROOF, "proof": {**GOOD_PROOF["proof"], "members": [_b64(b"\x02" * 32)] * 70000}}
        ).encode(),
    ),
    "grade": (
        200,
        json.dumps(
            {
                "atx_id": "00" * 32,
                "publish_epoch": 1,
                "smesher_id": "00" * 32,
                "sequence": 0,
                "num_units": 1,
                "grade": "excellent",
                "received_at": 1.0,
            }
        ).encode(),
    ),
    "rejected": (400, b'{"error": "invalid ATX signature"}'),
    "teapot": (418, b""),
    "template-too-many-votes": (
        200,
        json.dumps(
            {
                "opinion_hash": "00" * 32,
                "mesh_hash": "00" * 32,
                "tx_ids": [],
                "votes": {"base": "00" * 20, "support": [], "against": [], "abstain": list(range(10001))},
            }
        ).encode(),
    ),
    "template-bad-vote": (
        200,
        json.dumps(
            {
                "opinion_hash": "00" * 32,
                "mesh_hash": "00" * 32,
                "tx_ids": [],
                "votes": {
                    "base": "00" * 20,
                    "support": [{"id": "00" * 20, "layer": -1, "height": 0}],
                    "against": [],
                    "abstain": [],
                },
            }
        ).encode(),
    ),
}


@pytest.fixture
async def hostile(aiohttp_server):
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.match_info["case"] == "slow-proof":  # a PoET that trickles its reply forever
            resp = web.StreamResponse()
            await resp.prepare(request)
            await resp.write(b'{"proof": {"members": [')
            while True:
                await asyncio.sleep(0.05)
                await resp.write(b'"' + _b64(b"\x02" * 32).encode() + b'",')
        status, body = CASES[request.match_info["case"]]
        return web.Response(status=status, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{case}/{tail:.*}", handler)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        yield session, str(server.make_url("")).rstrip("/")


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("not-json", RemoteProtocolError, "not JSON"),
        ("list", RemoteProtocolError, "JSON list"),
        ("wrong-type", RemoteProtocolError, "wrong type"),
        ("bad-b64", RemoteProtocolError, "base64"),
        ("short-key", RemoteProtocolError, "32 bytes"),
        ("bad-duration", RemoteProtocolError, "duration"),
        ("huge", RemoteProtocolError, "too large"),
        ("server-error", RemoteUnavailable, "boom"),
    ],
)
async def test_poet_info_hostile(hostile, case, error, message):
    session, base = hostile
    with pytest.raises(error, match=message):
        await PoetClient(session, f"{base}/{case}").info()


async def test_poet_other_hostile(hostile, monkeypatch):
    session, base = hostile
    monkeypatch.setattr("appliance.node.poet_client.MAX_MEMBERS", 65536)  # the real cap is 2^25: streamed
    with pytest.raises(RemoteProtocolError, match="unreasonable"):
        await PoetClient(session, f"{base}/pow-too-hard").pow_params()
    with pytest.raises(MemberMissingError):
        await PoetClient(session, f"{base}/proof-other-member", KEY).proof("1", b"\x09" * 32)
    with pytest.raises(RemoteProtocolError, match="pinned"):
        await PoetClient(session, f"{base}/proof-other-member", bytes(32)).proof("1", b"\x02" * 32)
    with pytest.raises(RemoteProtocolError, match="more than 65536 members"):
        await PoetClient(session, f"{base}/proof-too-many-members", KEY).proof("1")
    with pytest.raises(RemoteRejected, match="HTTP 418"):
        await PoetClient(session, f"{base}/teapot", KEY).proof("1")
    slow = PoetClient(session, f"{base}/slow-proof", KEY, proof_timeout=0.2)
    with pytest.raises(RemoteUnavailable, match="not read within"):
        await slow.proof("1")
    with pytest.raises(RemoteUnavailable, match="connection failed"):
        await PoetClient(session, "http://127.0.0.1:9").info()


async def test_gateway_hostile(hostile):
    session, base = hostile
    with pytest.raises(RemoteProtocolError, match="unknown ATX grade"):
        await GatewayClient(session, f"{base}/grade").last_atx(b"\x00" * 32)
    with pytest.raises(RemoteRejected, match="invalid ATX signature") as exc:
        await GatewayClient(session, f"{base}/rejected").positioning_atx(3)
    assert exc.value.status == 400
    with pytest.raises(RemoteProtocolError, match="lacks field"):
        await GatewayClient(session, f"{base}/wrong-type").positioning_atx(3)
    with pytest.raises(RemoteProtocolError, match="10001 abstain votes exceed"):
        await GatewayClient(session, f"{base}/template-too-many-votes").proposal_template(30, b"\x00" * 32)
    with pytest.raises(RemoteProtocolError, match="layer out of range"):
        await GatewayClient(session, f"{base}/template-bad-vote").proposal_template(30, b"\x00" * 32)


async def test_state_files(tmp_path):
    me = generate("me")
    store = StateStore(tmp_path, me.node_id)
    store.doc["epochs"]["3"] = {"phase": "published"}
    await store.commit("test")
    (tmp_path / f".{store.path.name}.crash.tmp").write_bytes(b'{"torn')  # leftover of a power cut
    assert StateStore(tmp_path, me.node_id).doc["epochs"]["3"]["phase"] == "published"
    doc = json.loads(store.path.read_text())
    store.path.write_text(json.dumps({**doc, "version": 99}))
    with pytest.raises(StateVersionError, match="newer version"):
        StateStore(tmp_path, me.node_id)
    assert json.loads(store.path.read_text())["version"] == 99  # left in place, not overwritten
    store.path.write_text('{"version": 1, "node_id"')
    with pytest.raises(StateCorruptError):
        StateStore(tmp_path, me.node_id)
    other = generate("other")
    (tmp_path / f"{other.node_id.hex()}.json").write_text(json.dumps({**doc, "node_id": me.node_id.hex()}))
    with pytest.raises(StateCorruptError, match="belongs to"):
        StateStore(tmp_path, other.node_id)


async def test_manager_refuses_state_from_newer_version(tmp_path):
    from appliance.chain import DEVNET
    from appliance.node.clock import ManualTime
    from appliance.node.config import NodeConfig, PoetServer
    from appliance.node.lightnode import LightNode

    me = generate("me")
    (tmp_path / f"{me.node_id.hex()}.json").write_text(
        json.dumps({"version": 2, "node_id": me.node_id.hex()})
    )
    config = NodeConfig(
        DEVNET.replace({"genesis_time": 0, "genesis_extra_data": "x"}),
        (PoetServer("http://127.0.0.1:9"),),
        "http://127.0.0.1:9",
        bytes(24),
    )
    manager = LightNode(config, tmp_path, None, time_source=ManualTime(), identities=[me])  # type: ignore[arg-type]
    await manager.start()
    try:
        (status,) = manager.snapshot().identities
        assert status.status == "not running" and "newer version" in status.error
    finally:
        await manager.stop()
