"""Smesher identities: one ed25519 key per PoST dataset, stored and backed up.

Files follow go-spacemesh's ``data/identities/<name>.key``: the hex text of the 64-byte ed25519
private key (seed ‖ public key), mode 0600, written atomically. ``node_id`` is the 32-byte public
key. A key found beside PoST data on a drive is read with :func:`load_key_file`. Backups are
password-encrypted blobs (argon2id → XSalsa20-Poly1305 ``SecretBox``) so a download of the key never
leaves the box in clear text.
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.signing
import nacl.utils

from appliance.system.files import atomic_write_bytes

KEY_SUFFIX = ".key"
SEED_SIZE = 32
PRIVATE_KEY_SIZE = 64
NODE_ID_SIZE = 32
MAX_KEY_FILE_SIZE = 1024  # a key file is 128 hex chars; anything far larger is not a key file

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

BACKUP_MAGIC = b"SMBXKEY"
BACKUP_VERSION = 1
_BACKUP_HEADER = struct.Struct("<7sBQQ16s")  # magic, version, opslimit, memlimit, salt
# Bounds on the KDF cost an imported blob may ask for: a hostile blob must not make us allocate GiBs.
_MAX_MEMLIMIT = 1 << 30
_MAX_OPSLIMIT = 64
MAX_BACKUP_SIZE = 4096


class IdentityError(Exception):
    """Base class of every identity error; the message says what is wrong and what to do."""


class KeyFileError(IdentityError):
    """A key file is unreadable, not hex, the wrong length or internally inconsistent."""


class IdentityNotFoundError(IdentityError):
    pass


class IdentityExistsError(IdentityError):
    pass


class InvalidNameError(IdentityError):
    pass


class BackupError(IdentityError):
    """Base class of encrypted-backup errors."""


class BackupCorruptError(BackupError):
    pass


class BackupVersionError(BackupError):
    pass


class WrongPasswordError(BackupError):
    pass


@dataclass(frozen=True)
class Identity:
    """A named ed25519 key. ``node_id`` (the public key) is what the network knows us by."""

    name: str
    seed: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.seed, bytes) or len(self.seed) != SEED_SIZE:
            raise KeyFileError(f"an ed25519 seed is {SEED_SIZE} bytes")
        validate_name(self.name)

    @property
    def signing_key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(self.seed)

    @property
    def node_id(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def private_key(self) -> bytes:
        """The 64-byte go-spacemesh private key (seed ‖ public key)."""
        return self.seed + self.node_id

    def sign_raw(self, message: bytes) -> bytes:
        """Plain RFC 8032 ed25519 signature (callers add GenesisID/domain via ``signing``)."""
        return self.signing_key.sign(message).signature

    def key_file_text(self) -> str:
        return self.private_key.hex()

    def __repr__(self) -> str:  # never print the seed into a log
        return f"Identity(name={self.name!r}, node_id={self.node_id.hex()})"


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidNameError(
            f"identity name {name!r} is invalid: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def generate(name: str) -> Identity:
    return Identity(validate_name(name), nacl.utils.random(SEED_SIZE))


def parse_key_text(text: str | bytes, name: str, source: str = "key") -> Identity:
    """Parses go-spacemesh key file content (hex of seed ‖ pub) and checks it is self-consistent."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            raise KeyFileError(f"{source}: not a text key file (non-ASCII bytes)") from exc
    stripped = text.strip()
    if len(stripped) != 2 * PRIVATE_KEY_SIZE:
        raise KeyFileError(
            f"{source}: expected {2 * PRIVATE_KEY_SIZE} hex characters "
            f"({PRIVATE_KEY_SIZE}-byte ed25519 private key), found {len(stripped)}"
        )
    try:
        raw = bytes.fromhex(stripped)
    except ValueError as exc:
        raise KeyFileError(f"{source}: not hexadecimal") from exc
    identity = Identity(name, raw[:SEED_SIZE])
    if identity.node_id != raw[SEED_SIZE:]:
        raise KeyFileError(f"{source}: public key half does not match the seed (corrupt key file)")
    return identity


def load_key_file(path: str | os.PathLike[str], expected_node_id: bytes | None = None) -> Identity:
    """Reads a ``*.key`` file (e.g. one found beside PoST data on a drive).

    The identity's name is the file name without ``.key``. With ``expected_node_id`` (the node_id in
    the PoST metadata) a key belonging to another identity is refused.
    """
    p = Path(path)
    try:
        with open(p, "rb") as handle:
            data = handle.read(MAX_KEY_FILE_SIZE + 1)
    except OSError as exc:
        raise KeyFileError(f"{p}: cannot read key file: {exc.strerror or exc}") from exc
    if len(data) > MAX_KEY_FILE_SIZE:
        raise KeyFileError(f"{p}: too large to be a key file")
    name = p.name[: -len(KEY_SUFFIX)] if p.name.endswith(KEY_SUFFIX) else p.name
    identity = parse_key_text(data, validate_name(name), str(p))
    if expected_node_id is not None and identity.node_id != expected_node_id:
        raise KeyFileError(
            f"{p}: key belongs to identity {identity.node_id.hex()}, "
            f"but the PoST data was made for {expected_node_id.hex()}"
        )
    return identity


class IdentityStore:
    """A folder of ``<name>.key`` files, go-spacemesh style."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        return self.directory / f"{validate_name(name)}{KEY_SUFFIX}"

    def list(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(
            p.name[: -len(KEY_SUFFIX)]
            for p in self.directory.iterdir()
            if p.name.endswith(KEY_SUFFIX) and _NAME_RE.match(p.name[: -len(KEY_SUFFIX)])
        )

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    def load(self, name: str) -> Identity:
        path = self._path(name)
        if not path.exists():
            raise IdentityNotFoundError(f"no identity named {name!r} in {self.directory}")
        return load_key_file(path)

    def load_all(self) -> list[Identity]:
        return [self.load(name) for name in self.list()]

    def find(self, node_id: bytes) -> Identity | None:
        for identity in self.load_all():
            if identity.node_id == node_id:
                return identity
        return None

    def save(self, identity: Identity, overwrite: bool = False) -> Path:
        """Stores ``identity``; refuses to replace a *different* key under the same name."""
        path = self._path(identity.name)
        if path.exists():
            existing = load_key_file(path)
            if existing.seed == identity.seed:
                return path
            if not overwrite:
                raise IdentityExistsError(
                    f"identity {identity.name!r} already exists with another key "
                    f"({existing.node_id.hex()}); refusing to overwrite it"
                )
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_bytes(path, identity.key_file_text().encode(), mode=0o600)
        return path

    def generate(self, name: str) -> Identity:
        if self.exists(name):
            raise IdentityExistsError(f"identity {name!r} already exists")
        identity = generate(name)
        self.save(identity)
        return identity


def export_encrypted(
    identity: Identity,
    password: str,
    opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
    memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
) -> bytes:
    """Encrypts ``identity`` under ``password``: header (magic, version, KDF cost, salt) ‖ SecretBox."""
    if not password:
        raise BackupError("a backup password must not be empty")
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    key = _derive(password, salt, opslimit, memlimit)
    plaintext = json.dumps({"name": identity.name, "private_key": identity.key_file_text()}).encode()
    header = _BACKUP_HEADER.pack(BACKUP_MAGIC, BACKUP_VERSION, opslimit, memlimit, salt)
    # SecretBox has no associated data, so the header is repeated inside the ciphertext and compared
    # on import: tampering with the version, KDF cost or salt is detected, not silently accepted.
    box = nacl.secret.SecretBox(key)
    return header + bytes(box.encrypt(header + plaintext))


def import_encrypted(blob: bytes, password: str) -> Identity:
    """Decrypts a blob made by :func:`export_encrypted`."""
    if not isinstance(blob, bytes | bytearray) or len(blob) > MAX_BACKUP_SIZE:
        raise BackupCorruptError("not a Smeshbox key backup (wrong type or too large)")
    blob = bytes(blob)
    if len(blob) < _BACKUP_HEADER.size or not blob.startswith(BACKUP_MAGIC):
        raise BackupCorruptError("not a Smeshbox key backup (bad magic)")
    magic, version, opslimit, memlimit, salt = _BACKUP_HEADER.unpack_from(blob)
    del magic
    if version != BACKUP_VERSION:
        raise BackupVersionError(f"backup format version {version} is not supported (expected 1)")
    if not (
        nacl.pwhash.argon2id.OPSLIMIT_MIN <= opslimit <= _MAX_OPSLIMIT
        and nacl.pwhash.argon2id.MEMLIMIT_MIN <= memlimit <= _MAX_MEMLIMIT
    ):
        raise BackupCorruptError("backup key-derivation parameters are out of range")
    key = _derive(password, salt, opslimit, memlimit)
    try:
        inner = nacl.secret.SecretBox(key).decrypt(blob[_BACKUP_HEADER.size :])
    except nacl.exceptions.CryptoError as exc:
        raise WrongPasswordError("wrong password, or the backup is damaged") from exc
    header = blob[: _BACKUP_HEADER.size]
    if not inner.startswith(header):
        raise BackupCorruptError("backup header was altered")
    try:
        payload = json.loads(inner[len(header) :])
        return parse_key_text(payload["private_key"], validate_name(payload["name"]), "backup")
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupCorruptError(f"backup content is malformed: {exc}") from exc


def _derive(password: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    if not isinstance(password, str):
        raise BackupError("password must be text")
    return nacl.pwhash.argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, password.encode(), salt, opslimit=opslimit, memlimit=memlimit
    )
