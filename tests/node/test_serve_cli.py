"""``python -m appliance post serve`` as a process, with post-rs service's flags, serving the devnet's
go-spacemesh node: the node gets and validates the initial post, the operator endpoint answers, the
process stops cleanly on SIGTERM; bad flags and bad data end with a one-line reason."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import urllib.request

import pytest

from appliance.devnet.fakenode import ZERO_CHALLENGE, FakeNode, NodePostConfig
from appliance.node.identity import generate

SCRYPT_N = 2
EASY = "ff" * 32


@pytest.fixture(scope="module")
def datadir(tmp_path_factory):
    from appliance.post.initializer import Initializer
    from appliance.post.metadata import PostMetadata

    path = tmp_path_factory.mktemp("serve") / "data"
    meta = PostMetadata(generate("cli").node_id, b"\x0b" * 32, 256, num_units=2, max_file_size=4096)
    Initializer(path, meta, scrypt_n=SCRYPT_N).run()
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _args(datadir, address, *extra):
    return [sys.executable, "-m", "appliance", "post", "serve", "--dir", str(datadir), "--address", address,
            "--k1", "8", "--k2", "12", "--pow-difficulty", EASY, "-n", str(SCRYPT_N), "--min-num-units", "1",
            "--nonces", "16", "--randomx-mode", "light", "--reconnect-interval-s", "1", *extra]


async def test_serves_the_node_and_stops_on_sigterm(datadir):
    from appliance.post.metadata import read_metadata

    node_id = read_metadata(datadir).node_id
    node = FakeNode(NodePostConfig(8, 12, bytes.fromhex(EASY), 256, SCRYPT_N), query_interval=0.05)
    address = await node.start()
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        *_args(datadir, f"http://{address}", "--operator-address", f"127.0.0.1:{port}"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await node.wait_registered(node_id, 60)
        answer = await node.build_initial_post(node_id, timeout=120)
        assert answer.metadata.challenge == ZERO_CHALLENGE
        assert node.identities[node_id].proofs == [ZERO_CHALLENGE]

        def status():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5) as reply:
                return json.loads(reply.read())

        assert await asyncio.to_thread(status) == "Idle"
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await node.stop()
    assert proc.returncode == 0, err.decode()
    text = err.decode()
    assert "POST network parameters" in text and '"k1": 8' in text and "connected to" in text


@pytest.mark.parametrize(
    "extra,why",
    [
        (["--min-num-units", "4"], "number of units in the POST data is out of range: 2 not in 4..="),
        (["--nonces", "20"], "nonces must be multiple of 16"),
        (["--cert", "/nonexistent"], "TLS needs all of --ca-cert, --cert and --key"),
        (["-r", "8"], "outside 1..1"),
    ],
)
def test_bad_flags_fail_with_one_line(datadir, extra, why):
    import subprocess

    result = subprocess.run(_args(datadir, "http://127.0.0.1:1", *extra), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and why in result.stderr


def test_bad_address_and_missing_data(tmp_path, datadir):
    import subprocess

    bad = subprocess.run(_args(datadir, "ftp://node:9094"), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "unknown client protocol" in bad.stderr
    empty = subprocess.run(_args(tmp_path, "http://127.0.0.1:1"), capture_output=True, text=True, timeout=60)
    assert empty.returncode == 1 and "error:" in empty.stderr and "postdata_metadata.json" in empty.stderr


def test_max_retries_gives_up(datadir):
    import subprocess

    result = subprocess.run(_args(datadir, f"http://127.0.0.1:{_free_port()}", "--max-retries", "1",
                                  "--reconnect-interval-s", "0"),
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "RUST_LOG": "error"})
    assert result.returncode == 1 and "max retries (1) reached" in result.stderr
