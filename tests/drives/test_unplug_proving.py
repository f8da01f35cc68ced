"""A complete drive pulled in the proving window (``losetup -d`` on a real loop device) and plugged
back: the identity's smesher, which died without its data, is restarted by the supervisor and the
next epoch is smeshed — before, every following epoch was lost until a reboot."""

from __future__ import annotations

import subprocess

import pytest

from appliance.config import PostSettings, StateLayout
from appliance.devnet.devnet import Devnet, DevnetConfig
from appliance.drives.manager import DriveManager
from appliance.drives.model import DriveState
from appliance.events import EventBus
from appliance.health import HealthMonitor
from appliance.health.drives import drive_check
from appliance.health.tasks import task_check
from appliance.jobs.manager import JobManager
from appliance.jobs.model import JobState
from appliance.jobs.provider import JobsPostProvider
from appliance.node.identity import generate
from appliance.node.lightnode import LightNode
from appliance.post.initializer import Initializer
from appliance.post.metadata import PostMetadata
from appliance.supervision import Backoff, Supervisor
from tests.devnet.conftest import node_grades

pytestmark = [pytest.mark.root, pytest.mark.slow]


async def test_drive_pulled_in_the_proving_window_then_the_next_epoch_is_smeshed(loops, wait_for) -> None:
    devnet = Devnet(DevnetConfig())
    await devnet.start()
    cfg = devnet.chain
    owner = generate("pulled")
    image = loops.image("pulled.img", mkfs=True)
    mnt = loops.folder / "mnt"
    mnt.mkdir()
    dev = loops.attach(image)
    subprocess.run(["mount", dev, str(mnt)], check=True)
    try:
        meta = PostMetadata(owner.node_id, devnet.golden_atx, cfg.labels_per_unit, 2, 4096)
        assert Initializer(mnt, meta, scrypt_n=cfg.scrypt_n).run().complete
        (mnt / f"{owner.name}.key").write_text(owner.key_file_text())
    finally:
        subprocess.run(["umount", str(mnt)], check=True)

    bus = EventBus()
    settings = PostSettings(commitment_atx_id=devnet.golden_atx.hex(), max_file_size=4096, threads=1)
    jobs = JobManager(bus, settings, devnet.chain, health_root=loops.folder / "nosysfs", measure_seconds=0.05)
    drives = DriveManager(StateLayout(loops.state), bus, jobs, allowed_loop_dirs=[loops.folder],
                          poll_interval=0.1)
    tasks = Supervisor(Backoff(initial=0.5, maximum=2.0), healthy_after=5.0)
    health = HealthMonitor()
    health.mark_started()
    health.add_check("drives", drive_check(drives.snapshot))
    health.add_check("tasks", task_check(tasks))
    provider = JobsPostProvider(jobs, devnet.proof_config(), nonces=16, threads=1, fast_mode=False)
    node = LightNode(devnet.node_config(), loops.state / "node", provider, time_source=devnet.time,
                       identities=[owner], supervisor=tasks)
    jobs.on_io_error = drives.report_io_error
    seen: set[str] = set()
    tasks.add_listener(lambda: seen.update(p.id for p in health.report().problems))
    try:
        await jobs.start()
        await drives.start()
        await wait_for(lambda: any(j.state is JobState.READY for j in jobs.snapshot()),
                       "the data to be adopted")
        drive_id = jobs.snapshot()[0].drive_id
        await node.start()

        def phase(n: int) -> str:
            return node._smeshers[owner.node_id].store.doc["epochs"].get(str(n), {}).get("phase", "")

        await wait_for(lambda: phase(1) == "poet_stored", "the proving window of epoch 1", timeout=120)
        subprocess.run(["losetup", "-d", dev], check=True)  # pulled while the proof needs the drive
        await wait_for(lambda: any(s.id == drive_id and s.state is DriveState.MISSING
                                   for s in drives.snapshot()), "the drive to be missing")
        assert any(p.id == f"drive-missing:{drive_id}" for p in health.report().problems)
        await wait_for(lambda: bool(node.down()), "the smesher to stop without its data")
        down = f"task-down:smesher-{owner.node_id.hex()[:12]}"
        assert down in seen | {p.id for p in health.report().problems}

        loops.attach(image)  # plugged back
        await wait_for(lambda: any(s.id == drive_id and s.state is DriveState.ACTIVE
                                   for s in drives.snapshot()), "the drive to be back")
        await wait_for(lambda: any(g == "good" and e >= 2
                                   for e, g in node_grades(node, owner.node_id).items()),
                       "a good ATX for a later epoch", timeout=180)
        # A proof asked for while the drive's sampled re-check runs may fail once more and be
        # retried after its backoff; what matters is that the smesher is up again.
        await wait_for(lambda: not node.down(), "the smesher to be up again", timeout=30)
    finally:
        await node.stop()
        await drives.stop()
        await jobs.stop()
        await tasks.stop_all()
        await devnet.stop()
