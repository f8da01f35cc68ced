"""The node supervisor wakes on what it needs — a dataset became ready or was lost — not on every
init progress event: counted as re-reads of the network (``network.json``) while a real init runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from appliance.chain import DEVNET
from appliance.config import PostSettings
from appliance.drives.volume import Volume
from appliance.events import EventBus, Topic
from appliance.jobs.manager import JobManager
from appliance.jobs.model import JobState
from appliance.node.config import NodeConfig
from appliance.node.identity import generate
from appliance.node.supervisor import NodeSupervisor
from appliance.post.dataset import PostDataset
from tests.asyncwait import until

ATX = "cd" * 32


async def _until(predicate: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    await until(predicate, what, timeout)


def _volume(tmp_path: Path, name: str) -> Volume:
    top = tmp_path / name
    (top / "smeshbox").mkdir(parents=True)
    return Volume(drive_id=name, mountpoint=top, dataset=PostDataset(top / "smeshbox"), identity=name,
                  node_id=generate(name).node_id, read_only=False, has_data=False)


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def dataset_ready(self, drive_id: str, node_id: bytes) -> None:
        self.calls.append(("ready", drive_id))

    def dataset_lost(self, drive_id: str) -> None:
        self.calls.append(("lost", drive_id))


async def test_progress_does_not_wake_the_node_supervisor(tmp_path: Path) -> None:
    bus = EventBus()
    settings = PostSettings(commitment_atx_id=ATX, max_file_size=1 << 24, free_margin=0, max_units=4,
                            threads=1)
    chain = DEVNET.replace({"labels_per_unit": 1 << 20, "scrypt_n": 16, "min_num_units": 1})
    jobs = JobManager(bus, settings, chain, health_root=tmp_path / "sysfs", measure_seconds=0.05)
    reads: list[bytes] = []

    def network(coinbase: bytes) -> NodeConfig | None:
        reads.append(coinbase)  # on a box this reads <state>/network.json
        return None

    async def identities() -> list:  # type: ignore[type-arg]
        raise AssertionError("no network: the key files are never read")

    supervisor = NodeSupervisor(bus, tmp_path / "node", provider=None, network=network,  # type: ignore[arg-type]
                                hrp="sm", reward_address=lambda: "", identities=identities,
                                default_coinbase=b"\x01" * 24)
    recorder = _Recorder()
    jobs.add_dataset_listener(supervisor)
    jobs.add_dataset_listener(recorder)
    await jobs.start()
    await supervisor.start()
    try:
        await _until(lambda: reads, "the first reconcile")
        async with bus.subscribe() as events:
            await jobs.volume_ready(_volume(tmp_path, "big"))
            progress = 0
            while progress < 6:  # three seconds of a real init: six progress events
                event = await asyncio.wait_for(events.get(), 60)
                if event.topic is Topic.JOBS and any(j.state is JobState.INITIALIZING for j in event.data):
                    progress += 1
        await asyncio.sleep(0.1)  # a wake would reconcile now
        assert len(reads) == 1, f"{len(reads) - 1} re-reads of the network during init progress"
        assert recorder.calls == []
        await jobs.volume_lost("big", "unplugged")
        assert recorder.calls == []  # it was never ready: nothing lost
    finally:
        await supervisor.stop()
        await jobs.stop()


async def test_ready_and_lost_wake_it_once_each(tmp_path: Path) -> None:
    bus = EventBus()
    settings = PostSettings(commitment_atx_id=ATX, max_file_size=4096, free_margin=0, max_units=2, threads=1)
    chain = DEVNET.replace({"labels_per_unit": 1024, "scrypt_n": 16, "min_num_units": 1})
    jobs = JobManager(bus, settings, chain, health_root=tmp_path / "sysfs", measure_seconds=0.05)
    reads: list[bytes] = []
    supervisor = NodeSupervisor(bus, tmp_path / "node", provider=None,  # type: ignore[arg-type]
                                network=lambda c: reads.append(c),  # type: ignore[arg-type,func-returns-value]
                                hrp="sm", reward_address=lambda: "", identities=None,  # type: ignore[arg-type]
                                default_coinbase=b"\x01" * 24)
    recorder = _Recorder()
    jobs.add_dataset_listener(recorder)
    jobs.add_dataset_listener(supervisor)
    await jobs.start()
    await supervisor.start()
    try:
        await _until(lambda: reads, "the first reconcile")
        volume = _volume(tmp_path, "small")
        await jobs.volume_ready(volume)
        await _until(lambda: recorder.calls, "the dataset to be ready")
        assert recorder.calls == [("ready", "small")]
        await _until(lambda: len(reads) == 2, "the supervisor to look again")
        await jobs.volume_lost("small", "unplugged")
        assert recorder.calls == [("ready", "small"), ("lost", "small")]
        await _until(lambda: len(reads) == 3, "the supervisor to look again")
        await jobs.volume_ready(volume)  # plugged in again: complete data, ready without a new init
        await _until(lambda: len(recorder.calls) == 3, "ready again")
        assert recorder.calls[-1] == ("ready", "small")
        late = _Recorder()
        jobs.add_dataset_listener(late)  # a listener added later hears what is ready now
        assert late.calls == [("ready", "small")]
        await asyncio.sleep(0.2)
        assert len(reads) == 4
    finally:
        await supervisor.stop()
        await jobs.stop()
