"""NetworkManager over D-Bus (dbus-fast; this package is its only importer): wired state, Wi-Fi scan,
join, forget, and the setup hotspot.

The client speaks NetworkManager's documented D-Bus API directly (method calls and
``org.freedesktop.DBus.Properties``), so it needs no introspection round trips and works the same
against the system's NetworkManager and against one started on a private bus. Names, enums and
signatures follow NetworkManager's ``src/libnm-core-public/nm-dbus-interface.h`` and
``introspection/*.xml`` (NetworkManager/NetworkManager @ 0221e032196e8f09bda9b6939f44c017ceac7935).

A join adds a *new* profile and activates it; when the attempt fails the profile is deleted again,
so a wrong password never leaves a profile behind that NetworkManager would keep retrying, and the
network the box had before stays what it reconnects to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from appliance.hostnet.ssid import ssid_text

log = logging.getLogger(__name__)

NM = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
SETTINGS_PATH = "/org/freedesktop/NetworkManager/Settings"
PROPS = "org.freedesktop.DBus.Properties"
DEVICE = f"{NM}.Device"
WIRELESS = f"{NM}.Device.Wireless"
AP_IFACE = f"{NM}.AccessPoint"
SETTINGS = f"{NM}.Settings"
CONNECTION = f"{NM}.Settings.Connection"
IP4 = f"{NM}.IP4Config"

# NMDeviceType
TYPE_ETHERNET, TYPE_WIFI, TYPE_VETH = 1, 2, 20
# NMDeviceState
UNMANAGED, UNAVAILABLE, DISCONNECTED, NEED_AUTH, IP_CONFIG, ACTIVATED, DEACTIVATING, FAILED = (
    10, 20, 30, 60, 70, 100, 110, 120)
# NMDeviceStateReason: the ones a person can act on get their own sentence
REASONS: dict[int, str] = {
    5: "the network gave the box no address (DHCP did not answer)",
    7: "wrong password",
    8: "wrong password (the access point refused the box)",
    9: "the network's security settings could not be applied",
    10: "the Wi-Fi connection failed",
    11: "the access point did not answer in time (wrong password, or out of range)",
    36: "the network went away while joining",
    53: "the network is not in range any more",
}
STATE_NAMES = {0: "unknown", 10: "unmanaged", 20: "unavailable", 30: "disconnected", 40: "prepare",
               50: "config", 60: "need-auth", 70: "ip-config", 80: "ip-check", 90: "secondaries",
               100: "activated", 110: "deactivating", 120: "failed"}
# NM80211ApFlags / NM80211ApSecurityFlags
AP_PRIVACY = 0x1
SEC_KEY_MGMT_PSK, SEC_KEY_MGMT_SAE = 0x100, 0x400


class NetworkError(Exception):
    """NetworkManager refused or failed; ``reason`` is a sentence for the person."""

    def __init__(self, reason: str, dbus_error: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.dbus_error = dbus_error


@dataclass(frozen=True)
class Device:
    path: str
    interface: str
    kind: str  # "ethernet" | "wifi" | "other"
    state: str
    state_code: int
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessPoint:
    ssid: str  # shown to the person; odd bytes escaped (see appliance.hostnet.ssid)
    ssid_hex: str  # the exact bytes, what a join sends back
    strength: int  # percent
    secured: bool
    frequency_mhz: int


@dataclass(frozen=True)
class JoinResult:
    ok: bool
    reason: str = ""
    interface: str = ""
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkState:
    """What the box can be reached on right now (the hotspot is not counted)."""

    devices: tuple[Device, ...] = ()
    connected: bool = False
    addresses: tuple[str, ...] = field(default_factory=tuple)


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Variant) else value


class NetworkManagerClient:
    """One connection to the bus NetworkManager is on. ``bus_address`` None = the system bus."""

    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus
        self._hotspot_active: str | None = None  # active-connection path of our hotspot
        self._hotspot_profile: str | None = None

    @classmethod
    async def connect(cls, bus_address: str | None = None, timeout: float = 5.0) -> NetworkManagerClient:
        bus = MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM)
        try:
            async with asyncio.timeout(timeout):  # wait_for can lose a cancel on 3.11
                await bus.connect()
        except (OSError, TimeoutError) as exc:
            raise NetworkError(f"the system bus is not reachable ({exc})") from exc
        return cls(bus)

    async def close(self) -> None:
        self._bus.disconnect()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2.0):
                await self._bus.wait_for_disconnect()

    # -- plumbing ---------------------------------------------------------------------------------

    async def _call(self, path: str, interface: str, member: str, signature: str = "",
                    body: list[Any] | None = None, timeout: float = 10.0) -> list[Any]:
        msg = Message(destination=NM, path=path, interface=interface, member=member,
                      signature=signature, body=body or [])
        try:
            async with asyncio.timeout(timeout):
                reply = await self._bus.call(msg)
        except TimeoutError as exc:
            raise NetworkError(f"NetworkManager did not answer {member} within {timeout:g} s") from exc
        assert reply is not None
        if reply.message_type == MessageType.ERROR:
            text = reply.body[0] if reply.body else reply.error_name
            if reply.error_name in ("org.freedesktop.DBus.Error.ServiceUnknown",
                                    "org.freedesktop.DBus.Error.NameHasNoOwner"):
                raise NetworkError("NetworkManager is not running", reply.error_name)
            raise NetworkError(f"NetworkManager refused {member}: {text}", reply.error_name)
        return list(reply.body)

    async def _props(self, path: str, interface: str) -> dict[str, Any]:
        (values,) = await self._call(path, PROPS, "GetAll", "s", [interface])
        return {k: _unwrap(v) for k, v in values.items()}

    async def _prop(self, path: str, interface: str, name: str) -> Any:
        (value,) = await self._call(path, PROPS, "Get", "ss", [interface, name])
        return _unwrap(value)

    # -- devices and state ------------------------------------------------------------------------

    async def devices(self) -> list[Device]:
        (paths,) = await self._call(NM_PATH, NM, "GetDevices")
        out = []
        for path in paths:
            props = await self._props(path, DEVICE)
            kind = {TYPE_ETHERNET: "ethernet", TYPE_VETH: "ethernet", TYPE_WIFI: "wifi"}.get(
                props.get("DeviceType", 0), "other")
            state = int(props.get("State", 0))
            out.append(Device(path, props.get("Interface", ""), kind, STATE_NAMES.get(state, str(state)),
                              state, await self._addresses(props.get("Ip4Config", "/"))))
        return out

    async def _addresses(self, ip4_path: str) -> tuple[str, ...]:
        if not ip4_path or ip4_path == "/":
            return ()
        data = await self._prop(ip4_path, IP4, "AddressData")
        return tuple(_unwrap(entry["address"]) for entry in data if "address" in entry)

    async def state(self) -> NetworkState:
        """Devices with their addresses; ``connected`` is true when a non-hotspot device is
        activated with an address."""
        devices = await self.devices()
        hotspot_iface = await self._hotspot_interface()
        usable = [d for d in devices if d.kind in ("ethernet", "wifi") and d.state_code == ACTIVATED
                  and d.addresses and d.interface != hotspot_iface]
        addresses = tuple(a for d in usable for a in d.addresses)
        return NetworkState(tuple(devices), bool(usable), addresses)

    async def _hotspot_interface(self) -> str | None:
        if self._hotspot_active is None:
            return None
        try:
            (paths,) = await self._call(self._hotspot_active, PROPS, "Get", "ss",
                                        [f"{NM}.Connection.Active", "Devices"])
        except NetworkError:
            return None
        for path in _unwrap(paths):
            return str(await self._prop(path, DEVICE, "Interface"))
        return None

    async def wifi_devices(self) -> list[Device]:
        return [d for d in await self.devices() if d.kind == "wifi" and d.state_code > UNAVAILABLE]

    async def _wifi_device(self, avoid: str | None = None) -> Device:
        devices = await self.wifi_devices()
        if not devices:
            raise NetworkError("the box has no usable Wi-Fi device")
        preferred = [d for d in devices if d.interface != avoid]
        return (preferred or devices)[0]

    # -- Wi-Fi ------------------------------------------------------------------------------------

    async def scan(self, wait: float = 3.0) -> list[AccessPoint]:
        """Asks every Wi-Fi device to scan, waits up to ``wait`` seconds for fresh results (a
        device in AP mode cannot scan: its last list is used), and returns one entry per network,
        strongest first."""
        devices = await self.wifi_devices()
        if not devices:
            raise NetworkError("the box has no usable Wi-Fi device")
        before = {}
        for dev in devices:
            before[dev.path] = await self._prop(dev.path, WIRELESS, "LastScan")
            with contextlib.suppress(NetworkError):  # refused while scanning or in AP mode
                await self._call(dev.path, WIRELESS, "RequestScan", "a{sv}", [{}])
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            fresh = [await self._prop(d.path, WIRELESS, "LastScan") != before[d.path] for d in devices]
            if all(fresh):
                break
            await asyncio.sleep(0.2)
        best: dict[bytes, AccessPoint] = {}
        for dev in devices:
            (paths,) = await self._call(dev.path, WIRELESS, "GetAllAccessPoints")
            for path in paths:
                with contextlib.suppress(NetworkError):  # an AP may vanish between list and read
                    props = await self._props(path, AP_IFACE)
                    raw = bytes(props.get("Ssid", b""))
                    if not raw:
                        continue  # hidden network: nothing a person could pick
                    secured = bool(props.get("Flags", 0) & AP_PRIVACY or props.get("WpaFlags", 0)
                                   or props.get("RsnFlags", 0))
                    ap = AccessPoint(ssid_text(raw), raw.hex(), int(props.get("Strength", 0)), secured,
                                     int(props.get("Frequency", 0)))
                    if raw not in best or ap.strength > best[raw].strength:
                        best[raw] = ap
        return sorted(best.values(), key=lambda a: (-a.strength, a.ssid))

    async def join(self, ssid: bytes, password: str | None, timeout: float = 60.0,
                   avoid_interface: str | None = None) -> JoinResult:
        """Joins ``ssid`` on a Wi-Fi device (another than ``avoid_interface`` when there is one);
        waits until it is activated with an address, or fails with the reason. On failure the new
        profile is deleted."""
        if not 1 <= len(ssid) <= 32:
            raise NetworkError("a Wi-Fi network name is 1 to 32 bytes")
        if password is not None and not (8 <= len(password.encode()) <= 63 or
                                         (len(password) == 64 and _is_hex(password))):
            return JoinResult(False, "a WPA password is 8 to 63 characters")
        device = await self._wifi_device(avoid_interface)
        settings: dict[str, dict[str, Variant]] = {
            "connection": {"id": Variant("s", f"smeshbox-wifi {ssid_text(ssid)}"),
                           "uuid": Variant("s", str(uuid.uuid4())),
                           "type": Variant("s", "802-11-wireless"),
                           "autoconnect": Variant("b", True)},
            "802-11-wireless": {"ssid": Variant("ay", ssid), "mode": Variant("s", "infrastructure")},
            "ipv4": {"method": Variant("s", "auto")},
            "ipv6": {"method": Variant("s", "auto")},
        }
        if password:
            settings["802-11-wireless-security"] = {"key-mgmt": Variant("s", "wpa-psk"),
                                                    "psk": Variant("s", password)}
        watch = _StateWatch(self._bus, device.path)
        await watch.start()
        try:
            profile, _active = await self._call(NM_PATH, NM, "AddAndActivateConnection", "a{sa{sv}}oo",
                                                [settings, device.path, "/"])
            try:
                async with asyncio.timeout(timeout):
                    reason = await watch.outcome()
            except TimeoutError:
                reason = f"no connection within {timeout:g} s (out of range, or DHCP did not answer)"
            addresses = await self._addresses(await self._prop(device.path, DEVICE, "Ip4Config"))
            if reason is None and addresses:
                return JoinResult(True, "", device.interface, addresses)
            reason = reason or "the network gave the box no address"
        finally:
            await watch.stop()
        with contextlib.suppress(NetworkError):
            await self._call(profile, CONNECTION, "Delete")
        with contextlib.suppress(NetworkError):  # stop NetworkManager's own retries of this attempt
            if await self._prop(device.path, DEVICE, "State") > DISCONNECTED:
                await self._call(device.path, DEVICE, "Disconnect")
        return JoinResult(False, reason, device.interface)

    async def saved_wifi(self) -> dict[str, bytes]:
        """Saved Wi-Fi profiles: settings path → SSID bytes (the hotspot profile excluded)."""
        (paths,) = await self._call(SETTINGS_PATH, SETTINGS, "ListConnections")
        out = {}
        for path in paths:
            (settings,) = await self._call(path, CONNECTION, "GetSettings")
            wifi = settings.get("802-11-wireless")
            if wifi is None or _unwrap(wifi.get("mode", Variant("s", ""))) == "ap":
                continue
            out[path] = bytes(_unwrap(wifi["ssid"]))
        return out

    async def forget(self, ssid: bytes) -> int:
        """Deletes every saved profile of ``ssid``; returns how many there were."""
        count = 0
        for path, saved in (await self.saved_wifi()).items():
            if saved == ssid:
                await self._call(path, CONNECTION, "Delete")
                count += 1
        return count

    async def add_wifi_profile(self, ssid: bytes, password: str | None) -> str:
        """Saves a profile without activating it (what a pre-seeded box has); returns its path."""
        settings: dict[str, dict[str, Variant]] = {
            "connection": {"id": Variant("s", f"smeshbox-wifi {ssid_text(ssid)}"),
                           "uuid": Variant("s", str(uuid.uuid4())),
                           "type": Variant("s", "802-11-wireless"), "autoconnect": Variant("b", False)},
            "802-11-wireless": {"ssid": Variant("ay", ssid), "mode": Variant("s", "infrastructure")},
        }
        if password:
            settings["802-11-wireless-security"] = {"key-mgmt": Variant("s", "wpa-psk"),
                                                    "psk": Variant("s", password)}
        (path,) = await self._call(SETTINGS_PATH, SETTINGS, "AddConnection", "a{sa{sv}}", [settings])
        return str(path)

    # -- hotspot ----------------------------------------------------------------------------------

    async def start_hotspot(self, ssid: str, password: str, timeout: float = 30.0) -> tuple[str, str]:
        """Opens a WPA2 access point with NetworkManager's shared IPv4 (it runs DHCP for the
        clients); returns (interface, box address on it). A volatile profile: nothing persists."""
        await self.stop_hotspot()
        device = await self._wifi_device()
        settings = {
            "connection": {"id": Variant("s", "smeshbox-setup-hotspot"),
                           "uuid": Variant("s", str(uuid.uuid4())),
                           "type": Variant("s", "802-11-wireless"), "autoconnect": Variant("b", False)},
            # A fixed channel: left to NetworkManager, the access point failed to start on
            # simulated radios in the world regulatory domain; channel 6 is allowed everywhere.
            "802-11-wireless": {"ssid": Variant("ay", ssid.encode()), "mode": Variant("s", "ap"),
                                "band": Variant("s", "bg"), "channel": Variant("u", 6)},
            "802-11-wireless-security": {"key-mgmt": Variant("s", "wpa-psk"),
                                         "psk": Variant("s", password),
                                         "proto": Variant("as", ["rsn"]),
                                         "pairwise": Variant("as", ["ccmp"]),
                                         "group": Variant("as", ["ccmp"])},
            "ipv4": {"method": Variant("s", "shared")},
            "ipv6": {"method": Variant("s", "ignore")},
        }
        watch = _StateWatch(self._bus, device.path)
        await watch.start()
        try:
            # AddAndActivateConnection2 with persist=volatile: the hotspot profile never reaches
            # the disk, so a power cut cannot leave a box that comes up as an access point.
            profile, active, _ = await self._call(
                NM_PATH, NM, "AddAndActivateConnection2", "a{sa{sv}}ooa{sv}",
                [settings, device.path, "/", {"persist": Variant("s", "volatile")}])
            self._hotspot_active, self._hotspot_profile = active, profile
            try:
                async with asyncio.timeout(timeout):
                    reason = await watch.outcome()
            except TimeoutError:
                reason = f"the hotspot did not come up within {timeout:g} s"
        finally:
            await watch.stop()
        if reason is not None:
            await self.stop_hotspot()
            raise NetworkError(f"could not open the setup hotspot: {reason}")
        addresses = await self._addresses(await self._prop(device.path, DEVICE, "Ip4Config"))
        return device.interface, (addresses[0] if addresses else "")

    async def stop_hotspot(self) -> None:
        active, profile = self._hotspot_active, self._hotspot_profile
        self._hotspot_active = self._hotspot_profile = None
        if active:
            with contextlib.suppress(NetworkError):
                await self._call(NM_PATH, NM, "DeactivateConnection", "o", [active])
        if profile:
            with contextlib.suppress(NetworkError):
                await self._call(profile, CONNECTION, "Delete")

    @property
    def hotspot_open(self) -> bool:
        return self._hotspot_active is not None

    async def activate_saved(self) -> bool:
        """Brings up a saved Wi-Fi profile again (after the hotspot took the radio); True if one
        could be started. NetworkManager chooses the device."""
        for path in await self.saved_wifi():
            try:
                await self._call(NM_PATH, NM, "ActivateConnection", "ooo", [path, "/", "/"])
                return True
            except NetworkError as exc:
                log.info("saved profile %s not activated: %s", path, exc.reason)
        return False


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


class _StateWatch:
    """Follows one device's ``StateChanged(new, old, reason)`` signal: :meth:`outcome` returns
    None once the device is activated, else the reason it failed."""

    def __init__(self, bus: MessageBus, device_path: str) -> None:
        self._bus = bus
        self._path = device_path
        self._rule = (f"type='signal',interface='{DEVICE}',member='StateChanged',path='{device_path}'")
        self._done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._handler: Callable[[Message], None] = self._on_message
        self._seen_progress = False

    async def start(self) -> None:
        self._bus.add_message_handler(self._handler)
        await self._bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                     interface="org.freedesktop.DBus", member="AddMatch", signature="s",
                                     body=[self._rule]))

    async def stop(self) -> None:
        self._bus.remove_message_handler(self._handler)
        with contextlib.suppress(Exception):
            await self._bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                         interface="org.freedesktop.DBus", member="RemoveMatch",
                                         signature="s", body=[self._rule]))

    def _on_message(self, msg: Message) -> None:
        if (msg.message_type != MessageType.SIGNAL or msg.path != self._path or msg.interface != DEVICE
                or msg.member != "StateChanged" or self._done.done()):
            return
        new, _old, reason = msg.body
        if new == ACTIVATED:
            self._done.set_result(None)
        elif new == FAILED:
            fallback = f"the connection failed (NetworkManager reason {reason})"
            self._done.set_result(REASONS.get(reason, fallback))
        elif DISCONNECTED < new < ACTIVATED:
            # PREPARE..SECONDARIES: our activation is under way. DEACTIVATING/DISCONNECTED before
            # that are the device letting go of what it had (reason NEW_ACTIVATION), not a failure.
            self._seen_progress = True
        elif new <= DISCONNECTED and self._seen_progress:
            # left activation without passing through FAILED (e.g. the device was taken away)
            self._done.set_result(REASONS.get(reason, "the connection attempt was cancelled"))

    async def outcome(self) -> str | None:
        return await self._done
