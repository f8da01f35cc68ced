"""Bech32 coinbase addresses against the go-spacemesh vectors, plus precise errors."""

from __future__ import annotations

import pytest

from appliance.node.address import (
    AddressError,
    encode_address,
    generate_address,
    is_valid_address,
    parse_address,
)


def test_vectors(vectors):
    for v in vectors["address"]["vectors"]:
        raw = parse_address(v["bech32"], v["hrp"])
        assert raw.hex() == v["address_hex"]
        assert encode_address(raw, v["hrp"]) == v["bech32"]
        assert parse_address(v["bech32"].upper(), v["hrp"]) == raw
    ex = vectors["address"]["computed_example"]
    assert encode_address(bytes.fromhex(ex["address_hex"])) == ex["bech32"]


def test_error_vectors(vectors):
    expected = {
        "ErrMissingReservedSpace": "reserved",
        "ErrUnsupportedNetwork": "network",
        "ErrWrongAddressLength": "wrong address length",
    }
    for v in vectors["address"]["error_vectors"]:
        key = v["error"].split()[0]
        with pytest.raises(AddressError, match=expected[key]):
            parse_address(v["bech32"], "stest")


GOOD = "sm1qqqqqqylyl2l0zsmmax0wnutt4dwnrkcwef5eeq3xladz"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD[:-1] + ("q" if GOOD[-1] != "q" else "p"), "checksum"),
        ("sm1qqqqqqylyl2l0zsmmax0wnutt4dwnrkcwef5eeq3xlaDz", "mixes upper and lower"),
        ("", "empty"),
        ("qqqqqq", "missing '1'"),
        ("sm1qqqqq", "too short"),
        ("sm1qqqqqqylyl2l0zsmmax0wnutt4dwnrkcwef5eeq3xladb", "invalid character 'b'"),
        ("sm1 qqq", "spaces"),
        ("sm1" + "q" * 100, "too long"),
    ],
)
def test_errors(text, message):
    with pytest.raises(AddressError, match=message):
        parse_address(text, "sm")
    assert not is_valid_address(text)


def test_wrong_hrp():
    with pytest.raises(AddressError, match="network 'sm'"):
        parse_address(GOOD, "stest")


def test_wrong_type():
    with pytest.raises(AddressError, match="must be text"):
        parse_address(b"sm1", "sm")  # type: ignore[arg-type]


def test_generate_and_encode_errors():
    addr = generate_address(bytes(range(32)))
    assert addr == bytes(4) + bytes(range(12, 32))
    assert parse_address(encode_address(addr, "stest"), "stest") == addr
    with pytest.raises(AddressError):
        encode_address(b"\x01" * 24)
    with pytest.raises(AddressError):
        encode_address(b"\x00" * 23)
