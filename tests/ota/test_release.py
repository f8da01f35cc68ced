"""``python -m appliance.ota make-release``: a real RAUC bundle (rauc + openssl on the host) of a
small ext4 slot image, and a signed release.json the box accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.ota.cli import main
from appliance.ota.manifest import load_trusted_keys, verify_release
from appliance.ota.release import sha256_file

from .conftest import make_keys


@pytest.mark.slow
def test_make_release_builds_a_verifiable_bundle(image_out: Path, tmp_path: Path, capsys) -> None:
    release = tmp_path / "release"
    code = main(["make-release", "--from", str(image_out), "--out", str(release), "--security-epoch", "4",
                 "--notes", "second", "--signing-key", str(image_out / "keys/release-2.key")])
    assert code == 0, capsys.readouterr().err
    bundle = release / "smeshbox-0.2.0.raucb"
    info = subprocess.run(["rauc", "info", "--output-format=json", f"--keyring={image_out}/keys/ca.cert.pem",
                           str(bundle)], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["compatible"] == "smeshbox-test"
    assert [list(image) for image in json.loads(info.stdout)["images"]] == [["rootfs"]]  # no boot image
    keys_dir = tmp_path / "trusted"
    keys_dir.mkdir()
    shutil.copy(image_out / "keys/release-1.key.pub", keys_dir / "one.pub")
    shutil.copy(image_out / "keys/release-2.key.pub", keys_dir / "two.pub")
    manifest = verify_release((release / "release.json").read_bytes(), load_trusted_keys(keys_dir))
    assert (manifest.version, manifest.security_epoch, manifest.notes) == ("0.2.0", 4, "second")
    assert manifest.bundle_sha256 == sha256_file(bundle) and manifest.bundle_size == bundle.stat().st_size
    # a bundle signed by a certificate outside the keyring is refused by RAUC itself
    other = tmp_path / "other"
    make_keys(other)
    refused = subprocess.run(["rauc", "info", f"--keyring={other}/ca.cert.pem", str(bundle)],
                             capture_output=True, text=True)
    assert refused.returncode != 0


def test_make_release_errors_are_one_line_reasons(tmp_path: Path, capsys) -> None:
    assert main(["make-release", "--from", str(tmp_path), "--out", str(tmp_path / "r")]) == 1
    assert "--version/--compatible missing" in capsys.readouterr().err
    bundle = tmp_path / "b.raucb"
    bundle.write_bytes(b"x")
    code = main(["make-release", "--from", str(tmp_path), "--bundle", str(bundle), "--version", "1.0",
                 "--compatible", "c", "--out", str(tmp_path / "r"), "--signing-key", str(tmp_path / "nokey")])
    assert code == 1 and "cannot load signing key" in capsys.readouterr().err


def test_module_entry_point_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "appliance.ota", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "make-release" in done.stdout
