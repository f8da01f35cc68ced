"""A drive with this box's dataset that is not plugged in when the daemon starts is shown as
missing (it used to be forgotten), until it is plugged in again or a person forgets it — which
keeps its identity, so the data is adopted again on the next plug-in."""

from __future__ import annotations

import subprocess

import pytest

from appliance.config import StateLayout
from appliance.drives.errors import NotFormattableError
from appliance.drives.manager import DriveManager
from appliance.drives.model import DriveState
from appliance.events import EventBus
from appliance.web.drives import DrivesView, web_id
from appliance.web.services import ServiceError
from tests.drives.conftest import Recorder

pytestmark = pytest.mark.root


async def test_a_missing_drive_is_remembered_across_restarts_and_can_be_forgotten(loops, wait_for) -> None:
    layout = StateLayout(loops.state)

    def manager() -> DriveManager:
        return DriveManager(layout, EventBus(), Recorder(), allowed_loop_dirs=[loops.folder],
                            poll_interval=0.1)

    image = loops.image("ours.img", mkfs=True, label="SMESHBOX")
    dev = loops.attach(image)
    first = manager()
    await first.start()
    shot = next(s for s in first.snapshot() if s.devnode == dev)
    assert shot.state is DriveState.ACTIVE, shot.reason
    await first.stop()
    subprocess.run(["losetup", "-d", dev], check=True)  # unplugged while the box was off

    second = manager()
    await second.start()
    try:
        missing = second.get(shot.id)
        assert missing.state is DriveState.MISSING and "since the box started" in missing.reason
        assert (missing.model, missing.serial, missing.identity) == (shot.model, shot.serial, shot.identity)
        view = DrivesView(second, jobs=None)  # type: ignore[arg-type]
        active = loops.attach(loops.image("other.img", mkfs=True, label="SMESHBOX"))
        await wait_for(lambda: any(s.devnode == active and s.state is DriveState.ACTIVE
                                   for s in second.snapshot()), "another drive to be claimed")
        other = next(s for s in second.snapshot() if s.devnode == active)
        with pytest.raises(ServiceError, match="not missing"):
            await view.forget(web_id(other.id))
        await view.forget(web_id(shot.id))
        assert shot.id not in {s.id for s in second.snapshot()}
        with pytest.raises(NotFormattableError):
            await second.forget(shot.id)
        back = loops.attach(image)  # plugged in again: adopted with the identity it had
        await wait_for(lambda: any(s.devnode == back and s.state is DriveState.ACTIVE
                                   for s in second.snapshot()), "the drive to be adopted again")
        assert second.get(shot.id).identity == shot.identity
    finally:
        await second.stop()
