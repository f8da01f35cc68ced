"""The PoST arithmetic shared by init, prover and verifier (spec §2, §4.2, §4.3, §4.7, §4.8).

Difficulties, AES key derivation, index bit-packing and the K3 random-values iterator. Pure
integer/BLAKE3 code with no I/O, so the prover and the verifier cannot disagree about it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence

import blake3

from appliance.chain import MAINNET

U64_MASK = (1 << 64) - 1
LSB_MASK = 0x00FF_FFFF_FFFF_FFFF
#: mainnet's k2pow target (the value lives in the chain preset, ``appliance.chain.MAINNET``)
MAINNET_POW_DIFFICULTY = MAINNET.pow_difficulty


def commitment(node_id: bytes, commitment_atx_id: bytes) -> bytes:
    """BLAKE3(node_id ‖ commitment_atx_id), the label commitment (spec §1)."""
    if len(node_id) != 32 or len(commitment_atx_id) != 32:
        raise ValueError("node id and commitment ATX id must be 32 bytes each")
    return blake3.blake3(node_id + commitment_atx_id).digest()


def vrf_threshold(num_labels: int) -> bytes:
    """PowDifficulty(numLabels) = (2^256 / numLabels) << 3 as 32 bytes big-endian (spec §2, §4.9)."""
    if num_labels <= 0:
        raise ValueError("number of labels must be positive")
    value = ((1 << 256) // num_labels) << 3
    return min(value, (1 << 256) - 1).to_bytes(32, "big")


def proving_difficulty(k1: int, num_labels: int) -> int:
    """floor(2^64 · k1 / num_labels); post-rs rejects num_labels <= k1 and results >= 2^64."""
    if num_labels <= k1:
        raise ValueError(f"number of labels ({num_labels}) must exceed k1 ({k1})")
    value = ((1 << 64) * k1) // num_labels
    if value > U64_MASK:
        raise ValueError("proving difficulty does not fit 64 bits")
    return value


def scale_pow_difficulty(pow_difficulty: bytes, num_units: int) -> bytes:
    """The k2pow target divided by the number of units (spec §4.2)."""
    if len(pow_difficulty) != 32 or num_units <= 0:
        raise ValueError("pow difficulty must be 32 bytes and num units positive")
    return (int.from_bytes(pow_difficulty, "big") // num_units).to_bytes(32, "big")


def aes_key(challenge: bytes, group: int, pow_value: int) -> bytes:
    """K_g = BLAKE3(challenge ‖ LE32(g) ‖ LE64(pow_g))[0..16]."""
    return blake3.blake3(challenge + struct.pack("<IQ", group, pow_value & U64_MASK)).digest()[:16]


def lazy_key(challenge: bytes, group: int, pow_value: int, nonce: int) -> bytes:
    """L_n = BLAKE3(challenge ‖ LE32(g) ‖ LE64(pow_g) ‖ LE32(n))[0..16]."""
    return blake3.blake3(challenge + struct.pack("<IQI", group, pow_value & U64_MASK, nonce)).digest()[:16]


def required_bits(value: int) -> int:
    return value.bit_length()


def compress_indices(indices: Sequence[int], bits: int) -> bytes:
    """Bit-packs each index's low ``bits`` bits, LSB first (bitvec Lsb0 over u8, spec §4.7)."""
    acc = 0
    mask = (1 << bits) - 1
    for position, index in enumerate(indices):
        acc |= (index & mask) << (position * bits)
    return acc.to_bytes((len(indices) * bits + 7) // 8, "little")


def decompress_indices(data: bytes, bits: int, count: int) -> list[int]:
    acc = int.from_bytes(data, "little")
    mask = (1 << bits) - 1
    return [(acc >> (position * bits)) & mask for position in range(count)]


def compressed_length(bits: int, count: int) -> int:
    return (bits * count + 7) // 8


def random_values(count: int, seed_parts: Sequence[bytes]) -> Iterator[int]:
    """post-rs RandomValuesIterator over positions 0..count: BLAKE3 XOF of the seed parts, u16 LE draws
    with rejection sampling, partial Fisher-Yates. Yields positions in the chosen order."""
    hasher = blake3.blake3()
    for part in seed_parts:
        hasher.update(part)
    reader = _XofReader(hasher)
    order = list(range(count))
    for taken in range(count):
        remaining = count - taken
        max_allowed = 0xFFFF - (0xFFFF % remaining)
        while True:
            draw = reader.u16()
            if draw < max_allowed:
                break
        swap = taken + draw % remaining
        order[taken], order[swap] = order[swap], order[taken]
        yield order[taken]


class _XofReader:
    """Reads a BLAKE3 XOF stream two bytes at a time, fetching it in blocks."""

    _BLOCK = 4096

    def __init__(self, hasher: blake3.blake3) -> None:
        self._hasher = hasher
        self._buffer = b""
        self._offset = 0
        self._seek = 0

    def u16(self) -> int:
        if self._offset + 2 > len(self._buffer):
            self._buffer = self._hasher.digest(length=self._BLOCK, seek=self._seek)
            self._seek += self._BLOCK
            self._offset = 0
        value = self._buffer[self._offset] | (self._buffer[self._offset + 1] << 8)
        self._offset += 2
        return value
