"""ECVRF-EDWARDS25519-SHA512-ELL2 (RFC 9381, suite 0x04) over the smesher's ed25519 key, pure Python.

go-spacemesh proves ballot eligibility with ``ecvrf.Prove(priv, msg)`` from curve25519-voi (RFC 9381
semantics: the challenge hashes the public key). The message is not prefixed with GenesisID. Proofs
are 80 bytes: Gamma ‖ c (16, LE) ‖ s (32, LE). Not constant time: the box proves a handful of
messages per epoch, and the devnet verifies them.
"""

from __future__ import annotations

import hashlib

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
SUITE = b"\x04"
H2C_DST = b"ECVRF_edwards25519_XMD:SHA-512_ELL2_NU_" + SUITE
J = 486662
PROOF_SIZE = 80

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T)
IDENTITY: Point = (0, 1, 1, 0)


class VrfError(ValueError):
    pass


def _inv(x: int) -> int:
    return pow(x, P - 2, P)


def _add(p1: Point, p2: Point) -> Point:
    a = (p1[1] - p1[0]) * (p2[1] - p2[0]) % P
    b = (p1[1] + p1[0]) * (p2[1] + p2[0]) % P
    c = 2 * p1[3] * p2[3] * D % P
    d = 2 * p1[2] * p2[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s: int, pt: Point) -> Point:
    out = IDENTITY
    while s > 0:
        if s & 1:
            out = _add(out, pt)
        pt = _add(pt, pt)
        s >>= 1
    return out


def _neg(pt: Point) -> Point:
    return (-pt[0] % P, pt[1], pt[2], -pt[3] % P)


def _is_identity(pt: Point) -> bool:
    return pt[0] % P == 0 and (pt[1] - pt[2]) % P == 0


def _sqrt(a: int) -> int | None:
    x = pow(a, (P + 3) // 8, P)
    if (x * x - a) % P:
        x = x * SQRT_M1 % P
    return x if (x * x - a) % P == 0 else None


def encode_point(pt: Point) -> bytes:
    zinv = _inv(pt[2])
    x, y = pt[0] * zinv % P, pt[1] * zinv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def decode_point(data: bytes) -> Point:
    if len(data) != 32:
        raise VrfError("a point is 32 bytes")
    y = int.from_bytes(data, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= P:
        raise VrfError("non-canonical point encoding")
    x = _sqrt((y * y - 1) * _inv(D * y * y + 1) % P)
    if x is None or (x == 0 and sign):
        raise VrfError("not a point on edwards25519")
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


BASE = decode_point((4 * _inv(5) % P).to_bytes(32, "little"))


def _expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    ell = -(-length // 64)
    dst_prime = dst + bytes([len(dst)])
    b0 = hashlib.sha512(bytes(128) + msg + length.to_bytes(2, "big") + b"\x00" + dst_prime).digest()
    bi = hashlib.sha512(b0 + b"\x01" + dst_prime).digest()
    out = bi
    for i in range(2, ell + 1):
        bi = hashlib.sha512(
            bytes(x ^ y for x, y in zip(b0, bi, strict=True)) + bytes([i]) + dst_prime
        ).digest()
        out += bi
    return out[:length]


def _elligator2_edwards(u: int) -> Point:
    """RFC 9380 §6.7.1 map to curve25519, then the rational map to edwards25519 (appendix D.1)."""
    x1 = -J * _inv(1 + 2 * u * u) % P
    if x1 == 0:
        x1 = -J % P
    gx1 = (x1 * x1 * x1 + J * x1 * x1 + x1) % P
    y1 = _sqrt(gx1)
    if y1 is not None:
        x, y = x1, (y1 if y1 & 1 else P - y1) % P
    else:
        x = (-x1 - J) % P
        y2 = _sqrt((x * x * x + J * x * x + x) % P)
        assert y2 is not None  # one of gx1, gx2 is always square
        y = (P - y2) % P if y2 & 1 else y2
    c1 = _sqrt(-486664 % P)
    assert c1 is not None
    if c1 & 1:
        c1 = P - c1
    if y == 0 or (x + 1) % P == 0:
        return IDENTITY
    v = c1 * x * _inv(y) % P
    w = (x - 1) * _inv(x + 1) % P
    return (v, w, 1, v * w % P)


def encode_to_curve(public_key: bytes, alpha: bytes) -> Point:
    u = int.from_bytes(_expand_message_xmd(public_key + alpha, H2C_DST, 48), "big") % P
    return _mul(8, _elligator2_edwards(u))


def _challenge(*points: Point) -> int:
    data = SUITE + b"\x02" + b"".join(encode_point(p) for p in points) + b"\x00"
    return int.from_bytes(hashlib.sha512(data).digest()[:16], "little")


def _secret(seed: bytes) -> tuple[int, bytes]:
    digest = hashlib.sha512(seed).digest()
    a = bytearray(digest[:32])
    a[0] &= 248
    a[31] &= 127
    a[31] |= 64
    return int.from_bytes(a, "little"), digest[32:]


def public_key(seed: bytes) -> bytes:
    return encode_point(_mul(_secret(seed)[0], BASE))


def prove(seed: bytes, alpha: bytes) -> bytes:
    """The 80-byte proof pi for message ``alpha`` under the ed25519 key with this 32-byte seed."""
    if len(seed) != 32:
        raise VrfError("an ed25519 seed is 32 bytes")
    x, prefix = _secret(seed)
    y_point = _mul(x, BASE)
    pk = encode_point(y_point)
    h = encode_to_curve(pk, alpha)
    h_string = encode_point(h)
    gamma = _mul(x, h)
    k = int.from_bytes(hashlib.sha512(prefix + h_string).digest(), "little") % Q
    c = _challenge(y_point, h, gamma, _mul(k, BASE), _mul(k, h))
    s = (k + c * x) % Q
    return encode_point(gamma) + c.to_bytes(16, "little") + s.to_bytes(32, "little")


def proof_to_hash(pi: bytes) -> bytes:
    gamma = decode_point(pi[:32])
    return hashlib.sha512(SUITE + b"\x03" + encode_point(_mul(8, gamma)) + b"\x00").digest()


def verify(public_key_bytes: bytes, pi: bytes, alpha: bytes) -> bool:
    """RFC 9381 verification, rejecting small-order / non-canonical public keys like voi does."""
    if len(pi) != PROOF_SIZE or len(public_key_bytes) != 32:
        return False
    try:
        y_point = decode_point(public_key_bytes)
        gamma = decode_point(pi[:32])
    except VrfError:
        return False
    if encode_point(y_point) != public_key_bytes or _is_identity(_mul(8, y_point)):
        return False
    c = int.from_bytes(pi[32:48], "little")
    s = int.from_bytes(pi[48:], "little")
    if s >= Q:
        return False
    h = encode_to_curve(public_key_bytes, alpha)
    u = _add(_mul(s, BASE), _neg(_mul(c, y_point)))
    v = _add(_mul(s, h), _neg(_mul(c, gamma)))
    return _challenge(y_point, h, gamma, u, v) == c
