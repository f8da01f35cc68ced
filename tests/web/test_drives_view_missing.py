"""A plan asked for a drive whose files are gone (unplugged, unmounted under the job) is refused with
a reason (409), not a FileNotFoundError the web layer would turn into a 500."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance.config import PostSettings
from appliance.drives.model import DriveSnapshot, DriveState
from appliance.drives.volume import Volume
from appliance.events import EventBus
from appliance.jobs.manager import JobManager
from appliance.post.dataset import PostDataset
from appliance.web.drives import DrivesView
from appliance.web.services import ServiceError


class _Drives:
    def __init__(self, shot: DriveSnapshot) -> None:
        self.shot = shot

    def snapshot(self) -> list[DriveSnapshot]:
        return [self.shot]


async def test_estimate_and_allocate_on_a_vanished_drive_are_conflicts(tmp_path: Path) -> None:
    settings = PostSettings()
    jobs = JobManager(EventBus(), settings)
    jobs.pause("test", "held so the job does not start initializing")
    jobs._rates[jobs.chain.scrypt_n] = 1000.0  # no measurement: this test is about the plan's I/O
    datadir = tmp_path / "mnt" / "smeshbox"
    datadir.mkdir(parents=True)
    await jobs.volume_ready(Volume("fs-1", tmp_path / "mnt", PostDataset(datadir), "drive-1", b"\1" * 32,
                                   False, False))
    view = DrivesView(_Drives(DriveSnapshot(id="fs-1", state=DriveState.ACTIVE, model="M", serial="S",
                                            size=1 << 40)), jobs)  # type: ignore[arg-type]
    shutil.rmtree(tmp_path / "mnt")  # pulled out under the job
    for call in (view.estimate, view.allocate):
        with pytest.raises(ServiceError) as err:
            await call("fs-1", 1 << 40)
        assert err.value.kind == "conflict" and "plug it back in" in err.value.reason
    await jobs.stop()
