"""Fixtures for the image tests: the built image (image/build, cached), releases derived from it,
a release server on 127.0.0.1 (the guest reaches it as 10.0.2.2), and one booted VM per module."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from .qemu import Vm, free_port

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "image" / "out"
ARTIFACTS = REPO / "test-artifacts" / "image"
TOOLS = ("mmdebstrap", "genimage", "qemu-system-aarch64", "rauc", "debugfs", "mke2fs")


def _require() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (mmdebstrap, chroot, loop-free image build)")
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing host tools {missing}: run ./dev (scripts/apt/image.txt)")
    if not Path("/usr/share/AAVMF/AAVMF_CODE.fd").exists():
        pytest.skip("qemu-efi-aarch64 (AAVMF) is not installed")


@pytest.fixture(scope="session")
def image() -> Path:
    """Runs image/build (its slow stages are cached) and returns image/out. While iterating on the
    tests alone, SMESHBOX_IMAGE_REUSE=1 reuses an existing image/out/disk.img."""
    _require()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if os.environ.get("SMESHBOX_IMAGE_REUSE") == "1" and (OUT / "disk.img").exists():
        return OUT
    with (ARTIFACTS / "build.log").open("w") as log:
        done = subprocess.run([str(REPO / "image" / "build")], stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        pytest.fail(f"image/build failed ({done.returncode}); see {ARTIFACTS / 'build.log'}")
    return OUT


def derive_rootfs(image: Path, folder: Path, version: str, break_native: bool = False) -> Path:
    """A copy of the built root with another version (and optionally a broken PoST core) — what a
    real next build would change — written with debugfs, no mounts needed."""
    folder.mkdir(parents=True, exist_ok=True)
    rootfs = folder / "rootfs.ext4"
    subprocess.run(["cp", "--sparse=always", str(image / "rootfs.ext4"), str(rootfs)], check=True)
    built = json.loads((image / "release.json").read_text())
    info = {**built, "version": version}
    (folder / "release.json").write_text(json.dumps(info))
    target = "/usr/lib/smeshbox/release.json"
    edits = [f"rm {target}", f"write {folder / 'release.json'} {target}"]
    if break_native:
        native = next((image / "rootfs" / "opt").rglob("_native*.so"))
        inside = "/" + str(native.relative_to(image / "rootfs"))
        (folder / "broken.so").write_bytes(b"not an ELF file\n")
        edits += [f"rm {inside}", f"write {folder / 'broken.so'} {inside}"]
    for edit in edits:
        subprocess.run(["debugfs", "-w", "-R", edit, str(rootfs)], check=True, capture_output=True)
    return rootfs


def make_release(image: Path, folder: Path, version: str, extra: list[str] = ()) -> Path:
    compatible = json.loads((image / "release.json").read_text())["compatible"]
    command = [sys.executable, "-m", "appliance.ota", "make-release", "--from", str(folder),
               "--keys", str(image / "keys"), "--out", str(folder), "--version", version,
               "--compatible", compatible, *extra]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return folder / "release.json"


class Server:
    """Serves a folder over HTTP (Range-capable) on 127.0.0.1 from a background thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_static("/", self.root)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def guest_url(self, path: str) -> str:
        return f"http://10.0.2.2:{self.port}/{path}"

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("releases"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def vm(image: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vm]:
    work = tmp_path_factory.mktemp("vm")
    disk = work / "disk.img"
    subprocess.run(["cp", "--sparse=always", str(image / "disk.img"), str(disk)], check=True)
    os.truncate(disk, disk.stat().st_size + 1024**3)  # a bigger medium: first boot grows data
    machine = Vm(disk, work, ARTIFACTS, name="ota")
    machine.boot()
    try:
        yield machine
    finally:
        machine.shutdown()
