"""Whether a verified manifest may be installed on this box — decided before any byte is
downloaded or written: compatible, strictly newer, security epoch not below the stored one, and
enough free space for the bundle."""

from __future__ import annotations

import shutil
from pathlib import Path

from appliance.ota.config import RunningRelease
from appliance.ota.errors import CompatibleError, NotNewerError, SecurityEpochError, SpaceError
from appliance.ota.manifest import Manifest, parse_version


def check_release(
    manifest: Manifest,
    running: RunningRelease,
    stored_epoch: int,
    download_dir: Path,
    margin: int,
    already_downloaded: int = 0,
) -> None:
    if manifest.compatible != running.compatible:
        raise CompatibleError(
            f"release is for {manifest.compatible!r}, this box is {running.compatible!r}"
        )
    if parse_version(manifest.version) <= parse_version(running.version):
        raise NotNewerError(f"release {manifest.version} is not newer than running {running.version}")
    floor = max(stored_epoch, running.security_epoch)
    if manifest.security_epoch < floor:
        raise SecurityEpochError(
            f"release security epoch {manifest.security_epoch} is below this box's {floor}"
        )
    free = shutil.disk_usage(download_dir).free
    needed = manifest.bundle_size - already_downloaded + margin
    if free < needed:
        raise SpaceError(f"need {needed} bytes free in {download_dir}, have {free}")
