"""The two ways the box earns, both composed here: the built-in light node (``NodeSupervisor``
over the jobs' PoST provider) and node mode ("with my Spacemesh node": the settings store, the
supervisor of the per-identity post-services, the page's service). With ``--dev`` the devnet's
go-spacemesh node (``appliance.devnet.fakenode``) is offered as node mode's "devnet" preset, so
the whole journey can be seen and tested locally (``./dev run``, onboarding: "with my Spacemesh
node"). Node mode idles while the light node is chosen, and pauses the light node while chosen."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from appliance.errors import ServiceError
from appliance.jobs.manager import JobManager, NotReadyError, PlanLockedError
from appliance.jobs.provider import JobsPostProvider
from appliance.node.address import parse_address
from appliance.node.identity import Identity, IdentityStore
from appliance.node.nodemode import NetworkPreset, NodeModeError, NodeModeStore
from appliance.node.nodemode_service import NodeModeService
from appliance.node.remote import NodeModeSupervisor
from appliance.node.supervisor import NodeSupervisor
from appliance.settings import SettingsStore

if TYPE_CHECKING:
    from appliance.composition.box import Box
    from appliance.devnet.devnet import Devnet
    from appliance.devnet.fakenode import FakeNode
    from appliance.post.proof import ProofConfig

log = logging.getLogger(__name__)

NODEMODE_DIR = "nodemode"
#: how often the devnet node asks for a NIPoST proof (its PoET round), in seconds
DEV_ROUND_SECONDS = 60.0
#: nonces tried per pass of a proof (post-rs's default)
NONCES = 288


def settings_store(box: Box) -> SettingsStore:
    """The person's settings (reward address, box name), read by the node and discovery too."""
    address = functools.partial(parse_address, hrp=box.network.hrp)
    return SettingsStore(box.layout.root / "web", address, box.bus)


def post_provider(box: Box, proof: ProofConfig | None) -> JobsPostProvider:
    """Proofs from the jobs' datasets (proving pauses every init on the box)."""
    return JobsPostProvider(box.jobs, proof, nonces=NONCES, threads=box.config.post.threads,
                            fast_mode=False if box.options.dev else None)


def light_node(box: Box) -> NodeSupervisor:
    """The built-in light node: smeshes every identity whose data is complete."""
    store, jobs, settings = box.identities, box.jobs, box.settings

    async def identities() -> list[Identity]:
        found = []
        for volume in jobs.ready_volumes():
            with contextlib.suppress(Exception):  # a broken key is the drive manager's to report
                found.append(await asyncio.to_thread(store.load, volume.identity))
        return found

    supervisor = NodeSupervisor(
        box.bus, box.network.node_state_dir, post_provider(box, box.network.proof_config),
        box.network.node_config, box.network.hrp, lambda: settings.current.reward_address, identities,
        box.network.time_source, default_coinbase=box.network.default_coinbase, tasks=box.tasks,
        paused=box.nodemode.light_node_paused,
        servers=lambda: (settings.current.poet_servers, settings.current.gateways),
    )
    box.jobs.add_dataset_listener(supervisor)  # it wakes when a dataset becomes ready or is lost
    return supervisor


@dataclass
class NodeMode:
    store: NodeModeStore
    supervisor: NodeModeSupervisor
    service: NodeModeService
    fake_node: FakeNode | None = None  # with --dev

    def light_node_paused(self) -> str | None:
        if self.store.current.mode == "node":
            return "the box earns with your Spacemesh node (node mode); the built-in light node is off"
        return None

    async def stop(self) -> None:
        await self.supervisor.stop()
        if self.fake_node is not None:
            await self.fake_node.stop()


async def _dev_node(devnet: Devnet) -> tuple[FakeNode, NetworkPreset]:
    from appliance.devnet.fakenode import FakeNode, NodePostConfig

    chain = devnet.chain
    node = FakeNode(
        NodePostConfig(chain.k1, chain.k2, chain.pow_difficulty, chain.labels_per_unit, chain.scrypt_n,
                       chain.min_num_units),
        highest_atx=chain.golden_atx,
    )
    address = await node.start("127.0.0.1", 0)
    node.start_smeshing(DEV_ROUND_SECONDS)
    log.info('devnet: a go-spacemesh node\'s post listener on http://%s (preset "devnet")', address)
    preset = NetworkPreset.from_chain(
        chain, name="devnet", default_address=f"http://{address}", default_public_api=address,
        genesis=time.time(), epoch_seconds=DEV_ROUND_SECONDS, phase_shift=0.0, cycle_gap=0.0,  # its rounds
    )  # fmt: skip
    return node, preset


async def start_node_mode(box: Box) -> NodeMode:
    """Starts node mode's supervisor (it idles while the light node is chosen)."""
    fake_node, presets = None, {}
    if box.network.devnet is not None:
        fake_node, presets["devnet"] = await _dev_node(box.network.devnet)
    directory = box.layout.root / NODEMODE_DIR
    try:
        store = NodeModeStore(directory, presets, default_preset=next(iter(presets), "mainnet"))
    except NodeModeError as exc:  # a damaged file: start from defaults, say so, keep the file
        log.error("%s; node mode starts from its defaults", exc)
        damaged = directory / "config.json"
        damaged.rename(damaged.with_suffix(".damaged"))
        store = NodeModeStore(directory, presets)
    jobs, identities, post = box.jobs, box.identities, box.config.post

    def datasets() -> list[tuple[bytes, str, str]]:
        return [(bytes.fromhex(j.node_id), j.identity, j.drive_id) for j in jobs.snapshot() if j.node_id]

    def provider_for(preset: NetworkPreset) -> JobsPostProvider:
        return post_provider(box, preset.proof_config())

    def apply_commitment(atx: str) -> None:
        post.commitment_atx_id = atx  # the jobs read it when they plan a new dataset

    async def adopt_identity(drive_id: str, identity: Identity) -> None:
        await adopt_for_dataset(jobs, identities, drive_id, identity)

    supervisor = NodeModeSupervisor(box.bus, store, provider_for, datasets)
    service = NodeModeService(
        box.bus, store, supervisor, identities, datasets, apply_commitment=apply_commitment,
        default_commitment=post.commitment_atx_id, adopt_identity=adopt_identity,
    )
    await supervisor.start()
    mode = NodeMode(store, supervisor, service, fake_node)
    box.lifecycle.started(mode)
    return mode


async def adopt_for_dataset(jobs: JobManager, identities: IdentityStore, drive_id: str,
                            identity: Identity) -> None:
    """Makes the dataset on ``drive_id`` for ``identity`` (a key from the person's node): the drive's
    own identity key is kept beside it (``<name>.replaced-<id>.key``, nothing is lost), the key is
    stored under the drive's identity name, and the dataset is planned again at the same size —
    which the jobs allow only for this box's own unfinished data (its labels are discarded);
    complete or imported data is refused before anything is written."""
    volume = jobs.volume(drive_id)
    snap = next((j for j in jobs.snapshot() if j.drive_id == drive_id), None)
    if volume is None or snap is None:
        raise ServiceError(f"drive {drive_id} has no dataset", "not_found")
    if snap.state.value in ("ready", "proving", "checking"):
        raise ServiceError(
            f"the dataset on drive {drive_id} is complete for identity {volume.node_id.hex()}; its data "
            "cannot change identity (format the drive to start over for another one)", "conflict",
        )  # fmt: skip
    old = await asyncio.to_thread(identities.load, volume.identity)
    keep = dataclasses.replace(old, name=f"{volume.identity}.replaced-{old.node_id.hex()[:8]}")
    await asyncio.to_thread(identities.save, keep, True)
    await asyncio.to_thread(identities.save, dataclasses.replace(identity, name=volume.identity), True)
    await jobs.volume_ready(dataclasses.replace(volume, node_id=identity.node_id))
    try:
        # labels depend on the identity: none of those written for the old key can be kept
        await jobs.allocate(drive_id, snap.max_bytes, keep_labels=False)
    except (PlanLockedError, NotReadyError) as exc:  # put everything back as it was
        await asyncio.to_thread(identities.save, old, True)
        await jobs.volume_ready(volume)
        raise ServiceError(str(exc), "conflict") from exc
    log.info("drive %s: its dataset is now made for identity %s (key from the node)",
             drive_id, identity.node_id.hex())
