"""``python -m appliance post ...`` as a user runs it: outputs, exit codes and one-line reasons."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("need_labels")
ROOT = Path(__file__).resolve().parents[2]
IDS = ["--node-id", "01" * 32, "--commitment-atx-id", "02" * 32]
CHALLENGE = "ab" * 32
EASY = ["--k1", "8", "--k2", "12", "--pow-difficulty", "ff" * 32]


def post(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", "post", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def assert_fails(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_labels_match_reference(ref) -> None:
    proc = post("labels", *IDS, "--start", (1 << 64) - 3, "--count", 3, "--scrypt-n", 16)
    assert proc.returncode == 0, proc.stderr
    com = ref.calc_commitment(bytes([1]) * 32, bytes([2]) * 32)
    assert proc.stdout.split() == [ref.label(com, i, 16).hex() for i in range((1 << 64) - 3, 1 << 64)]
    proc = post("labels", *IDS, "--start", 0, "--count", 2)
    assert proc.stdout.split() == ["34c860b656ada7e741788e9ca64f77e0", "2ee450904065b50166d91563d1b4f995"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["labels", "--node-id", "01" * 31, "--commitment-atx-id", "02" * 32, "--start", 0, "--count", 1],
            ["--node-id", "64 hex characters"],
        ),
        (
            ["labels", "--node-id", "zz" * 32, "--commitment-atx-id", "02" * 32, "--start", 0, "--count", 1],
            ["not hex"],
        ),
        (["labels", *IDS, "--start", (1 << 64) - 1, "--count", 2], ["exceeds 2^64"]),
        (["labels", *IDS, "--start", 1 << 64, "--count", 1], ["--start"]),
        (["labels", *IDS, "--start", 0, "--count", 0], ["--count"]),
        (["labels", *IDS, "--start", 0, "--count", 1, "--scrypt-n", 24], ["power of two"]),
        (["labels", *IDS, "--start", "x", "--count", 1], ["not an integer"]),
        (
            [
                "init",
                "--datadir",
                "/nonexistent-never",
                *IDS,
                "--labels-per-unit",
                64,
                "--num-units",
                1,
                "--max-file-size",
                1040 + 8,
            ],
            ["MaxFileSize", "multiple of 16"],
        ),
        (["init", *IDS, "--labels-per-unit", 64, "--num-units", 1], ["--datadir"]),
        (["prove", "--datadir", ".", "--challenge", "ab" * 16], ["--challenge"]),
        (["prove", "--datadir", ".", "--challenge", CHALLENGE, "--nonces", 20], ["multiple of 16"]),
        (["check", "--datadir", ".", "--fraction", 150], ["percentage"]),
        (["bench", "--seconds", -1], ["positive"]),
        (["frobnicate"], ["invalid choice"]),
    ],
)
def test_bad_input_is_one_line(args, words) -> None:
    assert_fails(post(*args), *words)


@pytest.mark.usefixtures("need_k2pow")
def test_init_check_prove_verify(tmp_path: Path) -> None:
    data = tmp_path / "data"
    init = [
        "init",
        "--datadir",
        data,
        *IDS,
        "--labels-per-unit",
        160,
        "--num-units",
        2,
        "--max-file-size",
        1024,
        "--scrypt-n",
        16,
        "--threads",
        2,
    ]
    proc = post(*init)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["complete"] is True and result["position"] == 320
    assert json.loads(post("check", "--datadir", data, "--fraction", 100).stdout)["ok"] is True

    proc = post("prove", "--datadir", data, "--challenge", CHALLENGE, *EASY, "--threads", 2)
    assert proc.returncode == 0, proc.stderr
    proof = json.loads(proc.stdout)
    assert set(proof) == {"nonce", "indices", "pow"}
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps(proof))
    verify = [
        "verify",
        "--datadir",
        data,
        "--challenge",
        CHALLENGE,
        "--proof",
        proof_file,
        *EASY,
        "--scrypt-n",
        16,
    ]
    proc = post(*verify)
    assert proc.returncode == 0 and json.loads(proc.stdout) == {"valid": True}, proc.stderr
    proc = post(*verify, "--k3", 5)
    assert proc.returncode == 0, proc.stderr

    wrong_n = post(*verify[:-2], "--scrypt-n", 32)  # labels of another N fail the AES test
    assert wrong_n.returncode == 1 and json.loads(wrong_n.stdout)["error"] in ("InvalidIndex",)
    import base64

    raw = bytearray(base64.b64decode(proof["indices"]))
    raw.pop()
    proof_file.write_text(json.dumps({**proof, "indices": base64.b64encode(bytes(raw)).decode()}))
    assert_fails(post(*verify), "invalid proof", "indices are")
    proof_file.write_text(json.dumps({**proof, "nonce": 4096}))
    assert_fails(post(*verify), "group 256 > 255")
    proof_file.write_text("{not json")
    assert_fails(post(*verify), "not valid JSON")

    # damage: a corrupted label is named by check; a short file stops prove with its name
    path = data / "postdata_3.bin"
    raw_file = bytearray(path.read_bytes())
    raw_file[5 * 16] ^= 1
    path.write_bytes(bytes(raw_file))
    proc = post("check", "--datadir", data, "--fraction", 100)
    assert proc.returncode == 1 and "postdata_3.bin offset 80" in proc.stderr
    path.write_bytes(bytes(raw_file[:100]))
    assert_fails(post("prove", "--datadir", data, "--challenge", CHALLENGE, *EASY), "postdata_3.bin", "short")
    assert_fails(post("check", "--datadir", data), "postdata_3.bin", "short")
    (data / "postdata_metadata.json").write_text('{"NodeId": 5')
    assert_fails(post(*verify), "postdata_metadata.json", "not valid JSON")


def test_init_on_read_only_disk(mount) -> None:
    disk = mount("1m")
    disk.read_only()
    try:
        proc = post(
            "init",
            "--datadir",
            disk.path / "d",
            *IDS,
            "--labels-per-unit",
            64,
            "--num-units",
            1,
            "--max-file-size",
            1024,
            "--scrypt-n",
            16,
        )
    finally:
        disk.read_write()
    assert_fails(proc, "cannot write")


def test_bench_reports_ratios() -> None:
    proc = post("bench", "--seconds", "0.05")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    rows = report["labels"]["impls"]
    assert rows and all(row.get("ratio_vs_hashlib_scrypt", 0) > 0 for row in rows), rows
    assert report["labels"]["hashlib_scrypt_labels_per_second"] > 0
    scans = report["scan"]["impls"]
    assert scans and all(row.get("ratio_vs_openssl_ecb", 0) > 0 for row in scans), scans
    assert "hashlib.scrypt" in proc.stderr
