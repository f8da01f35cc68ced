"""The RandomX k2pow context, created once per process and mode (its cache/dataset is the expensive
part), plus the threaded search for one nonce group's proof of work (spec §4.6)."""

from __future__ import annotations

import os
import threading

from appliance.post import native
from appliance.post.native import CancelFlag, K2Pow

_LOCK = threading.Lock()
_CONTEXTS: dict[bool, K2Pow] = {}
_SEARCH_STEP = 256
POW_LIMIT = 1 << 56


FAST_MODE_MIN_AVAILABLE = 3 << 30  # the ~2.1 GiB dataset plus headroom for everything else


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def fast_mode_default() -> bool:
    """Proving uses RandomX fast mode (~50x the hash rate of light mode, which matters: a mainnet pass
    needs ~18 × 19k hashes) when enough memory is free; SMESHBOX_RANDOMX=fast|light overrides."""
    forced = os.environ.get("SMESHBOX_RANDOMX")
    if forced in ("fast", "light"):
        return forced == "fast"
    return _available_memory() >= FAST_MODE_MIN_AVAILABLE


def context(fast_mode: bool, init_threads: int = 1) -> K2Pow:
    """The process-wide RandomX context for ``fast_mode`` (built on first use; light mode is enough
    to verify, which hashes once)."""
    with _LOCK:
        ctx = _CONTEXTS.get(fast_mode)
        if ctx is None:
            ctx = _CONTEXTS[fast_mode] = K2Pow(fast_mode, init_threads)
        return ctx


def search(
    ctx: K2Pow,
    group: int,
    challenge: bytes,
    miner_id: bytes,
    difficulty: bytes,
    cancel: threading.Event,
    threads: int = 1,
) -> int:
    """Any pow < 2^56 whose RandomX hash is below ``difficulty``; ``threads`` search interleaved
    ranges. Raises NativeCancelled when ``cancel`` is set."""
    found: list[int] = []
    errors: list[BaseException] = []
    done = CancelFlag()

    def worker(lane: int) -> None:
        start = lane * _SEARCH_STEP
        try:
            while start < POW_LIMIT and not found and not cancel.is_set():
                hit = ctx.search(group, challenge, miner_id, difficulty, start, _SEARCH_STEP, done)
                if hit is not None:
                    found.append(hit)
                    done.set()
                    return
                start += threads * _SEARCH_STEP
        except native.NativeCancelled:
            return
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)
            done.set()

    watcher_stop = threading.Event()

    def watcher() -> None:
        # The C search polls only ``done``; forward the caller's cancel to it.
        while not watcher_stop.wait(0.05):
            if cancel.is_set():
                done.set()
                return

    workers = [threading.Thread(target=worker, args=(lane,), daemon=True) for lane in range(max(1, threads))]
    guard = threading.Thread(target=watcher, daemon=True)
    guard.start()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    watcher_stop.set()
    guard.join()
    if errors:
        raise errors[0]
    if not found:
        raise native.NativeCancelled("k2pow search", -5, "cancelled")
    return found[0]


def release(fast_mode: bool | None = None) -> None:
    """Drops the cached context(s) so their memory (2+ GiB in fast mode) is freed once no proof uses
    them; the daemon calls this after proving, since proofs come once per epoch."""
    with _LOCK:
        for mode in [fast_mode] if fast_mode is not None else list(_CONTEXTS):
            _CONTEXTS.pop(mode, None)
