"""Plain typed state of the drives, as the web API, the job manager and the node read it.

All dataclasses are JSON-serialisable via ``dataclasses.asdict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class DriveState(StrEnum):
    OFFERED = "offered"  # empty or foreign: may be formatted after an explicit confirmation
    FORMATTING = "formatting"
    CHECKING = "checking"  # fsck / mount / metadata + sampled data check running
    ACTIVE = "active"  # mounted, dataset known: initializing or proving (see the job)
    MISSING = "missing"  # known drive, unplugged or failed: its job is paused
    ERROR = "error"  # cannot be used as it is; ``reason`` says why and what to do


@dataclass(frozen=True)
class Partition:
    name: str  # kernel name, e.g. "sdb1"
    size: int  # bytes
    fs_type: str | None
    fs_uuid: str | None
    fs_label: str | None
    mountpoints: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlockInfo:
    """What probing one whole disk found (the disk itself plus its partitions)."""

    name: str  # kernel name: "sdb", "nvme0n1", "loop3"
    devnode: str  # "/dev/sdb"
    devno: str  # "8:16"
    bus: str  # "usb", "sata", "nvme", "loop", "mmc", "virtio", "other"
    model: str
    serial: str
    size: int  # bytes
    read_only: bool
    fs_type: str | None  # filesystem on the whole disk (unpartitioned), if any
    fs_uuid: str | None
    fs_label: str | None
    pt_type: str | None  # "gpt", "dos" or None
    partitions: tuple[Partition, ...] = ()
    mountpoints: tuple[str, ...] = ()
    backing_file: str | None = None  # loop devices only
    wwn: str = ""  # World Wide Name (SCSI/ATA/NVMe), when the device reports one


@dataclass
class DriveSnapshot:
    """One drive as shown to a person. ``id`` is stable across replugs (the fs UUID once known)."""

    id: str
    state: DriveState
    reason: str = ""
    devnode: str | None = None
    bus: str = ""
    model: str = ""
    serial: str = ""
    size: int = 0
    read_only: bool = False
    fs_type: str | None = None
    fs_uuid: str | None = None
    mountpoint: str | None = None
    datadir: str | None = None
    node_id: str | None = None  # hex, once a dataset/identity belongs to the drive
    identity: str | None = None
    free_bytes: int | None = None
    partitions: list[dict[str, object]] = field(default_factory=list)
    wwn: str = ""
    devno: str = ""  # "major:minor" while plugged in: tells apart two drives with the same serial
    merge_folders: list[str] = field(default_factory=list)  # PoST pieces an offered drive holds


@dataclass
class Confirmation:
    """What a person must name to format a drive: exactly what the box shows for it. The drive id
    it is sent for names one plugged-in instance (see ``DriveManager.format``)."""

    model: str
    serial: str
    size: int
