"""Loop devices: file-backed block devices for ``run --dev`` and for tests (real kernel devices,
real uevents). Thin wrappers over ``losetup``."""

from __future__ import annotations

import subprocess
from pathlib import Path


class LoopError(OSError):
    pass


def losetup(*argv: str) -> str:
    try:
        proc = subprocess.run(["losetup", *argv], capture_output=True, text=True, timeout=60)
    except FileNotFoundError as exc:
        raise LoopError("losetup is not installed (util-linux)") from exc
    if proc.returncode != 0:
        raise LoopError(f"losetup {' '.join(argv)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def attach(image: str | Path, read_only: bool = False, partscan: bool = False) -> str:
    """Attaches ``image`` to a free loop device; returns "/dev/loopN"."""
    flags = (["-r"] if read_only else []) + (["-P"] if partscan else [])
    return losetup("-f", "--show", *flags, str(image))


def detach(dev: str) -> None:
    losetup("-d", dev)


def attached(image: str | Path) -> list[str]:
    """Loop devices currently backed by ``image``."""
    out = losetup("-j", str(image))
    return [line.split(":", 1)[0] for line in out.splitlines() if line]
