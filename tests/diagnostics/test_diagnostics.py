"""The diagnostics service: started by its own entry point with the daemon stopped, behind the admin
password; its report and its support bundle, from which every planted secret is absent."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from appliance.diagnostics.collect import Sources, daemon_process, report, tail_lines
from appliance.diagnostics.redact import REMOVED, redact_json, redact_text
from appliance.web import create_app
from appliance.web.auth import Auth
from tests.web.conftest import make_world

PASSWORD = "correct horse battery"
SECRETS = ["hunter2-wifi-secret", "k3yforthebox", "deadbeef" * 8, "tok-abc-123-xyz"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _state(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    (state / "web").mkdir(parents=True)
    (state / "logs").mkdir()
    (state / "identities").mkdir()
    await Auth(state / "web", opslimit=1, memlimit=8192).set_initial_password(PASSWORD)
    (state / "identities" / "drive-a.key").write_text(SECRETS[2])
    (state / "hotspot.json").write_text(json.dumps({"password": SECRETS[1]}))
    (state / "web" / "settings.json").write_text(json.dumps(
        {"reward_address": "sm1qqqq", "api_token": SECRETS[3], "poets": ["https://poet.example"]}))
    (state / "config.json").write_text('{"listen_port": 80, "post": {"threads": 2}')  # damaged
    (state / "logs" / "smeshbox.log").write_text(
        "".join(f"2026-01-01 INFO line {i}\n" for i in range(300))
        + f"2026-01-01 INFO wifi joined with psk={SECRETS[0]} ok\n")
    (state / "lock").write_text("999999\n")  # a pid that is no longer alive: the daemon is stopped
    return state


@pytest.mark.slow
async def test_service_answers_with_the_daemon_stopped(tmp_path: Path) -> None:
    state = await _state(tmp_path)
    port, dead = _free_port(), _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "diag", "--state-dir", str(state),
                             "--listen", f"127.0.0.1:{port}", "--daemon-url", f"http://127.0.0.1:{dead}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        jar = aiohttp.CookieJar(unsafe=True)  # keep the session cookie of an IP-address host
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20), cookie_jar=jar) as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/") as resp:
                        assert resp.status == 200 and "diagnostics" in await resp.text()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            async with http.get(f"{base}/api/report") as resp:
                assert resp.status == 401
            async with http.post(f"{base}/api/login", json={"password": "wrong password"}) as resp:
                assert resp.status == 401 and (await resp.json())["error"] == "wrong_password"
            async with http.post(f"{base}/api/login", json={"password": PASSWORD}) as resp:
                assert resp.status == 200
            async with http.get(f"{base}/api/report") as resp:
                assert resp.status == 200
                found = await resp.json()
            assert found["daemon"]["running"] is False and found["daemon"]["answering"] is False
            (problem,) = found["health"]["problems"]
            assert problem["id"] == "daemon-down" and "does not answer" in problem["reason"]
            assert found["log_tail"][-2] == "2026-01-01 INFO line 299" and len(found["log_tail"]) == 100
            assert any(link["name"] == "lo" for link in found["network"])
            assert found["disks"] and found["versions"]["appliance"]
            async with http.get(f"{base}/api/bundle") as resp:
                assert resp.status == 200 and resp.content_type == "application/gzip"
                assert "attachment" in resp.headers["Content-Disposition"]
                blob = await resp.read()
            async with http.get(f"{base}/ui/../../state/hotspot.json") as resp:
                assert resp.status == 404
    finally:
        proc.terminate()
        proc.wait(10)
    _check_bundle(blob)


def _check_bundle(blob: bytes) -> None:
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    names = set(files)
    assert {"smeshbox-support/report.json", "smeshbox-support/health.json", "smeshbox-support/versions.json",
            "smeshbox-support/logs/smeshbox.log", "smeshbox-support/config/hotspot.json",
            "smeshbox-support/config/web/settings.json", "smeshbox-support/config/config.json"} <= names
    assert not any("identities" in n or "auth.json" in n for n in names)
    everything = b"".join(files.values())
    for secret in SECRETS:
        assert secret.encode() not in everything, secret
    assert b"$argon2id$" not in everything  # the password hash
    settings = json.loads(files["smeshbox-support/config/web/settings.json"])
    assert settings["api_token"] == REMOVED and settings["reward_address"] == "sm1qqqq"
    assert b"line 299" in files["smeshbox-support/logs/smeshbox.log"]
    assert b'"listen_port": 80' in files["smeshbox-support/config/config.json"]  # damaged file as text


async def test_report_sees_a_daemon_that_answers(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    runner = web.AppRunner(create_app(world.services, auth=world.auth))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        state = tmp_path / "diag-state"
        state.mkdir()
        found = await report(Sources(state, f"http://127.0.0.1:{port}"))
        assert found.daemon.answering and found.health["status"] == "ok"
    finally:
        await runner.cleanup()


async def test_no_password_yet_is_refused(tmp_path: Path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from appliance.web.diagnostics import create_app as diag_app

    state = tmp_path / "state"
    (state / "web").mkdir(parents=True)
    async with TestClient(TestServer(diag_app(Sources(state, "http://127.0.0.1:9")))) as client:
        resp = await client.post("/api/login", json={"password": PASSWORD})
        assert resp.status == 409 and "main page" in (await resp.json())["reason"]
        resp = await client.post("/api/login", data=b"{", headers={"Content-Type": "application/json"})
        assert resp.status == 400
        (state / "web" / "auth.json").write_text("{broken")
        resp = await client.post("/api/login", json={"password": PASSWORD})
        assert resp.status == 503 and "damaged" in (await resp.json())["reason"]


def test_redaction() -> None:
    assert redact_json({"Password": "x", "nested": [{"psk": "y", "ssid": "Home"}], "n": 3}) == \
        {"Password": REMOVED, "nested": [{"psk": REMOVED, "ssid": "Home"}], "n": 3}
    line = 'joined psk=abc ok; {"password": "s3cret", "user": "me"} api_token: t0k'
    out = redact_text(line)
    assert "abc" not in out and "s3cret" not in out and "t0k" not in out and '"user": "me"' in out


def test_daemon_process_and_tail(tmp_path: Path) -> None:
    assert daemon_process(tmp_path) == (False, None)
    (tmp_path / "lock").write_text(f"{os.getpid()}\n")
    assert daemon_process(tmp_path) == (False, os.getpid())  # alive, but not the daemon
    lookalike = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                                  "-m", "appliance", "run"])
    try:
        # until the child has exec'd, /proc shows the parent's (pytest's) command line
        deadline = time.monotonic() + 30
        while b"sleep" not in Path(f"/proc/{lookalike.pid}/cmdline").read_bytes():
            assert time.monotonic() < deadline, "the look-alike process never started"
            time.sleep(0.01)
        (tmp_path / "lock").write_text(f"{lookalike.pid}\n")
        assert daemon_process(tmp_path) == (True, lookalike.pid)
    finally:
        lookalike.kill()
        lookalike.wait()
    log = tmp_path / "big.log"
    log.write_bytes(b"x" * 10 + b"\n" + b"".join(b"line %d\n" % i for i in range(10)))
    assert tail_lines(log, lines=3) == ["line 7", "line 8", "line 9"]
    assert tail_lines(log, lines=100, max_bytes=14) == ["line 9"]  # the cut first line is dropped
    assert tail_lines(tmp_path / "missing.log") == []
