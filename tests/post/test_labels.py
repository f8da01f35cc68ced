"""Labels: every available implementation against the reference oracle and the spec's vectors."""

from __future__ import annotations

import pytest

from appliance.post import native
from appliance.post.labels import LabelBatch, commitment, compute_batch, compute_labels, full_label, merge

pytestmark = pytest.mark.usefixtures("need_labels")
COM = commitment(bytes([1]) * 32, bytes([2]) * 32)
IMPLS = [impl for impl in native.label_impls() if impl.available]
SPEC_8192 = [
    "34c860b656ada7e741788e9ca64f77e0c1d541e12cbada6c652b2b68679987e9",
    "2ee450904065b50166d91563d1b4f995179a9ea350c6759e0f98a629f2312a1a",
]


@pytest.mark.parametrize("impl", IMPLS, ids=lambda impl: impl.name)
def test_every_impl_matches_reference_n16(ref, impl: native.Impl) -> None:
    # 19 labels: exercises whole lane groups and a tail for 4- and 8-lane kernels.
    for start in (0, 1000, (1 << 64) - 19):
        got, _ = native.labels(COM, 16, start, 19, impl=impl.id)
        want = b"".join(ref.label(COM, i, 16) for i in range(start, start + 19))
        assert got == want, f"{impl.name} differs at start {start}"
    whole, _ = native.labels(bytes(32), 4, 0, 4, impl=impl.id, full=True)
    assert whole[:16].hex() == "8b3058a6f80f233447696ac1f8aa8efc"
    assert whole[32:48].hex() == "6bf7df3551b81be6462359105f18c24f"


@pytest.mark.parametrize("impl", IMPLS, ids=lambda impl: impl.name)
def test_every_impl_spec_vectors_n8192(impl: native.Impl) -> None:
    got, _ = native.labels(COM, 8192, 0, 2, impl=impl.id, full=True)
    assert [got[:32].hex(), got[32:].hex()] == SPEC_8192


def test_n8192_against_reference(ref) -> None:
    assert compute_labels(COM, 8192, 5, 1) == ref.label(COM, 5, 8192)


def test_vrf_minimum_matches_reference(ref) -> None:
    fulls = [ref.full_label(COM, i, 16) for i in range(64)]
    batch = compute_batch(COM, 16, 0, 64, threads=3)
    best = min(range(64), key=lambda i: (fulls[i], i))
    assert (batch.min_index, batch.min_label) == (best, fulls[best])
    assert batch.labels == b"".join(f[:16] for f in fulls)
    # the native threshold search: nothing below a tiny threshold, the minimum below a large one
    _, none = native.labels(COM, 16, 0, 64, vrf_threshold=bytes(32))
    assert none is None
    _, hit = native.labels(COM, 16, 0, 64, vrf_threshold=b"\xff" * 32)
    assert hit == native.VrfHit(best, fulls[best])
    assert full_label(COM, 16, best) == fulls[best]


def test_threads_give_identical_bytes() -> None:
    assert compute_batch(COM, 32, 7, 301, threads=4) == compute_batch(COM, 32, 7, 301, threads=1)


def test_merge_keeps_earliest_on_ties() -> None:
    a = LabelBatch(0, bytes(16), 0, b"\x01" * 32)
    b = LabelBatch(1, bytes(16), 1, b"\x01" * 32)
    assert merge([a, b]).min_index == 0
    assert merge([LabelBatch(0, bytes(16)), b]).min_index == 1


def test_primitives(ref) -> None:
    assert native.scrypt_jane(b"", b"", 16, 1, 1, 64) == ref.scrypt_jane(b"", b"", 16, 1, 1, 64)
    for message in (b"", b"abc", bytes(range(200))):
        assert native.keccak512(message) == ref.keccak512(message)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((bytes(31), 16, 0, 1), ValueError),
        ((COM, 24, 0, 1), ValueError),
        ((COM, 1, 0, 1), ValueError),
        ((COM, 16, (1 << 64) - 1, 2), ValueError),
        ((COM, 16, -1, 1), ValueError),
    ],
)
def test_bad_arguments(args, error) -> None:
    with pytest.raises(error):
        native.labels(*args)


def test_unavailable_impl_is_typed_error() -> None:
    missing = [impl for impl in native.label_impls() if not impl.available]
    if not missing:
        pytest.skip("every label implementation runs on this CPU")
    with pytest.raises(native.NativeUnsupported):
        native.labels(COM, 16, 0, 1, impl=missing[0].id)
