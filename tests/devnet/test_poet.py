"""The node's PoET client against the devnet PoET, and the PoET's own checks (auth, deadline, conflicts)."""

from __future__ import annotations

import asyncio
import base64
import time

import aiohttp
import nacl.signing
import pytest

from appliance.devnet.devnet import Devnet, DevnetConfig
from appliance.devnet.poet_server import PoetSettings, encode_certificate
from appliance.node import merkle, signing
from appliance.node.http import RemoteProtocolError, RemoteRejected
from appliance.node.identity import generate
from appliance.node.poet_client import PoetClient

FAST = DevnetConfig.of(
    layer_duration=0.2,
    layers_per_epoch=10,
    phase_shift=1.2,
    cycle_gap=0.8,
    grace_period=0.2,
    network_delay=0.1,
    poets=1,
)


@pytest.fixture
async def poet_env():
    devnet = Devnet(FAST)
    await devnet.start()
    async with aiohttp.ClientSession() as session:
        yield devnet, session
    await devnet.stop()


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


async def test_register_and_fetch_proof(poet_env):
    devnet, session = poet_env
    poet = devnet.poets[0]
    client = PoetClient(session, devnet.poet_urls[0], poet.pubkey)
    info = await client.info()
    assert info.service_pubkey == poet.pubkey and info.phase_shift == 1.2 and info.cycle_gap == 0.8
    me, other = generate("me"), generate("other")
    gid = devnet.genesis_id
    now = time.time()
    deadline = now + 60
    reg = await client.submit(me, gid, b"\x01" * 32, deadline, now)
    assert reg.round_id == str(max(0, devnet.clock.open_round_id(now)))
    again = await client.submit(me, gid, b"\x01" * 32, deadline, time.time())  # idempotent
    assert again.round_id == reg.round_id
    await client.submit(other, gid, b"\x02" * 32, deadline, time.time())
    with pytest.raises(RemoteRejected) as exc:
        await client.submit(me, gid, b"\x03" * 32, deadline, time.time())
    assert exc.value.status == 409
    with pytest.raises(RemoteRejected, match="too late") as exc:
        await client.submit(generate("late"), gid, b"\x04" * 32, time.time(), time.time())
    assert exc.value.status == 400
    assert await client.proof(reg.round_id) is None  # 404 until the round ends
    while time.time() < reg.round_end:
        await asyncio.sleep(0.05)
    # The advertised round end is rounded on the wire (as a real PoET's is), so, like the node, fetch
    # until the proof is there; the bound only stops a hung test.
    proof = None
    while proof is None and time.time() < reg.round_end + 5:
        proof = await client.proof(reg.round_id, b"\x01" * 32)
        await asyncio.sleep(0.05)
    assert proof is not None and proof.leaves > 0
    index, nodes = proof.membership(b"\x01" * 32)
    assert merkle.verify(b"\x01" * 32, index, nodes, proof.statement)
    wrong_key = PoetClient(session, devnet.poet_urls[0], bytes(32))
    with pytest.raises(RemoteProtocolError, match="pinned"):
        await wrong_key.info()


async def _raw_submit(session, url, body):
    async with session.post(f"{url}/v1/submit", json=body) as resp:
        return resp.status, await resp.json()


async def test_submit_authentication(poet_env):
    devnet, session = poet_env
    poet = devnet.poets[0]
    url = devnet.poet_urls[0]
    me = generate("me")
    challenge = b"\x05" * 32
    prefix = devnet.genesis_id + bytes([signing.Domain.POET])
    sig = signing.sign(me, devnet.genesis_id, signing.Domain.POET, challenge)
    base = {
        "prefix": _b64(prefix),
        "challenge": _b64(challenge),
        "pubkey": _b64(me.node_id),
        "signature": _b64(sig),
        "deadline": "2999-01-01T00:00:00Z",
        "powParams": {"challenge": _b64(poet.pow_challenge), "difficulty": poet.settings.pow_difficulty},
    }
    from appliance.node.poet_pow import find_pow_nonce

    nonce = find_pow_nonce(poet.pow_challenge, me.node_id, challenge, poet.settings.pow_difficulty)
    bad_nonce = next(
        n
        for n in range(1000)
        if not __import__("appliance.node.poet_pow", fromlist=["x"]).verify_pow(
            poet.pow_challenge, me.node_id, challenge, n, poet.settings.pow_difficulty
        )
    )
    assert (await _raw_submit(session, url, {**base, "nonce": str(bad_nonce)}))[0] == 400
    status, body = await _raw_submit(
        session, url, {**base, "nonce": str(nonce), "signature": _b64(bytes(64))}
    )
    assert status == 400 and "signature" in body["message"]
    status, body = await _raw_submit(session, url, {**base, "nonce": "x", "deadline": "tomorrow"})
    assert status == 400
    status, body = await _raw_submit(session, url, {**base, "challenge": 5})
    assert status == 400 and "challenge" in body["message"]
    async with session.post(f"{url}/v1/submit", data=b"[" * 200000) as resp:
        assert resp.status in (400, 413)
    # certificate auth
    certifier = nacl.signing.SigningKey.generate()
    poet.settings = PoetSettings(poet.settings.pow_difficulty, certifier_pubkey=bytes(certifier.verify_key))

    def cert_for(pubkey: bytes, expiration, key=certifier):
        data = encode_certificate(pubkey, expiration)
        return {"data": _b64(data), "signature": _b64(key.sign(data).signature)}

    ok = {**base, "certificate": cert_for(me.node_id, int(time.time()) + 3600)}
    assert (await _raw_submit(session, url, ok))[0] == 200
    for cert in (
        cert_for(me.node_id, int(time.time()) - 10),
        cert_for(bytes(32), None),
        cert_for(me.node_id, None, nacl.signing.SigningKey.generate()),
    ):
        status, _ = await _raw_submit(session, url, {**base, "certificate": cert})
        assert status == 401
