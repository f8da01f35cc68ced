"""The clock check against the real systemd-timedated and systemd-timesyncd on a private bus.
Neither may touch the host's clock: timedated runs without CAP_SYS_TIME; timesyncd (which refuses
to start without it) runs in a network namespace with no way out, so no NTP reply can ever reach
it, and with an empty state folder of its own. timedated's answer must be the kernel's own."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from appliance.health.monitor import HealthMonitor
from appliance.hostnet.clock import ClockCheck, ClockState, read_clock
from appliance.node.clock import SystemTime

TIMEDATED = "/lib/systemd/systemd-timedated"
TIMESYNCD = "/lib/systemd/systemd-timesyncd"
NO_CLOCK = ["setpriv", "--inh-caps=-sys_time", "--bounding-set=-sys_time"]


@pytest.fixture
def time_daemons(system_bus: str) -> Iterator[str]:
    for tool in (TIMEDATED, TIMESYNCD):
        if not os.path.exists(tool):
            pytest.skip(f"{tool} is missing (apt: systemd, systemd-timesyncd)")
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (util-linux)")
    ns = f"sclock-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": system_bus}
    # timesyncd keeps its state in /var/lib/systemd/timesync: a private tmpfs in its own mount
    # namespace (ip netns exec makes one), so the host's file is never touched.
    sync_script = ("mkdir -p /var/lib/systemd/timesync && "
                   "mount -t tmpfs -o mode=0755 t /var/lib/systemd/timesync && "
                   "{ chown systemd-timesync: /var/lib/systemd/timesync 2>/dev/null || true; } && "
                   f"exec {TIMESYNCD}")
    procs = [subprocess.Popen([*NO_CLOCK, TIMEDATED], env=env, stderr=subprocess.DEVNULL),
             subprocess.Popen(["ip", "netns", "exec", ns, "sh", "-c", sync_script], env=env,
                              stderr=subprocess.DEVNULL)]
    try:
        yield system_bus
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.mark.root
async def test_reads_the_real_daemons(time_daemons: str) -> None:
    state = ClockState(None)
    for _ in range(50):  # the daemons take a moment to claim their names
        state = await read_clock(time_daemons)
        if state.synced is not None and state.server:
            break
        await asyncio.sleep(0.1)
    assert state.synced is SystemTime().synced()  # the kernel's own answer, through timedated
    assert state.server.endswith("pool.ntp.org")  # Debian's fallback servers
    assert not state.server_answered  # no way out of its namespace
    problems = ClockCheck().problems(state)
    if not state.synced:
        assert [p.id for p in problems] == ["clock-unsynced"]
        assert state.server in problems[0].remedy and "NOT synchronised" in state.page_text()
    else:
        assert problems == []


async def test_no_daemons_is_a_finding_not_a_crash(system_bus: str) -> None:
    state = await read_clock(system_bus, timeout=2)
    assert state.synced is None and "timedate1" in state.error
    (problem,) = ClockCheck().problems(state)
    assert problem.id == "clock-unknown" and problem.severity == "warning"
    assert "unknown" in state.page_text()


async def test_unreachable_bus() -> None:
    state = await read_clock("unix:path=/nonexistent/bus", timeout=1)
    assert state.synced is None and "not reachable" in state.error


def test_problems_say_what_to_do_and_remember_since() -> None:
    """The clock check says what is wrong now; the health object keeps since when (one model)."""
    now = [1000.0]
    check = ClockCheck()
    health = HealthMonitor(clock=lambda: now[0])
    state = [ClockState(True, True, "ntp.example")]
    health.add_check("clock", lambda: check.problems(state[0]))
    assert check.problems(state[0]) == []
    state[0] = ClockState(False, True, "ntp.example", server_answered=False)
    (p,) = health.report().problems
    assert p.component == "clock" and p.severity == "error" and "ntp.example" in p.remedy
    assert p.since == 1000.0
    now[0] = 1060.0
    state[0] = ClockState(False, False)
    (p2,) = health.report().problems
    assert p2.since == 1000.0 and "set-ntp" in p2.remedy  # the same problem, still since 1000
    assert check.problems(ClockState(True)) == []
