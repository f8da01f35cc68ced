"""Multi-threaded, resumable PoST initialization: worker threads compute label ranges in parallel,
one writer appends them in index order (see ``appliance.post.writer`` for durability).

``Initializer.run`` blocks; it is stopped or paused through ``threading.Event``s (the daemon
pauses init while proving) and reports ``InitProgress`` with the measured rate and an ETA.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from appliance.post.labels import LabelBatch, compute_batch
from appliance.post.metadata import PostMetadata
from appliance.post.params import commitment
from appliance.post.writer import DEFAULT_SCRYPT_N, LabelWriter

ComputeFn = Callable[[bytes, int, int, int], LabelBatch]
COMMIT_INTERVAL = 1.0


@dataclass(frozen=True)
class InitProgress:
    """Where an initialization stands: ``position`` of ``total`` labels written."""

    position: int
    total: int
    labels_this_run: int
    labels_per_second: float
    eta_seconds: float | None

    @property
    def fraction(self) -> float:
        return self.position / self.total if self.total else 1.0


@dataclass(frozen=True)
class InitResult:
    complete: bool
    position: int
    total: int
    nonce: int | None
    labels_per_second: float


#: every label kernel's batch divides this (portable 1, SSE2 4+1, AVX2 8, NEON 4 and 8): jobs that
#: are multiples of it never leave a partial batch to the slower scalar path
LANE_MULTIPLE = 40


def default_job_labels(scrypt_n: int) -> int:
    """Labels per worker job: about 80 at mainnet N (well under a second), more for cheap labels,
    so a stop or pause takes effect quickly and every SIMD lane stays busy."""
    wanted = max(LANE_MULTIPLE, min(1 << 16, (1 << 19) // scrypt_n))
    return wanted // LANE_MULTIPLE * LANE_MULTIPLE


class Initializer:
    """Initializes (or resumes) the PoST data of ``datadir`` described by ``meta``."""

    def __init__(
        self,
        datadir: Path | str,
        meta: PostMetadata,
        scrypt_n: int = DEFAULT_SCRYPT_N,
        threads: int = 1,
        job_labels: int | None = None,
        compute: ComputeFn | None = None,
        commit_interval: float = COMMIT_INTERVAL,
    ) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.writer = LabelWriter(datadir, meta, scrypt_n)
        self.meta = self.writer.meta
        self.scrypt_n = scrypt_n
        self.threads = threads
        self.job_labels = job_labels or default_job_labels(scrypt_n)
        self.commit_interval = commit_interval
        self._commitment = commitment(meta.node_id, meta.commitment_atx_id)
        self._compute: ComputeFn = compute or compute_batch

    def run(
        self,
        stop: threading.Event | None = None,
        progress: Callable[[InitProgress], None] | None = None,
        pause: threading.Event | None = None,
    ) -> InitResult:
        """Computes and writes labels until done or ``stop`` is set; always leaves a durable state."""
        stop = stop or threading.Event()
        total = self.meta.total_labels
        started = time.monotonic()
        first_position = self.writer.position
        last_commit = started
        next_start = first_position
        pending: deque[Future[LabelBatch]] = deque()
        pool = ThreadPoolExecutor(self.threads, thread_name_prefix="post-init")
        try:
            while True:
                while len(pending) < 2 * self.threads and next_start < total and not stop.is_set():
                    count = min(self.job_labels, total - next_start)
                    pending.append(
                        pool.submit(self._compute, self._commitment, self.scrypt_n, next_start, count)
                    )
                    next_start += count
                if not pending or stop.is_set():
                    break
                done, _ = wait([pending[0]], timeout=0.2)
                if not done:
                    continue
                batch = pending.popleft().result()
                before_file = self.writer.position // self.meta.labels_per_file
                self.writer.append(batch, commit=False)
                now = time.monotonic()
                crossed = self.writer.position // self.meta.labels_per_file != before_file
                if crossed or now - last_commit >= self.commit_interval:
                    self.writer.commit()
                    last_commit = now
                if progress is not None:
                    progress(self._progress(first_position, started))
                if pause is not None and pause.is_set():
                    self.writer.commit()
                    paused = time.monotonic()
                    while pause.is_set() and not stop.is_set():
                        stop.wait(0.2)
                    started += time.monotonic() - paused  # the rate (and ETA) counts working time only
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            self.writer.commit()
        rate = self._rate(first_position, started)
        vrf = self.writer.vrf
        return InitResult(self.writer.complete, self.writer.position, total, vrf[0] if vrf else None, rate)

    def _rate(self, first_position: int, started: float) -> float:
        elapsed = time.monotonic() - started
        return (self.writer.position - first_position) / elapsed if elapsed > 0 else 0.0

    def _progress(self, first_position: int, started: float) -> InitProgress:
        rate = self._rate(first_position, started)
        left = self.meta.total_labels - self.writer.position
        return InitProgress(
            self.writer.position,
            self.meta.total_labels,
            self.writer.position - first_position,
            rate,
            left / rate if rate > 0 else None,
        )
