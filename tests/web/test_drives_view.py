"""The drives/jobs adapter of the web API: views carry the managers' state faithfully, ids are
URL-safe, and refusals become ServiceErrors of the right kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import PostSettings, StateLayout
from appliance.drives.manager import DriveManager
from appliance.drives.model import DriveSnapshot, DriveState
from appliance.events import EventBus
from appliance.jobs.manager import JobManager
from appliance.jobs.model import JobSnapshot, JobState
from appliance.web.drives import DrivesView, drive_view, job_view, web_id
from appliance.web.services import DRIVE_STATES, JOB_STATES, ServiceError


def test_ids_are_url_safe() -> None:
    assert web_id("3f0a-11") == "3f0a-11"
    assert web_id("disk-usb-WD My Passport/2") == "disk-usb-WD_My_Passport_2"


@pytest.mark.parametrize("state", list(JobState))
def test_every_job_state_maps_into_the_web_vocabulary(state: JobState) -> None:
    view = job_view(JobSnapshot(drive_id="d", state=state, reason="why", position=5, total=10,
                                paused_by=["drive missing: unplugged"]))
    assert view.state in JOB_STATES
    assert (view.labels_done, view.labels_total, view.paused_by) == (5, 10, ["drive missing: unplugged"])


@pytest.mark.parametrize("state", list(DriveState))
def test_every_drive_state_maps_into_the_web_vocabulary(state: DriveState) -> None:
    shot = DriveSnapshot(id="u-1", state=state, reason="r", model="M", serial="S", size=123)
    job = JobSnapshot(drive_id="u-1", state=JobState.INITIALIZING, total=1000, position=10)
    view = drive_view(shot, job)
    assert view.state in DRIVE_STATES and view.state == state.value
    assert (view.model, view.serial, view.size_bytes, view.allocated_bytes) == ("M", "S", 123, 16000)
    assert view.job is not None and view.job.state == "initializing"
    assert drive_view(shot, None).job is None


async def test_unknown_drive_and_plans_without_a_dataset_are_refused(tmp_path: Path) -> None:
    bus = EventBus()
    jobs = JobManager(bus, PostSettings())
    drives = DriveManager(StateLayout(tmp_path), bus, jobs)
    view = DrivesView(drives, jobs)
    assert view.drives() == []
    with pytest.raises(ServiceError) as err:
        await view.format("nope", "m", "s", 1)
    assert err.value.kind == "not_found"
    with pytest.raises(ServiceError) as err:
        await view.estimate("nope", 1 << 30)
    assert err.value.kind == "not_found"


@pytest.mark.parametrize("state", [DriveState.ERROR, DriveState.MISSING])
def test_a_complete_dataset_on_a_broken_or_missing_drive_is_not_shown_ready(state: DriveState) -> None:
    shot = DriveSnapshot(id="u-1", state=state, reason="I/O error: fsck failed", model="M", size=1)
    job = JobSnapshot(drive_id="u-1", state=JobState.READY, position=10, total=10)
    view = drive_view(shot, job)
    assert view.job is not None and view.job.state == "paused" and "fsck failed" in view.job.reason
    assert drive_view(DriveSnapshot(id="u-1", state=DriveState.ACTIVE), job).job.state == "ready"
