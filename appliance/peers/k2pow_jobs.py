"""A helper's k2pow worker, with the job semantics of post-rs's k2pow-service
(spacemeshos/post-rs@a2d155a2a1c13c59559737634262b67686e503b1 ``k2pow-service/src/job_manager.rs``,
``README.md``): one job at a time; asking for the running job again says "in progress"; asking
for another while one runs is "too many jobs"; finished results (or errors) are remembered for the
life of the process. The RandomX work is ``appliance.post.k2pow`` on this PC's cores.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from appliance.post import k2pow

Status = Literal["created", "in_progress", "done", "failed"]


class TooManyJobs(RuntimeError):
    """Another job is running (HTTP 429 in the protocol)."""


@dataclass(frozen=True)
class Job:
    miner: bytes  # 32 bytes
    nonce_group: int  # u8
    challenge: bytes  # 8 bytes: k2pow uses only the first 8 bytes of the proving challenge
    difficulty: bytes  # 32 bytes


class JobManager:
    """Runs k2pow jobs one at a time in a background thread (see module docstring)."""

    def __init__(self, threads: int = 1, fast_mode: bool | None = None) -> None:
        self.threads = threads
        self.fast_mode = k2pow.fast_mode_default() if fast_mode is None else fast_mode
        self._lock = threading.Lock()
        self._running: Job | None = None
        self._results: dict[Job, tuple[bool, str]] = {}
        self._stop = threading.Event()

    def get_or_create(self, job: Job) -> tuple[Status, str]:
        """(status, body): "done" with the pow as a decimal string, "failed" with the reason."""
        with self._lock:
            if job in self._results:
                ok, text = self._results[job]
                return ("done" if ok else "failed"), text
            if self._running == job:
                return "in_progress", ""
            if self._running is not None:
                raise TooManyJobs("the worker is busy with another job")
            self._running = job
        threading.Thread(target=self._work, args=(job,), name="k2pow-job", daemon=True).start()
        return "created", ""

    def _work(self, job: Job) -> None:
        try:
            ctx = k2pow.context(self.fast_mode, self.threads)
            challenge = job.challenge + bytes(24)  # the native search reads only the first 8 bytes
            value = k2pow.search(
                ctx, job.nonce_group, challenge, job.miner, job.difficulty, self._stop, self.threads
            )
            result = (True, str(value))
        except Exception as exc:  # reported to the client as the protocol's 500 with the reason
            result = (False, f"k2pow failed: {exc}")
        with self._lock:
            self._results[job] = result
            self._running = None

    def stop(self) -> None:
        self._stop.set()
