"""Proving and verification: post-rs's proving vector through our scan, scans against the reference,
prove → verify with our verifier and with one assembled from the reference's pieces, tampering."""

from __future__ import annotations

import os
import threading
from dataclasses import replace

import pytest

from appliance.post import k2pow, native
from appliance.post.initializer import Initializer
from appliance.post.labels import commitment
from appliance.post.layout import Batch
from appliance.post.metadata import read_metadata
from appliance.post.params import proving_difficulty, required_bits, scale_pow_difficulty
from appliance.post.proof import Proof, ProofConfig, ProofFormatError
from appliance.post.prover import PassKeys, ProvingCancelled, generate_proof, scan_for_proof
from appliance.post.verifier import (
    InvalidArgument,
    InvalidIndex,
    InvalidIndicesLength,
    InvalidPow,
    InvalidVrfNonce,
    NonceGroupOutOfBounds,
    NumUnitsOutOfRange,
    VerifyMode,
    verify_proof,
    verify_vrf_nonce,
)

NODE, ATX = bytes([1]) * 32, bytes([2]) * 32
COM = commitment(NODE, ATX)
CHALLENGE = bytes(range(100, 132))
CONFIG = ProofConfig(k1=8, k2=12, pow_difficulty=b"\xff" * 32)  # scaled by 2 units: half of all hashes pass
AES_IMPLS = [impl for impl in native.aes_impls() if impl.available]


@pytest.mark.usefixtures("need_scan")
@pytest.mark.parametrize("threads", [1, 2])
def test_post_rs_proving_vector(threads: int) -> None:
    challenge = b"hello world, CHALLENGE me!!!!!!!"
    data = bytes(i % 12 for i in range(128 * 16))
    batches = [Batch(start, data[start * 16 : (start + 16) * 16]) for start in range(0, 128, 16)]
    keys = PassKeys.derive(challenge, 0, [0])
    result = scan_for_proof(batches, keys, proving_difficulty(4, 128), 32, threads)
    assert result == (3, list(range(0, 96, 3)))


@pytest.mark.usefixtures("need_scan")
@pytest.mark.parametrize("impl", AES_IMPLS, ids=lambda impl: impl.name)
def test_scan_matches_reference(ref, impl: native.Impl) -> None:
    data = os.urandom(333 * 16)  # not a multiple of 8 labels: the trailing 5 are ignored
    pows = {2: 11, 3: 99}
    keys = PassKeys.derive(CHALLENGE, 2, [11, 99])
    difficulty = proving_difficulty(20, 333)
    got = scan_for_proof([Batch(0, data)], keys, difficulty, 25, aes_impl=impl.id)
    assert got == ref.prove_scan(data, CHALLENGE, range(32, 64), 25, difficulty, pows)
    block = data[:160]
    assert native.aes128_ecb(keys.keys[:16], block, impl=impl.id) == ref.aes_ecb(keys.keys[:16], block)


@pytest.fixture(scope="module")
def datadir(tmp_path_factory, need_labels):
    from appliance.post.metadata import PostMetadata

    path = tmp_path_factory.mktemp("postdata")
    Initializer(path, PostMetadata(NODE, ATX, 160, 2, 1024), scrypt_n=16, threads=2).run()
    return path


@pytest.fixture(scope="module")
def proof(datadir, need_k2pow) -> Proof:
    seen = []
    proof = generate_proof(datadir, CHALLENGE, CONFIG, nonces=288, threads=2, progress=seen.append)
    assert {p.stage for p in seen} == {"k2pow", "scan"}
    assert [p.position for p in seen if p.stage == "k2pow"][:18] == list(range(1, 19))
    assert seen[-1].stage == "scan" and seen[-1].position <= seen[-1].total == 320
    return proof


def _verify(proof: Proof, **overrides) -> None:
    args = dict(
        node_id=NODE,
        commitment_atx_id=ATX,
        challenge=CHALLENGE,
        num_units=2,
        labels_per_unit=160,
        config=CONFIG,
        scrypt_n=16,
    )
    args.update(overrides)
    verify_proof(proof, **args)


def _indices(proof: Proof) -> list[int]:
    from appliance.post.params import decompress_indices

    return decompress_indices(proof.indices, required_bits(320), CONFIG.k2)


def test_proof_verifies_with_ours_and_the_reference(ref, proof: Proof) -> None:
    _verify(proof)
    _verify(proof, mode=VerifyMode.one(5))
    _verify(proof, mode=VerifyMode.subset(4, b"peer"))
    # the reference's pieces: decompress, K3 subset, label, AES test
    bits = ref.required_bits(320)
    assert len(proof.indices) == (bits * CONFIG.k2 + 7) // 8
    indices = ref.decompress_indices(proof.indices, bits, CONFIG.k2)
    assert len(set(indices)) == CONFIG.k2 and max(indices) < 320
    group, j = proof.nonce // 16, proof.nonce % 16
    key = ref.aes_key(CHALLENGE, group, proof.pow)
    lazy = ref.aes_key(CHALLENGE, group, proof.pow, proof.nonce)
    difficulty = ref.proving_difficulty(CONFIG.k1, 320)
    for _position, index in ref.k3_subset(indices, [b"", NODE, CHALLENGE], CONFIG.k2):
        label = ref.label(ref.calc_commitment(NODE, ATX), index, 16)
        msb = ref.aes_ecb(key, label)[j]
        if msb == difficulty >> 56:
            lsb = int.from_bytes(ref.aes_ecb(lazy, label)[:8], "little") & 0x00FF_FFFF_FFFF_FFFF
            assert lsb < difficulty & 0x00FF_FFFF_FFFF_FFFF
        else:
            assert msb < difficulty >> 56
    # and the pow is a real RandomX one below the scaled target
    ctx = k2pow.context(False)
    target = scale_pow_difficulty(CONFIG.pow_difficulty, 2)
    assert ctx.hash(native.k2pow_input(proof.pow, group, CHALLENGE, NODE)) < target


def _bad_index(ref, proof: Proof) -> int:
    """An index whose label fails the test for the proof's nonce."""
    from appliance.post.params import aes_key, lazy_key

    group = proof.nonce // 16
    key, lazy = aes_key(CHALLENGE, group, proof.pow), lazy_key(CHALLENGE, group, proof.pow, proof.nonce)
    difficulty = proving_difficulty(CONFIG.k1, 320)
    for index in range(320):
        label, _ = native.labels(COM, 16, index, 1)
        if native.label_test(key, lazy, label, proof.nonce, difficulty) != 1:
            return index
    raise AssertionError("every label passes")


def test_tampered_index_names_its_position(ref, proof: Proof) -> None:
    from appliance.post.params import compress_indices, random_values

    indices = _indices(proof)
    indices[7] = _bad_index(ref, proof)
    bad = replace(proof, indices=compress_indices(indices, required_bits(320)))
    with pytest.raises(InvalidIndex) as info:
        _verify(bad)
    assert info.value.index_id == 7 and info.value.index == indices[7]
    with pytest.raises(InvalidIndex):
        _verify(bad, mode=VerifyMode.one(7))
    _verify(bad, mode=VerifyMode.one(6))
    for seed in (b"a", b"b", b"c", b"d"):
        chosen = list(random_values(CONFIG.k2, [seed, NODE, CHALLENGE]))[:3]
        if 7 in chosen:
            with pytest.raises(InvalidIndex):
                _verify(bad, mode=VerifyMode.subset(3, seed))
        else:
            _verify(bad, mode=VerifyMode.subset(3, seed))
    with pytest.raises(InvalidArgument):
        _verify(proof, mode=VerifyMode.one(CONFIG.k2))


def test_tampered_pow_nonce_lengths_and_units(proof: Proof) -> None:
    ctx = k2pow.context(False)
    group = proof.nonce // 16
    target = scale_pow_difficulty(CONFIG.pow_difficulty, 2)
    wrong = next(p for p in range(1000) if ctx.hash(native.k2pow_input(p, group, CHALLENGE, NODE)) >= target)
    with pytest.raises(InvalidPow):
        _verify(replace(proof, pow=wrong))
    with pytest.raises(NonceGroupOutOfBounds):
        _verify(replace(proof, nonce=256 * 16))
    with pytest.raises(InvalidIndicesLength):
        _verify(replace(proof, indices=proof.indices[:-1]))
    with pytest.raises(InvalidIndicesLength):
        _verify(replace(proof, indices=proof.indices + b"\0"))
    with pytest.raises(NumUnitsOutOfRange):
        _verify(proof, min_num_units=3, num_units=2)
    with pytest.raises(InvalidArgument):
        _verify(proof, challenge=CHALLENGE[:31])
    other = (proof.nonce + 1) % 288
    with pytest.raises((InvalidPow, InvalidIndex)):
        _verify(replace(proof, nonce=other))
    with pytest.raises((InvalidPow, InvalidIndex)):
        _verify(proof, challenge=bytes(32))


def test_vrf_nonce(datadir) -> None:
    meta = read_metadata(datadir)
    assert meta.nonce is not None
    verify_vrf_nonce(NODE, ATX, meta.nonce, 320, 16)
    from appliance.post.params import vrf_threshold

    above = next(i for i in range(320) if native.labels(COM, 16, i, 1, full=True)[0] >= vrf_threshold(320))
    with pytest.raises(InvalidVrfNonce):
        verify_vrf_nonce(NODE, ATX, above, 320, 16)


def test_cancel_and_bad_arguments(datadir, need_k2pow) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ProvingCancelled):
        generate_proof(datadir, CHALLENGE, CONFIG, cancel=cancel)
    with pytest.raises(ValueError, match="multiple of 16"):
        generate_proof(datadir, CHALLENGE, CONFIG, nonces=20)
    with pytest.raises(ValueError, match="32 bytes"):
        generate_proof(datadir, CHALLENGE[:5], CONFIG)
    with pytest.raises(ValueError, match="k1 < k2"):
        ProofConfig(k1=5, k2=5)


def test_proof_json(proof: Proof) -> None:
    assert Proof.from_json(proof.to_json()) == proof
    for bad, words in [
        ([], "JSON object"),
        ({"nonce": -1, "indices": "", "pow": 0}, "nonce"),
        ({"nonce": True, "indices": "", "pow": 0}, "nonce"),
        ({"nonce": 1, "indices": "***", "pow": 0}, "base64"),
        ({"nonce": 1, "indices": 5, "pow": 0}, "base64"),
        ({"nonce": 1, "indices": "", "pow": 1 << 64}, "pow"),
    ]:
        with pytest.raises(ProofFormatError, match=words):
            Proof.from_json(bad)


def test_randomx_mode_choice(monkeypatch) -> None:
    monkeypatch.setenv("SMESHBOX_RANDOMX", "fast")
    assert k2pow.fast_mode_default() is True
    monkeypatch.setenv("SMESHBOX_RANDOMX", "light")
    assert k2pow.fast_mode_default() is False
    monkeypatch.delenv("SMESHBOX_RANDOMX")
    monkeypatch.setattr(k2pow, "_available_memory", lambda: 2 << 30)
    assert k2pow.fast_mode_default() is False
    monkeypatch.setattr(k2pow, "_available_memory", lambda: 8 << 30)
    assert k2pow.fast_mode_default() is True


def test_scan_over_files_matches_reference(ref, datadir) -> None:
    """One thread over the real files in 1 KiB batches finds exactly what post-rs's order finds."""
    from appliance.post.layout import iter_batches

    meta = read_metadata(datadir)
    pows = {group: group * 7 + 1 for group in range(18)}
    keys = PassKeys.derive(CHALLENGE, 0, [pows[g] for g in range(18)])
    difficulty = proving_difficulty(CONFIG.k1, 320)
    ours = scan_for_proof(iter_batches(datadir, meta, 1024), keys, difficulty, CONFIG.k2, threads=1)
    data = b"".join(batch.data for batch in iter_batches(datadir, meta))
    assert ours is not None
    assert ours == ref.prove_scan(data, CHALLENGE, range(288), CONFIG.k2, difficulty, pows)
