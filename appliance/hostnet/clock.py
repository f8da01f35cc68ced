"""The clock check: is the box's clock synchronised? A box with a wrong clock misses PoET rounds
(its registrations land in the wrong round, its proofs arrive late), so health must say so.

The kernel's answer comes through systemd-timedated (``org.freedesktop.timedate1``:
``NTPSynchronized`` is the kernel's adjtimex STA_UNSYNC flag, the same the node checks before it
acts); systemd-timesyncd (``org.freedesktop.timesync1.Manager``: ``ServerName``, ``NTPMessage``)
says which server it is trying and whether one has answered. Property names from systemd's
src/timedate/timedated.c and src/timesync/timesyncd-bus.c (systemd/systemd, v252 as in Debian 12).

Both are read over D-Bus with dbus-fast; a daemon that is not there is itself a finding, not an
error: the check reports what it could not learn.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from appliance.health.model import Finding, Severity

TIMEDATE = "org.freedesktop.timedate1"
TIMEDATE_PATH = "/org/freedesktop/timedate1"
TIMESYNC = "org.freedesktop.timesync1"
TIMESYNC_PATH = "/org/freedesktop/timesync1"
TIMESYNC_IFACE = "org.freedesktop.timesync1.Manager"


@dataclass(frozen=True)
class ClockState:
    synced: bool | None  # None: timedated could not be asked
    ntp_enabled: bool | None = None  # timedated's NTP switch (None: unknown)
    server: str = ""  # the NTP server timesyncd uses or tries
    server_answered: bool = False  # timesyncd has had at least one reply
    error: str = ""  # why something could not be read

    def page_text(self) -> str:
        """One sentence for the box card."""
        if self.synced:
            return f"Clock synchronised{f' ({self.server})' if self.server else ''}."
        if self.synced is None:
            return f"Clock state unknown: {self.error or 'timedated did not answer'}."
        if self.ntp_enabled is False:
            return "Clock NOT synchronised: automatic time sync is switched off."
        if self.server and not self.server_answered:
            return (f"Clock NOT synchronised: no answer yet from the time server {self.server}. "
                    "The node waits before it registers or proves.")
        return "Clock NOT synchronised yet. The node waits before it registers or proves."


async def _get(bus: MessageBus, name: str, path: str, interface: str, prop: str,
               timeout: float) -> object:
    async with asyncio.timeout(timeout):  # wait_for can lose a cancel on 3.11
        reply = await bus.call(Message(
            destination=name, path=path, interface="org.freedesktop.DBus.Properties", member="Get",
            signature="ss", body=[interface, prop]))
    assert reply is not None
    if reply.message_type == MessageType.ERROR:
        raise LookupError(f"{name}.{prop}: {reply.body[0] if reply.body else reply.error_name}")
    value = reply.body[0]
    return value.value if isinstance(value, Variant) else value


async def read_clock(bus_address: str | None = None, timeout: float = 5.0) -> ClockState:
    """One reading of timedated and timesyncd (the system bus unless ``bus_address``)."""
    try:
        async with asyncio.timeout(timeout):
            bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM).connect()
    except (OSError, TimeoutError) as exc:
        return ClockState(None, error=f"the system bus is not reachable ({exc})")
    try:
        errors: list[str] = []
        synced: bool | None = None
        ntp: bool | None = None
        try:
            # One property at a time: timedated's GetAll fails as a whole when its NTP switch
            # cannot be read (it asks systemd for the timesyncd unit), synchronisation still can.
            synced = bool(await _get(bus, TIMEDATE, TIMEDATE_PATH, TIMEDATE, "NTPSynchronized", timeout))
        except (LookupError, TimeoutError) as exc:
            errors.append(str(exc) or "timedated did not answer")
        with contextlib.suppress(LookupError, TimeoutError):
            ntp = bool(await _get(bus, TIMEDATE, TIMEDATE_PATH, TIMEDATE, "NTP", timeout))
        server, answered = "", False
        try:
            server = str(await _get(bus, TIMESYNC, TIMESYNC_PATH, TIMESYNC_IFACE, "ServerName", timeout))
            message = await _get(bus, TIMESYNC, TIMESYNC_PATH, TIMESYNC_IFACE, "NTPMessage", timeout)
            # NTPMessage (uuuuittayttttbtt: leap, version, mode, stratum, ...) is the last reply a
            # server sent; until there is one its header is zero. Mode 4 is "server".
            answered = isinstance(message, list | tuple) and len(message) > 3 and message[2] == 4
        except (LookupError, TimeoutError) as exc:
            errors.append(str(exc) or "timesyncd did not answer")
        return ClockState(synced, ntp, server, answered, "; ".join(errors))
    finally:
        bus.disconnect()


class ClockCheck:
    """Turns a reading into health findings (the health object keeps since when each lasts)."""

    def problems(self, state: ClockState) -> list[Finding]:
        found: list[Finding] = []
        if state.synced is None:
            found.append(Finding("clock-unknown", "clock", Severity.WARNING,
                          f"The box cannot tell whether its clock is right: {state.error}.",
                          "Restart the box; if this stays, send a support bundle."))
        elif not state.synced:
            if state.ntp_enabled is False:
                remedy = "Switch automatic time sync on again (timedatectl set-ntp true)."
            elif state.server and not state.server_answered:
                remedy = (f"Let the box reach the time server {state.server} (UDP port 123); "
                          "it synchronises by itself once it can.")
            else:
                remedy = "Check the box's internet connection; the clock synchronises by itself."
            found.append(Finding("clock-unsynced", "clock", Severity.ERROR,
                          "The box's clock is not synchronised: it could miss PoET rounds, so the node "
                          "waits instead of registering or proving.", remedy))
        return found
