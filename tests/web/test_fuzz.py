"""Schemathesis fuzzes every operation of the OpenAPI document against a live server (a real socket,
its own loop in a thread): no 5xx, every status and body as documented, schema-violating input
refused. Operations that end the session (logout, factory reset) and the endless event stream are
covered by test_api/test_events instead."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from appliance.web import create_app
from appliance.web.openapi import document
from tests.web.conftest import PASSWORD, make_world

pytestmark = pytest.mark.slow
# Hypothesis caches into ./.hypothesis by default; keep it with the other (gitignored) test artifacts.
set_hypothesis_home_dir(Path(__file__).resolve().parents[2] / "test-artifacts" / "hypothesis")

# 413 (body over the route's limit) is a rejection too; schemathesis' default list lacks it.
REJECTIONS = ["400", "401", "403", "404", "405", "409", "413", "415", "429"]
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
)
schema = schemathesis.openapi.from_dict(document(), config=CONFIG).exclude(
    path_regex=r"^/(events|auth/logout|factory-reset)$"
)
CREDENTIALS: dict[str, str] = {}


@schema.auth()
class SessionAuth:
    """The session cookie and CSRF header of the fixture's login, applied as the document's
    security scheme (so schemathesis also tries requests without it and expects a 401)."""

    def get(self, case: schemathesis.Case, ctx: object) -> dict[str, str]:
        return CREDENTIALS

    def set(self, case: schemathesis.Case, data: dict[str, str], ctx: object) -> None:
        if not data:  # schemathesis also prepares cases while collecting, before the login
            return
        case.cookies = {**(case.cookies or {}), "smeshbox_session": data["cookie"]}
        case.headers = {**(case.headers or {}), "X-CSRF-Token": data["csrf"]}


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, requests.Session]]:
    world = make_world(Path(tmp_path_factory.mktemp("fuzz")))
    world.services.call_timeout = 10.0
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict[str, object] = {}

    async def start() -> None:
        runner = web.AppRunner(create_app(world.services, auth=world.auth))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        box["runner"] = runner
        box["port"] = runner.addresses[0][1]
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()))
    thread.start()
    assert started.wait(30)
    base = f"http://127.0.0.1:{box['port']}/api/v1"
    resp = requests.post(f"{base}/onboarding/password", json={"password": PASSWORD}, timeout=30)
    assert resp.status_code == 200
    CREDENTIALS.update(cookie=resp.cookies["smeshbox_session"], csrf=resp.json()["csrf"])
    try:
        yield base, requests.Session()
    finally:
        asyncio.run_coroutine_threadsafe(box["runner"].cleanup(), loop).result(30)  # type: ignore[union-attr]
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@schema.parametrize()
# derandomize: CI runs the same cases every time (a wider random run passed 120 examples/operation).
@settings(
    max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
def test_api_conforms(case: schemathesis.Case, live: tuple[str, requests.Session]) -> None:
    base, session = live
    case.call_and_validate(base_url=base, session=session, checks=CHECKS, timeout=30)
