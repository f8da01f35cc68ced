"""Factory reset: back to onboarding, keeping what gives the drives their worth.

Erased (names in the state folder, :data:`ERASED`): the daemon config, the web app's folder (the
person's settings — reward address, PoET/gateway servers, host name — the admin password hash and
sessions), the node's state (``node``, ``node-devnet``, ``devnet.json``), the drive records that
link drives to identities (``drives.json``; the drives are re-adopted from the metadata on them),
the logs and the display snapshot.

Kept, on purpose:

* ``identities/`` — the identity keys. PoST data is bound to the node id it was initialized for
  (the labels are derived from the commitment to that id), so without its key a drive's data —
  days or weeks of computation — can never produce a proof again. A reset must not turn every drive
  into scrap; the person can still wipe a drive deliberately from the drives page.
* ``drives/`` (the mount points of the data drives) and ``dev-drives/`` (the ``--dev`` drives'
  backing files): PoST data is never touched, and nothing is deleted across a mount point.
* ``network.json`` (which network this box was built for), ``ota/`` (the update system's record of
  the A/B slots), ``box-id`` (the box's name on the LAN) and the instance ``lock``.

Power-cut safety: first the intent (the list of names) is written atomically to
:data:`MARKER`; that is the commit point. Then each doomed entry is renamed into :data:`TRASH` on
the same filesystem, the folder fsynced, the trash deleted, and the marker removed last. A cut
before the marker exists leaves the old state (an empty trash folder at most, cleaned up later);
a cut after it leaves a reset that :func:`finish_interrupted_reset` — called by the daemon at start,
before anything reads the state — completes, so the box comes up clean.

After the reset the daemon must restart (its managers still hold the old state in memory):
:class:`ResetService` sets ``restart_requested``, and the daemon exits with
:data:`RESTART_EXIT_CODE`, which the unit turns into a restart with
``RestartForceExitStatus=RESTART_EXIT_CODE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from appliance.errors import ServiceError
from appliance.system.files import atomic_write_json, fsync_dir

log = logging.getLogger(__name__)

#: the daemon's exit code asking systemd for a restart after a factory reset (unit:
#: ``RestartForceExitStatus=90``); outside systemd the caller restarts it
RESTART_EXIT_CODE = 90
MARKER = ".factory-reset.json"
TRASH = ".factory-reset-trash"
ERASED: tuple[str, ...] = (
    "config.json", "web", "node", "node-devnet", "devnet.json", "drives.json", "drives.corrupt",
    "logs", "oled.png",
)
KEPT: tuple[str, ...] = ("identities", "drives", "dev-drives", "network.json", "ota", "box-id", "lock")


class ResetError(Exception):
    """The reset could not be carried out; the message says what is in the way."""


def _contains_mount(path: Path) -> Path | None:
    """A mount point at or below ``path`` (not following symlinks), or None."""
    top = path.lstat()
    if not path.is_dir() or path.is_symlink():
        return None
    for folder, dirs, _files in os.walk(path):
        for name in list(dirs):
            child = Path(folder) / name
            st = child.lstat()
            if st.st_dev != top.st_dev:
                return child
    return path if os.path.ismount(path) else None


def _doomed(root: Path, names: tuple[str, ...]) -> list[str]:
    found = []
    for name in names:
        path = root / name
        if not os.path.lexists(path):
            continue
        mount = _contains_mount(path)
        if mount is not None:
            raise ResetError(f"{mount} is a mount point; unmount it before a factory reset")
        found.append(name)
    return found


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def erase(root: str | os.PathLike[str], names: tuple[str, ...] = ERASED) -> list[str]:
    """Blocking: factory-resets the state folder ``root``; returns the names it erased."""
    root = Path(root)
    finish_interrupted_reset(root)  # a half-done earlier reset first, so the marker is ours
    doomed = _doomed(root, names)
    trash = root / TRASH
    if trash.exists():  # a leftover of a cut before the marker was written: nothing committed
        _delete(trash)
    trash.mkdir(mode=0o700)
    fsync_dir(root)
    atomic_write_json(root / MARKER, {"erase": doomed}, mode=0o600)  # the commit point
    _complete(root, doomed)
    return doomed


def finish_interrupted_reset(root: str | os.PathLike[str]) -> bool:
    """Blocking: completes a reset a power cut interrupted (True) or removes the empty trash left by
    one that was cut before it committed (False). Call at start-up, before the state is read."""
    root = Path(root)
    marker = root / MARKER
    try:
        data = json.loads(marker.read_text())
        names = [n for n in data["erase"] if n in ERASED]  # never anything else, whatever the file says
    except FileNotFoundError:
        trash = root / TRASH
        if trash.exists():
            _delete(trash)
            fsync_dir(root)
        return False
    except (ValueError, KeyError, TypeError):
        # The marker is written atomically, so a torn one means tampering or a broken card: doing
        # the documented reset is the safe reading of "a reset was asked for".
        names = [n for n in ERASED if os.path.lexists(root / n) or os.path.lexists(root / TRASH / n)]
    log.warning("finishing a factory reset that was interrupted: %s", ", ".join(names) or "nothing left")
    (root / TRASH).mkdir(mode=0o700, exist_ok=True)
    _complete(root, names)
    return True


def _complete(root: Path, names: list[str]) -> None:
    trash = root / TRASH
    for name in names:
        with contextlib.suppress(FileNotFoundError):  # already moved before a cut
            os.rename(root / name, trash / name)
    fsync_dir(trash)
    fsync_dir(root)
    _delete(trash)
    fsync_dir(root)
    (root / MARKER).unlink()
    fsync_dir(root)


class ResetService:
    """``appliance.web.services.ResetService`` over the daemon's state folder. The web layer has
    already had the person confirm; ``factory_reset()`` erases (in a worker thread), then sets
    ``restart_requested`` and calls ``on_restart`` so the daemon stops and exits with
    :data:`RESTART_EXIT_CODE`."""

    def __init__(self, state_root: str | os.PathLike[str],
                 on_restart: Callable[[], None] | None = None) -> None:
        self.root = Path(state_root)
        self.on_restart = on_restart
        self.restart_requested = asyncio.Event()
        self._lock = asyncio.Lock()

    async def factory_reset(self) -> None:
        async with self._lock:
            try:
                erased = await asyncio.to_thread(erase, self.root)
            except ResetError as exc:
                raise ServiceError(str(exc), "conflict") from exc
            except OSError as exc:
                raise ServiceError(f"factory reset failed: {exc.strerror or exc}", "unavailable") from exc
        log.warning("factory reset: erased %s; restarting", ", ".join(erased) or "nothing (already clean)")
        self.restart_requested.set()
        if self.on_restart is not None:
            self.on_restart()
