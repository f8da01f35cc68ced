"""The box's helper API against a real broker: pairing (wrong, reused, brute-forced codes), tokens
(revoked), uploads (truncated, oversized, twice, wrong labels → unpaired), malformed JSON."""

from __future__ import annotations

import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from appliance.peers.pairing import MAX_TRIES
from appliance.peers.redisd import RedisAddress
from appliance.peers.tlsca import ensure_ca
from appliance.peers.units import Unit
from appliance.post.labels import compute_batch
from appliance.web.peers import helper_app

N = 16


@pytest.fixture
async def api(service, aiohttp_client):
    return await aiohttp_client(helper_app(service))


async def _pair(api, service, name: str = "pc1") -> dict:
    code = service.new_code().code
    resp = await api.post("/api/v1/peers/pair", json={"code": code, "name": name, "labels_per_second": 100.0})
    assert resp.status == 200, await resp.text()
    return await resp.json()


def _lease(service, tmp_path, meta, helper: str) -> Unit:
    """A coordinator whose dispatch records units instead of sending them (the broker path is in
    the end-to-end test), with one unit leased to ``helper``."""
    sent: list[Unit] = []
    coordinator = service.attach(
        tmp_path / "data", meta, N, lambda _h, unit: sent.append(unit), first_unit=64
    )
    coordinator.add_helper(helper)  # its first hello
    coordinator.lease_pending(time.monotonic())
    return sent[0]


async def test_pairing_codes(api, service) -> None:
    resp = await api.post("/api/v1/peers/pair", json={"code": "AAAAAAAA", "name": "pc1"})
    assert resp.status == 403 and "no pairing code" in (await resp.json())["reason"]
    code = service.new_code().code
    for _ in range(MAX_TRIES):
        resp = await api.post("/api/v1/peers/pair", json={"code": "WRONG234", "name": "pc1"})
        assert resp.status == 403
    resp = await api.post("/api/v1/peers/pair", json={"code": code, "name": "pc1"})
    assert resp.status == 403, "a code is burnt after too many wrong guesses"
    creds = await _pair(api, service)
    assert (
        set(creds) >= {"token", "broker_user", "broker_password", "queue"} and creds["queue"] == "helper.pc1"
    )
    resp = await api.post("/api/v1/peers/pair", json={"code": code, "name": "pc2"})
    assert resp.status == 403, "a code is used once"
    for body in (b"{nope", b"[1, 2]"):
        resp = await api.post("/api/v1/peers/pair", data=body)
        assert resp.status == 400
    resp = await api.post("/api/v1/peers/pair", json={"code": service.new_code().code, "name": "Bad Name!"})
    assert resp.status == 403 and "lowercase" in (await resp.json())["reason"]


async def test_uploads(api, service, tmp_path, tiny_meta) -> None:
    creds = await _pair(api, service)
    auth = {"Authorization": f"Bearer {creds['token']}"}
    unit = _lease(service, tmp_path, tiny_meta, "pc1")
    good = compute_batch(unit.commitment, N, unit.start, unit.count)
    path = f"/api/v1/peers/units/{unit.unit_id}"
    query = {}
    if good.min_index is not None:
        query = {"min_index": str(good.min_index), "min_label": good.min_label.hex()}

    resp = await api.put(path, data=good.labels, params=query)
    assert resp.status == 401
    resp = await api.put(path, data=good.labels, params=query, headers={"Authorization": "Bearer forged"})
    assert resp.status == 401
    resp = await api.put(path, data=good.labels[:-5], params=query, headers=auth)
    assert resp.status == 400 and (await resp.json())["error"] == "truncated"
    resp = await api.put(path, data=good.labels + bytes(16), params=query, headers=auth)
    assert resp.status == 413
    resp = await api.post(f"{path}/heartbeat", data=b"{", headers=auth)
    assert resp.status == 400
    resp = await api.post(f"{path}/heartbeat", json={"done": 3, "labels_per_second": 9.0}, headers=auth)
    assert resp.status == 204
    resp = await api.post("/api/v1/peers/units/nope/heartbeat", json={"done": 3}, headers=auth)
    assert resp.status == 410
    resp = await api.put(path, data=good.labels, params=query, headers=auth)
    assert resp.status == 200 and (await resp.json())["result"] == "accepted"
    resp = await api.put(path, data=good.labels, params=query, headers=auth)
    assert resp.status == 200 and (await resp.json())["result"] == "duplicate"
    assert service.coordinator.snapshot().buffered_units == 1


async def test_lying_helper_loses_its_pairing(api, service, tmp_path, tiny_meta) -> None:
    creds = await _pair(api, service)
    auth = {"Authorization": f"Bearer {creds['token']}"}
    broker = service.redis.address.client(creds["broker_user"], creds["broker_password"])
    assert broker.ping()
    unit = _lease(service, tmp_path, tiny_meta, "pc1")
    labels = bytearray(compute_batch(unit.commitment, N, unit.start, unit.count).labels)
    for at in range(0, len(labels), 16):
        labels[at] ^= 1  # every label wrong: caught by any sample
    resp = await api.put(f"/api/v1/peers/units/{unit.unit_id}", data=bytes(labels), headers=auth)
    assert resp.status == 422 and "does not recompute" in (await resp.json())["reason"]
    resp = await api.post(f"/api/v1/peers/units/{unit.unit_id}/heartbeat", json={"done": 1}, headers=auth)
    assert resp.status == 401, "the token is revoked"
    with pytest.raises(redis.AuthenticationError):
        service.redis.address.client(creds["broker_user"], creds["broker_password"]).ping()
    snap = service.coordinator.snapshot()
    assert snap.helpers == [] and any("wrong labels" in e for e in snap.events)
    assert service.status()["helpers"] == []


def test_broker_acl_and_tls(service, tmp_path) -> None:
    creds = service.pairing.pair(service.new_code().code, "pc1")
    other = service.pairing.pair(service.new_code().code, "pc2")
    address = service.redis.address
    assert "BEGIN CERTIFICATE" in creds.ca_pem and creds.ca_pem == address.ca_file.read_text()
    conn = address.client("pc1", creds.broker_password)
    conn.lpush("helper.pc1", b"x")
    for forbidden in (
        lambda: conn.lrange("helper.pc2", 0, -1),
        lambda: conn.config_get("*"),
        lambda: conn.keys("*"),
        lambda: conn.flushall(),
        lambda: conn.set("anything", 1),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            forbidden()
    with pytest.raises(redis.AuthenticationError):
        address.client("default", "").ping()  # the default user is off
    plain = redis.Redis(
        host=address.host,
        port=address.port,
        username="pc1",
        password=creds.broker_password,
        retry=Retry(NoBackoff(), 0),
        socket_timeout=2,
    )
    with pytest.raises(redis.ConnectionError):
        plain.ping()  # no plain-text port: TLS only
    stranger = tmp_path / "other-ca"
    ensure_ca(stranger, address.host)
    with pytest.raises(redis.ConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        RedisAddress(address.host, address.port, stranger / "ca.pem").client(
            "pc1", creds.broker_password
        ).ping()
    assert service.pairing.revoke("pc2")
    with pytest.raises(redis.AuthenticationError):
        address.client("pc2", other.broker_password).ping()


def test_broker_restarted_after_a_crash(service) -> None:
    creds = service.pairing.pair(service.new_code().code, "pc1")
    service.redis.client().lpush("helper.pc1", b"queued")
    service.redis._proc.kill()  # redis-server dies
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            conn = service.redis.address.client("pc1", creds.broker_password)
            if conn.ping() and service.status()["broker"] == "up":
                break
        except redis.ConnectionError:
            continue
    else:
        raise AssertionError(f"the broker did not come back: {service.broker_state}")
    assert conn.lrange("helper.pc1", 0, -1) == [b"queued"], "the queue survives (append-only file)"
