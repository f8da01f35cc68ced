"""The logs download and the factory reset through the real web app (the web tests' world with this
domain's services swapped in): ``journal.txt`` from real journal files over HTTP, traversal refused,
and a confirmed reset that erases the state folder and asks for the restart."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from appliance.system.journal_export import JournalExport
from appliance.system.logservice import ApplianceLogs
from appliance.system.reset import ResetService
from appliance.web.app import create_app
from tests.system.test_logfiles import _journal
from tests.web.conftest import Api, make_world


async def test_journal_download_traversal_and_reset_over_http(tmp_path: Path, aiohttp_client: Any) -> None:
    world = make_world(tmp_path)
    journal = _journal(tmp_path / "journal", [("smeshbox", "hello over http")])
    root = tmp_path / "box"
    for rel in ("web/settings.json", "node/state.json", "identities/a.key"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    restarts: list[str] = []
    reset = ResetService(root, on_restart=lambda: restarts.append("now"))
    services = dataclasses.replace(world.services, reset=reset,
                                   logs=ApplianceLogs(world.logs_dir, JournalExport(directory=journal)))
    api = Api(await aiohttp_client(create_app(services, auth=world.auth)))
    await api.onboard_password()

    assert await api.call("GET", "/api/v1/logs") == (200, {"names": ["journal.txt", "appliance.log"]})
    status, body = await api.call("GET", "/api/v1/logs/journal.txt")
    assert status == 200 and body.decode().endswith(" smeshbox: hello over http\n")
    assert api.last.headers["Content-Disposition"] == 'attachment; filename="journal.txt"'
    status, body = await api.call("GET", "/api/v1/logs/..%2fsecret.txt")
    assert status == 400 and body["error"] == "invalid"

    assert (await api.call("POST", "/api/v1/factory-reset", {"confirm": "yes"}))[0] == 400
    assert restarts == [] and (root / "web" / "settings.json").exists()
    reset = {"confirm": "factory reset", "identities": "keep"}
    assert await api.call("POST", "/api/v1/factory-reset", reset) == (
        200, {"status": "accepted"})
    assert restarts == ["now"] and sorted(p.name for p in root.iterdir()) == ["identities"]
    assert (root / "identities" / "a.key").read_text() == "identities/a.key"
