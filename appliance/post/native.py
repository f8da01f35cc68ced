"""Thin 1:1 wrappers over the PoST core (``appliance.post._native``), the only importer of it.

Each wrapper checks the C return code and raises a typed ``PostNativeError``, allocates with
``ffi.new`` / ``ffi.from_buffer`` and returns ``bytes``. Sizes come from the C header. cffi
releases the GIL around every call, so callers scale by running these in threads.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.post._native import ffi, lib

LABEL_SIZE: int = lib.SP_LABEL_SIZE
FULL_LABEL_SIZE: int = lib.SP_FULL_LABEL_SIZE
NONCES_PER_AES: int = lib.SP_NONCES_PER_AES
K2POW_INPUT_SIZE: int = lib.SP_K2POW_INPUT_SIZE
LABELS_AUTO: int = lib.SP_LABELS_AUTO
AES_AUTO: int = lib.SP_AES_AUTO
U64_LIMIT = 1 << 64
BytesLike = bytes | bytearray | memoryview


class PostNativeError(Exception):
    """A call into the PoST core failed; ``code`` is the SP_ERR_* value."""

    def __init__(self, what: str, code: int, reason: str) -> None:
        super().__init__(f"{what}: {reason} (code {code})")
        self.what = what
        self.code = code


class NativeInvalidArgument(PostNativeError):
    pass


class NativeOutOfMemory(PostNativeError):
    pass


class NativeUnsupported(PostNativeError):
    """The implementation is not compiled in, not supported by this CPU, or not written yet."""


class NativePowError(PostNativeError):
    pass


class NativeCancelled(PostNativeError):
    pass


class NativeOverflow(PostNativeError):
    pass


_ERRORS: dict[int, tuple[type[PostNativeError], str]] = {
    lib.SP_ERR_INVALID: (NativeInvalidArgument, "invalid argument"),
    lib.SP_ERR_NOMEM: (NativeOutOfMemory, "out of memory"),
    lib.SP_ERR_UNSUPPORTED: (NativeUnsupported, "not supported here"),
    lib.SP_ERR_POW: (NativePowError, "RandomX failed"),
    lib.SP_ERR_CANCELLED: (NativeCancelled, "cancelled"),
    lib.SP_ERR_OVERFLOW: (NativeOverflow, "too many hits for the buffer"),
}


def _check(rc: int, what: str) -> int:
    if rc >= 0:
        return rc
    cls, reason = _ERRORS.get(rc, (PostNativeError, "unknown error"))
    raise cls(what, rc, reason)


def _fixed(value: bytes, size: int, name: str) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != size:
        raise ValueError(f"{name} must be {size} bytes")
    return bytes(value)


# ---------------------------------------------------------------- implementation discovery


@dataclass(frozen=True)
class Impl:
    """One implementation of a kernel: its C id, short name, and whether this CPU can run it."""

    id: int
    name: str
    available: bool


def version() -> str:
    return ffi.string(lib.sp_version()).decode()


def label_impls() -> list[Impl]:
    """Every label implementation the header knows, available or not."""
    return [
        Impl(i, ffi.string(lib.sp_labels_name(i)).decode(), bool(lib.sp_labels_available(i)))
        for i in range(1, lib.SP_LABELS_COUNT)
        if lib.sp_labels_name(i) != ffi.NULL
    ]


def aes_impls() -> list[Impl]:
    """Every AES (proving scan) implementation the header knows, available or not."""
    return [
        Impl(i, ffi.string(lib.sp_aes_name(i)).decode(), bool(lib.sp_aes_available(i)))
        for i in range(1, lib.SP_AES_COUNT)
        if lib.sp_aes_name(i) != ffi.NULL
    ]


def selected_label_impl() -> int:
    return int(lib.sp_labels_selected())


def selected_aes_impl() -> int:
    return int(lib.sp_aes_selected())


# ---------------------------------------------------------------- labels


@dataclass(frozen=True)
class VrfHit:
    """The smallest whole 32-byte label of a range below the given threshold."""

    index: int
    label: bytes


def labels(
    commitment: bytes,
    scrypt_n: int,
    start: int,
    count: int,
    *,
    impl: int = LABELS_AUTO,
    full: bool = False,
    vrf_threshold: bytes | None = None,
) -> tuple[bytes, VrfHit | None]:
    """sp_labels: 16-byte labels (or whole 32-byte ones with ``full``) for [start, start+count), and
    the VRF search result below ``vrf_threshold`` (32 bytes big-endian) when one is given."""
    commitment = _fixed(commitment, 32, "commitment")
    if count < 0 or start < 0 or start + count > U64_LIMIT:
        raise ValueError(f"label range [{start}, {start}+{count}) is outside 0..2^64")
    if scrypt_n < 2 or scrypt_n & (scrypt_n - 1) or scrypt_n >= 1 << 32:
        raise ValueError(f"scrypt N must be a power of two >= 2, got {scrypt_n}")
    size = FULL_LABEL_SIZE if full else LABEL_SIZE
    out = ffi.new("uint8_t[]", max(count * size, 1))
    out16 = ffi.NULL if full else out
    out32 = out if full else ffi.NULL
    vrf_min = vrf_index = vrf_found = ffi.NULL
    if vrf_threshold is not None:
        vrf_min = ffi.new("uint8_t[32]", _fixed(vrf_threshold, 32, "vrf threshold"))
        vrf_index = ffi.new("uint64_t *")
        vrf_found = ffi.new("int *")
    _check(
        lib.sp_labels(impl, commitment, scrypt_n, start, count, out16, out32, vrf_min, vrf_index, vrf_found),
        "sp_labels",
    )
    hit = None
    if vrf_threshold is not None and vrf_found[0]:
        hit = VrfHit(int(vrf_index[0]), bytes(ffi.buffer(vrf_min, 32)))
    return bytes(ffi.buffer(out, count * size)), hit


def scrypt_jane(password: bytes, salt: bytes, n: int, r: int, p: int, out_len: int) -> bytes:
    """General scrypt-jane (Keccak-512 + ChaCha20/8), for the spec's primitive vectors."""
    out = ffi.new("uint8_t[]", max(out_len, 1))
    _check(
        lib.sp_scrypt_jane(password, len(password), salt, len(salt), n, r, p, out, out_len), "sp_scrypt_jane"
    )
    return bytes(ffi.buffer(out, out_len))


def keccak512(data: bytes) -> bytes:
    out = ffi.new("uint8_t[64]")
    lib.sp_keccak512(data, len(data), out)
    return bytes(out)


# ---------------------------------------------------------------- proving scan


def scan(
    keys: bytes,
    lazy_keys: bytes,
    first_group: int,
    ngroups: int,
    labels_data: BytesLike,
    base_index: int,
    difficulty: int,
    *,
    impl: int = AES_AUTO,
    max_hits: int = 4096,
) -> list[tuple[int, int]]:
    """sp_scan over one batch: the good (nonce, index) pairs in post-rs scan order. A full hit buffer
    is retried with a bigger one, so every hit is returned."""
    if len(keys) != ngroups * 16 or len(lazy_keys) != ngroups * 16 * NONCES_PER_AES:
        raise ValueError("keys / lazy keys do not match the number of groups")
    view = memoryview(labels_data).cast("B")
    nlabels = len(view) // LABEL_SIZE
    src = ffi.from_buffer(view)
    while True:
        hits = ffi.new("sp_hit[]", max_hits)
        nhits = ffi.new("size_t *")
        rc = lib.sp_scan(
            impl,
            keys,
            lazy_keys,
            first_group,
            ngroups,
            src,
            nlabels,
            base_index,
            difficulty,
            hits,
            max_hits,
            nhits,
        )
        if rc == lib.SP_ERR_OVERFLOW:
            max_hits *= 4
            continue
        _check(rc, "sp_scan")
        return [(int(hits[i].nonce), int(hits[i].index)) for i in range(nhits[0])]


def label_test(key: bytes, lazy_key: bytes, label: bytes, nonce: int, difficulty: int) -> int:
    """sp_label_test: 1 good, 0 bad msb, ``SP_TEST_BAD_LSB`` bad lsb."""
    rc = lib.sp_label_test(
        _fixed(key, 16, "key"),
        _fixed(lazy_key, 16, "lazy key"),
        _fixed(label, 16, "label"),
        nonce,
        difficulty,
    )
    if rc == lib.SP_TEST_BAD_LSB:
        return rc
    return _check(rc, "sp_label_test")


TEST_BAD_LSB: int = lib.SP_TEST_BAD_LSB


def aes128_ecb(key: bytes, data: BytesLike, *, impl: int = AES_AUTO) -> bytes:
    view = memoryview(data).cast("B")
    if len(view) % 16:
        raise ValueError("AES-ECB input must be a multiple of 16 bytes")
    out = ffi.new("uint8_t[]", max(len(view), 1))
    _check(
        lib.sp_aes128_ecb(impl, _fixed(key, 16, "key"), ffi.from_buffer(view), out, len(view) // 16),
        "sp_aes128_ecb",
    )
    return bytes(ffi.buffer(out, len(view)))


# ---------------------------------------------------------------- k2pow (RandomX)


class CancelFlag:
    """An int the C search polls; ``set()`` from any thread makes a running search return."""

    def __init__(self) -> None:
        self._flag = ffi.new("int *")

    def set(self) -> None:
        self._flag[0] = 1

    def is_set(self) -> bool:
        return bool(self._flag[0])


class K2Pow:
    """A RandomX context keyed with the Spacemesh cache key (light or fast mode)."""

    def __init__(self, fast_mode: bool = False, init_threads: int = 1) -> None:
        out = ffi.new("sp_k2pow **")
        _check(lib.sp_k2pow_new(int(fast_mode), max(1, init_threads), out), "sp_k2pow_new")
        self._ctx = ffi.gc(out[0], lib.sp_k2pow_free)
        self.fast_mode = fast_mode

    def hash(self, data: bytes) -> bytes:
        out = ffi.new("uint8_t[32]")
        _check(
            lib.sp_k2pow_hash(self._ctx, _fixed(data, K2POW_INPUT_SIZE, "k2pow input"), out), "sp_k2pow_hash"
        )
        return bytes(out)

    def search(
        self,
        group: int,
        challenge: bytes,
        miner_id: bytes,
        difficulty: bytes,
        start: int,
        count: int,
        cancel: CancelFlag | None = None,
    ) -> int | None:
        """The first valid pow in [start, start+count), or None when the range holds none."""
        pow_out = ffi.new("uint64_t *")
        found = ffi.new("int *")
        flag = cancel._flag if cancel is not None else ffi.NULL
        _check(
            lib.sp_k2pow_search(
                self._ctx,
                group,
                _fixed(challenge, 32, "challenge"),
                _fixed(miner_id, 32, "miner id"),
                _fixed(difficulty, 32, "pow difficulty"),
                start,
                count,
                flag,
                pow_out,
                found,
            ),
            "sp_k2pow_search",
        )
        return int(pow_out[0]) if found[0] else None

    def verify(
        self, pow_value: int, group: int, challenge: bytes, miner_id: bytes, difficulty: bytes
    ) -> bool:
        rc = lib.sp_k2pow_verify(
            self._ctx,
            pow_value & (U64_LIMIT - 1),
            group,
            _fixed(challenge, 32, "challenge"),
            _fixed(miner_id, 32, "miner id"),
            _fixed(difficulty, 32, "pow difficulty"),
        )
        return bool(_check(rc, "sp_k2pow_verify"))


def k2pow_input(pow_value: int, group: int, challenge: bytes, miner_id: bytes) -> bytes:
    out = ffi.new("uint8_t[]", K2POW_INPUT_SIZE)
    lib.sp_k2pow_input(
        pow_value, group, _fixed(challenge, 32, "challenge"), _fixed(miner_id, 32, "miner id"), out
    )
    return bytes(ffi.buffer(out, K2POW_INPUT_SIZE))
