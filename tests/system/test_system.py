"""appliance.system: single-instance lock, sd_notify over a real datagram socket, logging target."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.system import logs
from appliance.system.lock import AlreadyRunningError, InstanceLock
from appliance.system.notify import Notifier


def test_second_lock_on_the_same_state_is_refused_naming_the_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys,time; from appliance.system.lock import InstanceLock; "
         f"l=InstanceLock({str(tmp_path)!r}); l.acquire(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunningError, match=f"pid {holder.pid}") as err:
            InstanceLock(tmp_path).acquire()
        assert err.value.pid == holder.pid and "already running" in str(err.value)
    finally:
        holder.kill()  # kill -9: the kernel drops the lock, no stale-lock cleanup needed
        holder.wait()
    with InstanceLock(tmp_path) as lock:
        assert (tmp_path / "lock").read_text().strip() == str(os.getpid())
        assert lock.path == tmp_path / "lock"
    assert (tmp_path / "lock").read_text() == ""


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


async def test_ready_status_watchdog_and_stopping_reach_the_socket(notify_socket, monkeypatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # ping every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    notifier = Notifier()
    assert notifier.enabled and notifier.watchdog_interval() == pytest.approx(0.05)
    notifier.ready("2 drives")
    assert notify_socket.recv(4096) == b"READY=1\nSTATUS=2 drives"
    notifier.start_watchdog()
    got = await asyncio.to_thread(notify_socket.recv, 4096)
    assert got == b"WATCHDOG=1"
    await notifier.stop_watchdog()
    notifier.status("initializing")
    notifier.stopping()
    seen = []
    while len(seen) < 2 or seen[-1] != b"STOPPING=1":
        seen.append(notify_socket.recv(4096))
    assert b"STATUS=initializing" in seen and seen[-1] == b"STOPPING=1"


def test_everything_is_a_no_op_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "not-a-number")
    notifier = Notifier()
    assert not notifier.enabled and notifier.watchdog_interval() is None
    notifier.ready()
    notifier.stopping()


def test_watchdog_meant_for_another_pid_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert Notifier.watchdog_interval() is None


def test_logging_goes_to_stderr_unless_journal_stream_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        assert logs.setup_logging() == "stderr"
        monkeypatch.setenv("JOURNAL_STREAM", "1:2")  # not our stderr
        assert not logs.under_journald()
        st = os.fstat(sys.stderr.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert logs.under_journald()
        expected = "journald" if logs._journal is not None else "stderr"
        assert logs.setup_logging() == expected
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_descriptors_are_reserved_below_the_limit_for_the_post_work() -> None:
    import resource

    from appliance.system.limits import reserve_descriptors

    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, before[1]))
        budget = reserve_descriptors(reserved=1024, web_cap=100_000)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        assert soft == budget.limit and (soft == hard or hard == resource.RLIM_INFINITY)
        assert budget.web_connections + budget.reserved <= budget.limit
        assert budget.reserved == min(1024, budget.limit // 2)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


async def test_the_watchdog_is_fed_only_while_the_box_is_healthy(notify_socket, monkeypatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # ping every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    healthy = [False]
    notifier = Notifier()
    notifier.start_watchdog(lambda: healthy[0])
    notify_socket.settimeout(0.3)
    with pytest.raises(TimeoutError):
        await asyncio.to_thread(notify_socket.recv, 4096)  # starved while unhealthy
    healthy[0] = True
    notify_socket.settimeout(5)
    assert await asyncio.to_thread(notify_socket.recv, 4096) == b"WATCHDOG=1"
    await notifier.stop_watchdog()


def test_temp_files_of_a_write_killed_with_sigkill_are_cleaned_on_start(tmp_path: Path) -> None:
    from appliance.system.files import remove_stale_temp_files

    target = tmp_path / "state" / "settings.json"
    target.parent.mkdir()
    (tmp_path / "state" / "drives").mkdir()
    kept = tmp_path / "state" / "drives" / ".on-a-drive.abcdefgh.tmp"  # below a skipped folder
    kept.write_text("x")
    writer = subprocess.Popen([sys.executable, "-c", (
        "import sys\nfrom appliance.system.files import atomic_write_bytes\n"
        f"while True: atomic_write_bytes({str(target)!r}, b'x' * (32 << 20))\n")])
    try:
        deadline = time.monotonic() + 60
        while not any(p.name.endswith(".tmp") for p in target.parent.iterdir()):
            assert time.monotonic() < deadline, "the writer never got going"
            time.sleep(0.005)
    finally:
        writer.kill()  # kill -9 in the middle of a write
        writer.wait()
    assert any(p.name.startswith(".settings.json.") for p in target.parent.iterdir())
    removed = remove_stale_temp_files(tmp_path / "state", skip=(tmp_path / "state" / "drives",))
    assert removed and all(p.name.startswith(".settings.json.") for p in removed)
    assert sorted(p.name for p in target.parent.iterdir()) == ["drives", "settings.json"] or \
        sorted(p.name for p in target.parent.iterdir()) == ["drives"]
    assert kept.exists()
