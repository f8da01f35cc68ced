"""The label development tools run and say something sensible: native/tools/mca.py (llvm-mca cycles of
the aarch64 kernels) and native/tools/bench_labels.py (labels/s next to hashlib.scrypt)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "native" / "tools"


def test_mca_estimates_neon_below_portable() -> None:
    missing = [t for t in ("aarch64-linux-gnu-gcc",) if not shutil.which(t)]
    if not (shutil.which("llvm-mca-19") or shutil.which("llvm-mca")):
        missing.append("llvm-mca")
    if missing:
        pytest.skip(f"missing {', '.join(missing)} (scripts/apt/native.txt)")
    proc = subprocess.run([sys.executable, str(TOOLS / "mca.py"), "--json"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert set(rows) == {"portable", "neon4", "neon8"}
    for cpu in ("cortex-a72", "cortex-a76"):
        assert all(row[cpu] > 0 for row in rows.values())
        # a model property, not a timing: the vector kernels need fewer cycles per label than scalar
        assert max(rows["neon4"][cpu], rows["neon8"][cpu]) < rows["portable"][cpu], (cpu, rows)


def test_mca_reports_missing_compiler(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(TOOLS / "mca.py")], capture_output=True, text=True,
                          env={"PATH": str(tmp_path)}, timeout=60)
    assert proc.returncode == 1 and "not installed" in proc.stderr


def test_bench_prints_every_implementation_and_the_peer() -> None:
    cmd = [sys.executable, str(TOOLS / "bench_labels.py"), "--seconds", "0", "--scrypt-n", "256"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()[1:]]
    assert names[0] == "hashlib.scrypt" and "portable" in names
    assert all(line.rstrip().endswith("x hashlib.scrypt") for line in proc.stdout.splitlines()[1:])
