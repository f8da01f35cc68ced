"""The node's PoST provider on the box (``appliance.node.post_provider.PostProvider``).

Proofs come from the drive that holds the identity's complete data, and while a proof is being
generated every initialization on the box pauses at a durable point (``JobManager.proving``):
proving deadlines pre-empt init. The proving itself is ``appliance.post.prover`` via the node's
``DirectPostProvider``, pointed at that drive.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from appliance.drives.volume import Volume
from appliance.jobs.manager import JobManager, NotReadyError
from appliance.node.post_provider import DirectPostProvider, PostInfo, PostUnavailable
from appliance.node.wire import PostV1

if TYPE_CHECKING:
    from appliance.post.proof import ProofConfig


class JobsPostProvider:
    def __init__(self, jobs: JobManager, proof_config: ProofConfig | None = None, nonces: int = 288,
                 threads: int = 1, fast_mode: bool | None = None) -> None:
        self.jobs = jobs
        self.proof_config = proof_config
        self.nonces = nonces
        self.threads = threads
        self.fast_mode = fast_mode

    def _volume(self, node_id: bytes) -> Volume:
        for volume in self.jobs.ready_volumes():
            if volume.node_id == node_id:
                return volume
        raise PostUnavailable(
            f"no drive with complete PoST data for identity {node_id.hex()} is plugged in"
        )

    def _direct(self, volume: Volume) -> DirectPostProvider:
        # The dataset itself says which scrypt N its labels were made with; data made elsewhere
        # records none and was made for this box's chain.
        dataset = dataclasses.replace(volume.dataset, default_scrypt_n=self.jobs.chain.scrypt_n)
        return DirectPostProvider({volume.node_id: dataset}, self.proof_config, self.nonces,
                                  self.threads, fast_mode=self.fast_mode)

    async def info(self, node_id: bytes) -> PostInfo:
        volume = self._volume(node_id)
        return await self._direct(volume).info(node_id)

    async def prove(self, node_id: bytes, challenge: bytes, progress: object | None = None) -> PostV1:
        """``progress`` (``appliance.post.prover.ProgressFn``) is called from the proving thread."""
        volume = self._volume(node_id)
        try:
            async with self.jobs.proving(volume.drive_id) as held:
                return await self._direct(held).prove(node_id, challenge, progress)
        except NotReadyError as exc:
            raise PostUnavailable(str(exc)) from exc
