"""The install policy: refusals are decided from the manifest alone, before any download."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.ota.config import RunningRelease
from appliance.ota.errors import CompatibleError, NotNewerError, SecurityEpochError, SpaceError
from appliance.ota.manifest import Manifest
from appliance.ota.policy import check_release

RUNNING = RunningRelease("1.0.0", "box", security_epoch=3)


def release(**changes: object) -> Manifest:
    base = dict(version="1.1.0", compatible="box", bundle_name="b.raucb", bundle_sha256="ab" * 32,
                bundle_size=1000, security_epoch=3, notes="")
    base.update(changes)
    return Manifest(**base)  # type: ignore[arg-type]


def test_newer_compatible_release_with_space_passes(tmp_path: Path) -> None:
    check_release(release(), RUNNING, 3, tmp_path, margin=0)


@pytest.mark.parametrize(
    ("changes", "stored", "error"),
    [
        ({"compatible": "other-box"}, 0, CompatibleError),
        ({"version": "1.0.0"}, 0, NotNewerError),
        ({"version": "0.9.9"}, 0, NotNewerError),
        ({"version": "1.0"}, 0, NotNewerError),
        ({"security_epoch": 2}, 0, SecurityEpochError),  # below the running root's epoch
        ({"security_epoch": 4}, 5, SecurityEpochError),  # below the stored epoch
    ],
)
def test_refusals(tmp_path: Path, changes: dict, stored: int, error: type[Exception]) -> None:
    with pytest.raises(error):
        check_release(release(**changes), RUNNING, stored, tmp_path, margin=0)


def test_not_enough_space_counts_what_is_already_downloaded(tmp_path: Path) -> None:
    import shutil

    free = shutil.disk_usage(tmp_path).free
    huge = release(bundle_size=free + 10**9)
    with pytest.raises(SpaceError, match="need"):
        check_release(huge, RUNNING, 0, tmp_path, margin=0)
    check_release(huge, RUNNING, 0, tmp_path, margin=0, already_downloaded=huge.bundle_size - 1000)
