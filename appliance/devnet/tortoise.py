"""The devnet's view of the mesh and the tortoise's opinion hashes, as go-spacemesh computes them.

A ballot carries a vote *diff* against a base ballot and the hash of the opinion that diff produces;
the tortoise rebuilds the opinion from the base and drops the ballot when the hash differs
(go-spacemesh @ cc65f271f3e21b519532f2924ab227ccf352c2de: ``tortoise/state.go`` ``decodeVotes``,
``layerVote.update``/``computeOpinion``, ``tortoise/algorithm.go`` ``decodeBallot``,
``tortoise/opinionhash/opinion_hasher.go``). The devnet's mesh has one block in every layer, decided
by Hare one layer later, so each ballot supports the blocks of old layers and abstains on the newest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import blake3

ABSTAIN_SENTINEL = b"\x00"  # opinion_hasher.go abstainSentinel


class VoteError(ValueError):
    """Votes that cannot be decoded against their base (conflicting or wrong-target exceptions)."""


@dataclass
class LayerVote:
    layer: int
    abstain: bool = False
    supported: list[tuple[bytes, int]] = field(default_factory=list)  # (block id, height)
    opinion: bytes = bytes(32)


def _sort(blocks: list[tuple[bytes, int]]) -> list[tuple[bytes, int]]:
    return sorted(blocks, key=lambda b: (b[1], b[0]))  # sortBlocks: by height, then id


def compute(votes: list[LayerVote]) -> None:
    """``layerVote.computeOpinion`` along the chain: blake3(prev opinion ‖ supported (id ‖ LE64
    height)... | abstain sentinel | nothing)."""
    prev: bytes | None = None
    for lv in votes:
        h = blake3.blake3()
        if prev is not None:
            h.update(prev)
        if lv.supported:
            for block, height in lv.supported:
                h.update(block + height.to_bytes(8, "little"))
        elif lv.abstain:
            h.update(ABSTAIN_SENTINEL)
        lv.opinion = h.digest()
        prev = lv.opinion


def opinion(votes: list[LayerVote]) -> bytes:
    return votes[-1].opinion if votes else bytes(32)


def decode_votes(
    base_votes: list[LayerVote],
    base_layer: int,
    ballot_layer: int,
    support: list[tuple[bytes, int, int]],
    against: list[tuple[bytes, int, int]],
    abstain: list[int],
) -> list[LayerVote]:
    """``decodeVotes``: the base ballot's votes with the diff applied, then one vote per layer from
    the base's layer up to the ballot's. Votes are (block id, layer, height)."""
    diff: dict[int, dict[bytes, tuple[int, bool]]] = {}
    for items, sign in ((against, False), (support, True)):
        for block, layer, height in items:
            layer_diff = diff.setdefault(layer, {})
            if block in layer_diff:
                raise VoteError(f"conflicting votes on the same id {block.hex()}")
            layer_diff[block] = (height, sign)
    for layer in abstain:
        if layer in diff:
            raise VoteError(f"votes on layer {layer} conflict with abstain")
        diff[layer] = {}
    out: list[LayerVote] = []
    for old in base_votes:  # layerVote.update
        lv = LayerVote(old.layer, old.abstain, list(old.supported))
        if old.layer in diff:
            layer_diff = diff[old.layer]
            if not layer_diff:
                lv.abstain, lv.supported = True, []
            else:
                kept = []
                for block, height in old.supported:
                    if block not in layer_diff:
                        kept.append((block, height))
                    elif not layer_diff[block][1] and layer_diff[block][0] != height:
                        raise VoteError(f"wrong target: {block.hex()} is supported at another height")
                kept += [(b, h) for b, (h, sign) in layer_diff.items() if sign]
                lv.supported = _sort(kept)
        out.append(lv)
    for layer in range(base_layer, ballot_layer):
        lv = LayerVote(layer)
        layer_diff = diff.get(layer)
        if layer_diff is not None and not layer_diff:
            lv.abstain = True
        elif layer_diff:
            lv.supported = _sort([(b, h) for b, (h, sign) in layer_diff.items() if sign])
        out.append(lv)
    compute(out)
    return out


class Mesh:
    """The devnet's truth: the block of each layer and when Hare decided it."""

    def __init__(self, genesis_id: bytes, effective_genesis: int) -> None:
        self.genesis_id = genesis_id
        self.effective_genesis = effective_genesis

    def block(self, layer: int) -> tuple[bytes, int]:
        block = blake3.blake3(b"devnet-block" + self.genesis_id + layer.to_bytes(4, "little")).digest()
        return block[:20], layer * 3  # (id, tick height)

    def wanted(self, layer: int, ballot_layer: int) -> LayerVote:
        """What an honest ballot in ``ballot_layer`` votes on ``layer``."""
        if layer >= ballot_layer - 1:  # Hare of the previous layer has not terminated yet
            return LayerVote(layer, abstain=True)
        return LayerVote(layer, supported=[self.block(layer)])

    def diff(
        self, base_votes: list[LayerVote], base_layer: int, ballot_layer: int
    ) -> tuple[list[tuple[bytes, int, int]], list[tuple[bytes, int, int]], list[int]]:
        """The exceptions that turn the base ballot's opinion into the honest one."""
        support: list[tuple[bytes, int, int]] = []
        against: list[tuple[bytes, int, int]] = []
        abstain: list[int] = []
        known = {lv.layer: lv for lv in base_votes}
        for layer in range(self.effective_genesis, ballot_layer):
            want = self.wanted(layer, ballot_layer)
            have = known.get(layer, LayerVote(layer))
            if want.abstain:
                if not have.abstain or layer not in known:
                    abstain.append(layer)
                continue
            have_set, want_set = set(have.supported), set(want.supported)
            support += [(b, layer, h) for b, h in sorted(want_set - have_set)]
            against += [(b, layer, h) for b, h in sorted(have_set - want_set)]
        return support, against, abstain
