"""What the drive manager hands the job manager: one mounted dataset per drive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from appliance.post.dataset import PostDataset

DATA_SUBDIR = "smeshbox"


@dataclass(frozen=True)
class Volume:
    drive_id: str  # the filesystem UUID: stable across replugs and device renames
    mountpoint: Path
    dataset: PostDataset  # the data on the drive (or the folder where it will be made)
    identity: str  # name in the identity store (<state>/identities/<name>.key)
    node_id: bytes
    read_only: bool
    has_data: bool  # metadata present (adopted) vs. a fresh dataset to create

    @property
    def datadir(self) -> Path:
        return self.dataset.datadir


class VolumeListener(Protocol):
    """Implemented by the job manager. ``volume_lost`` returns once the drive's job has let go of
    every file on it, so the drive can be unmounted."""

    async def volume_ready(self, volume: Volume) -> None: ...

    async def volume_lost(self, drive_id: str, reason: str) -> None: ...


def find_dataset(top: Path) -> PostDataset | None:
    """PoST data sits at the top of the filesystem or in ``smeshbox/``."""
    for candidate in (PostDataset(top / DATA_SUBDIR), PostDataset(top)):
        if candidate.has_metadata():
            return candidate
    return None


def user_files(top: Path) -> list[str]:
    """Entries on a filesystem other than what mkfs or the box itself put there."""
    try:
        return sorted(e for e in (p.name for p in top.iterdir()) if e not in {"lost+found", DATA_SUBDIR})
    except OSError:
        return ["<unreadable>"]
