"""Proving with the k2pows from a remote k2pow-service (post-rs's HTTP protocol): a server here
plays the worker (201 while working, 429 when busy with another job, 200 with the pow, 500 on
failure) computing real RandomX pows; the proof must verify, and a hostile worker must fail cleanly."""

from __future__ import annotations

import asyncio
import threading

import pytest
from aiohttp import web

from appliance.post import k2pow
from appliance.post.initializer import Initializer
from appliance.post.metadata import PostMetadata
from appliance.post.proof import ProofConfig
from appliance.post.prover import ProofError, generate_proof
from appliance.post.remote_k2pow import RemoteK2pow, RemoteK2powError

SCRYPT_N = 2


class Worker:
    """k2pow-service's job endpoint (k2pow-service/src/main.rs, README "API")."""

    def __init__(self, mode: str = "honest") -> None:
        self.mode = mode
        self.jobs: dict[tuple, int | None] = {}
        self.requests: list[str] = []
        self.busy_once = True

    async def job(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        m = request.match_info
        if self.mode == "fail":
            return web.Response(status=500, text="randomx exploded")
        if self.mode == "garbage":
            return web.Response(status=200, text="not-a-number")
        if self.busy_once:
            self.busy_once = False
            return web.Response(status=429)
        key = (m["miner"], int(m["group"]), m["challenge"], m["difficulty"])
        if key not in self.jobs:
            self.jobs[key] = None
            asyncio.get_running_loop().run_in_executor(None, self._compute, key)
            return web.Response(status=201)
        value = self.jobs[key]
        return web.Response(status=201) if value is None else web.Response(text=str(value))

    def _compute(self, key: tuple) -> None:
        miner, group, challenge, difficulty = key
        ctx = k2pow.context(False)
        padded = bytes.fromhex(challenge).ljust(32, b"\0")  # only the first 8 bytes enter k2pow
        self.jobs[key] = k2pow.search(ctx, group, padded, bytes.fromhex(miner), bytes.fromhex(difficulty),
                                      threading.Event())


async def _serve(worker: Worker):
    app = web.Application()
    app.router.add_get("/job/{miner}/{group}/{challenge}/{difficulty}", worker.job)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"


@pytest.fixture(scope="module")
def datadir(tmp_path_factory):
    path = tmp_path_factory.mktemp("remote-k2pow") / "data"
    meta = PostMetadata(b"\x05" * 32, b"\x06" * 32, labels_per_unit=256, num_units=2, max_file_size=4096)
    Initializer(path, meta, scrypt_n=SCRYPT_N).run()
    return path


CONFIG = ProofConfig(8, 12, bytes.fromhex("0f" + "ff" * 31))  # hard enough that a random pow fails


async def test_proof_with_remote_pows_verifies(datadir, need_k2pow):
    worker = Worker()
    runner, url = await _serve(worker)
    try:
        remote = RemoteK2pow(url, parallelism=2, backoff=0.02)
        proof = await asyncio.to_thread(generate_proof, datadir, b"\x33" * 32, CONFIG, 32, 1,
                                        scrypt_n=SCRYPT_N, fast_mode=False, pow_source=remote)
    finally:
        await runner.cleanup()
    # generate_proof verified the proof (pows included) with the local verifier before returning it
    assert proof.pow in {v for v in worker.jobs.values()}
    first = worker.requests[0].split("/")
    assert first[1] == "job" and first[2] == (b"\x05" * 32).hex() and first[4] == (b"\x33" * 8).hex()
    assert {r.split("/")[3] for r in worker.requests} >= {"0", "1"}  # both nonce groups asked


@pytest.mark.parametrize("mode,error", [("fail", "randomx exploded"), ("garbage", "not a u64")])
async def test_hostile_or_failing_worker(datadir, mode, error, need_k2pow):
    runner, url = await _serve(Worker(mode))
    try:
        with pytest.raises(RemoteK2powError, match=error):
            await asyncio.to_thread(generate_proof, datadir, b"\x33" * 32, CONFIG, 16, 1, scrypt_n=SCRYPT_N,
                                    fast_mode=False, pow_source=RemoteK2pow(url, backoff=0.02))
    finally:
        await runner.cleanup()


async def test_wrong_pows_never_make_a_proof(datadir, need_k2pow):
    def liar(groups, challenge, miner_id, difficulty, cancel):
        return [12345 for _ in groups]

    with pytest.raises(ProofError):
        await asyncio.to_thread(generate_proof, datadir, b"\x33" * 32, CONFIG, 16, 1, scrypt_n=SCRYPT_N,
                                fast_mode=False, pow_source=liar)


def test_rejects_non_http_url():
    with pytest.raises(ValueError, match="not an http"):
        RemoteK2pow("ftp://worker:3000")
