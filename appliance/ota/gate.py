"""The post-update health gate: is the freshly booted slot healthy enough to keep?

Checks (each says whether it passed, failed, or could not run and why):
* api — ``GET /api/v1/health`` answers ``ok`` or ``degraded`` (warnings only); it waits while the
  box says ``starting`` or ``failing`` (a drive still spinning up may clear), and fails at the
  deadline naming every problem the box reported (a pulled drive, a stalled node, undervoltage);
* daemon — the appliance unit is active (systemd);
* drives — every drive mounted before the update is mounted again;
* post — PoST labels reproduce known-answer vectors on this slot's native core;
* node — the health object reports no error of the node (a smesher down, a node error).
A check whose subject is not part of this build is "skipped", never silently passed: the gate
result lists it. The slot is good only when no check failed and at least the PoST self-test ran.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from appliance.ota.config import OtaConfig

# spec post.md §label test vectors: commitment = blake3(0x01×32 ‖ 0x02×32), scrypt N=16, r=p=1.
KAT_COMMITMENT = bytes.fromhex("8d67bc7836d128b108be2c965538f37bbcee3e7503e35e58fbb0446432e05206")
KAT_N = 16
KAT_LABELS = bytes.fromhex(
    "916f17aaa5eb96ca17be3031587c12d5"
    "b2a36089b7ce430e63733576700d0d98"
    "9c65051a50a8cc036c7d15512293df1a"
    "f26674250bb9292b36d4e7a16ebb2623"
)
PASS, FAIL, SKIP = "pass", "fail", "skip"
# Mount points the drives domain uses for adopted drives (see appliance/drives).
DRIVE_PREFIXES = ("/media/", "/mnt/", "/var/lib/smeshbox/drives/", "/srv/")


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass | fail | skip
    detail: str


@dataclass(frozen=True)
class GateResult:
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def healthy(self) -> bool:
        return not self.failed and any(c.name == "post" and c.status == PASS for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    def reason(self) -> str:
        if self.healthy:
            skipped = [f"{c.name} ({c.detail})" for c in self.checks if c.status == SKIP]
            return "healthy" + (f"; not checked: {', '.join(skipped)}" if skipped else "")
        bad = self.failed or [c for c in self.checks if c.name == "post"]
        return "; ".join(f"{c.name}: {c.detail}" for c in bad)


async def _pause(deadline: float) -> None:
    await asyncio.sleep(min(2.0, max(0.05, deadline - time.monotonic())))


def drive_mounts(mounts_file: Path = Path("/proc/self/mounts")) -> tuple[str, ...]:
    """Mount points of data drives (by the drives domain's prefixes), sorted."""
    points = []
    for line in mounts_file.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].startswith("/dev/"):
            point = fields[1].replace("\\040", " ")
            if point.startswith(DRIVE_PREFIXES):
                points.append(point)
    return tuple(sorted(set(points)))


def post_self_test() -> Check:
    if importlib.util.find_spec("appliance.post.labels") is None:
        return Check("post", SKIP, "appliance.post.labels is not in this build")
    try:
        from appliance.post.labels import compute_labels

        got = compute_labels(KAT_COMMITMENT, KAT_N, 0, 4)
    except Exception as exc:  # any failure of the native core on this slot is a failed gate
        return Check("post", FAIL, f"PoST self-test raised {type(exc).__name__}: {exc}")
    if got != KAT_LABELS:
        return Check("post", FAIL, f"PoST labels differ from the known answers (got {got[:16].hex()}…)")
    return Check("post", PASS, "4 labels match the known-answer vectors")


async def _health(
    session: aiohttp.ClientSession, config: OtaConfig, deadline: float
) -> tuple[Check, dict[str, Any]]:
    url = config.api_url.rstrip("/") + "/api/v1/health"
    last = "no answer"
    while True:
        try:
            timeout = aiohttp.ClientTimeout(total=min(10.0, config.request_timeout))
            async with session.get(url, timeout=timeout) as response:
                body: Any = await response.json(content_type=None)
                status = body.get("status") if isinstance(body, dict) else None
                if response.status == 200 and status in ("ok", "degraded"):
                    notes = _problems(body)
                    detail = f"{url}: {status} (version {body.get('version', '?')})"
                    return Check("api", PASS, detail + (f"; warnings: {notes}" if notes else "")), body
                last = f"HTTP {response.status}, status {status!r}"
                if status == "failing":
                    last += f": {_problems(body)}"
                    if time.monotonic() >= deadline:
                        return Check("api", FAIL, f"{url}: {last}"), body
                elif status not in (None, "starting"):
                    return Check("api", FAIL, f"{url}: {last}"), {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            return Check("api", FAIL, f"{url} not healthy ({last})"), {}
        await _pause(deadline)


async def _unit_active(unit: str) -> Check:
    if not Path("/etc/systemd/system", unit).exists() and not Path("/usr/lib/systemd/system", unit).exists():
        return Check("daemon", SKIP, f"{unit} is not installed in this image")
    proc = await asyncio.create_subprocess_exec(
        "systemctl", "is-active", unit, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    state = out.decode().strip()
    return Check("daemon", PASS if state == "active" else FAIL, f"{unit} is {state}")


async def _drives(before: tuple[str, ...], deadline: float, mounts_file: Path) -> Check:
    if not before:
        return Check("drives", PASS, "no drives were mounted before the update")
    while True:
        missing = sorted(set(before) - set(drive_mounts(mounts_file)))
        if not missing:
            return Check("drives", PASS, f"all {len(before)} drives mounted again")
        if time.monotonic() >= deadline:
            return Check("drives", FAIL, f"not mounted again: {', '.join(missing)}")
        await _pause(deadline)


async def run_gate(
    config: OtaConfig,
    drives_before: tuple[str, ...] = (),
    mounts_file: Path = Path("/proc/self/mounts"),
) -> GateResult:
    deadline = time.monotonic() + config.gate_timeout
    daemon_present = config.require_api
    if daemon_present is None:
        daemon_present = importlib.util.find_spec("appliance.composition") is not None
    checks: list[Check] = [await asyncio.to_thread(post_self_test)]
    body: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        if daemon_present:
            # A slot whose PoST core is broken is bad whatever the API says: ask once, don't wait.
            api_deadline = time.monotonic() if checks[0].status == FAIL else deadline
            api, body = await _health(session, config, api_deadline)
        else:
            api = Check("api", SKIP, "appliance.composition is not in this build (no web API to ask)")
    checks.append(api)
    if daemon_present:
        checks.append(await _unit_active(config.daemon_unit))
    else:
        checks.append(Check("daemon", SKIP, "appliance.composition is not in this build"))
    checks.append(await _drives(drives_before, deadline, mounts_file))
    checks.append(_node(api, body))
    return GateResult(tuple(checks))


def _problem_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = body.get("problems")
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []


def _problems(body: dict[str, Any], component: str | None = None) -> str:
    return "; ".join(f"{p.get('component', '?')}: {p.get('reason', '?')}" for p in _problem_list(body)
                     if component is None or p.get("component") == component)


def _node(api: Check, body: dict[str, Any]) -> Check:
    """The node's part of the health object (appliance.health): errors of component ``node``."""
    if not body:
        return Check("node", SKIP if api.status == SKIP else FAIL, "no health object to read")
    errors = [p for p in _problem_list(body) if p.get("component") == "node" and p.get("severity") == "error"]
    if errors:
        return Check("node", FAIL, "; ".join(str(p.get("reason", "?")) for p in errors))
    return Check("node", PASS, "no node errors in the health object")
