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

from appliance.web import create_app
from tests.web.conftest import PASSWORD, make_world
from tests.web.fuzzing import api_schema, bounded, check, log_in

pytestmark = pytest.mark.slow
CREDENTIALS: dict[str, str] = {}
schema = api_schema(r"^/(events|auth/logout|factory-reset)$", CREDENTIALS)


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
    session = log_in(base, "/onboarding/password", PASSWORD, CREDENTIALS)
    try:
        yield base, session
    finally:
        asyncio.run_coroutine_threadsafe(box["runner"].cleanup(), loop).result(30)  # type: ignore[union-attr]
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@schema.parametrize()
# derandomize: CI runs the same cases every time (a wider random run passed 120 examples/operation).
@bounded(15)
def test_api_conforms(case: schemathesis.Case, live: tuple[str, requests.Session]) -> None:
    check(case, live)
