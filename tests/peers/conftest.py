"""Fixtures of the peers tests: a real PeersService (its own redis-server on loopback) and tiny
PoST parameters, and network namespaces (a veth pair each) for helpers on "another computer"."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.peers.service import PeersService
from appliance.post.metadata import PostMetadata

NODE_ID = bytes([1]) * 32
ATX_ID = bytes([2]) * 32
ROOT = Path(__file__).resolve().parents[2]
_COUNTER = itertools.count()


@pytest.fixture
def service(tmp_path: Path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing (scripts/apt/peers.txt)")
    svc = PeersService(tmp_path / "state")
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
def tiny_meta() -> PostMetadata:
    return PostMetadata(NODE_ID, ATX_ID, 256, 2, 1024)


@dataclass
class Netns:
    name: str
    host_ip: str
    ns_ip: str

    def run(self, *argv: str, **kwargs) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.name, *argv], cwd=ROOT, text=True, start_new_session=True, **kwargs
        )


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def netns():
    if os.geteuid() != 0:
        pytest.fail("the peers end-to-end test needs root (network namespaces)")
    made: list[str] = []

    def make() -> Netns:
        tag = f"{os.getpid() % 100000}x{next(_COUNTER)}"
        name, host_if, ns_if = f"sbp{tag}", f"sbh{tag}", f"sbn{tag}"
        net = f"10.{random.randint(64, 127)}.{random.randint(0, 255)}.{random.randint(0, 63) * 4}"
        base = net.rsplit(".", 1)
        host_ip, ns_ip = f"{base[0]}.{int(base[1]) + 1}", f"{base[0]}.{int(base[1]) + 2}"
        _ip("netns", "add", name)
        made.append(name)
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("link", "set", ns_if, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("-n", name, "addr", "add", f"{ns_ip}/30", "dev", ns_if)
        _ip("-n", name, "link", "set", ns_if, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        return Netns(name, host_ip, ns_ip)

    yield make
    for name in made:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
