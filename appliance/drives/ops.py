"""The blocking operations on drives (run them in a thread): mount, unmount, fsck, wipe + mkfs.

Each wraps one tool with a timeout and raises :class:`ToolError` carrying the tool's own message.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from appliance.drives.errors import ToolError

FS_LABEL = "SMESHBOX"
_FSCK_FS = {"ext2", "ext3", "ext4"}  # fsck that we trust to preen unattended


def _run(argv: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise ToolError(f"{argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{argv[0]} did not finish within {timeout:.0f}s") from exc


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise ToolError(f"{what} failed (exit {proc.returncode}): {msg[-1] if msg else 'no output'}")


def fsck(devnode: str, fs_type: str | None) -> str:
    """Preens an ext filesystem before it is mounted read-write.

    Returns "" when clean or repaired automatically; raises ToolError when it needs a person
    (e2fsck exit >= 4) — the data is then left untouched. Other filesystems are not checked here.
    """
    if fs_type not in _FSCK_FS:
        return ""
    proc = _run(["e2fsck", "-p", devnode])
    if proc.returncode >= 4:
        raise ToolError(
            f"the filesystem on {devnode} has errors that need a manual repair (e2fsck exit "
            f"{proc.returncode}); run `e2fsck {devnode}` on a computer. Nothing was changed."
        )
    return "repaired" if proc.returncode in (1, 2) else ""


def mount(devnode: str, target: Path, fs_type: str | None, read_only: bool = False) -> None:
    target.mkdir(parents=True, exist_ok=True)
    opts = "noatime,nodev,nosuid" + (",ro" if read_only else "")
    argv = ["mount", "-o", opts]
    if fs_type:
        argv += ["-t", fs_type]
    _check(_run([*argv, devnode, str(target)], timeout=120), f"mount {devnode}")


def umount(target: Path, lazy: bool = False) -> None:
    """Unmounts; ``lazy`` detaches a mount whose device has gone (it would otherwise hang around)."""
    if not os.path.ismount(target):
        return
    _check(_run(["umount"] + (["-l"] if lazy else []) + [str(target)], timeout=120), f"umount {target}")


def format_whole_disk(devnode: str) -> None:
    """Wipes every signature (old partition tables included) and makes one ext4 on the whole disk.

    Whole disk rather than one partition: the drive is dedicated to PoST data, a partition table adds
    nothing the box uses, and it avoids waiting for the kernel to re-read a table (loop devices
    without partscan cannot at all). ``-m 0``: no blocks reserved for root on a data-only disk.
    """
    _check(_run(["wipefs", "-a", devnode], timeout=120), f"wipefs {devnode}")
    _check(_run(["mkfs.ext4", "-F", "-q", "-m", "0", "-L", FS_LABEL, devnode]), f"mkfs.ext4 {devnode}")


def remount_rw(target: Path) -> None:
    """Inspection mounts are read-only; a drive the box adopts or claims is then made writable."""
    _check(_run(["mount", "-o", "remount,rw,noatime", str(target)], timeout=120), f"remount {target}")
