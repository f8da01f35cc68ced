"""The real daemon initializes with a helper paired from the phone: ``python -m appliance run --dev``
(file-backed loop-device drives, devnet), driven only over its web API as the page does — log in,
turn helpers on, make a pairing code — and a helper in its own network namespace running the
command the page shows. The daemon's own job manager initializes both drives; the helper's units are
judged and written; each dataset is byte-identical to a local init of the same parameters, and a
proof made from it verifies. A wrong code and a removed helper are refused.

Prints the box's labels/s, the helper's and the combined rate (as the page shows them)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.post.initializer import Initializer
from appliance.post.layout import file_name
from appliance.post.metadata import read_metadata
from tests.e2e.conftest import REPO, DevDaemon, HttpError, require_root_loops, wait_for
from tests.peers.conftest import Netns

pytestmark = [pytest.mark.root, pytest.mark.slow]
UNIT = 1 << 20  # one --dev space unit: 65536 labels (scrypt N 2048)
CHALLENGE = "ab" * 32
EASY = ["--k1", "8", "--k2", "12", "--pow-difficulty", "ff" * 32]


def _post(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", "post", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        env={**os.environ, "SMESHBOX_RANDOMX": "light"},
    )


def _datadirs(daemon: DevDaemon) -> dict[str, Path]:
    """node id → the dataset folder on the mounted dev drive."""
    return {
        read_metadata(meta.parent).node_id.hex(): meta.parent
        for meta in daemon.state.glob("drives/*/smeshbox/postdata_metadata.json")
    }


def _argv(command: str) -> list[str]:
    """The command the page shows, run with this interpreter (the PC's ``python``)."""
    argv = shlex.split(command)
    assert argv[:4] == ["python", "-m", "appliance", "helper"], command
    return [sys.executable, *argv[1:]]


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.mark.timeout(300)
def test_daemon_inits_with_a_phone_paired_helper(tmp_path: Path, netns) -> None:
    require_root_loops()
    ns: Netns = netns()
    state = tmp_path / "state"
    state.mkdir()
    # the helper API on an ephemeral port (8442 on a box): parallel runs must not collide
    (state / "config.json").write_text(json.dumps({"helpers": {"api_port": 0}}))
    daemon = DevDaemon(tmp_path)
    helper: subprocess.Popen[str] | None = None
    try:
        daemon.wait_ready()
        daemon.onboard()
        assert daemon.api("GET", "/api/v1/peers")["enabled"] is False
        with pytest.raises(HttpError) as refused:
            daemon.api("POST", "/api/v1/peers/code")
        assert refused.value.status == 409

        drives = wait_for(
            lambda: [d for d in daemon.api("GET", "/api/v1/drives")["drives"] if d["job"]][1:] and [
                d for d in daemon.api("GET", "/api/v1/drives")["drives"] if d["job"]
            ],
            60,
            "dev drives with a dataset job",
            daemon,
        )
        assert len(drives) == 2, drives
        for drive, units in zip(drives, (1, 1), strict=True):
            plan = daemon.api("POST", f"/api/v1/drives/{drive['id']}/allocate", {"size_bytes": units * UNIT})
            assert plan["num_units"] == units, plan

        with pytest.raises(HttpError) as bad:
            daemon.api("POST", "/api/v1/peers/enable", {"host": "not-an-address"})
        assert bad.value.status == 400 and "not an IP address" in bad.value.body["reason"]
        enabled = daemon.api("POST", "/api/v1/peers/enable", {"host": ns.host_ip})
        assert enabled["enabled"] and enabled["broker"] == "up", enabled
        assert enabled["helper_api"].startswith(f"https://{ns.host_ip}:"), enabled
        code = daemon.api("POST", "/api/v1/peers/code")

        # a wrong code is refused, and the right one still works afterwards
        wrong = ns.run(
            *_argv(code["command"].replace(code["code"], "WRONG234")),
            "--config", str(tmp_path / "x.json"), "--threads", "1",
            stderr=subprocess.PIPE,
        )  # fmt: skip
        assert wrong.wait(60) == 1 and "wrong pairing code" in wrong.stderr.read()

        started = time.monotonic()
        helper = ns.run(
            *_argv(code["command"]),
            "--config", str(tmp_path / "pc.json"), "--name", "pc", "--threads", "1",
            "--heartbeat-labels", "4096", "--hello-seconds", "0.5",
            stderr=subprocess.PIPE,
        )  # fmt: skip
        seen: dict[str, float] = {"box": 0.0, "helper": 0.0, "accepted": 0}

        def finished() -> bool:
            status = daemon.api("GET", "/api/v1/peers")
            init = status["init"]
            if init:
                seen["box"] = max(seen["box"], init["box_labels_per_second"])
                for h in init["helpers"]:
                    seen["helper"] = max(seen["helper"], h["labels_per_second"])
                    seen["accepted"] = max(seen["accepted"], h["labels_accepted"])
            jobs = [d["job"] for d in daemon.api("GET", "/api/v1/drives")["drives"]]
            return all(j and j["state"] in ("ready", "proving") for j in jobs)

        wait_for(finished, 180, "both drives initialized with the helper", daemon)
        elapsed = time.monotonic() - started
        assert seen["accepted"] > 0, f"the helper's units were never accepted: {daemon.text()[-3000:]}"
        total = 2 * 65536
        print(
            f"\nreal daemon + 1 helper (1 thread each, N=2048): box {seen['box']:,.0f} labels/s, "
            f"helper {seen['helper']:,.0f} labels/s, {int(seen['accepted'])} labels from the helper; "
            f"{total} labels in {elapsed:.1f} s since pairing = {total / elapsed:,.0f} labels/s combined"
        )

        for node_id, datadir in _datadirs(daemon).items():
            meta = read_metadata(datadir)
            local = tmp_path / f"local-{node_id[:8]}"
            assert Initializer(local, meta, 2048, threads=2).run().complete
            for index in range(meta.num_files):
                assert (datadir / file_name(index)).read_bytes() == (local / file_name(index)).read_bytes()
            assert read_metadata(local) == meta, node_id
        biggest = max(_datadirs(daemon).values(), key=lambda d: read_metadata(d).num_units)
        proof = _post("prove", "--datadir", biggest, "--challenge", CHALLENGE, *EASY, "--threads", 1)
        assert proof.returncode == 0, proof.stderr
        (tmp_path / "proof.json").write_text(proof.stdout)
        verify = _post(
            "verify", "--datadir", biggest, "--challenge", CHALLENGE, "--proof", tmp_path / "proof.json",
            *EASY, "--scrypt-n", 2048,
        )  # fmt: skip
        assert verify.returncode == 0 and json.loads(verify.stdout) == {"valid": True}, verify.stderr

        # removed from the page: the helper's token is refused and it stops by itself
        daemon.api("DELETE", "/api/v1/peers/helpers/pc")
        assert helper.wait(30) == 4
        assert "the box removed this helper" in helper.stderr.read()
        assert daemon.api("GET", "/api/v1/peers")["helpers"] == []
        off = daemon.api("POST", "/api/v1/peers/disable")
        assert off["enabled"] is False and off["broker"] == "off"
    finally:
        if helper is not None:
            _stop(helper)
        code = daemon.stop()
        daemon.force_cleanup()
    assert code == 0, daemon.text()[-3000:]
    assert "helpers enabled on" in daemon.text()
