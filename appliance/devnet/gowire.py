"""The devnet judge's own reading of go-spacemesh's wire layouts, written from the Go structs.

It shares no code with the light node's codec (``appliance.node.wire`` / ``scale``): a mistake made
twice in the same place would otherwise pass both the producer and the judge. Each decoder follows
the scalegen output field by field (go-spacemesh @ cc65f271f3e21b519532f2924ab227ccf352c2de,
go-scale @ 590f84cf0ab94f18be329a51422d5541569f3a10) and keeps go-scale's own leniencies (an option
flag other than 1 reads as "absent", ``DecodeBool``), its compact range checks and
``codec.Decode``'s refusal of trailing bytes. Ids, signed bytes and Merkle roots follow the Go
methods cited next to each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import blake3

T = TypeVar("T")


class WireError(ValueError):
    """The bytes do not decode as the Go type would."""


def b3(*parts: bytes) -> bytes:
    h = blake3.blake3()
    for part in parts:
        h.update(part)
    return h.digest()


class GoDecoder:
    """go-scale's ``Decoder`` over one byte string."""

    def __init__(self, blob: bytes) -> None:
        self.blob = bytes(blob)
        self.at = 0

    def read(self, n: int) -> bytes:
        if self.at + n > len(self.blob):
            raise WireError(f"unexpected EOF at byte {self.at} (wanted {n} more)")
        chunk = self.blob[self.at : self.at + n]
        self.at += n
        return chunk

    def _compact(self, max_bytes: int) -> int:
        head = self.read(1)[0]
        mode = head & 3
        if mode == 0:
            return head >> 2
        if mode == 1:
            value = int.from_bytes(bytes([head]) + self.read(1), "little") >> 2
            if not 63 < value <= 16383:
                raise WireError(f"value {value} is out of range")
            return value
        if mode == 2:
            value = int.from_bytes(bytes([head]) + self.read(3), "little") >> 2
            if not 16383 < value <= (1 << 30) - 1:
                raise WireError(f"value {value} is out of range")
            return value
        needed = (head >> 2) + 4
        if needed > max_bytes:
            raise WireError(f"invalid compact{max_bytes * 8} needs {needed} bytes")
        value = int.from_bytes(self.read(needed), "little")
        if value <= (1 << 30) - 1:  # go-scale only checks the lower bound in this mode
            raise WireError(f"value {value} is out of range")
        return value

    def compact32(self) -> int:  # DecodeCompact32
        return self._compact(4)

    def compact64(self) -> int:  # DecodeCompact64
        return self._compact(8)

    def array(self, n: int) -> bytes:  # DecodeByteArray
        return self.read(n)

    def length(self, limit: int) -> int:  # DecodeLen
        n = self.compact32()
        if n > limit:
            raise WireError(
                f"too many elements to decode in collection with scale limit set: ({n} > {limit})"
            )
        return n

    def byte_slice(self, limit: int) -> bytes:  # DecodeByteSliceWithLimit
        return self.read(self.length(limit))

    def option(self, read: Callable[[GoDecoder], T]) -> T | None:  # DecodeOption: DecodeBool, then value
        return read(self) if self.read(1)[0] == 1 else None

    def slice(self, limit: int, read: Callable[[GoDecoder], T]) -> list[T]:  # DecodeStructSliceWithLimit
        return [read(self) for _ in range(self.length(limit))]

    def finish(self) -> None:  # codec.Decode: n != len(buf) -> ErrShortRead
        if self.at != len(self.blob):
            raise WireError(f"{len(self.blob) - self.at} bytes left over after the message")


def _decode(blob: bytes, read: Callable[[GoDecoder], T]) -> T:
    dec = GoDecoder(blob)
    value = read(dec)
    dec.finish()
    return value


def compact_bytes(value: int) -> bytes:
    """go-scale ``EncodeCompact64`` (used to rebuild the few small encodings that are hashed)."""
    if value <= 63:
        return bytes([value << 2])
    if value <= 16383:
        return ((value << 2) | 1).to_bytes(2, "little")
    if value <= (1 << 30) - 1:
        return ((value << 2) | 2).to_bytes(4, "little")
    raw = value.to_bytes((value.bit_length() + 7) // 8, "little")
    return bytes([((len(raw) - 4) << 2) | 3]) + raw


# ---- Merkle trees (spacemeshos/merkle-tree @ 43eac1e89f82fd544101d24922539602b254b583)


def tree_parent(left: bytes, right: bytes) -> bytes:
    """``atxTreeHash`` (wire_v2.go) and poet's ``HashMembershipTreeNode``: blake3(0x01 ‖ l ‖ r)."""
    return b3(b"\x01", left, right)


def tree_root(leaves: list[bytes], width: int = 0) -> bytes:
    """``Tree.Root``: leaves are used as given; an unpaired node is hashed with 32 zero bytes
    (``PaddingValue``); ``width`` appends zero leaves first (wire_v2.go pads lists to their max)."""
    level = list(leaves) + [bytes(32)] * max(0, width - len(leaves))
    if not level:
        return b""
    while len(level) > 1:
        if len(level) % 2:
            level.append(bytes(32))
        level = [tree_parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def path_root(leaf: bytes, index: int, siblings: list[bytes]) -> bytes | None:
    """Folds a single-leaf membership proof (``validateMerkleProof``); None if the index is too big."""
    if index >> len(siblings):
        return None
    node = leaf
    for sibling in siblings:
        node = tree_parent(node, sibling) if index % 2 == 0 else tree_parent(sibling, node)
        index //= 2
    return node


# ---- ATX v1 (activation/wire/wire_v1.go, challenge_v1.go and their _scale.go)


@dataclass
class GoPost:
    nonce: int
    indices: bytes
    pow: int

    def root(self) -> bytes:  # PostV1.Root
        return tree_root([self.nonce.to_bytes(4, "little"), self.indices, self.pow.to_bytes(8, "little")])


def _post_option(post: GoPost | None) -> bytes:
    """``EncodeOption(*PostV1)``: 0x00, or 0x01 ‖ compact32 nonce ‖ byte slice indices ‖ compact64 pow."""
    if post is None:
        return b"\x00"
    return (
        b"\x01"
        + compact_bytes(post.nonce)
        + compact_bytes(len(post.indices))
        + post.indices
        + compact_bytes(post.pow)
    )


def _post(d: GoDecoder) -> GoPost:  # PostV1: Compact32 Nonce, ByteSlice(800) Indices, Compact64 Pow
    return GoPost(d.compact32(), d.byte_slice(800), d.compact64())


@dataclass
class GoAtxV1:
    version: int
    publish_epoch: int
    sequence: int
    prev_atx: bytes
    positioning_atx: bytes
    commitment_atx: bytes | None
    initial_post: GoPost | None
    coinbase: bytes
    num_units: int
    membership_nodes: list[bytes] | None
    leaf_index: int
    post: GoPost | None
    post_challenge: bytes | None  # PostMetadataV1.Challenge
    labels_per_unit: int | None
    node_id: bytes | None
    vrf_nonce: int | None
    smesher_id: bytes
    signature: bytes
    inner_len: int  # scale(InnerActivationTxV1) is the blob without SmesherID and Signature
    blob: bytes

    def id(self) -> bytes:  # ActivationTxV1.ID = HashInnerBytes
        return b3(self.blob[: self.inner_len])

    def signed_message(self) -> bytes:  # SignedBytes: scale(ATXMetadataV1{Publish, MsgHash})
        return compact_bytes(self.publish_epoch) + self.id()

    def challenge_hash(self) -> bytes:  # NIPostChallengeV1.Hash: blake3(0x00 ‖ scale(challenge))
        enc = compact_bytes(self.publish_epoch) + compact_bytes(self.sequence) + self.prev_atx
        enc += self.positioning_atx
        enc += b"\x01" + self.commitment_atx if self.commitment_atx is not None else b"\x00"
        return b3(b"\x00", enc + _post_option(self.initial_post))


def decode_atx_v1(blob: bytes) -> GoAtxV1:
    def read(d: GoDecoder) -> GoAtxV1:
        publish, seq = d.compact32(), d.compact64()
        prev, positioning = d.array(32), d.array(32)
        commitment = d.option(lambda x: x.array(32))
        initial_post = d.option(_post)
        coinbase, num_units = d.array(24), d.compact32()
        nipost = d.option(
            lambda x: (
                x.slice(32, lambda y: y.array(32)),
                x.compact64(),
                x.option(_post),
                x.option(lambda y: (y.byte_slice(32), y.compact64())),
            )
        )
        node_id = d.option(lambda x: x.array(32))
        vrf = d.option(lambda x: x.compact64())  # EncodeCompact64Ptr
        inner_len = d.at
        smesher, sig = d.array(32), d.array(64)
        nodes, leaf, post, meta = nipost if nipost is not None else (None, 0, None, None)
        return GoAtxV1(
            1, publish, seq, prev, positioning, commitment, initial_post, coinbase, num_units, nodes, leaf,
            post, meta[0] if meta else None, meta[1] if meta else None, node_id, vrf, smesher, sig,
            inner_len, blob,
        )  # fmt: skip

    return _decode(blob, read)


# ---- ATX v2 (activation/wire/wire_v2.go, challenge_v2.go and their _scale.go)


@dataclass
class GoSubPost:
    marriage_index: int
    prev_atx_index: int
    membership_leaf_index: int
    post: GoPost
    num_units: int


@dataclass
class GoNiPost:
    membership_nodes: list[bytes]
    challenge: bytes
    posts: list[GoSubPost]


@dataclass
class GoAtxV2:
    version: int
    publish_epoch: int
    positioning_atx: bytes
    coinbase: bytes
    commitment_atx: bytes | None  # InitialAtxPartsV2.CommitmentATX
    initial_post: GoPost | None  # InitialAtxPartsV2.Post
    previous_atxs: list[bytes]
    niposts: list[GoNiPost]
    vrf_nonce: int
    marriages: list[tuple[bytes, bytes]]
    marriage_atx: bytes | None
    smesher_id: bytes
    signature: bytes
    blob: bytes = b""

    def _u64_leaf(self, value: int) -> bytes:
        return value.to_bytes(8, "little").ljust(32, b"\x00")

    def id(self) -> bytes:
        """``ActivationTxV2.ID``: the 9-leaf ``merkleTree`` of the fields."""
        initial = bytes(32)
        if self.initial_post is not None and self.commitment_atx is not None:
            initial = tree_root([self.commitment_atx, self.initial_post.root()])
        nipost_roots = []
        for np_ in self.niposts:
            membership = compact_bytes(len(np_.membership_nodes)) + b"".join(np_.membership_nodes)
            posts = []
            for sp in np_.posts:
                if sp.prev_atx_index >= len(self.previous_atxs):
                    # Go's root is nil and AddLeaf(nil) parks nothing; with only zero padding after
                    # it (a solo ATX) that equals one more zero leaf
                    posts.append(bytes(32))
                    continue
                posts.append(
                    tree_root(
                        [
                            sp.marriage_index.to_bytes(4, "little"),
                            self.previous_atxs[sp.prev_atx_index],
                            self._u64_leaf(sp.membership_leaf_index),
                            sp.post.root(),
                            sp.num_units.to_bytes(4, "little"),
                        ]
                    )
                )
            nipost_roots.append(tree_root([membership, np_.challenge, tree_root(posts, 256)]))
        return tree_root(
            [
                self._u64_leaf(self.publish_epoch),
                self.positioning_atx,
                self.coinbase,
                initial,
                tree_root(list(self.previous_atxs), 256),
                tree_root(nipost_roots, 4),
                self._u64_leaf(self.vrf_nonce),
                tree_root([tree_root([ref, sig]) for ref, sig in self.marriages], 256),
                self.marriage_atx or bytes(32),
            ]
        )

    def signed_message(self) -> bytes:  # Sign: signer.Sign(signing.ATX, atx.ID().Bytes())
        return self.id()

    def challenge_hash(self, prev_atx: bytes) -> bytes:
        """``NIPostChallengeV2{PublishEpoch, PrevATXID, PositioningATXID, InitialPost}.Hash()`` as
        ``syntacticallyValidateDeps`` rebuilds it for the membership check."""
        enc = compact_bytes(self.publish_epoch) + prev_atx + self.positioning_atx
        return b3(b"\x00", enc + _post_option(self.initial_post))

    @property
    def total_num_units(self) -> int:  # TotalNumUnits
        return sum(sp.num_units for np_ in self.niposts for sp in np_.posts)


def _subpost(d: GoDecoder) -> GoSubPost:
    return GoSubPost(d.compact32(), d.compact32(), d.compact64(), _post(d), d.compact32())


def _nipost_v2(d: GoDecoder) -> GoNiPost:
    return GoNiPost(d.slice(32, lambda x: x.array(32)), d.array(32), d.slice(256, _subpost))


def decode_atx_v2(blob: bytes) -> GoAtxV2:
    def read(d: GoDecoder) -> GoAtxV2:
        publish, positioning, coinbase = d.compact32(), d.array(32), d.array(24)
        initial = d.option(lambda x: (x.array(32), _post(x)))
        previous = d.slice(256, lambda x: x.array(32))
        niposts = d.slice(4, _nipost_v2)
        vrf = d.compact64()
        marriages = d.slice(256, lambda x: (x.array(32), x.array(64)))
        marriage_atx = d.option(lambda x: x.array(32))
        smesher, sig = d.array(32), d.array(64)
        commitment, initial_post = initial if initial is not None else (None, None)
        return GoAtxV2(
            2, publish, positioning, coinbase, commitment, initial_post, previous, niposts, vrf, marriages,
            marriage_atx, smesher, sig, blob,
        )  # fmt: skip

    return _decode(blob, read)


def atx_version(blob: bytes, v2_from_epoch: int | None) -> int:
    """``Handler.determineVersion``: the leading compact32 publish epoch picks the decoder."""
    try:
        publish = GoDecoder(blob).compact32()
    except WireError:
        publish = 0  # Go ignores a short read here and lets the decoder fail
    return 2 if v2_from_epoch is not None and publish >= v2_from_epoch else 1


# ---- PoET proofs (common/types/poet.go, poet_scale.go)


@dataclass
class GoPoetProofMessage:
    root: bytes
    proven_leaves: list[bytes]
    proof_nodes: list[bytes]
    leaf_count: int
    service_id: bytes
    round_id: str
    statement: bytes
    signature: bytes
    proof_len: int
    blob: bytes

    def ref(self) -> bytes:  # PoetProofRef: blake3(scale(PoetProof))
        return b3(self.blob[: self.proof_len])


def decode_poet_proof_message(blob: bytes) -> GoPoetProofMessage:
    def read(d: GoDecoder) -> GoPoetProofMessage:
        root = d.byte_slice(32)  # MerkleProof.Root []byte max=32
        leaves = d.slice(150, lambda x: x.byte_slice(32))
        nodes = d.slice(5400, lambda x: x.byte_slice(32))
        count = d.compact64()
        proof_len = d.at
        service = d.byte_slice(32)
        round_raw = d.byte_slice(32)  # RoundID string max=32
        statement, sig = d.array(32), d.array(64)
        try:
            round_id = round_raw.decode()
        except UnicodeDecodeError:
            raise WireError("round id is not UTF-8") from None
        return GoPoetProofMessage(
            root, leaves, nodes, count, service, round_id, statement, sig, proof_len, blob
        )

    return _decode(blob, read)


# ---- Ballots and proposals (common/types/ballot.go, proposal.go and their _scale.go)


@dataclass
class GoVote:
    block: bytes
    layer: int
    height: int


@dataclass
class GoBallot:
    layer: int
    atx_id: bytes
    opinion_hash: bytes
    ref_ballot: bytes
    epoch_data: tuple[bytes, bytes, int] | None  # ActiveSetHash, Beacon, EligibilityCount
    signature: bytes
    smesher_id: bytes
    base: bytes
    support: list[GoVote]
    against: list[GoVote]
    abstain: list[int]
    eligibilities: list[tuple[int, bytes]]
    active_set: list[bytes]
    inner: bytes  # scale(InnerBallot)

    def id(self) -> bytes:  # Ballot.Initialize: BallotID(blake3(scale(InnerBallot)).ToHash20())
        return b3(self.inner)[:20]

    def signed_message(self) -> bytes:  # SignedBytes: scale(BallotMetadata{Layer, MsgHash})
        return compact_bytes(self.layer) + b3(self.inner)


@dataclass
class GoProposal:
    ballot: GoBallot
    tx_ids: list[bytes]
    mesh_hash: bytes
    signature: bytes
    inner: bytes  # scale(InnerProposal)

    def id(self) -> bytes:  # Proposal.Initialize: blake3(SignedBytes())[:20]
        return b3(self.signed_message())[:20]

    def signed_message(self) -> bytes:  # scale(BallotMetadata{Layer, blake3(scale(InnerProposal))})
        return compact_bytes(self.ballot.layer) + b3(self.inner)


def _vote(d: GoDecoder) -> GoVote:  # BlockHeader: ID [20], Compact32 LayerID, Compact64 Height
    return GoVote(d.array(20), d.compact32(), d.compact64())


def _ballot(d: GoDecoder) -> GoBallot:
    start = d.at
    layer, atx, opinion, ref = d.compact32(), d.array(32), d.array(32), d.array(20)
    epoch_data = d.option(lambda x: (x.array(32), x.array(4), x.compact32()))
    inner = d.blob[start : d.at]
    sig, smesher, base = d.array(64), d.array(32), d.array(20)
    support, against = d.slice(10000, _vote), d.slice(10000, _vote)
    abstain = d.slice(10000, lambda x: x.compact32())
    eligibilities = d.slice(25000, lambda x: (x.compact32(), x.array(80)))  # VotingEligibility{J, Sig}
    active_set = d.slice(1, lambda x: x.array(32))
    return GoBallot(
        layer, atx, opinion, ref, epoch_data, sig, smesher, base, support, against, abstain, eligibilities,
        active_set, inner,
    )  # fmt: skip


def decode_proposal(blob: bytes) -> GoProposal:
    def read(d: GoDecoder) -> GoProposal:
        ballot = _ballot(d)
        txs = d.slice(100000, lambda x: x.array(32))
        mesh = d.array(32)
        inner = d.blob[: d.at]
        return GoProposal(ballot, txs, mesh, d.array(64), inner)

    return _decode(blob, read)


# ---- PoET certificates (poet shared/cert.go @ 3bff6482852a2d1eacaf4b837b2e5844c55beff8)


def decode_certificate(blob: bytes) -> tuple[bytes, int | None]:
    """``CertOnWire{Pubkey []byte max=32, Expiration *UnixTimestamp{Inner compact64}}``."""
    return _decode(blob, lambda d: (d.byte_slice(32), d.option(lambda x: x.compact64())))


def encode_certificate(pubkey: bytes, expiration: int | None) -> bytes:
    if len(pubkey) > 32:
        raise WireError("certificate pubkey longer than 32 bytes")
    tail = b"\x00" if expiration is None else b"\x01" + compact_bytes(expiration)
    return compact_bytes(len(pubkey)) + pubkey + tail
