"""Domain-separated ed25519 signatures exactly as go-spacemesh's ``signing`` package makes them.

``sig = ed25519(priv, GenesisID20 ‖ domain_byte ‖ msg)``; the PoET is the one verifier that gets the
prefix (``GenesisID ‖ 0x04``) sent separately. GenesisID = ``blake3(str(genesis_unix) ‖ extra)[:20]``.
"""

from __future__ import annotations

import enum

import blake3
import nacl.exceptions
import nacl.signing

from appliance.node.identity import Identity

GENESIS_ID_SIZE = 20
SIGNATURE_SIZE = 64


class Domain(enum.IntEnum):
    ATX = 0
    PROPOSAL = 1
    BALLOT = 2
    HARE = 3
    POET = 4
    MARRIAGE = 5
    BEACON_FIRST_MSG = 10
    BEACON_FOLLOWUP_MSG = 11


class SignatureError(Exception):
    """A signature does not verify, or a key/signature has the wrong size."""


def genesis_id(genesis_unix: int, extra_data: str) -> bytes:
    """go-spacemesh ``config/genesis.go``: blake3 of the decimal unix time then the extra data."""
    return blake3.blake3(str(int(genesis_unix)).encode() + extra_data.encode()).digest()[:GENESIS_ID_SIZE]


def signed_bytes(prefix: bytes, domain: Domain, message: bytes) -> bytes:
    if len(prefix) != GENESIS_ID_SIZE:
        raise SignatureError(f"GenesisID prefix must be {GENESIS_ID_SIZE} bytes")
    return bytes(prefix) + bytes([int(domain)]) + bytes(message)


def sign(identity: Identity, prefix: bytes, domain: Domain, message: bytes) -> bytes:
    return identity.sign_raw(signed_bytes(prefix, domain, message))


def verify(public_key: bytes, prefix: bytes, domain: Domain, message: bytes, signature: bytes) -> bool:
    return verify_raw(public_key, signed_bytes(prefix, domain, message), signature)


def verify_raw(public_key: bytes, message: bytes, signature: bytes) -> bool:
    if len(public_key) != 32 or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        nacl.signing.VerifyKey(bytes(public_key)).verify(bytes(message), bytes(signature))
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True
