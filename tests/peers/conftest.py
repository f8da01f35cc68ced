"""Fixtures of the peers tests: a real PeersService (its own redis-server on loopback) and tiny
PoST parameters."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance.peers.service import PeersService
from appliance.post.metadata import PostMetadata

NODE_ID = bytes([1]) * 32
ATX_ID = bytes([2]) * 32


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
