"""The proof and its configuration as data: ``Proof`` (nonce, bit-packed indices, pow), its JSON form
``{"nonce":..,"indices":"<base64>","pow":..}`` (spec §4.7), and ``ProofConfig`` (k1, k2, k2pow target)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from appliance.chain import MAINNET, ChainParams

U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1


class ProofFormatError(ValueError):
    """A proof (usually its JSON) is malformed; the message names the field."""


@dataclass(frozen=True)
class ProofConfig:
    """k1 / k2 of the proving difficulty and the (unscaled) k2pow target, 32 bytes big-endian."""

    k1: int = MAINNET.k1
    k2: int = MAINNET.k2
    pow_difficulty: bytes = MAINNET.pow_difficulty

    @classmethod
    def from_chain(cls, chain: ChainParams) -> ProofConfig:
        """What proofs for ``chain`` are made with (and checked against, by every node of it)."""
        return cls(chain.k1, chain.k2, chain.pow_difficulty)

    def __post_init__(self) -> None:
        if not 0 < self.k1 < self.k2 <= U32_MAX:
            raise ValueError(f"need 0 < k1 < k2 < 2^32, got k1={self.k1} k2={self.k2}")
        if len(self.pow_difficulty) != 32:
            raise ValueError(f"pow difficulty must be 32 bytes, got {len(self.pow_difficulty)}")


@dataclass(frozen=True)
class Proof:
    nonce: int
    indices: bytes
    pow: int

    def to_json(self) -> dict[str, Any]:
        return {"nonce": self.nonce, "indices": base64.b64encode(self.indices).decode(), "pow": self.pow}

    @classmethod
    def from_json(cls, data: Any) -> Proof:
        if not isinstance(data, dict):
            raise ProofFormatError("proof must be a JSON object with nonce, indices, pow")
        values = []
        for field, limit in (("nonce", U32_MAX), ("pow", U64_MAX)):
            value = data.get(field)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
                raise ProofFormatError(f"proof field {field} must be an integer in 0..{limit}, got {value!r}")
            values.append(value)
        raw = data.get("indices")
        if not isinstance(raw, str):
            raise ProofFormatError("proof field indices must be a base64 string")
        try:
            indices = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProofFormatError(f"proof field indices is not valid base64 ({exc})") from exc
        return cls(values[0], indices, values[1])
