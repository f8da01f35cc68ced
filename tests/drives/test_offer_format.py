"""Attach real loop devices to a running DriveManager: detected, offered, formatted only after an
exact confirmation; foreign, read-only, unknown and dirty drives get a clear state and keep their data."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from appliance.drives import probe
from appliance.drives.errors import ConfirmationMismatchError, NotFormattableError
from appliance.drives.model import Confirmation, DriveState

pytestmark = pytest.mark.root


def _by_dev(drives, dev):  # type: ignore[no-untyped-def]
    return next((s for s in drives.snapshot() if s.devnode == dev), None)


async def test_blank_drive_is_offered_then_formatted_after_confirmation(loops, drives, wait_for) -> None:
    await drives.start()
    image = loops.image("blank.img")
    dev = loops.attach(image)
    await wait_for(lambda: _by_dev(drives, dev) is not None, "the uevent of the new loop device")
    await wait_for(lambda: _by_dev(drives, dev).state is DriveState.OFFERED, "the drive to be offered")
    shot = _by_dev(drives, dev)
    assert (shot.bus, shot.model, shot.serial, shot.size) == ("loop", "Loop device", "blank.img", 48 << 20)
    assert "empty" in shot.reason

    with pytest.raises(ConfirmationMismatchError, match=r"serial 'blank\.img'"):
        await drives.format(shot.id, Confirmation(shot.model, "other.img", shot.size))
    with pytest.raises(ConfirmationMismatchError):
        await drives.format(shot.id, Confirmation(shot.model, shot.serial, shot.size - 512))
    assert probe.blkid(dev) == {}, "a refused format must not touch the drive"

    after = await drives.format(shot.id, Confirmation(shot.model, shot.serial, shot.size))
    assert after.state is DriveState.ACTIVE, after.reason
    fs = probe.blkid(dev)
    assert fs["TYPE"] == "ext4" and fs["LABEL"] == "SMESHBOX"
    assert after.id == fs["UUID"] and after.mountpoint == str(loops.state / "drives" / fs["UUID"])
    line = next(x for x in Path("/proc/self/mounts").read_text().splitlines() if f" {after.mountpoint} " in x)
    assert "noatime" in line.split()[3] and "rw" in line.split()[3].split(",")
    reserved = subprocess.run(["tune2fs", "-l", dev], capture_output=True, text=True).stdout
    assert "Reserved block count:     0" in reserved
    volume = drives.listener.ready[-1]
    assert not volume.has_data and volume.datadir == Path(after.mountpoint) / "smeshbox"
    assert (loops.state / "identities" / f"{volume.identity}.key").is_file()
    with pytest.raises(NotFormattableError, match="active"):
        await drives.format(after.id, Confirmation(shot.model, shot.serial, shot.size))


async def test_foreign_filesystem_is_offered_and_left_intact(loops, drives, wait_for) -> None:
    image = loops.image("foreign.img", mkfs=True, label="HOLIDAYS")
    dev = loops.attach(image)
    mnt = loops.folder / "m"
    mnt.mkdir()
    subprocess.run(["mount", dev, str(mnt)], check=True)
    (mnt / "photo.jpg").write_bytes(b"\xff\xd8 precious")
    subprocess.run(["umount", str(mnt)], check=True)
    await drives.start()
    await wait_for(lambda: _by_dev(drives, dev) is not None, "the initial scan")
    shot = _by_dev(drives, dev)
    # what erasing would destroy: file system, label, used space, items
    assert shot.state is DriveState.OFFERED and "ext4 'HOLIDAYS', " in shot.reason, shot.reason
    assert re.search(r"\d+ MiB used, 1 item\(s\) at the top", shot.reason), shot.reason
    assert not drives.listener.ready
    assert not any(str(loops.state) in x for x in Path("/proc/self/mounts").read_text().splitlines())
    subprocess.run(["mount", "-o", "ro", dev, str(mnt)], check=True)
    try:
        assert (mnt / "photo.jpg").read_bytes() == b"\xff\xd8 precious"
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


async def test_read_only_drive_cannot_be_formatted(loops, drives, wait_for) -> None:
    image = loops.image("ro.img")
    dev = loops.attach(image, read_only=True)
    await drives.start()
    await wait_for(lambda: _by_dev(drives, dev) is not None, "the initial scan")
    shot = _by_dev(drives, dev)
    assert shot.read_only and shot.state is DriveState.OFFERED
    with pytest.raises(NotFormattableError, match="read-only"):
        await drives.format(shot.id, Confirmation(shot.model, shot.serial, shot.size))


async def test_unknown_filesystem_is_offered_with_its_type(loops, drives, wait_for) -> None:
    image = loops.image("swap.img", size=16 << 20)
    subprocess.run(["mkswap", str(image)], check=True, capture_output=True)
    dev = loops.attach(image)
    await drives.start()
    await wait_for(lambda: _by_dev(drives, dev) is not None, "the initial scan")
    shot = _by_dev(drives, dev)
    assert shot.state is DriveState.OFFERED and "swap" in shot.reason


async def test_dirty_filesystem_needing_manual_fsck_is_not_mounted(loops, drives, wait_for) -> None:
    image = loops.image("dirty.img", mkfs=True, label="SMESHBOX")
    # Clear the root directory's inode: e2fsck -p refuses to fix that unattended (exit 4).
    for request in ("clri <2>", "ssv state 2"):  # and mark the filesystem as having errors
        subprocess.run(["debugfs", "-w", "-R", request, str(image)], check=True, capture_output=True)
    uuid = probe.blkid(str(image))["UUID"]
    dev = loops.attach(image)
    await drives.start()
    await wait_for(lambda: _by_dev(drives, dev) is not None, "the initial scan")
    shot = _by_dev(drives, dev)
    assert shot.state is DriveState.ERROR and "manual repair" in shot.reason, shot.reason
    assert not drives.listener.ready
    assert probe.blkid(dev)["UUID"] == uuid
    assert not any(str(loops.state) in x for x in Path("/proc/self/mounts").read_text().splitlines())
    check = subprocess.run(["e2fsck", "-n", dev], capture_output=True, text=True)
    assert check.returncode >= 4 and "Root inode is not a directory" in check.stdout + check.stderr


async def test_loop_devices_outside_the_allowed_folders_are_ignored(loops, drives, tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere.img"
    with open(elsewhere, "wb") as handle:
        handle.truncate(8 << 20)
    loops.images.append(elsewhere)
    dev = loops.attach(elsewhere)
    await drives.start()
    assert _by_dev(drives, dev) is None
    assert not probe.is_candidate(os.path.basename(dev), [str(loops.folder)], set())


def test_system_disk_is_never_a_candidate() -> None:
    mounts = probe.mountinfo()
    system = probe.system_disks(mounts)
    for name in system:
        assert not probe.is_candidate(name, [], system)
    assert probe.mountinfo("/nonexistent") == {}
