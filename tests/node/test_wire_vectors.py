"""The node's codec and the devnet's independent decoder against vectors derived by hand from the Go
encoders (``tests/node/vectors/wire.json``, see ``derive.py`` there for the segment-by-segment notes)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from appliance.devnet import gowire
from appliance.node import wire
from appliance.node.identity import Identity
from appliance.node.scale import Decoder, ScaleError, decode_all

VECTORS = json.loads((Path(__file__).with_name("vectors") / "wire.json").read_text())
META = VECTORS["_meta"]
GENESIS_ID = bytes.fromhex(META["genesis_id"])
H = bytes.fromhex


@pytest.fixture(scope="module")
def signer() -> Identity:
    ident = Identity("vectors", H(META["signer_seed"]))
    assert ident.node_id.hex() == META["node_id"]
    return ident


def _by_name(group: str, name: str) -> dict:
    return next(v for v in VECTORS[group] if v["name"] == name)


def test_segments_add_up() -> None:
    for group in ("challenges", "atx", "ballots", "certificates"):
        for v in VECTORS[group]:
            assert "".join(s[2] for s in v["segments"]) == v["hex"], v["name"]


@pytest.mark.parametrize("vector", VECTORS["challenges"], ids=lambda v: v["name"])
def test_challenges(vector: dict) -> None:
    blob = H(vector["hex"])
    cls = wire.NIPostChallengeV1 if vector["version"] == 1 else wire.NIPostChallengeV2
    challenge = cls.from_bytes(blob)
    assert challenge.to_bytes() == blob and challenge.hash().hex() == vector["hash"]


def test_challenge_v2_from_fields() -> None:
    post = wire.PostV1(7, bytes(range(1, 41)), 123456789)
    built = wire.NIPostChallengeV2(45, wire.EMPTY_ID, b"\x11" * 32, post)
    assert built.to_bytes().hex() == _by_name("challenges", "NIPostChallengeV2 initial")["hex"]


def test_atx_v1_with_new_vrf_nonce(signer: Identity) -> None:
    v = _by_name("atx", "ActivationTxV1 non-initial with a new VRF nonce")
    atx = wire.ActivationTxV1.from_bytes(H(v["hex"]))
    assert atx.inner.vrf_nonce == 424242 and atx.id().hex() == v["id"]
    assert atx.signed_bytes().hex() == v["signed_bytes"] and atx.verify_signature(GENESIS_ID)
    assert wire.ActivationTxV1.sign(atx.inner, signer, GENESIS_ID).to_bytes() == H(v["hex"])
    go = gowire.decode_atx_v1(H(v["hex"]))
    assert go.id().hex() == v["id"] and go.vrf_nonce == 424242 and go.num_units == 6
    assert go.challenge_hash() == atx.inner.challenge.hash()


@pytest.mark.parametrize("initial", [True, False], ids=["initial", "non-initial"])
def test_atx_v2(signer: Identity, initial: bool) -> None:
    v = _by_name("atx", f"ActivationTxV2 solo {'initial' if initial else 'non-initial'}")
    blob = H(v["hex"])
    atx = wire.ActivationTxV2.from_bytes(blob)
    assert atx.to_bytes() == blob and atx.id().hex() == v["id"] and atx.verify_signature(GENESIS_ID)
    # built from the fields, the node's encoder gives the same bytes
    indices = bytes(range(1, 41))
    nipost = wire.NiPostsV2(
        (b"\x66" * 32, b"\x77" * 32),
        b"\x55" * 32,
        (wire.SubPostV2(0, 0, 3, wire.PostV1(3, indices, 987654321), 4),),
    )
    unsigned = wire.ActivationTxV2(
        45 if initial else 46,
        b"\x11" * 32,
        bytes(4) + b"\x44" * 20,
        (b"\x22" * 32, wire.PostV1(7, indices, 123456789)) if initial else None,
        () if initial else (b"\x33" * 32,),
        (nipost,),
        424242 if initial else 5_000_000_000,
    )
    assert wire.ActivationTxV2.sign(unsigned, signer, GENESIS_ID).to_bytes() == blob
    go = gowire.decode_atx_v2(blob)
    assert go.id().hex() == v["id"] and go.signed_message() == atx.id()
    assert go.total_num_units == 4 and go.vrf_nonce == atx.vrf_nonce
    prev = wire.EMPTY_ID if initial else b"\x33" * 32
    challenge = wire.NIPostChallengeV2(
        atx.publish_epoch, prev, atx.positioning_atx, atx.initial and atx.initial[1]
    )
    assert go.challenge_hash(prev) == challenge.hash()


def test_atx_version_by_publish_epoch() -> None:
    v2 = H(_by_name("atx", "ActivationTxV2 solo initial")["hex"])
    assert gowire.atx_version(v2, 45) == 2 and gowire.atx_version(v2, 46) == 1
    assert gowire.atx_version(v2, None) == 1
    with pytest.raises(gowire.WireError):  # a v2 blob read as v1 does not parse
        gowire.decode_atx_v1(v2)


@pytest.mark.parametrize("index", [0, 1], ids=["reference", "secondary"])
def test_ballots(signer: Identity, index: int) -> None:
    v = VECTORS["ballots"][index]
    blob = H(v["hex"])
    ballot = decode_all(blob, wire.Ballot.read)
    assert ballot.to_bytes() == blob and ballot.active_set == ()
    assert ballot.id().hex() == v["id"] and ballot.signed_bytes().hex() == v["signed_bytes"]
    assert ballot.inner.to_bytes().hex() == v["inner_hex"]
    assert (ballot.inner.epoch_data is None) == (index == 1)
    # the Go decoder reads it the same way, and a decoder that stops before ActiveSet leaves a byte
    go = gowire._decode(blob, gowire._ballot)
    assert go.id().hex() == v["id"] and go.signed_message().hex() == v["signed_bytes"]
    assert go.abstain == [111] and [(s.layer, s.height) for s in go.support] == [(110, 330)]
    assert [j for j, _ in go.eligibilities] == [0, 3]
    with pytest.raises(ScaleError, match="trailing"):
        decode_all(blob + b"\x00", wire.Ballot.read)


def test_proposal(signer: Identity) -> None:
    v = VECTORS["ballots"][2]
    blob = H(v["hex"])
    proposal = wire.Proposal.from_bytes(blob)
    assert proposal.to_bytes() == blob and proposal.id().hex() == v["id"]
    assert proposal.signed_bytes().hex() == v["signed_bytes"] and wire.verify_proposal(proposal, GENESIS_ID)
    b = proposal.ballot
    rebuilt = wire.sign_proposal(
        signer, GENESIS_ID, b.inner, b.votes, b.eligibility_proofs, proposal.tx_ids, proposal.mesh_hash
    )
    assert rebuilt.to_bytes() == blob  # ed25519 is deterministic: the same signatures
    go = gowire.decode_proposal(blob)
    assert go.id().hex() == v["id"] and go.ballot.id() == b.id() and go.inner + go.signature == blob


def test_poet_proof_ref() -> None:
    v = VECTORS["poet_proof"]
    proof = decode_all(H(v["hex"]), wire.PoetProof.read)
    assert proof.to_bytes().hex() == v["hex"] and proof.ref().hex() == v["ref"]
    message = wire.PoetProofMessage(proof, b"\x01" * 32, "12", b"\x02" * 32)
    go = gowire.decode_poet_proof_message(message.to_bytes())
    assert go.ref().hex() == v["ref"] and go.round_id == "12" and go.leaf_count == proof.leaf_count


@pytest.mark.parametrize("vector", VECTORS["certificates"], ids=lambda v: v["name"])
def test_certificates(vector: dict) -> None:
    pubkey, expiration = gowire.decode_certificate(H(vector["hex"]))
    assert pubkey.hex() == META["node_id"] and expiration == vector["expiration"]
    assert gowire.encode_certificate(pubkey, expiration).hex() == vector["hex"]
    dec = Decoder(H(vector["hex"]))
    assert dec.byte_slice(32) == pubkey and dec.option(lambda d: d.compact()) == expiration


def test_go_leniencies_differ_from_the_node_codec() -> None:
    """go-scale reads an option flag other than 1 as absent and accepts a long-mode compact with a
    leading zero byte; the devnet follows Go, the node's own decoder stays strict."""
    assert gowire._decode(b"\x02", lambda d: d.option(lambda x: x.compact32())) is None
    assert gowire._decode(bytes.fromhex("07ffffffff00"), lambda d: d.compact64()) == 0xFFFFFFFF
    with pytest.raises(ScaleError):
        decode_all(bytes.fromhex("07ffffffff00"), lambda d: d.compact())
    with pytest.raises(gowire.WireError, match="left over"):
        gowire.decode_certificate(H(VECTORS["certificates"][1]["hex"]) + b"\x00")


def test_devnet_judge_does_not_import_the_node_codec() -> None:
    devnet = Path(gowire.__file__).parent
    for path in devnet.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not names & {
            "appliance.node.wire",
            "appliance.node.scale",
            "appliance.node.merkle",
            "appliance.node.eligibility",
        }, path
