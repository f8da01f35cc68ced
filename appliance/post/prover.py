"""Proof generation (spec §4): passes of nonces, a k2pow per nonce group, a multi-threaded AES scan
over 1 MiB batches, per-nonce index lists, the first nonce to collect k2 indices wins.

The proof is verified with ``appliance.post.verifier`` before it is returned. Proving is
cancellable through a ``threading.Event`` (the daemon pauses init while it proves, and may stop a
proof on shutdown); batch results are consumed in file order, so with one thread the result is
exactly post-rs's ``proving_vector`` order.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from appliance.post import k2pow, native
from appliance.post.dataset import PostDataset
from appliance.post.layout import Batch, iter_batches
from appliance.post.params import (
    aes_key,
    compress_indices,
    lazy_key,
    proving_difficulty,
    required_bits,
    scale_pow_difficulty,
)
from appliance.post.proof import Proof, ProofConfig
from appliance.post.remote_k2pow import RemoteK2powError
from appliance.post.verifier import VerifyError, verify_proof

log = logging.getLogger(__name__)

DEFAULT_NONCES = 288
MAX_GROUP = 255


class ProofError(RuntimeError):
    """No proof could be produced (or it failed its own verification)."""


class ProvingCancelled(ProofError):
    pass


@dataclass(frozen=True)
class ProveProgress:
    """Pass ``pass_index`` tries nonces [nonce_start, nonce_end). In stage "k2pow" ``position`` counts the
    nonce groups whose pow is found (of ``total`` groups); in stage "scan" the labels scanned (of all)."""

    pass_index: int
    nonce_start: int
    nonce_end: int
    stage: str
    position: int
    total: int


ProgressFn = Callable[[ProveProgress], None]
#: computes the k2pows of one pass elsewhere (post-rs's ``pow::Prover::prove_many``, e.g. a remote
#: k2pow-service): (nonce groups, challenge, miner id, scaled difficulty, cancel) -> one pow per group
PowSource = Callable[[Sequence[int], bytes, bytes, bytes, threading.Event], list[int]]


@dataclass(frozen=True)
class PassKeys:
    """The AES keys of one pass: K_g per group, L_n per nonce, and the pows they came from."""

    first_group: int
    pows: tuple[int, ...]
    keys: bytes
    lazy_keys: bytes

    @classmethod
    def derive(cls, challenge: bytes, first_group: int, pows: Iterable[int]) -> PassKeys:
        pows = tuple(pows)
        keys = b"".join(aes_key(challenge, first_group + i, pow_) for i, pow_ in enumerate(pows))
        lazy = b"".join(
            lazy_key(challenge, group, pow_, group * native.NONCES_PER_AES + j)
            for group, pow_ in enumerate(pows, start=first_group)
            for j in range(native.NONCES_PER_AES)
        )
        return cls(first_group, pows, keys, lazy)

    def pow_for(self, nonce: int) -> int:
        return self.pows[nonce // native.NONCES_PER_AES - self.first_group]


def scan_for_proof(
    batches: Iterable[Batch],
    keys: PassKeys,
    difficulty: int,
    k2: int,
    threads: int = 1,
    cancel: threading.Event | None = None,
    on_batch: Callable[[int], None] | None = None,
    aes_impl: int = native.AES_AUTO,
) -> tuple[int, list[int]] | None:
    """Scans ``batches`` for the first nonce with k2 good labels: (nonce, indices) or None.
    ``on_batch`` is told how many labels each finished batch held."""
    found: dict[int, list[int]] = {}
    pending: deque[tuple[Future[list[tuple[int, int]]], int]] = deque()
    batch_iter = iter(batches)
    exhausted = False
    with ThreadPoolExecutor(max(1, threads), thread_name_prefix="post-scan") as pool:
        try:
            while True:
                while not exhausted and len(pending) < 2 * max(1, threads):
                    batch = next(batch_iter, None)
                    if batch is None:
                        exhausted = True
                        break
                    future = pool.submit(
                        native.scan,
                        keys.keys,
                        keys.lazy_keys,
                        keys.first_group,
                        len(keys.pows),
                        batch.data,
                        batch.start,
                        difficulty,
                        impl=aes_impl,
                    )
                    pending.append((future, len(batch.data) // native.LABEL_SIZE))
                if not pending:
                    return None
                if cancel is not None and cancel.is_set():
                    raise ProvingCancelled("proving was cancelled")
                if not wait([pending[0][0]], timeout=0.2)[0]:
                    continue
                future, nlabels = pending.popleft()
                hits = future.result()
                for nonce, index in hits:
                    indices = found.setdefault(nonce, [])
                    indices.append(index)
                    if len(indices) >= k2:
                        return nonce, indices
                if on_batch is not None:
                    on_batch(nlabels)
        finally:
            for waiting, _ in pending:
                waiting.cancel()


def _remote_pows(
    source: PowSource | None,
    ctx: native.K2Pow,
    groups: Sequence[int],
    challenge: bytes,
    miner: bytes,
    target: bytes,
    cancel: threading.Event,
    fallback: bool,
) -> list[int] | None:
    """The source's pows for ``groups``, each verified here (one hash), or None: no source, or
    (with ``fallback``) a source that failed or lied, so the box computes them itself. Without
    ``fallback`` a failure is the proof's failure, as post-rs's prover with a remote k2pow has it."""
    if source is None:
        return None
    try:
        pows = list(source(groups, challenge, miner, target, cancel))
    except (RemoteK2powError, OSError) as exc:
        if not fallback:
            raise
        log.warning("k2pow source: %s; computing k2pow on the box", exc)
        return None
    if cancel.is_set():
        return None
    problem = None
    if len(pows) != len(groups):
        problem = f"the k2pow source gave {len(pows)} pows for {len(groups)} groups"
    else:
        checks = zip(groups, pows, strict=True)
        bad = next((g for g, v in checks if not ctx.verify(v, g, challenge, miner, target)), None)
        if bad is not None:
            problem = f"the k2pow source gave an invalid pow for group {bad}"
    if problem is None:
        return pows
    if not fallback:
        raise ProofError(problem)
    log.warning("%s; computing k2pow on the box", problem)
    return None


def generate_proof(
    datadir: PostDataset | Path | str,
    challenge: bytes,
    config: ProofConfig | None = None,
    nonces: int = DEFAULT_NONCES,
    threads: int = 1,
    *,
    scrypt_n: int | None = None,
    cancel: threading.Event | None = None,
    progress: ProgressFn | None = None,
    fast_mode: bool | None = None,
    aes_impl: int = native.AES_AUTO,
    pow_source: PowSource | None = None,
    pow_fallback: bool = False,
) -> Proof:
    """Proves the data in ``datadir`` for ``challenge``; the returned proof has been verified.
    With ``pow_source`` (e.g. :class:`appliance.post.remote_k2pow.RemoteK2pow`, a post-rs
    k2pow-service) the RandomX work is done elsewhere and each pow it returns is verified here; with
    ``pow_fallback`` a source that fails or lies is dropped for local work, else the proof fails."""
    config = config or ProofConfig()
    if len(challenge) != 32:
        raise ValueError(f"challenge must be 32 bytes, got {len(challenge)}")
    if nonces <= 0 or nonces % native.NONCES_PER_AES:
        raise ValueError(f"nonces must be a positive multiple of {native.NONCES_PER_AES}, got {nonces}")
    dataset = datadir if isinstance(datadir, PostDataset) else PostDataset(Path(datadir))
    meta = dataset.metadata()
    dataset.check_files(meta)  # fail before the costly k2pows, naming the file
    scrypt_n = scrypt_n or dataset.scrypt_n()  # the N the labels were made with, from the dataset
    num_labels = meta.total_labels
    difficulty = proving_difficulty(config.k1, num_labels)
    pow_target = scale_pow_difficulty(config.pow_difficulty, meta.num_units)
    cancel = cancel or threading.Event()
    # verifying a remote pow is one hash: light mode spares the box the 2 GiB fast-mode dataset
    search_mode = k2pow.fast_mode_default() if fast_mode is None else fast_mode
    ctx = k2pow.context(False if pow_source is not None else search_mode, threads)
    search_ctx = None if pow_source is not None else ctx
    groups_per_pass = nonces // native.NONCES_PER_AES
    pass_index = 0
    while True:
        first_group = pass_index * groups_per_pass
        if first_group + groups_per_pass - 1 > MAX_GROUP:
            raise ProofError(
                f"no nonce reached k2={config.k2} good labels within nonce groups 0..{MAX_GROUP}"
            )
        nonce_range = (first_group * 16, (first_group + groups_per_pass) * 16)

        def report(
            stage: str,
            position: int,
            total: int,
            nonce_range: tuple[int, int] = nonce_range,
            pass_index: int = pass_index,
        ) -> None:
            if progress is not None:
                progress(ProveProgress(pass_index, *nonce_range, stage, position, total))

        groups = range(first_group, first_group + groups_per_pass)
        pows = _remote_pows(
            pow_source, ctx, groups, challenge, meta.node_id, pow_target, cancel, pow_fallback
        )
        if cancel.is_set():
            raise ProvingCancelled("proving was cancelled")
        if pows is not None:
            report("k2pow", len(pows), groups_per_pass)
        else:
            pow_source = None  # a source that failed or lied once: the rest of this proof is local
            if search_ctx is None:
                search_ctx = k2pow.context(search_mode, threads)
            pows = []
            for group in groups:
                try:
                    pows.append(
                        k2pow.search(search_ctx, group, challenge, meta.node_id, pow_target, cancel, threads)
                    )
                except native.NativeCancelled as exc:
                    raise ProvingCancelled("proving was cancelled") from exc
                report("k2pow", len(pows), groups_per_pass)
        keys = PassKeys.derive(challenge, first_group, pows)
        scanned = [0]

        def on_batch(nlabels: int, scanned: list[int] = scanned) -> None:
            scanned[0] += nlabels
            report("scan", scanned[0], num_labels)

        batches = iter_batches(dataset.datadir, meta)
        result = scan_for_proof(batches, keys, difficulty, config.k2, threads, cancel, on_batch, aes_impl)
        if result is not None:
            nonce, indices = result
            proof = Proof(nonce, compress_indices(indices, required_bits(num_labels)), keys.pow_for(nonce))
            try:
                verify_proof(
                    proof,
                    node_id=meta.node_id,
                    commitment_atx_id=meta.commitment_atx_id,
                    challenge=challenge,
                    num_units=meta.num_units,
                    labels_per_unit=meta.labels_per_unit,
                    config=config,
                    scrypt_n=scrypt_n,
                    k2pow_context=ctx,
                )
            except VerifyError as exc:
                raise ProofError(f"the proof failed its own verification: {exc}") from exc
            return proof
        pass_index += 1
