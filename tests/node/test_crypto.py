"""ECVRF, the PoET PoW hash and the membership tree against the spec's vectors."""

from __future__ import annotations

import hashlib

import pytest
from Crypto.Hash import RIPEMD160

from appliance.node import ecvrf, merkle
from appliance.node.poet_pow import (
    check_leading_zero_bits,
    find_pow_nonce,
    pow_hash,
    ripemd160,
    ripemd256,
    verify_pow,
)


def test_ecvrf_literal(vectors):
    for v in vectors["ecvrf"]["literal_vectors"]:
        seed, alpha = bytes.fromhex(v["sk_seed"]), bytes.fromhex(v["alpha"])
        assert ecvrf.public_key(seed).hex() == v["pk"]
        pi = ecvrf.prove(seed, alpha)
        assert pi.hex() == v["pi"]
        assert ecvrf.proof_to_hash(pi).hex() == v["beta"]
        pk = bytes.fromhex(v["pk"])
        assert ecvrf.verify(pk, pi, alpha)
        assert not ecvrf.verify(pk, pi, alpha + b"!")
        bad = bytearray(pi)
        bad[40] ^= 1
        assert not ecvrf.verify(pk, bytes(bad), alpha)
    assert (
        vectors["ecvrf"]["v10_note"]["example_pi_v10_alpha_empty"]
        != vectors["ecvrf"]["literal_vectors"][0]["pi"]
    )


def test_ecvrf_eligibility(vectors):
    for v in vectors["ecvrf"]["eligibility_vectors"]:
        seed = bytes.fromhex(v["signer_seed"])
        msg = bytes.fromhex(v["vrf_message_scale_hex"])
        pi = ecvrf.prove(seed, msg)
        assert pi.hex() == v["vrf_sig (pi, 80B)"]
        offset = int.from_bytes(pi[:8], "little") % v["layers_per_epoch"]
        assert offset == v["layer_offset_in_epoch"]
        assert v["vrf_message"]["epoch"] * v["layers_per_epoch"] + offset == v["eligible_layer"]


def test_ecvrf_rejects_small_order_key():
    pi = ecvrf.prove(bytes(32), b"m")
    identity_point = (1).to_bytes(32, "little")
    assert not ecvrf.verify(identity_point, pi, b"m")
    assert not ecvrf.verify(b"\xff" * 32, pi, b"m")
    assert not ecvrf.verify(ecvrf.public_key(bytes(32)), pi[:79], b"m")


def test_ripemd(vectors):
    for v in vectors["poet_pow"]["ripemd256_vectors"]:
        assert ripemd256(v["msg_ascii"].encode()).hex() == v["ripemd256"]
    for msg in (b"", b"abc", b"x" * 55, b"y" * 64, b"z" * 200):
        assert ripemd160(msg) == RIPEMD160.new(msg).digest()


def test_leading_zero_bits(vectors):
    for v in vectors["poet_pow"]["check_leading_zero_bits"]:
        assert check_leading_zero_bits(bytes.fromhex(v["data"]), v["bits"]) is v["ok"]


def test_pow_vectors(vectors):
    for v in vectors["poet_pow"]["vectors"]:
        args = [bytes.fromhex(v[k]) for k in ("pow_challenge", "node_id", "poet_challenge")]
        assert pow_hash(*args, 0).hex() == v["hash_at_nonce_0"]
        if v["difficulty"] <= 12:
            assert find_pow_nonce(*args, v["difficulty"]) == v["nonce"]
        assert pow_hash(*args, v["nonce"]).hex() == v["hash"]
        assert verify_pow(*args, v["nonce"], v["difficulty"])
        if v["difficulty"]:
            assert not verify_pow(*args, v["nonce"] - 1, v["difficulty"])


def _sha_parent(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(left + right).digest()


def test_merkle_library_vectors(vectors):
    for v in vectors["poet_membership"]["library_literal_vectors"]:
        n = int(v["leaves"].split("..")[1])
        leaves = [i.to_bytes(32, "little") for i in range(n + 1)]
        assert merkle.root(leaves, _sha_parent).hex() == v["root"]


def test_membership_vectors(vectors):
    for v in vectors["poet_membership"]["vectors"]:
        members = [bytes.fromhex(m) for m in v["members"]]
        root = bytes.fromhex(v["root"])
        assert merkle.root(members) == root
        for p in v["single_leaf_proofs"]:
            nodes = merkle.prove(members, p["leaf_index"])
            assert [n.hex() for n in nodes] == p["nodes"]
            assert merkle.verify(members[p["leaf_index"]], p["leaf_index"], nodes, root)
            assert not merkle.verify(b"\x09" * 32, p["leaf_index"], nodes, root)
    with pytest.raises(merkle.MembershipError):
        merkle.root([])
    assert not merkle.verify(b"\x00" * 32, 4, [b"\x00" * 32], b"\x00" * 32)


def test_slots_vectors(vectors):
    from appliance.node import eligibility

    for v in vectors["ecvrf"]["slots_vectors"]:
        got = eligibility.num_slots(
            v["weight"], v["min_weight"], v["total_weight"], v["committee_size"], v["layers_per_epoch"]
        )
        assert got == v["slots"]
    e = vectors["ecvrf"]["eligibility_vectors"][0]
    m = e["vrf_message"]
    slots = eligibility.compute_slots(
        bytes.fromhex(e["signer_seed"]),
        bytes.fromhex(m["beacon"]),
        m["epoch"],
        m["nonce"],
        3,
        e["layers_per_epoch"],
    )
    assert [s.layer for s in slots] == [v["eligible_layer"] for v in vectors["ecvrf"]["eligibility_vectors"]]
