"""mDNS between two "hosts": network namespaces joined by a veth pair (addresses from TEST-NET-2,
a multicast route on each side). The announcer runs in one namespace, a zeroconf browser in the
other finds ``_smeshbox._tcp`` and fetches the API through the resolved address."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root, pytest.mark.slow]

NODE = str(Path(__file__).with_name("_ns_node.py"))
ADDR = {"a": "198.51.100.1", "b": "198.51.100.2"}
SHORT = "3fa9c2"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Lan:
    ns: dict[str, str]


@pytest.fixture(scope="module")
def lan() -> Iterator[Lan]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 (ip) is not installed: scripts/apt/discovery.txt")
    ns = {side: f"sbxd{os.getpid()}{side}" for side in "ab"}
    try:
        for name in ns.values():
            ip("netns", "add", name)
        ip("-n", ns["a"], "link", "add", "lan0", "type", "veth", "peer", "name", "lan0", "netns", ns["b"])
        for side, name in ns.items():
            ip("-n", name, "addr", "add", f"{ADDR[side]}/24", "dev", "lan0")
            ip("-n", name, "link", "set", "lo", "up")
            ip("-n", name, "link", "set", "lan0", "up")
            ip("-n", name, "route", "add", "224.0.0.0/4", "dev", "lan0")
        yield Lan(ns)
    finally:
        for name in ns.values():
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


class Node:
    """One ``_ns_node.py`` process inside a namespace, talking JSON lines."""

    def __init__(self, ns: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, NODE, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def line(self, timeout: float = 30.0):  # type: ignore[no-untyped-def]
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                self.close()
                pytest.fail(f"no answer from {self.proc.args} within {timeout}s")
        text = self.proc.stdout.readline()
        if not text:
            self.proc.wait(10)
            pytest.fail(f"{self.proc.args} exited {self.proc.returncode}: {self.proc.stderr.read()}")  # type: ignore[union-attr]
        return json.loads(text)

    def ask(self, command: str):  # type: ignore[no-untyped-def]
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.line()

    def close(self) -> str:
        """Stops the node (EOF on stdin = clean stop with goodbyes); returns its stderr."""
        if self.proc.returncode is not None:
            return ""
        try:  # communicate() closes stdin: EOF
            _, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.close()


def announce(nodes: list[Node], ns: str, port: int, tag: str, *extra: str) -> tuple[Node, dict]:
    node = Node(ns, "announce", "--short", SHORT, "--port", str(port), "--tag", tag, *extra)
    nodes.append(node)
    return node, node.line()


def browse(ns: str, want: int) -> list[dict]:
    return Node(ns, "browse", "--want", str(want), "--timeout", "15").line(timeout=45)


def test_browser_in_other_namespace_finds_the_box_and_fetches_the_api(lan: Lan, nodes: list[Node]) -> None:
    _, snap = announce(nodes, lan.ns["a"], 8401, "A")  # interfaces chosen automatically
    assert snap["state"] == "announced"
    assert snap["interfaces"] == ["lan0"] and snap["addresses"] == [ADDR["a"]]  # loopback skipped
    assert snap["name"] == snap["requested_name"] == f"Smeshbox {SHORT}" and not snap["renamed"]
    assert snap["http_name"] == snap["name"] and snap["hostname"] == f"smeshbox-{SHORT}.local"

    [box] = browse(lan.ns["b"], want=1)
    assert box["name"] == f"Smeshbox {SHORT}" and box["host"] == f"smeshbox-{SHORT}.local"
    assert box["addresses"] == [ADDR["a"]] and box["port"] == 8401
    assert (box["node"], box["api_path"], box["version"]) == (SHORT, "/api/v1", "0.1.0")
    assert box["health"] == {"status": "ok", "tag": "A"}  # fetched through the resolved address

    # The same through the find command a person would type.
    code = "import argparse, sys; from appliance.discovery import cli; p = argparse.ArgumentParser(); "
    code += "cli.register(p); sys.exit(cli.run(p.parse_args(['--timeout', '3', '--json'])))"
    proc = subprocess.run(
        ["ip", "netns", "exec", lan.ns["b"], sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    [found] = json.loads(proc.stdout)
    assert found["name"] == f"Smeshbox {SHORT}" and found["api_url"] == f"http://{ADDR['a']}:8401/api/v1"


def test_second_box_with_the_same_name_is_renamed(lan: Lan, nodes: list[Node]) -> None:
    _, first = announce(nodes, lan.ns["a"], 8401, "A")
    _, second = announce(nodes, lan.ns["b"], 8402, "B", "--interfaces", "lan0")
    assert first["name"] == f"Smeshbox {SHORT}" and not first["renamed"]
    assert second["name"] == f"Smeshbox {SHORT}-2" and second["renamed"]
    assert second["hostname"] == f"smeshbox-{SHORT}-2.local"

    boxes = browse(lan.ns["a"], want=2)
    assert [b["name"] for b in boxes] == [f"Smeshbox {SHORT}", f"Smeshbox {SHORT}-2"]
    assert [(b["addresses"], b["port"], b["health"]["tag"]) for b in boxes] == [
        ([ADDR["a"]], 8401, "A"),
        ([ADDR["b"]], 8402, "B"),
    ]


def test_new_address_is_reannounced(lan: Lan, nodes: list[Node]) -> None:
    node, snap = announce(nodes, lan.ns["a"], 8401, "A")
    assert snap["addresses"] == [ADDR["a"]]
    extra = "198.51.100.11"
    ip("-n", lan.ns["a"], "addr", "add", f"{extra}/24", "dev", "lan0")
    try:
        snap = node.ask(f"wait-address {extra}")
        assert snap["addresses"] == [ADDR["a"], extra] and snap["state"] == "announced"
        # The updated records go out as the node re-registers; a browser that asked a moment
        # earlier may still be handed the old set, so ask again a few times before judging.
        for _ in range(5):
            [box] = browse(lan.ns["b"], want=1)
            if sorted(box["addresses"]) == sorted([ADDR["a"], extra]):
                break
            time.sleep(1)
        assert sorted(box["addresses"]) == sorted([ADDR["a"], extra])
    finally:
        ip("-n", lan.ns["a"], "addr", "del", f"{extra}/24", "dev", "lan0")


def test_services_withdrawn_without_address_and_back_when_it_returns(lan: Lan, nodes: list[Node]) -> None:
    node, snap = announce(nodes, lan.ns["a"], 8401, "A")
    ip("-n", lan.ns["a"], "addr", "del", f"{ADDR['a']}/24", "dev", "lan0")
    try:
        snap = node.ask("wait-state no_network")
        assert snap["addresses"] == [] and snap["interfaces"] == []
    finally:
        ip("-n", lan.ns["a"], "addr", "add", f"{ADDR['a']}/24", "dev", "lan0")
        ip("-n", lan.ns["a"], "route", "replace", "224.0.0.0/4", "dev", "lan0")
    snap = node.ask("wait-state announced")
    assert snap["addresses"] == [ADDR["a"]] and snap["name"] == f"Smeshbox {SHORT}"
    [box] = browse(lan.ns["b"], want=1)
    assert box["health"] == {"status": "ok", "tag": "A"}


def test_a_new_box_name_from_settings_is_announced(lan: Lan, nodes: list[Node]) -> None:
    node, first = announce(nodes, lan.ns["a"], 8401, "A", "--host-name", "smeshbox")
    assert first["hostname"] == "smeshbox.local"
    node.ask("rename attic")  # what SettingsStore publishes when the person saves a new box name
    assert node.ask("wait-hostname attic.local")["hostname"] == "attic.local"
    [box] = browse(lan.ns["b"], want=1)  # another computer on the LAN finds it under the new name
    assert box["host"] == "attic.local" and box["health"]["tag"] == "A"


def test_the_promised_name_when_free_and_a_suffix_on_a_clash(lan: Lan, nodes: list[Node]) -> None:
    _, first = announce(nodes, lan.ns["a"], 8401, "A", "--host-name", "smeshbox")
    assert first["hostname"] == "smeshbox.local"  # nobody else answers for it: the README's name
    _, second = announce(nodes, lan.ns["b"], 8402, "B", "--interfaces", "lan0", "--host-name", "smeshbox")
    assert second["hostname"] == "smeshbox-2.local"  # box A answers smeshbox.local: a suffix
    # what a person's `find` prints: a table naming the address to open
    code = "import argparse, sys; from appliance.discovery import cli; p = argparse.ArgumentParser(); "
    code += "cli.register(p); sys.exit(cli.run(p.parse_args(['--timeout', '4'])))"
    proc = subprocess.run(["ip", "netns", "exec", lan.ns["b"], sys.executable, "-c", code],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "http://smeshbox.local:8401/" in proc.stdout and "box" in proc.stdout.splitlines()[-1]


def test_helper_finds_the_box_by_its_local_name(lan: Lan, nodes: list[Node]) -> None:
    """``python -m appliance helper --box smeshbox.local`` on a PC: the name is looked up over mDNS
    (``discovery.resolve_host``), not through the PC's own resolver; an unknown name is a clear error."""
    _, snap = announce(nodes, lan.ns["a"], 8401, "A", "--host-name", "smeshbox")
    assert snap["hostname"] == "smeshbox.local"
    code = (
        "import sys; from appliance.peers.helper import HelperError, _box_url\n"
        "print(_box_url(sys.argv[1]))\n"
        "try:\n    _box_url('nothere.local')\nexcept HelperError as exc:\n    print(exc)\n"
    )
    proc = subprocess.run(
        ["ip", "netns", "exec", lan.ns["b"], sys.executable, "-c", code, "smeshbox.local:8401"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found, refused = proc.stdout.splitlines()
    assert found == f"https://{ADDR['a']}:8401"
    assert refused.startswith("nothing answered for nothere.local on the LAN (mDNS)"), refused
