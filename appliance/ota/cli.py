"""``python -m appliance.ota``: the maintainers' and the box's OTA commands.

  keygen PATH                      new ed25519 release key (PATH, PATH.pub)
  make-release --from image/out …  RAUC bundle + signed release.json from an image build (with the
                                   boot image + hook when the build has them: Pi 5)
  install [--url URL]              check, download, install, reboot (on the box)
  gate                             the post-boot health gate (smeshbox-ota-gate.service)
  status                           the OtaManager snapshot as JSON
JSON goes to stdout, a one-line reason to stderr with exit code 1 on refusal/failure.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path

from appliance.ota.config import OtaConfig
from appliance.ota.errors import OtaError
from appliance.ota.manager import OtaManager
from appliance.ota.manifest import generate_key
from appliance.ota.release import HOOK_NAME, build_bundle, write_release


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ota_command", required=True)
    keygen = sub.add_parser("keygen", help="generate an ed25519 release signing key")
    keygen.add_argument("path", type=Path)
    make = sub.add_parser("make-release", help="build and sign a release from an image build")
    make.add_argument("--from", dest="image_out", type=Path, default=Path("image/out"))
    make.add_argument("--bundle", type=Path, help="sign this existing bundle instead of building one")
    make.add_argument("--bootfs", type=Path,
                      help="slot-neutral boot partition image (default: <from>/bootfs.vfat if there: Pi 5)")
    make.add_argument("--hook", type=Path, help=f"its bundle hook (default: <from>/{HOOK_NAME})")
    make.add_argument("--version", help="default: the image build's release.json")
    make.add_argument("--compatible", help="default: the image build's release.json")
    make.add_argument("--security-epoch", type=int, default=0)
    make.add_argument("--notes", default="")
    make.add_argument("--keys", type=Path, help="key folder (default: <from>/keys)")
    make.add_argument("--cert", type=Path, help="RAUC signing cert (default: <keys>/signing.cert.pem)")
    make.add_argument("--key", type=Path, help="RAUC signing key (default: <keys>/signing.key.pem)")
    make.add_argument("--signing-key", type=Path, action="append", default=[],
                      help="ed25519 key file; repeat for several (default: <keys>/release-1.key)")
    make.add_argument("--out", type=Path, required=True, help="folder for release.json + bundle")
    install = sub.add_parser("install", help="download and install an update (on the box)")
    install.add_argument("--url")
    install.add_argument("--no-reboot", action="store_true")
    gate = sub.add_parser("gate", help="post-boot health gate")
    gate.add_argument("--no-reboot", action="store_true")
    sub.add_parser("status", help="print the OTA state")


def _dump(value: object) -> None:
    print(json.dumps(value, indent=2, default=str))


def _make_release(args: argparse.Namespace) -> int:
    built: dict[str, str] = {}
    info = args.image_out / "release.json"
    if info.exists():
        built = json.loads(info.read_text())
    version = args.version or built.get("version")
    compatible = args.compatible or built.get("compatible")
    if not version or not compatible:
        raise OtaError(f"--version/--compatible missing and {info} does not say")
    keys = args.keys or args.image_out / "keys"
    signing = args.signing_key or [keys / "release-1.key"]
    bundle = args.bundle
    if bundle is None:
        # A Pi 5 build's output holds a boot image and its hook; the QEMU and Pi 4 builds have neither.
        bootfs = args.bootfs
        if bootfs is None and (args.image_out / "bootfs.vfat").exists():
            bootfs = args.image_out / "bootfs.vfat"
        hook = args.hook or (args.image_out / HOOK_NAME if bootfs else None)
        args.out.mkdir(parents=True, exist_ok=True)
        bundle = build_bundle(
            args.image_out / "rootfs.ext4",
            version,
            compatible,
            args.cert or keys / "signing.cert.pem",
            args.key or keys / "signing.key.pem",
            args.out / f"smeshbox-{version}.raucb",
            keyring=keys / "ca.cert.pem",
            bootfs=bootfs,
            hook=hook,
        )
    document, manifest = write_release(
        bundle, version, compatible, args.security_epoch, args.notes, signing, args.out
    )
    _dump({"release": str(document), **manifest.info()})
    return 0


async def _on_box(args: argparse.Namespace) -> int:
    manager = OtaManager(OtaConfig.from_env())
    await manager.start()
    try:
        if args.ota_command == "install":
            await manager.install(args.url, reboot=not args.no_reboot)
        elif args.ota_command == "gate":
            await manager.boot_gate(reboot=not args.no_reboot)
        _dump(dataclasses.asdict(manager.snapshot()))
    finally:
        await manager.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        if args.ota_command == "keygen":
            public = generate_key(args.path)
            _dump({"key": str(args.path), "public": bytes(public).hex()})
            return 0
        if args.ota_command == "make-release":
            return _make_release(args)
        return asyncio.run(_on_box(args))
    except OtaError as exc:
        print(f"ota: {exc.reason}: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.ota")
    register(parser)
    return run(parser.parse_args(argv))
