"""Drives the C label tests (native/tests/test_labels.c) built by native/Makefile: the host build with
each implementation forced through SMESHPOST_LABELS, the ASan+UBSan build, and the aarch64 build under
qemu-aarch64 forcing portable, neon4 and neon8. Expected values come from
native/tests/vectors/labels.json (the spec's verified vectors), the same file the Python tests read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

NATIVE = Path(__file__).resolve().parents[2] / "native"
VECTORS = json.loads((NATIVE / "tests" / "vectors" / "labels.json").read_text())
CROSS_LIBDIR = Path("/usr/lib/aarch64-linux-gnu")
QEMU = "qemu-aarch64-static"


def _make(build_dir: Path, flavor: str) -> Path:
    """Builds test_labels for one flavor (host, asan, aarch64) and returns the binary."""
    target = build_dir / flavor / "test_labels"
    proc = subprocess.run(
        ["make", "-s", "-C", str(NATIVE), f"BUILD={build_dir}", str(target)],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, f"make {flavor} failed:\n{proc.stdout}\n{proc.stderr}"
    return target


class Runner:
    """Runs one test_labels binary, natively or under qemu-aarch64, with SMESHPOST_LABELS forced."""

    def __init__(self, binary: Path, qemu: bool = False) -> None:
        self.binary, self.qemu = binary, qemu

    def run(
        self, *args: str, impl: str | None = None, check: bool = True, cpu: str | None = None
    ) -> subprocess.CompletedProcess:
        env = dict(os.environ)
        env.pop("SMESHPOST_LABELS", None)
        if impl:
            env["SMESHPOST_LABELS"] = impl
        if cpu:  # the CPU model qemu-user emulates, and so the HWCAPs the dispatcher sees
            env["QEMU_CPU"] = cpu
        cmd = ([QEMU] if self.qemu else []) + [str(self.binary), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
        if check:
            assert proc.returncode == 0, f"{cmd} ({impl=}) -> {proc.returncode}\n{proc.stdout}{proc.stderr}"
        return proc

    def info(self, impl: str | None = None, cpu: str | None = None) -> tuple[str, list[str]]:
        lines = self.run("info", impl=impl, cpu=cpu).stdout.splitlines()
        assert lines[0].startswith("selected ") and lines[1].startswith("available")
        return lines[0].split()[1], lines[1].split()[1:]

    def labels(self, impl: str, commitment: str, n: int, start: int, count: int) -> list[str]:
        # "auto" + the environment override: the same path the Python module takes.
        out = self.run("labels", "auto", commitment, str(n), str(start), str(count), impl=impl).stdout
        return out.split()


def check_vectors(runner: Runner, impl: str, max_n: int = 1 << 30) -> int:
    """Every label vector through the forced implementation; returns how many labels were compared."""
    selected, _ = runner.info(impl)
    assert selected == impl, f"SMESHPOST_LABELS={impl} not honoured (selected {selected})"
    compared = 0
    for case in VECTORS["labels"]:
        if case["scrypt_n"] > max_n:
            continue
        want = case.get("full_labels") or case["labels"]
        got = runner.labels(impl, case["commitment"], case["scrypt_n"], case["start"], len(want))
        assert [g[: len(w)] for g, w in zip(got, want, strict=True)] == want, (impl, case["scrypt_n"])
        compared += len(want)
    return compared


def check_primitives(runner: Runner) -> None:
    for case in VECTORS["scrypt_jane"]:
        args = (case["password"], case["salt"], case["n"], case["r"], case["p"], len(case["out"]) // 2)
        assert runner.run("scrypt", *map(str, args)).stdout.strip() == case["out"], case
    for case in VECTORS["keccak512"]:
        assert runner.run("keccak", case["message"]).stdout.strip() == case["digest"], case


# ---------------------------------------------------------------- host


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return Runner(_make(tmp_path_factory.mktemp("native"), "host"))


def host_impls() -> list[str]:
    names = ["portable"]
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if os.uname().machine == "x86_64":
        names += [isa for isa in ("sse2", "avx2") if f" {isa}" in flags]
    elif os.uname().machine == "aarch64":
        names += ["neon4", "neon8"]
    return names


def test_host_detects_every_implementation_of_this_cpu(host: Runner) -> None:
    selected, available = host.info()
    assert available == host_impls()
    assert selected == available[-1] if os.uname().machine == "x86_64" else selected in available


@pytest.mark.parametrize("impl", host_impls())
def test_host_vectors(host: Runner, impl: str) -> None:
    total = sum(len(c.get("full_labels") or c["labels"]) for c in VECTORS["labels"])
    assert check_vectors(host, impl) == total


def test_host_unknown_override_falls_back_to_best(host: Runner) -> None:
    assert host.info("no-such-isa")[0] == host.info()[0]


def test_host_primitive_vectors(host: Runner) -> None:
    check_primitives(host)


def test_host_selftest(host: Runner) -> None:
    out = host.run("selftest", "6").stdout
    assert out.rstrip().endswith(", 0 failures"), out


@pytest.mark.parametrize(
    "args",
    [
        ("labels", "auto", "00" * 31, "16", "0", "1"),  # 31-byte commitment
        ("labels", "auto", "zz" * 32, "16", "0", "1"),  # not hex
        ("labels", "avx512", "00" * 32, "16", "0", "1"),  # unknown implementation
        ("labels", "auto", "00" * 32, "sixteen", "0", "1"),
        ("selftest", "0"),
        ("bogus",),
    ],
)
def test_host_rejects_bad_arguments(host: Runner, args: tuple[str, ...]) -> None:
    proc = host.run(*args, check=False)
    assert proc.returncode == 2 and "usage" in proc.stderr


@pytest.mark.parametrize("n", ["3", "1", "0"])
def test_host_rejects_bad_scrypt_n(host: Runner, n: str) -> None:
    proc = host.run("labels", "portable", "00" * 32, n, "0", "1", check=False)
    assert proc.returncode == 1 and "sp_labels: -1" in proc.stderr  # SP_ERR_INVALID


def test_host_range_ends_at_last_index(host: Runner) -> None:
    last = host.run("labels", "auto", "00" * 32, "16", str(2**64 - 1), "1").stdout.split()
    assert len(last) == 1 and len(last[0]) == 64
    proc = host.run("labels", "auto", "00" * 32, "16", str(2**64 - 1), "2", check=False)
    assert proc.returncode == 1, "a range past 2^64-1 must be refused"


def test_vectors_file_is_consistent() -> None:
    """The Keccak digests match an independent implementation and standard scrypt really differs."""
    from Crypto.Hash import keccak

    for case in VECTORS["keccak512"]:
        digest = keccak.new(digest_bits=512, data=bytes.fromhex(case["message"])).hexdigest()
        assert digest == case["digest"]
    other = VECTORS["hashlib_scrypt_is_different"]
    password = bytes.fromhex(other["commitment"]) + other["index"].to_bytes(8, "little") + bytes(32)
    got = hashlib.scrypt(password, salt=b"", n=other["scrypt_n"], r=1, p=1, dklen=32, maxmem=64 << 20)
    assert got[:16].hex() == other["hashlib_label"]
    assert VECTORS["labels"][0]["full_labels"][0][:32] != other["hashlib_label"]


# ---------------------------------------------------------------- ASan + UBSan


@pytest.mark.slow
def test_asan_build(tmp_path_factory: pytest.TempPathFactory) -> None:
    asan = Runner(_make(tmp_path_factory.mktemp("native-asan"), "asan"))
    out = asan.run("selftest", "2").stdout
    assert out.rstrip().endswith(", 0 failures"), out
    for impl in host_impls():
        check_vectors(asan, impl, max_n=16)
    check_primitives(asan)


# ---------------------------------------------------------------- aarch64 under qemu-user


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    missing = [tool for tool in ("aarch64-linux-gnu-gcc", QEMU, "make") if not shutil.which(tool)]
    if not (CROSS_LIBDIR / "librandomx.so").exists():
        missing.append("librandomx-dev:arm64")
    if missing:
        pytest.skip(f"aarch64 cross toolchain missing: {', '.join(missing)} (see scripts/apt/native.txt)")
    return Runner(_make(tmp_path_factory.mktemp("native-arm"), "aarch64"), qemu=True)


@pytest.mark.qemu
@pytest.mark.parametrize(("cpu", "best"), [("cortex-a72", "neon8"), ("cortex-a76", "neon4")])
def test_aarch64_detects_neon(arm: Runner, cpu: str, best: str) -> None:
    """Pi 4 (A72, ARMv8.0) gets the 8-lane kernel, Pi 5 (A76, ARMv8.2 with dot product) the 4-lane one."""
    selected, available = arm.info(cpu=cpu)
    assert available == ["portable", "neon4", "neon8"] and selected == best


@pytest.mark.qemu
@pytest.mark.parametrize("impl", ["portable", "neon4", "neon8"])
def test_aarch64_vectors(arm: Runner, impl: str) -> None:
    check_vectors(arm, impl)


@pytest.mark.qemu
def test_aarch64_primitives_and_selftest(arm: Runner) -> None:
    check_primitives(arm)
    out = arm.run("selftest", "3").stdout
    assert "portable neon4 neon8" in out and out.rstrip().endswith(", 0 failures"), out
