"""The whole drive life cycle with the real job manager: format → init; adopt data made by
``python -m appliance post init`` (with its key beside it); unplug mid-init (``losetup -d``) →
paused, replug → resumed, final files byte-identical to an uninterrupted run."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.chain import DEVNET, ChainParams
from appliance.config import PostSettings, StateLayout
from appliance.drives.manager import DriveManager
from appliance.drives.model import Confirmation, DriveState
from appliance.events import EventBus
from appliance.jobs.manager import JobManager
from appliance.jobs.model import JobState
from appliance.node.identity import generate
from appliance.post.initializer import Initializer
from appliance.post.metadata import PostMetadata, read_metadata
from appliance.supervision import Backoff

pytestmark = [pytest.mark.root, pytest.mark.slow]

ATX = "ab" * 32


def _settings(**kw: int) -> tuple[PostSettings, ChainParams]:
    """This machine's knobs and the chain (labels per unit and scrypt N are the chain's)."""
    base = {"labels_per_unit": 256, "scrypt_n": 16, "max_file_size": 1024, "free_margin": 1 << 20,
            "max_units": 4, "threads": 1}
    base.update(kw)
    chain = DEVNET.replace({k: base.pop(k) for k in ("labels_per_unit", "scrypt_n")})
    return PostSettings(commitment_atx_id=ATX, **base), chain


@pytest.fixture
async def stack(loops):  # type: ignore[no-untyped-def]
    made: list[tuple[DriveManager, JobManager]] = []

    def build(settings: tuple[PostSettings, ChainParams]) -> tuple[DriveManager, JobManager]:
        bus = EventBus()
        jobs = JobManager(bus, *settings, health_root=loops.folder / "nosysfs", measure_seconds=0.05,
                          retry=Backoff(initial=0.2, maximum=1.0))
        drives = DriveManager(StateLayout(loops.state), bus, jobs, allowed_loop_dirs=[loops.folder],
                              poll_interval=0.1)
        jobs.on_io_error = drives.report_io_error
        made.append((drives, jobs))
        return drives, jobs

    yield build
    for drives, jobs in made:
        await drives.stop()
        await jobs.stop()


def _job(jobs: JobManager, drive_id: str):  # type: ignore[no-untyped-def]
    return next((j for j in jobs.snapshot() if j.drive_id == drive_id), None)


def _files(datadir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(datadir.glob("postdata_*.bin"))}


async def test_confirmed_format_starts_init_which_completes(loops, stack, wait_for) -> None:
    drives, jobs = stack(_settings())
    await jobs.start()
    await drives.start()
    dev = loops.attach(loops.image("new.img"))
    await wait_for(lambda: any(s.devnode == dev and s.state is DriveState.OFFERED for s in drives.snapshot()),
                   "the drive to be offered")
    shot = next(s for s in drives.snapshot() if s.devnode == dev)
    assert not jobs.snapshot(), "an offered drive gets no job"
    active = await drives.format(shot.id, Confirmation(shot.model, shot.serial, shot.size))
    await wait_for(lambda: (_job(jobs, active.id) or shot).state is JobState.READY, "init to complete")
    job = _job(jobs, active.id)
    assert (job.num_units, job.total, job.position) == (4, 1024, 1024)
    assert job.plan is not None and job.plan.labels_per_second and job.plan.eta_seconds
    meta = read_metadata(active.datadir)
    assert meta.node_id.hex() == active.node_id and meta.num_units == 4 and meta.nonce is not None
    assert len(_files(Path(active.datadir))) == 16  # 1024 labels, 64 per 1024-byte file


async def test_drive_prepared_with_post_init_is_adopted_with_its_key(loops, stack, wait_for) -> None:
    image = loops.image("pc.img", mkfs=True, label="GPU-PC")
    mnt = loops.folder / "pc"
    mnt.mkdir()
    dev = loops.attach(image)
    subprocess.run(["mount", dev, str(mnt)], check=True)
    identity = generate("pc-smesher")
    data = mnt / "smeshbox"
    proc = subprocess.run(
        [sys.executable, "-m", "appliance", "post", "init", "--datadir", str(data), "--node-id",
         identity.node_id.hex(), "--commitment-atx-id", ATX, "--labels-per-unit", "256", "--num-units", "2",
         "--max-file-size", "1024", "--scrypt-n", "16", "--threads", "1"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (data / "pc-smesher.key").write_text(identity.key_file_text())
    subprocess.run(["umount", str(mnt)], check=True)

    drives, jobs = stack(_settings())
    await jobs.start()
    await drives.start()
    shot = next(s for s in drives.snapshot() if s.devnode == dev)
    assert shot.state is DriveState.ACTIVE and shot.reason == "PoST data adopted", shot.reason
    assert shot.node_id == identity.node_id.hex() and shot.identity == "pc-smesher"
    assert (loops.state / "identities" / "pc-smesher.key").read_text() == identity.key_file_text()
    await wait_for(lambda: _job(jobs, shot.id).state is JobState.READY, "the sampled check to pass")
    assert _job(jobs, shot.id).check.startswith("ok")
    async with jobs.proving(shot.id) as volume:
        assert _job(jobs, shot.id).state is JobState.PROVING
        assert volume.datadir == Path(shot.mountpoint) / "smeshbox"
    assert _job(jobs, shot.id).state is JobState.READY


def _data_drive(loops, name: str, owner, key, spoil: bool = False) -> tuple[str, Path]:  # type: ignore[no-untyped-def]
    """An ext4 loop drive with complete PoST data of ``owner`` at its top and ``key`` beside it."""
    mnt = loops.folder / f"mnt-{name}"
    mnt.mkdir()
    dev = loops.attach(loops.image(f"{name}.img", mkfs=True))
    subprocess.run(["mount", dev, str(mnt)], check=True)
    try:
        Initializer(mnt, PostMetadata(owner.node_id, bytes.fromhex(ATX), 64, 1, 1024), scrypt_n=16).run()
        if spoil:
            (mnt / "postdata_0.bin").write_bytes(b"\x00" * 1024)  # every label wrong
        (mnt / f"{key.name}.key").write_text(key.key_file_text())
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    return dev, mnt


async def test_data_of_an_unknown_identity_is_refused_and_untouched(loops, stack) -> None:
    dev, mnt = _data_drive(loops, "stranger", generate("x"), key=generate("other"))  # not this data's key
    subprocess.run(["mount", "-o", "ro", dev, str(mnt)], check=True)
    before = {p.name: p.read_bytes() for p in mnt.iterdir() if p.is_file()}
    subprocess.run(["umount", str(mnt)], check=True)
    drives, jobs = stack(_settings())
    await drives.start()
    shot = next(s for s in drives.snapshot() if s.devnode == dev)
    assert shot.state is DriveState.ERROR and "does not have" in shot.reason, shot.reason
    assert not jobs.snapshot()
    subprocess.run(["mount", "-o", "ro", dev, str(mnt)], check=True)
    try:
        assert {n: (mnt / n).read_bytes() for n in before} == before
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


async def test_corrupt_adopted_data_fails_its_check_and_is_kept(loops, stack, wait_for) -> None:
    identity = generate("bad")
    dev, _ = _data_drive(loops, "bad", identity, key=identity, spoil=True)
    drives, jobs = stack(_settings())
    await jobs.start()
    await drives.start()
    shot = next(s for s in drives.snapshot() if s.devnode == dev)
    await wait_for(lambda: _job(jobs, shot.id).state is JobState.ERROR, "the check to fail")
    job = _job(jobs, shot.id)
    assert "postdata_0.bin offset" in job.reason and "left as is" in job.reason
    assert (Path(shot.mountpoint) / "postdata_0.bin").read_bytes() == b"\x00" * 1024


async def test_unplug_mid_init_pauses_and_replug_resumes_byte_identical(loops, stack, wait_for,
                                                                         tmp_path) -> None:
    settings = _settings(labels_per_unit=8192, scrypt_n=512, max_file_size=16 << 10, max_units=4)
    drives, jobs = stack(settings)
    await jobs.start()
    await drives.start()
    image = loops.image("usb.img", size=64 << 20, mkfs=True, label="SMESHBOX")
    dev = loops.attach(image)
    await wait_for(lambda: any(j.position > 0 and j.state is JobState.INITIALIZING for j in jobs.snapshot()),
                   "init to make progress")
    drive_id = jobs.snapshot()[0].drive_id
    subprocess.run(["losetup", "-d", dev], check=True)  # busy: the kernel only sets autoclear
    await wait_for(lambda: any(s.id == drive_id and s.state is DriveState.MISSING for s in drives.snapshot()),
                   "the drive to be marked missing")
    paused = _job(jobs, drive_id)
    assert paused.state is JobState.PAUSED and any("missing" in r for r in paused.paused_by)
    assert 0 < paused.position < paused.total
    assert not subprocess.run(["losetup", "-j", str(image)], capture_output=True, text=True).stdout

    dev2 = loops.attach(image)
    await wait_for(lambda: any(s.id == drive_id and s.state is DriveState.ACTIVE for s in drives.snapshot()),
                   f"the replugged drive ({dev2}) to be active again")
    await wait_for(lambda: _job(jobs, drive_id).state is JobState.READY, "init to finish", timeout=120)
    done = next(s for s in drives.snapshot() if s.id == drive_id)

    reference = tmp_path / "reference"
    meta = read_metadata(done.datadir)
    fresh = PostMetadata(meta.node_id, meta.commitment_atx_id, meta.labels_per_unit, meta.num_units,
                         meta.max_file_size)
    Initializer(reference, fresh, scrypt_n=settings[1].scrypt_n).run()
    assert _files(Path(done.datadir)) == _files(reference)
    assert json.loads((Path(done.datadir) / "postdata_metadata.json").read_text()) == json.loads(
        (reference / "postdata_metadata.json").read_text())


async def test_disk_filling_up_mid_init_stops_then_resumes_once_space_is_freed(loops, stack, wait_for,
                                                                              tmp_path) -> None:
    settings = _settings(labels_per_unit=8192, scrypt_n=512, max_file_size=64 << 10, max_units=16)
    drives, jobs = stack(settings)
    await jobs.start()
    await drives.start()
    dev = loops.attach(loops.image("small.img", size=24 << 20, mkfs=True, label="SMESHBOX"))
    await wait_for(lambda: any(j.position > 0 for j in jobs.snapshot()), "init to make progress")
    shot = next(s for s in drives.snapshot() if s.devnode == dev)
    state_file = Path(shot.datadir) / "smeshbox_init_state.json"
    await wait_for(lambda: json.loads(state_file.read_text())["Position"] > 0, "a first durable commit")
    hog = Path(shot.mountpoint) / "someone-elses-file"
    subprocess.run(["fallocate", "-l", str(shot.free_bytes), str(hog)], capture_output=True)
    fd = os.open(hog, os.O_WRONLY | os.O_APPEND)  # then whatever fallocate left, block by block
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    await wait_for(lambda: _job(jobs, shot.id).state is JobState.ERROR, "the full disk to stop init")
    job = _job(jobs, shot.id)
    assert "the drive is full" in job.reason, job.reason
    state = json.loads(state_file.read_text())
    assert 0 < state["Position"] < job.total
    meta = read_metadata(shot.datadir)
    reference = tmp_path / "reference"
    fresh = PostMetadata(meta.node_id, meta.commitment_atx_id, meta.labels_per_unit, meta.num_units,
                         meta.max_file_size)
    Initializer(reference, fresh, scrypt_n=settings[1].scrypt_n).run()
    durable = b"".join(_files(Path(shot.datadir)).values())[: state["Position"] * 16]
    assert durable == b"".join(_files(reference).values())[: state["Position"] * 16]
    # space freed: init goes on by itself (no replug, no restart) and finishes byte-identical
    hog.unlink()
    await wait_for(lambda: _job(jobs, shot.id).state is JobState.READY, "init to resume and finish",
                   timeout=120)
    assert _files(Path(shot.datadir)) == _files(reference)


async def test_io_errors_stop_only_that_drive(loops, stack, wait_for, tmp_path) -> None:
    # A real I/O error: the loop device's backing file lives on a tiny tmpfs, so once the tmpfs is
    # full every write the filesystem sends down fails in the block layer (EIO), as a dying disk.
    backing = loops.folder / "tmpfs"  # inside the folder the drive manager accepts loop devices from
    backing.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(backing)], check=True)
    try:
        # 6 MiB of labels on a filesystem whose blocks can only hold about 4 MiB
        settings = _settings(labels_per_unit=8192, scrypt_n=32, max_file_size=64 << 10, max_units=48)
        drives, jobs = stack(settings)
        await jobs.start()
        await drives.start()
        dying_img = backing / "dying.img"
        with open(dying_img, "wb") as handle:
            handle.truncate(32 << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "SMESHBOX", "-E", "lazy_itable_init=1,nodiscard",
                        str(dying_img)], check=True)
        loops.images.append(dying_img)
        dying = loops.attach(dying_img)
        healthy = loops.attach(loops.image("healthy.img", size=32 << 20, mkfs=True, label="SMESHBOX"))
        await wait_for(lambda: len(jobs.snapshot()) == 2, "both drives to get a job")
        ids = {s.devnode: s.id for s in drives.snapshot()}
        await wait_for(lambda: _job(jobs, ids[healthy]).state is JobState.READY, "the healthy drive",
                       timeout=120)
        # The block layer reports the failed writes as EIO or, a thin-provisioned device being
        # full, ENOSPC: either way that drive stops with a reason, and only that drive.
        def stopped(job) -> bool:  # type: ignore[no-untyped-def]
            return any("I/O error" in r for r in job.paused_by) or "the drive is full" in job.reason

        await wait_for(lambda: stopped(_job(jobs, ids[dying])), "the dying drive's job to stop")
        job = _job(jobs, ids[dying])
        assert job.state in (JobState.PAUSED, JobState.ERROR) and 0 <= job.position < job.total
        if job.state is JobState.PAUSED:
            broken = next(s for s in drives.snapshot() if s.id == ids[dying])
            assert broken.state in (DriveState.ERROR, DriveState.MISSING) and broken.reason, broken
    finally:
        loops.cleanup()
