"""Health check: a data drive that was pulled (``missing``) or cannot be used (``error``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from appliance.drives.model import DriveSnapshot, DriveState
from appliance.health.model import Finding, Severity


def _name(drive: DriveSnapshot) -> str:
    return " ".join(x for x in (drive.model, drive.serial) if x) or drive.id


def drive_check(snapshot: Callable[[], Iterable[DriveSnapshot]]) -> Callable[[], list[Finding]]:
    def check() -> list[Finding]:
        found = []
        for drive in snapshot():
            if drive.state is DriveState.MISSING:
                found.append(Finding(
                    f"drive-missing:{drive.id}", "drives", Severity.ERROR,
                    f"drive {_name(drive)} is not there: {drive.reason or 'unplugged'}",
                    "plug the drive in again (same port or another); its work resumes where it stopped"))
            elif drive.state is DriveState.ERROR:
                found.append(Finding(
                    f"drive-error:{drive.id}", "drives", Severity.ERROR,
                    f"drive {_name(drive)} cannot be used: {drive.reason}",
                    "follow the drive's message on the Drives card; nothing on it was changed"))
        return found

    return check
