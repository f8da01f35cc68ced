"""Real loop devices for the drive tests, cleaned up even when a test fails."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from appliance.config import StateLayout
from appliance.drives import loopdev
from appliance.drives.manager import DriveManager
from appliance.drives.volume import Volume
from appliance.events import EventBus

NEEDED = ("losetup", "mkfs.ext4", "blkid", "wipefs", "e2fsck", "mount", "umount", "debugfs", "tune2fs",
          "mkswap", "partx", "fallocate")


def require_root_tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (loop devices and mounts)")
    missing = [t for t in NEEDED if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)} (scripts/apt/drives.txt)")
    if not Path("/dev/loop-control").exists():
        pytest.skip("no /dev/loop-control: the kernel has no loop device support here")


class Loops:
    """Creates image files and attaches them; ``cleanup`` unmounts and detaches everything."""

    def __init__(self, folder: Path, state: Path) -> None:
        self.folder, self.state = folder, state
        self.images: list[Path] = []

    def image(self, name: str, size: int = 48 << 20, mkfs: bool = False, label: str | None = None) -> Path:
        path = self.folder / name
        with open(path, "wb") as handle:
            handle.truncate(size)
        if mkfs:
            argv = ["mkfs.ext4", "-q", "-F"] + (["-L", label] if label else [])
            subprocess.run([*argv, str(path)], check=True)
        self.images.append(path)
        return path

    def attach(self, image: Path, **kw: bool) -> str:
        return loopdev.attach(image, **kw)

    def cleanup(self) -> None:
        devices = []  # found first: an image on a tmpfs below folder is unreachable once unmounted
        for image in self.images:
            with contextlib.suppress(OSError):
                devices += loopdev.attached(image)
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        for line in reversed(mounts):
            point = line.split()[1]
            if point.startswith(str(self.state)) or point.startswith(str(self.folder)):
                subprocess.run(["umount", "-l", point], capture_output=True)
        for dev in devices:
            subprocess.run(["losetup", "-d", dev], capture_output=True)


@pytest.fixture
def loops(tmp_path: Path) -> Iterator[Loops]:
    require_root_tools()
    state = tmp_path / "state"
    helper = Loops(tmp_path / "img", state)
    helper.folder.mkdir()
    try:
        yield helper
    finally:
        helper.cleanup()


class Recorder:
    """Stands in for the job manager: records what the drive manager hands over."""

    def __init__(self) -> None:
        self.ready: list[Volume] = []
        self.lost: list[tuple[str, str]] = []

    async def volume_ready(self, volume: Volume) -> None:
        self.ready.append(volume)

    async def volume_lost(self, drive_id: str, reason: str) -> None:
        self.lost.append((drive_id, reason))


@pytest.fixture
async def drives(loops: Loops) -> AsyncIterator[DriveManager]:
    layout = StateLayout(loops.state)
    manager = DriveManager(layout, EventBus(), Recorder(), allowed_loop_dirs=[loops.folder],
                           poll_interval=0.2)
    yield manager
    await manager.stop()


async def _wait_for(predicate: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Polls ``predicate`` until true (event-driven code settles asynchronously); fails naming ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
def wait_for() -> Callable[[Callable[[], object], str], Awaitable[None]]:
    return _wait_for
