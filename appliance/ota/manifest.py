"""The signed release manifest (``release.json``) and ed25519 keys (pynacl).

A release document is ``{"manifest": {...}, "signatures": [{"key": hex, "signature": hex}]}``. The
signature covers the canonical JSON of ``manifest`` (sorted keys, no spaces, UTF-8), so reformatting
the document cannot change what was signed. A manifest is accepted when at least one signature is
valid for one of the trusted public keys baked into the read-only root (two keys, so one can be
rotated without a flag day); signatures by unknown keys are ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nacl.encoding import HexEncoder
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from appliance.ota.errors import ManifestError, SignatureError
from appliance.system.files import atomic_write_text

FORMAT = 1
MAX_DOCUMENT = 64 * 1024
_VERSION = re.compile(r"^\d{1,6}(\.\d{1,6}){0,3}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.2.3"`` → ``(1, 2, 3)``; trailing zeros do not matter when comparing (1.2 == 1.2.0)."""
    if not isinstance(text, str) or not _VERSION.match(text):
        raise ManifestError(f"version {text!r} is not dotted numbers like 1.2.3")
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@dataclass(frozen=True)
class Manifest:
    version: str
    compatible: str
    bundle_name: str
    bundle_sha256: str
    bundle_size: int
    security_epoch: int
    notes: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "compatible": self.compatible,
            "bundle": {"name": self.bundle_name, "sha256": self.bundle_sha256, "size": self.bundle_size},
            "security_epoch": self.security_epoch,
            "notes": self.notes,
        }

    def info(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: Any) -> Manifest:
        if not isinstance(value, dict):
            raise ManifestError("manifest is not an object")
        if value.get("format") != FORMAT:
            raise ManifestError(f"unsupported manifest format {value.get('format')!r}")
        bundle = value.get("bundle")
        if not isinstance(bundle, dict):
            raise ManifestError("manifest.bundle is missing")
        version, compatible = value.get("version"), value.get("compatible")
        name, sha, size = bundle.get("name"), bundle.get("sha256"), bundle.get("size")
        epoch, notes = value.get("security_epoch"), value.get("notes", "")
        parse_version(version)
        if not isinstance(compatible, str) or not compatible:
            raise ManifestError("manifest.compatible must be a non-empty string")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ManifestError(f"bundle name {name!r} is not a plain file name")
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise ManifestError("bundle sha256 must be 64 lowercase hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ManifestError(f"bundle size {size!r} must be a positive integer")
        if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
            raise ManifestError(f"security_epoch {epoch!r} must be a non-negative integer")
        if not isinstance(notes, str):
            raise ManifestError("notes must be a string")
        return cls(version, compatible, name, sha, size, epoch, notes)


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_release(manifest: Manifest, keys: list[SigningKey]) -> bytes:
    """The release document for ``manifest`` signed by every key in ``keys``."""
    body = manifest.to_json()
    message = canonical(body)
    signatures = [
        {
            "key": key.verify_key.encode(HexEncoder).decode(),
            "signature": key.sign(message).signature.hex(),
        }
        for key in keys
    ]
    return (json.dumps({"manifest": body, "signatures": signatures}, indent=2) + "\n").encode()


def verify_release(document: bytes, trusted: list[VerifyKey]) -> Manifest:
    """Parses and verifies a release document; raises ManifestError / SignatureError."""
    if len(document) > MAX_DOCUMENT:
        raise ManifestError(f"release document is {len(document)} bytes (limit {MAX_DOCUMENT})")
    if not trusted:
        raise SignatureError("no trusted release keys are installed")
    try:
        outer = json.loads(document)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"release document is not JSON: {exc}") from exc
    if not isinstance(outer, dict) or not isinstance(outer.get("signatures"), list):
        raise ManifestError("release document needs 'manifest' and a 'signatures' list")
    if "manifest" not in outer:
        raise ManifestError("release document has no 'manifest'")
    message = canonical(outer["manifest"])
    by_key = {key.encode(HexEncoder).decode(): key for key in trusted}
    known = 0
    for entry in outer["signatures"]:
        if not isinstance(entry, dict):
            raise ManifestError("each signature must be an object")
        key = by_key.get(str(entry.get("key", "")).lower())
        if key is None:
            continue
        known += 1
        try:
            key.verify(message, bytes.fromhex(str(entry.get("signature", ""))))
        except (BadSignatureError, ValueError):
            continue
        return Manifest.from_json(outer["manifest"])
    if known:
        raise SignatureError("the signature by a trusted key does not match the manifest (tampered?)")
    raise SignatureError("the release is not signed by any trusted key")


def generate_key(path: Path) -> VerifyKey:
    """Writes a new signing key (hex seed, mode 0600) to ``path`` and its public key to ``path.pub``."""
    key = SigningKey.generate()
    atomic_write_text(path, key.encode(HexEncoder).decode() + "\n", mode=0o600)
    atomic_write_text(public_path(path), key.verify_key.encode(HexEncoder).decode() + "\n")
    return key.verify_key


def public_path(path: Path) -> Path:
    return path.with_name(path.name + ".pub")


def load_signing_key(path: Path) -> SigningKey:
    try:
        return SigningKey(path.read_text().strip().encode(), encoder=HexEncoder)
    except (OSError, ValueError, TypeError) as exc:
        raise ManifestError(f"cannot load signing key {path}: {exc}") from exc


def load_trusted_keys(folder: Path) -> list[VerifyKey]:
    """Every ``*.pub`` in ``folder`` (hex ed25519 public keys); a malformed file is an error."""
    keys = []
    if not folder.is_dir():
        return keys
    for path in sorted(folder.iterdir()):
        if path.suffix != ".pub" or not path.is_file():
            continue
        try:
            keys.append(VerifyKey(path.read_text().strip().encode(), encoder=HexEncoder))
        except (ValueError, TypeError) as exc:
            raise ManifestError(f"trusted key {path} is malformed: {exc}") from exc
    return keys

