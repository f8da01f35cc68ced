"""Box and helpers as real processes: the box (``peers-box``: redis-server, Celery producer, helper
API, writer) on the host end of a veth pair, each helper (a real Celery worker) in its own network
namespace. Output is compared byte for byte with a local init of the same dataset.

Scenarios: an honest helper finishes the dataset with the box (and a pickle message planted on its
queue is refused, not run); a helper killed with SIGKILL mid-unit is re-leased and the box itself
killed mid-init resumes; a lying helper is caught, unpaired, and its work redone.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from appliance.peers.redisd import free_port
from appliance.post.initializer import Initializer
from appliance.post.layout import file_name
from appliance.post.metadata import PostMetadata, read_metadata
from tests.peers.conftest import Netns

pytestmark = [pytest.mark.root, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
NODE, ATX = "01" * 32, "02" * 32
N = 4096
META = PostMetadata(bytes.fromhex(NODE), bytes.fromhex(ATX), 8192, 2, 64 << 10)  # 4 files, 16384 labels


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The same dataset initialized on this machine alone."""
    path = tmp_path_factory.mktemp("local")
    assert Initializer(path, META, N, threads=2).run().complete
    return path


class Box:
    """``python -m appliance peers-box`` as a process group (SIGKILL of the group = a power cut)."""

    def __init__(self, tmp: Path, host: str, api_port: int, **options: object) -> None:
        self.args = [
            sys.executable,
            "-m",
            "appliance",
            "peers-box",
            "--state",
            str(tmp / "state"),
            "--datadir",
            str(tmp / "data"),
            "--node-id",
            NODE,
            "--commitment-atx-id",
            ATX,
            "--labels-per-unit",
            str(META.labels_per_unit),
            "--num-units",
            str(META.num_units),
            "--max-file-size",
            str(META.max_file_size),
            "--scrypt-n",
            str(N),
            "--host",
            host,
            "--api-port",
            str(api_port),
            "--wait-for-helper",
            "30",
            "--local-unit",
            "512",
        ]
        for key, value in options.items():
            self.args += [f"--{key.replace('_', '-')}", str(value)]
        self.datadir = tmp / "data"
        self.lines: list[dict] = []
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        self.hello = self.read()

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"the box exited ({self.proc.wait()}) after {self.lines}"
        self.lines.append(json.loads(line))
        return self.lines[-1]

    def wait_for(self, key: str, timeout: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.read()
            if key in line:
                return line
        raise AssertionError(f"no {key!r} from the box: {self.lines}")

    def events(self) -> list[str]:
        return [line["event"] for line in self.lines if "event" in line]

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def _helper(ns: Netns, box: Box, config: Path, pair: bool = True, **popen) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "appliance", "helper", "--box", box.hello["api"], "--config", str(config)]
    args += ["--threads", "1", "--heartbeat-labels", "512", "--hello-seconds", "0.5", "--name", config.stem]
    if pair:
        args += ["--pair", box.hello["code"]]
    return ns.run(*args, **popen)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _identical(datadir: Path, reference: Path) -> None:
    for index in range(META.num_files):
        assert (datadir / file_name(index)).read_bytes() == (reference / file_name(index)).read_bytes(), index
    assert read_metadata(datadir) == read_metadata(reference)


def _plant_pickle(state: Path, port: int, host: str, marker: Path) -> None:
    """A message claiming pickle on the helper's queue: unpickling it would create ``marker``."""
    from kombu import Connection

    from appliance.peers.engine import TASK_NAME

    class Bomb:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    password = (state / "redis" / "box.password").read_text().strip()
    tls = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": str(state / "redis" / "tls" / "ca.pem")}
    with Connection(f"rediss://box:{password}@{host}:{port}/0", ssl=tls) as conn:
        conn.Producer().publish(
            pickle.dumps(((Bomb(),), {}, {})),
            routing_key="helper.pc1",
            content_type="application/x-python-serialize",
            content_encoding="binary",
            headers={"lang": "py", "task": TASK_NAME, "id": str(uuid.uuid4())},
        )


def test_helper_in_a_namespace_completes_byte_identical(tmp_path: Path, netns, reference: Path) -> None:
    ns = netns()
    box = Box(tmp_path, ns.host_ip, free_port(ns.host_ip), first_unit=4096)
    helper = _helper(ns, box, tmp_path / "pc1.json", stderr=subprocess.PIPE)
    try:
        marker = tmp_path / "pickle-ran"
        deadline = time.monotonic() + 30
        while not (tmp_path / "pc1.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        _plant_pickle(tmp_path / "state", box.hello["broker_port"], ns.host_ip, marker)
        done = box.wait_for("done")
        assert done["done"] is True, done
        helpers = done["status"]["init"]["helpers"]
        assert helpers[0]["name"] == "pc1" and helpers[0]["units_accepted"] >= 1, done
        assert box.proc.wait(30) == 0
    finally:
        box.kill()
        _stop(helper)
    _identical(box.datadir, reference)
    log = helper.stderr.read()
    assert "untrusted content of type pickle" in log, log[-2000:]  # the worker saw it and refused it
    assert not marker.exists(), "a pickle message was decoded by the helper"


def test_helper_killed_and_box_restarted(tmp_path: Path, netns, reference: Path) -> None:
    ns = netns()
    port = free_port(ns.host_ip)
    box = Box(tmp_path, ns.host_ip, port, first_unit=8192, silence=2)
    helper = _helper(ns, box, tmp_path / "pc1.json", stderr=subprocess.PIPE)
    try:
        while (char := helper.stderr.read(1)) != "[":  # the progress bar starts: the helper is mid-unit
            assert char, "the helper exited before computing"
        os.killpg(helper.pid, signal.SIGKILL)
        helper.wait()
        line = box.wait_for("event")
        assert "went silent" in line["event"], line
        deadline = time.monotonic() + 30  # the box now computes the released range itself
        while not read_metadata(box.datadir).last_position and time.monotonic() < deadline:
            time.sleep(0.05)
        box.kill()  # a power cut in the middle of the init
        position = read_metadata(box.datadir).last_position
        assert 0 < position < META.total_labels
        box = Box(tmp_path, ns.host_ip, port, first_unit=4096, silence=2)
        helper = _helper(ns, box, tmp_path / "pc1.json", pair=False, stderr=subprocess.DEVNULL)
        done = box.wait_for("done")
        assert done["done"] is True
    finally:
        box.kill()
        _stop(helper)
    _identical(box.datadir, reference)


def test_lying_helper_is_caught_and_unpaired(tmp_path: Path, netns, reference: Path) -> None:
    ns = netns()
    box = Box(tmp_path, ns.host_ip, free_port(ns.host_ip), first_unit=4096)
    liar = ns.run(
        sys.executable,
        str(HERE / "liar.py"),
        box.hello["api"],
        box.hello["code"],
        str(tmp_path / "liar.json"),
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        line = box.wait_for("event")
        assert "liar sent wrong labels" in line["event"], line
        assert liar.wait(30) == 4, "the unpaired helper is refused and stops"
        done = box.wait_for("done")
        assert done["done"] is True and done["status"]["helpers"] == []
        assert done["status"]["init"]["rejected_units"] >= 1
    finally:
        box.kill()
        _stop(liar)
    _identical(box.datadir, reference)
