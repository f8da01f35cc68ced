"""The wire messages the light node sends or reads, SCALE-encoded exactly as go-spacemesh does.

Layouts (``node-vectors.json``, ``tests/node/vectors/``): NIPostChallengeV1/V2 and ATX v1/v2
(``activation/wire``), PoetProof and PoetProofMessage (``common/types/poet.go``), the VRF eligibility
message (``proposals/util.go``) and ballots/proposals (``common/types/ballot.go``, ``proposal.go``).
Rules are cited from go-spacemesh @ cc65f271f3e21b519532f2924ab227ccf352c2de. Decoders are strict
and bounded (``appliance.node.scale``). v1 ids are blake3 of the encoding; the v2 ATX id is the root
of a Merkle tree over its fields (``wire_v2.go`` ``merkleTree``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import blake3

from appliance.node import merkle, signing
from appliance.node.identity import Identity
from appliance.node.scale import Decoder, Encoder, ScaleError, decode_all

HASH_SIZE = 32
HASH20_SIZE = 20
ADDRESS_SIZE = 24
EMPTY_ID = bytes(HASH_SIZE)
MAX_POST_INDICES = 800
MAX_MEMBERSHIP_NODES = 32
MAX_PROVEN_LEAVES = 150
MAX_PROOF_NODES = 5400
MAX_ELIGIBILITIES = 25_000  # ballot.go: EligibilityProofs `scale:"max=25000"`
MAX_VOTES = 10_000
MAX_TXS = 100_000  # proposal.go: TxIDs `scale:"max=100000"`
MAX_ACTIVE_SET = 1  # ballot.go: ActiveSet `scale:"max=1"` (unused since EpochData, but on the wire)
MAX_PREVIOUS_ATXS = 256  # wire_v2.go
MAX_NIPOSTS = 4
MAX_SUBPOSTS = 256
MAX_MARRIAGES = 256
VRF_SIZE = 80
ELIGIBILITY_VOTING = 3  # types.EligibilityVoting
CHALLENGE_LEAF_PREFIX = b"\x00"
MEMBERSHIP_NODE_PREFIX = b"\x01"


def blake(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


def _fixed(size: int):
    def read(dec: Decoder) -> bytes:
        return dec.raw(size)

    return read


def _check_size(name: str, value: bytes | None, size: int) -> None:
    if value is not None and (not isinstance(value, bytes) or len(value) != size):
        raise ScaleError(f"{name} must be {size} bytes")


@dataclass(frozen=True)
class PostV1:
    nonce: int
    indices: bytes
    pow: int

    def write(self, enc: Encoder) -> None:
        enc.compact32(self.nonce).byte_slice(self.indices, MAX_POST_INDICES).compact(self.pow)

    @staticmethod
    def read(dec: Decoder) -> PostV1:
        return PostV1(dec.compact32(), dec.byte_slice(MAX_POST_INDICES), dec.compact())


@dataclass(frozen=True)
class NIPostChallengeV1:
    publish_epoch: int
    sequence: int
    prev_atx: bytes
    positioning_atx: bytes
    commitment_atx: bytes | None = None
    initial_post: PostV1 | None = None

    def __post_init__(self) -> None:
        _check_size("prev_atx", self.prev_atx, HASH_SIZE)
        _check_size("positioning_atx", self.positioning_atx, HASH_SIZE)
        _check_size("commitment_atx", self.commitment_atx, HASH_SIZE)

    @property
    def is_initial(self) -> bool:
        return self.prev_atx == EMPTY_ID

    def write(self, enc: Encoder) -> None:
        enc.compact32(self.publish_epoch).compact(self.sequence)
        enc.raw(self.prev_atx, HASH_SIZE).raw(self.positioning_atx, HASH_SIZE)
        enc.option(self.commitment_atx, lambda e, v: e.raw(v, HASH_SIZE))
        enc.option(self.initial_post, lambda e, v: v.write(e))

    @staticmethod
    def read(dec: Decoder) -> NIPostChallengeV1:
        return NIPostChallengeV1(
            dec.compact32(),
            dec.compact(),
            dec.raw(HASH_SIZE),
            dec.raw(HASH_SIZE),
            dec.option(_fixed(HASH_SIZE)),
            dec.option(PostV1.read),
        )

    def to_bytes(self) -> bytes:
        enc = Encoder()
        self.write(enc)
        return enc.bytes()

    @staticmethod
    def from_bytes(data: bytes) -> NIPostChallengeV1:
        return decode_all(data, NIPostChallengeV1.read)

    def hash(self) -> bytes:
        """The 32 bytes submitted to the PoET (a membership-tree leaf)."""
        return blake(CHALLENGE_LEAF_PREFIX + self.to_bytes())


@dataclass(frozen=True)
class MerkleProofV1:
    nodes: tuple[bytes, ...]
    leaf_index: int

    def write(self, enc: Encoder) -> None:
        enc.slice(self.nodes, MAX_MEMBERSHIP_NODES, lambda e, v: e.raw(v, HASH_SIZE)).compact(self.leaf_index)

    @staticmethod
    def read(dec: Decoder) -> MerkleProofV1:
        return MerkleProofV1(dec.slice(MAX_MEMBERSHIP_NODES, _fixed(HASH_SIZE)), dec.compact())


@dataclass(frozen=True)
class PostMetadataV1:
    challenge: bytes
    labels_per_unit: int

    def write(self, enc: Encoder) -> None:
        enc.byte_slice(self.challenge, HASH_SIZE).compact(self.labels_per_unit)

    @staticmethod
    def read(dec: Decoder) -> PostMetadataV1:
        return PostMetadataV1(dec.byte_slice(HASH_SIZE), dec.compact())


@dataclass(frozen=True)
class NIPostV1:
    membership: MerkleProofV1
    post: PostV1 | None
    post_metadata: PostMetadataV1 | None

    def write(self, enc: Encoder) -> None:
        self.membership.write(enc)
        enc.option(self.post, lambda e, v: v.write(e))
        enc.option(self.post_metadata, lambda e, v: v.write(e))

    @staticmethod
    def read(dec: Decoder) -> NIPostV1:
        return NIPostV1(MerkleProofV1.read(dec), dec.option(PostV1.read), dec.option(PostMetadataV1.read))


@dataclass(frozen=True)
class InnerActivationTxV1:
    challenge: NIPostChallengeV1
    coinbase: bytes
    num_units: int
    nipost: NIPostV1 | None
    node_id: bytes | None = None
    vrf_nonce: int | None = None

    def __post_init__(self) -> None:
        _check_size("coinbase", self.coinbase, ADDRESS_SIZE)
        _check_size("node_id", self.node_id, HASH_SIZE)

    def write(self, enc: Encoder) -> None:
        self.challenge.write(enc)
        enc.raw(self.coinbase, ADDRESS_SIZE).compact32(self.num_units)
        enc.option(self.nipost, lambda e, v: v.write(e))
        enc.option(self.node_id, lambda e, v: e.raw(v, HASH_SIZE))
        enc.option(self.vrf_nonce, lambda e, v: e.compact(v))

    @staticmethod
    def read(dec: Decoder) -> InnerActivationTxV1:
        return InnerActivationTxV1(
            NIPostChallengeV1.read(dec),
            dec.raw(ADDRESS_SIZE),
            dec.compact32(),
            dec.option(NIPostV1.read),
            dec.option(_fixed(HASH_SIZE)),
            dec.option(lambda d: d.compact()),
        )

    def to_bytes(self) -> bytes:
        enc = Encoder()
        self.write(enc)
        return enc.bytes()

    def id(self) -> bytes:
        return blake(self.to_bytes())


@dataclass(frozen=True)
class ActivationTxV1:
    inner: InnerActivationTxV1
    smesher_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_size("smesher_id", self.smesher_id, HASH_SIZE)
        _check_size("signature", self.signature, signing.SIGNATURE_SIZE)

    @property
    def publish_epoch(self) -> int:
        return self.inner.challenge.publish_epoch

    def id(self) -> bytes:
        return self.inner.id()

    def signed_bytes(self) -> bytes:
        """scale(ATXMetadataV1{Publish, MsgHash = ID})."""
        return Encoder().compact32(self.publish_epoch).raw(self.id(), HASH_SIZE).bytes()

    @staticmethod
    def sign(inner: InnerActivationTxV1, identity: Identity, genesis_id: bytes) -> ActivationTxV1:
        if inner.challenge.is_initial and inner.node_id is None:
            inner = replace(inner, node_id=identity.node_id)  # go-spacemesh sets it before signing
        unsigned = ActivationTxV1(inner, identity.node_id, bytes(signing.SIGNATURE_SIZE))
        sig = signing.sign(identity, genesis_id, signing.Domain.ATX, unsigned.signed_bytes())
        return replace(unsigned, signature=sig)

    def verify_signature(self, genesis_id: bytes) -> bool:
        return signing.verify(
            self.smesher_id, genesis_id, signing.Domain.ATX, self.signed_bytes(), self.signature
        )

    def to_bytes(self) -> bytes:
        enc = Encoder()
        self.inner.write(enc)
        enc.raw(self.smesher_id, HASH_SIZE).raw(self.signature, signing.SIGNATURE_SIZE)
        return enc.bytes()

    @staticmethod
    def from_bytes(data: bytes) -> ActivationTxV1:
        def read(dec: Decoder) -> ActivationTxV1:
            return ActivationTxV1(
                InnerActivationTxV1.read(dec), dec.raw(HASH_SIZE), dec.raw(signing.SIGNATURE_SIZE)
            )

        return decode_all(data, read)


def _u32_leaf(value: int) -> bytes:
    return value.to_bytes(4, "little")


def _u64_hash_leaf(value: int) -> bytes:
    """A uint64 put little-endian into a zeroed Hash32, as wire_v2.go does for epoch, nonce, index."""
    return value.to_bytes(8, "little") + bytes(24)


def _tree_root(leaves: list[bytes], pad_to: int = 0) -> bytes:
    """``merkle.NewTreeBuilder().WithHashFunc(atxTreeHash)`` root: blake3(0x01 ‖ l ‖ r), a missing
    right sibling is 32 zero bytes (spacemeshos/merkle-tree @ 43eac1e8 ``calcEphemeralParent``)."""
    padded = leaves + [bytes(HASH_SIZE)] * max(0, pad_to - len(leaves))
    return merkle.root(padded)


def post_root(post: PostV1) -> bytes:
    """``PostV1.Root`` (wire_v1.go): leaves LE32(nonce), the raw indices, LE64(pow)."""
    return _tree_root([_u32_leaf(post.nonce), post.indices, post.pow.to_bytes(8, "little")])


@dataclass(frozen=True)
class NIPostChallengeV2:
    """challenge_v2.go: PublishEpoch (compact32), PrevATXID, PositioningATXID, InitialPost *PostV1.
    Unlike v1 it has no Sequence and no CommitmentATX."""

    publish_epoch: int
    prev_atx: bytes
    positioning_atx: bytes
    initial_post: PostV1 | None = None

    def __post_init__(self) -> None:
        _check_size("prev_atx", self.prev_atx, HASH_SIZE)
        _check_size("positioning_atx", self.positioning_atx, HASH_SIZE)

    @property
    def is_initial(self) -> bool:
        return self.prev_atx == EMPTY_ID

    def to_bytes(self) -> bytes:
        enc = Encoder().compact32(self.publish_epoch).raw(self.prev_atx, HASH_SIZE)
        enc.raw(self.positioning_atx, HASH_SIZE).option(self.initial_post, lambda e, v: v.write(e))
        return enc.bytes()

    @staticmethod
    def from_bytes(data: bytes) -> NIPostChallengeV2:
        return decode_all(
            data,
            lambda d: NIPostChallengeV2(
                d.compact32(), d.raw(HASH_SIZE), d.raw(HASH_SIZE), d.option(PostV1.read)
            ),
        )

    def hash(self) -> bytes:
        """``Hash()``: blake3(0x00 ‖ scale(challenge)), the PoET membership leaf."""
        return blake(CHALLENGE_LEAF_PREFIX + self.to_bytes())


@dataclass(frozen=True)
class SubPostV2:
    marriage_index: int
    prev_atx_index: int
    membership_leaf_index: int
    post: PostV1
    num_units: int

    def write(self, enc: Encoder) -> None:
        enc.compact32(self.marriage_index).compact32(self.prev_atx_index).compact(self.membership_leaf_index)
        self.post.write(enc)
        enc.compact32(self.num_units)

    @staticmethod
    def read(dec: Decoder) -> SubPostV2:
        return SubPostV2(dec.compact32(), dec.compact32(), dec.compact(), PostV1.read(dec), dec.compact32())

    def root(self, previous_atxs: tuple[bytes, ...]) -> bytes:
        """``SubPostV2.Root``. An out-of-range PrevATXIndex (every initial ATX: index 0, no previous
        ATXs) makes Go's root nil, and merkle-tree's ``AddLeaf(nil)`` parks nothing: the posts tree
        is then the 255 zero padding leaves — the same root as a zero leaf in front of them, which
        is what returning 32 zero bytes gives for a solo ATX's single sub-post."""
        if self.prev_atx_index >= len(previous_atxs):
            return bytes(HASH_SIZE)
        return _tree_root(
            [
                _u32_leaf(self.marriage_index),
                previous_atxs[self.prev_atx_index],
                _u64_hash_leaf(self.membership_leaf_index),
                post_root(self.post),
                _u32_leaf(self.num_units),
            ]
        )


@dataclass(frozen=True)
class NiPostsV2:
    membership_nodes: tuple[bytes, ...]  # MerkleProofV2{Nodes max 32}
    challenge: bytes  # the PoET proof reference, the PoST challenge
    posts: tuple[SubPostV2, ...]

    def write(self, enc: Encoder) -> None:
        enc.slice(self.membership_nodes, MAX_MEMBERSHIP_NODES, lambda e, v: e.raw(v, HASH_SIZE))
        enc.raw(self.challenge, HASH_SIZE).slice(self.posts, MAX_SUBPOSTS, lambda e, v: v.write(e))

    @staticmethod
    def read(dec: Decoder) -> NiPostsV2:
        return NiPostsV2(
            dec.slice(MAX_MEMBERSHIP_NODES, _fixed(HASH_SIZE)),
            dec.raw(HASH_SIZE),
            dec.slice(MAX_SUBPOSTS, SubPostV2.read),
        )

    def root(self, previous_atxs: tuple[bytes, ...]) -> bytes:
        membership = (
            Encoder().slice(self.membership_nodes, MAX_MEMBERSHIP_NODES, lambda e, v: e.raw(v)).bytes()
        )
        posts = _tree_root([p.root(previous_atxs) for p in self.posts], MAX_SUBPOSTS)
        return _tree_root([membership, self.challenge, posts])


@dataclass(frozen=True)
class MarriageCertificate:
    reference_atx: bytes
    signature: bytes

    def root(self) -> bytes:
        return _tree_root([self.reference_atx, self.signature])


@dataclass(frozen=True)
class ActivationTxV2:
    """wire_v2.go / wire_v2_scale.go @ cc65f271; a solo identity uses one NiPoST with one sub-post,
    no marriages and no marriage ATX (``HandlerV2.syntacticallyValidate``)."""

    publish_epoch: int
    positioning_atx: bytes
    coinbase: bytes
    initial: tuple[bytes, PostV1] | None  # InitialAtxPartsV2{CommitmentATX, Post}
    previous_atxs: tuple[bytes, ...]
    niposts: tuple[NiPostsV2, ...]
    vrf_nonce: int
    marriages: tuple[MarriageCertificate, ...] = ()
    marriage_atx: bytes | None = None
    smesher_id: bytes = EMPTY_ID
    signature: bytes = bytes(64)

    def __post_init__(self) -> None:
        _check_size("positioning_atx", self.positioning_atx, HASH_SIZE)
        _check_size("coinbase", self.coinbase, ADDRESS_SIZE)
        _check_size("smesher_id", self.smesher_id, HASH_SIZE)
        _check_size("signature", self.signature, signing.SIGNATURE_SIZE)

    def to_bytes(self) -> bytes:
        enc = Encoder().compact32(self.publish_epoch).raw(self.positioning_atx, HASH_SIZE)
        enc.raw(self.coinbase, ADDRESS_SIZE)
        enc.option(self.initial, lambda e, v: (e.raw(v[0], HASH_SIZE), v[1].write(e)))
        enc.slice(self.previous_atxs, MAX_PREVIOUS_ATXS, lambda e, v: e.raw(v, HASH_SIZE))
        enc.slice(self.niposts, MAX_NIPOSTS, lambda e, v: v.write(e))
        enc.compact(self.vrf_nonce)
        enc.slice(
            self.marriages, MAX_MARRIAGES, lambda e, v: e.raw(v.reference_atx, HASH_SIZE).raw(v.signature, 64)
        )
        enc.option(self.marriage_atx, lambda e, v: e.raw(v, HASH_SIZE))
        return enc.raw(self.smesher_id, HASH_SIZE).raw(self.signature, signing.SIGNATURE_SIZE).bytes()

    @staticmethod
    def from_bytes(data: bytes) -> ActivationTxV2:
        def read(d: Decoder) -> ActivationTxV2:
            return ActivationTxV2(
                d.compact32(),
                d.raw(HASH_SIZE),
                d.raw(ADDRESS_SIZE),
                d.option(lambda d2: (d2.raw(HASH_SIZE), PostV1.read(d2))),
                d.slice(MAX_PREVIOUS_ATXS, _fixed(HASH_SIZE)),
                d.slice(MAX_NIPOSTS, NiPostsV2.read),
                d.compact(),
                d.slice(MAX_MARRIAGES, lambda d2: MarriageCertificate(d2.raw(HASH_SIZE), d2.raw(64))),
                d.option(_fixed(HASH_SIZE)),
                d.raw(HASH_SIZE),
                d.raw(signing.SIGNATURE_SIZE),
            )

        return decode_all(data, read)

    def id(self) -> bytes:
        """``ActivationTxV2.ID``: root of a 9-leaf tree (publish, positioning, coinbase, initial,
        previous ATXs padded to 256, NiPoSTs padded to 4, VRF nonce, marriages padded to 256,
        marriage ATX)."""
        initial = EMPTY_ID
        if self.initial is not None:
            initial = _tree_root([self.initial[0], post_root(self.initial[1])])
        return _tree_root(
            [
                _u64_hash_leaf(self.publish_epoch),
                self.positioning_atx,
                self.coinbase,
                initial,
                _tree_root(list(self.previous_atxs), MAX_PREVIOUS_ATXS),
                _tree_root([n.root(self.previous_atxs) for n in self.niposts], MAX_NIPOSTS),
                _u64_hash_leaf(self.vrf_nonce),
                _tree_root([m.root() for m in self.marriages], MAX_MARRIAGES),
                self.marriage_atx or EMPTY_ID,
            ]
        )

    @staticmethod
    def sign(unsigned: ActivationTxV2, identity: Identity, genesis_id: bytes) -> ActivationTxV2:
        """``Sign``: the signature covers GenesisID ‖ ATX domain ‖ ID (no metadata wrapper as in v1)."""
        atx = replace(unsigned, smesher_id=identity.node_id)
        return replace(atx, signature=signing.sign(identity, genesis_id, signing.Domain.ATX, atx.id()))

    def verify_signature(self, genesis_id: bytes) -> bool:
        return signing.verify(self.smesher_id, genesis_id, signing.Domain.ATX, self.id(), self.signature)


def atx_from_bytes(data: bytes, version: int) -> ActivationTxV1 | ActivationTxV2:
    return ActivationTxV1.from_bytes(data) if version == 1 else ActivationTxV2.from_bytes(data)


@dataclass(frozen=True)
class PoetProof:
    """The PoET's proof of sequential work; ``ref()`` is the PoST challenge of the ATX."""

    root: bytes
    proven_leaves: tuple[bytes, ...]
    proof_nodes: tuple[bytes, ...]
    leaf_count: int

    def write(self, enc: Encoder) -> None:
        enc.byte_slice(self.root, HASH_SIZE)
        enc.slice(self.proven_leaves, MAX_PROVEN_LEAVES, lambda e, v: e.byte_slice(v, HASH_SIZE))
        enc.slice(self.proof_nodes, MAX_PROOF_NODES, lambda e, v: e.byte_slice(v, HASH_SIZE))
        enc.compact(self.leaf_count)

    @staticmethod
    def read(dec: Decoder) -> PoetProof:
        return PoetProof(
            dec.byte_slice(HASH_SIZE),
            dec.slice(MAX_PROVEN_LEAVES, lambda d: d.byte_slice(HASH_SIZE)),
            dec.slice(MAX_PROOF_NODES, lambda d: d.byte_slice(HASH_SIZE)),
            dec.compact(),
        )

    def to_bytes(self) -> bytes:
        enc = Encoder()
        self.write(enc)
        return enc.bytes()

    def ref(self) -> bytes:
        return blake(self.to_bytes())


@dataclass(frozen=True)
class PoetProofMessage:
    """What ``POST /poet`` stores at the gateway so validators can fetch the proof we reference."""

    proof: PoetProof
    poet_service_id: bytes
    round_id: str
    statement: bytes
    signature: bytes = bytes(64)

    def write(self, enc: Encoder, with_signature: bool = True) -> None:
        self.proof.write(enc)
        enc.byte_slice(self.poet_service_id, HASH_SIZE).string(self.round_id, HASH_SIZE)
        enc.raw(self.statement, HASH_SIZE)
        if with_signature:
            enc.raw(self.signature, 64)

    @staticmethod
    def read(dec: Decoder) -> PoetProofMessage:
        return PoetProofMessage(
            PoetProof.read(dec),
            dec.byte_slice(HASH_SIZE),
            dec.string(HASH_SIZE),
            dec.raw(HASH_SIZE),
            dec.raw(64),
        )

    def to_bytes(self, with_signature: bool = True) -> bytes:
        enc = Encoder()
        self.write(enc, with_signature)
        return enc.bytes()

    @staticmethod
    def from_bytes(data: bytes) -> PoetProofMessage:
        return decode_all(data, PoetProofMessage.read)


@dataclass(frozen=True)
class VrfMessage:
    """The message the VRF signs for ballot eligibility (proposals/util.go)."""

    beacon: bytes
    epoch: int
    nonce: int
    counter: int
    type: int = ELIGIBILITY_VOTING

    def to_bytes(self) -> bytes:
        enc = Encoder().compact(self.type, 0xFFFF).raw(self.beacon, 4)
        return enc.compact32(self.epoch).compact(self.nonce).compact32(self.counter).bytes()


@dataclass(frozen=True)
class EpochData:
    active_set_hash: bytes
    beacon: bytes
    eligibility_count: int

    def write(self, enc: Encoder) -> None:
        enc.raw(self.active_set_hash, HASH_SIZE).raw(self.beacon, 4).compact32(self.eligibility_count)

    @staticmethod
    def read(dec: Decoder) -> EpochData:
        return EpochData(dec.raw(HASH_SIZE), dec.raw(4), dec.compact32())


@dataclass(frozen=True)
class Vote:
    block_id: bytes
    layer: int
    height: int

    def write(self, enc: Encoder) -> None:
        enc.raw(self.block_id, HASH20_SIZE).compact32(self.layer).compact(self.height)

    @staticmethod
    def read(dec: Decoder) -> Vote:
        return Vote(dec.raw(HASH20_SIZE), dec.compact32(), dec.compact())


@dataclass(frozen=True)
class Votes:
    base: bytes = bytes(HASH20_SIZE)
    support: tuple[Vote, ...] = ()
    against: tuple[Vote, ...] = ()
    abstain: tuple[int, ...] = ()

    def write(self, enc: Encoder) -> None:
        enc.raw(self.base, HASH20_SIZE)
        enc.slice(self.support, MAX_VOTES, lambda e, v: v.write(e))
        enc.slice(self.against, MAX_VOTES, lambda e, v: v.write(e))
        enc.slice(self.abstain, MAX_VOTES, lambda e, v: e.compact32(v))

    @staticmethod
    def read(dec: Decoder) -> Votes:
        return Votes(
            dec.raw(HASH20_SIZE),
            dec.slice(MAX_VOTES, Vote.read),
            dec.slice(MAX_VOTES, Vote.read),
            dec.slice(MAX_VOTES, lambda d: d.compact32()),
        )


@dataclass(frozen=True)
class VotingEligibility:
    j: int
    sig: bytes

    def write(self, enc: Encoder) -> None:
        enc.compact32(self.j).raw(self.sig, VRF_SIZE)

    @staticmethod
    def read(dec: Decoder) -> VotingEligibility:
        return VotingEligibility(dec.compact32(), dec.raw(VRF_SIZE))


@dataclass(frozen=True)
class InnerBallot:
    layer: int
    atx_id: bytes
    opinion_hash: bytes = EMPTY_ID
    ref_ballot: bytes = bytes(HASH20_SIZE)
    epoch_data: EpochData | None = None

    def write(self, enc: Encoder) -> None:
        enc.compact32(self.layer).raw(self.atx_id, HASH_SIZE).raw(self.opinion_hash, HASH_SIZE)
        enc.raw(self.ref_ballot, HASH20_SIZE).option(self.epoch_data, lambda e, v: v.write(e))

    @staticmethod
    def read(dec: Decoder) -> InnerBallot:
        return InnerBallot(
            dec.compact32(),
            dec.raw(HASH_SIZE),
            dec.raw(HASH_SIZE),
            dec.raw(HASH20_SIZE),
            dec.option(EpochData.read),
        )

    def to_bytes(self) -> bytes:
        enc = Encoder()
        self.write(enc)
        return enc.bytes()


def _layer_metadata(layer: int, msg_hash: bytes) -> bytes:
    return Encoder().compact32(layer).raw(msg_hash, HASH_SIZE).bytes()


@dataclass(frozen=True)
class Ballot:
    """``types.Ballot`` (ballot.go / ballot_scale.go @ cc65f271): InnerBallot, Signature, SmesherID,
    Votes, EligibilityProofs (max 25000) and ActiveSet (max 1, always empty since EpochData replaced
    it — but its length byte is on the wire and inside the proposal's signed hash)."""

    inner: InnerBallot
    signature: bytes
    smesher_id: bytes
    votes: Votes = field(default_factory=Votes)
    eligibility_proofs: tuple[VotingEligibility, ...] = ()
    active_set: tuple[bytes, ...] = ()

    def signed_bytes(self) -> bytes:
        """scale(BallotMetadata{Layer, MsgHash = blake3(scale(InnerBallot))})."""
        return _layer_metadata(self.inner.layer, blake(self.inner.to_bytes()))

    def id(self) -> bytes:
        """``Ballot.Initialize``: BallotID = blake3(scale(InnerBallot))[:20] (ballot.go)."""
        return blake(self.inner.to_bytes())[:HASH20_SIZE]

    def write(self, enc: Encoder) -> None:
        self.inner.write(enc)
        enc.raw(self.signature, 64).raw(self.smesher_id, HASH_SIZE)
        self.votes.write(enc)
        enc.slice(self.eligibility_proofs, MAX_ELIGIBILITIES, lambda e, v: v.write(e))
        enc.slice(self.active_set, MAX_ACTIVE_SET, lambda e, v: e.raw(v, HASH_SIZE))

    @staticmethod
    def read(dec: Decoder) -> Ballot:
        return Ballot(
            InnerBallot.read(dec),
            dec.raw(64),
            dec.raw(HASH_SIZE),
            Votes.read(dec),
            dec.slice(MAX_ELIGIBILITIES, VotingEligibility.read),
            dec.slice(MAX_ACTIVE_SET, _fixed(HASH_SIZE)),
        )

    def to_bytes(self) -> bytes:
        enc = Encoder()
        self.write(enc)
        return enc.bytes()


@dataclass(frozen=True)
class Proposal:
    ballot: Ballot
    tx_ids: tuple[bytes, ...]
    mesh_hash: bytes
    signature: bytes = bytes(64)

    def inner_bytes(self) -> bytes:
        enc = Encoder()
        self.ballot.write(enc)
        enc.slice(self.tx_ids, MAX_TXS, lambda e, v: e.raw(v, HASH_SIZE)).raw(self.mesh_hash, HASH_SIZE)
        return enc.bytes()

    def signed_bytes(self) -> bytes:
        return _layer_metadata(self.ballot.inner.layer, blake(self.inner_bytes()))

    def id(self) -> bytes:
        return blake(self.signed_bytes())[:HASH20_SIZE]

    def to_bytes(self) -> bytes:
        return self.inner_bytes() + self.signature

    @staticmethod
    def from_bytes(data: bytes) -> Proposal:
        def read(dec: Decoder) -> Proposal:
            return Proposal(
                Ballot.read(dec), dec.slice(MAX_TXS, _fixed(HASH_SIZE)), dec.raw(HASH_SIZE), dec.raw(64)
            )

        return decode_all(data, read)


def sign_proposal(
    identity: Identity,
    genesis_id: bytes,
    inner: InnerBallot,
    votes: Votes,
    eligibilities: tuple[VotingEligibility, ...],
    tx_ids: tuple[bytes, ...],
    mesh_hash: bytes,
) -> Proposal:
    """Signs the ballot (domain BALLOT) then the proposal around it (domain PROPOSAL)."""
    ballot = Ballot(inner, bytes(64), identity.node_id, votes, eligibilities)
    ballot = replace(
        ballot, signature=signing.sign(identity, genesis_id, signing.Domain.BALLOT, ballot.signed_bytes())
    )
    proposal = Proposal(ballot, tx_ids, mesh_hash)
    return replace(
        proposal,
        signature=signing.sign(identity, genesis_id, signing.Domain.PROPOSAL, proposal.signed_bytes()),
    )


def verify_proposal(proposal: Proposal, genesis_id: bytes) -> bool:
    ballot = proposal.ballot
    return signing.verify(
        ballot.smesher_id, genesis_id, signing.Domain.BALLOT, ballot.signed_bytes(), ballot.signature
    ) and signing.verify(
        ballot.smesher_id, genesis_id, signing.Domain.PROPOSAL, proposal.signed_bytes(), proposal.signature
    )
