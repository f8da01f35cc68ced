"""SCALE primitives and wire messages against the spec's conformance vectors, plus hostile input."""

from __future__ import annotations

import pytest

from appliance.node import wire
from appliance.node.identity import Identity
from appliance.node.scale import Decoder, Encoder, ScaleError, decode_all, encode_compact


def _h(x):
    return bytes.fromhex(x) if x is not None else None


def test_compact_vectors(vectors):
    for v in vectors["scale"]["vectors"]:
        fn, hexed = v["fn"], v["hex"]
        if "error" in v:  # decoder error vectors
            limit = (1 << 32) - 1 if fn.endswith("32") else (1 << 64) - 1
            with pytest.raises(ScaleError):
                decode_all(bytes.fromhex(hexed), lambda d, limit=limit: d.compact(limit))
            continue
        value = v["value"]
        if fn.startswith("EncodeCompact64Ptr"):
            got = Encoder().option(value, lambda e, x: e.compact(x)).bytes()
            assert decode_all(got, lambda d: d.option(lambda d2: d2.compact())) == value
        elif fn.startswith("EncodeCompact"):
            got = encode_compact(value)
            assert decode_all(got, lambda d: d.compact()) == value
        elif "Slice" in fn:
            got = Encoder().slice(value, 100, lambda e, x: e.compact(x)).bytes()
            assert list(decode_all(got, lambda d: d.slice(100, lambda d2: d2.compact()))) == value
        else:  # fixed width ints
            size = {"EncodeByte": 1, "EncodeUint16": 2, "EncodeUint32": 4, "EncodeUint64": 8}[fn.split()[0]]
            got = value.to_bytes(size, "little")
        assert got.hex() == hexed, fn


def test_computed_examples(vectors):
    ex = {v["fn"]: v["hex"] for v in vectors["scale"]["computed_examples"]}
    assert Encoder().byte_slice(b"\x00\x01\x02", 32).bytes().hex() == ex["EncodeByteSliceWithLimit(limit=32)"]
    big = Encoder().byte_slice(b"\xab" * 100, 800).bytes()
    assert big.hex() == ex["EncodeByteSliceWithLimit(limit=800) 100 bytes 0xab"]
    assert Encoder().option(None, lambda e, v: e.raw(v)).bytes().hex() == "00"
    assert Encoder().string("42", 32).bytes().hex() == ex["EncodeStringWithLimit('42', 32)"]


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        ("0100", "non-canonical"),  # 0 encoded in 2-byte mode
        ("02000000", "non-canonical"),
        ("03ffffff00", "non-canonical"),  # fits 4-byte mode
        ("07ffffffff00", "non-canonical"),  # leading zero byte in big mode
        ("17" + "ff" * 9, "too large"),
        ("fd", "truncated"),
    ],
)
def test_compact_rejects(blob, message):
    with pytest.raises(ScaleError, match=message):
        decode_all(bytes.fromhex(blob), lambda d: d.compact())


def test_limits_and_trailing():
    with pytest.raises(ScaleError, match="limit"):
        Encoder().byte_slice(bytes(33), 32)
    with pytest.raises(ScaleError, match="limit"):
        decode_all(Encoder().byte_slice(bytes(33), 64).bytes(), lambda d: d.byte_slice(32))
    with pytest.raises(ScaleError, match="trailing"):
        decode_all(b"\x04\x00", lambda d: d.compact())
    with pytest.raises(ScaleError, match="option flag"):
        decode_all(b"\x02", lambda d: d.option(lambda d2: d2.u8()))
    with pytest.raises(ScaleError, match="expected bytes"):
        Decoder("text")  # type: ignore[arg-type]
    with pytest.raises(ScaleError, match="out of range"):
        encode_compact(-1)
    # a huge declared length does not allocate: it fails on truncation
    with pytest.raises(ScaleError, match="truncated"):
        decode_all(b"\x03\x00\x00\x00\x40", lambda d: d.byte_slice(1 << 32))


def _challenge(c):
    post = c["initial_post"]
    return wire.NIPostChallengeV1(
        c["publish_epoch"],
        c["sequence"],
        _h(c["prev_atx"]),
        _h(c["positioning_atx"]),
        _h(c["commitment_atx"]),
        wire.PostV1(post["nonce"], _h(post["indices"]), post["pow"]) if post else None,
    )


def test_challenge_vectors(vectors):
    for v in vectors["nipost_challenge_v1"]["vectors"]:
        ch = _challenge(v["challenge"])
        assert ch.to_bytes().hex() == v["scale_hex"]
        assert ch.hash().hex() == v["hash"]
        assert wire.NIPostChallengeV1.from_bytes(ch.to_bytes()) == ch


def test_atx_vectors(vectors):
    for v in vectors["atx_v1"]["vectors"]:
        f = v["fields"]
        n = f["nipost"]
        nipost = wire.NIPostV1(
            wire.MerkleProofV1(tuple(_h(x) for x in n["membership"]["nodes"]), n["membership"]["leaf_index"]),
            wire.PostV1(n["post"]["nonce"], _h(n["post"]["indices"]), n["post"]["pow"]),
            wire.PostMetadataV1(_h(n["post_metadata"]["challenge"]), n["post_metadata"]["labels_per_unit"]),
        )
        inner = wire.InnerActivationTxV1(
            _challenge(f["challenge"]), _h(f["coinbase"]), f["num_units"], nipost, None, f["vrf_nonce"]
        )
        me = Identity("t", _h(f["signer_seed"]))
        atx = wire.ActivationTxV1.sign(inner, me, _h(f["genesis_id"]))
        assert atx.inner.to_bytes().hex() == v["inner_scale_hex"]
        assert atx.id().hex() == v["atx_id"]
        assert atx.signed_bytes().hex() == v["atx_metadata_v1_scale_hex (signed msg)"]
        assert atx.signature.hex() == v["signature"]
        assert atx.to_bytes().hex() == v["blob_hex"] and len(atx.to_bytes()) == v["blob_len"]
        decoded = wire.ActivationTxV1.from_bytes(_h(v["blob_hex"]))
        assert decoded == atx and decoded.verify_signature(_h(f["genesis_id"]))
        assert not decoded.verify_signature(bytes(20))
        with pytest.raises(ScaleError):
            wire.ActivationTxV1.from_bytes(_h(v["blob_hex"])[:-1])
        with pytest.raises(ScaleError, match="trailing"):
            wire.ActivationTxV1.from_bytes(_h(v["blob_hex"]) + b"\x00")


def test_poet_proof_ref(vectors):
    pm = vectors["poet_membership"]
    i = pm["poet_proof_ref"]["input"]
    proof = wire.PoetProof(
        _h(i["root"]), tuple(map(_h, i["proven_leaves"])), tuple(map(_h, i["proof_nodes"])), i["leaf_count"]
    )
    assert proof.to_bytes().hex() == pm["poet_proof_ref"]["scale_hex"]
    assert proof.ref().hex() == pm["poet_proof_ref"]["ref"]
    msg_hex = pm["poet_proof_message_without_signature_hex"]
    tail = _h(msg_hex)[len(proof.to_bytes()) :]
    service_id = tail[1:33]
    msg = wire.PoetProofMessage(proof, service_id, "12", tail[-32:], bytes(64))
    assert msg.to_bytes(with_signature=False).hex() == msg_hex
    assert wire.PoetProofMessage.from_bytes(msg.to_bytes()) == msg


def test_vrf_message(vectors):
    for v in vectors["ecvrf"]["eligibility_vectors"]:
        m = v["vrf_message"]
        msg = wire.VrfMessage(_h(m["beacon"]), m["epoch"], m["nonce"], m["counter"], m["type"])
        assert msg.to_bytes().hex() == v["vrf_message_scale_hex"]


def test_proposal_round_trip_and_signatures():
    me = Identity("t", bytes(range(32)))
    gid = bytes(20)
    inner = wire.InnerBallot(7, b"\x11" * 32, epoch_data=wire.EpochData(b"\x22" * 32, b"\x01\x02\x03\x04", 1))
    votes = wire.Votes(b"\x05" * 20, (wire.Vote(b"\x06" * 20, 6, 1),), (), (5,))
    prop = wire.sign_proposal(
        me, gid, inner, votes, (wire.VotingEligibility(0, b"\x07" * 80),), (b"\x08" * 32,), b"\x09" * 32
    )
    assert wire.verify_proposal(prop, gid)
    again = wire.Proposal.from_bytes(prop.to_bytes())
    assert again == prop and wire.verify_proposal(again, gid)
    assert len(prop.id()) == 20 and len(prop.ballot.id()) == 20
    tampered = wire.Proposal(prop.ballot, (), prop.mesh_hash, prop.signature)
    assert not wire.verify_proposal(tampered, gid)
