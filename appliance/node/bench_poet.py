"""Benchmark: peak memory of reading a mainnet-size PoET proof, streamed vs. read whole.

``python -m appliance.node.bench_poet --members 4000000`` serves a proof reply of that many members
from a child process (generated on the fly, so the server holds none of it), then reads it in fresh
interpreters: once with :class:`~appliance.node.poet_client.PoetClient` (streaming) and once the way the
client used to (whole body, ``json.loads``, a list of members) as the peer. It prints each
reader's peak RSS above its own baseline, the time, and the ratio. No assertion: a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import resource
import subprocess
import sys
import time

import blake3

PUBKEY = bytes(32)


def member(i: int) -> bytes:
    return blake3.blake3(i.to_bytes(8, "little")).digest()


def _serve(members: int, port_queue) -> None:
    from aiohttp import web

    async def proof(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_type = "application/json"
        await resp.prepare(request)
        b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
        head = {
            "root": b64(b"\x01" * 32),
            "provenLeaves": [b64(b"\x02" * 32)] * 150,
            "proofNodes": [b64(b"\x03" * 32)] * 5400,
        }
        await resp.write(b'{"proof": {"proof": ' + json.dumps(head).encode() + b', "members": [')
        batch: list[str] = []
        for i in range(members):
            batch.append('"' + b64(member(i)) + '"')
            if len(batch) == 4096 or i == members - 1:
                await resp.write(("," if i >= 4096 else "").encode() + ",".join(batch).encode())
                batch = []
        await resp.write(b'], "leaves": "18662400"}, "pubkey": "' + b64(PUBKEY).encode() + b'"}')
        return resp

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/v1/proofs/{round}", proof)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_queue.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _client(url: str, mode: str, target_index: int) -> None:
    import aiohttp

    from appliance.node.poet_client import PoetClient

    target = member(target_index)

    async def streamed() -> int:
        async with aiohttp.ClientSession() as session:
            fetched = await PoetClient(session, url, PUBKEY, proof_timeout=3600).proof("0", target)
            assert fetched is not None and fetched.leaf_index == target_index
            return fetched.member_count

    async def whole() -> int:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/v1/proofs/0") as resp:
            body = await resp.read()
        members = [base64.b64decode(m) for m in json.loads(body)["proof"]["members"]]
        assert members.index(target) == target_index
        return len(members)

    base = _rss_kib()
    started = time.perf_counter()
    count = asyncio.run(streamed() if mode == "stream" else whole())
    seconds = time.perf_counter() - started
    peak = _rss_kib()
    report = {"mode": mode, "members": count, "seconds": seconds, "peak_rss_mib": peak / 1024}
    print(json.dumps(report | {"above_baseline_mib": (peak - base) / 1024}))


def run(members: int, peer_members: int) -> dict:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    results = {}
    for label, count in (("stream", members), ("whole", peer_members)):
        server = multiprocessing.Process(target=_serve, args=(count, queue), daemon=True)
        server.start()
        try:
            url = f"http://127.0.0.1:{queue.get(timeout=30)}"
            out = subprocess.run(
                [sys.executable, "-m", "appliance.node.bench_poet", "--client", url, "--mode", label,
                 "--target", str(count * 2 // 3)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            results[label] = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            server.terminate()
            server.join()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=4_000_000)
    parser.add_argument("--peer-members", type=int, default=None, help="members for the whole-body peer")
    parser.add_argument("--client")
    parser.add_argument("--mode", choices=("stream", "whole"), default="stream")
    parser.add_argument("--target", type=int, default=0)
    args = parser.parse_args(argv)
    if args.client:
        _client(args.client, args.mode, args.target)
        return
    results = run(args.members, args.peer_members or args.members)
    for r in results.values():
        print(
            f"{r['mode']:>6}: {r['members']:>9} members  {r['seconds']:7.1f} s  "
            f"peak RSS {r['peak_rss_mib']:7.1f} MiB  (+{r['above_baseline_mib']:.1f} MiB over its baseline)"
        )
    s, w = results["stream"], results["whole"]
    per_member = lambda r: r["above_baseline_mib"] / r["members"]  # noqa: E731
    ratio = per_member(w) / max(per_member(s), 1e-12)
    print(f"memory per member, whole-body peer / streaming: {ratio:.0f}x")


if __name__ == "__main__":
    main()
