"""OtaManager end to end on the host: a real release server, real downloads and records, and the
fake ``rauc`` CLI (tests/ota/fake_rauc.py; the QEMU tests use the real one)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from aiohttp import web
from nacl.signing import SigningKey

from appliance.events import EventBus, Topic
from appliance.ota import OtaManager
from appliance.ota import gate as gatemod
from appliance.ota.errors import (
    BusyError,
    CompatibleError,
    DownloadError,
    InstallError,
    ManifestError,
    NotNewerError,
    SecurityEpochError,
    SignatureError,
    SpaceError,
)
from appliance.ota.manifest import Manifest
from appliance.ota.state import OtaStore

from .conftest import COMPATIBLE, Box

BUNDLE = os.urandom(600_000)


def release(**changes: object) -> Manifest:
    base = dict(version="1.1.0", compatible=COMPATIBLE, bundle_name="smeshbox-1.1.0.raucb",
                bundle_sha256=hashlib.sha256(BUNDLE).hexdigest(), bundle_size=len(BUNDLE),
                security_epoch=2, notes="test")
    base.update(changes)
    return Manifest(**base)  # type: ignore[arg-type]


async def manager_for(box: Box, **config: object) -> OtaManager:
    manager = OtaManager(dataclasses.replace(box.config, **config), bus=EventBus())
    await manager.start()
    return manager


def nothing_written(box: Box) -> None:
    assert not box.slot("B").exists(), "slot B was written"
    assert not any(line.startswith("install") for line in box.rauc_log())
    downloads = box.config.download_dir
    assert not downloads.exists() or not any(downloads.iterdir())
    assert not (box.root / "rebooted").exists()


async def test_install_downloads_installs_records_and_reboots(box: Box, server) -> None:
    url = server.publish(release(), BUNDLE, box.keys[:1])
    manager = await manager_for(box)
    events = []
    async with manager.bus.subscribe() as queue:  # type: ignore[union-attr]
        await manager.install(url)
        while not queue.empty():
            events.append(queue.get_nowait())
    assert box.slot("B").read_bytes() == BUNDLE
    assert box.rauc()["order"][0] == "B"
    assert (box.root / "rebooted").exists()
    assert not (box.config.download_dir / "smeshbox-1.1.0.raucb").exists()  # space given back
    record = OtaStore(box.config.state_dir).load()
    assert record.pending is not None
    assert (record.pending.phase, record.pending.from_slot, record.pending.to_slot) == ("installed", "A", "B")
    assert record.pending.to_version == "1.1.0"
    phases = [e.data.phase for e in events if e.topic is Topic.OTA]
    assert phases[:2] == ["checking", "downloading"] and "installing" in phases and phases[-1] == "rebooting"
    assert any(e.data.downloaded == len(BUNDLE) for e in events)


async def test_second_trusted_key_alone_is_accepted(box: Box, server) -> None:
    url = server.publish(release(), BUNDLE, box.keys[1:])
    await (await manager_for(box)).install(url, reboot=False)
    assert box.slot("B").read_bytes() == BUNDLE


@pytest.mark.parametrize(
    ("manifest", "keys", "error"),
    [
        (release(), "stranger", SignatureError),
        (release(compatible="other"), "box", CompatibleError),
        (release(version="1.0.0"), "box", NotNewerError),
        (release(version="0.9.0"), "box", NotNewerError),
        (release(security_epoch=0), "box", SecurityEpochError),
        (release(bundle_size=10**15), "box", SpaceError),
    ],
)
async def test_refusals_write_nothing(box: Box, server, manifest: Manifest, keys: str, error: type) -> None:
    signers = [SigningKey.generate()] if keys == "stranger" else box.keys[:1]
    url = server.publish(manifest, BUNDLE, signers)
    manager = await manager_for(box)
    with pytest.raises(error):
        await manager.install(url)
    nothing_written(box)
    assert server.ranges == []  # the bundle was never requested
    snap = manager.snapshot()
    assert snap.phase == "error" and snap.error_reason == error.reason
    assert snap.last_result is not None and snap.last_result.outcome == "refused"


async def test_tampered_manifest_is_refused_before_download(box: Box, server) -> None:
    url = server.publish(release(), BUNDLE, box.keys[:1])
    outer = json.loads(server.files["release.json"])
    outer["manifest"]["bundle"]["sha256"] = "00" * 32
    server.files["release.json"] = json.dumps(outer).encode()
    with pytest.raises(SignatureError):
        await (await manager_for(box)).install(url)
    nothing_written(box)


async def test_truncated_bundle_is_refused_before_install(box: Box, server) -> None:
    url = server.publish(release(), BUNDLE, box.keys[:1])
    server.files["smeshbox-1.1.0.raucb"] = BUNDLE[:-1000]
    with pytest.raises(DownloadError, match="truncated"):
        await (await manager_for(box)).install(url)
    assert not box.slot("B").exists()
    assert not any(line.startswith("install") for line in box.rauc_log())
    assert OtaStore(box.config.state_dir).load().pending is None


async def test_corrupted_bundle_is_refused_before_install(box: Box, server) -> None:
    url = server.publish(release(), BUNDLE, box.keys[:1])
    server.files["smeshbox-1.1.0.raucb"] = bytes(reversed(BUNDLE))
    with pytest.raises(DownloadError, match="sha256"):
        await (await manager_for(box)).install(url)
    assert not box.slot("B").exists()


async def test_rauc_refusal_is_recorded_as_failed(box: Box, server) -> None:
    state = box.rauc()
    state["fail_install"] = True
    box.rauc_state.write_text(json.dumps(state))
    url = server.publish(release(), BUNDLE, box.keys[:1])
    manager = await manager_for(box)
    with pytest.raises(InstallError, match="signature verification failed"):
        await manager.install(url)
    result = manager.snapshot().last_result
    assert result is not None and result.outcome == "failed" and "signature verification" in result.reason


async def test_no_update_url_and_unreachable_server(box: Box) -> None:
    manager = await manager_for(box)
    with pytest.raises(ManifestError, match="no update URL"):
        await manager.install()
    box.config.settings_file.write_text(json.dumps({"update_url": "http://127.0.0.1:9/release.json"}))
    manager = await manager_for(box)
    assert manager.snapshot().update_url == "http://127.0.0.1:9/release.json"
    with pytest.raises(DownloadError):
        await manager.install()
    box.config.settings_file.write_text("{broken")
    with pytest.raises(ManifestError, match="unreadable"):
        await (await manager_for(box)).install()


async def test_start_install_refuses_a_second_run(box: Box, server) -> None:
    url = server.publish(release(), BUNDLE, box.keys[:1])
    manager = await manager_for(box)
    task = manager.start_install(url)
    with pytest.raises(BusyError):
        manager.start_install(url)
    await task
    await manager.stop()


# ---- after the reboot -----------------------------------------------------------------------


async def installed(box: Box, server) -> None:
    url = server.publish(release(), BUNDLE, box.keys[:1])
    await (await manager_for(box)).install(url)
    (box.root / "rebooted").unlink()


def boot(box: Box, slot: str, version: str) -> None:
    """What the bootloader does: boot ``slot`` (TRY=1), with that slot's release file."""
    state = box.rauc()
    state["booted"] = slot
    state["try"][slot] = 1
    box.rauc_state.write_text(json.dumps(state))
    box.config.release_file.write_text(
        json.dumps({"version": version, "compatible": COMPATIBLE, "security_epoch": 1})
    )


async def test_healthy_new_slot_is_marked_good_and_recorded(box: Box, server) -> None:
    await installed(box, server)
    boot(box, "B", "1.1.0")
    manager = await manager_for(box)
    result = await manager.boot_gate()
    assert result is not None and result.outcome == "success"
    assert (result.from_version, result.to_version) == ("1.0.0", "1.1.0")
    assert "not checked: api" in result.reason  # the API check is off in this box config
    assert box.rauc()["ok"]["B"] == 1 and box.rauc()["try"]["B"] == 0
    record = OtaStore(box.config.state_dir).load()
    assert record.pending is None and record.security_epoch == 2
    assert not (box.root / "rebooted").exists()


async def test_unhealthy_new_slot_is_marked_bad_and_rebooted(box: Box, server, monkeypatch) -> None:
    await installed(box, server)
    boot(box, "B", "1.1.0")
    monkeypatch.setattr(gatemod, "KAT_LABELS", b"\0" * 64)  # this slot's PoST core is "broken"
    result = await (await manager_for(box)).boot_gate()
    assert result is not None and result.outcome == "rolled-back"
    assert "health gate failed on slot B" in result.reason and "post:" in result.reason
    assert box.rauc()["ok"]["B"] == 0
    assert (box.root / "rebooted").exists()
    # back on A: nothing pending any more, A is kept good, the reason stays visible
    boot(box, "A", "1.0.0")
    manager = await manager_for(box)
    assert await manager.boot_gate() is None
    assert box.rauc()["ok"]["A"] == 1 and box.rauc()["try"]["A"] == 0
    assert manager.snapshot().last_result.outcome == "rolled-back"  # type: ignore[union-attr]


async def test_new_slot_that_never_came_up_is_recorded_as_rollback(box: Box, server) -> None:
    await installed(box, server)
    boot(box, "A", "1.0.0")  # the watchdog / boot counting brought the box back to A
    result = await (await manager_for(box)).boot_gate()
    assert result is not None and result.outcome == "rolled-back" and "never came up" in result.reason
    assert box.rauc()["ok"]["B"] == 0 and box.rauc()["ok"]["A"] == 1


async def test_interrupted_install_is_reported_and_old_slot_kept(box: Box, server) -> None:
    await installed(box, server)
    store = OtaStore(box.config.state_dir)
    record = store.load()
    record.pending = dataclasses.replace(record.pending, phase="installing")  # type: ignore[arg-type]
    store.save(record)
    boot(box, "A", "1.0.0")
    result = await (await manager_for(box)).boot_gate()
    assert result is not None and result.outcome == "failed" and "interrupted" in result.reason


async def test_api_check_waits_for_ok_and_fails_on_an_unknown_status(box: Box, aiohttp_server) -> None:
    answers = ["starting", "ok"]

    async def health(request: web.Request) -> web.Response:
        status = answers.pop(0) if len(answers) > 1 else answers[0]
        return web.json_response({"status": status, "version": "1.1.0", "problems": []})

    app = web.Application()
    app.router.add_get("/api/v1/health", health)
    running = await aiohttp_server(app, host="127.0.0.1")
    config = dataclasses.replace(box.config, api_url=str(running.make_url("/")), require_api=True,
                                 gate_timeout=30.0)
    result = await gatemod.run_gate(config)
    assert result.healthy, result.reason()
    assert {c.name: c.status for c in result.checks}["node"] == "pass"
    answers[:] = ["broken"]
    result = await gatemod.run_gate(config)
    assert not result.healthy and "api:" in result.reason()


async def test_api_that_never_answers_fails_the_gate(box: Box) -> None:
    config = dataclasses.replace(box.config, api_url="http://127.0.0.1:9", require_api=True, gate_timeout=0.1)
    result = await gatemod.run_gate(config)
    assert not result.healthy and "not healthy" in result.reason()


async def test_failed_self_test_does_not_wait_for_the_api(box: Box, monkeypatch) -> None:
    monkeypatch.setattr(gatemod, "KAT_LABELS", b"\0" * 64)
    asked: list[float] = []
    real = gatemod._health

    async def spy(session, config, deadline):
        asked.append(deadline)
        return await real(session, config, deadline)

    monkeypatch.setattr(gatemod, "_health", spy)
    config = dataclasses.replace(box.config, api_url="http://127.0.0.1:9", require_api=True, gate_timeout=600)
    result = await gatemod.run_gate(config)
    assert not result.healthy
    status = {c.name: c.status for c in result.checks}
    assert [status[n] for n in ("post", "api", "drives", "node")] == ["fail", "fail", "pass", "fail"]
    assert asked and asked[0] < time.monotonic() + 1  # the deadline was "now", not 600 s away


async def test_drives_must_be_mounted_again(box: Box, tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 /media/disk1 ext4 rw 0 0\n/dev/vda2 / ext4 ro 0 0\n")
    assert gatemod.drive_mounts(mounts) == ("/media/disk1",)
    config = dataclasses.replace(box.config, gate_timeout=0.1)
    result = await gatemod.run_gate(config, ("/media/disk1",), mounts)
    assert result.healthy
    result = await gatemod.run_gate(config, ("/media/disk1", "/media/disk2"), mounts)
    assert not result.healthy and "/media/disk2" in result.reason()


async def test_a_refusal_is_recorded_against_the_release_tried_not_an_earlier_one(box: Box, server) -> None:
    state = box.rauc()
    state["fail_install"] = True
    box.rauc_state.write_text(json.dumps(state))
    url = server.publish(release(), BUNDLE, box.keys[:1])
    manager = await manager_for(box)
    with pytest.raises(InstallError):
        await manager.install(url)
    assert manager.snapshot().last_result.to_version == "1.1.0"
    # the bundle RAUC refused does not stay on the data partition
    assert not any(box.config.download_dir.iterdir()), list(box.config.download_dir.iterdir())
    stranger = [SigningKey.generate()]
    server.publish(release(version="1.3.0", bundle_name="smeshbox-1.3.0.raucb"), BUNDLE, stranger)
    with pytest.raises(SignatureError):
        await manager.install(url)
    history = OtaStore(box.config.state_dir).load().history
    assert [r.to_version for r in history[-2:]] == ["1.1.0", "1.3.0 (unverified)"]
    server.publish(release(version="1.0.0"), BUNDLE, box.keys[:1])
    with pytest.raises(NotNewerError):
        await manager.install(url)
    assert OtaStore(box.config.state_dir).load().history[-1].to_version == "1.0.0"
