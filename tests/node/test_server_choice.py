"""The PoET servers and gateway from Settings reach the light node's client config: the node
supervisor builds the config with them, and a changed choice is a different config (the node is
restarted with it); PoETs are known by their pinned keys, so only the network's can be chosen."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from appliance.chain import DEVNET
from appliance.events import EventBus
from appliance.node.config import NodeConfig, NodeConfigError, PoetServer
from appliance.node.supervisor import NodeSupervisor

PIN, PIN2 = b"\x02" * 32, b"\x04" * 32


def _network(coinbase: bytes) -> NodeConfig:
    return NodeConfig(DEVNET.at_genesis(100.0),
                      poets=(PoetServer("https://poet.net", PIN), PoetServer("https://poet-2.net", PIN2)),
                      gateway_url="https://gw.net", coinbase=coinbase)


def test_with_servers_keeps_pins_and_checks_urls() -> None:
    net = _network(bytes(24))
    assert net.with_servers([], []) == net
    mine = net.with_servers(["https://poet-2.net/", "https://poet.net"], ["http://my-gw.lan"])
    assert mine.poets == (PoetServer("https://poet-2.net/", PIN2), PoetServer("https://poet.net", PIN))
    assert mine.gateway_url == "http://my-gw.lan" and mine.chain == net.chain
    for bad in (["ftp://poet"], ["poet.example"], ["http://"]):
        with pytest.raises(NodeConfigError, match="not an http"):
            net.with_servers(bad, [])
    with pytest.raises(NodeConfigError, match="not one of this network's"):
        net.with_servers(["http://my-poet.lan:8080"], [])  # its key is unknown: never used unpinned
    unpinned = dataclasses.replace(net, poets=(PoetServer("http://poet.lan"),))
    assert unpinned.with_servers(["http://other.lan"], []).poets == (PoetServer("http://other.lan"),)


def test_the_supervisor_builds_the_node_config_with_the_person_s_servers(tmp_path: Path) -> None:
    chosen: list[tuple[list[str], list[str]]] = [([], [])]
    supervisor = NodeSupervisor(EventBus(), tmp_path, provider=None, network=_network,  # type: ignore[arg-type]
                                hrp="sm", reward_address=lambda: "", identities=None,  # type: ignore[arg-type]
                                default_coinbase=b"\x03" * 24, servers=lambda: chosen[0])
    network = supervisor._wanted_config()
    assert network is not None and network.gateway_url == "https://gw.net"
    chosen[0] = (["https://poet-2.net"], ["https://gw.lan"])
    mine = supervisor._wanted_config()
    assert mine is not None and mine != network  # _reconcile restarts the node on a new config
    assert [p.url for p in mine.poets] == ["https://poet-2.net"] and mine.gateway_url == "https://gw.lan"
    chosen[0] = (["gopher://old"], [])  # a hand-edited settings file: refused with the reason shown
    assert supervisor._wanted_config() is None
    assert "servers in Settings cannot be used" in supervisor.snapshot().reason
