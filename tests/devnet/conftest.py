"""Fixtures for devnet + light node tests: a running devnet, tiny real PoST datasets, a node manager."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from appliance.devnet.devnet import Devnet, DevnetConfig
from appliance.node.identity import Identity, generate
from appliance.node.lightnode import LightNode
from appliance.node.post_provider import DirectPostProvider


def make_dataset(root: Path, identity: Identity, devnet: Devnet, num_units: int = 2) -> Path:
    """A real (tiny) PoST dataset for ``identity``, made by appliance.post's initializer."""
    from appliance.post.initializer import Initializer
    from appliance.post.metadata import PostMetadata

    datadir = root / f"post-{identity.name}"
    meta = PostMetadata(
        node_id=identity.node_id,
        commitment_atx_id=devnet.golden_atx,
        labels_per_unit=devnet.chain.labels_per_unit,
        num_units=num_units,
        max_file_size=4096,
    )
    result = Initializer(datadir, meta, scrypt_n=devnet.chain.scrypt_n).run()
    assert result.complete and result.nonce is not None
    return datadir


def provider_for(devnet: Devnet, datadirs: dict[bytes, Path]) -> DirectPostProvider:
    return DirectPostProvider(
        datadirs,
        devnet.proof_config(),
        nonces=16,
        threads=1,
        scrypt_n=devnet.chain.scrypt_n,
        fast_mode=False,
    )


#: how much longer than its nominal limit a wait may take on a loaded machine: the limit only bounds a
#: hung test, and a slow CI runner must not turn a correct submission red
SLACK = float(os.environ.get("SMESHBOX_TEST_SLACK", "4"))


async def wait_for(condition: Callable[[], bool], limit: float, what: str) -> None:
    """Polls ``condition``; ``limit`` (times :data:`SLACK`) only bounds a hung test, it is not a
    speed assertion."""
    end = time.monotonic() + limit * SLACK
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for: {what}")
        await asyncio.sleep(0.1)


def node_grades(manager: LightNode, node_id: bytes) -> dict[int, str]:
    """publish epoch -> grade as the node itself recorded it ("pending" until its reply is in): the
    event a test waits on, rather than the gateway's copy, which arrives before the node commits."""
    status = manager.identity_status(node_id)
    return {a.epoch: a.grade for a in status.atx_history} if status is not None else {}


class Harness:
    def __init__(self, devnet: Devnet, tmp: Path) -> None:
        self.devnet = devnet
        self.tmp = tmp
        self.managers: list[LightNode] = []

    def identities(self, count: int = 1) -> tuple[list[Identity], dict[bytes, Path]]:
        idents = [generate(f"id{i}") for i in range(count)]
        return idents, {i.node_id: make_dataset(self.tmp, i, self.devnet) for i in idents}

    async def node(self, count: int = 1, time_source=None, **overrides) -> tuple[LightNode, list[Identity]]:
        idents, dirs = self.identities(count)
        manager = LightNode(
            self.devnet.node_config(**overrides),
            self.tmp / "state",
            provider_for(self.devnet, dirs),
            time_source=time_source or self.devnet.time,
            identities=idents,
        )
        await manager.start()
        self.managers.append(manager)
        return manager, idents

    def atxs(self, node_id: bytes) -> dict[int, str]:
        """publish epoch -> grade, as the gateway validated them."""
        state = self.devnet.gateway.state
        return {
            state.atxs[i].atx.publish_epoch: state.atxs[i].grade for i in state.by_smesher.get(node_id, [])
        }


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async for h in running_harness(tmp_path, DevnetConfig()):
        yield h


async def running_harness(tmp_path: Path, config: DevnetConfig) -> AsyncIterator[Harness]:
    """A started devnet of ``config`` and its harness; stops both (and every node) afterwards."""
    devnet = Devnet(config)
    await devnet.start()
    h = Harness(devnet, tmp_path)
    try:
        yield h
    finally:
        for manager in h.managers:
            await manager.stop()
        await devnet.stop()
