"""Drives native/tests/test_dispatch.c: many threads fill the dispatcher's feature and selection
caches at once. The ThreadSanitizer build is the data-race check of native/src/dispatch.c (the
caches are C11 atomics); the host and ASan builds check that every thread gets the same answer,
also with an implementation forced through the environment.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

NATIVE = Path(__file__).resolve().parents[2] / "native"


def _build(build_dir: Path, flavor: str) -> Path:
    target = build_dir / flavor / "test_dispatch"
    proc = subprocess.run(
        ["make", "-s", "-C", str(NATIVE), f"BUILD={build_dir}", str(target)],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, f"make {flavor} failed:\n{proc.stdout}\n{proc.stderr}"
    return target


def _run(binary: Path, threads: int, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SMESHPOST_")}
    full.update(env)
    # A race report makes the binary exit 66 even if every thread happened to agree.
    full["TSAN_OPTIONS"] = "exitcode=66 halt_on_error=1"
    return subprocess.run([str(binary), str(threads)], capture_output=True, text=True, env=full, timeout=300)


@pytest.mark.parametrize("flavor", ["host", "asan", "tsan"])
@pytest.mark.parametrize("forced", [{}, {"SMESHPOST_LABELS": "portable", "SMESHPOST_AES": "soft"}])
def test_threads_racing_to_fill_the_caches_agree(
    tmp_path_factory: pytest.TempPathFactory, flavor: str, forced: dict[str, str]
) -> None:
    binary = _build(tmp_path_factory.getbasetemp() / "native-dispatch", flavor)
    proc = _run(binary, 32, **forced)
    assert proc.returncode == 0, f"{flavor} {forced}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    assert "ThreadSanitizer" not in proc.stderr
    assert proc.stdout.strip() == "dispatch ok 32"


def test_bad_thread_count_is_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    binary = _build(tmp_path_factory.getbasetemp() / "native-dispatch", "host")
    proc = _run(binary, 1)
    assert proc.returncode == 2 and "usage" in proc.stderr
