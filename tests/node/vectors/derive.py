"""Derives ``wire.json``: byte-exact vectors written out segment by segment from the Go encoders.

Each vector lists, in order, the segments the generated ``EncodeScale`` writes (go-spacemesh @
cc65f271f3e21b519532f2924ab227ccf352c2de ``activation/wire/*_scale.go``, ``common/types/
ballot_scale.go``, ``proposal_scale.go``, ``poet_scale.go``; poet @ 3bff6482 ``shared/shared.go``,
``shared/cert_scale.go``; go-scale @ 590f84cf ``encoder.go``): the Go field, the go-scale call and
the bytes, spelled out by hand here (small compacts as literal hex, the mode rules in ``_compact``)
without either codec under test. Hashes use blake3 directly; the v2 ATX id uses a ten-line
spacemeshos/merkle-tree fold. Run ``python tests/node/vectors/derive.py`` to rewrite the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import blake3
import nacl.signing

OUT = Path(__file__).with_name("wire.json")
SEED = bytes(range(32))  # the signer of every vector
GENESIS_ID = bytes.fromhex("9eebff023abb17ccb775c602daade8ed708f0a50")
KEY = nacl.signing.SigningKey(SEED)
NODE_ID = bytes(KEY.verify_key)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def b3(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


def _compact(v: int) -> bytes:
    """go-scale EncodeCompact*: 0b00 single byte < 2^6, 0b01 two bytes < 2^14, 0b10 four bytes
    < 2^30, else 0b11 with (len-4) in the upper bits followed by the minimal little-endian bytes."""
    if v < 1 << 6:
        return bytes([v << 2])
    if v < 1 << 14:
        return (v << 2 | 1).to_bytes(2, "little")
    if v < 1 << 30:
        return (v << 2 | 2).to_bytes(4, "little")
    raw = v.to_bytes((v.bit_length() + 7) // 8, "little")
    return bytes([(len(raw) - 4) << 2 | 3]) + raw


def _root(leaves: list[bytes]) -> bytes:
    """merkle-tree Root with atxTreeHash (blake3(0x01 ‖ l ‖ r)), zero padding for a lone node."""
    while len(leaves) > 1:
        if len(leaves) % 2:
            leaves = [*leaves, bytes(32)]
        leaves = [b3(b"\x01" + leaves[i] + leaves[i + 1]) for i in range(0, len(leaves), 2)]
    return leaves[0]


class Vector:
    def __init__(self, name: str, source: str) -> None:
        self.name, self.source, self.segments = name, source, []

    def add(self, field: str, call: str, data: bytes) -> Vector:
        self.segments.append([field, call, data.hex()])
        return self

    @property
    def blob(self) -> bytes:
        return b"".join(bytes.fromhex(s[2]) for s in self.segments)

    def json(self, **extra) -> dict:
        return {
            "name": self.name,
            "source": self.source,
            "segments": self.segments,
            "hex": self.blob.hex(),
            **extra,
        }


def sign(domain: int, message: bytes) -> bytes:
    """signing.EdSigner.Sign: ed25519 over GenesisID ‖ domain ‖ message."""
    return KEY.sign(GENESIS_ID + bytes([domain]) + message).signature


POSITIONING = h("11" * 32)
COMMITMENT = h("22" * 32)
PREV = h("33" * 32)
COINBASE = h("00000000") + h("44" * 20)
INDICES = bytes(range(1, 41))  # 40 bytes
POET_REF = h("55" * 32)


def post_segments(v: Vector, prefix: str, nonce: int, indices: bytes, pow_: int) -> None:
    v.add(f"{prefix}.Nonce", "EncodeCompact32", _compact(nonce))
    v.add(f"{prefix}.Indices", "EncodeByteSliceWithLimit(800)", _compact(len(indices)) + indices)
    v.add(f"{prefix}.Pow", "EncodeCompact64", _compact(pow_))


def post_root(nonce: int, indices: bytes, pow_: int) -> bytes:
    return _root([nonce.to_bytes(4, "little"), indices, pow_.to_bytes(8, "little")])


def challenges() -> list[dict]:
    out = []
    v = Vector("NIPostChallengeV1 non-initial", "activation/wire/challenge_v1_scale.go")
    v.add("PublishEpoch", "EncodeCompact32", h("0c"))  # 3
    v.add("Sequence", "EncodeCompact64", h("08"))  # 2
    v.add("PrevATXID", "EncodeByteArray", PREV).add("PositioningATXID", "EncodeByteArray", POSITIONING)
    v.add("CommitmentATXID", "EncodeOption (nil)", h("00")).add("InitialPost", "EncodeOption (nil)", h("00"))
    out.append(v.json(hash=b3(b"\x00" + v.blob).hex(), version=1))
    v = Vector("NIPostChallengeV2 initial", "activation/wire/challenge_v2_scale.go")
    v.add("PublishEpoch", "EncodeCompact32", h("b4"))  # 45 < 64: single-byte mode, 45 << 2
    v.add("PrevATXID", "EncodeByteArray", bytes(32)).add("PositioningATXID", "EncodeByteArray", POSITIONING)
    v.add("InitialPost", "EncodeOption", h("01"))
    post_segments(v, "InitialPost", 7, INDICES, 123456789)
    out.append(v.json(hash=b3(b"\x00" + v.blob).hex(), version=2))
    v = Vector("NIPostChallengeV2 non-initial", "activation/wire/challenge_v2_scale.go")
    v.add("PublishEpoch", "EncodeCompact32", h("b8"))  # 46 << 2
    v.add("PrevATXID", "EncodeByteArray", PREV).add("PositioningATXID", "EncodeByteArray", POSITIONING)
    v.add("InitialPost", "EncodeOption (nil)", h("00"))
    out.append(v.json(hash=b3(b"\x00" + v.blob).hex(), version=2))
    return out


def atx_v1_grown() -> dict:
    """A non-initial v1 ATX whose NumUnits grew: it carries VRFNonce (Option<compact64>)."""
    v = Vector("ActivationTxV1 non-initial with a new VRF nonce", "activation/wire/wire_v1_scale.go")
    v.add("PublishEpoch", "EncodeCompact32", h("0c")).add("Sequence", "EncodeCompact64", h("08"))
    v.add("PrevATXID", "EncodeByteArray", PREV).add("PositioningATXID", "EncodeByteArray", POSITIONING)
    v.add("CommitmentATXID", "EncodeOption (nil)", h("00")).add("InitialPost", "EncodeOption (nil)", h("00"))
    v.add("Coinbase", "EncodeByteArray", COINBASE).add("NumUnits", "EncodeCompact32", h("18"))  # 6
    v.add("NIPost", "EncodeOption", h("01"))
    v.add("NIPost.Membership.Nodes", "EncodeStructSliceWithLimit(32)", h("04") + h("66" * 32))
    v.add("NIPost.Membership.LeafIndex", "EncodeCompact64", h("04"))  # 1
    v.add("NIPost.Post", "EncodeOption", h("01"))
    post_segments(v, "NIPost.Post", 3, INDICES, 987654321)
    v.add("NIPost.PostMetadata", "EncodeOption", h("01"))
    v.add("NIPost.PostMetadata.Challenge", "EncodeByteSliceWithLimit(32)", h("80") + POET_REF)
    v.add("NIPost.PostMetadata.LabelsPerUnit", "EncodeCompact64", h("01 10"))  # 1024: 0x1001 LE
    v.add("NodeID", "EncodeOption (nil)", h("00"))
    v.add("VRFNonce", "EncodeCompact64Ptr", h("01") + _compact(424242))
    inner = v.blob
    atx_id = b3(inner)
    signed = _compact(3) + atx_id  # ATXMetadataV1{Publish, MsgHash}
    sig = sign(0, signed)
    v.add("SmesherID", "EncodeByteArray", NODE_ID).add("Signature", "EncodeByteArray", sig)
    return v.json(id=atx_id.hex(), signed_bytes=signed.hex(), version=1)


def atx_v2(initial: bool) -> dict:
    kind = "initial" if initial else "non-initial"
    v = Vector(f"ActivationTxV2 solo {kind}", "activation/wire/wire_v2_scale.go, wire_v2.go (ID)")
    publish = 45 if initial else 46
    v.add("PublishEpoch", "EncodeCompact32", _compact(publish))
    v.add("PositioningATX", "EncodeByteArray", POSITIONING).add("Coinbase", "EncodeByteArray", COINBASE)
    if initial:
        v.add("Initial", "EncodeOption", h("01")).add("Initial.CommitmentATX", "EncodeByteArray", COMMITMENT)
        post_segments(v, "Initial.Post", 7, INDICES, 123456789)
        v.add("PreviousATXs", "EncodeStructSliceWithLimit(256)", h("00"))
        previous = []
    else:
        v.add("Initial", "EncodeOption (nil)", h("00"))
        v.add("PreviousATXs", "EncodeStructSliceWithLimit(256)", h("04") + PREV)
        previous = [PREV]
    nodes = [h("66" * 32), h("77" * 32)]
    v.add("NiPosts", "EncodeStructSliceWithLimit(4)", h("04"))
    v.add("NiPosts[0].Membership.Nodes", "EncodeStructSliceWithLimit(32)", h("08") + b"".join(nodes))
    v.add("NiPosts[0].Challenge", "EncodeByteArray", POET_REF)
    v.add("NiPosts[0].Posts", "EncodeStructSliceWithLimit(256)", h("04"))
    v.add("Posts[0].MarriageIndex", "EncodeCompact32", h("00")).add(
        "Posts[0].PrevATXIndex", "EncodeCompact32", h("00")
    )
    v.add("Posts[0].MembershipLeafIndex", "EncodeCompact64", h("0c"))  # 3
    post_segments(v, "Posts[0].Post", 3, INDICES, 987654321)
    v.add("Posts[0].NumUnits", "EncodeCompact32", h("10"))  # 4
    nonce = 424242 if initial else 5_000_000_000
    v.add("VRFNonce", "EncodeCompact64", _compact(nonce))
    v.add("Marriages", "EncodeStructSliceWithLimit(256)", h("00")).add(
        "MarriageATX", "EncodeOption (nil)", h("00")
    )
    # ID: wire_v2.go merkleTree, leaf by leaf
    u64 = lambda x: x.to_bytes(8, "little") + bytes(24)  # noqa: E731 - a Hash32 holding a LE uint64
    initial_root = _root([COMMITMENT, post_root(7, INDICES, 123456789)]) if initial else bytes(32)
    posts_leaves = [bytes(32)] * 255  # the loop pads Posts up to 256 with EmptyHash32
    if not initial:
        sub_fields = [(0).to_bytes(4, "little"), PREV, u64(3), post_root(3, INDICES, 987654321)]
        posts_leaves = [_root([*sub_fields, (4).to_bytes(4, "little")]), *posts_leaves]
    # initial: SubPostV2.Root returns nil (PrevATXIndex 0 >= len(PreviousATXs) = 0) and merkle-tree's
    # AddLeaf(nil) leaves nothing parked, so the tree holds only the 255 padding leaves
    membership = _compact(len(nodes)) + b"".join(nodes)  # codec.MustEncode(&np.Membership)
    nipost_root = _root([membership, POET_REF, _root(posts_leaves)])
    atx_id = _root(
        [
            u64(publish),
            POSITIONING,
            COINBASE,
            initial_root,
            _root(previous + [bytes(32)] * (256 - len(previous))),
            _root([nipost_root] + [bytes(32)] * 3),
            u64(nonce),
            _root([bytes(32)] * 256),
            bytes(32),
        ]
    )
    sig = sign(0, atx_id)  # ActivationTxV2.Sign: signer.Sign(signing.ATX, atx.ID().Bytes())
    v.add("SmesherID", "EncodeByteArray", NODE_ID).add("Signature", "EncodeByteArray", sig)
    return v.json(id=atx_id.hex(), version=2)


def ballots() -> list[dict]:
    out = []
    beacon, active_hash = h("0a0b0c0d"), h("88" * 32)
    atx_id, opinion = h("99" * 32), h("aa" * 32)
    block = h("bb" * 20)
    vrf = [bytes([0x30 + i]) * 80 for i in range(2)]
    for ref in (False, True):
        kind = "secondary (RefBallot)" if ref else "reference (EpochData)"
        v = Vector(f"Ballot {kind}", "common/types/ballot_scale.go")
        v.add("Layer", "EncodeCompact32", h("c1 01"))  # 112: 112 << 2 | 1 = 0x1c1
        v.add("AtxID", "EncodeByteArray", atx_id).add("OpinionHash", "EncodeByteArray", opinion)
        if ref:
            v.add("RefBallot", "EncodeByteArray", h("cc" * 20)).add(
                "EpochData", "EncodeOption (nil)", h("00")
            )
        else:
            v.add("RefBallot", "EncodeByteArray", bytes(20)).add("EpochData", "EncodeOption", h("01"))
            v.add("EpochData.ActiveSetHash", "EncodeByteArray", active_hash)
            v.add("EpochData.Beacon", "EncodeByteArray", beacon)
            v.add("EpochData.EligibilityCount", "EncodeCompact32", h("14"))  # 5
        inner = v.blob
        ballot_id = b3(inner)[:20]  # Ballot.Initialize
        signed = h("c1 01") + b3(inner)  # BallotMetadata{Layer, MsgHash}
        v.add("Signature", "EncodeByteArray", sign(2, signed)).add("SmesherID", "EncodeByteArray", NODE_ID)
        v.add("Votes.Base", "EncodeByteArray", h("dd" * 20))
        # Support: one BlockHeader{ID [20], LayerID compact32 110, Height compact64 330}
        v.add("Votes.Support", "EncodeStructSliceWithLimit(10000)", h("04") + block + h("b9 01") + h("29 05"))
        v.add("Votes.Against", "EncodeStructSliceWithLimit(10000)", h("00"))
        v.add("Votes.Abstain", "EncodeStructSliceWithLimit(10000)", h("04") + h("bd 01"))  # [111]
        v.add(
            "EligibilityProofs",
            "EncodeStructSliceWithLimit(25000)",
            h("08") + h("00") + vrf[0] + h("0c") + vrf[1],  # {J 0, Sig}, {J 3, Sig}
        )
        v.add("ActiveSet", "EncodeStructSliceWithLimit(1)", h("00"))
        out.append(v.json(id=ballot_id.hex(), signed_bytes=signed.hex(), inner_hex=inner.hex()))
    # the proposal around the reference ballot
    ballot = out[0]
    v = Vector("Proposal", "common/types/proposal_scale.go")
    v.add("Ballot", "(Ballot).EncodeScale", bytes.fromhex(ballot["hex"]))
    v.add("TxIDs", "EncodeStructSliceWithLimit(100000)", h("04") + h("ee" * 32))
    v.add("MeshHash", "EncodeByteArray", h("ff" * 32))
    inner = v.blob
    signed = h("c1 01") + b3(inner)
    v.add("Signature", "EncodeByteArray", sign(1, signed))
    out.append(v.json(id=b3(signed)[:20].hex(), signed_bytes=signed.hex()))
    return out


def poet_and_cert() -> list[dict]:
    v = Vector("PoetProof (reference)", "common/types/poet_scale.go, poet shared/shared.go MerkleProof")
    v.add("MerkleProof.Root", "EncodeByteSliceWithLimit(32)", h("80") + h("12" * 32))
    v.add(
        "MerkleProof.ProvenLeaves",
        "EncodeLen(150) + EncodeByteSliceWithLimit(32) each",
        h("04 80") + h("34" * 32),
    )
    v.add(
        "MerkleProof.ProofNodes",
        "EncodeLen(5400) + EncodeByteSliceWithLimit(32) each",
        h("08 80") + h("56" * 32) + h("80") + h("78" * 32),
    )
    v.add("LeafCount", "EncodeCompact64", _compact(9_331_200 * 2))
    poet = v.json(ref=b3(v.blob).hex())
    c1 = Vector("CertOnWire with expiration", "poet shared/cert_scale.go")
    c1.add("Pubkey", "EncodeByteSliceWithLimit(32)", h("80") + NODE_ID)
    c1.add("Expiration", "EncodeOption", h("01")).add(
        "Expiration.Inner", "EncodeCompact64", _compact(1_900_000_000)
    )
    c2 = Vector("CertOnWire without expiration", "poet shared/cert_scale.go")
    c2.add("Pubkey", "EncodeByteSliceWithLimit(32)", h("80") + NODE_ID).add(
        "Expiration", "EncodeOption (nil)", h("00")
    )
    return [poet, c1.json(expiration=1_900_000_000), c2.json(expiration=None)]


def main() -> None:
    doc = {
        "_meta": {
            "sources": {
                "go-spacemesh": "cc65f271f3e21b519532f2924ab227ccf352c2de",
                "poet": "3bff6482852a2d1eacaf4b837b2e5844c55beff8",
                "go-scale": "590f84cf0ab94f18be329a51422d5541569f3a10",
                "merkle-tree": "43eac1e89f82fd544101d24922539602b254b583",
            },
            "signer_seed": SEED.hex(),
            "node_id": NODE_ID.hex(),
            "genesis_id": GENESIS_ID.hex(),
            "derivation": "tests/node/vectors/derive.py (segments by hand from the Go encoders)",
        },
        "challenges": challenges(),
        "atx": [atx_v1_grown(), atx_v2(True), atx_v2(False)],
        "ballots": ballots(),
        "poet_proof": poet_and_cert()[0],
        "certificates": poet_and_cert()[1:],
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
