"""The thin native layer: typed errors, argument checks, discovery, and the label test against the
reference's AES pieces."""

from __future__ import annotations

import os

import pytest

from appliance.post import k2pow, native
from appliance.post.params import aes_key, lazy_key


def test_error_codes_map_to_types() -> None:
    for code, cls in [
        (-1, native.NativeInvalidArgument),
        (-2, native.NativeOutOfMemory),
        (-3, native.NativeUnsupported),
        (-4, native.NativePowError),
        (-5, native.NativeCancelled),
        (-6, native.NativeOverflow),
        (-77, native.PostNativeError),
    ]:
        with pytest.raises(cls) as info:
            native._check(code, "sp_thing")
        assert info.value.code == code and "sp_thing" in str(info.value)
    assert native._check(3, "ok") == 3


def test_discovery() -> None:
    labels = native.label_impls()
    assert labels[0].name == "portable" and labels[0].available
    assert any(impl.available for impl in native.aes_impls())
    assert native.selected_label_impl() in {impl.id for impl in labels if impl.available}
    assert native.selected_aes_impl() in {impl.id for impl in native.aes_impls() if impl.available}
    assert native.version()


@pytest.mark.usefixtures("need_scan")
def test_label_test_matches_reference(ref) -> None:
    challenge = os.urandom(32)
    difficulty = (0x10 << 56) | (1 << 55)
    seen = set()
    for trial in range(300):
        nonce = trial % 32
        key, lazy = aes_key(challenge, nonce // 16, 5), lazy_key(challenge, nonce // 16, 5, nonce)
        label = os.urandom(16)
        msb = ref.aes_ecb(key, label)[nonce % 16]
        lsb = int.from_bytes(ref.aes_ecb(lazy, label)[:8], "little") & 0x00FF_FFFF_FFFF_FFFF
        want = (
            1
            if msb < 0x10 or (msb == 0x10 and lsb < 1 << 55)
            else (native.TEST_BAD_LSB if msb == 0x10 else 0)
        )
        if trial % 3 == 0:  # force the msb-equal branch for a third of the trials
            d = (msb << 56) | (1 << 55)
            want = 1 if lsb < 1 << 55 else native.TEST_BAD_LSB
            assert native.label_test(key, lazy, label, nonce, d) == want
        else:
            assert native.label_test(key, lazy, label, nonce, difficulty) == want
        seen.add(want)
    assert seen == {0, 1, native.TEST_BAD_LSB}


def test_argument_checks() -> None:
    with pytest.raises(ValueError, match="groups"):
        native.scan(bytes(16), bytes(16), 0, 1, bytes(128), 0, 1)
    with pytest.raises(ValueError, match="multiple of 16"):
        native.aes128_ecb(bytes(16), bytes(15))
    with pytest.raises(ValueError, match="key"):
        native.label_test(bytes(15), bytes(16), bytes(16), 0, 1)
    with pytest.raises(ValueError, match="challenge"):
        native.k2pow_input(0, 0, bytes(31), bytes(32))


@pytest.mark.usefixtures("need_k2pow")
def test_k2pow_input_layout_and_release() -> None:
    data = native.k2pow_input(0x0102030405060708, 7, bytes(range(32)), bytes([9]) * 32)
    assert data == bytes([8, 7, 6, 5, 4, 3, 2]) + bytes([7]) + bytes(range(8)) + bytes([9]) * 32
    ctx = k2pow.context(False)
    assert k2pow.context(False) is ctx
    k2pow.release(False)
    assert k2pow.context(False) is not ctx
