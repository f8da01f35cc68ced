"""Labels/s per thread of every label implementation this CPU has, next to hashlib.scrypt (OpenSSL,
N=8192, r=p=1: the same memory-hard work in single-lane C) measured in the same run, as ratios.

Rounds alternate between the contenders, each timed in this thread's CPU time
(time.thread_time), and the best round of each counts, so a noisy neighbour on a shared machine
hurts every contender alike. A development tool: the product benchmark is
``python -m appliance post bench``.

    .venv/bin/python native/tools/bench_labels.py [--seconds S] [--scrypt-n N]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time

from appliance.post._native import ffi, lib


def rate_native(impl: int, n: int, count: int) -> float:
    commitment = bytes(range(32))
    out = ffi.new("uint8_t[]", count * 32)
    t0 = time.thread_time()
    rc = lib.sp_labels(impl, commitment, n, 0, count, ffi.NULL, out, ffi.NULL, ffi.NULL, ffi.NULL)
    elapsed = time.thread_time() - t0
    if rc != 0:
        raise RuntimeError(f"sp_labels({impl}) -> {rc}")
    return count / elapsed


def rate_hashlib(n: int, count: int) -> float:
    password = bytes(72)
    t0 = time.thread_time()
    for _ in range(count):
        hashlib.scrypt(password, salt=b"", n=n, r=1, p=1, dklen=32, maxmem=256 << 20)
    return count / (time.thread_time() - t0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="total wall time budget (about)")
    parser.add_argument("--scrypt-n", type=int, default=8192)
    args = parser.parse_args(argv)
    impls = [i for i in range(1, lib.SP_LABELS_COUNT) if lib.sp_labels_available(i)]
    names = {i: ffi.string(lib.sp_labels_name(i)).decode() for i in impls}
    best = {name: 0.0 for name in ["hashlib.scrypt", *names.values()]}
    # ~ 0.05 s per contender per round, and a multiple of every lane count (1, 4, 5, 8): a ragged tail
    # would time the tail path instead of the kernel
    count = max(40, 40 * 8192 // args.scrypt_n // 40 * 40)
    deadline = time.monotonic() + args.seconds
    rounds = 0
    while rounds < 3 or time.monotonic() < deadline:
        best["hashlib.scrypt"] = max(best["hashlib.scrypt"], rate_hashlib(args.scrypt_n, count))
        for impl in impls:
            best[names[impl]] = max(best[names[impl]], rate_native(impl, args.scrypt_n, count))
        rounds += 1
    peer = best["hashlib.scrypt"]
    print(f"N={args.scrypt_n}, r=p=1, one thread, best of {rounds} rounds (thread CPU time):")
    for name, rate in best.items():
        print(f"  {name:15s} {rate:9.1f} labels/s  {rate / peer:5.2f}x hashlib.scrypt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
