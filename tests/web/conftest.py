"""Fixtures for the web tests: a real aiohttp server (pytest-aiohttp) over the in-memory managers of
fakes.py, and an API client that checks every JSON response against the OpenAPI document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import nacl.pwhash
import pytest
from aiohttp.test_utils import TestClient

from appliance import __version__
from appliance.events import EventBus
from appliance.node.backup import IdentityBackups
from appliance.node.identity import IdentityStore
from appliance.node.nodemode import NetworkPreset
from appliance.notify.manager import NotifyManager
from appliance.system.logservice import LogDirectory
from appliance.web import AppServices, create_app
from appliance.web.auth import Auth
from appliance.web.openapi import document
from tests.web.fakes import FakeBox, FakeDrives, FakeNode, FakeReset, FakeSummary, FakeUpdate, address_parser

DOC = document()
PASSWORD = "correct horse battery"


class Clock:
    """Injectable monotonic clock: expiry and lock-out are tested by moving it, not by sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    bus: EventBus
    state: Path
    drives: FakeDrives
    node: FakeNode
    box: FakeBox
    update: FakeUpdate
    reset: FakeReset
    identities: IdentityStore
    logs_dir: Path
    clock: Clock
    auth: Auth
    services: AppServices
    summary: FakeSummary
    notify: NotifyManager
    nodemode: Any = None  # appliance.node.nodemode_service.NodeModeService


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def make_world(tmp_path: Path) -> World:
    bus = EventBus()
    state = tmp_path / "state"
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    (logs_dir / "appliance.log").write_text("started\nall good\n")
    (tmp_path / "secret.txt").write_text("not for download")
    identities = IdentityStore(tmp_path / "identities")
    identities.generate("drive-a")
    identities.generate("drive-b")
    drives, node, box = FakeDrives(bus), FakeNode(bus), FakeBox(bus, __version__)
    update, reset = FakeUpdate(__version__), FakeReset()
    services = AppServices(
        bus=bus,
        state_dir=state,
        version=__version__,
        drives=drives,
        node=node,
        identity=IdentityBackups(identities),
        box=box,
        update=update,
        logs=LogDirectory(logs_dir),
        reset=reset,
        parse_address=address_parser,
        call_timeout=5.0,
        nodemode=(nodemode := make_nodemode(bus, tmp_path, identities)),
    )
    state.mkdir()
    services.summary = summary = FakeSummary(bus)
    services.notify = notify = NotifyManager(state, bus, [])
    clock = Clock()
    # The cheapest argon2id parameters keep the suite fast; test_auth covers the default ones.
    auth = Auth(
        state,
        clock=clock,
        opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
        memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN,
    )
    return World(bus, state, drives, node, box, update, reset, identities, logs_dir, clock, auth, services,
                 summary, notify, nodemode)


TEST_PRESET = NetworkPreset("devnet", 8, 12, "ff" * 32, 2, 256, 1)


def make_nodemode(bus: EventBus, tmp_path: Path, identities: IdentityStore) -> Any:
    """Node mode over the world's two identities (drive-a, drive-b). Their data is not on this test
    box, so each post-service would wait for data; the supervisor is started only by tests that
    want the services running."""
    from appliance.node.nodemode import NodeModeStore
    from appliance.node.nodemode_service import NodeModeService
    from appliance.node.post_provider import PostUnavailable
    from appliance.node.remote import NodeModeSupervisor

    class NoData:
        async def info(self, node_id: bytes) -> Any:
            raise PostUnavailable("the test box has no PoST data")

        async def prove(self, node_id: bytes, challenge: bytes) -> Any:
            raise PostUnavailable("the test box has no PoST data")

    def datasets() -> list[tuple[bytes, str, str]]:
        return [(identities.load(name).node_id, name, f"uuid-{name}") for name in ("drive-a", "drive-b")]

    store = NodeModeStore(tmp_path / "nodemode", {"devnet": TEST_PRESET})
    supervisor = NodeModeSupervisor(bus, store, lambda preset: NoData(), datasets, reconnect_interval=0.2)
    return NodeModeService(bus, store, supervisor, identities, datasets)


def _template(path: str) -> str:
    path = path.split("?")[0].removeprefix("/api/v1")
    for template in DOC["paths"]:
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            return template
    raise AssertionError(f"{path} is not in the OpenAPI document")


def check_response(method: str, path: str, status: int, content_type: str, body: Any) -> None:
    """Fails unless ``status`` is documented for the operation and ``body`` matches its schema."""
    op = DOC["paths"][_template(path)][method.lower()]
    assert str(status) in op["responses"], f"{method} {path}: status {status} is not documented"
    content = op["responses"][str(status)].get("content")
    if content is None:
        assert body in (None, b""), f"{method} {path}: {status} documents no body"
        return
    assert content_type in content, f"{method} {path}: {content_type} not documented for {status}"
    if content_type == "application/json":
        schema = {**content[content_type]["schema"], "components": DOC["components"]}
        jsonschema.Draft202012Validator(schema).validate(body)


class Api:
    """Wraps pytest-aiohttp's client: keeps the CSRF token, validates every response."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.csrf: str | None = None

    async def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> tuple[int, Any]:
        hdrs = dict(headers or {})
        if csrf and self.csrf and method != "GET":
            hdrs.setdefault("X-CSRF-Token", self.csrf)
        resp = await self.client.request(method, path, json=json, data=data, headers=hdrs)
        raw = await resp.read()
        body: Any = await resp.json() if resp.content_type == "application/json" else raw
        check_response(method, path, resp.status, resp.content_type, body)
        if resp.content_type == "application/json" and isinstance(body, dict) and "csrf" in body:
            self.csrf = body["csrf"]
        self.last = resp
        return resp.status, body

    async def onboard_password(self, password: str = PASSWORD) -> None:
        status, body = await self.call("POST", "/api/v1/onboarding/password", {"password": password})
        assert status == 200, body


@pytest.fixture
async def api(world: World, aiohttp_client: Any) -> Api:
    app = create_app(world.services, auth=world.auth)
    return Api(await aiohttp_client(app))


@pytest.fixture
async def admin(api: Api) -> Api:
    """A client with a session (onboarding's first step done)."""
    await api.onboard_password()
    return api
