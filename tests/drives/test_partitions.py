"""A disk with several partitions: the one holding PoST data is adopted, the others are left alone;
complete data on read-only media is adopted read-only (proving only reads)."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from appliance.drives.model import DriveState
from appliance.node.identity import generate
from appliance.post.initializer import Initializer
from appliance.post.metadata import PostMetadata

pytestmark = pytest.mark.root

SECTOR = 512


def _write_mbr(image: Path, parts: list[tuple[int, int]]) -> None:
    """A DOS partition table: (first sector, sector count) per Linux (0x83) partition."""
    table = b"".join(struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", start, count)
                     for start, count in parts)
    with open(image, "r+b") as handle:
        handle.seek(446)
        handle.write(table.ljust(64, b"\0") + b"\x55\xaa")


def _prepare_post(dev: str, mnt: Path, name: str) -> bytes:
    mnt.mkdir(exist_ok=True)
    subprocess.run(["mount", dev, str(mnt)], check=True)
    try:
        identity = generate(name)
        Initializer(mnt / "smeshbox", PostMetadata(identity.node_id, b"\x07" * 32, 64, 2, 1024), 16).run()
        (mnt / "smeshbox" / f"{name}.key").write_text(identity.key_file_text())
        return identity.node_id
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def _attach_partitioned(loops, image: Path) -> str:  # type: ignore[no-untyped-def]
    dev = loops.attach(image, partscan=True)
    if not Path(f"/sys/class/block/{dev[5:]}p1").exists():
        # A kernel built without partition parsers (CONFIG_MSDOS_PARTITION unset, as on some VMs):
        # util-linux's partx reads the table and adds the partitions with BLKPG, as udev would.
        subprocess.run(["partx", "-a", dev], check=True, capture_output=True)
    return dev


async def test_post_data_on_the_second_partition_is_adopted(loops, drives) -> None:
    image = loops.image("two.img", size=64 << 20)
    _write_mbr(image, [(2048, 32768), (34816, 96256)])
    dev = _attach_partitioned(loops, image)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "PHOTOS", f"{dev}p1"], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", f"{dev}p2"], check=True)
    node_id = _prepare_post(f"{dev}p2", loops.folder / "m", "two")
    await drives.start()
    shot = next(s for s in drives.snapshot() if s.devnode == dev)
    assert shot.state is DriveState.ACTIVE and shot.node_id == node_id.hex(), shot.reason
    assert [p["name"] for p in shot.partitions] == [f"{dev[5:]}p1", f"{dev[5:]}p2"]
    p2_uuid = subprocess.run(["blkid", "-p", "-s", "UUID", "-o", "value", f"{dev}p2"],
                             capture_output=True, text=True).stdout.strip()
    assert shot.id == p2_uuid and shot.mountpoint == str(loops.state / "drives" / p2_uuid)
    mounted = Path("/proc/self/mounts").read_text()
    assert f"{dev}p2 " in mounted and f"{dev}p1 " not in mounted


async def test_partitions_without_post_data_are_offered_with_what_is_on_them(loops, drives) -> None:
    image = loops.image("parts.img", size=64 << 20)
    _write_mbr(image, [(2048, 32768), (34816, 96256)])
    dev = _attach_partitioned(loops, image)
    subprocess.run(["mkfs.ext4", "-q", "-F", f"{dev}p1"], check=True)
    await drives.start()
    shot = next(s for s in drives.snapshot() if s.devnode == dev)
    assert shot.state is DriveState.OFFERED and len(shot.partitions) == 2
    assert f"{dev[5:]}p1: ext4 'no label', " in shot.reason and "0 item(s)" in shot.reason, shot.reason
    assert not drives.listener.ready


async def test_complete_data_on_read_only_media_is_adopted_read_only(loops, drives) -> None:
    image = loops.image("ro-data.img", mkfs=True)
    rw = loops.attach(image)
    node_id = _prepare_post(rw, loops.folder / "r", "ro")
    subprocess.run(["losetup", "-d", rw], check=True)
    dev = loops.attach(image, read_only=True)
    await drives.start()
    shot = next(s for s in drives.snapshot() if s.devnode == dev)
    assert shot.state is DriveState.ACTIVE and shot.read_only and shot.node_id == node_id.hex()
    assert drives.listener.ready[-1].read_only
    line = next(x for x in Path("/proc/self/mounts").read_text().splitlines() if x.startswith(f"{dev} "))
    assert "ro" in line.split()[3].split(",")
