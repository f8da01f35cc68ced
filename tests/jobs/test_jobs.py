"""JobManager on plain folders (no root needed): plans and measured ETAs, init to completion,
undervoltage/thermal pauses, proving pre-empting init, low CPU priority, full disks."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.chain import DEVNET, ChainParams
from appliance.config import PostSettings
from appliance.drives.volume import Volume
from appliance.events import Event, EventBus, Topic
from appliance.jobs import health
from appliance.jobs.manager import JobManager, NotReadyError, PlanLockedError
from appliance.jobs.model import JobState
from appliance.jobs.plan import NoSpaceError, make_plan
from appliance.jobs.worker import lower_current_thread, start_low_priority
from appliance.node.identity import generate
from appliance.post.dataset import PostDataset
from appliance.post.initializer import Initializer
from appliance.post.metadata import PostMetadata, read_metadata
from tests.asyncwait import until

ATX = "cd" * 32


async def _until(predicate: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    await until(predicate, what, timeout)


def _settings(**kw: int) -> tuple[PostSettings, ChainParams]:
    """This machine's knobs and the chain (labels per unit and scrypt N are the chain's)."""
    base = {"labels_per_unit": 1024, "scrypt_n": 16, "max_file_size": 4096, "free_margin": 0,
            "max_units": 2, "threads": 1}
    base.update(kw)
    chain = DEVNET.replace({k: base.pop(k) for k in ("labels_per_unit", "scrypt_n", "min_num_units")
                            if k in base})
    return PostSettings(commitment_atx_id=ATX, **base), chain


def _volume(tmp_path: Path, name: str, **kw: object) -> Volume:
    top = tmp_path / name
    (top / "smeshbox").mkdir(parents=True)
    identity = generate(name)
    fields = {"drive_id": name, "mountpoint": top, "dataset": PostDataset(top / "smeshbox"), "identity": name,
              "node_id": identity.node_id, "read_only": False, "has_data": False}
    fields.update(kw)
    return Volume(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def manager(tmp_path: Path):  # type: ignore[no-untyped-def]
    made: list[JobManager] = []

    async def build(settings: tuple[PostSettings, ChainParams], health_root: Path | None = None
                    ) -> JobManager:
        jobs = JobManager(EventBus(), *settings, health_root=health_root or tmp_path / "sysfs",
                          health_interval=0.05, measure_seconds=0.05)
        await jobs.start()
        made.append(jobs)
        return jobs

    yield build
    for jobs in made:
        await jobs.stop()


def _snap(jobs: JobManager, drive_id: str):  # type: ignore[no-untyped-def]
    return next(j for j in jobs.snapshot() if j.drive_id == drive_id)


def test_plan_sizes_units_from_free_space_with_margin(tmp_path: Path) -> None:
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    unit = max(1, free // 5 // 16)  # five units of data fit
    plan = make_plan(tmp_path, unit, margin=unit * 16, rate=1000.0)
    assert plan.num_units in (3, 4) and plan.margin_bytes == unit * 16
    assert plan.eta_seconds == pytest.approx(plan.num_units * unit / 1000.0)
    assert make_plan(tmp_path, unit, margin=0, max_units=2).num_units == 2
    with pytest.raises(NoSpaceError, match="the drive is full"):
        make_plan(tmp_path, labels_per_unit=free, margin=0)


def test_health_reads_undervoltage_and_thermal_from_sysfs(tmp_path: Path) -> None:
    hwmon = tmp_path / "sys/class/hwmon/hwmon0"
    hwmon.mkdir(parents=True)
    (hwmon / "name").write_text("rpi_volt\n")
    (hwmon / "in0_lcrit_alarm").write_text("0\n")
    zone = tmp_path / "sys/class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "temp").write_text("55000\n")
    (zone / "trip_point_0_type").write_text("critical\n")
    (zone / "trip_point_0_temp").write_text("70000\n")
    other = tmp_path / "sys/class/hwmon/hwmon1"  # a PC sensor chip with a spurious alarm bit
    other.mkdir()
    (other / "name").write_text("nct6775\n")
    (other / "in0_lcrit_alarm").write_text("1\n")
    assert health.problems(tmp_path) == {}
    (hwmon / "in0_lcrit_alarm").write_text("1\n")
    (zone / "temp").write_text("71000\n")
    found = health.problems(tmp_path)
    assert "rpi_volt" in found["undervoltage"] and "71.0 °C" in found["thermal"]
    (zone / "temp").write_text("garbage")
    assert "thermal" not in health.problems(tmp_path)


async def test_init_completes_and_matches_a_direct_run(manager, tmp_path: Path) -> None:
    jobs = await manager(_settings())
    volume = _volume(tmp_path, "a")
    await jobs.volume_ready(volume)
    await _until(lambda: _snap(jobs, "a").state is JobState.READY, "init to complete")
    snap = _snap(jobs, "a")
    assert (snap.position, snap.total, snap.num_units) == (2048, 2048, 2) and snap.plan is not None
    meta = read_metadata(volume.datadir)
    reference = tmp_path / "ref"
    Initializer(reference, PostMetadata(meta.node_id, meta.commitment_atx_id, 1024, 2, 4096), 16).run()
    for path in sorted(reference.glob("postdata_*.bin")):
        assert (volume.datadir / path.name).read_bytes() == path.read_bytes()


async def test_undervoltage_pauses_init_until_it_clears(manager, tmp_path: Path) -> None:
    root = tmp_path / "sysfs"
    hwmon = root / "sys/class/hwmon/hwmon0"
    hwmon.mkdir(parents=True)
    (hwmon / "name").write_text("rpi_volt\n")
    (hwmon / "in0_lcrit_alarm").write_text("1")
    jobs = await manager(_settings(labels_per_unit=4096, max_units=1), root)
    await _until(lambda: "undervoltage" in jobs._global, "the health poll")
    await jobs.volume_ready(_volume(tmp_path, "uv"))
    await _until(lambda: _snap(jobs, "uv").paused_by, "the job to show why it waits")
    await asyncio.sleep(0.3)  # several health polls later it still has not written a label
    snap = _snap(jobs, "uv")
    assert snap.position == 0 and snap.state is not JobState.INITIALIZING
    assert any("undervoltage" in reason for reason in snap.paused_by)
    (hwmon / "in0_lcrit_alarm").write_text("0")
    await _until(lambda: _snap(jobs, "uv").state is JobState.READY, "init after the power recovered")


async def test_proving_pre_empts_init_and_init_resumes_after(manager, tmp_path: Path) -> None:
    jobs = await manager(_settings(labels_per_unit=1 << 14, max_units=4, scrypt_n=256))
    done = _volume(tmp_path, "done")
    busy = _volume(tmp_path, "busy")
    await jobs.volume_ready(done)
    await _until(lambda: _snap(jobs, "done").state is JobState.READY, "the first drive to complete")
    await jobs.volume_ready(busy)
    await _until(lambda: _snap(jobs, "busy").position > 0, "the second drive's init to progress")
    with pytest.raises(NotReadyError):
        async with jobs.proving("busy"):
            pass
    async with jobs.proving("done") as volume:
        assert volume.datadir == done.datadir
        frozen = _snap(jobs, "busy")
        assert frozen.state is JobState.PAUSED and frozen.paused_by
        await asyncio.sleep(0.2)
        assert _snap(jobs, "busy").position == frozen.position, "init ran while proving"
        assert _snap(jobs, "done").state is JobState.PROVING
        # the complete drive is proving, not paused; only the one still initializing waits
        assert _snap(jobs, "done").paused_by == []
        assert frozen.paused_by == ["paused while a proof is generated"]
    await _until(lambda: _snap(jobs, "busy").position > frozen.position, "init to resume after proving")
    assert _snap(jobs, "done").state is JobState.READY


async def test_full_drive_gets_a_clear_error_and_nothing_written(manager, tmp_path: Path) -> None:
    jobs = await manager(_settings(free_margin=1 << 62))
    volume = _volume(tmp_path, "full")
    await jobs.volume_ready(volume)
    await _until(lambda: _snap(jobs, "full").state is JobState.ERROR, "the plan to fail")
    assert "the drive is full" in _snap(jobs, "full").reason
    assert list(volume.datadir.iterdir()) == []


async def test_a_drive_below_the_chains_minimum_units_is_refused_before_any_label(manager,
                                                                                   tmp_path: Path) -> None:
    jobs = await manager(_settings(max_units=2, min_num_units=3))
    volume = _volume(tmp_path, "small")
    await jobs.volume_ready(volume)
    await _until(lambda: _snap(jobs, "small").state is JobState.ERROR, "the plan to fail")
    assert "needs at least 3 units" in _snap(jobs, "small").reason
    assert list(volume.datadir.iterdir()) == []


async def test_metadata_of_another_identity_than_the_drive_key_is_refused(manager, tmp_path: Path) -> None:
    jobs = await manager(_settings())
    volume = _volume(tmp_path, "mixed", has_data=True)
    foreign = PostMetadata(generate("z").node_id, bytes.fromhex(ATX), 64, 1, 1024)
    Initializer(volume.datadir, foreign, 16).run()
    await jobs.volume_ready(volume)
    await _until(lambda: _snap(jobs, "mixed").state is JobState.ERROR, "the identity check")
    assert "another identity" in _snap(jobs, "mixed").reason


async def test_read_only_incomplete_data_is_an_error_not_a_write(manager, tmp_path: Path) -> None:
    jobs = await manager(_settings())
    volume = _volume(tmp_path, "ro", read_only=True)
    await jobs.volume_ready(volume)
    await _until(lambda: _snap(jobs, "ro").state is JobState.ERROR, "the read-only refusal")
    assert "read-only" in _snap(jobs, "ro").reason and not any(volume.datadir.iterdir())


async def test_worker_thread_runs_at_idle_priority() -> None:
    def policy() -> tuple[int, int]:
        return os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    main_policy = policy()
    seen = await start_low_priority(policy, "probe")
    assert seen != main_policy
    assert seen[0] == os.SCHED_IDLE or seen[1] == 19
    assert policy() == main_policy, "the caller's own priority must not change"
    with pytest.raises(ZeroDivisionError):
        await start_low_priority(lambda: 1 // 0, "boom")


def test_lower_current_thread_reports_what_it_did() -> None:
    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(lower_current_thread(idle=False)))
    thread.start()
    thread.join()
    assert result == ["nice 19"]



async def test_allocate_resizes_unfinished_data_but_never_complete_data(manager, tmp_path: Path) -> None:
    jobs = await manager(_settings(labels_per_unit=1 << 14, max_units=4, scrypt_n=256))
    volume = _volume(tmp_path, "resize")
    await jobs.volume_ready(volume)
    await _until(lambda: _snap(jobs, "resize").position > 0, "init to start on the full-space plan")
    assert _snap(jobs, "resize").num_units == 4
    estimate = await jobs.estimate("resize", 1 << 18)
    assert estimate.num_units == 1 and estimate.eta_seconds and _snap(jobs, "resize").num_units == 4
    plan = await jobs.allocate("resize", 1 << 18)  # one unit of 2^14 labels × 16 bytes
    assert plan.num_units == 1
    await _until(lambda: _snap(jobs, "resize").state is JobState.READY, "the re-planned init to finish")
    assert read_metadata(volume.datadir).num_units == 1 and _snap(jobs, "resize").total == 1 << 14
    with pytest.raises(PlanLockedError, match="fixed"):
        await jobs.allocate("resize", 1 << 19)
    with pytest.raises(NoSpaceError, match="less than one unit"):
        await jobs.estimate("resize", 100)
    with pytest.raises(NotReadyError):
        await jobs.estimate("no-such-drive", 1 << 18)


async def test_allocate_shows_the_new_size_at_once(manager, tmp_path: Path) -> None:
    """The page redraws its space step from the snapshot: the new plan's size must be there (and
    published) when allocate returns, not only after re-planning."""
    jobs = await manager(_settings(labels_per_unit=1 << 14, max_units=4, scrypt_n=256))
    await jobs.volume_ready(_volume(tmp_path, "resize"))
    await _until(lambda: _snap(jobs, "resize").position > 0, "init to start on the full-space plan")
    assert _snap(jobs, "resize").total == 4 << 14
    async with jobs.bus.subscribe() as events:
        plan = await jobs.allocate("resize", 2 << 18)  # two units of 2^14 labels × 16 bytes
        snap = _snap(jobs, "resize")  # before the re-planning task had a chance to run
        published = [e.data for e in _drain(events) if e.topic is Topic.JOBS]
    assert plan.num_units == 2 and snap.plan == plan
    assert (snap.total, snap.num_units, snap.state) == (2 << 14, 2, JobState.PLANNING)
    assert snap.position > 0  # the labels already written are kept
    assert published and next(j for j in published[-1] if j.drive_id == "resize").total == 2 << 14
    await _until(lambda: _snap(jobs, "resize").state is JobState.READY, "the re-planned init to finish")
    assert _snap(jobs, "resize").total == 2 << 14


def _drain(queue: asyncio.Queue[Event]) -> list[Event]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


async def test_resize_mid_init_keeps_the_labels_written(manager, tmp_path: Path) -> None:
    jobs = await manager(_settings(labels_per_unit=1 << 12, max_units=4, scrypt_n=256))
    volume = _volume(tmp_path, "keep")
    await jobs.volume_ready(volume)
    await _until(lambda: (volume.datadir / "smeshbox_init_state.json").exists()
                 and _snap(jobs, "keep").position > 1 << 11, "some labels to be written")
    plan = await jobs.allocate("keep", 3 << 16)  # 3 units of 2^12 labels × 16 bytes
    kept = _snap(jobs, "keep").position
    assert plan.num_units == 3 and kept > 1 << 11
    await _until(lambda: _snap(jobs, "keep").state is JobState.READY, "the resized init to finish")
    reference = tmp_path / "reference"
    meta = read_metadata(volume.datadir)
    Initializer(reference, PostMetadata(meta.node_id, meta.commitment_atx_id, meta.labels_per_unit, 3,
                                        meta.max_file_size), scrypt_n=256).run()
    def files(folder: Path) -> list[bytes]:
        return [p.read_bytes() for p in sorted(folder.glob("postdata_*.bin"))]

    assert files(volume.datadir) == files(reference)
    assert read_metadata(reference).nonce == meta.nonce


async def test_a_resize_failing_half_way_says_why_and_the_job_goes_on(manager, tmp_path: Path,
                                                                       monkeypatch) -> None:
    import appliance.jobs.manager as jobs_module
    from appliance.post.resize import ResizeError

    def disk_gone(*_args: object) -> None:
        raise OSError(5, "Input/output error")

    jobs = await manager(_settings(labels_per_unit=1 << 12, max_units=4, scrypt_n=256))
    volume = _volume(tmp_path, "half")
    await jobs.volume_ready(volume)
    await _until(lambda: (volume.datadir / "smeshbox_init_state.json").exists(), "init to start")
    monkeypatch.setattr(jobs_module, "apply_resize", disk_gone)
    with pytest.raises(ResizeError, match=r"Input/output error.*kept"):
        await jobs.allocate("half", 2 << 16)
    assert not any("re-planning" in r for r in _snap(jobs, "half").paused_by)
    await _until(lambda: _snap(jobs, "half").state is JobState.READY, "init to go on and finish")
    assert read_metadata(volume.datadir).num_units == 4  # nothing was changed


async def test_estimate_and_allocate_on_a_missing_drive_say_so(manager, tmp_path: Path) -> None:
    jobs = await manager(_settings(labels_per_unit=1 << 12, max_units=4, scrypt_n=256))
    await jobs.volume_ready(_volume(tmp_path, "gone"))
    await jobs.volume_lost("gone", "unplugged")
    for call in (jobs.estimate, jobs.allocate):
        with pytest.raises(NotReadyError, match="not there"):
            await call("gone", 1 << 16)


async def test_init_stopped_by_emfile_resumes_once_descriptors_are_free(tmp_path: Path) -> None:
    """Real EMFILE: the process's descriptor limit is lowered under a running init (every new data
    file needs one), then raised again — the job says why it stopped and finishes by itself."""
    import resource

    from appliance.supervision import Backoff

    settings = _settings(labels_per_unit=1 << 12, max_units=4, scrypt_n=64, max_file_size=1024)
    jobs = JobManager(EventBus(), *settings, health_root=tmp_path / "sysfs", measure_seconds=0.05,
                      retry=Backoff(initial=0.05, maximum=0.2))
    await jobs.start()
    volume = _volume(tmp_path, "fds")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        await jobs.volume_ready(volume)
        await _until(lambda: _snap(jobs, "fds").position > 0, "init to write")
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")), hard))
        await _until(lambda: _snap(jobs, "fds").state is JobState.ERROR, "init to stop on EMFILE")
        assert "out of resources" in _snap(jobs, "fds").reason and "open files" in _snap(jobs, "fds").reason
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        await _until(lambda: _snap(jobs, "fds").state is JobState.READY, "init to resume and finish")
    finally:
        await jobs.stop()


async def test_estimate_counts_the_drives_that_share_the_cpu(manager, tmp_path: Path) -> None:
    """With another drive still being prepared the two share the measured rate evenly: the ETA
    counts the other drive's labels written meanwhile, and says so — not the lone drive's
    optimistic time."""
    jobs = await manager(_settings(labels_per_unit=1 << 14, max_units=4, scrypt_n=256))
    await jobs.volume_ready(_volume(tmp_path, "one"))
    await jobs.volume_ready(_volume(tmp_path, "two"))
    await _until(lambda: _snap(jobs, "two").position > 0, "the second drive's init to start")
    jobs.pause("test", "held still for the arithmetic")
    await _until(lambda: _snap(jobs, "two").state is JobState.PAUSED, "the pause")
    two = _snap(jobs, "two")
    plan = await jobs.estimate("one", 1 << 18)  # one unit of 2^14 labels
    assert plan.shared_with == 1 and plan.labels_per_second
    expected = ((1 << 14) + min(1 << 14, two.total - two.position)) / plan.labels_per_second
    assert plan.eta_seconds == pytest.approx(expected)
    assert plan.eta_seconds > (1 << 14) / plan.labels_per_second  # longer than the lone estimate
    big = await jobs.estimate("one", 4 << 18)  # four units: the other drive finishes first
    assert big.eta_seconds == pytest.approx(((4 << 14) + two.total - two.position) / plan.labels_per_second)
    jobs.pause("test", None)
