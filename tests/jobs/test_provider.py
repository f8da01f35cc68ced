"""The node's PoST provider on the box: proofs from the right drive, and every init on the box
paused while the proof runs (seen on the event bus), resumed after."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from appliance.chain import DEVNET
from appliance.config import PostSettings
from appliance.drives.volume import Volume
from appliance.events import EventBus, Topic
from appliance.jobs.manager import JobManager
from appliance.jobs.model import JobState
from appliance.jobs.provider import JobsPostProvider
from appliance.node.identity import generate
from appliance.node.post_provider import PostUnavailable
from appliance.post.dataset import PostDataset
from appliance.post.proof import ProofConfig

EASY = ProofConfig(8, 12, b"\xff" * 32)


def _volume(tmp_path: Path, name: str) -> Volume:
    top = tmp_path / name
    (top / "smeshbox").mkdir(parents=True)
    return Volume(name, top, PostDataset(top / "smeshbox"), name, generate(name).node_id, False, False)


async def _until(jobs: JobManager, drive_id: str, test, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3000):
        snap = next((j for j in jobs.snapshot() if j.drive_id == drive_id), None)
        if snap is not None and test(snap):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_proof_comes_from_the_drive_and_pauses_init_meanwhile(tmp_path: Path) -> None:
    bus = EventBus()
    bus.bind(asyncio.get_running_loop())
    settings = PostSettings(max_file_size=4096, free_margin=0, max_units=2, commitment_atx_id="11" * 32)
    chain = DEVNET.replace({"labels_per_unit": 256, "scrypt_n": 16})
    jobs = JobManager(bus, settings, chain, health_root=tmp_path / "none", measure_seconds=0.05)
    await jobs.start()
    try:
        done, busy = _volume(tmp_path, "done"), _volume(tmp_path, "busy")
        await jobs.volume_ready(done)
        await _until(jobs, "done", lambda j: j.state is JobState.READY, "the first dataset")
        provider = JobsPostProvider(jobs, EASY, nonces=16, threads=1, fast_mode=False)
        info = await provider.info(done.node_id)
        assert (info.node_id, info.num_units, info.labels_per_unit) == (done.node_id, 2, 256)

        jobs.settings = PostSettings(max_file_size=1 << 20, free_margin=0, max_units=4,
                                     commitment_atx_id="11" * 32)
        jobs.chain = DEVNET.replace({"labels_per_unit": 1 << 16, "scrypt_n": 512})
        await jobs.volume_ready(busy)
        await _until(jobs, "busy", lambda j: j.position > 0, "the second drive to initialize")
        with pytest.raises(PostUnavailable, match="no drive with complete PoST data"):
            await provider.prove(busy.node_id, b"\x01" * 32)

        async with bus.subscribe() as events:
            proof = await provider.prove(done.node_id, b"\x02" * 32)
            seen = []
            while not events.empty():
                event = events.get_nowait()
                if event.topic is Topic.JOBS:
                    seen.append({j.drive_id: j.state for j in event.data})
        assert proof.indices and isinstance(proof.nonce, int)
        during = [s for s in seen if s.get("done") == "proving"]
        assert during and all(s["busy"] == "paused" for s in during), seen
        await _until(jobs, "busy", lambda j: j.state is JobState.INITIALIZING, "init to resume")
        with pytest.raises(PostUnavailable):
            await provider.info(generate("stranger").node_id)
    finally:
        await jobs.stop()


async def test_data_made_elsewhere_is_proven_with_the_chains_scrypt_n(tmp_path: Path) -> None:
    """A dataset made on a PC records no init state; the box proves it with its chain's N (16
    here), not mainnet's 8192 — with the wrong N the prover's own verification refuses the proof."""
    from appliance.post.initializer import Initializer
    from appliance.post.metadata import PostMetadata
    from appliance.post.writer import STATE_FILE

    chain = DEVNET.replace({"labels_per_unit": 256, "scrypt_n": 16})
    volume = _volume(tmp_path, "adopted")
    meta = PostMetadata(volume.node_id, b"\x11" * 32, chain.labels_per_unit, 2, 4096)
    assert Initializer(volume.datadir, meta, scrypt_n=chain.scrypt_n).run().complete
    (volume.datadir / STATE_FILE).unlink()  # what postcli leaves: labels and metadata only
    volume = Volume(volume.drive_id, volume.mountpoint, volume.dataset, volume.identity, volume.node_id,
                    read_only=False, has_data=True)
    settings = PostSettings(max_file_size=4096, free_margin=0, max_units=2, commitment_atx_id="11" * 32)
    jobs = JobManager(EventBus(), settings, chain, health_root=tmp_path / "none", measure_seconds=0.05)
    await jobs.start()
    try:
        await jobs.volume_ready(volume)
        await _until(jobs, "adopted", lambda j: j.state is JobState.READY, "the adopted dataset")
        provider = JobsPostProvider(jobs, EASY, nonces=16, threads=1, fast_mode=False)
        proof = await provider.prove(volume.node_id, b"\x03" * 32)
        assert proof.indices
    finally:
        await jobs.stop()
