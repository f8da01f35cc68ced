"""OtaManager: the update state machine of one box, and its record.

install:  fetch release.json → verify signature (trusted keys) → policy (compatible, newer, epoch,
          space) → resumable hashed download → record "installing" → ``rauc install`` into the
          other slot → record "installed" → reboot.
boot:     (``boot_gate``, run by smeshbox-ota-gate.service after every boot)
          nothing pending → mark the booted slot good (it was proven before);
          install interrupted → report it, stay (RAUC left the other slot marked bad);
          booted the new slot → health gate → mark good and record success, or mark bad, record
          why, reboot into the old slot;
          booted the old slot although the new one was installed → the new one hung or crashed
          (watchdog/boot counting brought us back) → mark it bad, record the rollback.
Every refusal happens before a byte reaches a slot. State changes go to the event bus, ``Topic.OTA``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import aiohttp

from appliance.events import EventBus, Topic
from appliance.ota import gate as gatemod
from appliance.ota.config import OtaConfig, RunningRelease
from appliance.ota.download import download_bundle, part_path
from appliance.ota.errors import BusyError, DownloadError, ManifestError, OtaError
from appliance.ota.manifest import MAX_DOCUMENT, Manifest, load_trusted_keys, verify_release
from appliance.ota.policy import check_release
from appliance.ota.rauc import RaucClient
from appliance.ota.state import OtaRecord, OtaResult, OtaStore, Pending

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OtaSnapshot:
    version: str
    compatible: str
    phase: str  # idle | checking | downloading | installing | rebooting | gating
    update_url: str | None
    available: dict[str, Any] | None  # the verified manifest being installed / last checked
    downloaded: int
    total: int
    error: str | None
    error_reason: str | None
    security_epoch: int
    pending: Pending | None
    last_result: OtaResult | None


class OtaManager:
    def __init__(
        self,
        config: OtaConfig | None = None,
        bus: EventBus | None = None,
        rauc: RaucClient | None = None,
    ) -> None:
        self.config = config or OtaConfig.from_env()
        self.bus = bus
        self.rauc = rauc or RaucClient(self.config.rauc_command)
        self.store = OtaStore(self.config.state_dir)
        self.record = OtaRecord()
        self.running = RunningRelease("0", "")
        self._phase = "idle"
        self._available: Manifest | None = None
        #: the version the release being tried names (verified, or "x (unverified)"): what a refusal
        #: is recorded against — never the release of an earlier attempt
        self._candidate = "?"
        self._progress = (0, 0)
        self._error: OtaError | None = None
        self._task: asyncio.Task[OtaResult | None] | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.running = RunningRelease.load(self.config.release_file)
        self.record = await asyncio.to_thread(self.store.load)
        self._publish()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OtaError):
                await self._task
            self._task = None

    def snapshot(self) -> OtaSnapshot:
        try:
            url = self.config.resolved_update_url()
        except ManifestError:
            url = None
        return OtaSnapshot(
            version=self.running.version,
            compatible=self.running.compatible,
            phase=self._phase,
            update_url=url,
            available=self._available.info() if self._available else None,
            downloaded=self._progress[0],
            total=self._progress[1],
            error=str(self._error) if self._error else None,
            error_reason=self._error.reason if self._error else None,
            security_epoch=max(self.record.security_epoch, self.running.security_epoch),
            pending=self.record.pending,
            last_result=self.record.last_result,
        )

    def _publish(self) -> None:
        if self.bus is not None:
            self.bus.publish(Topic.OTA, self.snapshot())

    def _set_phase(self, phase: str) -> None:
        self._phase = phase
        self._publish()

    # ---- install -----------------------------------------------------------------------------
    def start_install(self, url: str | None = None) -> asyncio.Task[OtaResult | None]:
        """Runs :meth:`install` in the background (the web layer's "update now")."""
        if self._task is not None and not self._task.done():
            raise BusyError("an update is already running")
        self._task = asyncio.create_task(self.install(url), name="ota-install")
        return self._task

    async def check(self, session: aiohttp.ClientSession, url: str | None = None) -> Manifest:
        """Fetches and verifies the release document and applies the install policy."""
        url = url or self.config.resolved_update_url()
        if not url:
            raise ManifestError("no update URL is configured")
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout)
        try:
            async with session.get(url, timeout=timeout) as response:
                if response.status != 200:
                    raise DownloadError(f"GET {url}: HTTP {response.status}")
                document = await response.content.read(MAX_DOCUMENT + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DownloadError(f"GET {url}: {exc}") from exc
        self._candidate = _claimed_version(document)
        trusted = await asyncio.to_thread(load_trusted_keys, self.config.keys_dir)
        manifest = verify_release(document, trusted)
        self._candidate = manifest.version
        self.config.download_dir.mkdir(parents=True, exist_ok=True)
        part = part_path(self.config.download_dir / manifest.bundle_name)
        have = part.stat().st_size if part.exists() else 0
        check_release(
            manifest,
            self.running,
            self.record.security_epoch,
            self.config.download_dir,
            self.config.space_margin,
            min(have, manifest.bundle_size),
        )
        self._available = manifest
        return manifest

    async def install(self, url: str | None = None, reboot: bool = True) -> OtaResult | None:
        """The whole update; returns None when rebooting into the new slot (or asked not to)."""
        if self._phase not in ("idle", "error"):
            raise BusyError(f"an update is already {self._phase}")
        self._error = None
        self._progress = (0, 0)
        self._candidate = "?"
        bundle = None
        url = url or self.config.resolved_update_url()
        try:
            self._set_phase("checking")
            async with aiohttp.ClientSession() as session:
                manifest = await self.check(session, url)
                self._set_phase("downloading")
                bundle = await download_bundle(
                    session,
                    urljoin(url or "", manifest.bundle_name),
                    self.config.download_dir / manifest.bundle_name,
                    manifest.bundle_size,
                    manifest.bundle_sha256,
                    progress=self._on_progress,
                    timeout=self.config.request_timeout,
                )
            status = await self.rauc.status()
            pending = Pending(
                from_version=self.running.version,
                to_version=manifest.version,
                from_slot=status.booted,
                to_slot=status.other(),
                phase="installing",
                security_epoch=manifest.security_epoch,
                drives=gatemod.drive_mounts(),
                started=time.time(),
            )
            self.record.pending = pending
            await asyncio.to_thread(self.store.save, self.record)
            self._set_phase("installing")
            await self.rauc.install(bundle)
            self.record.pending = dataclasses.replace(pending, phase="installed")
            await asyncio.to_thread(self.store.save, self.record)
            bundle.unlink()
        except OtaError as exc:
            outcome = "failed" if self.record.pending else "refused"
            if bundle is not None:  # a bundle RAUC refused is of no further use: give the space back
                with contextlib.suppress(OSError):
                    bundle.unlink()
            await self._finish(OtaResult(self.running.version, self._candidate, outcome,
                                         f"{exc.reason}: {exc}"))
            self._error = exc
            self._set_phase("error")
            raise
        if reboot:
            self._set_phase("rebooting")
            await self._reboot()
        else:
            self._set_phase("idle")
        return None

    def _on_progress(self, done: int, total: int) -> None:
        self._progress = (done, total)
        self._publish()

    async def _finish(self, result: OtaResult) -> OtaResult:
        self.record = await asyncio.to_thread(self.store.record_result, self.record, result)
        log.info(
            "ota: %s → %s: %s (%s)", result.from_version, result.to_version, result.outcome, result.reason
        )
        self._publish()
        return result

    async def _reboot(self) -> None:
        proc = await asyncio.create_subprocess_exec(*self.config.reboot_command)
        await asyncio.wait_for(proc.wait(), 60)

    # ---- after boot --------------------------------------------------------------------------
    async def boot_gate(self, reboot: bool = True) -> OtaResult | None:
        """Decides what this boot means for a pending update (see module docstring)."""
        if self.record.pending is None:
            await self.rauc.mark("good")
            return None
        pending = self.record.pending
        status = await self.rauc.status()
        if pending.phase == "installing":
            await self.rauc.mark("good")
            return await self._finish(
                OtaResult(
                    pending.from_version,
                    pending.to_version,
                    "failed",
                    f"the install into slot {pending.to_slot} was interrupted (power cut or crash); "
                    f"still running {self.running.version} on slot {status.booted}",
                )
            )
        if status.booted != pending.to_slot:
            await self.rauc.mark("bad", "other")
            await self.rauc.mark("good")
            return await self._finish(
                OtaResult(
                    pending.from_version,
                    pending.to_version,
                    "rolled-back",
                    f"slot {pending.to_slot} never came up healthy (hang, crash or watchdog reset); "
                    f"the bootloader went back to slot {status.booted}",
                )
            )
        self._set_phase("gating")
        result = await gatemod.run_gate(self.config, pending.drives)
        if result.healthy:
            await self.rauc.mark("good")
            self.record.security_epoch = max(self.record.security_epoch, pending.security_epoch)
            outcome = OtaResult(pending.from_version, self.running.version, "success", result.reason())
            self._set_phase("idle")
            return await self._finish(outcome)
        await self.rauc.mark("bad")
        outcome = await self._finish(
            OtaResult(
                pending.from_version,
                pending.to_version,
                "rolled-back",
                f"health gate failed on slot {status.booted}: {result.reason()}",
            )
        )
        if reboot:
            self._set_phase("rebooting")
            await self._reboot()
        return outcome


def _claimed_version(document: bytes) -> str:
    """The version an (unverified) release document names, marked as such; "?" if it names none."""
    try:
        version = json.loads(document)["manifest"]["version"]
    except (ValueError, KeyError, TypeError):
        return "?"
    return f"{str(version)[:40]} (unverified)"
