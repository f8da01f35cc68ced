"""``run --dev`` drives: two file-backed drives so a developer's machine behaves like a box.

As root they are real loop devices over ``<state>/dev-drives/drive-{a,b}.img``, seen by the drive
manager through the same uevents and probing as a USB drive (the images are created formatted as
``SMESHBOX`` — making the file is the consent — so init starts at once). Without root they are
plain folders handed straight to the job manager.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os

from appliance.config import DaemonConfig, PostSettings, StateLayout
from appliance.drives import loopdev, ops
from appliance.drives.volume import DATA_SUBDIR, Volume, VolumeListener
from appliance.node.identity import IdentityStore
from appliance.post.dataset import PostDataset

log = logging.getLogger(__name__)

NAMES = ("drive-a", "drive-b")
IMAGE_SIZE = 96 << 20
# Small PoST so progress shows within seconds and a drive completes within minutes on a laptop:
# the --dev devnet's chain (``appliance.wiring.dev_network``) is made with these two.
DEV_LABELS_PER_UNIT = 1 << 16
DEV_SCRYPT_N = 2048
DEV_POST = PostSettings(max_file_size=4 << 20, free_margin=8 << 20, max_units=8, threads=1)


def dev_config(config: DaemonConfig, layout: StateLayout) -> DaemonConfig:
    return dataclasses.replace(
        config, listen_host="127.0.0.1", listen_port=8080, post=DEV_POST,
        loop_backing_dirs=[*config.loop_backing_dirs, str(layout.dev_drives)],
    )


class DevDrives:
    def __init__(self, layout: StateLayout, jobs: VolumeListener, use_loop: bool | None = None) -> None:
        self.layout = layout
        self.jobs = jobs
        self.use_loop = (os.geteuid() == 0) if use_loop is None else use_loop
        self._attached: list[str] = []

    async def attach(self) -> None:
        """Creates and attaches the images (root), before the drive manager's first scan."""
        self.layout.dev_drives.mkdir(parents=True, exist_ok=True)
        if not self.use_loop:
            return
        for name in NAMES:
            image = self.layout.dev_drives / f"{name}.img"
            if not image.exists():
                tmp = image.with_suffix(".tmp")
                with open(tmp, "wb") as handle:
                    handle.truncate(IMAGE_SIZE)
                await asyncio.to_thread(ops.format_whole_disk, str(tmp))
                os.replace(tmp, image)
            if not await asyncio.to_thread(loopdev.attached, image):
                dev = await asyncio.to_thread(loopdev.attach, image)
                self._attached.append(dev)
                log.info("dev drive %s attached as %s", image.name, dev)

    async def start(self) -> None:
        """Without root: plain folders, handed to the job manager as drives."""
        if self.use_loop:
            return
        store = IdentityStore(self.layout.identities)
        for name in NAMES:
            top = self.layout.dev_drives / name
            (top / DATA_SUBDIR).mkdir(parents=True, exist_ok=True)
            ident = f"dev-{name}"
            identity = store.load(ident) if store.exists(ident) else store.generate(ident)
            dataset = PostDataset(top / DATA_SUBDIR)
            await self.jobs.volume_ready(Volume(
                drive_id=f"dev-{name}", mountpoint=top, dataset=dataset, identity=ident,
                node_id=identity.node_id, read_only=False, has_data=dataset.has_metadata(),
            ))

    async def stop(self) -> None:
        """Detaches the loop devices this run attached (the drive manager unmounted them)."""
        for dev in self._attached:
            try:
                await asyncio.to_thread(loopdev.detach, dev)
            except OSError as exc:
                log.warning("%s", exc)
        # A device still open somewhere is only marked autoclear by `losetup -d`; the kernel lets go
        # of it once the last user closes it. Wait a little for that so the next run starts clean.
        images = [self.layout.dev_drives / f"{name}.img" for name in NAMES]
        for _ in range(50):
            if not any(await asyncio.to_thread(lambda: [loopdev.attached(i) for i in images])):
                break
            await asyncio.sleep(0.1)
        else:
            log.warning("dev loop devices are still attached (in use elsewhere?)")
        self._attached.clear()
