"""Interface choice and configuration checks (no namespaces, no packets)."""

from __future__ import annotations

import pytest

from appliance.discovery import (
    DiscoveryConfig,
    DiscoveryError,
    DiscoveryManager,
    Interface,
    choose_interfaces,
)
from appliance.discovery.interfaces import addresses_of, list_interfaces
from appliance.discovery.manager import host_label

UP_MC = 0x1 | 0x1000
IFACES = [
    Interface("lo", 0x9, ("127.0.0.1",)),
    Interface("eth0", UP_MC, ("192.0.2.10", "192.0.2.11")),
    Interface("docker0", UP_MC, ("172.17.0.1",)),
    Interface("br-5f3a2b", UP_MC, ("172.18.0.1",)),
    Interface("veth9a8b7c", UP_MC, ("169.254.3.3",)),
    Interface("podman0", UP_MC, ("10.88.0.1",)),
    Interface("wg0", UP_MC, ("10.7.0.2",)),
    Interface("wlan0", 0x1000, ("192.0.2.20",)),  # down
    Interface("eth1", UP_MC, ()),  # no address yet
    Interface("enp3s0", 0x1, ("192.0.2.30",)),  # no multicast
    Interface("end0", UP_MC, ("198.51.100.5",)),
]


def test_lan_interfaces_are_chosen_and_the_rest_skipped() -> None:
    assert [i.name for i in choose_interfaces(IFACES)] == ["eth0", "end0"]
    assert addresses_of(choose_interfaces(IFACES)) == ["192.0.2.10", "192.0.2.11", "198.51.100.5"]


def test_explicit_list_wins_but_only_usable_ones_are_used() -> None:
    assert [i.name for i in choose_interfaces(IFACES, ["wg0", "eth1", "wlan0"])] == ["wg0"]
    assert choose_interfaces(IFACES, []) == []


def test_explicit_unknown_interface_is_an_error() -> None:
    with pytest.raises(DiscoveryError, match="no such network interface: nope0, nope1"):
        choose_interfaces(IFACES, ["eth0", "nope0", "nope1"])


def test_real_interfaces_are_listed_and_loopback_never_chosen() -> None:
    names = {i.name: i for i in list_interfaces()}
    assert "127.0.0.1" in names["lo"].ipv4
    assert all(i.name != "lo" for i in choose_interfaces(names.values()))


def test_host_label() -> None:
    assert host_label("Smeshbox 3fa9c2") == "smeshbox-3fa9c2"
    assert host_label("Smeshbox 3fa9c2-2") == "smeshbox-3fa9c2-2"
    assert host_label("Ma Boîte  X") == "ma-bo-te-x"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"node_id_short": ""}, "1-16 letters/digits"),
        ({"node_id_short": "3fa9 c2"}, "1-16 letters/digits"),
        ({"node_id_short": "a" * 17}, "1-16 letters/digits"),
        ({"node_id_short": "3fa9.c2"}, "1-16 letters/digits"),
        ({"port": 0}, "port 0 outside"),
        ({"port": 70000}, "port 70000 outside"),
        ({"api_path": "api/v1"}, "must start with '/'"),
        ({"label_prefix": "My.Box"}, "without dots"),
        ({"label_prefix": "   "}, "without dots"),
        ({"label_prefix": "B" * 60}, "too long for a DNS label"),
    ],
)
def test_bad_configuration_is_refused(changes: dict, message: str) -> None:
    fields = {"node_id_short": "3fa9c2", "port": 80} | changes
    with pytest.raises(DiscoveryError, match=message):
        DiscoveryManager(DiscoveryConfig(**fields))


async def test_start_with_missing_interface_fails_clearly() -> None:
    manager = DiscoveryManager(DiscoveryConfig("3fa9c2", 80, interfaces=("nope0",)))
    with pytest.raises(DiscoveryError, match="nope0"):
        await manager.start()
    snap = manager.snapshot()
    assert snap.state == "failed" and "nope0" in (snap.error or "") and snap.addresses == []
    await manager.stop()
    assert manager.snapshot().state == "stopped"


async def test_empty_interface_list_announces_nowhere() -> None:
    """How a dev/test run of the daemon keeps mDNS off the host's network: ``interfaces=()``."""
    manager = DiscoveryManager(DiscoveryConfig("3fa9c2", 80, interfaces=()))
    await manager.start()
    try:
        snap = manager.snapshot()
        assert snap.state == "no_network" and snap.addresses == [] and manager._zc is None
    finally:
        await manager.stop()
