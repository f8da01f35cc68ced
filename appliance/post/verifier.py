"""Proof and VRF-nonce verification, as post-rs ``Verifier::verify`` and Go ``VerifyVRFNonce`` do it
(spec §4.8, §4.9): all indices, one index, or a K3 subset chosen by the random-values iterator.

Every failure is a typed ``VerifyError``; a bad label raises ``InvalidIndex`` carrying the position
in the proof (``index_id``), which go-spacemesh turns into a malfeasance proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from appliance.post import k2pow, native
from appliance.post.labels import full_label
from appliance.post.native import K2Pow
from appliance.post.params import (
    aes_key,
    commitment,
    compressed_length,
    decompress_indices,
    lazy_key,
    proving_difficulty,
    random_values,
    required_bits,
    scale_pow_difficulty,
    vrf_threshold,
)
from appliance.post.proof import Proof, ProofConfig
from appliance.post.writer import DEFAULT_SCRYPT_N

U32_MAX = (1 << 32) - 1


class VerifyError(ValueError):
    """The proof is invalid (or the request is)."""


class InvalidArgument(VerifyError):
    pass


class NumUnitsOutOfRange(VerifyError):
    pass


class NonceGroupOutOfBounds(VerifyError):
    pass


class InvalidIndicesLength(VerifyError):
    pass


class InvalidPow(VerifyError):
    pass


class InvalidVrfNonce(VerifyError):
    pass


class InvalidIndex(VerifyError):
    """Label test failed for the index at position ``index_id`` of the proof."""

    def __init__(self, index_id: int, index: int, reason: str) -> None:
        super().__init__(f"invalid index at position {index_id} (label {index}): {reason}")
        self.index_id = index_id
        self.index = index
        self.reason = reason


@dataclass(frozen=True)
class VerifyMode:
    """Which indices to check: ``all``, ``one`` (position ``index``) or ``subset`` (k3 by seed)."""

    kind: str = "all"
    index: int = 0
    k3: int = 0
    seed: bytes = b""

    @classmethod
    def one(cls, index: int) -> VerifyMode:
        return cls("one", index=index)

    @classmethod
    def subset(cls, k3: int, seed: bytes) -> VerifyMode:
        return cls("subset", k3=k3, seed=seed)


ALL = VerifyMode()


def _selected(mode: VerifyMode, indices: list[int], node_id: bytes, challenge: bytes) -> list[int]:
    """Positions (in the proof) to check."""
    k2 = len(indices)
    if mode.kind == "all" or (mode.kind == "subset" and mode.k3 >= k2):
        return list(range(k2))
    if mode.kind == "one":
        if not 0 <= mode.index < k2:
            raise InvalidArgument(f"index position {mode.index} is outside 0..{k2 - 1}")
        return [mode.index]
    if mode.kind == "subset":
        if mode.k3 <= 0:
            raise InvalidArgument(f"k3 must be positive, got {mode.k3}")
        return list(islice(random_values(k2, [mode.seed, node_id, challenge]), mode.k3))
    raise InvalidArgument(f"unknown verify mode {mode.kind!r}")


def verify_proof(
    proof: Proof,
    *,
    node_id: bytes,
    commitment_atx_id: bytes,
    challenge: bytes,
    num_units: int,
    labels_per_unit: int,
    config: ProofConfig,
    scrypt_n: int = DEFAULT_SCRYPT_N,
    mode: VerifyMode = ALL,
    min_num_units: int = 1,
    max_num_units: int = U32_MAX,
    k2pow_context: K2Pow | None = None,
) -> None:
    """Returns when ``proof`` is valid; raises a VerifyError subclass saying why otherwise."""
    for name, value in (
        ("node id", node_id),
        ("commitment ATX id", commitment_atx_id),
        ("challenge", challenge),
    ):
        if len(value) != 32:
            raise InvalidArgument(f"{name} must be 32 bytes, got {len(value)}")
    if not min_num_units <= num_units <= max_num_units:
        raise NumUnitsOutOfRange(f"num units {num_units} is outside {min_num_units}..{max_num_units}")
    group = proof.nonce // native.NONCES_PER_AES
    if group > 255:
        raise NonceGroupOutOfBounds(f"nonce {proof.nonce} is in group {group} > 255")
    num_labels = num_units * labels_per_unit
    bits = required_bits(num_labels)
    expected = compressed_length(bits, config.k2)
    if len(proof.indices) != expected:
        raise InvalidIndicesLength(
            f"indices are {len(proof.indices)} bytes, expected {expected} ({config.k2} × {bits} bits)"
        )
    try:
        difficulty = proving_difficulty(config.k1, num_labels)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from exc
    pow_target = scale_pow_difficulty(config.pow_difficulty, num_units)
    ctx = k2pow_context or k2pow.context(False)
    if not ctx.verify(proof.pow, group, challenge, node_id, pow_target):
        raise InvalidPow(f"k2pow {proof.pow} for nonce group {group} is not below the difficulty")
    indices = decompress_indices(proof.indices, bits, config.k2)
    com = commitment(node_id, commitment_atx_id)
    key = aes_key(challenge, group, proof.pow)
    lazy = lazy_key(challenge, group, proof.pow, proof.nonce)
    for position in _selected(mode, indices, node_id, challenge):
        label, _ = native.labels(com, scrypt_n, indices[position], 1)
        verdict = native.label_test(key, lazy, label, proof.nonce, difficulty)
        if verdict == 0:
            raise InvalidIndex(position, indices[position], "msb above the difficulty")
        if verdict == native.TEST_BAD_LSB:
            raise InvalidIndex(position, indices[position], "lsb above the difficulty")


def verify_vrf_nonce(
    node_id: bytes, commitment_atx_id: bytes, nonce: int, num_labels: int, scrypt_n: int = DEFAULT_SCRYPT_N
) -> None:
    """The whole label at ``nonce`` must be below PowDifficulty(num_labels); minimality is not checked."""
    if not 0 <= nonce < 1 << 64:
        raise InvalidArgument(f"VRF nonce {nonce} is not a u64")
    label = full_label(commitment(node_id, commitment_atx_id), scrypt_n, nonce)
    if label >= vrf_threshold(num_labels):
        raise InvalidVrfNonce(f"label at VRF nonce {nonce} ({label.hex()}) is not below the threshold")
