"""Shared fixtures for the OTA tests: test keys, an image build's output, a box layout in tmp, a
release server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from nacl.signing import SigningKey

from appliance.ota.cli import main
from appliance.ota.config import OtaConfig
from appliance.ota.manifest import Manifest, sign_release

HERE = Path(__file__).resolve().parent
COMPATIBLE = "smeshbox-test"
RELEASE_TOOLS = ("rauc", "openssl", "mke2fs", "mksquashfs")


def need_tools(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    if missing:
        pytest.skip(f"missing host tools {missing} (scripts/apt/image.txt)")


def make_keys(folder: Path) -> None:
    """What image/build keeps in out/keys: a CA (the box's RAUC keyring), a bundle signing
    certificate it issued, and two ed25519 release keys."""
    folder.mkdir()
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", folder / "ca.key.pem",
        "-out", folder / "ca.cert.pem", "-days", "2", "-subj", "/CN=test ca")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", folder / "signing.key.pem",
        "-out", folder / "signing.csr", "-subj", "/CN=test signer")
    run("openssl", "x509", "-req", "-in", folder / "signing.csr", "-CA", folder / "ca.cert.pem",
        "-CAkey", folder / "ca.key.pem", "-CAcreateserial", "-days", "2", "-out", folder / "signing.cert.pem")
    for n in (1, 2):
        assert main(["keygen", str(folder / f"release-{n}.key")]) == 0


@pytest.fixture
def image_out(tmp_path: Path) -> Path:
    """The QEMU image build's output as make-release reads it: rootfs.ext4, release.json, keys/."""
    need_tools(*RELEASE_TOOLS)
    out = tmp_path / "out"
    out.mkdir()
    content = tmp_path / "root"
    (content / "usr/lib/smeshbox").mkdir(parents=True)
    (content / "usr/lib/smeshbox/hello").write_text("v2\n")
    (content / "usr/lib/smeshbox/payload").write_bytes(os.urandom(256 * 1024))  # squashfs > 4 KiB
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", content, out / "rootfs.ext4", "8M"], check=True)
    (out / "release.json").write_text(json.dumps({"version": "0.2.0", "compatible": COMPATIBLE}))
    make_keys(out / "keys")
    return out


@dataclass
class Box:
    root: Path
    config: OtaConfig
    keys: list[SigningKey]
    rauc_state: Path

    def rauc(self) -> dict:
        return json.loads(self.rauc_state.read_text())

    def rauc_log(self) -> list[str]:
        log = self.rauc_state.with_suffix(".log")
        return log.read_text().splitlines() if log.exists() else []

    def slot(self, name: str) -> Path:
        return self.root / f"slot{name}.img"


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Box:
    keys = [SigningKey.generate(), SigningKey.generate()]
    keys_dir = tmp_path / "ota-keys"
    keys_dir.mkdir()
    for n, key in enumerate(keys, 1):
        (keys_dir / f"release-{n}.pub").write_text(key.verify_key.encode().hex() + "\n")
    release = tmp_path / "release.json"
    release.write_text(json.dumps({"version": "1.0.0", "compatible": COMPATIBLE, "security_epoch": 1}))
    state = tmp_path / "rauc.json"
    state.write_text(json.dumps({
        "compatible": COMPATIBLE, "booted": "A", "order": ["A", "B"],
        "ok": {"A": 1, "B": 0}, "try": {"A": 1, "B": 0},
        "devices": {"A": str(tmp_path / "slotA.img"), "B": str(tmp_path / "slotB.img")},
    }))
    (tmp_path / "slotA.img").write_bytes(b"slot A contents")
    monkeypatch.setenv("FAKE_RAUC_STATE", str(state))
    config = OtaConfig(
        release_file=release,
        keys_dir=keys_dir,
        state_dir=tmp_path / "state",
        download_dir=tmp_path / "downloads",
        settings_file=tmp_path / "settings.json",
        reboot_command=("touch", str(tmp_path / "rebooted")),
        rauc_command=(sys.executable, str(HERE / "fake_rauc.py")),
        gate_timeout=1.0,
        request_timeout=5.0,
        require_api=False,
    )
    return Box(tmp_path, config, keys, state)


@dataclass
class ReleaseServer:
    """Serves release documents and bundles from memory; records each bundle request's Range header."""

    files: dict[str, bytes] = field(default_factory=dict)
    ranges: list[str | None] = field(default_factory=list)
    honour_range: bool = True
    cut_after: int | None = None  # close the connection after this many body bytes
    url: str = ""

    def publish(self, manifest: Manifest, bundle: bytes, keys: list[SigningKey]) -> str:
        self.files[manifest.bundle_name] = bundle
        self.files["release.json"] = sign_release(manifest, keys)
        return self.url + "/release.json"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.files:
            raise web.HTTPNotFound()
        data = self.files[name]
        header = request.headers.get("Range")
        if name != "release.json":
            self.ranges.append(header)
        start = 0
        response = web.StreamResponse(status=200)
        if header and self.honour_range:
            start = int(header.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                return web.Response(status=416, headers={"Content-Range": f"bytes */{len(data)}"})
            response = web.StreamResponse(status=206)
            response.headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        if self.cut_after is not None:
            body = body[: self.cut_after]
        else:
            response.content_length = len(body)
        await response.prepare(request)
        for offset in range(0, len(body), 64 * 1024):
            await response.write(body[offset : offset + 64 * 1024])
        if self.cut_after is not None:
            assert request.transport is not None
            request.transport.close()  # a dropped connection, mid-body
            return response
        await response.write_eof()
        return response


@pytest.fixture
async def server(aiohttp_server: Callable) -> ReleaseServer:
    state = ReleaseServer()
    app = web.Application()
    app.router.add_get("/r/{name}", state.handle)
    running = await aiohttp_server(app, host="127.0.0.1")
    state.url = str(running.make_url("/r")).rstrip("/")
    return state
