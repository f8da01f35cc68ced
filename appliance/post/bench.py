"""Measured speed, never assumed: labels/s of every label implementation next to ``hashlib.scrypt``
(mainnet's scrypt N, r=p=1, single thread) and the proving scan's GiB/s at 288 nonces next to OpenSSL's raw
AES-128-ECB over the same number of blocks, all measured in the same run and reported as ratios.
``measure_label_rate`` is what the daemon uses for honest ETAs.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from appliance.chain import MAINNET
from appliance.post import native
from appliance.post.initializer import LANE_MULTIPLE
from appliance.post.params import proving_difficulty

BENCH_N = MAINNET.scrypt_n
SCAN_NONCES = 288
SCAN_BYTES = 1 << 20  # one proving batch (the prover scans 1 MiB at a time)
_LABELS_PER_CALL = LANE_MULTIPLE  # whole batches for every kernel (SSE2 runs 5 lanes, AVX2 8)
_COMMITMENT = bytes(range(32))


Clock = Callable[[], float]


def _timed(seconds: float, step: Callable[[], int], clock: Clock = time.perf_counter) -> float:
    """Runs ``step`` (returning the units it did) until ``seconds`` pass on ``clock``: units per
    second. The benchmark passes ``time.thread_time`` so that time the scheduler gives to other
    processes on a shared machine is charged to nobody; ETAs use wall time (``perf_counter``)."""
    step()  # warm-up: page in memory, first-call setup
    done, started = 0, clock()
    while True:
        done += step()
        elapsed = clock() - started
        if elapsed >= seconds:
            return done / elapsed


def measure_label_rate(
    seconds: float = 2.0,
    threads: int = 1,
    scrypt_n: int = BENCH_N,
    impl: int = native.LABELS_AUTO,
    clock: Clock = time.perf_counter,
) -> float:
    """Labels per second this machine computes with ``threads`` threads (all threads together)."""
    rates = [0.0] * max(1, threads)

    def lane(slot: int) -> None:
        start = slot << 40

        def step() -> int:
            nonlocal start
            native.labels(_COMMITMENT, scrypt_n, start, _LABELS_PER_CALL, impl=impl)
            start += _LABELS_PER_CALL
            return _LABELS_PER_CALL

        rates[slot] = _timed(seconds, step, clock)

    workers = [threading.Thread(target=lane, args=(slot,)) for slot in range(len(rates))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(rates)


def _hashlib_scrypt_rate(seconds: float) -> float:
    password = bytearray(_COMMITMENT + bytes(40))

    def step() -> int:
        hashlib.scrypt(bytes(password), salt=b"", n=BENCH_N, r=1, p=1, dklen=32)
        password[32] = (password[32] + 1) & 0xFF
        return 1

    return _timed(seconds, step, time.thread_time)


def _ecb_block_rate(seconds: float, data: bytes, repeats: int) -> float:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    encryptor = Cipher(algorithms.AES(bytes(16)), modes.ECB()).encryptor()
    out = bytearray(len(data) + 16)  # preallocated: measure AES, not page faults of fresh buffers

    def step() -> int:
        for _ in range(repeats):
            encryptor.update_into(data, out)
        return repeats * len(data) // 16

    return _timed(seconds, step, time.thread_time)


def _scan_rate(seconds: float, impl: int, data: bytes, groups: int) -> float:
    keys = os.urandom(16 * groups)
    lazy = os.urandom(16 * 16 * groups)
    difficulty = proving_difficulty(26, 4 << 32)  # mainnet: k1 = 26 over 4 units

    def step() -> int:
        native.scan(keys, lazy, 0, groups, data, 0, difficulty, impl=impl)
        return len(data)

    return _timed(seconds, step, time.thread_time)


def _best_of(rounds: int, seconds: float, candidates: dict[str, Callable[[float], float]]) -> dict[str, Any]:
    """Measures the candidates in turn, ``rounds`` times, keeping each one's best rate: on a shared
    machine interleaving spreads other load over everyone instead of penalising whoever ran last."""
    best: dict[str, Any] = {}
    for _ in range(rounds):
        for name, measure in candidates.items():
            if isinstance(best.get(name), Exception):
                continue
            try:
                best[name] = max(best.get(name, 0.0), measure(seconds / rounds))
            except (native.PostNativeError, ImportError) as exc:
                best[name] = exc
    return best


def run_bench(
    seconds: float = 2.0, log: Callable[[str], None] | None = None, rounds: int = 3
) -> dict[str, Any]:
    """Measures every implementation and its peer for about ``seconds`` each; the report as plain data."""
    say = log or (lambda _line: None)
    label_impls = [impl for impl in native.label_impls() if impl.available]
    labels: dict[str, Callable[[float], float]] = {"hashlib.scrypt": _hashlib_scrypt_rate}
    for impl in label_impls:
        labels[impl.name] = lambda secs, impl_id=impl.id: measure_label_rate(
            secs, 1, BENCH_N, impl_id, time.thread_time
        )
    label_rates = _best_of(rounds, seconds, labels)
    peer = label_rates.pop("hashlib.scrypt")
    say(f"hashlib.scrypt N={BENCH_N} r=1 p=1: {peer:10.1f} labels/s (1 thread)")
    label_rows = [
        _row(name, rate, peer, "labels_per_second", "ratio_vs_hashlib_scrypt")
        for name, rate in label_rates.items()
    ]
    for row in label_rows:
        say(_line("labels", row, "labels/s/thread", "hashlib.scrypt"))

    groups = SCAN_NONCES // native.NONCES_PER_AES
    data = os.urandom(SCAN_BYTES)
    scans: dict[str, Callable[[float], float]] = {
        "openssl-ecb": lambda secs: _ecb_block_rate(secs, data, groups) / groups * 16 / (1 << 30)
    }
    for impl in native.aes_impls():
        if impl.available:
            scans[impl.name] = lambda secs, impl_id=impl.id: (
                _scan_rate(secs, impl_id, data, groups) / (1 << 30)
            )
    scan_rates = _best_of(rounds, seconds, scans)
    ecb = scan_rates.pop("openssl-ecb")
    ecb = 0.0 if isinstance(ecb, Exception) else ecb  # the peer library is absent: absolute numbers only
    blocks = ecb * (1 << 30) / 16 * groups
    say(
        f"cryptography AES-128-ECB: {blocks / 1e6:8.1f} M blocks/s (= {ecb:6.3f} GiB/s of labels at "
        f"{SCAN_NONCES} nonces)"
    )
    scan_rows = [
        _row(name, rate, ecb, "gib_per_second", "ratio_vs_openssl_ecb") for name, rate in scan_rates.items()
    ]
    for row in scan_rows:
        say(_line("scan", row, "GiB/s/thread", "raw ECB blocks"))
    return {
        "seconds": seconds,
        "labels": {
            "scrypt_n": BENCH_N,
            "selected": native.selected_label_impl(),
            "hashlib_scrypt_labels_per_second": round(peer, 1),
            "impls": label_rows,
        },
        "scan": {
            "nonces": SCAN_NONCES,
            "groups": groups,
            "openssl_ecb_blocks_per_second": round(blocks, 1),
            "openssl_ecb_label_gib_per_second": round(ecb, 4),
            "impls": scan_rows,
        },
    }


def _row(name: str, rate: float | Exception, peer: float, unit: str, ratio: str) -> dict[str, Any]:
    if isinstance(rate, Exception):
        return {"impl": name, "error": str(rate)}
    return {"impl": name, unit: round(rate, 4), ratio: round(rate / peer, 3) if peer else None}


def _line(kind: str, row: dict[str, Any], unit: str, peer: str) -> str:
    if "error" in row:
        return f"{kind:6s} {row['impl']:9s}: {row['error']}"
    rate, ratio = (value for key, value in row.items() if key != "impl")
    versus = f"{ratio:6.2f}x {peer}" if ratio is not None else f"no {peer} peer"
    return f"{kind:6s} {row['impl']:9s}: {rate:10.4f} {unit} = {versus}"
