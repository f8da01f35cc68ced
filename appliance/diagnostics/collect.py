"""What the diagnostics page shows, gathered without the daemon's help: whether the daemon runs
(its instance lock's pid in /proc) and answers (its health endpoint, with a short timeout), the last
lines of its logs, the network as the kernel sees it (``ip -j``), disk space, versions. Every probe
has a bound and none can fail the whole report: a probe that fails says so in its field."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from appliance import __version__

LOG_FILE = "smeshbox.log"
TAIL_BYTES = 256 * 1024
RELEASE_FILE = Path("/usr/lib/smeshbox/release.json")


@dataclass(frozen=True)
class DaemonState:
    running: bool
    pid: int | None = None
    answering: bool = False
    error: str = ""


@dataclass(frozen=True)
class DiskUse:
    path: str
    total_bytes: int
    free_bytes: int


@dataclass(frozen=True)
class Report:
    taken_at: float
    daemon: DaemonState
    health: dict[str, Any]
    log_tail: list[str]
    network: list[dict[str, Any]]
    routes: list[dict[str, Any]]
    disks: list[DiskUse]
    versions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sources:
    """Where to look (a box's defaults; tests point them at their own folders and ports)."""

    state_dir: Path
    daemon_url: str = "http://127.0.0.1:80"
    release_file: Path = RELEASE_FILE
    timeout_s: float = 2.0

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"


def daemon_process(state_dir: Path) -> tuple[bool, int | None]:
    """Blocking: is the daemon's process alive? Read from the pid its lock file names; taking the
    lock ourselves to test it could make a starting daemon believe another one runs."""
    try:
        pid = int((state_dir / "lock").read_text().strip() or 0) or None
    except (OSError, ValueError):
        return False, None
    if pid is None:
        return False, None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False, pid  # stale pid: the kernel dropped the lock with the process
    # "python -m appliance run" or the "smeshbox run" entry script; a recycled pid is something else
    return (b"appliance" in cmdline or b"smeshbox" in cmdline) and b" run" in cmdline, pid


async def daemon_health(src: Sources) -> tuple[bool, dict[str, Any], str]:
    """(answering, health document, error)."""
    try:
        timeout = aiohttp.ClientTimeout(total=src.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as http, \
                http.get(f"{src.daemon_url}/api/v1/health") as resp:
            body = await resp.content.read(64 * 1024)
            doc = json.loads(body)
            if resp.status != 200 or not isinstance(doc, dict):
                return False, {}, f"the daemon answered HTTP {resp.status}"
            return True, doc, ""
    except (aiohttp.ClientError, TimeoutError, ValueError, OSError) as exc:
        return False, {}, f"the daemon does not answer ({type(exc).__name__}: {exc})".replace(": )", ")")


def tail_lines(path: Path, lines: int = 100, max_bytes: int = TAIL_BYTES) -> list[str]:
    """Blocking: the last ``lines`` lines of ``path`` (reading at most ``max_bytes``)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - max_bytes))
            data = handle.read(max_bytes)
    except OSError:
        return []
    text = data.decode("utf-8", "replace").splitlines()
    if len(data) == max_bytes and text:
        text = text[1:]  # the first line is cut
    return list(deque(text, maxlen=lines))


def _ip_json(*args: str) -> list[dict[str, Any]]:
    try:
        out = subprocess.run(["ip", "-j", *args], capture_output=True, timeout=5, check=True).stdout
        data = json.loads(out or b"[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    return data if isinstance(data, list) else []


def network() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Blocking: interfaces with their addresses, and the default routes, as the kernel has them."""
    links = [{"name": link.get("ifname", ""), "state": link.get("operstate", ""),
              "mac": link.get("address", ""),
              "addresses": [f"{a.get('local')}/{a.get('prefixlen')}" for a in link.get("addr_info", [])]}
             for link in _ip_json("addr", "show")]
    routes = [{"via": r.get("gateway", ""), "dev": r.get("dev", "")}
              for r in _ip_json("route", "show", "default")]
    return links, routes


def disks(state_dir: Path) -> list[DiskUse]:
    """Blocking: space on the root, the state folder, and each data drive mounted under it."""
    paths = [Path("/"), state_dir]
    drives = state_dir / "drives"
    if drives.is_dir():
        paths.extend(sorted(p for p in drives.iterdir() if p.is_dir() and os.path.ismount(p)))
    out = []
    for path in paths:
        try:
            usage = shutil.disk_usage(path)
        except OSError:
            continue
        out.append(DiskUse(str(path), usage.total, usage.free))
    return out


def versions(src: Sources) -> dict[str, str]:
    found = {"appliance": __version__, "python": sys.version.split()[0], "kernel": platform.release()}
    try:
        release = json.loads(src.release_file.read_text())
        found["release"] = str(release.get("version", ""))
        found["compatible"] = str(release.get("compatible", ""))
    except (OSError, ValueError, AttributeError):
        pass
    return found


def _daemon_down_health(error: str) -> dict[str, Any]:
    return {"status": "error", "problems": [{
        "id": "daemon-down", "component": "daemon", "severity": "error", "reason": error,
        "remedy": "Restart the box. If it stays down, download the support bundle and send it.",
        "since": time.time()}]}


async def report(src: Sources) -> Report:
    running, pid = await asyncio.to_thread(daemon_process, src.state_dir)
    answering, health, error = await daemon_health(src)
    if not answering:
        health = _daemon_down_health(error)
    tail = await asyncio.to_thread(tail_lines, src.logs_dir / LOG_FILE)
    links, routes = await asyncio.to_thread(network)
    return Report(time.time(), DaemonState(running, pid, answering, error), health, tail, links, routes,
                  await asyncio.to_thread(disks, src.state_dir), versions(src))
