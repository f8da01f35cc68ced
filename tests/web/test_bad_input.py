"""Bad input that used to reach the handlers as a 500 gets a 4xx with a reason: JSON nested far too
deep, a lone surrogate in a password, a page of another scheme posting to the box, a body that
never finishes arriving."""

from __future__ import annotations

import asyncio

from appliance.web import _http
from tests.web.conftest import PASSWORD, Api, World

JSON = {"Content-Type": "application/json"}


async def test_deeply_nested_json_is_a_400_on_every_body_route(admin: Api) -> None:
    for depth in (40, 1_000, 2_000):
        deep = b"[" * depth + b"]" * depth
        for method, url in (("PATCH", "/api/v1/settings"), ("POST", "/api/v1/auth/login"),
                            ("POST", "/api/v1/identity/restore")):
            status, body = await admin.call(method, url, data=deep, headers=JSON)
            assert (status, body["error"]) == (400, "malformed_json"), (url, depth)
            assert "nests deeper" in body["reason"]
    # Brackets inside strings are text, not nesting.
    status, body = await admin.call("PATCH", "/api/v1/settings", {"hostname": "[" * 60})
    assert status == 400 and body["error"] == "invalid"


async def test_lone_surrogate_in_a_password_is_a_400(api: Api, world: World) -> None:
    lone = b'{"password": "abcdefgh\\ud800"}'
    status, body = await api.call("POST", "/api/v1/onboarding/password", data=lone, headers=JSON)
    assert (status, body["error"]) == (400, "invalid_text") and not world.auth.password_set
    await api.onboard_password()
    status, body = await api.call("POST", "/api/v1/auth/login", data=lone, headers=JSON)
    assert (status, body["error"]) == (400, "invalid_text")
    change = b'{"old_password": "%s", "new_password": "new password\\udfff"}' % PASSWORD.encode()
    status, body = await api.call("POST", "/api/v1/auth/password", data=change, headers=JSON)
    assert (status, body["error"]) == (400, "invalid_text")
    # A properly paired surrogate (an emoji) is ordinary text.
    pair = b'{"old_password": "%s", "new_password": "emoji \\ud83d\\ude00 pass"}' % PASSWORD.encode()
    assert (await api.call("POST", "/api/v1/auth/password", data=pair, headers=JSON))[0] == 204
    assert (await api.call("POST", "/api/v1/auth/login", {"password": "emoji \U0001f600 pass"}))[0] == 200


async def test_origin_check_compares_the_scheme(api: Api, world: World) -> None:
    host = f"{api.client.server.host}:{api.client.server.port}"
    for origin in (f"https://{host}", f"ftp://{host}", "null", "http://evil.example"):
        status, body = await api.call(
            "POST", "/api/v1/onboarding/password", {"password": PASSWORD}, headers={"Origin": origin}
        )
        assert (status, body["error"]) == (403, "cross_origin"), origin
    assert not world.auth.password_set
    status, _ = await api.call(
        "POST", "/api/v1/onboarding/password", {"password": PASSWORD}, headers={"Origin": f"http://{host}"}
    )
    assert status == 200


async def test_a_body_that_never_finishes_is_a_408(api: Api, monkeypatch: object) -> None:
    monkeypatch.setattr(_http, "BODY_TIMEOUT", 0.2)  # type: ignore[attr-defined]
    reader, writer = await asyncio.open_connection(api.client.server.host, api.client.server.port)
    writer.write(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"pass")
    await writer.drain()
    head = await asyncio.wait_for(reader.readline(), 10)
    assert head.startswith(b"HTTP/1.1 408")
    writer.close()
