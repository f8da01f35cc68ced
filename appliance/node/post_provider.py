"""How the node gets PoST proofs: a small protocol the daemon implements (so proving can pre-empt
initialisation on the same drive), and a default that calls ``appliance.post.prover`` in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from appliance.node.wire import PostV1

if TYPE_CHECKING:  # the PoST package (and its native core) loads when the first proof is asked for
    from appliance.post.dataset import PostDataset


class PostUnavailable(Exception):
    """No PoST data (or not yet complete) for this identity."""


@dataclass(frozen=True)
class PostInfo:
    node_id: bytes
    commitment_atx_id: bytes
    num_units: int
    labels_per_unit: int
    vrf_nonce: int | None


class PostProvider(Protocol):
    async def info(self, node_id: bytes) -> PostInfo:
        """Metadata of the identity's complete PoST data; raises PostUnavailable otherwise."""

    async def prove(self, node_id: bytes, challenge: bytes) -> PostV1:
        """A verified PoST proof for ``challenge``; cancellable."""


class DirectPostProvider:
    """Proves with ``appliance.post.prover.generate_proof`` in a worker thread, one proof at a time."""

    def __init__(
        self,
        datasets: Mapping[bytes, PostDataset | Path],
        proof_config: object | None = None,
        nonces: int = 288,
        threads: int = 1,
        scrypt_n: int | None = None,  # None: what each dataset was made with (its init state)
        fast_mode: bool | None = None,
        pow_source: object | None = None,
    ) -> None:
        self.datasets = dict(datasets)
        self.pow_source = pow_source  # appliance.post.prover.PowSource (a remote k2pow-service) or None
        self.fast_mode = fast_mode  # RandomX fast mode (2 GiB); None lets appliance.post decide
        self.proof_config = proof_config
        self.nonces = nonces
        self.threads = threads
        self.scrypt_n = scrypt_n
        self._lock = asyncio.Lock()

    def _dataset(self, node_id: bytes) -> PostDataset:
        from appliance.post.dataset import PostDataset

        try:
            found = self.datasets[node_id]
        except KeyError:
            raise PostUnavailable(f"no PoST data for identity {node_id.hex()}") from None
        return found if isinstance(found, PostDataset) else PostDataset(found)

    async def info(self, node_id: bytes) -> PostInfo:
        from appliance.post.metadata import MetadataError
        from appliance.post.writer import InitError

        dataset = self._dataset(node_id)
        try:
            meta = await asyncio.to_thread(dataset.metadata)
            complete = await asyncio.to_thread(dataset.complete, meta)
        except (MetadataError, InitError, OSError) as exc:
            raise PostUnavailable(str(exc)) from exc
        if meta.node_id != node_id:
            raise PostUnavailable(f"PoST data in {dataset} belongs to another identity")
        if not complete:
            raise PostUnavailable("PoST data is not completely initialised yet")
        return PostInfo(
            meta.node_id, meta.commitment_atx_id, meta.num_units, meta.labels_per_unit, meta.nonce
        )

    async def prove(self, node_id: bytes, challenge: bytes, progress: object | None = None) -> PostV1:
        """``progress`` (an ``appliance.post.prover.ProgressFn``) is called from the proving thread."""
        from appliance.post.prover import generate_proof

        dataset = self._dataset(node_id)
        cancel = threading.Event()
        async with self._lock:
            task = asyncio.create_task(
                asyncio.to_thread(
                    generate_proof, dataset, challenge, self.proof_config, self.nonces, self.threads,
                    scrypt_n=self.scrypt_n, cancel=cancel, fast_mode=self.fast_mode,
                    progress=progress, pow_source=self.pow_source,
                )
            )  # fmt: skip
            try:
                proof = await asyncio.shield(task)
            except asyncio.CancelledError:
                cancel.set()  # the thread notices and stops; wait so the data is not read twice at once
                await asyncio.gather(task, return_exceptions=True)
                raise
        return PostV1(proof.nonce, proof.indices, proof.pow)
