"""The only place that talks to RAUC: its command line (``rauc status/install``), run as
subprocesses with timeouts so the event loop never blocks."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.ota.errors import InstallError, RaucError


@dataclass(frozen=True)
class SlotInfo:
    name: str  # "rootfs.0"
    bootname: str  # "A"
    device: str
    state: str  # "booted" | "inactive" | ...
    boot_status: str  # "good" | "bad" | ""


@dataclass(frozen=True)
class RaucStatus:
    compatible: str
    booted: str  # bootname of the running slot
    primary: str  # bootname the bootloader will try first
    slots: tuple[SlotInfo, ...]

    def other(self) -> str:
        """The bootname of the slot we are not running from."""
        names = [s.bootname for s in self.slots if s.bootname and s.bootname != self.booted]
        if not names:
            raise RaucError(f"no other slot than {self.booted!r}")
        return names[0]


def parse_status(text: str) -> RaucStatus:
    """Parses ``rauc status --output-format=json``."""
    try:
        value: Any = json.loads(text)
        slots = []
        for entry in value["slots"]:
            ((name, info),) = entry.items()
            slots.append(
                SlotInfo(
                    name,
                    str(info.get("bootname") or ""),
                    str(info.get("device", "")),
                    str(info.get("state", "")),
                    str(info.get("boot_status") or ""),
                )
            )
        booted = str(value["booted"])
        primary_slot = value.get("boot_primary") or ""
        primary = next((s.bootname for s in slots if s.name == primary_slot), "")
        return RaucStatus(str(value["compatible"]), booted, primary, tuple(slots))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RaucError(f"unexpected `rauc status` output: {exc}") from exc


class RaucClient:
    def __init__(self, command: tuple[str, ...] = ("rauc",), timeout: float = 60.0) -> None:
        self.command = command
        self.timeout = timeout

    async def _run(self, *args: str, timeout: float | None = None) -> str:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.command, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
        except OSError as exc:
            raise RaucError(f"cannot run rauc: {exc}") from exc
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout or self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RaucError(f"rauc {' '.join(args)} timed out") from None
        if proc.returncode != 0:
            detail = (err or out).decode(errors="replace").strip().splitlines()
            raise RaucError(f"rauc {' '.join(args)} failed: {detail[-1] if detail else proc.returncode}")
        return out.decode(errors="replace")

    async def status(self) -> RaucStatus:
        return parse_status(await self._run("status", "--detailed", "--output-format=json"))

    async def install(self, bundle: Path, timeout: float = 1800.0) -> None:
        try:
            await self._run("install", str(bundle), timeout=timeout)
        except RaucError as exc:
            raise InstallError(str(exc)) from exc

    async def mark(self, what: str, slot: str = "booted") -> None:
        """``what`` is good | bad | active; ``slot`` is booted | other | a slot name."""
        await self._run("status", f"mark-{what}", slot)
