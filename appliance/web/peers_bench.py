"""``python -m appliance peers-bench``: what helpers buy, measured in one run on this machine.

It prints (stderr as text, stdout as JSON) the box's own labels/s (native core, ``--box-threads``),
a helper's labels/s alone (native core on ``--helper-threads``, and the OpenCL kernel on the first
OpenCL device, e.g. POCL), then runs a real init with the real pieces — broker (redis-server,
TLS), the helper API, a ``python -m appliance helper`` process paired with a code — and reports
the combined labels/s against the sum of the two alone: the ratio is what verification, transfer
and leasing cost. The box's verification alone is also given per unit (recomputed samples +
VRF candidates) as a share of computing the unit. No number is asserted anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from appliance.chain import MAINNET
from appliance.peers.service import PeersService
from appliance.peers.units import DEFAULT_SAMPLES, ResultRejected, Unit, judge, unit_labels
from appliance.post.initializer import Initializer
from appliance.post.labels import compute_batch
from appliance.post.metadata import PostMetadata
from appliance.post.params import commitment, vrf_threshold
from appliance.web.peers import serve_helper_api

NODE, ATX = bytes([7]) * 32, bytes([8]) * 32


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scrypt-n", type=int, default=MAINNET.scrypt_n)
    parser.add_argument("--labels", type=int, default=16384, help="labels in the benchmark dataset")
    parser.add_argument("--box-threads", type=int, default=1)
    parser.add_argument("--helper-threads", type=int, default=1)
    parser.add_argument("--opencl", action="store_true", help="the helper computes with OpenCL")


def _rate(fn: Any, count: int) -> float:
    started = time.perf_counter()
    fn(count)
    return count / (time.perf_counter() - started)


async def _combined(args: argparse.Namespace, meta: PostMetadata, work: Path) -> dict[str, Any]:
    service = PeersService(work / "state")
    await asyncio.to_thread(service.start)
    runner = await serve_helper_api(service, "127.0.0.1", 0)
    api = f"https://127.0.0.1:{runner.addresses[0][1]}"
    helper_args = [
        sys.executable,
        "-m",
        "appliance",
        "helper",
        "--box",
        api,
        "--pair",
        service.new_code().code,
    ]
    helper_args += [
        "--config",
        str(work / "helper.json"),
        "--name",
        "bench",
        "--threads",
        str(args.helper_threads),
    ]
    if args.opencl:
        helper_args.append("--opencl")
    helper = subprocess.Popen(helper_args, stderr=subprocess.DEVNULL)
    try:
        while not service.pairing_helpers():
            await asyncio.sleep(0.05)
        done = threading.Event()
        started = time.perf_counter()
        service.start_init(
            work / "data",
            meta,
            args.scrypt_n,
            done=lambda _ok: done.set(),
            local_threads=args.box_threads,
            local_unit=256,
            first_unit=2048,
            unit_seconds=5.0,
        )
        await asyncio.to_thread(done.wait)
        elapsed = time.perf_counter() - started
        snap = service.coordinator.snapshot() if service.coordinator else None
        helper_labels = sum(h.labels_accepted for h in snap.helpers) if snap else 0
        return {
            "combined_labels_per_second": meta.total_labels / elapsed,
            "helper_share": helper_labels / meta.total_labels,
        }
    finally:
        helper.kill()
        helper.wait()
        await runner.cleanup()
        await asyncio.to_thread(service.stop)


def run(args: argparse.Namespace) -> int:
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    n, com = args.scrypt_n, commitment(NODE, ATX)
    meta = PostMetadata(NODE, ATX, args.labels, 1, 1 << 30)
    probe = max(64, args.labels // 16)
    box = _rate(lambda c: compute_batch(com, n, 0, c, args.box_threads), probe)
    helper = _rate(lambda c: compute_batch(com, n, 0, c, args.helper_threads), probe)
    report: dict[str, Any] = {
        "scrypt_n": n,
        "box_labels_per_second": box,
        "helper_native_labels_per_second": helper,
    }
    say(f"box (native, {args.box_threads} thread(s)):      {box:10.1f} labels/s")
    say(
        f"helper (native, {args.helper_threads} thread(s)):   {helper:10.1f} labels/s  "
        f"({helper / box:.2f}x the box)"
    )
    try:
        from appliance.peers.opencl import OpenCLLabels, OpenCLUnavailable

        engine = OpenCLLabels()
        engine.full_labels(com, n, 0, 1)  # compile and warm up outside the timing
        ocl = _rate(lambda c: engine.full_labels(com, n, 0, c), probe)
        report |= {"opencl_device": engine.name, "opencl_labels_per_second": ocl}
        say(
            f"OpenCL on {engine.name}: {ocl:10.1f} labels/s  "
            f"({ocl / helper:.2f}x the native core on the helper)"
        )
    except OpenCLUnavailable as exc:
        say(f"OpenCL: not measured ({exc})")
    # The box's check of one unit: the samples plus the VRF candidates, which for a real dataset
    # (256 GiB = 2^34 labels here) are almost never more than the claimed one.
    unit = Unit("bench", com, n, 0, probe)
    batch = compute_batch(com, n, 0, probe, args.box_threads)
    claimed = (batch.min_index, batch.min_label) if batch.min_index is not None else None
    started = time.perf_counter()
    threshold = vrf_threshold(1 << 34)
    with contextlib.suppress(ResultRejected):  # only the time matters here
        judge(unit, batch.labels, claimed, threshold, DEFAULT_SAMPLES, random.Random(1))
    verify = time.perf_counter() - started
    ten_minutes = unit_labels(helper)
    share = verify / (ten_minutes / box)
    report |= {
        "verify_seconds_per_unit": verify,
        "unit_labels": ten_minutes,
        "verification_share_of_box_time": verify / (ten_minutes / box),
    }
    say(
        f"verifying a unit ({DEFAULT_SAMPLES} samples + VRF candidates): {verify:.3f} s; for a "
        f"10-minute unit of this helper ({ten_minutes} labels) that is {100 * share:.3f} % "
        "of the box's time for the same labels"
    )
    with tempfile.TemporaryDirectory(prefix="peers-bench-") as tmp:
        alone = Initializer(Path(tmp) / "alone", meta, n, args.box_threads).run()
        report["box_alone_init_labels_per_second"] = alone.labels_per_second
        combined = asyncio.run(_combined(args, meta, Path(tmp)))
    report |= combined
    ideal = alone.labels_per_second + (report.get("opencl_labels_per_second") if args.opencl else helper)
    report["combined_vs_sum_of_parts"] = combined["combined_labels_per_second"] / ideal
    say(f"init, box alone:        {alone.labels_per_second:10.1f} labels/s")
    say(
        f"init, box + helper:     {combined['combined_labels_per_second']:10.1f} labels/s "
        f"({combined['combined_labels_per_second'] / alone.labels_per_second:.2f}x the box alone; "
        f"{report['combined_vs_sum_of_parts']:.2f} of box + helper measured apart; helper did "
        f"{100 * combined['helper_share']:.0f} %)"
    )
    say(f"(both run on this machine's {os.cpu_count()} CPU(s): a real helper brings its own)")
    print(json.dumps(report), flush=True)
    return 0
