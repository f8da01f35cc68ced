"""The health object: problems from the real domain snapshots, stable ``since``, the status, the
watchdog rule, the supervision of crashing tasks and ``GET /api/v1/health`` in its documented shape."""

from __future__ import annotations

import asyncio
import dataclasses

from appliance.drives.model import DriveSnapshot, DriveState
from appliance.health import HealthMonitor, Severity, Status
from appliance.health.descriptors import descriptor_check
from appliance.health.drives import drive_check
from appliance.health.jobs import JobCheck
from appliance.health.node import node_check
from appliance.health.power import PowerCheck
from appliance.health.tasks import task_check
from appliance.hw.manager import HwSnapshot
from appliance.jobs.model import JobSnapshot, JobState
from appliance.node.lightnode import AtxView, IdentityStatus, NodeStatus
from appliance.node.supervisor import SupervisorStatus
from appliance.supervision import Backoff, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_pulled_drive_fails_with_reason_remedy_and_a_stable_since() -> None:
    clock = Clock()
    drives = [DriveSnapshot("uuid-1", DriveState.ACTIVE, model="Disk", serial="S1")]
    health = HealthMonitor(clock)
    health.add_check("drives", drive_check(lambda: drives))
    assert health.report().status is Status.STARTING  # until the daemon has started everything
    health.mark_started()
    assert health.report().to_json() == {"status": "ok", "problems": []}
    drives[0] = dataclasses.replace(drives[0], state=DriveState.MISSING, reason="the drive was unplugged")
    first = health.report()
    clock.now += 30
    again = health.report()
    assert again.status is Status.FAILING
    (problem,) = again.problems
    assert (problem.id, problem.component) == ("drive-missing:uuid-1", "drives")
    assert problem.severity is Severity.ERROR
    assert "unplugged" in problem.reason and "plug" in problem.remedy
    assert problem.since == first.problems[0].since == 1000.0  # first seen, not re-dated
    drives[0] = dataclasses.replace(drives[0], state=DriveState.ACTIVE)
    assert health.report().status is Status.OK


def test_stopped_and_stalled_init_and_the_power_supply() -> None:
    mono = Clock()
    jobs = [JobSnapshot("d1", JobState.INITIALIZING, position=10, total=100),
            JobSnapshot("d2", JobState.ERROR, reason="the drive is full")]
    reading = HwSnapshot()
    health = HealthMonitor(Clock())
    health.mark_started()
    health.add_check("jobs", JobCheck(lambda: jobs, stall_after=60, clock=mono))
    health.add_check("power", PowerCheck(lambda: reading))
    assert [p.id for p in health.report().problems] == ["init-stopped:d2"]
    mono.now += 61  # d1 wrote nothing for a minute
    assert {p.id for p in health.report().problems} == {"init-stopped:d2", "init-stalled:d1"}
    jobs[0] = dataclasses.replace(jobs[0], position=11)
    assert {p.id for p in health.report().problems} == {"init-stopped:d2"}
    reading = HwSnapshot(undervoltage=True, throttled=True)
    report = health.report()
    assert {p.id for p in report.problems} == {"init-stopped:d2", "undervoltage"}
    assert report.by_component("hw")[0].severity is Severity.ERROR


def test_the_node_s_own_reports_become_problems() -> None:
    ident = IdentityStatus("id0", "ab" * 32, 3, 30, "waiting", atx_history=[
        AtxView(1, "good"), AtxView(2, "missed", reason="no usable PoET proof")])
    status = SupervisorStatus(True, "node error: boom", NodeStatus(True, 3, 30, [ident]))
    health = HealthMonitor(Clock())
    health.add_check("node", node_check(lambda: status))
    ids = {p.id: p for p in health.report().problems}
    assert set(ids) == {"node-error", "epoch-missed:" + "ab" * 32}
    assert "no usable PoET proof" in ids["epoch-missed:" + "ab" * 32].reason


def test_a_broken_check_is_a_problem_not_a_crash() -> None:
    def broken() -> list:
        raise KeyError("x")

    health = HealthMonitor(Clock())
    health.mark_started()
    health.add_check("clock", broken)
    report = health.report()
    assert report.status is Status.DEGRADED and report.problems[0].id == "health-check-clock"


def test_watchdog_is_starved_only_by_a_lasting_problem_a_restart_can_cure() -> None:
    clock = Clock()
    used = [10]
    health = HealthMonitor(clock, watchdog_grace=100)
    health.mark_started()
    health.add_check("descriptors", descriptor_check(lambda: used[0], lambda: 1000))
    health.add_check("drives", drive_check(lambda: [DriveSnapshot("u", DriveState.MISSING)]))
    clock.now += 1000
    assert health.watchdog_ok()  # a pulled drive for ages: a restart would not bring it back
    used[0] = 990
    assert health.watchdog_ok() and health.report().status is Status.FAILING
    clock.now += 101
    assert not health.watchdog_ok()
    used[0] = 10
    assert health.watchdog_ok()


async def test_a_crashing_task_is_restarted_with_backoff_and_reported_while_down() -> None:
    runs: list[int] = []
    healed = asyncio.Event()

    async def work() -> None:
        runs.append(1)
        if len(runs) <= 2:
            raise OSError(24, "Too many open files")
        healed.set()
        await asyncio.Event().wait()

    tasks = Supervisor(Backoff(initial=0.05, maximum=0.2), healthy_after=0.1)
    health = HealthMonitor(Clock())
    health.mark_started()
    health.add_check("tasks", task_check(tasks))
    tasks.start("smesher-x", "node", work)
    await asyncio.sleep(0.01)
    (problem,) = health.report().problems
    assert problem.component == "node" and "Too many open files" in problem.reason
    await asyncio.wait_for(healed.wait(), 10)
    for _ in range(100):  # shown as down until the new run has lasted a moment
        if not tasks.down():
            break
        await asyncio.sleep(0.05)
    assert not tasks.down() and health.report().status is Status.OK
    assert len(runs) == 3 and tasks.get("smesher-x").restarts == 2
    await tasks.stop_all()


async def test_poke_restarts_at_once_instead_of_waiting_out_the_backoff() -> None:
    runs: list[float] = []

    async def work() -> None:
        runs.append(asyncio.get_running_loop().time())
        if len(runs) == 1:
            raise OSError("drive gone")
        await asyncio.Event().wait()

    tasks = Supervisor(Backoff(initial=3600, maximum=3600))
    tasks.start("init-d1", "jobs", work)
    await asyncio.sleep(0.05)
    assert tasks.down() and tasks.down()[0].reason == "OSError: drive gone"
    tasks.poke("jobs")
    await asyncio.sleep(0.05)
    assert len(runs) == 2
    await tasks.stop_all()


async def test_health_route_serves_the_object_in_its_documented_shape(tmp_path) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from appliance.web import create_app
    from tests.web.conftest import check_response, make_world

    world = make_world(tmp_path)
    health = HealthMonitor(Clock())
    health.add_check("drives", drive_check(lambda: [DriveSnapshot("u1", DriveState.MISSING, reason="gone")]))
    world.services.health = health
    client = TestClient(TestServer(create_app(world.services, auth=world.auth)))
    await client.start_server()
    try:
        for expected in ("starting", "failing"):
            response = await client.get("/api/v1/health")
            body = await response.json()
            check_response("GET", "/api/v1/health", response.status, "application/json", body)
            assert body["status"] == expected and body["problems"][0]["id"] == "drive-missing:u1"
            health.mark_started()
    finally:
        await client.close()


async def test_a_task_waiting_for_something_outside_never_starves_the_watchdog() -> None:
    from appliance.node.post_provider import PostUnavailable

    async def no_data() -> None:
        raise PostUnavailable("no drive with complete PoST data is plugged in")

    async def emfile() -> None:
        raise OSError(24, "Too many open files")

    clock = Clock()
    tasks = Supervisor(Backoff(initial=0.001, maximum=0.001))
    health = HealthMonitor(clock, watchdog_grace=10)
    health.mark_started()
    health.add_check("tasks", task_check(tasks))
    tasks.start("smesher-a", "node", no_data, outside=lambda exc: isinstance(exc, PostUnavailable))
    await asyncio.sleep(0.2)  # many failures in a row
    clock.now += 11
    assert health.report().status is Status.FAILING and health.watchdog_ok()
    tasks.start("emfile", "daemon", emfile)
    await asyncio.sleep(0.2)
    health.report()
    clock.now += 11
    assert not health.watchdog_ok()  # a crash loop a restart may cure
    await tasks.stop_all()


async def test_one_power_reading_feeds_the_health_object_and_the_init_pause(tmp_path) -> None:
    """The hw sensors read the Pi firmware's undervoltage alarm; the health object reports it and
    the job manager pauses init on the very same reading (its own sysfs has no alarm here)."""
    from appliance.chain import DEVNET
    from appliance.config import PostSettings
    from appliance.drives.volume import Volume
    from appliance.events import EventBus
    from appliance.hw import HwConfig, HwManager
    from appliance.jobs.manager import JobManager
    from appliance.node.identity import generate
    from appliance.post.dataset import PostDataset

    sysfs = tmp_path / "sysfs"
    hwmon = sysfs / "sys/class/hwmon/hwmon0"
    hwmon.mkdir(parents=True)
    (hwmon / "name").write_text("rpi_volt\n")
    (hwmon / "in0_lcrit_alarm").write_text("1")
    bus = EventBus()
    hw = HwManager(bus, HwConfig(sysfs_root=sysfs, interval_s=0.05, i2c_bus=None))
    jobs = JobManager(bus, PostSettings(commitment_atx_id="cd" * 32, max_file_size=4096, free_margin=0,
                                        max_units=1, threads=1),
                      DEVNET.replace({"labels_per_unit": 1024, "scrypt_n": 16}),
                      health_root=tmp_path / "no-sysfs", health_interval=0.05, measure_seconds=0.05)
    power = PowerCheck(hw.snapshot)
    jobs.undervoltage_source = power.undervoltage
    health = HealthMonitor(Clock())
    health.mark_started()
    health.add_check("power", power)
    await hw.start()
    await jobs.start()
    try:
        top = tmp_path / "drive"
        (top / "data").mkdir(parents=True)
        await jobs.volume_ready(Volume("d1", top, PostDataset(top / "data"), "d1", generate("d1").node_id,
                                       False, False))
        for _ in range(200):
            if jobs.snapshot()[0].paused_by:
                break
            await asyncio.sleep(0.02)
        assert any("undervoltage" in r for r in jobs.snapshot()[0].paused_by)
        assert [p.id for p in health.report().problems] == ["undervoltage"]
        (hwmon / "in0_lcrit_alarm").write_text("0")
        for _ in range(500):
            if jobs.snapshot()[0].state is JobState.READY:
                break
            await asyncio.sleep(0.02)
        assert jobs.snapshot()[0].state is JobState.READY and health.report().status is Status.OK
    finally:
        await jobs.stop()
        await hw.stop()


def test_a_smesher_whose_next_step_never_came_is_stalled() -> None:
    ident = IdentityStatus("id0", "ef" * 32, 5, 50, "publishing the ATX for epoch 3", next_deadline=1000.0,
                           next_deadline_what="ATX must be published (epoch 3)")
    node = NodeStatus(True, 5, 50, [ident], epoch_seconds=10.0, now=1015.0)
    health = HealthMonitor(Clock())
    health.add_check("node", node_check(lambda: SupervisorStatus(True, "smeshing", node)))
    assert health.report().problems == ()  # a deadline just passed: the next step is on its way
    node = dataclasses.replace(node, now=1021.0)  # two epochs later nothing moved
    (problem,) = health.report().problems
    assert problem.id == "smesher-stalled:" + "ef" * 32 and "ATX must be published" in problem.reason
    node = dataclasses.replace(node, clock_synced=False)  # an unsynced clock is its own story
    assert health.report().problems == ()
