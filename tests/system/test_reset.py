"""Factory reset on a real state folder: what is erased, what is kept (byte for byte), refusals that
change nothing, and power cuts injected between every step, completed at the next start."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from appliance.system import reset
from appliance.system.reset import (
    ERASED,
    IDENTITIES,
    KEPT,
    MARKER,
    TRASH,
    ResetService,
    erase,
    finish_interrupted_reset,
)
from appliance.web.services import ServiceError

STATE = {
    "config.json": '{"post": {"threads": 2}}',
    "web/settings.json": '{"reward_address": "sm1qqq"}',
    "web/auth.json": '{"password_hash": "$argon2id$..."}',
    "node/state.json": '{"epoch": 7}',
    "node-devnet/state.json": "{}",
    "devnet.json": '{"genesis": 1}',
    "drives.json": '{"uuid-1": {"identity": "a"}}',
    "logs/smeshbox.log": "line\n",
    "logs/smeshbox.log.1": "older\n",
    "oled.png": "png",
    "identities/a.key": "secret key a",
    "identities/b.key": "secret key b",
    "drives/uuid-1/smeshbox/postdata_metadata.json": '{"NodeId": "..."}',
    "drives/uuid-1/smeshbox/postdata_0.bin": "labels" * 100,
    "dev-drives/drive0.img": "backing file",
    "network.json": '{"hrp": "sm"}',
    "ota/state.json": "{}",
    "box-id": "3fa9c2\n",
    "lock": "",
}


def _snapshot(root: Path) -> dict[str, str]:
    """Every file and symlink under root (relative path → content hash or link target)."""
    found = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            found[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else \
                hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def state(tmp_path: Path) -> Path:
    root = tmp_path / "state"
    for rel, text in STATE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # a link out of a doomed folder: erasing the folder must not follow it
    (root / "web" / "keys").symlink_to(root / "identities")
    return root


def _kept(before: dict[str, str], keys: bool) -> dict[str, str]:
    kept = (*KEPT, IDENTITIES) if keys else KEPT
    return {rel: h for rel, h in before.items() if rel.split("/")[0] in kept}


def _assert_clean(root: Path, before: dict[str, str], keys: bool = True) -> None:
    """Only what a reset keeps is left, byte for byte; ``keys``: the identity keys were kept."""
    assert _snapshot(root) == _kept(before, keys)
    assert sorted(p.name for p in root.iterdir()) == sorted((*KEPT, IDENTITIES) if keys else KEPT)
    assert not any(os.path.lexists(root / name) for name in (*ERASED, MARKER, TRASH))


async def test_reset_erases_settings_auth_node_logs_keeps_identities_and_post_data(state: Path) -> None:
    before = _snapshot(state)
    calls = []
    service = ResetService(state, on_restart=lambda: calls.append("restart"))
    await service.factory_reset(keep_identities=True)
    _assert_clean(state, before)
    assert (state / "identities" / "a.key").read_text() == "secret key a"
    assert service.restart_requested.is_set() and calls == ["restart"]


async def test_reset_can_wipe_the_identity_keys_too(state: Path) -> None:
    before = _snapshot(state)
    await ResetService(state).factory_reset(keep_identities=False)
    _assert_clean(state, before, keys=False)
    assert not (state / "identities").exists()
    assert (state / "drives/uuid-1/smeshbox/postdata_0.bin").exists()  # PoST data is never touched


def test_a_cut_during_a_wipe_of_the_keys_is_finished_with_the_keys(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(state)
    _cut_after_renames(monkeypatch, 3)
    with pytest.raises(PowerCut):
        erase(state, (*ERASED, IDENTITIES))
    monkeypatch.undo()
    assert finish_interrupted_reset(state) is True
    _assert_clean(state, before, keys=False)


async def test_reset_of_a_clean_box_is_harmless(state: Path) -> None:
    before = _snapshot(state)
    service = ResetService(state)
    await service.factory_reset(keep_identities=True)
    await service.factory_reset(keep_identities=True)
    _assert_clean(state, before)


class PowerCut(BaseException):
    """Stops the reset dead at the injected point, like pulling the plug."""


def _cut_after_renames(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    real = os.rename
    done = []

    def rename(src, dst):  # type: ignore[no-untyped-def]
        if len(done) == count:
            raise PowerCut
        done.append(src)
        real(src, dst)

    monkeypatch.setattr(reset.os, "rename", rename)


@pytest.mark.parametrize("renames", [0, 1, 4, 7])
def test_a_cut_after_the_commit_is_finished_at_the_next_start(state: Path, monkeypatch: pytest.MonkeyPatch,
                                                              renames: int) -> None:
    before = _snapshot(state)
    _cut_after_renames(monkeypatch, renames)
    with pytest.raises(PowerCut):
        erase(state)
    monkeypatch.undo()
    assert (state / MARKER).exists()  # committed: the next start must finish it
    assert finish_interrupted_reset(state) is True
    _assert_clean(state, before)


def test_a_cut_while_deleting_the_trash_is_finished_at_the_next_start(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(state)
    real = reset.shutil.rmtree

    def rmtree(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        real(Path(path) / "web", *args, **kwargs)  # part of the trash is gone when the plug is pulled
        raise PowerCut

    monkeypatch.setattr(reset.shutil, "rmtree", rmtree)
    with pytest.raises(PowerCut):
        erase(state)
    monkeypatch.undo()
    assert finish_interrupted_reset(state) is True
    _assert_clean(state, before)


def test_a_cut_before_the_commit_leaves_the_old_state(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _snapshot(state)

    def cut(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PowerCut

    monkeypatch.setattr(reset, "atomic_write_json", cut)
    with pytest.raises(PowerCut):
        erase(state)
    monkeypatch.undo()
    assert (state / TRASH).is_dir() and not (state / MARKER).exists()
    assert finish_interrupted_reset(state) is False  # nothing was committed: only the empty trash goes
    assert not (state / TRASH).exists()
    assert _snapshot(state) == before


def test_a_torn_marker_still_means_the_documented_reset(state: Path) -> None:
    before = _snapshot(state)
    (state / MARKER).write_text('{"erase": ["web", "no')
    assert finish_interrupted_reset(state) is True
    _assert_clean(state, before)


def test_a_marker_cannot_name_anything_outside_the_state_folder(state: Path) -> None:
    outside = state.parent / "precious"
    outside.write_text("keep me")
    (state / MARKER).write_text('{"erase": ["../precious", "/etc", "..", "drives", "ota", "logs"]}')
    assert finish_interrupted_reset(state) is True
    assert outside.read_text() == "keep me"
    assert not (state / "logs").exists() and (state / "web").exists()
    assert (state / "drives/uuid-1/smeshbox/postdata_0.bin").exists() and (state / "ota").exists()
    assert (state / "identities" / "a.key").read_text() == "secret key a"


async def test_a_mount_inside_a_doomed_folder_is_refused_and_nothing_changes(state: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    target = state / "node" / "mnt"
    target.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(target)],
                          capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        (target / "data").write_text("on another filesystem")
        before = _snapshot(state)
        service = ResetService(state)
        with pytest.raises(ServiceError, match="mnt is a mount point; unmount it") as err:
            await service.factory_reset(keep_identities=True)
        assert err.value.kind == "conflict" and not service.restart_requested.is_set()
        assert _snapshot(state) == before and not (state / MARKER).exists()
    finally:
        subprocess.run(["umount", str(target)], check=True)
