"""PoET authorisation: a certificate from the certifier named in /v1/info first (cached per identity
until it expires), the PoW when the certifier fails or the PoET refuses the certificate."""

from __future__ import annotations

import time

import aiohttp
import pytest

from appliance.devnet.devnet import Devnet, DevnetConfig
from appliance.node import certifier
from appliance.node.gateway_client import GatewayClient
from appliance.node.http import RemoteProtocolError, RemoteRejected
from appliance.node.identity import generate
from appliance.node.poet_client import Certificate, PoetClient
from appliance.node.smesher import Smesher
from appliance.node.state import StateStore

from .conftest import make_dataset, provider_for


@pytest.fixture
async def env(tmp_path):
    devnet = Devnet(DevnetConfig(poets=2))
    await devnet.start()
    ident = generate("certified")
    provider = provider_for(devnet, {ident.node_id: make_dataset(tmp_path, ident, devnet)})
    async with aiohttp.ClientSession() as session:
        poets = [
            PoetClient(session, u, p.pubkey) for u, p in zip(devnet.poet_urls, devnet.poets, strict=True)
        ]
        smesher = Smesher(
            ident,
            devnet.node_config(),
            StateStore(tmp_path / "state", ident.node_id),
            poets,
            GatewayClient(session, devnet.gateway_url),
            provider,
            devnet.time,
        )
        await smesher._ensure_initial_post()
        yield devnet, smesher, poets, session
    await devnet.stop()


async def test_certificate_first_cached_then_pow_fallback(env):
    devnet, smesher, (certified, pow_only), _ = env
    now = devnet.time.now()
    reg: dict = {}
    cert = await smesher._certificate(certified, reg, now)
    assert cert is not None and devnet.certifier.issued == 1
    pubkey, expiration = certifier.decode_certificate(cert.data)
    assert pubkey == smesher.node_id and expiration > now
    # cached per identity (persisted in the state document) until it expires
    assert await smesher._certificate(certified, {}, now + 10) == cert and devnet.certifier.issued == 1
    assert smesher.doc["certificates"][devnet.certifier.pubkey.hex()]["data"] == cert.data.hex()
    devnet.time.jump(expiration + 1 - now)  # expired: a new one is asked for
    fresh = await smesher._certificate(certified, {}, devnet.time.now())
    assert fresh is not None and fresh != cert and devnet.certifier.issued == 2
    now = devnet.time.now()
    # the PoET accepts it without any PoW
    deadline = devnet.clock.poet_proof_deadline(devnet.clock.epoch_at(now) + 2)
    with pytest.raises(RemoteRejected, match="expired"):  # the old one is refused by the PoET too
        await certified.submit(smesher.identity, smesher.genesis_id, b"\x01" * 32, deadline, now, cert)
    registered = await certified.submit(
        smesher.identity, smesher.genesis_id, b"\x01" * 32, deadline, now, fresh
    )
    assert registered.round_id
    # a PoET without a certifier, a certifier that is down: the PoW it is
    assert await smesher._certificate(pow_only, {}, now) is None
    smesher.doc["certificates"].clear()
    devnet.certifier.down = True
    failed: dict = {}
    assert await smesher._certificate(certified, failed, now) is None
    assert "503" in failed["certifier_error"] or "unavailable" in failed["certifier_error"]
    # after the PoET refused a certificate (401) the smesher does not ask again this round
    assert await smesher._certificate(certified, {"cert_refused": True}, now) is None


async def test_poet_refuses_foreign_or_forged_certificates(env):
    devnet, smesher, (certified, _), _ = env
    now = devnet.time.now()
    cert = await smesher._certificate(certified, {}, now)
    other = generate("other")
    deadline = devnet.clock.poet_proof_deadline(devnet.clock.epoch_at(now) + 2)
    with pytest.raises(RemoteRejected) as exc:
        await certified.submit(other, smesher.genesis_id, b"\x02" * 32, deadline, now, cert)
    assert exc.value.status == 401 and "another identity" in exc.value.reason
    forged = Certificate(cert.data, bytes(64))
    with pytest.raises(RemoteRejected) as exc:
        await certified.submit(smesher.identity, smesher.genesis_id, b"\x02" * 32, deadline, now, forged)
    assert exc.value.status == 401


async def test_certifier_replies_are_checked(env):
    _, smesher, (certified, _), session = env
    info = await certified.info()
    initial = smesher.doc["initial_post"]
    post = certifier.PostV1(int(initial["nonce"]), bytes.fromhex(initial["indices"]), int(initial["pow"]))
    commitment = bytes.fromhex(initial["commitment_atx"])
    now = time.time()
    args = (smesher.node_id, commitment, int(initial["num_units"]), post, now)
    with pytest.raises(RemoteProtocolError, match="pubkey is invalid"):  # not the advertised certifier
        await certifier.certify(session, info.certifier_url, bytes(32), *args)
    with pytest.raises(RemoteRejected, match="invalid initial PoST"):  # a tampered proof is not certified
        bad = certifier.PostV1(post.nonce, bytes(len(post.indices)), post.pow)
        await certifier.certify(
            session, info.certifier_url, info.certifier_pubkey, smesher.node_id, commitment, 2, bad, now
        )
    issued = await certifier.certify(session, info.certifier_url, info.certifier_pubkey, *args)
    with pytest.raises(RemoteProtocolError, match="another identity"):
        certifier.check_certificate("u", issued.certificate, info.certifier_pubkey, b"\x01" * 32, now)
    with pytest.raises(RemoteProtocolError, match="expired"):
        certifier.check_certificate("u", issued.certificate, info.certifier_pubkey, smesher.node_id, 1e12)
    with pytest.raises(RemoteProtocolError, match="does not verify"):
        forged = Certificate(issued.certificate.data + b"\x00", issued.certificate.signature)
        certifier.check_certificate("u", forged, info.certifier_pubkey, smesher.node_id, now)
