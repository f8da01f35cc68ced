"""A client of post-rs's k2pow-service: the k2pows of a proving pass are computed on another machine.

The protocol is post-rs's (``src/pow/service.rs`` and ``k2pow-service/README.md`` in
spacemeshos/post-rs @ a2d155a2a1c13c59559737634262b67686e503b1): ``GET {base}/job/{miner hex}/{nonce
group}/{challenge[..8] hex}/{difficulty hex}`` answers 201 (job accepted, ask again after the
backoff), 429 (worker busy with another job, ask again), 200 with the pow as a decimal u64, or 500
with an error text. At most ``parallelism`` groups are asked at once. Runs in the proving thread,
so blocking HTTP is right here; every request has a timeout and a transport error is retried after
the backoff, as post-rs does.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

MAX_ANSWER = 64  # a decimal u64 and a little room; anything longer is not a k2pow-service answer


class RemoteK2powError(RuntimeError):
    """The k2pow-service failed the job (HTTP 500), or answered what its protocol does not allow."""


class RemoteK2pow:
    """``appliance.post.prover.PowSource`` over a k2pow-service at ``base_url``."""

    def __init__(
        self,
        base_url: str,
        parallelism: int = 5,
        backoff: float = 5.0,
        timeout: float = 30.0,
        max_errors: int | None = None,
    ) -> None:
        """``max_errors``: transport errors in a row after which a group gives up (None: retry
        for ever, as post-rs does; the box's own prover sets a bound and then works locally)."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"remote k2pow: {base_url!r} is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.parallelism = max(1, parallelism)
        self.backoff = backoff
        self.timeout = timeout
        self.max_errors = max_errors

    def job_url(self, miner_id: bytes, group: int, challenge: bytes, difficulty: bytes) -> str:
        return f"{self.base_url}/job/{miner_id.hex()}/{group}/{challenge[:8].hex()}/{difficulty.hex()}"

    def __call__(
        self,
        groups: Sequence[int],
        challenge: bytes,
        miner_id: bytes,
        difficulty: bytes,
        cancel: threading.Event,
    ) -> list[int]:
        with ThreadPoolExecutor(self.parallelism, thread_name_prefix="k2pow-remote") as pool:
            futures = [pool.submit(self._one, g, challenge, miner_id, difficulty, cancel) for g in groups]
            return [f.result() for f in futures]

    def _one(
        self, group: int, challenge: bytes, miner_id: bytes, difficulty: bytes, cancel: threading.Event
    ) -> int:
        url = self.job_url(miner_id, group, challenge, difficulty)
        errors = 0
        while not cancel.is_set():
            try:
                with urllib.request.urlopen(url, timeout=self.timeout) as reply:
                    status, body = reply.status, reply.read(MAX_ANSWER + 1)
            except urllib.error.HTTPError as exc:
                status, body = exc.code, exc.read(4096)
            except (urllib.error.URLError, OSError) as exc:
                errors += 1
                if self.max_errors is not None and errors >= self.max_errors:
                    raise RemoteK2powError(f"k2pow-service {self.base_url} unreachable: {exc}") from exc
                log.warning("k2pow-service %s: %s; backing off before retry", self.base_url, exc)
                cancel.wait(self.backoff)
                continue
            text = body.decode("utf-8", "replace").strip()
            if status == 200:
                if len(body) > MAX_ANSWER or not text.isdigit() or int(text) >= 1 << 64:
                    raise RemoteK2powError(
                        f"k2pow-service answered {text[:40]!r} for group {group}, not a u64"
                    )
                return int(text)
            if status == 500:
                raise RemoteK2powError(f"k2pow-service failed group {group}: {text[:200]}")
            if status in (201, 429):
                cancel.wait(self.backoff)
                continue
            raise RemoteK2powError(f"k2pow-service answered HTTP {status} for group {group}")
        return 0  # cancelled: the prover notices the event and discards the pass
