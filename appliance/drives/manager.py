"""DriveManager: turns block-device events into drives a person can use, and hands mounted
datasets to the job manager.

Policy:

* a filesystem with ``postdata_metadata.json`` (top or ``smeshbox/``) is **adopted**: fsck'd (ext),
  mounted at ``<state>/drives/<fs-uuid>`` with ``noatime``, its NodeId matched to an identity the
  box has — or to a go-spacemesh ``*.key`` beside the data, which is then imported — and handed to
  the job manager (which runs the sampled data check, then init or proving);
* an empty ``SMESHBOX`` filesystem (the box formatted it) is claimed: a new identity, a new dataset;
* anything else is only **offered**; :meth:`DriveManager.format` wipes it only when the confirmation
  names its model, serial and size exactly. Drives holding PoST data are never formatted.
* unplug (remove uevent, media gone, or ``losetup -d`` on a busy loop device) or an I/O error: the
  job is paused first, then the stale mount detached, and the drive shows as ``missing``; a replug
  with the same filesystem UUID resumes it.

Every decision is visible as a :class:`DriveSnapshot` with a user-facing ``reason``; changes are
published on the event bus under topic ``"drives"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from appliance.aio import cancel_and_wait
from appliance.config import StateLayout
from appliance.drives import merge_offer, ops, probe
from appliance.drives.errors import (
    ConfirmationMismatchError,
    DriveError,
    NotFormattableError,
    ToolError,
    UnknownDriveError,
)
from appliance.drives.merge_offer import Pieces
from appliance.drives.model import BlockInfo, Confirmation, DriveSnapshot, DriveState
from appliance.drives.monitor import BlockEvent, BlockMonitor, udev_properties
from appliance.drives.volume import (
    DATA_SUBDIR,
    Volume,
    VolumeListener,
    find_dataset,
    user_files,
)
from appliance.events import EventBus, Topic
from appliance.node.identity import IdentityError, IdentityStore, load_key_file
from appliance.post.dataset import PostDataset
from appliance.post.metadata import MetadataError
from appliance.system.files import atomic_write_json

log = logging.getLogger(__name__)

_MOUNTABLE = {"ext4", "ext3", "ext2", "vfat", "exfat", "ntfs", "ntfs3", "xfs", "btrfs", "f2fs"}


@dataclass
class _Drive:
    name: str  # kernel name of the whole disk
    info: BlockInfo
    state: DriveState
    reason: str = ""
    fs_uuid: str | None = None
    volume_dev: str | None = None  # the device (disk or partition) holding the dataset
    volume: Volume | None = None
    free_bytes: int | None = None  # refreshed by the poll loop: snapshots never touch the disk
    pieces: tuple[str, str, str, Pieces] | None = None  # (dev, fs type, fs uuid, what): merge offer

    @property
    def id(self) -> str:
        """The filesystem UUID once known (stable across replugs); before that the plugged-in
        instance: two drives that report the same model, serial and size (cheap USB bridges do)
        still differ in WWN or device number, so a confirmation can only ever name one of them."""
        if self.fs_uuid:
            return self.fs_uuid
        instance = hashlib.blake2b(f"{self.info.wwn}|{self.info.devnode}|{self.info.devno}".encode(),
                                   digest_size=4).hexdigest()
        return f"disk-{self.info.bus}-{self.info.serial or self.name}-{instance}"


def _metadata_node_id(dataset: PostDataset) -> bytes:
    """NodeId of the dataset, from its validated metadata."""
    try:
        return dataset.node_id()
    except MetadataError as exc:
        raise DriveError(f"the PoST metadata is unreadable or malformed: {exc}") from exc


def _pieces(top: Path) -> Pieces | None:
    try:
        return merge_offer.describe(top, merge_offer.find_pieces(top))
    except OSError as exc:  # an unreadable folder: the drive is offered as it is
        log.warning("looking for PoST pieces on %s: %s", top, exc)
        return None


def _size_words(n: int | None) -> str:
    if n is None:
        return "unknown space"
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


def _free_bytes(path: Path, which: str = "free") -> int | None:
    try:
        return getattr(shutil.disk_usage(path), which)
    except OSError:
        return None


class DriveManager:
    """Owns every data drive of the box. ``start()``/``stop()``/``snapshot()``/``format()``."""

    def __init__(
        self,
        layout: StateLayout,
        bus: EventBus,
        listener: VolumeListener,
        *,
        allowed_loop_dirs: Iterable[str | os.PathLike[str]] = (),
        poll_interval: float = 1.0,
    ) -> None:
        self.layout = layout
        self.bus = bus
        self.listener = listener
        self.identities = IdentityStore(layout.identities)
        self.allowed_loop_dirs = [str(d) for d in allowed_loop_dirs]
        self.poll_interval = poll_interval
        self._drives: dict[str, _Drive] = {}  # by kernel name
        self._missing: dict[str, DriveSnapshot] = {}  # by drive id (fs uuid)
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._monitor: BlockMonitor | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._system: set[str] = set()
        self._records = self._load_records()
        #: confirmations already used: offered-drive id -> (kernel name, devno) it formatted
        self._formatted: dict[str, tuple[str, str]] = {}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.layout.create()
        self._system = await asyncio.to_thread(probe.system_disks)
        self._monitor = BlockMonitor(self._on_event)
        self._monitor.start(asyncio.get_running_loop())
        for name in await asyncio.to_thread(probe.list_disks):
            await self._examine(name)
        self._remember_absent()
        self._poll_task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self) -> None:
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None
        await cancel_and_wait(self._poll_task, *self._tasks)
        self._poll_task = None
        for drive in list(self._drives.values()):
            if drive.volume is not None:
                await self.listener.volume_lost(drive.id, "the daemon is stopping")
                with contextlib.suppress(ToolError):
                    await asyncio.to_thread(ops.umount, drive.volume.mountpoint)

    def snapshot(self) -> list[DriveSnapshot]:
        shots = [self._snap(d) for d in self._drives.values()]
        present = {s.id for s in shots}
        shots += [s for i, s in self._missing.items() if i not in present]
        return sorted(shots, key=lambda s: s.id)

    def _remember_absent(self) -> None:
        """Drives this box has a dataset record of but that are not plugged in at start: shown as
        missing (their job, their identity's smeshing wait for them) until plugged in or forgotten."""
        present = {d.id for d in self._drives.values()}
        for fs_uuid, record in self._records.items():
            if fs_uuid in present or fs_uuid in self._missing or not isinstance(record, dict):
                continue
            size = record.get("size")
            self._missing[fs_uuid] = DriveSnapshot(
                id=fs_uuid, state=DriveState.MISSING, reason="not plugged in since the box started",
                model=str(record.get("model") or ""), serial=str(record.get("serial") or ""),
                size=size if isinstance(size, int) else 0, fs_uuid=fs_uuid,
                node_id=str(record.get("node_id") or "") or None,
                identity=str(record.get("identity") or "") or None,
            )
        if self._missing:
            self._publish()

    async def forget(self, drive_id: str) -> None:
        """Stops waiting for a missing drive. Its identity key stays on the box, so plugging the
        drive in again adopts its data as before."""
        if drive_id not in self._missing or any(d.id == drive_id for d in self._drives.values()):
            raise NotFormattableError(f"drive {drive_id} is not missing; only a missing drive can be "
                                      "forgotten")
        del self._missing[drive_id]
        if self._records.pop(drive_id, None) is not None:
            await asyncio.to_thread(atomic_write_json, self.layout.drives_db, self._records)
        log.info("forgot missing drive %s", drive_id)
        self._publish()

    def get(self, drive_id: str) -> DriveSnapshot:
        for shot in self.snapshot():
            if shot.id == drive_id:
                return shot
        raise UnknownDriveError(f"no drive with id {drive_id!r}")

    # ------------------------------------------------------------------ format

    async def format(self, drive_id: str, confirmation: Confirmation) -> DriveSnapshot:
        """Formats an offered drive after a confirmation naming its model, serial and size.

        ``drive_id`` names one plugged-in instance, and a confirmation is used once: the same
        request sent again (a retry, a double tap) answers with what the first one did and formats
        nothing more — never the twin that reports the same model, serial and size."""
        done = self._formatted.get(drive_id)
        if done is not None:
            return await self._format_result(done)
        drive = next((d for d in self._drives.values() if d.id == drive_id), None)
        if drive is None:
            raise UnknownDriveError(f"no drive with id {drive_id!r} is plugged in")
        async with self._lock(drive.name):
            done = self._formatted.get(drive_id)
            if done is not None:  # the same request, queued behind the first on the lock
                return await self._format_result(done)
            if self._drives.get(drive.name) is not drive or drive.id != drive_id:
                raise UnknownDriveError(f"drive {drive_id!r} changed while the request waited; "
                                        "look at it again before formatting")
            info = drive.info
            if drive.state is not DriveState.OFFERED:
                raise NotFormattableError(
                    f"drive {drive_id} is {drive.state.value}, only offered drives can be formatted"
                    + (f" ({drive.reason})" if drive.reason else "")
                )
            named = (confirmation.model, confirmation.serial, confirmation.size)
            if named != (info.model, info.serial, info.size):
                raise ConfirmationMismatchError(
                    f"confirmation does not match the drive: it is model {info.model!r}, serial "
                    f"{info.serial!r}, size {info.size} bytes; you named {confirmation.model!r}, "
                    f"{confirmation.serial!r}, {confirmation.size}. Nothing was changed."
                )
            if info.read_only:
                raise NotFormattableError(f"drive {drive_id} is read-only (write-protect switch?)")
            mounted = list(info.mountpoints) + [m for p in info.partitions for m in p.mountpoints]
            if mounted:
                raise NotFormattableError(
                    f"drive {drive_id} is mounted at {', '.join(mounted)}; unmount it first"
                )
            drive.state, drive.reason = DriveState.FORMATTING, "creating an ext4 filesystem"
            self._formatted[drive_id] = (drive.name, info.devno)  # used: a repeat formats nothing
            self._publish()
            try:
                await asyncio.to_thread(ops.format_whole_disk, info.devnode)
            except ToolError as exc:
                drive.state, drive.reason = DriveState.ERROR, f"formatting failed: {exc}"
                self._formatted.pop(drive_id, None)  # nothing was made: a retry may try again
                self._publish()
                raise
            log.info("formatted %s (%s %s)", info.devnode, info.model, info.serial)
            # examined before the lock is let go: a repeat waiting on it sees the outcome, not
            # the drive half-way
            await self._examine_held(drive.name)
        return await self._format_result((drive.name, info.devno))

    def start_merge(self, drive_id: str, scrypt_n: int) -> None:
        """Starts :meth:`merge` in the background (a large drive's merge outlasts a web request):
        refused at once when the drive has nothing to merge; progress and the outcome are in the
        drive's ``reason``/``state``."""
        drive = next((d for d in self._drives.values() if d.id == drive_id), None)
        if drive is None:
            raise UnknownDriveError(f"no drive with id {drive_id!r} is plugged in")
        if drive.state is not DriveState.OFFERED or drive.pieces is None:
            raise NotFormattableError(f"drive {drive_id} holds no PoST pieces to merge "
                                      f"(it is {drive.state.value})")

        async def run() -> None:
            with contextlib.suppress(DriveError):  # said in the drive's reason
                await self.merge(drive_id, scrypt_n)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def merge(self, drive_id: str, scrypt_n: int) -> DriveSnapshot:
        """Merges the partial PoST datasets an offered drive holds into one (``merge_offer``), then
        adopts it as any drive with PoST data. A refused merge (pieces of different datasets, a file
        missing, overlapping with other bytes, a label that does not recompute) moves nothing: the
        drive stays offered with the reason, and :class:`DriveError` says it."""
        drive = next((d for d in self._drives.values() if d.id == drive_id), None)
        if drive is None:
            raise UnknownDriveError(f"no drive with id {drive_id!r} is plugged in")
        async with self._lock(drive.name):
            if self._drives.get(drive.name) is not drive or drive.state is not DriveState.OFFERED \
                    or drive.pieces is None:
                raise NotFormattableError(f"drive {drive_id} holds no PoST pieces to merge "
                                          f"(it is {drive.state.value})")
            if drive.info.read_only:
                raise NotFormattableError(f"drive {drive_id} is read-only (write-protect switch?)")
            dev, fs_type, fs_uuid, pieces = drive.pieces
            target = self.layout.drives / fs_uuid
            drive.state, drive.reason = DriveState.CHECKING, "merging the PoST pieces"
            self._publish()
            loop = asyncio.get_running_loop()

            def progress(step: str) -> None:  # called in the merge thread
                def show() -> None:
                    drive.reason = f"merging the PoST pieces: {step}"
                    self._publish()
                loop.call_soon_threadsafe(show)

            try:
                await asyncio.to_thread(ops.mount, f"/dev/{dev}", target, fs_type, False)
                try:
                    report = await asyncio.to_thread(merge_offer.merge_pieces, target, pieces.folders,
                                                     scrypt_n, progress)
                finally:
                    await self._unmount(target)
            except (merge_offer.MergeError, ToolError, OSError) as exc:
                drive.state = DriveState.OFFERED
                drive.reason = f"the merge was refused: {exc}. No file was changed or lost"
                self._publish()
                raise DriveError(drive.reason) from exc
            log.info("merged %d PoST file(s) on %s (nonce %d from %s)", report.files, dev, report.nonce,
                     report.nonce_source)
            drive.pieces = None
            await self._examine_held(drive.name)  # now a drive with PoST data: adopted
        return next((s for s in self.snapshot() if s.devnode == drive.info.devnode), self._snap(drive))

    def formatted_ids(self) -> list[str]:
        """Ids of offered drives whose confirmation was used (a repeat answers, formats nothing)."""
        return list(self._formatted)

    async def _format_result(self, done: tuple[str, str]) -> DriveSnapshot:
        """The drive a confirmation formatted, as it is now (waits while it is being formatted)."""
        name, devno = done
        async with self._lock(name):
            drive = self._drives.get(name)
            if drive is None or drive.info.devno != devno:
                raise UnknownDriveError("the drive this confirmation formatted is no longer plugged in")
            return self._snap(drive)

    # ------------------------------------------------------------------ events

    def _on_event(self, event: BlockEvent) -> None:
        disk = event.name if event.devtype != "partition" else probe.parent_disk(event.name)
        if event.action == "remove" and event.devtype == "partition":
            disk = next((d.name for d in self._drives.values()
                         if any(p.name == event.name for p in d.info.partitions)), disk)
        task = asyncio.get_running_loop().create_task(self._examine(disk, event.properties))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    async def _poll(self) -> None:
        """Watches what raises no uevent: ``losetup -d`` on a busy loop device, read-only flips."""
        while True:
            await asyncio.sleep(self.poll_interval)
            for drive in list(self._drives.values()):
                if drive.volume is not None:
                    drive.free_bytes = await asyncio.to_thread(_free_bytes, drive.volume.mountpoint)
                if drive.volume is not None and probe.loop_detach_requested(drive.name):
                    async with self._lock(drive.name):
                        if self._drives.get(drive.name) is drive:
                            await self._lose(drive, "the drive was detached")

    async def _examine(self, name: str, props: dict[str, str] | None = None) -> None:
        async with self._lock(name):
            await self._examine_held(name, props)

    async def _examine_held(self, name: str, props: dict[str, str] | None = None) -> None:
        try:
            await self._examine_locked(name, props)
        except Exception as exc:  # one odd drive must never take the manager down
            log.exception("examining %s failed", name)
            drive = self._drives.get(name)
            if drive is not None:
                drive.state, drive.reason = DriveState.ERROR, f"unexpected error: {exc}"
        self._publish()

    async def _examine_locked(self, name: str, props: dict[str, str] | None) -> None:
        known = self._drives.get(name)
        if not probe.is_candidate(name, self.allowed_loop_dirs, self._system) or (
            known is not None and known.volume is not None and probe.loop_detach_requested(name)
        ):
            if known is not None:
                await self._lose(known, "the drive was unplugged")
            return
        udev = props if props and props.get("ID_MODEL") else udev_properties(name)
        info = await asyncio.to_thread(probe.probe, name, udev)
        if info is None:
            if known is not None:
                await self._lose(known, "the drive was unplugged")
            return
        if known is not None and known.volume is not None and known.info.devno == info.devno:
            if known.volume.mountpoint.is_mount():
                known.info = info
                return
            await self._lose(known, "the drive's filesystem went away")
        drive = _Drive(name=name, info=info, state=DriveState.CHECKING, reason="looking at the drive")
        self._drives[name] = drive
        self._publish()
        await self._classify(drive)

    async def _classify(self, drive: _Drive) -> None:
        info = drive.info
        volumes = [(p.name, p.fs_type, p.fs_uuid, p.fs_label) for p in info.partitions if p.fs_type]
        if not info.partitions and info.fs_type:
            volumes = [(info.name, info.fs_type, info.fs_uuid, info.fs_label)]
        if not volumes:
            drive.state = DriveState.OFFERED
            drive.reason = (
                f"{len(info.partitions)} partition(s) without a filesystem the box knows" if info.partitions
                else "empty: no partition table and no filesystem"
            )
            return
        notes: list[str] = []
        for dev, fs_type, fs_uuid, label in volumes:
            if fs_type not in _MOUNTABLE or not fs_uuid:
                notes.append(f"{dev}: {fs_type or 'unknown'} filesystem")
                continue
            outcome = await self._inspect_volume(drive, dev, fs_type, fs_uuid, label)
            if outcome is None:
                return  # adopted, claimed, or a final error
            notes.append(outcome)
        drive.state = DriveState.OFFERED
        drive.reason = "; ".join(notes)

    async def _inspect_volume(self, drive: _Drive, dev: str, fs_type: str, fs_uuid: str,
                              label: str | None) -> str | None:
        """Mounts one filesystem read-only and decides. None = decided (state set), else a note."""
        devnode = f"/dev/{dev}"
        target = self.layout.drives / fs_uuid
        others = [m for m in probe.mountinfo().get(probe.devno(dev), []) if Path(m) != target]
        if others:
            return f"{dev}: mounted elsewhere ({', '.join(others)}); the box leaves it alone"
        ro = drive.info.read_only
        if not target.is_mount():
            if not ro:
                try:
                    repaired = await asyncio.to_thread(ops.fsck, devnode, fs_type)
                except ToolError as exc:
                    drive.fs_uuid, drive.state, drive.reason = fs_uuid, DriveState.ERROR, str(exc)
                    return None
                if repaired:
                    log.info("fsck repaired %s", devnode)
            try:
                await asyncio.to_thread(ops.mount, devnode, target, fs_type, True)
            except ToolError as exc:
                with contextlib.suppress(OSError):
                    target.rmdir()
                # the tool's own words (naming dmesg(1) etc.) go to the log, not to the person
                log.warning("%s: %s", devnode, exc)
                return f"{dev}: {fs_type} '{label or 'no label'}' cannot be read (damaged, or unclean)"
        dataset = find_dataset(target)
        record = self._records.get(fs_uuid)
        ours = label == ops.FS_LABEL and (record is not None or not user_files(target))
        if dataset is None and not ours:
            files = user_files(target)
            used = await asyncio.to_thread(_free_bytes, target, "used")
            pieces = await asyncio.to_thread(_pieces, target)
            await self._unmount(target)
            if pieces is not None:
                drive.pieces = (dev, fs_type, fs_uuid, pieces)
                return f"{dev}: {pieces.summary}"
            # what erasing would destroy, in the words the person knows the drive by
            return (f"{dev}: {fs_type} '{label or 'no label'}', {_size_words(used)} used, "
                    f"{len(files)} item(s) at the top")
        drive.fs_uuid, drive.volume_dev = fs_uuid, dev
        known_here = record is not None
        try:
            volume = await self._prepare(drive, target, dataset, fs_uuid, ro)
        except DriveError as exc:
            await self._unmount(target)
            drive.state, drive.reason = DriveState.ERROR, str(exc)
            return None
        drive.volume = volume
        drive.free_bytes = await asyncio.to_thread(_free_bytes, target)
        drive.state = DriveState.ACTIVE
        drive.reason = ("this box's dataset" if known_here else "PoST data adopted") if volume.has_data \
            else "new dataset"
        self._missing.pop(fs_uuid, None)
        self._publish()
        await self.listener.volume_ready(volume)
        return None

    async def _prepare(self, drive: _Drive, target: Path, dataset: PostDataset | None, fs_uuid: str,
                       read_only: bool) -> Volume:
        record = self._records.get(fs_uuid, {})
        if dataset is not None:
            datadir = dataset.datadir
            node_id = await asyncio.to_thread(_metadata_node_id, dataset)
            name = await asyncio.to_thread(self._identity_for, node_id, datadir, target)
        else:
            datadir = target / DATA_SUBDIR
            name = str(record.get("identity") or f"drive-{fs_uuid.replace('-', '')[:12]}")
            node_id = (self.identities.load(name) if self.identities.exists(name)
                       else self.identities.generate(name)).node_id
        if not read_only:
            await asyncio.to_thread(ops.remount_rw, target)
            datadir.mkdir(exist_ok=True)
        self._records[fs_uuid] = {
            "identity": name, "node_id": node_id.hex(), "datadir": str(datadir.relative_to(target)),
            "model": drive.info.model, "serial": drive.info.serial, "size": drive.info.size,
        }
        await asyncio.to_thread(atomic_write_json, self.layout.drives_db, self._records)
        dataset = PostDataset(datadir)
        has_data = await asyncio.to_thread(dataset.has_metadata)
        return Volume(drive_id=fs_uuid, mountpoint=target, dataset=dataset, identity=name,
                      node_id=node_id, read_only=read_only, has_data=has_data)

    def _identity_for(self, node_id: bytes, datadir: Path, top: Path) -> str:
        """The identity of a dataset: one the box has, or a ``*.key`` beside the data (imported)."""
        found = self.identities.find(node_id)
        if found is not None:
            return found.name
        for folder in dict.fromkeys((datadir, top, top / "identities", datadir / "identities")):
            for key in sorted(folder.glob("*.key")) if folder.is_dir() else []:
                try:
                    identity = load_key_file(key, expected_node_id=node_id)
                except IdentityError:
                    continue  # another identity's key, or not a key at all: keep looking
                name = identity.name
                if self.identities.exists(name):
                    name = f"{name}-{node_id.hex()[:8]}"
                    identity = dataclasses.replace(identity, name=name)
                self.identities.save(identity)
                log.info("imported identity %s (%s) from %s", name, node_id.hex(), key)
                return name
        raise DriveError(
            f"the PoST data belongs to identity {node_id.hex()}, which this box does not have; "
            "copy its key file (<name>.key from go-spacemesh's identities folder) next to "
            "postdata_metadata.json and plug the drive in again. Nothing was changed."
        )

    async def _lose(self, drive: _Drive, reason: str) -> None:
        """Pause the job first, then let go of the mount; remember the drive as missing."""
        self._drives.pop(drive.name, None)
        if drive.volume is None:
            return
        await self.listener.volume_lost(drive.id, reason)
        await self._unmount(drive.volume.mountpoint, lazy=True)
        snap = self._snap(drive)
        snap.state, snap.reason, snap.devnode, snap.mountpoint = DriveState.MISSING, reason, None, None
        self._missing[drive.id] = snap
        log.warning("drive %s (%s): %s", drive.id, drive.info.model, reason)
        self._publish()

    async def report_io_error(self, drive_id: str, error: str) -> None:
        """Called by the job manager when a job hit an I/O error: re-examine the drive."""
        drive = next((d for d in self._drives.values() if d.id == drive_id), None)
        if drive is not None:
            async with self._lock(drive.name):
                await self._lose(drive, f"I/O error: {error}")
            await self._examine(drive.name)

    async def _unmount(self, target: Path, lazy: bool = False) -> None:
        try:
            await asyncio.to_thread(ops.umount, target, lazy)
        except ToolError as exc:
            log.warning("%s", exc)
            return
        with contextlib.suppress(OSError):
            target.rmdir()

    # ------------------------------------------------------------------ state

    def _load_records(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.layout.drives_db.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # Keep the damaged file for a person; records only speed up re-adoption.
            backup = self.layout.drives_db.with_suffix(".corrupt")
            shutil.copyfile(self.layout.drives_db, backup)
            log.error("%s is unreadable (%s); kept as %s", self.layout.drives_db, exc, backup)
            return {}
        return data if isinstance(data, dict) else {}

    def _snap(self, drive: _Drive) -> DriveSnapshot:
        info, vol = drive.info, drive.volume
        return DriveSnapshot(
            id=drive.id, state=drive.state, reason=drive.reason, devnode=info.devnode, bus=info.bus,
            model=info.model, serial=info.serial, size=info.size, read_only=info.read_only,
            fs_type=info.fs_type, fs_uuid=drive.fs_uuid or info.fs_uuid,
            mountpoint=str(vol.mountpoint) if vol else None, datadir=str(vol.datadir) if vol else None,
            node_id=vol.node_id.hex() if vol else None, identity=vol.identity if vol else None,
            free_bytes=drive.free_bytes if vol else None,
            partitions=[dataclasses.asdict(p) for p in info.partitions],
            wwn=info.wwn, devno=info.devno,
            merge_folders=list(drive.pieces[3].folders) if drive.pieces else [],
        )

    def _publish(self) -> None:
        self.bus.publish(Topic.DRIVES)
