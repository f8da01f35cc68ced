"""Which network interfaces the box announces itself on.

A person's phone is on the LAN, never behind loopback, a container bridge (docker0, br-*, podman*,
cni*, virbr*), a container's veth end, or a VPN tunnel; announcing there leaks the box's name into
places nobody browses and makes zeroconf send on sockets that go nowhere. So the default is every
interface that is up, multicast-capable and has an IPv4 address, minus those. Tests (and people
with odd setups) can name the interfaces explicitly instead.

Interfaces and their flags come from /sys/class/net (per network namespace under ``ip netns
exec``), addresses from ``ifaddr`` (getifaddrs).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ifaddr

IFF_UP = 0x1
IFF_LOOPBACK = 0x8
IFF_MULTICAST = 0x1000
SKIPPED_PREFIXES = (
    "lo", "docker", "br-", "veth", "podman", "cni", "virbr", "vnet", "lxc", "lxd", "flannel",
    "cali", "vxlan", "kube", "tun", "tap", "wg", "tailscale", "zt",
)  # fmt: skip


class DiscoveryError(Exception):
    """Discovery was configured with something that cannot work (unknown interface, bad name)."""


@dataclass(frozen=True)
class Interface:
    name: str
    flags: int
    ipv4: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return bool(self.flags & IFF_UP and self.flags & IFF_MULTICAST and self.ipv4)


def _flags(name: str, sys_class_net: Path) -> int:
    try:
        return int((sys_class_net / name / "flags").read_text().strip(), 16)
    except (OSError, ValueError):
        return 0  # the interface vanished between listing and reading: treat it as down


def list_interfaces(sys_class_net: Path = Path("/sys/class/net")) -> list[Interface]:
    """Every interface of this network namespace with its flags and IPv4 addresses."""
    addresses: dict[str, list[str]] = {}
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if ip.is_IPv4 and isinstance(ip.ip, str):
                addresses.setdefault(adapter.nice_name, []).append(ip.ip)
    names = (
        sorted({p.name for p in sys_class_net.iterdir()} | set(addresses)) if sys_class_net.is_dir() else []
    )
    return [Interface(name, _flags(name, sys_class_net), tuple(addresses.get(name, ()))) for name in names]


def is_lan_candidate(iface: Interface) -> bool:
    if iface.flags & IFF_LOOPBACK or iface.name.startswith(SKIPPED_PREFIXES):
        return False
    return all(not ipaddress.IPv4Address(a).is_loopback for a in iface.ipv4)


def choose_interfaces(
    available: Iterable[Interface], explicit: Sequence[str] | None = None
) -> list[Interface]:
    """The usable interfaces to announce on: the explicit names (each must exist), else the LAN ones.

    An explicit interface that exists but is down or has no address yet is simply not usable right
    now (it may come up later); one that does not exist at all is a configuration error.
    """
    by_name = {iface.name: iface for iface in available}
    if explicit is not None:
        missing = [name for name in explicit if name not in by_name]
        if missing:
            raise DiscoveryError(f"no such network interface: {', '.join(missing)}")
        return [by_name[name] for name in explicit if by_name[name].usable]
    return [iface for iface in by_name.values() if iface.usable and is_lan_candidate(iface)]


def addresses_of(interfaces: Iterable[Interface]) -> list[str]:
    seen: dict[str, None] = {}
    for iface in interfaces:
        for address in iface.ipv4:
            seen.setdefault(address, None)
    return list(seen)
