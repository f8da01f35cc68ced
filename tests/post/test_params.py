"""The PoST arithmetic against post-rs's own vectors and the reference oracle."""

from __future__ import annotations

import pytest

from appliance.post import params


def test_commitment_vector() -> None:
    assert params.commitment(bytes([1]) * 32, bytes([2]) * 32).hex() == (
        "8d67bc7836d128b108be2c965538f37bbcee3e7503e35e58fbb0446432e05206"
    )
    with pytest.raises(ValueError):
        params.commitment(bytes(31), bytes(32))


def test_compress_vectors_and_round_trip(ref) -> None:
    idx = [0, 0b1111_1111_1111_0101, 0, 0b1111_1111_0000_1111]
    assert list(params.compress_indices(idx, 3)) == [0b00_101_000, 0b0000_1110]
    assert list(params.compress_indices(idx, 16)) == [0, 0, 0b1111_0101, 0b1111_1111, 0, 0, 0b0000_1111, 0xFF]
    values = [5, 1 << 34, 77, (1 << 35) - 1] * 9 + [3]
    packed = params.compress_indices(values, 35)
    assert len(packed) == 162 == params.compressed_length(35, 37)
    assert packed == ref.compress_indices(values, 35)
    assert params.decompress_indices(packed, 35, 37) == values


def test_random_values_vector(ref) -> None:
    expected = [
        39,
        13,
        95,
        77,
        36,
        41,
        74,
        17,
        59,
        87,
        91,
        63,
        40,
        20,
        94,
        78,
        48,
        60,
        18,
        32,
        67,
        43,
        23,
        69,
        71,
        1,
        51,
        79,
        19,
        53,
        86,
        80,
        14,
        84,
        97,
        92,
        83,
        26,
        2,
        81,
        42,
        55,
        50,
        88,
        75,
        82,
        44,
        34,
        58,
        72,
        35,
        25,
        10,
        68,
        12,
        11,
        70,
        27,
        98,
        57,
        96,
        16,
        45,
        73,
        0,
        15,
        62,
        46,
        30,
        89,
        33,
        54,
        9,
        29,
        7,
        90,
        38,
        5,
        49,
        61,
        93,
        99,
        22,
        6,
        64,
        24,
        76,
        85,
        37,
        65,
        31,
        4,
        52,
        3,
        56,
        21,
        8,
        28,
        66,
        47,
    ]
    assert list(params.random_values(100, [])) == expected
    seed = [b"seed", bytes([1]) * 32, bytes(32)]
    assert list(params.random_values(37, seed))[:5] == [p for p, _ in ref.k3_subset(list(range(37)), seed, 5)]


def test_difficulties(ref) -> None:
    assert params.proving_difficulty(1, 2) == 1 << 63
    assert params.proving_difficulty(1, 128) == 1 << 57
    assert params.proving_difficulty(26, 1 << 34) == 0x6_8000_0000 == ref.proving_difficulty(26, 1 << 34)
    with pytest.raises(ValueError, match="exceed"):
        params.proving_difficulty(5, 5)
    assert params.scale_pow_difficulty(b"\xff" * 32, 2) == b"\x7f" + b"\xff" * 31
    assert params.scale_pow_difficulty(b"\xff" * 32, 32)[0] == 0x07
    assert params.vrf_threshold(1 << 34) == ((1 << 256) // (1 << 34) << 3).to_bytes(32, "big")
    assert params.vrf_threshold(4) == b"\xff" * 32  # 8·2^256/4 saturates


def test_aes_keys_match_reference(ref) -> None:
    challenge = bytes(range(32))
    assert params.aes_key(challenge, 3, 12345) == ref.aes_key(challenge, 3, 12345)
    assert params.lazy_key(challenge, 3, 12345, 50) == ref.aes_key(challenge, 3, 12345, 50)
