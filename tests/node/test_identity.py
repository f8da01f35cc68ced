"""Identity store, go-spacemesh key files and encrypted backups."""

from __future__ import annotations

import os
import stat

import nacl.pwhash
import pytest

from appliance.node import identity as ident
from appliance.node.identity import (
    BackupCorruptError,
    BackupVersionError,
    Identity,
    IdentityExistsError,
    IdentityNotFoundError,
    IdentityStore,
    InvalidNameError,
    KeyFileError,
    WrongPasswordError,
    export_encrypted,
    import_encrypted,
    load_key_file,
)

FAST = {"opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN, "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN}


def test_vector_identity(vectors, tmp_path):
    v = vectors["ed25519"]["identity"]
    identity = Identity("a", bytes.fromhex(v["seed"]))
    assert identity.node_id.hex() == v["node_id_pubkey"]
    expected_text = v["key_file_content"].split()[0]
    assert identity.key_file_text() == expected_text
    (tmp_path / "smesher.key").write_text(expected_text)
    loaded = load_key_file(tmp_path / "smesher.key")
    assert loaded.name == "smesher" and loaded.seed == identity.seed


def test_store_generate_save_load(tmp_path):
    store = IdentityStore(tmp_path / "identities")
    assert store.list() == []
    a = store.generate("drive-a")
    b = store.generate("drive-b")
    assert store.list() == ["drive-a", "drive-b"]
    path = tmp_path / "identities" / "drive-a.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text()) == 128
    assert store.load("drive-a") == a
    assert store.find(b.node_id) == b
    assert store.find(bytes(32)) is None
    with pytest.raises(IdentityExistsError):
        store.generate("drive-a")
    with pytest.raises(IdentityExistsError):
        store.save(Identity("drive-a", b.seed))
    store.save(a)  # same key again is a no-op
    assert store.load("drive-a") == a
    with pytest.raises(IdentityNotFoundError):
        store.load("nope")
    assert "seed" not in repr(a) and a.seed.hex() not in repr(a)


@pytest.mark.parametrize("name", ["", "../x", ".hidden", "a/b", "x" * 65, "sp ace"])
def test_bad_names(tmp_path, name):
    with pytest.raises(InvalidNameError):
        IdentityStore(tmp_path).generate(name)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"abcd", "expected 128 hex"),
        (b"zz" * 64, "not hexadecimal"),
        (b"\xff" * 128, "non-ASCII"),
        (b"00" * 64, "does not match"),
        (b"0" * 5000, "too large"),
    ],
)
def test_bad_key_files(tmp_path, content, message):
    path = tmp_path / "bad.key"
    path.write_bytes(content)
    with pytest.raises(KeyFileError, match=message):
        load_key_file(path)


def test_key_file_missing(tmp_path):
    with pytest.raises(KeyFileError, match="cannot read"):
        load_key_file(tmp_path / "missing.key")


def test_key_for_other_identity(tmp_path):
    identity = ident.generate("post")
    path = tmp_path / "post.key"
    path.write_text(identity.key_file_text() + "\n")  # trailing newline is tolerated
    assert load_key_file(path, expected_node_id=identity.node_id) == identity
    with pytest.raises(KeyFileError, match="belongs to identity"):
        load_key_file(path, expected_node_id=bytes(32))


def test_backup_round_trip():
    identity = ident.generate("box1")
    blob = export_encrypted(identity, "correct horse", **FAST)
    assert identity.seed not in blob and identity.key_file_text().encode() not in blob
    assert import_encrypted(blob, "correct horse") == identity


def test_backup_errors():
    identity = ident.generate("box1")
    blob = export_encrypted(identity, "pw", **FAST)
    with pytest.raises(WrongPasswordError):
        import_encrypted(blob, "other")
    flipped = bytearray(blob)
    flipped[-1] ^= 1
    with pytest.raises(WrongPasswordError):
        import_encrypted(bytes(flipped), "pw")
    with pytest.raises(BackupCorruptError, match="magic"):
        import_encrypted(b"garbage" * 10, "pw")
    with pytest.raises(BackupCorruptError):
        import_encrypted(blob[:20], "pw")
    with pytest.raises(BackupCorruptError, match="too large"):
        import_encrypted(blob + bytes(10000), "pw")
    newer = bytearray(blob)
    newer[7] = 2
    with pytest.raises(BackupVersionError):
        import_encrypted(bytes(newer), "pw")
    hostile = bytearray(blob)
    hostile[16:24] = (1 << 40).to_bytes(8, "little")  # memlimit of a TiB
    with pytest.raises(BackupCorruptError, match="out of range"):
        import_encrypted(bytes(hostile), "pw")
    with pytest.raises(ident.BackupError):
        export_encrypted(identity, "")
