"""Sessions that survive a restart (appliance.web.sessions through appliance.web.auth): a new Auth on the
same folder — as after a restart of the box — honours the old cookie; logout, password change and
expiry are revocations that stick; the file holds no usable token; a damaged file costs only a
new login."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from appliance.web import create_app
from appliance.web.auth import Auth
from tests.web.conftest import PASSWORD, Api, Clock, World
from tests.web.test_auth import make


async def test_a_session_survives_a_restart_and_revocations_stick(tmp_path: Path) -> None:
    clock = Clock()
    auth = make(tmp_path, clock)
    await auth.set_initial_password("first password")
    token, session = await auth.login("c", "first password")
    other, _ = await auth.login("d", "first password")
    stored = (tmp_path / "sessions.json").read_text()
    assert token not in stored and other not in stored and session.csrf in stored
    assert os.stat(tmp_path / "sessions.json").st_mode & 0o777 == 0o600

    restarted = make(tmp_path, clock)  # a new process on the same state
    again = restarted.session(token)
    assert again is not None and again.csrf == session.csrf  # the page keeps its CSRF token too
    restarted.logout(other)
    await restarted._sessions.flush()
    assert make(tmp_path, clock).session(other) is None  # a logout is not undone by a restart

    await restarted.change_password("c", token, "first password", "second password")
    third = make(tmp_path, clock)
    assert third.session(token) is not None
    third.end_all_sessions()  # factory reset
    await third._sessions.flush()
    assert make(tmp_path, clock).session(token) is None


async def test_expiry_counts_across_restarts(tmp_path: Path) -> None:
    clock = Clock()
    auth = make(tmp_path, clock, idle_timeout=100.0, max_age=1000.0)
    await auth.set_initial_password("first password")
    token, _ = await auth.login("c", "first password")
    clock.now += 99
    middle = make(tmp_path, clock, idle_timeout=100.0, max_age=1000.0)
    assert middle.session(token) is not None
    await middle._sessions.flush()  # that process's last write, before the next one starts
    clock.now += 101  # idle longer than allowed while the box was off: gone after the restart
    fresh = make(tmp_path, clock, idle_timeout=100.0, max_age=1000.0)
    assert fresh.session(token) is None
    # the expired session is dropped from the file when it is next written
    await fresh.login("c", "first password")
    assert len(json.loads((tmp_path / "sessions.json").read_text())["sessions"]) == 1


async def test_a_damaged_sessions_file_means_logging_in_again(tmp_path: Path) -> None:
    auth = make(tmp_path)
    await auth.set_initial_password("first password")
    token, _ = await auth.login("c", "first password")
    for junk in ("{not json", '{"sessions": [{"token_hash": "zz"}]}', "[]"):
        (tmp_path / "sessions.json").write_text(junk)
        again = make(tmp_path)
        assert again.session(token) is None
        assert again.session((await again.login("c", "first password"))[0]) is not None


async def test_default_clock_is_wall_time(tmp_path: Path) -> None:
    # monotonic time restarts with the machine; a persisted session needs the wall clock
    auth = Auth(tmp_path)
    await auth.set_initial_password("first password")
    _, session = await auth.login("c", "first password")
    saved = json.loads((tmp_path / "sessions.json").read_text())["sessions"]
    assert abs(session.created - saved[-1]["created"]) < 1
    assert session.created > 1_600_000_000


async def test_log_out_all_other_devices(admin: Api, world: World, aiohttp_client: Any) -> None:
    other = Api(await aiohttp_client(create_app(world.services, auth=world.auth)))
    status, _ = await other.call("POST", "/api/v1/auth/login", {"password": PASSWORD})
    assert status == 200 and (await other.call("GET", "/api/v1/settings"))[0] == 200
    assert (await admin.call("GET", "/api/v1/sessions"))[1] == {"count": 2}
    assert (await admin.call("POST", "/api/v1/sessions/end-others", {}))[1] == {"count": 1}
    assert (await other.call("GET", "/api/v1/settings"))[0] == 401  # the lost phone is out
    assert (await admin.call("GET", "/api/v1/settings"))[0] == 200  # this one stays
    stored = json.loads((world.state / "sessions.json").read_text())["sessions"]
    assert len(stored) == 1  # and stays out after a restart
