"""Release manifest signing and verification: what is accepted and every way it is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from appliance.ota.errors import ManifestError, SignatureError
from appliance.ota.manifest import (
    MAX_DOCUMENT,
    Manifest,
    canonical,
    generate_key,
    load_signing_key,
    load_trusted_keys,
    parse_version,
    sign_release,
    verify_release,
)

SHA = "ab" * 32


def manifest(**changes: object) -> Manifest:
    base = dict(
        version="1.2.0", compatible="box", bundle_name="b.raucb", bundle_sha256=SHA, bundle_size=10,
        security_epoch=2, notes="n",
    )
    base.update(changes)
    return Manifest(**base)  # type: ignore[arg-type]


def test_round_trip_and_reformatting_keep_the_signature_valid() -> None:
    key = SigningKey.generate()
    document = sign_release(manifest(), [key])
    assert verify_release(document, [key.verify_key]) == manifest()
    reformatted = json.dumps(json.loads(document), indent=None, sort_keys=False).encode()
    assert verify_release(reformatted, [key.verify_key]) == manifest()


def test_either_of_two_trusted_keys_is_enough_and_unknown_signers_are_ignored() -> None:
    old, new, stranger = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    document = sign_release(manifest(), [stranger, new])
    assert verify_release(document, [old.verify_key, new.verify_key]).version == "1.2.0"


def test_tampered_manifest_is_refused() -> None:
    key = SigningKey.generate()
    outer = json.loads(sign_release(manifest(), [key]))
    outer["manifest"]["version"] = "9.9.9"
    with pytest.raises(SignatureError, match="tampered"):
        verify_release(json.dumps(outer).encode(), [key.verify_key])


def test_wrong_key_is_refused() -> None:
    document = sign_release(manifest(), [SigningKey.generate()])
    with pytest.raises(SignatureError, match="not signed by any trusted key"):
        verify_release(document, [SigningKey.generate().verify_key])


def test_no_trusted_keys_is_refused() -> None:
    with pytest.raises(SignatureError, match="no trusted"):
        verify_release(sign_release(manifest(), [SigningKey.generate()]), [])


def test_garbled_signature_hex_is_a_bad_signature() -> None:
    key = SigningKey.generate()
    outer = json.loads(sign_release(manifest(), [key]))
    outer["signatures"][0]["signature"] = "zz"
    with pytest.raises(SignatureError):
        verify_release(json.dumps(outer).encode(), [key.verify_key])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "signatures"),
        (b'{"manifest": {}}', "signatures"),
        (b'{"signatures": []}', "no 'manifest'"),
        (b'{"manifest": {}, "signatures": ["x"]}', "object"),
        (b"{" + b" " * MAX_DOCUMENT + b"}", "limit"),
    ],
)
def test_malformed_documents_are_refused(document: bytes, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        verify_release(document, [SigningKey.generate().verify_key])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": "1.x"}, "dotted"),
        ({"version": ""}, "dotted"),
        ({"compatible": ""}, "compatible"),
        ({"bundle_name": "../etc/passwd"}, "plain file name"),
        ({"bundle_sha256": "AB" * 32}, "sha256"),
        ({"bundle_sha256": "ab"}, "sha256"),
        ({"bundle_size": 0}, "size"),
        ({"bundle_size": True}, "size"),
        ({"security_epoch": -1}, "security_epoch"),
        ({"notes": 5}, "notes"),
    ],
)
def test_signed_but_invalid_fields_are_refused(changes: dict, message: str) -> None:
    key = SigningKey.generate()
    with pytest.raises(ManifestError, match=message):
        verify_release(sign_release(manifest(**changes), [key]), [key.verify_key])


def test_unknown_format_is_refused() -> None:
    key = SigningKey.generate()
    body = {**manifest().to_json(), "format": 2}
    outer = {"manifest": body, "signatures": [{
        "key": key.verify_key.encode().hex(),
        "signature": key.sign(canonical(body)).signature.hex(),
    }]}
    with pytest.raises(ManifestError, match="format"):
        verify_release(json.dumps(outer).encode(), [key.verify_key])


def test_versions_compare_numerically() -> None:
    assert parse_version("1.10.0") > parse_version("1.9.9")
    assert parse_version("2") == parse_version("2.0.0")
    assert parse_version("0.2") > parse_version("0.1.9")


def test_key_files_round_trip_and_bad_files_are_typed_errors(tmp_path: Path) -> None:
    public = generate_key(tmp_path / "k")
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o600
    assert load_signing_key(tmp_path / "k").verify_key == public
    keys_dir = tmp_path / "trusted"
    keys_dir.mkdir()
    (keys_dir / "a.pub").write_text((tmp_path / "k.pub").read_text())
    (keys_dir / "README").write_text("ignored")
    assert load_trusted_keys(keys_dir) == [public]
    (keys_dir / "b.pub").write_text("nothex")
    with pytest.raises(ManifestError, match="malformed"):
        load_trusted_keys(keys_dir)
    (tmp_path / "bad").write_text("1234")
    with pytest.raises(ManifestError, match="cannot load"):
        load_signing_key(tmp_path / "bad")
    assert load_trusted_keys(tmp_path / "missing") == []
