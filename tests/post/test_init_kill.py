"""``post init`` killed with SIGKILL at random instants resumes to files byte-identical to an
uninterrupted run (real subprocesses of ``python -m appliance post init``)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.post import layout
from appliance.post.metadata import read_metadata

pytestmark = [pytest.mark.usefixtures("need_labels"), pytest.mark.slow]
ARGS = [
    "--node-id",
    "01" * 32,
    "--commitment-atx-id",
    "02" * 32,
    "--labels-per-unit",
    "8192",
    "--num-units",
    "2",
    "--max-file-size",
    "4096",
    "--scrypt-n",
    "2048",
    "--threads",
    "2",
]


def _init(datadir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "appliance", "post", "init", "--datadir", str(datadir), *ARGS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )


def _snapshot(datadir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for _, path in layout.list_files(datadir)}


def test_sigkill_at_random_points_is_byte_identical(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    started = time.monotonic()
    proc = _init(clean)
    out, err = proc.communicate(timeout=120)
    duration = time.monotonic() - started
    assert proc.returncode == 0, err.decode()
    assert json.loads(out)["complete"] is True
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    killed = tmp_path / "killed"
    positions = []
    for _ in range(7):
        proc = _init(killed)
        time.sleep(rng.uniform(0.05, 0.5 * duration))
        proc.kill()
        proc.communicate(timeout=60)
        if (killed / "postdata_metadata.json").exists():
            positions.append(read_metadata(killed).last_position)
    proc = _init(killed)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, f"seed {seed}: {err.decode()}"
    assert _snapshot(killed) == _snapshot(clean), f"seed {seed}, durable positions {positions}"
    assert read_metadata(killed) == read_metadata(clean)
    assert positions == sorted(positions), "the durable position never goes back"
    print("durable positions after each kill:", positions)
