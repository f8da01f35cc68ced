"""The owner's side (phone): a pairing code, the status with per-helper rates and both ETAs, and
removing a helper, after which the helper's token is refused. (Session protection of these routes
is checked for every documented route in tests/web.)"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from urllib.parse import unquote

from aiohttp import web

from appliance.web._http import _validator
from appliance.web.app import errors_middleware
from appliance.web.peers import HELPER_API_URL, PEERS, helper_app, owner_routes

ROOT = Path(__file__).resolve().parents[2]


async def test_pair_from_the_phone_then_remove(service, aiohttp_client, tmp_path, tiny_meta) -> None:
    owner_app = web.Application(middlewares=[errors_middleware])
    owner_app.router.add_routes(owner_routes)
    owner = await aiohttp_client(owner_app)
    resp = await owner.get("/api/v1/peers")
    assert (await resp.json())["enabled"] is False
    resp = await owner.post("/api/v1/peers/code")
    assert resp.status == 409 and "not enabled" in (await resp.json())["reason"]

    owner_app2 = web.Application(middlewares=[errors_middleware])
    owner_app2.router.add_routes(owner_routes)
    owner_app2[PEERS] = service
    owner_app2[HELPER_API_URL] = "http://10.0.0.2:8442"
    owner = await aiohttp_client(owner_app2)
    helpers = await aiohttp_client(helper_app(service))
    body = await (await owner.post("/api/v1/peers/code")).json()
    assert body["command"] == f"python -m appliance helper --pair {body['code']} --box http://10.0.0.2:8442"
    assert body["qr"].startswith("data:image/svg+xml") and "svg" in unquote(body["qr"])
    resp = await helpers.post(
        "/api/v1/peers/pair", json={"code": body["code"], "name": "desk", "labels_per_second": 5e4}
    )
    token = (await resp.json())["token"]
    service.attach(tmp_path / "data", tiny_meta, 16, lambda _h, _u: None)
    service.coordinator.add_helper("desk", 5e4)
    service.coordinator.lease_pending(time.monotonic())
    status = await (await owner.get("/api/v1/peers")).json()
    assert not list(_validator("Peers").iter_errors(status)), "the response matches the OpenAPI document"
    assert status["enabled"] and status["helpers"] == ["desk"] and status["samples_per_unit"] == 64
    init = status["init"]
    assert init["helpers"][0]["labels_per_second"] == 5e4 and init["helpers"][0]["state"] == "leased"
    assert init["total"] == tiny_meta.total_labels and init["position"] == 0

    assert (await owner.delete("/api/v1/peers/helpers/desk")).status == 204
    assert (await owner.delete("/api/v1/peers/helpers/desk")).status == 404
    resp = await helpers.post(
        "/api/v1/peers/hello", json={"labels_per_second": 1}, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 401
    status = await (await owner.get("/api/v1/peers")).json()
    assert status["helpers"] == [] and any("desk removed" in e for e in status["init"]["events"])


async def test_helper_cli_refusals(service, aiohttp_client, tmp_path) -> None:
    helpers = await aiohttp_client(helper_app(service))
    base = str(helpers.make_url("")).rstrip("/")

    async def helper(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "appliance",
            "helper",
            "--config",
            str(tmp_path / "h.json"),
            *args,
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode, err.decode()

    service.new_code()
    code, err = await helper("--pair", "WRONG234", "--box", base, "--threads", "1")
    assert code == 1 and "error: pairing refused (403): wrong pairing code" in err
    code, err = await helper("--box", base)
    assert code == 1 and "not paired yet" in err and "--pair CODE" in err
    code, err = await helper("--pair", "X", "--box", "http://127.0.0.1:9")
    assert code == 1 and "cannot reach the box" in err
