"""Runs the C tests of the proving scan (native/tests/test_scan.c) and of k2pow (test_k2pow.c), built
with native/Makefile: natively with each x86-64 AES path forced, under ASan/UBSan, and cross-built
for aarch64 under qemu-aarch64-static with each aarch64 path (armce, neon, soft) forced.

Every run checks all implementations the (emulated) CPU has against the shared JSON vectors and each
other; forcing SMESHPOST_AES additionally proves the override reaches AUTO. qemu-user's CPU models
all have the AES instructions, so "a Pi 4 without AES" is the forced-neon run, not a CPU model.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NATIVE = ROOT / "native"
VECTORS = NATIVE / "tests" / "vectors"
CROSS_LIB = Path("/usr/lib/aarch64-linux-gnu")
QEMU = "qemu-aarch64-static"
TESTS = ("test_scan", "test_k2pow")


def _cpu_has_aes() -> bool:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"^flags\s*:.*\baes\b", text, re.M))


def _build(build: Path, flavour: str) -> Path:
    if not shutil.which("make") or not shutil.which("cc"):
        pytest.skip("make and a C compiler are needed (installed by ./dev)")
    targets = [str(build / flavour / name) for name in TESTS]
    proc = subprocess.run(["make", "-s", "-C", str(NATIVE), f"BUILD={build}", *targets],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"make {flavour} failed:\n{proc.stdout}\n{proc.stderr}"
    return build / flavour


def _need_cross() -> None:
    missing = [tool for tool in ("aarch64-linux-gnu-gcc", QEMU) if not shutil.which(tool)]
    if missing or not (CROSS_LIB / "librandomx.so").exists():
        pytest.skip(f"aarch64 cross build needs {missing or 'librandomx-dev:arm64'} (scripts/apt/native.txt)")


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("native-scan")


@pytest.fixture(scope="module")
def host(build_dir: Path) -> Path:
    return _build(build_dir, "host")


@pytest.fixture(scope="module")
def aarch64(build_dir: Path) -> Path:
    _need_cross()
    return _build(build_dir, "aarch64")


def _run(cmd: list[str], env_extra: dict[str, str], timeout: int = 600) -> str:
    env = {**os.environ, "SMESHPOST_VECTORS": str(VECTORS), **env_extra}
    env.pop("SMESHPOST_K2POW_FAST", None)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    assert proc.returncode == 0, f"{cmd[-1]} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    assert re.search(r"^ok: \d+ checks, 0 failures$", proc.stdout, re.M), proc.stdout
    return proc.stdout


def _selected(output: str) -> str:
    match = re.search(r"^# selected AES implementation: (\w+)$", output, re.M)
    assert match, output
    return match.group(1)


def _hash_line(output: str) -> str:
    match = re.search(r"^# hash .*$", output, re.M)
    assert match, output
    return match.group(0)


def _cpu_has_vaes512() -> bool:
    flags = re.search(r"^flags\s*:(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    return bool(flags) and {"vaes", "avx512f", "avx512bw"} <= set(flags.group(1).split())


@pytest.mark.parametrize(("impl", "vaes"), [("", ""), ("soft", ""), ("aesni", ""), ("aesni", "0")])
def test_scan_host(host: Path, impl: str, vaes: str) -> None:
    """SMESHPOST_VAES=0 turns off the VAES/AVX-512 loop inside the aesni path (the 128-bit loop is
    what CPUs without AVX-512 run); without it, a CPU that has VAES runs the wide loop."""
    if impl == "aesni" and not _cpu_has_aes():
        pytest.skip("this CPU has no AES-NI")
    if impl == "aesni" and not vaes and not _cpu_has_vaes512():
        pytest.skip("this CPU has no VAES/AVX-512BW; the 128-bit loop is covered by the SMESHPOST_VAES=0 run")
    out = _run([str(host / "test_scan")], {"SMESHPOST_AES": impl, "SMESHPOST_VAES": vaes})
    assert "soft" in out.splitlines()[0]
    if impl:
        assert _selected(out) == impl
    elif _cpu_has_aes():
        assert _selected(out) == "aesni"  # best first


@pytest.mark.slow
def test_scan_and_k2pow_sanitizers(build_dir: Path) -> None:
    asan = _build(build_dir, "asan")
    _run([str(asan / "test_scan")], {"SMESHPOST_VAES": "0"})
    _run([str(asan / "test_scan")], {})
    _run([str(asan / "test_k2pow")], {})


@pytest.mark.qemu
@pytest.mark.parametrize("impl", ["armce", "neon", "soft"])
def test_scan_aarch64(aarch64: Path, impl: str) -> None:
    out = _run([QEMU, str(aarch64 / "test_scan")], {"SMESHPOST_AES": impl})
    assert out.splitlines()[0] == "# AES implementations available: soft armce neon"
    assert _selected(out) == impl


def test_k2pow_host(host: Path) -> None:
    _run([str(host / "test_k2pow")], {})


@pytest.mark.qemu
@pytest.mark.slow
def test_k2pow_aarch64_hashes_like_x86(host: Path, aarch64: Path) -> None:
    """RandomX light mode under qemu takes ~10 s (the JIT output is emulated too); the same input
    must give the same hash on both architectures."""
    native = _run([str(host / "test_k2pow")], {})
    emulated = _run([QEMU, str(aarch64 / "test_k2pow")], {})
    assert _hash_line(native) == _hash_line(emulated)


def test_bench_mode_prints_a_ratio_per_implementation(host: Path) -> None:
    proc = subprocess.run([str(host / "test_scan"), "--bench", "1"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines() if re.search(r"ratio \d+\.\d+$", line)]
    assert "soft" in names and (not _cpu_has_aes() or "aesni" in names)
