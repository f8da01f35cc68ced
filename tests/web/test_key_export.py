"""Key export and factory reset over HTTP: the backup asks for the admin password again (under the
login limiter) and a backup password that can stand an offline guess; a factory reset asks whether
the keys stay, and after a wipe whoever sets the box up next finds no old key to export (real
ResetService, real IdentityStore, real Auth on a real state folder)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import nacl.pwhash
import pytest

from appliance.node.backup import IdentityBackups, check_backup_password
from appliance.node.identity import BackupError, IdentityStore, import_encrypted
from appliance.system.reset import ResetService
from appliance.web import create_app
from appliance.web.auth import Auth
from tests.web.conftest import PASSWORD, Api, World

STRONG = "a long backup passphrase"


async def test_export_asks_for_the_admin_password_again(admin: Api, world: World) -> None:
    status, body = await admin.call("POST", "/api/v1/identity/backup", {"password": STRONG})
    assert status == 400 and "admin_password" in body["reason"]
    for _ in range(5):
        status, body = await admin.call(
            "POST", "/api/v1/identity/backup", {"password": STRONG, "admin_password": "not the password"}
        )
        assert (status, body["error"]) == (401, "wrong_password")
    # A stolen session cannot guess on: the export shares the login limiter.
    status, body = await admin.call(
        "POST", "/api/v1/identity/backup", {"password": STRONG, "admin_password": PASSWORD}
    )
    assert (status, body["error"]) == (429, "rate_limited")
    world.clock.now += 31
    status, blob = await admin.call(
        "POST", "/api/v1/identity/backup", {"password": STRONG, "admin_password": PASSWORD}
    )
    assert status == 200
    ids = {import_encrypted(base64.b64decode(e), STRONG).node_id for e in json.loads(blob)["identities"]}
    assert ids == {i.node_id for i in world.identities.load_all()}


@pytest.mark.parametrize(
    ("password", "why"),
    [("x", "12 to 256"), ("backup pass", "12 to 256"), ("aaaaaaaaaaaaaaaa", "5 different"),
     ("abababababababab", "5 different")],
)
async def test_weak_backup_passwords_are_refused(admin: Api, password: str, why: str) -> None:
    status, body = await admin.call(
        "POST", "/api/v1/identity/backup", {"password": password, "admin_password": PASSWORD}
    )
    assert (status, body["error"]) == (400, "invalid") and why in body["reason"]


def test_backup_password_policy_is_at_least_the_admin_one() -> None:
    from appliance.web.auth import MIN_PASSWORD

    with pytest.raises(BackupError):
        check_backup_password("x" * MIN_PASSWORD)
    with pytest.raises(BackupError):
        check_backup_password("abcdefgh\ud800xyz")
    check_backup_password("correct horse battery")


class _Box:
    """A box's state folder served by the real web-facing services; ``restart`` is what the daemon
    does after a reset (every manager reads the state again)."""

    def __init__(self, root: Path, aiohttp_client: Any) -> None:
        self.root, self.aiohttp_client = root, aiohttp_client
        self.store = IdentityStore(root / "identities")

    async def start(self, world: World) -> Api:
        services = world.services
        services.state_dir = self.root / "web"
        services.identity = IdentityBackups(self.store)
        services.reset = ResetService(self.root)
        auth = Auth(services.state_dir, clock=world.clock, opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
                    memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN)
        return Api(await self.aiohttp_client(create_app(services, auth=auth)))


@pytest.mark.parametrize("choice", ["keep", "wipe"])
async def test_after_a_reset_the_next_owner_gets_the_keys_only_if_they_were_kept(
    world: World, tmp_path: Path, aiohttp_client: Any, choice: str
) -> None:
    box = _Box(tmp_path / "box", aiohttp_client)
    box.store.generate("drive-a")
    old = box.store.load("drive-a").node_id
    api = await box.start(world)
    await api.onboard_password()
    reset = {"confirm": "factory reset", "identities": choice}
    assert (await api.call("POST", "/api/v1/factory-reset", reset))[0] == 200
    assert not (box.root / "web" / "auth.json").exists()
    api = await box.start(world)  # the daemon restarted into onboarding
    await api.onboard_password("the next owner's password")
    status, body = await api.call(
        "POST", "/api/v1/identity/backup", {"password": STRONG, "admin_password": "the next owner's password"}
    )
    if choice == "keep":
        assert status == 200
        envelope = json.loads(body)
        keys = [import_encrypted(base64.b64decode(e), STRONG) for e in envelope["identities"]]
        assert [k.node_id for k in keys] == [old]
    else:
        assert (status, body["error"]) == (404, "not_found") and box.store.list() == []
