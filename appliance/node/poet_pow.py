"""The PoET's registration proof of work: RIPEMD-256 with leading zero bits (poet ``shared/pow.go``).

RIPEMD-256 is in neither hashlib nor pycryptodome, so it is implemented here from the RIPEMD
family's tables (the same as RIPEMD-160's first four rounds; ``ripemd160`` is kept to check those
tables against an independent implementation in the tests).
"""

from __future__ import annotations

import struct

_R = (
    *range(16),
    *(7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8),
    *(3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12),
    *(1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2),
    *(4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13),
)
_RP = (
    *(5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12),
    *(6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2),
    *(15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13),
    *(8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14),
    *(12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11),
)
_S = (
    *(11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8),
    *(7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12),
    *(11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5),
    *(11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12),
    *(9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6),
)
_SP = (
    *(8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6),
    *(9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11),
    *(9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5),
    *(15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8),
    *(8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11),
)
_M = 0xFFFFFFFF


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _M


def _f(j: int, x: int, y: int, z: int) -> int:
    if j == 0:
        return x ^ y ^ z
    if j == 1:
        return (x & y) | (~x & z)
    if j == 2:
        return (x | ~y & _M) ^ z
    if j == 3:
        return (x & z) | (y & ~z & _M)
    return x ^ (y | ~z & _M)


def _blocks(message: bytes):
    padded = message + b"\x80" + bytes((55 - len(message)) % 64) + struct.pack("<Q", len(message) * 8)
    for off in range(0, len(padded), 64):
        yield struct.unpack("<16I", padded[off : off + 64])


def ripemd256(message: bytes) -> bytes:
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0x76543210, 0xFEDCBA98, 0x89ABCDEF, 0x01234567]
    k = (0, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC)
    kp = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0)
    for x in _blocks(message):
        a, b, c, d = h[:4]
        ap, bp, cp, dp = h[4:]
        for rnd in range(4):
            for i in range(16 * rnd, 16 * rnd + 16):
                t = _rol((a + _f(rnd, b, c, d) + x[_R[i]] + k[rnd]) & _M, _S[i])
                a, d, c, b = d, c, b, t
                t = _rol((ap + _f(3 - rnd, bp, cp, dp) + x[_RP[i]] + kp[rnd]) & _M, _SP[i])
                ap, dp, cp, bp = dp, cp, bp, t
            # RIPEMD-256 swaps one register between the two lines after each round
            if rnd == 0:
                a, ap = ap, a
            elif rnd == 1:
                b, bp = bp, b
            elif rnd == 2:
                c, cp = cp, c
            else:
                d, dp = dp, d
        for i, v in enumerate((a, b, c, d, ap, bp, cp, dp)):
            h[i] = (h[i] + v) & _M
    return struct.pack("<8I", *h)


def ripemd160(message: bytes) -> bytes:
    """Only here to cross-check the shared tables against an independent RIPEMD-160."""
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
    k = (0, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E)
    kp = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0)
    for x in _blocks(message):
        a, b, c, d, e = h
        ap, bp, cp, dp, ep = h
        for i in range(80):
            rnd = i // 16
            t = (_rol((a + _f(rnd, b, c, d) + x[_R[i]] + k[rnd]) & _M, _S[i]) + e) & _M
            a, e, d, c, b = e, d, _rol(c, 10), b, t
            t = (_rol((ap + _f(4 - rnd, bp, cp, dp) + x[_RP[i]] + kp[rnd]) & _M, _SP[i]) + ep) & _M
            ap, ep, dp, cp, bp = ep, dp, _rol(cp, 10), bp, t
        h = [(h[1] + c + dp) & _M, (h[2] + d + ep) & _M, (h[3] + e + ap) & _M, (h[4] + a + bp) & _M,
             (h[0] + b + cp) & _M]  # fmt: skip
    return struct.pack("<5I", *h)


def check_leading_zero_bits(data: bytes, bits: int) -> bool:
    if bits > len(data) * 8:
        return False
    whole, rest = divmod(bits, 8)
    if any(data[:whole]):
        return False
    return rest == 0 or data[whole] >> (8 - rest) == 0


def pow_hash(pow_challenge: bytes, node_id: bytes, poet_challenge: bytes, nonce: int) -> bytes:
    return ripemd256(pow_challenge + node_id + poet_challenge + struct.pack("<Q", nonce))


def verify_pow(
    pow_challenge: bytes, node_id: bytes, poet_challenge: bytes, nonce: int, difficulty: int
) -> bool:
    if not 0 <= nonce < 1 << 64:
        return False
    return check_leading_zero_bits(pow_hash(pow_challenge, node_id, poet_challenge, nonce), difficulty)


def find_pow_nonce(
    pow_challenge: bytes, node_id: bytes, poet_challenge: bytes, difficulty: int, max_tries: int = 1 << 32
) -> int:
    """Searches nonce = 0, 1, 2, ... like ``FindSubmitPowNonce``; blocking (run it in a thread)."""
    for nonce in range(max_tries):
        if verify_pow(pow_challenge, node_id, poet_challenge, nonce, difficulty):
            return nonce
    raise RuntimeError(f"no PoW nonce found in {max_tries} tries")
