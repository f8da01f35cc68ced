"""post-rs's k2pow-service protocol: our ``k2pow-service`` as a process (201 → 200, 429 while busy,
400 on malformed parameters), and the prover handing its RandomX work to it — verified on the box,
with a lying service caught and replaced by local work."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web

from appliance.post import k2pow
from appliance.post.initializer import Initializer
from appliance.post.metadata import PostMetadata
from appliance.post.params import scale_pow_difficulty
from appliance.post.proof import ProofConfig
from appliance.post.prover import generate_proof
from appliance.post.remote_k2pow import RemoteK2pow
from appliance.post.verifier import verify_proof

ROOT = Path(__file__).resolve().parents[2]
MINER = bytes([1]) * 32
CHALLENGE = bytes(range(32))


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture(scope="module")
def service_url():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "appliance",
            "k2pow-service",
            "--bind-address",
            "127.0.0.1:0",
            "--randomx-mode",
            "light",
            "--cores",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    port = proc.stdout.readline().strip()
    assert port, "the k2pow service did not start"
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def _job(url: str, group: int, difficulty: bytes, challenge: bytes = CHALLENGE[:8]) -> str:
    return f"{url}/job/{MINER.hex()}/{group}/{challenge.hex()}/{difficulty.hex()}"


def test_protocol(service_url: str) -> None:
    assert _get(service_url + "/") == (200, "{ 'message': 'ok' }")
    easy = bytes.fromhex("0f" + "ff" * 31)
    status, _ = _get(_job(service_url, 3, easy))
    assert status == 201
    deadline = time.monotonic() + 60
    while status == 201 and time.monotonic() < deadline:
        time.sleep(0.1)
        status, body = _get(_job(service_url, 3, easy))
    assert status == 200
    ctx = k2pow.context(False)
    assert ctx.verify(int(body), 3, CHALLENGE, MINER, easy)
    assert _get(_job(service_url, 3, easy)) == (200, body), "results are remembered"
    hard = bytes(4) + b"\xff" * 28  # ~2^32 hashes: still running during the next calls
    assert _get(_job(service_url, 4, hard))[0] == 201
    assert _get(_job(service_url, 4, hard))[0] == 201, "asking again for the running job"
    assert _get(_job(service_url, 5, easy))[0] == 429, "another job while busy"
    for bad in (
        f"{service_url}/job/{MINER.hex()[:-2]}/1/{CHALLENGE[:8].hex()}/{easy.hex()}",
        f"{service_url}/job/{MINER.hex()}/256/{CHALLENGE[:8].hex()}/{easy.hex()}",
        f"{service_url}/job/{MINER.hex()}/1/zz{CHALLENGE[:7].hex()}/{easy.hex()}",
    ):
        assert _get(bad)[0] == 400, bad


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    meta = PostMetadata(MINER, bytes([2]) * 32, 256, 2, 1024)
    assert Initializer(tmp_path / "data", meta, 16).run().complete
    return tmp_path / "data"


CONFIG = ProofConfig(8, 12, bytes.fromhex("3f" + "ff" * 31))  # 1 in 4 pows is valid


def _verify(proof, dataset: Path) -> None:
    verify_proof(
        proof,
        node_id=MINER,
        commitment_atx_id=bytes([2]) * 32,
        challenge=CHALLENGE,
        num_units=2,
        labels_per_unit=256,
        config=CONFIG,
        scrypt_n=16,
    )


async def test_prover_uses_the_service_and_checks_it(dataset: Path, aiohttp_server, caplog) -> None:
    seen: list[str] = []
    target = scale_pow_difficulty(CONFIG.pow_difficulty, 2)
    ctx = k2pow.context(False)
    honest = k2pow.search(ctx, 0, CHALLENGE, MINER, target, threading.Event())
    liar_value = next(v for v in range(1000) if not ctx.verify(v, 0, CHALLENGE, MINER, target))
    lie = [False]

    async def job(request: web.Request) -> web.Response:
        seen.append(request.path)
        if int(request.match_info["group"]) != 0:
            return web.Response(status=500, text="only group 0 here")
        return web.Response(status=200, text=str(liar_value if lie[0] else honest))

    app = web.Application()
    app.router.add_get("/job/{miner}/{group}/{challenge}/{difficulty}", job)
    server = await aiohttp_server(app)
    url = str(server.make_url("")).rstrip("/")

    proof = await asyncio.to_thread(
        generate_proof, dataset, CHALLENGE, CONFIG, 16, 1, fast_mode=False,
        pow_source=RemoteK2pow(url, backoff=0.05, max_errors=3), pow_fallback=True
    )
    assert seen and seen[0] == f"/job/{MINER.hex()}/0/{CHALLENGE[:8].hex()}/{target.hex()}"
    assert proof.pow == honest or proof.nonce >= 16  # group 0's pow came from the service
    _verify(proof, dataset)

    lie[0] = True
    with caplog.at_level(logging.WARNING):
        proof = await asyncio.to_thread(
            generate_proof, dataset, CHALLENGE, CONFIG, 16, 1, fast_mode=False,
        pow_source=RemoteK2pow(url, backoff=0.05, max_errors=3), pow_fallback=True
        )
    assert any("invalid pow" in r.message for r in caplog.records)
    _verify(proof, dataset)
