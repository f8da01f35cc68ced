"""Fixtures: a private system bus (a real dbus-daemon), the Wi-Fi NetworkManager stand-in on it, and
the real NetworkManager in a network namespace of its own with a veth "Ethernet" whose far end runs
dnsmasq's DHCP server."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostnet.fakenm import FakeNetworkManager, HomeNetwork

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:dir={dir}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>
"""


@pytest.fixture
def system_bus(tmp_path: Path) -> Iterator[str]:
    """The address of a fresh dbus-daemon configured like a system bus."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is missing (apt: dbus-daemon, scripts/apt/system.txt)")
    conf = tmp_path / "bus.conf"
    # The socket's folder must be reachable for daemons that drop to their own user (timesyncd).
    sockets = Path(tempfile.mkdtemp(prefix="smeshbox-bus-"))
    sockets.chmod(0o755)
    conf.write_text(BUS_CONF.format(dir=sockets))
    proc = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    try:
        yield address
    finally:
        proc.terminate()
        proc.wait(5)
        shutil.rmtree(sockets, ignore_errors=True)


HOME = HomeNetwork(b"HomeNet", "correct horse", strength=80, address="192.0.2.77")


@pytest.fixture
def networks() -> list[HomeNetwork]:
    return [
        HOME,
        HomeNetwork(b"Cafe\xff\x00", None, strength=40, address="198.51.100.9"),  # odd bytes, open
        HomeNetwork(b"NoDHCP", "password1", strength=60, dhcp=False),
        HomeNetwork(b"HomeNet", "correct horse", strength=30, frequency=5180),  # same name, 5 GHz
    ]


@pytest.fixture
async def fake_nm(system_bus: str, networks: list[HomeNetwork]) -> AsyncIterator[FakeNetworkManager]:
    fake = FakeNetworkManager(networks)
    await fake.start(system_bus)
    try:
        yield fake
    finally:
        await fake.stop()


@dataclass
class RealNM:
    bus: str
    netns: str
    peer_netns: str
    state_dir: Path


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)} (apt: scripts/apt/hostnet.txt)")
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def real_nm(system_bus: str, tmp_path: Path) -> Iterator[RealNM]:
    """NetworkManager 1.42 (Debian's) managing ``eth0`` (a veth) in a namespace of its own; the
    peer namespace answers DHCP on 192.0.2.0/24 with dnsmasq. ``eth1`` gets no DHCP answer."""
    _need("NetworkManager", "dnsmasq", "ip", "unshare")
    tag = uuid.uuid4().hex[:8]
    box, peer = f"sbox-{tag}", f"speer-{tag}"
    conf = tmp_path / "nm.conf"
    (tmp_path / "profiles").mkdir()
    conf.write_text("[main]\nplugins=keyfile\nauth-polkit=false\ndhcp=internal\n"
                    f"[keyfile]\npath={tmp_path / 'profiles'}\n[logging]\nlevel=INFO\n")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        _ip("netns", "add", box)
        _ip("netns", "add", peer)
        _ip("-n", box, "link", "set", "lo", "up")
        for n, (dev, peer_dev) in enumerate((("eth0", "dhcp0"), ("eth1", "mute0"))):
            _ip("-n", box, "link", "add", dev, "type", "veth", "peer", "name", peer_dev, "netns", peer)
            _ip("-n", peer, "addr", "add", f"192.0.{2 + n}.1/24", "dev", peer_dev)
            _ip("-n", peer, "link", "set", peer_dev, "up")
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", peer, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--port=0",
             "--interface=dhcp0", "--bind-interfaces", "--dhcp-range=192.0.2.50,192.0.2.99,1h",
             f"--dhcp-leasefile={tmp_path / 'leases'}", "--pid-file=", "--conf-file=/dev/null"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        # A read-only /sys tells NetworkManager no udev is running (as in a container), so it
        # manages the veths without waiting for udev; its run/state folders are private tmpfs.
        script = ("mount -o remount,ro /sys && mount -t tmpfs nm /run/NetworkManager && "
                  "mount -t tmpfs nm /var/lib/NetworkManager && "
                  f"exec NetworkManager --no-daemon --config={conf}")
        os.makedirs("/run/NetworkManager", exist_ok=True)
        os.makedirs("/var/lib/NetworkManager", exist_ok=True)
        log = open(tmp_path / "nm.log", "wb")  # noqa: SIM115 - closed with the process
        procs.append(subprocess.Popen(["ip", "netns", "exec", box, "unshare", "-m", "sh", "-c", script],
                                      env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": system_bus},
                                      stdout=log, stderr=subprocess.STDOUT))
        yield RealNM(system_bus, box, peer, tmp_path)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for ns in (box, peer):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
