"""The drives + jobs side of the web API: adapts DriveManager/JobManager snapshots to the web
layer's view dataclasses (``appliance.web.services``) and its calls to the managers' methods,
turning their typed errors into ``ServiceError``s. The web layer imports the domains, never the
reverse; ``appliance.composition`` hands the managers in.
"""

from __future__ import annotations

import dataclasses
import re

from appliance.drives.errors import (
    ConfirmationMismatchError,
    DriveError,
    NotFormattableError,
    UnknownDriveError,
)
from appliance.drives.manager import DriveManager
from appliance.drives.model import Confirmation, DriveSnapshot, DriveState
from appliance.jobs.manager import JobManager, NotReadyError, PlanLockedError
from appliance.jobs.model import JobSnapshot, JobState, Plan
from appliance.jobs.plan import NoSpaceError
from appliance.post.resize import ResizeError
from appliance.web import services as ws

_ID_OK = re.compile(r"[^A-Za-z0-9._:-]")


def web_id(drive_id: str) -> str:
    """Drive ids as the web API allows them in URLs ([A-Za-z0-9._:-]+)."""
    return _ID_OK.sub("_", drive_id) or "drive"


def job_view(job: JobSnapshot) -> ws.JobView:
    state = job.state.value
    reason = job.reason
    if job.state is JobState.PLANNING:  # the web vocabulary has no "planning": it is a check of the drive
        state, reason = "checking", f"planning: {reason}" if reason else "planning"
    return ws.JobView(
        state=state,  # type: ignore[arg-type]
        reason=reason, labels_done=job.position, labels_total=job.total,
        labels_per_second=job.labels_per_second, eta_seconds=job.eta_seconds,
        paused_by=list(job.paused_by), check=job.check,
    )


def drive_view(drive: DriveSnapshot, job: JobSnapshot | None) -> ws.DriveView:
    view = job_view(job) if job else None
    if view is not None and drive.state in (DriveState.ERROR, DriveState.MISSING) \
            and view.state in ("ready", "proving"):
        # complete data on a drive that is gone or broken cannot prove: the job waits for it
        view = dataclasses.replace(view, state="paused", reason=f"the drive is {drive.state.value}: "
                                   f"{drive.reason or 'see the drive'}")
    return ws.DriveView(
        id=web_id(drive.id), state=drive.state.value, model=drive.model,  # type: ignore[arg-type]
        serial=drive.serial, size_bytes=drive.size, reason=drive.reason,
        allocated_bytes=job.total * 16 if job else 0, job=view,
        node_id=drive.node_id or "", merge_folders=list(drive.merge_folders),
    )


class DrivesView:
    """``appliance.web.services.DrivesService`` over the drive and job managers."""

    def __init__(self, drives: DriveManager, jobs: JobManager) -> None:
        self.drives_manager = drives
        self.jobs = jobs

    def drives(self) -> list[ws.DriveView]:
        jobs = {j.drive_id: j for j in self.jobs.snapshot()}
        return [drive_view(d, jobs.get(d.id)) for d in self.drives_manager.snapshot()]

    def _real_id(self, drive_id: str) -> str:
        for shot in self.drives_manager.snapshot():
            if web_id(shot.id) == drive_id:
                return shot.id
        raise ws.ServiceError(f"no drive {drive_id!r}", "not_found")

    async def format(self, drive_id: str, model: str, serial: str, size_bytes: int) -> None:
        # a confirmation already used names a drive that now has another id: the manager answers it
        used = next((i for i in self.drives_manager.formatted_ids() if web_id(i) == drive_id), None)
        try:
            await self.drives_manager.format(used or self._real_id(drive_id),
                                             Confirmation(model, serial, size_bytes))
        except UnknownDriveError as exc:
            raise ws.ServiceError(str(exc), "not_found") from exc
        except (ConfirmationMismatchError, NotFormattableError) as exc:
            raise ws.ServiceError(str(exc), "conflict") from exc
        except DriveError as exc:
            raise ws.ServiceError(str(exc), "unavailable") from exc

    async def merge(self, drive_id: str) -> None:
        """Starts merging an offered drive's PoST pieces (checked with this box's scrypt N)."""
        try:
            self.drives_manager.start_merge(self._real_id(drive_id), self.jobs.chain.scrypt_n)
        except UnknownDriveError as exc:
            raise ws.ServiceError(str(exc), "not_found") from exc
        except NotFormattableError as exc:
            raise ws.ServiceError(str(exc), "conflict") from exc

    async def forget(self, drive_id: str) -> None:
        try:
            await self.drives_manager.forget(self._real_id(drive_id))
        except NotFormattableError as exc:
            raise ws.ServiceError(str(exc), "conflict") from exc

    async def estimate(self, drive_id: str, size_bytes: int) -> ws.PlanView:
        return await self._plan(drive_id, size_bytes, commit=False)

    async def allocate(self, drive_id: str, size_bytes: int) -> ws.PlanView:
        return await self._plan(drive_id, size_bytes, commit=True)

    async def _plan(self, drive_id: str, size_bytes: int, commit: bool) -> ws.PlanView:
        real = self._real_id(drive_id)
        try:
            plan: Plan = await (self.jobs.allocate if commit else self.jobs.estimate)(real, size_bytes)
        except NotReadyError as exc:
            raise ws.ServiceError(str(exc), "conflict") from exc
        except (PlanLockedError, ResizeError) as exc:
            raise ws.ServiceError(str(exc), "conflict") from exc
        except NoSpaceError as exc:
            raise ws.ServiceError(str(exc), "invalid") from exc
        except OSError as exc:  # the drive went away (unplugged, unmounted) between the list and now
            raise ws.ServiceError(f"drive {drive_id} cannot be read ({exc.strerror or exc}); "
                                  "plug it back in and try again", "conflict") from exc
        return ws.PlanView(drive_id=drive_id, size_bytes=plan.bytes_total, num_units=plan.num_units,
                           labels_per_second=plan.labels_per_second or 0.0,
                           eta_seconds=plan.eta_seconds or 0.0, shared_with=plan.shared_with)
