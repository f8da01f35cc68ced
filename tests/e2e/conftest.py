"""The whole appliance as a process: ``python -m appliance run --dev`` on a temp state folder and a
free port, with real loop-device drives and the in-process devnet, spoken to only over HTTP — the
web API as a person's phone does, and the devnet gateway's own API as the network does.

Teardown is SIGTERM and then a check that the daemon let go of the box: loop devices detached and
no mounts left under the state folder (cleaned up forcibly afterwards, even when a test failed).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.drives import loopdev
from appliance.node.address import encode_address

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
REWARD_ADDRESS = encode_address(b"\0\0\0\0" + bytes(range(1, 21)), hrp="sm")  # the --dev devnet's hrp
UNIT_BYTES = 1 << 20  # one space unit of the --dev PoST (65536 labels x 16 bytes)
#: the devnet's timings x 2: 20-second epochs with an 8-second cycle gap, enough for two identities'
#: proofs of one unit each on 2 busy cores, and short enough for three epochs in a few minutes
TIME_SCALE = "2"
#: Bounds for a hung run, not speed assertions. Init runs at SCHED_IDLE (appliance.jobs.worker): about
#: 15 s for one unit per drive on idle cores, but it only gets what other processes leave over.
INIT_LIMIT = 480
TEST_LIMIT = 900  # pytest-timeout, per test


def require_root_loops() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: --dev attaches its drives as loop devices and mounts them")
    if shutil.which("losetup") is None or not Path("/dev/loop-control").exists():
        pytest.skip("no loop device support (util-linux losetup, /dev/loop-control)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Any, limit: float, what: str, daemon: DevDaemon | None = None) -> Any:
    """Polls ``condition`` until it returns something truthy; ``limit`` only bounds a hung test."""
    end = time.monotonic() + limit
    while True:
        found = condition()
        if found:
            return found
        if daemon is not None and daemon.proc.poll() is not None:
            raise AssertionError(f"the daemon exited ({daemon.proc.returncode}) while waiting for {what}:\n"
                                 f"{daemon.text()[-4000:]}")
        if time.monotonic() > end:
            tail = daemon.text()[-4000:] if daemon is not None else ""
            raise AssertionError(f"gave up waiting for: {what}\n{tail}")
        time.sleep(0.5)


class HttpError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class DevDaemon:
    """``python -m appliance run --dev`` as a subprocess; its stderr log is collected into a file."""

    def __init__(self, tmp: Path, port: int | None = None, log: str = "daemon.log") -> None:
        self.state = tmp / "state"
        self.port = port or free_port()  # a restart keeps the port: the page's address stays
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / log
        self.images = [self.state / "dev-drives" / f"drive-{x}.img" for x in "ab"]
        self._handle = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance", "run", "--dev", "--state-dir", str(self.state),
             "--listen", f"127.0.0.1:{self.port}", "--devnet-time-scale", TIME_SCALE,
             "--status-interval", "1"],
            stdout=subprocess.DEVNULL, stderr=self._handle, cwd=REPO,
        )
        jar = http.cookiejar.CookieJar()
        self._cookies = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.csrf = ""
        self.gateway = ""

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        wait_for(lambda: "ready: " in self.text(), 60, "the daemon's 'ready' line", self)
        # the daemon logs where its in-process devnet listens; that is how the network sees the box
        self.gateway = re.search(r"devnet: gateway (http://[\d.:]+),", self.text()).group(1)  # type: ignore[union-attr]

    # ---- the web API, as the page uses it (session cookie + CSRF header)
    def api(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with self._cookies.open(request, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            raise HttpError(exc.code, json.loads(raw) if raw.startswith(b"{") else raw) from None
        return json.loads(raw) if raw else None

    def raw(self, method: str, path: str) -> bytes:
        """A download (a file, not JSON), with the session."""
        request = urllib.request.Request(self.url + path, method=method)
        with self._cookies.open(request, timeout=30) as resp:
            return resp.read()

    def onboard(self) -> None:
        """Password, reward address and finish, over the API (drives and space are chosen apart)."""
        self.csrf = self.api("POST", "/api/v1/onboarding/password", {"password": PASSWORD})["csrf"]
        settings = self.api("PATCH", "/api/v1/settings", {"reward_address": REWARD_ADDRESS})
        assert settings["reward_address"] == REWARD_ADDRESS
        assert self.api("POST", "/api/v1/onboarding/complete")["onboarded"] is True

    def login(self) -> None:
        """A session of the test's own (the page has its own cookie)."""
        self.csrf = self.api("POST", "/api/v1/auth/login", {"password": PASSWORD})["csrf"]

    def gateway_get(self, path: str) -> Any:
        with urllib.request.urlopen(self.gateway + path, timeout=30) as resp:
            return json.loads(resp.read())

    # ---- the box's side
    def mounts(self) -> list[str]:
        return [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
                if line.split()[1].startswith(str(self.state))]

    def attached(self) -> list[str]:
        return [dev for image in self.images for dev in loopdev.attached(image)]

    def stop(self) -> int:
        """SIGTERM, as systemd stops the service; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=90)
        finally:
            self._handle.close()

    def force_cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._handle.close()
        for mount in reversed(self.mounts()):
            subprocess.run(["umount", "-l", mount], capture_output=True)
        for dev in self.attached():
            subprocess.run(["losetup", "-d", dev], capture_output=True)


def small_plan(daemon: DevDaemon) -> list[str]:
    """The space step, over the API: one unit on each dev drive so init ends within a minute."""
    def with_jobs() -> list[dict[str, Any]]:
        found = [d for d in daemon.api("GET", "/api/v1/drives")["drives"] if d["job"] is not None]
        return found if len(found) == 2 else []

    drives = wait_for(with_jobs, 60, "both dev drives with a dataset job", daemon)
    for drive in drives:
        plan = daemon.api("POST", f"/api/v1/drives/{drive['id']}/allocate", {"size_bytes": UNIT_BYTES})
        assert plan["num_units"] == 1 and plan["size_bytes"] == UNIT_BYTES, plan
    return [d["id"] for d in drives]


@pytest.fixture
def dev_daemon(tmp_path: Path) -> Iterator[DevDaemon]:
    """A running ``--dev`` daemon; after the test: SIGTERM, exit 0, no loop devices, no mounts."""
    require_root_loops()
    daemon = DevDaemon(tmp_path)
    try:
        daemon.wait_ready()
        assert daemon.attached(), "the --dev drives must be real loop devices"
        yield daemon
        code = daemon.stop()
        assert code == 0, f"exit code {code}:\n{daemon.text()[-4000:]}"
        assert "stopping" in daemon.text()
        assert daemon.attached() == [], "the daemon left its loop devices attached"
        assert daemon.mounts() == [], "the daemon left mounts behind"
    finally:
        daemon.force_cleanup()
