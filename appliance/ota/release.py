"""Building a release from an image build: a RAUC bundle (verity format, CMS-signed with the
release certificate) of the root filesystem image — on the Pi 5 also of the boot partition image,
with the hook that makes it slot-specific — plus the ed25519-signed ``release.json``."""

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

HOOK_NAME = "bundle-hook.sh"  # the hook's name inside the bundle and in a Pi 5 build's output


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _manifest(version: str, compatible: str, bundle_format: str, boot: bool) -> str:
    """The bundle manifest: the root image, and on boards whose slots pair a FAT boot partition with
    the root (Pi 5) the slot-neutral boot image plus the hook that writes its slot's cmdline.txt."""
    text = f"[update]\ncompatible={compatible}\nversion={version}\n\n[bundle]\nformat={bundle_format}\n\n"
    if boot:
        text += f"[hooks]\nfilename={HOOK_NAME}\n\n"
    text += "[image.rootfs]\nfilename=rootfs.ext4\n"
    if boot:
        text += "\n[image.bootfs]\nfilename=bootfs.vfat\nhooks=post-install\n"
    return text


def _place(source: Path, target: Path) -> None:
    # A hard link (same filesystem) or a sparse copy: slot images are mostly empty.
    try:
        target.hardlink_to(source)
    except OSError:
        subprocess.run(["cp", "--sparse=always", str(source), str(target)], check=True)


def build_bundle(
    rootfs: Path,
    version: str,
    compatible: str,
    cert: Path,
    key: Path,
    out: Path,
    keyring: Path | None = None,
    bootfs: Path | None = None,
    hook: Path | None = None,
    bundle_format: str = "verity",
) -> Path:
    """``rauc bundle`` of ``rootfs`` (an ext4 slot image) into ``out``; verified with ``keyring``.

    With ``bootfs`` (a slot-neutral FAT boot image) the bundle also updates the boot slots, and
    ``hook`` (the board's bundle hook) is required: it writes the target slot's cmdline.txt.
    ``bundle_format`` stays ``verity`` for releases; ``plain`` is for hosts without dm-verity."""
    parse_version(version)
    if bootfs is not None and (hook is None or not hook.is_file()):
        missing = f": {hook} does not exist" if hook else ""
        raise ManifestError(f"{bootfs} needs the bundle hook that sets its slot's cmdline{missing} (--hook)")
    if hook is not None and bootfs is None:
        raise ManifestError(f"the bundle hook {hook} has no boot image to act on (--bootfs)")
    for path in (rootfs, bootfs, hook, cert, key):
        if path is not None and not path.is_file():
            raise ManifestError(f"{path} does not exist")
    with tempfile.TemporaryDirectory(prefix="smeshbox-bundle-", dir=out.parent) as tmp:
        content = Path(tmp, "content")
        content.mkdir()
        manifest = _manifest(version, compatible, bundle_format, boot=bootfs is not None)
        (content / "manifest.raucm").write_text(manifest)
        _place(rootfs, content / "rootfs.ext4")
        if bootfs is not None and hook is not None:
            _place(bootfs, content / "bootfs.vfat")
            shutil.copyfile(hook, content / HOOK_NAME)
            (content / HOOK_NAME).chmod(0o755)  # RAUC executes it from the mounted bundle
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
