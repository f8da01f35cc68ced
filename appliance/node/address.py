"""Spacemesh account (coinbase) addresses: 24 bytes, shown as BIP-173 bech32 (not bech32m).

The first 4 bytes are reserved and must be zero; ``generate_address(pubkey)`` keeps the last 20
bytes of a public key (go-spacemesh ``common/types/address.go``). The human-readable part is "sm" on
mainnet and configurable (the devnet uses "stest"). Every rejection names the precise problem.
"""

from __future__ import annotations

from appliance.chain import DEVNET, MAINNET

ADDRESS_LENGTH = 24
RESERVED_LENGTH = 4
MAINNET_HRP = MAINNET.hrp
TESTNET_HRP = DEVNET.hrp
MAX_BECH32_LENGTH = 90

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {c: i for i, c in enumerate(_CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class AddressError(ValueError):
    """An address string or byte value is not a valid Spacemesh address."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _create_checksum(hrp: str, data: list[int]) -> list[int]:
    polymod = _polymod([*_hrp_expand(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ 1
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


def convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            raise AddressError(f"value {value} does not fit in {from_bits} bits")
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & maxv)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & maxv):
        raise AddressError("invalid padding in address data")
    return out


def bech32_encode(hrp: str, data: list[int]) -> str:
    return hrp + "1" + "".join(_CHARSET[d] for d in data + _create_checksum(hrp, data))


def bech32_decode(text: str) -> tuple[str, list[int]]:
    """Decodes any bech32 string (no 90-character limit check beyond a sanity bound)."""
    if not isinstance(text, str):
        raise AddressError(f"address must be text, got {type(text).__name__}")
    if not text:
        raise AddressError("address is empty")
    if len(text) > MAX_BECH32_LENGTH:
        raise AddressError(f"address is too long ({len(text)} characters, at most {MAX_BECH32_LENGTH})")
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise AddressError("address contains spaces or non-ASCII characters")
    if text.lower() != text and text.upper() != text:
        raise AddressError("address mixes upper and lower case")
    text = text.lower()
    sep = text.rfind("1")
    if sep < 1:
        raise AddressError("address has no network prefix (missing '1' separator)")
    if sep + 7 > len(text):
        raise AddressError("address is too short (checksum missing)")
    hrp, rest = text[:sep], text[sep + 1 :]
    bad = [c for c in rest if c not in _CHARSET_INDEX]
    if bad:
        raise AddressError(f"address contains invalid character {bad[0]!r}")
    data = [_CHARSET_INDEX[c] for c in rest]
    if _polymod(_hrp_expand(hrp) + data) != 1:
        raise AddressError("address checksum is wrong (typo?)")
    return hrp, data[:-6]


def encode_address(address: bytes, hrp: str = MAINNET_HRP) -> str:
    if not isinstance(address, bytes | bytearray) or len(address) != ADDRESS_LENGTH:
        raise AddressError(f"an address is {ADDRESS_LENGTH} bytes")
    if any(address[:RESERVED_LENGTH]):
        raise AddressError("the first 4 bytes of an address are reserved and must be zero")
    return bech32_encode(hrp, convert_bits(bytes(address), 8, 5, True))


def parse_address(text: str, hrp: str = MAINNET_HRP) -> bytes:
    """Decodes and validates a bech32 address for network ``hrp``; returns the 24 address bytes."""
    got_hrp, data = bech32_decode(text.strip() if isinstance(text, str) else text)
    converted = convert_bits(data, 5, 8, True)
    # go-spacemesh converts with padding, which leaves one trailing zero byte: 24 + 1.
    if len(converted) != ADDRESS_LENGTH + 1:
        raise AddressError(f"wrong address length: {len(data) * 5 // 8} bytes, expected {ADDRESS_LENGTH}")
    if got_hrp != hrp:
        raise AddressError(f"address is for network {got_hrp!r}, this box is on {hrp!r}")
    address = bytes(converted[:ADDRESS_LENGTH])
    if any(address[:RESERVED_LENGTH]):
        raise AddressError("not a Spacemesh address: the first 4 (reserved) bytes are not zero")
    return address


def is_valid_address(text: str, hrp: str = MAINNET_HRP) -> bool:
    try:
        parse_address(text, hrp)
    except AddressError:
        return False
    return True


def generate_address(public_key: bytes) -> bytes:
    """The address of a single-sig wallet key, go-spacemesh's ``GenerateAddress``."""
    if len(public_key) < ADDRESS_LENGTH - RESERVED_LENGTH:
        raise AddressError("public key too short to derive an address")
    return bytes(RESERVED_LENGTH) + bytes(public_key[-(ADDRESS_LENGTH - RESERVED_LENGTH) :])
