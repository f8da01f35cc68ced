"""The Wi-Fi setup flow: when to open the setup hotspot, the person's join attempt, and the promise
that the box always ends up reachable again.

States: ``idle`` (hotspot closed) → ``open`` (hotspot and captive DNS up, networks listed) →
``joining`` → ``joined`` (the new address is shown, the hotspot closes a little later) or
``failed`` (the hotspot is back, the reason is shown, the person picks again). ``unavailable``
means the hotspot could not be opened (no Wi-Fi device, NetworkManager down); the watch retries.

The hotspot opens when the box has had no working network for ``grace_s`` (after boot, or when
its network vanished) and whenever :meth:`SetupFlow.open` is called (the setup button). It closes
after a join, or — when the person walked away — after ``idle_close_s`` without a portal request
if the box has another way to be reached (a cable, or a saved Wi-Fi network it then reconnects
to). With no other way it stays open: the hotspot is then the only door to the box.

A box with one Wi-Fi radio cannot be an access point and join a network at once: the hotspot is
paused for the attempt and re-opened when it fails. With a second radio it stays up throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from appliance.aio import cancel_and_wait
from appliance.hostnet.credentials import HotspotCredentials
from appliance.hostnet.dns import CaptiveDNS
from appliance.hostnet.nm import AccessPoint, Device, JoinResult, NetworkError, NetworkState
from appliance.hostnet.ssid import ssid_text

log = logging.getLogger(__name__)

SetupState = Literal["idle", "open", "joining", "joined", "failed", "unavailable"]


class NetworkControl(Protocol):
    """What the flow needs from NetworkManager (:class:`appliance.hostnet.nm.NetworkManagerClient`)."""

    hotspot_open: bool

    async def state(self) -> NetworkState: ...
    async def wifi_devices(self) -> list[Device]: ...
    async def scan(self, wait: float = 3.0) -> list[AccessPoint]: ...
    async def join(self, ssid: bytes, password: str | None, timeout: float = 60.0,
                   avoid_interface: str | None = None) -> JoinResult: ...
    async def start_hotspot(self, ssid: str, password: str, timeout: float = 30.0) -> tuple[str, str]: ...
    async def stop_hotspot(self) -> None: ...
    async def activate_saved(self) -> bool: ...
    async def saved_wifi(self) -> dict[str, bytes]: ...


class SetupError(Exception):
    """A request the flow cannot take now; ``reason`` says why."""


@dataclass(frozen=True)
class SetupConfig:
    grace_s: float = 120.0  # no working network this long → hotspot
    check_s: float = 5.0
    idle_close_s: float = 900.0  # hotspot untouched this long and another way in exists → close
    join_timeout_s: float = 60.0
    scan_wait_s: float = 15.0  # a scan before the hotspot opens may take this long to finish
    linger_s: float = 60.0  # a joined result stays readable on the hotspot this long (two radios)
    hostname: str = "smeshbox.local"
    dns_port: int = 53
    dns_host: str | None = None  # default: the hotspot address


@dataclass(frozen=True)
class SetupStatus:
    state: SetupState = "idle"
    hotspot_ssid: str = ""
    hotspot_address: str = ""
    opened_because: str = ""
    networks: tuple[AccessPoint, ...] = ()
    joining: str = ""  # the network being tried or last tried, as shown to the person
    reason: str = ""  # why the last attempt failed, or why the hotspot is unavailable
    next_url: str = ""  # where to go once joined
    next_address: str = ""


class SetupFlow:
    def __init__(self, nm: NetworkControl, credentials: HotspotCredentials,
                 config: SetupConfig | None = None,
                 on_change: Callable[[SetupStatus], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.nm = nm
        self.credentials = credentials
        self.config = config or SetupConfig()
        self.on_change = on_change
        self.clock = clock
        self._status = SetupStatus(hotspot_ssid=credentials.ssid)
        self._lock = asyncio.Lock()  # one hotspot/join change at a time
        self._dns: CaptiveDNS | None = None
        self._watch: asyncio.Task[None] | None = None
        self._attempt: asyncio.Task[None] | None = None
        self._offline_since: float | None = None
        self._activity = clock()
        self._joined_at: float | None = None

    # -- public -----------------------------------------------------------------------------------

    def status(self) -> SetupStatus:
        return self._status

    @property
    def dns_port(self) -> int | None:
        """Where the captive DNS listens while the hotspot is open (port 0 in the config = any)."""
        return self._dns.port if self._dns is not None else None

    def touch(self) -> None:
        """A person is using the portal: the hotspot must not close under them."""
        self._activity = self.clock()

    async def start(self) -> None:
        self._offline_since = self.clock()  # boot counts as the start of "no network yet"
        self._watch = asyncio.create_task(self._run(), name="hostnet-setup")

    async def stop(self) -> None:
        await cancel_and_wait(self._watch, self._attempt)
        self._watch = self._attempt = None
        async with self._lock:
            await self._close_hotspot()

    async def open(self, because: str = "the setup button was pressed") -> SetupStatus:
        """Opens the hotspot (no-op when it is open); never raises: a failure is the status."""
        async with self._lock:
            if self._status.state in ("open", "joining", "failed") and self.nm.hotspot_open:
                self.touch()
                return self._status
            await self._open_hotspot(because)
        return self._status

    async def join(self, ssid: bytes, password: str | None) -> SetupStatus:
        """Starts an attempt (returns at once, state ``joining``); the outcome is the status."""
        async with self._lock:
            if self._status.state not in ("open", "failed"):
                raise SetupError("the setup hotspot is not open" if self._status.state != "joining"
                                 else "the box is already trying a network; wait for the result")
            self.touch()
            self._set(state="joining", joining=ssid_text(ssid), reason="")
            self._attempt = asyncio.create_task(self._try(ssid, password), name="hostnet-join")
        return self._status

    async def rescan(self) -> SetupStatus:
        async with self._lock:
            if self._status.state not in ("open", "failed"):
                raise SetupError("the setup hotspot is not open")
            self.touch()
            with contextlib.suppress(NetworkError):
                self._set(networks=tuple(await self.nm.scan()))
        return self._status

    # -- internals --------------------------------------------------------------------------------

    def _set(self, **changes: object) -> None:
        new = dataclasses.replace(self._status, **changes)  # type: ignore[arg-type]
        if new != self._status:
            self._status = new
            if self.on_change is not None:
                try:
                    self.on_change(new)
                except Exception:  # a screen that fails must not break the flow
                    log.exception("setup status listener failed")

    async def _open_hotspot(self, because: str) -> None:
        """With the lock held: scan while the radio is free, then become the access point."""
        networks: tuple[AccessPoint, ...] = self._status.networks
        with contextlib.suppress(NetworkError):  # no list is better than no hotspot
            # Wait for the scan to finish: mac80211 refuses to start an access point on a radio
            # that is still scanning (wpa_supplicant: "Failed to start AP functionality").
            networks = tuple(await self.nm.scan(wait=self.config.scan_wait_s))
        try:
            _iface, address = await self.nm.start_hotspot(self.credentials.ssid, self.credentials.password)
            await self._start_dns(address)
        except (NetworkError, OSError) as exc:
            await self._close_hotspot()
            reason = getattr(exc, "reason", None) or str(exc)
            log.warning("setup hotspot unavailable: %s", reason)
            self._set(state="unavailable", reason=reason, networks=networks, opened_because=because)
            return
        self.touch()
        self._joined_at = None
        log.info("setup hotspot %s open on %s (%s)", self.credentials.ssid, address, because)
        self._set(state="open", hotspot_address=address, opened_because=because, networks=networks,
                  next_url="", next_address="")

    async def _start_dns(self, address: str) -> None:
        if self._dns is not None:
            await self._dns.stop()
        self._dns = CaptiveDNS(address, self.config.dns_host, self.config.dns_port)
        await self._dns.start()

    async def _close_hotspot(self) -> None:
        if self._dns is not None:
            await self._dns.stop()
            self._dns = None
        with contextlib.suppress(NetworkError):
            await self.nm.stop_hotspot()

    async def _try(self, ssid: bytes, password: str | None) -> None:
        try:
            result = await self._join(ssid, password)
        except NetworkError as exc:
            result = JoinResult(False, exc.reason)
        except Exception as exc:  # whatever happened, the box must come back reachable
            log.exception("join attempt failed unexpectedly")
            result = JoinResult(False, f"internal error: {exc}")
        async with self._lock:
            if result.ok:
                address = result.addresses[0] if result.addresses else ""
                self._joined_at = self.clock()
                self._offline_since = None
                self._set(state="joined", reason="", next_address=address,
                          next_url=f"http://{self.config.hostname}")
                if not self.nm.hotspot_open:
                    await self._close_hotspot()  # DNS too; the radio already left AP mode
                log.info("joined %s as %s", ssid_text(ssid), address)
            else:
                log.info("joining %s failed: %s", ssid_text(ssid), result.reason)
                if not self.nm.hotspot_open:
                    await self._open_hotspot(self._status.opened_because)
                if self._status.state != "unavailable":
                    self._set(state="failed", reason=result.reason)
                self.touch()

    async def _join(self, ssid: bytes, password: str | None) -> JoinResult:
        radios = await self.nm.wifi_devices()
        hotspot_iface = await self._hotspot_interface(radios)
        if len(radios) < 2:  # one radio: it cannot be AP and station at once
            async with self._lock:
                await self._close_hotspot()
        return await self.nm.join(ssid, password, self.config.join_timeout_s,
                                  avoid_interface=hotspot_iface)

    async def _hotspot_interface(self, radios: list[Device]) -> str | None:
        address = self._status.hotspot_address
        return next((d.interface for d in radios if address and address in d.addresses), None)

    async def _run(self) -> None:
        while True:
            try:
                await self._check()
            except Exception:  # one bad check must not end the watch for good
                log.exception("setup watch failed")
            await asyncio.sleep(self.config.check_s)

    async def _check(self) -> None:
        now = self.clock()
        state = self._status.state
        if state == "joining":
            return
        try:
            net = await self.nm.state()
        except NetworkError as exc:
            log.info("network state unknown: %s", exc.reason)
            return
        if net.connected:
            self._offline_since = None
        elif self._offline_since is None:
            self._offline_since = now
        async with self._lock:
            state = self._status.state
            if state in ("idle", "unavailable", "joined"):
                if state == "joined" and self._joined_at is not None and self.nm.hotspot_open \
                        and now - self._joined_at >= self.config.linger_s:
                    await self._close_hotspot()
                    self._set(state="idle")
                    return
                offline_for = now - self._offline_since if self._offline_since is not None else 0.0
                if not net.connected and offline_for >= self.config.grace_s and not self.nm.hotspot_open:
                    await self._open_hotspot(f"the box has had no network for {offline_for:.0f} s")
                elif state == "joined" and not self.nm.hotspot_open:
                    self._set(state="idle")
            elif state in ("open", "failed") and now - self._activity >= self.config.idle_close_s:
                saved = bool(await self._saved())
                if net.connected or saved:
                    log.info("setup hotspot untouched for %.0f s: closing it", now - self._activity)
                    await self._close_hotspot()
                    if not net.connected:
                        with contextlib.suppress(NetworkError):
                            await self.nm.activate_saved()
                    self._offline_since = None if net.connected else now
                    self._set(state="idle", reason="")

    async def _saved(self) -> dict[str, bytes]:
        try:
            return await self.nm.saved_wifi()
        except NetworkError:
            return {}


def screen_notice(status: SetupStatus, credentials: HotspotCredentials) -> tuple[tuple[str, ...], str]:
    """What the box's screen shows for the flow: (lines, QR payload); ((), "") = the normal screen.
    While the hotspot is open: its Wi-Fi-join QR code, its name and password."""
    short_name = credentials.ssid.removeprefix("Smeshbox-")
    if status.state in ("open", "failed"):
        return ("Wi-Fi setup", short_name, credentials.password, "Scan to join"), credentials.wifi_qr()
    if status.state == "joining":
        return ("Wi-Fi setup", "Joining", status.joining, "Please wait…"), ""
    if status.state == "joined":
        return ("Wi-Fi joined", status.joining, status.next_address, status.next_url), ""
    return (), ""
