"""Building a release from an image build: a RAUC bundle (verity format, CMS-signed with the
release certificate) of the root filesystem image, plus the ed25519-signed ``release.json``."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from appliance.ota.errors import ManifestError, OtaError
from appliance.ota.manifest import Manifest, parse_version, sign_release
from appliance.ota.manifest import load_signing_key as _load_key
from appliance.system.files import atomic_write_bytes


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def build_bundle(
    rootfs: Path, version: str, compatible: str, cert: Path, key: Path, out: Path, keyring: Path | None = None
) -> Path:
    """``rauc bundle`` of ``rootfs`` (an ext4 slot image) into ``out``; verified with ``keyring``."""
    parse_version(version)
    for path in (rootfs, cert, key):
        if not path.is_file():
            raise ManifestError(f"{path} does not exist")
    with tempfile.TemporaryDirectory(prefix="smeshbox-bundle-", dir=out.parent) as tmp:
        content = Path(tmp, "content")
        content.mkdir()
        (content / "manifest.raucm").write_text(
            "[update]\n"
            f"compatible={compatible}\n"
            f"version={version}\n\n"
            "[bundle]\nformat=verity\n\n"
            "[image.rootfs]\nfilename=rootfs.ext4\n"
        )
        # A hard link (same filesystem) or a sparse copy: the slot image is mostly empty.
        try:
            (content / "rootfs.ext4").hardlink_to(rootfs)
        except OSError:
            subprocess.run(["cp", "--sparse=always", str(rootfs), str(content / "rootfs.ext4")], check=True)
        out.unlink(missing_ok=True)
        command = ["rauc", "bundle", f"--cert={cert}", f"--key={key}"]
        if keyring:
            command.append(f"--keyring={keyring}")
        run = subprocess.run([*command, str(content), str(out)], capture_output=True, text=True)
        if run.returncode != 0:
            raise OtaError(f"rauc bundle failed: {run.stderr.strip() or run.stdout.strip()}")
    return out


def write_release(
    bundle: Path,
    version: str,
    compatible: str,
    security_epoch: int,
    notes: str,
    signing_keys: list[Path],
    out_dir: Path,
) -> tuple[Path, Manifest]:
    """Signs a manifest for ``bundle`` and writes ``release.json`` (+ the bundle) into ``out_dir``."""
    if not signing_keys:
        raise ManifestError("at least one --signing-key is needed")
    keys = [_load_key(path) for path in signing_keys]
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / bundle.name
    if target.resolve() != bundle.resolve():
        shutil.copyfile(bundle, target)
    size = target.stat().st_size
    draft = Manifest(version, compatible, bundle.name, sha256_file(target), size, security_epoch, notes)
    manifest = Manifest.from_json(draft.to_json())  # the same validation the box applies
    document = out_dir / "release.json"
    atomic_write_bytes(document, sign_release(manifest, keys))
    return document, manifest
