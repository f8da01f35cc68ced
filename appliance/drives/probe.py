"""Probing block devices without udevd: sysfs for the hardware facts, ``blkid -p`` (low-level probe,
no cache) for filesystems, ``/proc/self/mountinfo`` for mounts. When udevd runs, its properties
(``ID_MODEL``, ``ID_SERIAL_SHORT``, ``ID_FS_*``) are passed in and preferred.

Which disks are candidates at all (:func:`is_candidate`): sd*, nvme*n*, vd*, mmcblk*, and loop
devices only when their backing file lies under an allowed folder — a box mounts RAUC bundles and
images through loop devices that must never be offered for formatting. The disk(s) holding ``/``
and ``/boot`` (the box's own SD card or SSD) are never candidates.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from appliance.drives.model import BlockInfo, Partition

SYS_BLOCK = Path("/sys/class/block")
_DISK_RE = re.compile(r"^(sd[a-z]+|nvme\d+n\d+|vd[a-z]+|mmcblk\d+|loop\d+)$")
_SYSTEM_MOUNTS = ("/", "/boot", "/boot/firmware", "/boot/efi")


def _read(path: Path, default: str = "") -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return default


def mountinfo(path: str = "/proc/self/mountinfo") -> dict[str, list[str]]:
    """Maps "major:minor" to the mount points of that device (octal escapes decoded)."""
    mounts: dict[str, list[str]] = {}
    for line in _read(Path(path)).splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
        mounts.setdefault(fields[2], []).append(point)
    return mounts


def parent_disk(name: str) -> str:
    """The whole-disk kernel name of a partition (or the name itself for a disk)."""
    sys_path = SYS_BLOCK / name
    if (sys_path / "partition").exists():
        return Path(os.path.realpath(sys_path)).parent.name
    return name


def system_disks(mounts: Mapping[str, list[str]] | None = None) -> set[str]:
    """Kernel names of the disks that hold the running system (never offered, never touched)."""
    mounts = mountinfo() if mounts is None else mounts
    wanted = {devno for devno, points in mounts.items() if any(p in _SYSTEM_MOUNTS for p in points)}
    disks: set[str] = set()
    if SYS_BLOCK.is_dir():
        for entry in SYS_BLOCK.iterdir():
            if _read(entry / "dev") in wanted:
                disks.add(parent_disk(entry.name))
    return disks


def _bus(name: str) -> str:
    real = os.path.realpath(SYS_BLOCK / name)
    if "/virtual/block/loop" in real:
        return "loop"
    for marker, bus in (("/usb", "usb"), ("/nvme", "nvme"), ("/ata", "sata"), ("/mmc", "mmc"),
                        ("/virtio", "virtio")):
        if marker in real:
            return bus
    return "other"


def _usb_serial(name: str) -> str:
    """The USB serial of the device a disk hangs off: walk up sysfs to the first ``serial`` file."""
    path = Path(os.path.realpath(SYS_BLOCK / name))
    while path != path.parent and path.name != "devices":
        serial = _read(path / "serial")
        if serial and (path / "idVendor").exists():
            return serial
        path = path.parent
    return ""


def _model_serial(name: str, bus: str, backing: str | None, udev: Mapping[str, str]) -> tuple[str, str]:
    if udev.get("ID_MODEL") or udev.get("ID_SERIAL_SHORT"):
        return udev.get("ID_MODEL", "").replace("_", " ").strip(), udev.get("ID_SERIAL_SHORT", "")
    dev = SYS_BLOCK / name / "device"
    if bus == "loop":
        # A loop device has no hardware serial; its backing file is what identifies it to a person.
        return "Loop device", os.path.basename(backing or "") or name
    vendor = _read(dev / "vendor")
    model = " ".join(x for x in (vendor, _read(dev / "model")) if x) or _read(dev / "name")
    serial = _read(dev / "serial") or (_usb_serial(name) if bus == "usb" else "")
    if not serial:
        vpd = _read(dev / "vpd_pg80")
        serial = "".join(ch for ch in vpd if ch.isprintable()).strip()
    return model or "Unknown disk", serial


def blkid(devnode: str) -> dict[str, str]:
    """``blkid -p`` low-level probe: TYPE/UUID/LABEL/PTTYPE; {} when nothing is recognised."""
    try:
        proc = subprocess.run(
            ["blkid", "-p", "-o", "export", devnode], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if proc.returncode not in (0,):
        return {}
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def _fs_props(devnode: str, udev: Mapping[str, str]) -> dict[str, str]:
    if udev.get("ID_FS_TYPE") or udev.get("ID_PART_TABLE_TYPE"):
        return {
            "TYPE": udev.get("ID_FS_TYPE", ""),
            "UUID": udev.get("ID_FS_UUID", ""),
            "LABEL": udev.get("ID_FS_LABEL", ""),
            "PTTYPE": udev.get("ID_PART_TABLE_TYPE", ""),
        }
    return blkid(devnode)


def _sectors(name: str) -> int:
    try:
        return int(_read(SYS_BLOCK / name / "size", "0")) * 512
    except ValueError:
        return 0


def is_candidate(name: str, allowed_loop_dirs: Iterable[str], system: set[str]) -> bool:
    if not _DISK_RE.match(name) or name in system or not (SYS_BLOCK / name).exists():
        return False
    if name.startswith("loop"):
        backing = _read(SYS_BLOCK / name / "loop/backing_file")
        if not backing:
            return False
        real = os.path.realpath(backing)
        return any(real.startswith(os.path.realpath(d).rstrip("/") + "/") for d in allowed_loop_dirs)
    return True


def probe(name: str, udev: Mapping[str, str] | None = None,
          mounts: Mapping[str, list[str]] | None = None) -> BlockInfo | None:
    """Everything about one whole disk, or None when it has vanished / has no media."""
    udev = udev or {}
    mounts = mountinfo() if mounts is None else mounts
    base = SYS_BLOCK / name
    size = _sectors(name)
    if not base.exists() or size == 0:
        return None
    devnode = f"/dev/{name}"
    bus = _bus(name)
    backing = _read(base / "loop/backing_file") or None
    model, serial = _model_serial(name, bus, backing, udev)
    fs = _fs_props(devnode, udev)
    devno = _read(base / "dev")
    parts = []
    for entry in sorted(base.iterdir()):
        if (entry / "partition").exists():
            pfs = blkid(f"/dev/{entry.name}")
            parts.append(Partition(
                name=entry.name, size=_sectors(entry.name), fs_type=pfs.get("TYPE") or None,
                fs_uuid=pfs.get("UUID") or None, fs_label=pfs.get("LABEL") or None,
                mountpoints=tuple(mounts.get(_read(entry / "dev"), ())),
            ))
    return BlockInfo(
        name=name, devnode=devnode, devno=devno, bus=bus, model=model, serial=serial, size=size,
        read_only=_read(base / "ro") == "1", fs_type=fs.get("TYPE") or None,
        fs_uuid=fs.get("UUID") or None, fs_label=fs.get("LABEL") or None,
        pt_type=fs.get("PTTYPE") or None, partitions=tuple(parts),
        mountpoints=tuple(mounts.get(devno, ())), backing_file=backing,
    )


def devno(name: str) -> str:
    """"major:minor" of a block device (disk or partition), "" when it is gone."""
    return _read(SYS_BLOCK / name / "dev")


def loop_detach_requested(name: str) -> bool:
    """``losetup -d`` on a busy loop device only sets autoclear: the device goes once unmounted.

    We never set autoclear on drives ourselves, so seeing it means a person asked for the device to
    go — the loop-device equivalent of pulling a USB drive.
    """
    return name.startswith("loop") and _read(SYS_BLOCK / name / "loop/autoclear") == "1"


def list_disks() -> list[str]:
    if not SYS_BLOCK.is_dir():
        return []
    return sorted(e.name for e in SYS_BLOCK.iterdir() if _DISK_RE.match(e.name))
