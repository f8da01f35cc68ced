"""The /api/v1 surface against a real aiohttp server; every response is checked against the OpenAPI
document by the ``Api`` client (conftest)."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from appliance import __version__
from appliance.events import Topic
from appliance.web.app import create_app
from appliance.web.openapi import PATHS
from tests.web.conftest import PASSWORD, Api, World
from tests.web.fakes import GIB, UNIT_BYTES, VALID_ADDRESS

BACKUP = {"password": "backup passphrase", "admin_password": PASSWORD}


async def test_health_is_public(api: Api) -> None:
    assert await api.call("GET", "/api/v1/health") == (
        200, {"status": "ok", "problems": [], "version": __version__})


async def test_routes_match_the_document(world: World) -> None:
    app = create_app(world.services)
    served = {
        (r.method, r.resource.canonical.removeprefix("/api/v1"))
        for r in app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/v1") and r.method != "HEAD"
    }
    documented = {(m.upper(), p) for p, ops in PATHS.items() for m in ops if m != "parameters"}
    assert served == documented


async def test_everything_else_needs_a_session(api: Api) -> None:
    for path, ops in PATHS.items():
        for method, op in ops.items():
            if op.get("security") == []:
                continue
            url = "/api/v1" + path.replace("{drive_id}", "x").replace("{name}", "x")
            status, body = await api.call(method.upper(), url, {} if method != "get" else None)
            assert (status, body["error"]) == (401, "unauthenticated"), url


async def test_onboarding_sets_password_once(api: Api, world: World) -> None:
    assert await api.call("GET", "/api/v1/onboarding") == (200, {"password_set": False, "done": False})
    await api.onboard_password()
    cookie = api.last.cookies["smeshbox_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]
    assert (await api.call("GET", "/api/v1/onboarding"))[1] == {"password_set": True, "done": False}
    # A second "first" password is refused and the first one still works.
    status, body = await api.call("POST", "/api/v1/onboarding/password", {"password": "another password"})
    assert (status, body["error"]) == (409, "conflict")
    assert (await api.call("POST", "/api/v1/auth/login", {"password": PASSWORD}))[0] == 200


async def test_weak_password_is_refused(api: Api, world: World) -> None:
    status, body = await api.call("POST", "/api/v1/onboarding/password", {"password": "short"})
    assert status == 400 and "8 to 256" in body["reason"]
    assert not world.auth.password_set and not (world.state / "auth.json").exists()


async def test_full_onboarding_then_it_cannot_rerun(admin: Api, world: World) -> None:
    status, body = await admin.call("POST", "/api/v1/onboarding/complete")
    assert status == 409 and "Reward address" in body["reason"]
    status, settings = await admin.call("PATCH", "/api/v1/settings", {"reward_address": VALID_ADDRESS})
    assert status == 200 and settings["reward_address"] == VALID_ADDRESS
    status, settings = await admin.call("POST", "/api/v1/onboarding/complete")
    assert status == 200 and settings["onboarded"] is True
    assert json.loads((world.state / "settings.json").read_text())["onboarded"] is True
    assert (await admin.call("POST", "/api/v1/onboarding/complete"))[0] == 409
    status, body = await admin.call("POST", "/api/v1/onboarding/password", {"password": "a new password"})
    assert status == 409 and body["error"] == "onboarded"


async def test_invalid_reward_address_changes_nothing(admin: Api, world: World) -> None:
    await admin.call("PATCH", "/api/v1/settings", {"reward_address": VALID_ADDRESS})
    typo = VALID_ADDRESS[:-1] + ("q" if VALID_ADDRESS[-1] != "q" else "p")
    for bad in (typo, "sm1", "stest1qqqqqqqq", "hello world", ""):
        status, body = await admin.call("PATCH", "/api/v1/settings", {"reward_address": bad})
        assert status == 400 and body["reason"].startswith("Reward address:"), bad
    assert (await admin.call("GET", "/api/v1/settings"))[1]["reward_address"] == VALID_ADDRESS


async def test_settings_validation(admin: Api, world: World) -> None:
    status, s = await admin.call(
        "PATCH", "/api/v1/settings", {"hostname": "box-2", "poet_servers": ["https://poet.example"]}
    )
    assert status == 200 and s["hostname"] == "box-2" and s["poet_servers"] == ["https://poet.example"]
    for bad in (
        {"hostname": "-bad"},
        {"hostname": "UPPER"},
        {"gateways": ["ftp://x"]},
        {"gateways": "http://x"},
        {"gateways": ["http://a.example", "http://b.example"]},  # the node has one gateway
        {"poet_servers": ["poet.example"]},
        {"colour": "red"},
        {},
    ):
        status, _ = await admin.call("PATCH", "/api/v1/settings", bad)
        assert status == 400, bad
    assert json.loads((world.state / "settings.json").read_text())["hostname"] == "box-2"


async def test_settings_change_is_published(admin: Api, world: World) -> None:
    async with world.bus.subscribe() as queue:
        await admin.call("PATCH", "/api/v1/settings", {"hostname": "attic"})
        event = queue.get_nowait()
    assert event.topic is Topic.SETTINGS and event.data.hostname == "attic"


async def test_csrf_required_on_state_changes(admin: Api, world: World) -> None:
    status, body = await admin.call("PATCH", "/api/v1/settings", {"hostname": "evil"}, csrf=False)
    assert (status, body["error"]) == (403, "csrf")
    status, body = await admin.call(
        "PATCH", "/api/v1/settings", {"hostname": "evil"}, headers={"X-CSRF-Token": "forged"}
    )
    assert status == 403
    assert world.services.state_dir.joinpath("settings.json").exists() is False


async def test_cross_origin_post_is_refused(api: Api, world: World) -> None:
    status, body = await api.call(
        "POST",
        "/api/v1/onboarding/password",
        {"password": PASSWORD},
        headers={"Origin": "http://evil.example"},
    )
    assert (status, body["error"]) == (403, "cross_origin") and not world.auth.password_set
    host = api.client.server.host, api.client.server.port
    status, _ = await api.call(
        "POST",
        "/api/v1/onboarding/password",
        {"password": PASSWORD},
        headers={"Origin": f"http://{host[0]}:{host[1]}"},
    )
    assert status == 200


async def test_bad_bodies(admin: Api) -> None:
    url = "/api/v1/settings"
    status, body = await admin.call(
        "PATCH", url, data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (status, body["error"]) == (400, "malformed_json")
    status, body = await admin.call("PATCH", url, data=b"hostname=x", headers={"Content-Type": "text/plain"})
    assert (status, body["error"]) == (415, "unsupported_media_type")
    status, body = await admin.call("PATCH", url, {"hostname": "x" * 5000})
    assert (status, body["error"]) == (413, "too_large")
    huge = b'{"hostname": "' + b"x" * 200_000 + b'"}'
    status, body = await admin.call("PATCH", url, data=huge, headers={"Content-Type": "application/json"})
    assert status == 413
    status, body = await admin.call(
        "PATCH", url, data=b"[1, 2]", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and body["error"] == "invalid"
    assert (await admin.call("GET", url))[1]["hostname"] == "smeshbox"


async def test_unknown_api_path_is_json_404(admin: Api) -> None:
    resp = await admin.client.get("/api/v1/nothing-here")
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"


async def test_dashboard_and_sections(admin: Api, world: World) -> None:
    status, dash = await admin.call("GET", "/api/v1/dashboard")
    assert status == 200 and len(dash["drives"]) == 2
    assert dash["node"]["epoch"] == 12 and dash["box"]["version"] == __version__
    assert (await admin.call("GET", "/api/v1/node"))[1] == dash["node"]
    assert (await admin.call("GET", "/api/v1/box"))[1] == dash["box"]
    assert (await admin.call("GET", "/api/v1/drives"))[1]["drives"] == dash["drives"]


async def test_node_section_details_every_identity(admin: Api, world: World) -> None:
    second = dataclasses.replace(world.node.identity, node_id="cd" * 32, status="proving", atx_history=[])
    world.node.set(identities=[world.node.identity, second], status="2 identities smeshing")
    status, node = await admin.call("GET", "/api/v1/node")  # the response is checked against OpenAPI
    assert status == 200 and node["status"] == "2 identities smeshing"
    assert [(i["node_id"], i["status"], len(i["atx_history"])) for i in node["identities"]] == [
        ("ab" * 32, "waiting for the PoET round", 7), ("cd" * 32, "proving", 0)]


async def test_format_needs_the_confirmed_drive(admin: Api, world: World) -> None:
    drive = world.drives.drives()[0]
    url = f"/api/v1/drives/{drive.id}/format"
    status, body = await admin.call(
        "POST", url, {"model": drive.model, "serial": "OTHER", "size_bytes": drive.size_bytes}
    )
    assert status == 409 and "not the one you confirmed" in body["reason"] and world.drives.formatted == []
    status, body = await admin.call("POST", url, {"model": drive.model, "serial": drive.serial})
    assert status == 400 and "size_bytes" in body["reason"]
    status, _ = await admin.call(
        "POST", url, {"model": drive.model, "serial": drive.serial, "size_bytes": drive.size_bytes}
    )
    assert status == 200 and world.drives.formatted == [drive.id]
    status, body = await admin.call(
        "POST", "/api/v1/drives/nope/format", {"model": "m", "serial": "s", "size_bytes": 1}
    )
    assert status == 404


async def test_estimate_then_allocate(admin: Api, world: World) -> None:
    drive = world.drives.drives()[1]
    status, plan = await admin.call("POST", f"/api/v1/drives/{drive.id}/estimate", {"size_bytes": 10 * GIB})
    assert status == 200 and plan["num_units"] == 10 * GIB // UNIT_BYTES
    assert plan["eta_seconds"] == plan["size_bytes"] / 16 / plan["labels_per_second"]
    assert world.drives.drives()[1].allocated_bytes == 0  # estimate changes nothing
    status, body = await admin.call("POST", f"/api/v1/drives/{drive.id}/estimate", {"size_bytes": 1})
    assert status == 400 and "space unit" in body["reason"]
    status, body = await admin.call("POST", f"/api/v1/drives/{drive.id}/allocate", {"size_bytes": -5})
    assert status == 400
    status, plan = await admin.call("POST", f"/api/v1/drives/{drive.id}/allocate", {"size_bytes": 10 * GIB})
    assert status == 200 and world.drives.drives()[1].job.state == "initializing"


async def test_identity_backup_and_restore(admin: Api, world: World) -> None:
    node_ids = sorted(i.node_id.hex() for i in world.identities.load_all())
    status, blob = await admin.call("POST", "/api/v1/identity/backup", BACKUP)
    assert status == 200 and admin.last.headers["Content-Disposition"].startswith("attachment")
    assert (
        b"private_key" not in blob and world.identities.load("drive-a").key_file_text().encode() not in blob
    )

    async def restore(password: str, backup: bytes | str) -> tuple[int, Any]:
        text = backup if isinstance(backup, str) else base64.b64encode(backup).decode()
        return await admin.call("POST", "/api/v1/identity/restore", {"password": password, "backup": text})

    status, body = await restore("wrong", blob)
    assert status == 400 and "wrong password" in body["reason"]
    envelope = json.loads(blob)
    inner = bytearray(base64.b64decode(envelope["identities"][1]))
    inner[-5] ^= 1  # one flipped bit in the second identity's ciphertext
    envelope["identities"][1] = base64.b64encode(bytes(inner)).decode()
    status, body = await restore(BACKUP["password"], json.dumps(envelope).encode())
    assert status == 400 and "damaged" in body["reason"]
    assert (await restore("x", "%%%"))[0] == 400
    status, body = await restore("x", b"garbage")
    assert status == 400 and "not a Smeshbox identity backup" in body["reason"]
    # A restore onto a box that has a *different* key under the same name writes nothing.
    for path in world.identities.directory.iterdir():
        path.unlink()
    world.identities.generate("drive-b")
    other = world.identities.load("drive-b").node_id.hex()
    status, body = await restore(BACKUP["password"], blob)
    assert status == 409 and "nothing was restored" in body["reason"]
    assert world.identities.list() == ["drive-b"]
    world.identities.directory.joinpath("drive-b.key").unlink()
    status, body = await restore(BACKUP["password"], blob)
    assert status == 200 and sorted(body["node_ids"]) == node_ids and other not in node_ids
    assert sorted(i.node_id.hex() for i in world.identities.load_all()) == node_ids


async def test_backup_without_identities(admin: Api, world: World) -> None:
    for path in world.identities.directory.iterdir():
        path.unlink()
    status, body = await admin.call("POST", "/api/v1/identity/backup", BACKUP)
    assert status == 404 and "no identity" in body["reason"]


async def test_logs_download_and_traversal(admin: Api, world: World) -> None:
    assert (await admin.call("GET", "/api/v1/logs"))[1] == {"names": ["appliance.log"]}
    status, body = await admin.call("GET", "/api/v1/logs/appliance.log")
    assert status == 200 and body == b"started\nall good\n"
    (world.logs_dir / "link.log").symlink_to(world.logs_dir.parent / "secret.txt")
    for name in ("..%2Fsecret.txt", "%2E%2E%2Fsecret.txt", ".hidden", "link.log", "missing.log"):
        resp = await admin.client.get(f"/api/v1/logs/{name}")
        assert resp.status in (400, 404), name
        assert "not for download" not in await resp.text()
        assert (await resp.json())["reason"]


async def test_update_page(admin: Api, world: World) -> None:
    status, view = await admin.call("GET", "/api/v1/update")
    assert status == 200 and view["available_version"] == "0.2.0"
    status, _ = await admin.call("POST", "/api/v1/update", {"version": "9.9.9"})
    assert status == 409 and world.update.started == []
    assert (await admin.call("POST", "/api/v1/update", {"version": "0.2.0"}))[0] == 200
    assert world.update.started == ["0.2.0"]


async def test_factory_reset_needs_confirmation(admin: Api, world: World) -> None:
    status, _ = await admin.call("POST", "/api/v1/factory-reset", {"confirm": "yes", "identities": "keep"})
    assert status == 400 and world.reset.calls == 0
    status, _ = await admin.call("POST", "/api/v1/factory-reset", {"confirm": "factory reset"})
    assert status == 400 and world.reset.calls == 0  # it must say what happens to the keys
    body = {"confirm": "factory reset", "identities": "keep"}
    status, _ = await admin.call("POST", "/api/v1/factory-reset", body)
    assert status == 200 and world.reset.calls == 1 and world.reset.kept_identities == [True]
    assert (await admin.call("GET", "/api/v1/settings"))[0] == 401  # every session ended


async def test_slow_manager_times_out(admin: Api, world: World) -> None:
    import asyncio

    async def stuck(drive_id: str, size_bytes: int) -> None:
        await asyncio.Event().wait()

    world.services.call_timeout = 0.05
    world.drives.estimate = stuck  # type: ignore[method-assign]
    status, body = await admin.call("POST", "/api/v1/drives/x/estimate", {"size_bytes": 1})
    assert (status, body["error"]) == (504, "timeout")


async def test_security_headers_and_page(api: Api) -> None:
    resp = await api.client.get("/")
    assert resp.status == 200 and "text/html" in resp.headers["Content-Type"]
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    resp = await api.client.get("/ui/../pyproject.toml")
    assert resp.status in (403, 404)


async def test_expired_session_is_refused(admin: Api, world: World) -> None:
    assert (await admin.call("GET", "/api/v1/settings"))[0] == 200
    world.clock.now += world.auth.idle_timeout + 1
    status, body = await admin.call("GET", "/api/v1/settings")
    assert (status, body["error"]) == (401, "unauthenticated")
    status, _ = await admin.call("PATCH", "/api/v1/settings", {"hostname": "late"})
    assert status == 401 and not (world.state / "settings.json").exists()


async def test_login_before_any_password_and_logout(api: Api) -> None:
    status, body = await api.call("POST", "/api/v1/auth/login", {"password": PASSWORD})
    assert status == 409 and "no admin password" in body["reason"]
    await api.onboard_password()
    status, body = await api.call("POST", "/api/v1/auth/login", {"password": "wrong one"})
    assert (status, body["error"]) == (401, "wrong_password")
    assert (await api.call("POST", "/api/v1/auth/logout"))[0] == 204
    assert (await api.call("GET", "/api/v1/auth/session"))[0] == 401


async def test_login_is_rate_limited_over_http(api: Api, world: World) -> None:
    await api.onboard_password()
    for _ in range(5):
        assert (await api.call("POST", "/api/v1/auth/login", {"password": "guess guess"}))[0] == 401
    status, body = await api.call("POST", "/api/v1/auth/login", {"password": PASSWORD})
    assert status == 429 and body["retry_after"] == 30 and api.last.headers["Retry-After"] == "30"


async def test_password_change_over_http(admin: Api, world: World) -> None:
    body = {"old_password": "not it at all", "new_password": "a brand new one"}
    assert (await admin.call("POST", "/api/v1/auth/password", body))[0] == 401
    body["old_password"] = PASSWORD
    assert (await admin.call("POST", "/api/v1/auth/password", body))[0] == 204
    assert (await admin.call("GET", "/api/v1/settings"))[0] == 200  # this session stays
    assert (await admin.call("POST", "/api/v1/auth/login", {"password": PASSWORD}))[0] == 401


async def test_cookie_is_secure_behind_tls(world: World, aiohttp_client: Any) -> None:
    world.services.secure_cookies = True
    api = Api(await aiohttp_client(create_app(world.services, auth=world.auth)))
    await api.onboard_password()
    assert api.last.cookies["smeshbox_session"]["secure"]


async def test_restore_body_limit(admin: Api, world: World) -> None:
    big = {"password": "x", "backup": "A" * 70_000}
    status, body = await admin.call("POST", "/api/v1/identity/restore", big)
    assert (status, body["error"]) == (413, "too_large") and world.identities.list() == ["drive-a", "drive-b"]


async def test_serve_helper(world: World) -> None:
    import aiohttp

    from appliance.web import serve

    runner = await serve(create_app(world.services, auth=world.auth), "127.0.0.1", 0)
    try:
        host, port = runner.addresses[0][:2]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{host}:{port}/api/v1/health") as r,
        ):
            assert r.status == 200 and (await r.json())["version"] == __version__
        world.bus.publish_threadsafe(Topic.NODE)  # serve() bound the bus to this loop
    finally:
        await runner.cleanup()


async def test_first_password_refused_through_a_foreign_name(api: Api, world: World) -> None:
    """DNS rebinding: a page at evil.example re-points its name at the box; Origin matches Host."""
    hdrs = {"Host": "evil.example", "Origin": "http://evil.example"}
    status, body = await api.call("POST", "/api/v1/onboarding/password", {"password": PASSWORD}, headers=hdrs)
    assert (status, body["error"]) == (403, "foreign_host") and not world.auth.password_set
    for host in ("smeshbox.local", "smeshbox", "192.0.2.7:8080", "[2001:db8::1]:80", "localhost:8080"):
        hdrs = {"Host": host, "Origin": f"http://{host}"}
        status, body = await api.call("POST", "/api/v1/auth/login", {"password": "x"}, headers=hdrs)
        assert status == 409  # got past the host and origin checks (no password yet)
    status, _ = await api.call(
        "POST", "/api/v1/onboarding/password", {"password": PASSWORD}, headers={"Host": "smeshbox.local"}
    )
    assert status == 200


def test_sessions_are_bounded(world: World) -> None:
    from appliance.web.auth import MAX_SESSIONS

    tokens = [world.auth._new_session()[0] for _ in range(MAX_SESSIONS + 5)]
    assert world.auth.session(tokens[0]) is None and world.auth.session(tokens[-1]) is not None
    assert len(world.auth._sessions) == MAX_SESSIONS


async def test_password_check_runs_off_the_loop(api: Api, monkeypatch: Any) -> None:
    """While argon2id verifies (held here until released), the loop keeps answering."""
    import asyncio
    import threading

    from appliance.web import auth as authmod

    await api.onboard_password()
    entered, release = threading.Event(), threading.Event()
    real = authmod._argon2_verify

    def held(stored: bytes, password: bytes) -> bool:
        entered.set()
        release.wait(30)
        return real(stored, password)

    monkeypatch.setattr(authmod, "_argon2_verify", held)
    login = asyncio.create_task(api.client.post("/api/v1/auth/login", json={"password": PASSWORD}))
    await asyncio.to_thread(entered.wait, 30)
    assert (await api.call("GET", "/api/v1/health"))[0] == 200  # answered while the hash is held
    assert not login.done()
    release.set()
    assert (await login).status == 200
