"""The proving-scan vectors (native/tests/vectors/scan.json): how they are made, and a check that the
committed file is exactly what the independent Python model below gives.

The C core has no BLAKE3, so the AES keys of the vectors are derived here once (``blake3`` package)
and stored; the expected hits come from a straightforward model of post-rs Prover8_56 on top of
``cryptography``'s AES. Regenerate with ``python tests/native/test_scan_vectors.py --write``.
"""

from __future__ import annotations

import json
import random
import struct
import sys
from pathlib import Path

import blake3
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VECTORS = Path(__file__).resolve().parents[2] / "native" / "tests" / "vectors" / "scan.json"
LSB_MASK = (1 << 56) - 1

# FIPS-197 appendices B and C.1, SP 800-38A F.1.1 (ECB-AES128).
_KAT_TABLE = """
2b7e151628aed2a6abf7158809cf4f3c 3243f6a8885a308d313198a2e0370734 3925841d02dc09fbdc118597196a0b32
000102030405060708090a0b0c0d0e0f 00112233445566778899aabbccddeeff 69c4e0d86a7b0430d8cdb78070b4c55a
2b7e151628aed2a6abf7158809cf4f3c 6bc1bee22e409f96e93d7e117393172a 3ad77bb40d7a3660a89ecaf32466ef97
2b7e151628aed2a6abf7158809cf4f3c ae2d8a571e03ac9c9eb76fac45af8e51 f5d3d58503b9699de785895a96fdbaaf
2b7e151628aed2a6abf7158809cf4f3c 30c81c46a35ce411e5fbc1191a0a52ef 43b1cd7f598ece23881b00e3ed030688
2b7e151628aed2a6abf7158809cf4f3c f69f2445df4f9b17ad2b417be66c3710 7b0c785e27e8ad3f8223207104725dd4
"""
AES_KAT = [tuple(row.split()) for row in _KAT_TABLE.strip().splitlines()]


def aes_ecb(key: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def group_key(challenge: bytes, group: int, pow_: int) -> bytes:
    return blake3.blake3(challenge + struct.pack("<IQ", group, pow_)).digest()[:16]


def lazy_key(challenge: bytes, group: int, pow_: int, nonce: int) -> bytes:
    return blake3.blake3(challenge + struct.pack("<IQI", group, pow_, nonce)).digest()[:16]


def model_scan(keys, lazy_keys, first_group, labels: bytes, base_index: int, difficulty: int):
    """Good (nonce, index) pairs in post-rs order: 8-label chunk, group, output byte."""
    msb, lsb = difficulty >> 56, difficulty & LSB_MASK
    hits = []
    nlabels = len(labels) // 16
    for chunk in range(nlabels // 8):
        data = labels[chunk * 128:(chunk + 1) * 128]
        for g, key in enumerate(keys):
            out = aes_ecb(key, data)
            for o, byte in enumerate(out):
                nonce_off = g * 16 + o % 16
                good = byte < msb
                if byte == msb:
                    d = aes_ecb(lazy_keys[nonce_off], data[o // 16 * 16:o // 16 * 16 + 16])
                    good = (struct.unpack("<Q", d[:8])[0] & LSB_MASK) < lsb
                if good:
                    hits.append([(first_group + g) * 16 + o % 16, base_index + chunk * 8 + o // 16])
    return hits


def label_test(key, lazy, label, nonce, difficulty) -> int:
    byte = aes_ecb(key, label)[nonce % 16]
    if byte != difficulty >> 56:
        return 1 if byte < difficulty >> 56 else 0
    d = aes_ecb(lazy, label)
    return 1 if (struct.unpack("<Q", d[:8])[0] & LSB_MASK) < (difficulty & LSB_MASK) else -100


def proving_vector() -> dict:
    challenge = b"hello world, CHALLENGE me!!!!!!!"
    return {
        "challenge_ascii": challenge.decode(),
        "num_labels": 128,
        "data": "bytes repeat(0..=11), 128 * 16 of them",
        "k1": 4,
        "k2": 32,
        "difficulty": (1 << 64) * 4 // 128,
        "key": group_key(challenge, 0, 0).hex(),
        "lazy_keys": [lazy_key(challenge, 0, 0, n).hex() for n in range(16)],
        "nonce": 3,
        "indices": list(range(0, 96, 3)),
    }


def random_scan_case(rng: random.Random, nlabels: int, first_group: int, ngroups: int,
                     difficulty: int) -> dict:
    challenge = rng.randbytes(32)
    pows = [rng.getrandbits(56) for _ in range(ngroups)]
    keys = [group_key(challenge, first_group + g, pows[g]) for g in range(ngroups)]
    lazies = [lazy_key(challenge, first_group + g, pows[g], (first_group + g) * 16 + j)
              for g in range(ngroups) for j in range(16)]
    labels = rng.randbytes(nlabels * 16)
    base = rng.getrandbits(40)
    return {
        "first_group": first_group,
        "keys": "".join(k.hex() for k in keys),
        "lazy_keys": "".join(k.hex() for k in lazies),
        "labels": labels.hex(),
        "base_index": base,
        "difficulty": difficulty,
        "hits": model_scan(keys, lazies, first_group, labels, base, difficulty),
    }


def lsb_edge_cases(rng: random.Random) -> list[dict]:
    """Two scans of the same data whose threshold sits exactly on (not below) / one above the lazy
    value of nonce offset 5 on the first label: strict "<" must drop / keep that hit."""
    case = random_scan_case(rng, 16, 3, 1, 0)
    keys, labels = [bytes.fromhex(case["keys"])], bytes.fromhex(case["labels"])
    lazies = [bytes.fromhex(case["lazy_keys"][32 * i:32 * i + 32]) for i in range(16)]
    byte = aes_ecb(keys[0], labels[:16])[5]
    low = struct.unpack("<Q", aes_ecb(lazies[5], labels[:16])[:8])[0] & LSB_MASK
    out = []
    for extra in (0, 1):
        difficulty = (byte << 56) | (low + extra)
        hits = model_scan(keys, lazies, case["first_group"], labels, case["base_index"], difficulty)
        out.append({**case, "difficulty": difficulty, "hits": hits})
    return out


def label_test_cases(rng: random.Random) -> list[dict]:
    """One case per outcome: good by msb, bad msb, good by lsb, bad lsb."""
    cases: dict[int | str, dict] = {}
    while len(cases) < 4:
        key, lazy, label, nonce = rng.randbytes(16), rng.randbytes(16), rng.randbytes(16), rng.randrange(4096)
        byte = aes_ecb(key, label)[nonce % 16]
        low = struct.unpack("<Q", aes_ecb(lazy, label)[:8])[0] & LSB_MASK
        if "lsb_good" not in cases:  # msb equal, threshold just above the lazy value
            difficulty, kind = (byte << 56) | (low + 1), "lsb_good"
        elif "lsb_bad" not in cases:  # msb equal, threshold equal to the lazy value (not strictly below)
            difficulty, kind = (byte << 56) | low, "lsb_bad"
        elif byte < 255 and "msb_good" not in cases:
            difficulty, kind = ((byte + 1) << 56) | rng.getrandbits(56), "msb_good"
        elif byte > 0:
            difficulty, kind = ((byte - 1) << 56) | LSB_MASK, "msb_bad"
        else:
            continue
        expected = label_test(key, lazy, label, nonce, difficulty)
        cases[kind] = {"kind": kind, "key": key.hex(), "lazy_key": lazy.hex(), "label": label.hex(),
                       "nonce": nonce, "difficulty": difficulty, "expected": expected}
    return list(cases.values())


def build() -> dict:
    rng = random.Random(20251124)
    return {
        "_meta": {
            "what": "Proving-scan vectors for sp_scan / sp_label_test / sp_aes128_ecb (C and Python tests).",
            "keys": "K_g = BLAKE3(challenge || LE32(g) || LE64(pow_g))[0..16], lazy L_n = "
                    "BLAKE3(challenge || LE32(g) || LE64(pow_g) || LE32(n))[0..16] (post-rs src/cipher.rs), "
                    "derived with the "
                    "python blake3 package by tests/native/test_scan_vectors.py (the C core has no BLAKE3).",
            "proving_vector": "post-rs src/prove.rs test proving_vector (spec post.md 7.1), pow mocked to 0.",
            "scan_cases": "random labels/keys; hits = [nonce, index] in post-rs order from an independent "
                          "Python model over the cryptography package's AES.",
            "label_tests": "expected: 1 good, 0 bad msb, -100 bad lsb (SP_TEST_BAD_LSB).",
        },
        "aes_kat": [{"key": k, "plaintext": p, "ciphertext": c} for k, p, c in AES_KAT],
        "proving_vector": proving_vector(),
        "scan_cases": [
            random_scan_case(rng, 64, 0, 2, 0x0C00_0000_0000_0000 | rng.getrandbits(56)),
            random_scan_case(rng, 43, 7, 3, 0x0200_0000_0000_0000 | rng.getrandbits(56)),
            random_scan_case(rng, 96, 250, 6, 0x0080_0000_0000_0000),
            *lsb_edge_cases(rng),
        ],
        "label_tests": label_test_cases(rng),
    }


def render() -> str:
    return json.dumps(build(), indent=1) + "\n"


def test_committed_vectors_match_the_model() -> None:
    assert VECTORS.read_text() == render(), "run: python tests/native/test_scan_vectors.py --write"


def test_proving_vector_model_reproduces_post_rs() -> None:
    pv = proving_vector()
    data = bytes(i % 12 for i in range(128 * 16))
    hits = model_scan([bytes.fromhex(pv["key"])], [bytes.fromhex(k) for k in pv["lazy_keys"]], 0, data, 0,
                      pv["difficulty"])
    per_nonce: dict[int, list[int]] = {}
    winner = None
    for nonce, index in hits:
        per_nonce.setdefault(nonce, []).append(index)
        if len(per_nonce[nonce]) == pv["k2"]:
            winner = nonce
            break
    assert winner == pv["nonce"]
    assert per_nonce[winner] == pv["indices"]


def test_lsb_edge_cases_differ_by_exactly_the_edge_hit() -> None:
    on, above = lsb_edge_cases(random.Random(7))
    edge = [48 + 5, on["base_index"]]
    assert edge not in on["hits"] and edge in above["hits"]
    assert [h for h in above["hits"] if h != edge] == on["hits"]


def test_aes_kat_agrees_with_cryptography() -> None:
    for key, plain, cipher in AES_KAT:
        assert aes_ecb(bytes.fromhex(key), bytes.fromhex(plain)).hex() == cipher


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        VECTORS.parent.mkdir(parents=True, exist_ok=True)
        VECTORS.write_text(render())
    else:
        sys.stdout.write(render())
