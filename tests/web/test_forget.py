"""POST /drives/{id}/forget: a missing drive is forgotten (documented 200), any other is a 409
with the reason; the endpoint needs a session like every other drive action."""

from __future__ import annotations

import dataclasses

from tests.web.conftest import Api, World


async def test_forget_a_missing_drive_and_only_a_missing_one(admin: Api, world: World) -> None:
    drive = world.drives.drives()[1]
    status, body = await admin.call("POST", f"/api/v1/drives/{drive.id}/forget")
    assert status == 409 and "not missing" in body["reason"]
    world.drives._set(dataclasses.replace(drive, state="missing", reason="not plugged in since the start"))
    assert await admin.call("POST", f"/api/v1/drives/{drive.id}/forget") == (200, {"status": "forgotten"})
    assert drive.id not in {d.id for d in world.drives.drives()}
    assert (await admin.call("POST", f"/api/v1/drives/{drive.id}/forget"))[0] == 404


async def test_forget_needs_a_session(api: Api, world: World) -> None:
    drive = world.drives.drives()[1]
    assert (await api.call("POST", f"/api/v1/drives/{drive.id}/forget"))[0] == 401
