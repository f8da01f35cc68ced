# ruff: noqa: F722, F821  (dbus-fast reads D-Bus signatures such as "a{sv}" from the annotations)
"""A NetworkManager stand-in for what a host without Wi-Fi radios cannot run: the Wi-Fi half of
NetworkManager's D-Bus API (devices, access points, Settings, AddAndActivateConnection[2],
StateChanged), exported with dbus-fast on a private bus that a real dbus-daemon runs.

It follows NetworkManager's documented behaviour (introspection/*.xml and nm-dbus-interface.h of
NetworkManager/NetworkManager @ 0221e032196e8f09bda9b6939f44c017ceac7935): a Wi-Fi activation goes
PREPARE → CONFIG → (NEED_AUTH → FAILED/NO_SECRETS on a wrong key | FAILED/SSID_NOT_FOUND when the
network is not in range | IP_CONFIG → ACTIVATED, or FAILED/IP_CONFIG_UNAVAILABLE when DHCP does not
answer) → DISCONNECTED after a failure; an AP-mode profile with ipv4.method=shared comes up on
10.42.0.1/24 as NetworkManager's shared mode does. The radio world (which networks exist, their
keys, whether their DHCP answers) is set by the test. Wired devices are tested against the real
NetworkManager instead (tests/hostnet/test_nm_real.py).

No ``from __future__ import annotations`` here: dbus-fast reads the signatures from the
annotations."""

import asyncio
import contextlib
import time
from dataclasses import dataclass

from dbus_fast import BusType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method, signal

NM = "org.freedesktop.NetworkManager"
BASE = "/org/freedesktop/NetworkManager"


def _err(name: str, text: str) -> Exception:
    from dbus_fast import DBusError as Err
    return Err(f"{NM}.{name}", text)


@dataclass
class HomeNetwork:
    ssid: bytes
    psk: str | None
    strength: int = 70
    dhcp: bool = True
    address: str = "192.0.2.77"
    frequency: int = 2437


class AccessPointObj(ServiceInterface):
    def __init__(self, net: HomeNetwork) -> None:
        super().__init__(f"{NM}.AccessPoint")
        self.net = net

    @dbus_property(access=PropertyAccess.READ)
    def Ssid(self) -> "ay":
        return self.net.ssid

    @dbus_property(access=PropertyAccess.READ)
    def Strength(self) -> "y":
        return self.net.strength

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> "u":
        return 1 if self.net.psk else 0

    @dbus_property(access=PropertyAccess.READ)
    def WpaFlags(self) -> "u":
        return 0

    @dbus_property(access=PropertyAccess.READ)
    def RsnFlags(self) -> "u":
        return 0x188 if self.net.psk else 0  # pair CCMP, group CCMP, key-mgmt PSK

    @dbus_property(access=PropertyAccess.READ)
    def Frequency(self) -> "u":
        return self.net.frequency


class IP4ConfigObj(ServiceInterface):
    def __init__(self, address: str, prefix: int) -> None:
        super().__init__(f"{NM}.IP4Config")
        self.address, self.prefix = address, prefix

    @dbus_property(access=PropertyAccess.READ)
    def AddressData(self) -> "aa{sv}":
        return [{"address": Variant("s", self.address), "prefix": Variant("u", self.prefix)}]


class ConnectionObj(ServiceInterface):
    def __init__(self, fake: "FakeNetworkManager", path: str, settings: dict) -> None:
        super().__init__(f"{NM}.Settings.Connection")
        self.fake, self.path, self.settings = fake, path, settings

    @method()
    def GetSettings(self) -> "a{sa{sv}}":
        # secrets are never returned by GetSettings (GetSecrets is separate), as in NetworkManager
        return {group: {k: v for k, v in values.items() if k != "psk"}
                for group, values in self.settings.items()}

    @method()
    def Delete(self) -> None:
        self.fake.delete_connection(self.path)


class ActiveObj(ServiceInterface):
    def __init__(self, device_path: str, connection: str) -> None:
        super().__init__(f"{NM}.Connection.Active")
        self.device_path, self.connection = device_path, connection

    @dbus_property(access=PropertyAccess.READ)
    def Devices(self) -> "ao":
        return [self.device_path]


class DeviceObj(ServiceInterface):
    def __init__(self, fake: "FakeNetworkManager", path: str, interface: str) -> None:
        super().__init__(f"{NM}.Device")
        self.fake, self.path, self.interface = fake, path, interface
        self.state = 30
        self.ip4 = "/"
        self.active: str | None = None

    @dbus_property(access=PropertyAccess.READ)
    def Interface(self) -> "s":
        return self.interface

    @dbus_property(access=PropertyAccess.READ)
    def DeviceType(self) -> "u":
        return 2

    @dbus_property(access=PropertyAccess.READ)
    def State(self) -> "u":
        return self.state

    @dbus_property(access=PropertyAccess.READ)
    def Ip4Config(self) -> "o":
        return self.ip4

    @signal()
    def StateChanged(self, new, old, reason) -> "uuu":
        return [new, old, reason]

    def set_state(self, new: int, reason: int = 0) -> None:
        old, self.state = self.state, new
        self.StateChanged(new, old, reason)

    @method()
    def Disconnect(self) -> None:
        self.fake.deactivate_device(self, 39)  # USER_REQUESTED


class WirelessObj(ServiceInterface):
    def __init__(self, fake: "FakeNetworkManager", device: DeviceObj) -> None:
        super().__init__(f"{NM}.Device.Wireless")
        self.fake, self.device = fake, device
        self.last_scan = -1

    @method()
    def GetAllAccessPoints(self) -> "ao":
        return list(self.fake.ap_paths)

    @method()
    def RequestScan(self, options: "a{sv}") -> None:
        if self.device.active and self.fake.active_mode(self.device) == "ap":
            raise _err("Device.NotAllowed", "Scanning not allowed while in AP mode")
        self.fake.scans += 1
        self.last_scan = int(time.monotonic() * 1000)

    @dbus_property(access=PropertyAccess.READ)
    def LastScan(self) -> "x":
        return self.last_scan


class SettingsObj(ServiceInterface):
    def __init__(self, fake: "FakeNetworkManager") -> None:
        super().__init__(f"{NM}.Settings")
        self.fake = fake

    @method()
    def ListConnections(self) -> "ao":
        return list(self.fake.connections)

    @method()
    def AddConnection(self, settings: "a{sa{sv}}") -> "o":
        return self.fake.add_connection(settings)


class ManagerObj(ServiceInterface):
    def __init__(self, fake: "FakeNetworkManager") -> None:
        super().__init__(NM)
        self.fake = fake

    @method()
    def GetDevices(self) -> "ao":
        return [d.path for d in self.fake.devices]

    @method()
    async def AddAndActivateConnection(self, settings: "a{sa{sv}}", device: "o", specific: "o") -> "oo":
        path = self.fake.add_connection(settings)
        return [path, self.fake.activate(path, device)]

    @method()
    async def AddAndActivateConnection2(self, settings: "a{sa{sv}}", device: "o", specific: "o",
                                        options: "a{sv}") -> "ooa{sv}":
        path = self.fake.add_connection(settings)
        return [path, self.fake.activate(path, device), {}]

    @method()
    def ActivateConnection(self, connection: "o", device: "o", specific: "o") -> "o":
        return self.fake.activate(connection, device)

    @method()
    def DeactivateConnection(self, active: "o") -> None:
        for dev in self.fake.devices:
            if dev.active == active:
                self.fake.deactivate_device(dev, 39)
                return
        raise _err("ConnectionNotActive", "The connection was not active.")


class FakeNetworkManager:
    """Owns org.freedesktop.NetworkManager on ``bus_address`` with ``wifi`` Wi-Fi devices."""

    def __init__(self, networks: list[HomeNetwork], wifi: tuple[str, ...] = ("wlan0",),
                 step: float = 0.05, ip_timeout: float = 0.5, ap_address: str = "10.42.0.1") -> None:
        self.networks = networks
        self.ap_address = ap_address
        self.wifi_names = wifi
        self.step, self.ip_timeout = step, ip_timeout
        self.bus: MessageBus | None = None
        self.devices: list[DeviceObj] = []
        self.wireless: dict[str, WirelessObj] = {}
        self.ap_paths: list[str] = []
        self.connections: dict[str, ConnectionObj] = {}
        self.actives: dict[str, ActiveObj] = {}
        self.scans = 0
        self._n = 0
        self._tasks: set[asyncio.Task] = set()

    def _next(self, kind: str) -> str:
        self._n += 1
        return f"{BASE}/{kind}/{self._n}"

    async def start(self, bus_address: str) -> None:
        self.bus = await MessageBus(bus_address=bus_address, bus_type=BusType.SYSTEM).connect()
        self.bus.export(BASE, ManagerObj(self))
        self.bus.export(f"{BASE}/Settings", SettingsObj(self))
        for name in self.wifi_names:
            path = self._next("Devices")
            dev = DeviceObj(self, path, name)
            wireless = WirelessObj(self, dev)
            self.bus.export(path, dev)
            self.bus.export(path, wireless)
            self.devices.append(dev)
            self.wireless[path] = wireless
        self.refresh_aps()
        await self.bus.request_name(NM)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.bus is not None:
            self.bus.disconnect()

    def refresh_aps(self) -> None:
        """The radio world changed (a network appeared or vanished)."""
        assert self.bus is not None
        for path in self.ap_paths:
            self.bus.unexport(path)
        self.ap_paths = []
        for net in self.networks:
            path = self._next("AccessPoint")
            self.bus.export(path, AccessPointObj(net))
            self.ap_paths.append(path)

    def add_connection(self, settings: dict) -> str:
        assert self.bus is not None
        if "connection" not in settings or "type" not in settings["connection"]:
            raise _err("Settings.InvalidConnection", "connection.type: property is missing")
        wifi = settings.get("802-11-wireless", {})
        if "ssid" not in wifi:
            raise _err("Settings.InvalidConnection", "802-11-wireless.ssid: property is missing")
        psk = settings.get("802-11-wireless-security", {}).get("psk")
        if psk is not None and not 8 <= len(psk.value) <= 64:
            raise _err("Settings.InvalidConnection", "802-11-wireless-security.psk: property is invalid")
        path = self._next("Settings")
        conn = ConnectionObj(self, path, settings)
        self.bus.export(path, conn)
        self.connections[path] = conn
        return path

    def delete_connection(self, path: str) -> None:
        assert self.bus is not None
        conn = self.connections.pop(path, None)
        if conn is None:
            raise _err("Settings.InvalidConnection", "no such connection")
        for dev in self.devices:
            if dev.active and self.actives[dev.active].connection == path:
                self.deactivate_device(dev, 38)  # CONNECTION_REMOVED
        self.bus.unexport(path)

    def active_mode(self, dev: DeviceObj) -> str:
        conn = self.connections.get(self.actives[dev.active].connection) if dev.active else None
        return conn.settings["802-11-wireless"]["mode"].value if conn else ""

    def activate(self, connection: str, device: str) -> str:
        assert self.bus is not None
        if connection not in self.connections:
            raise _err("UnknownConnection", "Connection not found")
        dev = next((d for d in self.devices if d.path == device), None)
        if dev is None:
            if device != "/" or not self.devices:
                raise _err("UnknownDevice", "No suitable device found")
            dev = self.devices[0]
        if dev.active:
            self.deactivate_device(dev, 60)  # NEW_ACTIVATION
        path = self._next("ActiveConnection")
        self.actives[path] = ActiveObj(dev.path, connection)
        self.bus.export(path, self.actives[path])
        dev.active = path
        task = asyncio.get_running_loop().create_task(self._activate(dev, path, self.connections[connection]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return path

    def deactivate_device(self, dev: DeviceObj, reason: int) -> None:
        assert self.bus is not None
        if dev.active is None:
            return
        self.bus.unexport(dev.active)
        dev.active = None
        if dev.ip4 != "/":
            self.bus.unexport(dev.ip4)
            dev.ip4 = "/"
        dev.set_state(110, reason)
        dev.set_state(30, reason)

    async def _activate(self, dev: DeviceObj, active: str, conn: ConnectionObj) -> None:
        settings = conn.settings
        wifi = settings["802-11-wireless"]
        ssid, mode = bytes(wifi["ssid"].value), wifi.get("mode", Variant("s", "infrastructure")).value
        psk = settings.get("802-11-wireless-security", {}).get("psk")
        for state in (40, 50):
            await asyncio.sleep(self.step)
            if dev.active != active:
                return
            dev.set_state(state)
        if mode == "ap":
            await self._configured(dev, active, self.ap_address, 24)
            return
        net = next((n for n in self.networks if n.ssid == ssid), None)
        if net is None:
            return self._fail(dev, active, 53)  # SSID_NOT_FOUND
        if (net.psk or None) != (psk.value if psk else None):
            dev.set_state(60)  # NEED_AUTH: no secret agent answers, so the attempt fails
            await asyncio.sleep(self.step)
            return self._fail(dev, active, 7)  # NO_SECRETS
        dev.set_state(70)
        if not net.dhcp:
            await asyncio.sleep(self.ip_timeout)
            return self._fail(dev, active, 5)  # IP_CONFIG_UNAVAILABLE
        await self._configured(dev, active, net.address, 24)

    async def _configured(self, dev: DeviceObj, active: str, address: str, prefix: int) -> None:
        assert self.bus is not None
        await asyncio.sleep(self.step)
        if dev.active != active:
            return
        dev.ip4 = self._next("IP4Config")
        self.bus.export(dev.ip4, IP4ConfigObj(address, prefix))
        dev.set_state(100)

    def _fail(self, dev: DeviceObj, active: str, reason: int) -> None:
        if dev.active != active:
            return
        assert self.bus is not None
        with contextlib.suppress(Exception):
            self.bus.unexport(active)
        dev.active = None
        dev.set_state(120, reason)
        dev.set_state(30, 0)
